"""Pseudo-likelihood couplings: exact Hamiltonians, Monte Carlo Ising data, the majority flow."""

import numpy as np
import pytest

from ising_rg.errors import IsingRGError
from ising_rg.rg.kadanoff import block_spin_hierarchy
from ising_rg.rg.operators import local_fields, operators_by_name
from ising_rg.rg.renormalized_couplings import (
    environment_histogram,
    fit_coupling_sets,
    fit_couplings,
    maximize_pseudo_likelihood,
)
from ising_rg.sampling.sampler import sample
from ising_rg.settings import SampleOptions
from tests.conftest import random_spins
from tests.lattice_reference import exact_samples

# A 4 x 4 Hamiltonian with every kind of coupling the default fit has, and an odd 3-spin one.
PLANTED = {"nn": 0.25, "nnn": -0.1, "plaquette": 0.08, "field": 0.05, "three_corner": 0.03}


def test_histogram_is_the_local_fields_counted():
    s = random_spins(9, 5, seed=4)
    ops = operators_by_name(["nn", "plaquette", "field", "three_corner"])
    environments, counts = environment_histogram(s, ops, n_blocks=3)
    assert counts.sum() == 9 * 25 and counts.shape == (3, environments.shape[0])
    t = np.stack([s * local_fields(s, op) for op in ops], axis=-1)  # (n, L, L, k)
    for block, rows in enumerate((slice(0, 3), slice(3, 6), slice(6, 9))):
        direct, direct_counts = np.unique(t[rows].reshape(-1, len(ops)), axis=0,
                                          return_counts=True)
        present = counts[block] > 0
        order = np.lexsort(environments[present].T[::-1])
        np.testing.assert_array_equal(environments[present][order], direct)
        np.testing.assert_array_equal(counts[block][present][order], direct_counts)


def test_exact_samples_of_a_planted_hamiltonian_return_its_couplings():
    s = exact_samples(PLANTED, 40000, seed=1)
    estimate = fit_couplings(s, list(PLANTED))
    assert estimate.converged
    truth = np.array(list(PLANTED.values()))
    z = (estimate.values - truth) / estimate.errors
    assert np.all(np.abs(z) < 4), (estimate.values, estimate.errors)
    assert np.all(estimate.errors < 0.01)


def test_jackknife_errors_match_the_scatter_over_independent_data_sets():
    # z = (estimate - truth) / jackknife error over 12 independent data sets x 5 couplings:
    # mean z^2 is ~ chi^2_60 / 60 if the errors are right (1e-4 quantiles: 0.45 .. 1.78).
    z = []
    for seed in range(12):
        estimate = fit_couplings(exact_samples(PLANTED, 4000, seed=100 + seed), list(PLANTED),
                                 n_blocks=20)
        z.append((estimate.values - np.array(list(PLANTED.values()))) / estimate.errors)
    mean_square = float(np.mean(np.square(z)))
    assert 0.45 < mean_square < 1.78, mean_square


@pytest.fixture(scope="module", params=[0.2, 0.3, 0.408, 0.44, 0.5])
def ising_data(request):
    coupling = request.param
    spins = sample(SampleOptions(size=16, coupling=coupling, samples=1000, seed=5)).spins
    return coupling, spins


def test_monte_carlo_ising_data_return_k_and_zero_for_the_rest(ising_data):
    coupling, spins = ising_data
    estimate = fit_couplings(spins)  # nn, nnn, nn3, plaquette, field
    assert estimate.converged
    truth = np.where(np.array(estimate.names) == "nn", coupling, 0.0)
    z = (estimate.values - truth) / estimate.errors
    assert np.all(np.abs(z) < 4), dict(zip(estimate.names, estimate.values, strict=True))
    assert estimate.errors[0] < 0.02  # measured 0.002 (K = 0.2) .. 0.014 (K = 0.5)


@pytest.mark.parametrize("coupling, direction", [(0.2, -1), (0.3, -1), (0.5, +1)])
def test_majority_rule_flows_away_from_the_critical_point(coupling, direction):
    # The nearest-neighbour projection (a fit of nn alone) of 2x2 majority rule iterated three
    # times on a 64 x 64 lattice (down to 8 x 8): K' < K at every step in the disordered
    # phase, K' > K in the ordered one, each step by more than 4 combined errors (measured,
    # see docs/mcrg.md: 0.2 -> 0.096 -> 0.037 -> 0.017; 0.5 -> 0.545 -> 0.657 -> 0.88).
    # Metropolis: far from K_c it is the faster sampler (auto spacing 2-6 sweeps here).
    spins = sample(SampleOptions(size=64, coupling=coupling, samples=1000, seed=6,
                                 algorithm="metropolis")).spins
    flow = [fit_couplings(level, ["nn"]) for level in block_spin_hierarchy(spins, 2, 3, 1)]
    for fine, coarse in zip(flow, flow[1:], strict=False):
        step = direction * (coarse.values[0] - fine.values[0])
        assert step > 4 * np.hypot(fine.errors[0], coarse.errors[0]), (fine.values,
                                                                        coarse.values)


def test_coupling_sets_equal_separate_fits():
    s = exact_samples(PLANTED, 3000, seed=2)
    full, nn_only = fit_coupling_sets(s, [list(PLANTED), ["nn"]], n_blocks=10)
    np.testing.assert_allclose(full.values, fit_couplings(s, list(PLANTED), 10).values,
                               rtol=0, atol=1e-12)
    separate = fit_couplings(s, ["nn"], 10)
    np.testing.assert_allclose(nn_only.values, separate.values, rtol=0, atol=1e-12)
    np.testing.assert_allclose(nn_only.errors, separate.errors, rtol=0, atol=1e-12)
    assert nn_only.as_dict()["nn"]["mean"] == pytest.approx(separate.values[0])


def test_ordered_data_diverge_and_say_so():
    spins = np.ones((40, 6, 6), dtype=np.int8)
    spins[::2] *= -1
    estimate = fit_couplings(spins, ["nn", "nnn"], n_blocks=4)
    assert not estimate.converged and np.all(np.isnan(estimate.values))
    values, converged = maximize_pseudo_likelihood(np.array([[1.0], [2.0]]), np.array([3, 1]))
    assert not converged and np.isnan(values[0])  # every spin agrees with its field: K = inf


def test_bad_input_raises():
    with pytest.raises(IsingRGError, match="at least n_blocks = 32 configurations"):
        fit_couplings(random_spins(10, 4, seed=0))
    with pytest.raises(IsingRGError, match=r"\{-1, \+1\}"):
        fit_couplings(np.zeros((40, 4, 4), dtype=np.int8))
    with pytest.raises(IsingRGError, match="does not fit"):
        fit_couplings(random_spins(40, 2, seed=0))

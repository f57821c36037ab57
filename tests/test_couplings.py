"""Effective pairwise couplings of an RBM marginal: exact cases and brute-force enumeration."""

import itertools
import math
from types import SimpleNamespace

import numpy as np
import pytest

from ising_rg.diagnostics.coupling_spread import coupling_distribution
from ising_rg.diagnostics.couplings import (
    couplings_by_displacement,
    lattice_displacements,
    pair_coupling_samples,
    pair_couplings,
)
from ising_rg.errors import IsingRGError
from ising_rg.rbm import BernoulliRBM, ising_rbm


def softplus(x):
    return np.logaddexp(0.0, x)


def bond_rbm(size, w, c):
    """One hidden unit per nearest-neighbour bond of the L x L torus, weight w on its two
    sites, bias c: ln p(v) = sum_bonds softplus(c + w (v_i + v_j)) + const, a pairwise model
    whose coupling is D/4 on bonds and 0 elsewhere, in every context."""
    n = size * size
    bonds = []
    for r in range(size):
        for col in range(size):
            i = r * size + col
            bonds.append((i, r * size + (col + 1) % size))
            bonds.append((i, ((r + 1) % size) * size + col))
    weights = np.zeros((n, len(bonds)))
    for k, (i, j) in enumerate(bonds):
        weights[i, k] = w
        weights[j, k] = w
    return SimpleNamespace(
        weights_=weights.astype(np.float32),
        hidden_bias_=np.full(len(bonds), c, np.float32),
        visible_bias_=np.zeros(n, np.float32),
    )


def test_lattice_displacements_listing():
    d = lattice_displacements(2)
    assert d[:4] == [(1, 0), (0, 1), (1, 1), (1, -1)]
    assert set(d) == {(1, 0), (0, 1), (1, 1), (1, -1), (2, 0), (0, 2)}
    # one of each {d, -d}: count the disc of radius 4 (49 points with the origin)
    assert len(lattice_displacements(4)) == 24


def test_bond_model_gives_exact_pairwise_couplings():
    size, w, c = 6, 0.8, -0.5
    w32, c32 = float(np.float32(w)), float(np.float32(c))
    expected = 0.25 * (softplus(c32 + 2 * w32) + softplus(c32) - 2 * softplus(c32 + w32))
    rbm = bond_rbm(size, w, c)
    rng = np.random.default_rng(1)
    data = (rng.random((20, size * size)) < 0.5).astype(np.float32)
    out = couplings_by_displacement(
        rbm, data, size, max_distance=2.5, n_contexts=10, true_coupling=1.0
    )
    by_d = {tuple(e["displacement"]): e for e in out["displacements"]}
    for d, entry in by_d.items():
        target = expected if d in ((1, 0), (0, 1)) else 0.0
        assert entry["mean"] == pytest.approx(target, abs=1e-12), d
        # a pairwise, translation-invariant model: no context or site dependence
        assert entry["context_std"] < 1e-12 and entry["site_std"] < 1e-12
    assert out["nearest_neighbour"]["mean"] == pytest.approx(expected, abs=1e-12)
    assert out["next_nearest_neighbour"]["mean"] == pytest.approx(0.0, abs=1e-12)
    assert out["ratio_nearest_to_true"] == pytest.approx(expected, abs=1e-12)
    assert out["settings"]["n_contexts"] == 10
    # per-pair interface: mean and std over contexts
    pairs = np.array([[0, 1], [0, size], [0, 2], [7, 14]])
    mean, std = pair_couplings(rbm.weights_, rbm.hidden_bias_, data, pairs, return_std=True)
    np.testing.assert_allclose(mean, [expected, expected, 0.0, 0.0], atol=1e-12)
    assert np.all(std < 1e-12)


def brute_force_log_p(weights, visible_bias, hidden_bias):
    """ln p(v) + ln Z for all 2^n visible states, by summing over all 2^m hidden states."""
    n, m = weights.shape
    v = np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.float64)
    h = np.array(list(itertools.product([0, 1], repeat=m)), dtype=np.float64)
    minus_energy = (v @ visible_bias)[:, None] + (h @ hidden_bias)[None, :] + v @ weights @ h.T
    return np.logaddexp.reduce(minus_energy, axis=1)  # index = binary number v_0 v_1 ... v_n-1


def test_random_rbm_matches_enumeration():
    rng = np.random.default_rng(7)
    n, m = 9, 5
    weights = rng.normal(0.0, 1.0, (n, m))
    visible_bias = rng.normal(0.0, 1.0, n)
    hidden_bias = rng.normal(0.0, 1.0, m)
    log_p = brute_force_log_p(weights, visible_bias, hidden_bias)
    powers = 2 ** np.arange(n - 1, -1, -1)
    contexts = (rng.random((4, n)) < 0.5).astype(np.float64)
    pairs = np.array([(i, j) for i in range(n) for j in range(i + 1, n)])
    estimate = pair_coupling_samples(weights, hidden_bias, contexts, pairs)
    for a, x in enumerate(contexts):
        for p, (i, j) in enumerate(pairs):
            values = {}
            for vi, vj in itertools.product([0, 1], repeat=2):
                state = x.copy()
                state[i], state[j] = vi, vj
                values[vi, vj] = log_p[int(state @ powers)]
            direct = 0.25 * (values[1, 1] + values[0, 0] - values[1, 0] - values[0, 1])
            assert estimate[a, p] == pytest.approx(direct, abs=1e-10)
    # the marginal of a generic RBM is not pairwise: couplings vary with the context
    assert np.max(np.std(estimate, axis=0)) > 1e-3
    # the order of the two sites does not matter
    np.testing.assert_allclose(
        pair_coupling_samples(weights, hidden_bias, contexts, pairs[:, ::-1]), estimate, atol=1e-13
    )


def test_saturated_hidden_units_are_harmless():
    rng = np.random.default_rng(3)
    weights = rng.normal(0.0, 1.0, (6, 4))
    hidden_bias = np.array([0.3, -500.0, 500.0, 0.0])  # two units never / always on
    contexts = (rng.random((3, 6)) < 0.5).astype(float)
    pairs = np.array([[0, 1], [2, 5]])
    full = pair_coupling_samples(weights, hidden_bias, contexts, pairs)
    live_only = pair_coupling_samples(weights[:, [0, 3]], hidden_bias[[0, 3]], contexts, pairs)
    np.testing.assert_allclose(full, live_only, atol=1e-12)
    assert np.all(np.isfinite(full))


def test_input_errors():
    w = np.zeros((4, 2))
    c = np.zeros(2)
    x = np.zeros((1, 4))
    with pytest.raises(IsingRGError):
        pair_couplings(w, c, x, np.array([[0, 0]]))
    with pytest.raises(IsingRGError):
        pair_couplings(w, c, x, np.array([[0, 4]]))
    with pytest.raises(IsingRGError):
        pair_couplings(w, c, np.full((1, 4), 0.5), np.array([[0, 1]]))
    with pytest.raises(IsingRGError):
        pair_couplings(np.full((4, 2), 60.0), c, x, np.array([[0, 1]]))
    rbm = SimpleNamespace(weights_=np.zeros((16, 2)), hidden_bias_=np.zeros(2))
    with pytest.raises(IsingRGError):
        couplings_by_displacement(rbm, np.zeros((3, 16)), 4, max_distance=2)  # needs < L/2
    with pytest.raises(IsingRGError):
        couplings_by_displacement(rbm, np.zeros((3, 16)), 5, max_distance=1)


def test_deterministic_in_seed_and_errors_shrink_with_contexts():
    rng = np.random.default_rng(0)
    size = 6
    rbm = SimpleNamespace(
        weights_=rng.normal(0, 0.5, (size * size, 8)).astype(np.float32),
        hidden_bias_=rng.normal(0, 0.5, 8).astype(np.float32),
    )
    data = (rng.random((100, size * size)) < 0.5).astype(np.float32)
    a = couplings_by_displacement(rbm, data, size, max_distance=1.5, n_contexts=20, seed=4)
    b = couplings_by_displacement(rbm, data, size, max_distance=1.5, n_contexts=20, seed=4)
    assert a == b
    big = couplings_by_displacement(rbm, data, size, max_distance=1.5, n_contexts=100)
    nn_small, nn_big = a["nearest_neighbour"], big["nearest_neighbour"]
    assert nn_big["stderr"] < nn_small["stderr"]
    assert abs(nn_big["mean"] - nn_small["mean"]) < 5 * math.hypot(
        nn_small["stderr"], nn_big["stderr"]
    )


# -- couplings as a distribution over bonds and contexts, and the Ising test ------------------
def _half_bond_rbm(size: int, coupling: float):
    """The exact Ising RBM's construction with 2K on the right bonds and 0 on the down bonds:
    a mean nearest-neighbour coupling of K, not the Ising model."""
    from ising_rg.rbm import BernoulliRBM
    from ising_rg.rbm.ising import ising_bond_sites, ising_rbm_weight

    n_sites = size * size
    w = np.float32(ising_rbm_weight(2 * coupling))
    bonds = ising_bond_sites(size)[:n_sites]  # the right bonds only
    weights = np.zeros((n_sites, n_sites), np.float32)
    weights[bonds[:, 0], np.arange(n_sites)] = w
    weights[bonds[:, 1], np.arange(n_sites)] = w
    # each site is in two right bonds: its field 2 w/2 cancels with -w
    return BernoulliRBM.from_parameters(weights, np.full(n_sites, -w, np.float32),
                                        np.full(n_sites, -w, np.float32))


def test_the_exact_ising_rbm_passes_the_ising_test():
    size, coupling = 8, 0.35
    visible = (np.random.default_rng(0).random((60, size * size)) < 0.5).astype(np.float32)
    result = coupling_distribution(ising_rbm(size, coupling), visible, size, n_contexts=30,
                                   true_coupling=coupling)
    assert result["ising_test"]["passes"]
    assert result["all"]["mean"] == pytest.approx(coupling, rel=1e-5)
    assert result["all"]["std"] < 1e-5 * coupling  # float32 rounding only
    assert result["ratio_to_true"] == pytest.approx(1.0, rel=1e-5)
    assert set(result["all"]["quantiles"]) == {"0.05", "0.25", "0.5", "0.75", "0.95"}


def test_a_half_bond_rbm_has_the_mean_coupling_but_fails_the_ising_test():
    size, coupling = 8, 0.35
    visible = (np.random.default_rng(1).random((60, size * size)) < 0.5).astype(np.float32)
    result = coupling_distribution(_half_bond_rbm(size, coupling), visible, size,
                                   n_contexts=30, true_coupling=coupling)
    assert result["all"]["mean"] == pytest.approx(coupling, rel=1e-5)  # the mean hides it
    assert not result["ising_test"]["passes"]
    assert result["by_bond"]["min"] == pytest.approx(0.0, abs=1e-6)
    assert result["by_bond"]["max"] == pytest.approx(2 * coupling, rel=1e-5)
    assert result["ising_test"]["relative_spread"] == pytest.approx(1.0, rel=1e-4)


def test_context_dependence_fails_the_ising_test():
    """A generic RBM's pair couplings change with the context (its marginal is not pairwise):
    the spread over contexts is seen, and no single coupling fits."""
    rng = np.random.default_rng(2)
    rbm = BernoulliRBM.from_parameters(rng.normal(0, 0.5, (36, 12)), np.zeros(36),
                                       rng.normal(0, 0.5, 12))
    visible = (rng.random((80, 36)) < 0.5).astype(np.float32)
    result = coupling_distribution(rbm, visible, 6, n_contexts=40)
    assert not result["ising_test"]["passes"]
    assert result["by_context"]["std"] > 0 and result["all"]["std"] > result["by_bond"]["std"]

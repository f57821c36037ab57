"""The RBM that equals the Ising model: construction, log Z, likelihood, couplings, AIS, Gibbs.

Every check compares with an answer known independently of the RBM code: Kaufman's exact
finite-torus solution (``ising_rg.exact``), brute-force enumeration, or the construction itself.

Float32 tolerance used throughout: the fitted RBM stores w32 = float32(w), b = -2 w32 and
c = -w32 (exact multiples), so it is exactly the Ising model at K* = ln cosh(w32/2)/2, with
|K* - K| <= |w32 - w|/4. Its ln Z minus the float64 closed form is
[ln Z_Ising(K*) - ln Z_Ising(K)] + 2N (K* - K) - N (w32 - w), and each of the first two
terms is at most 2N |K* - K| (|sum s_i s_j| <= 2N): at most 2N |w32 - w| in all. The same
bound holds for -F(v) - ln Z per configuration. ``float32_bound`` computes it from the stored
weight.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ising_rg import exact
from ising_rg.diagnostics.couplings import couplings_by_displacement
from ising_rg.errors import IsingRGError
from ising_rg.estimators.convergence import split_rhat
from ising_rg.exact import enumeration as exact_enumeration
from ising_rg.rbm import (
    ais_log_partition,
    average_log_likelihood,
    exact_log_partition,
    ising_rbm,
    ising_rbm_log_partition,
)
from ising_rg.rbm.ising import ising_bond_sites, ising_rbm_weight
from ising_rg.sampling.observables import energy_per_spin, jackknife, magnetization_per_spin
from ising_rg.sampling.sampler import draw
from ising_rg.settings import SampleOptions

K_PAPER = 0.408
K_C = exact.critical_coupling()


def float32_bound(rbm, coupling: float) -> float:
    """Largest |ln Z_RBM(float32) - closed form| and |log p difference| (module docstring)."""
    n_sites = rbm.weights_.shape[0]
    return 2.0 * n_sites * abs(float(rbm.weights_.max()) - ising_rbm_weight(coupling))


def float64_parameters(size: int, coupling: float):
    """(W, b, c) of the construction in float64 with the exact w (no float32 rounding)."""
    rbm = ising_rbm(size, coupling)
    w = ising_rbm_weight(coupling)
    weights = (rbm.weights_ != 0).astype(np.float64) * w
    return weights, np.full(size * size, -2.0 * w), np.full(2 * size * size, -w)


def ising_log_p(spins: np.ndarray, coupling: float) -> np.ndarray:
    """ln p_Ising(s) = K sum_<ij> s_i s_j - ln Z = -K E - ln Z, per configuration."""
    size = spins.shape[-1]
    total_energy = energy_per_spin(spins) * size * size
    return -coupling * total_energy - exact.log_partition_function(coupling, size)


def to_visible(spins: np.ndarray) -> np.ndarray:
    return ((spins.reshape(spins.shape[0], -1) + 1) // 2).astype(np.float32)


@pytest.fixture(scope="module")
def mc_configurations():
    """Equilibrium Wolff configurations at K = 0.408, L = 8 and L = 40 (spins (n, L, L))."""
    return {size: draw(SampleOptions(size, K_PAPER, 200, "wolff", seed=size)).spins
            for size in (8, 40)}


# ---------------------------------------------------------------------------------------------
# construction and input checks
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 3, 5])
def test_construction_one_hidden_unit_per_bond(size):
    rbm = ising_rbm(size, K_PAPER)
    n = size * size
    w = np.float32(ising_rbm_weight(K_PAPER))
    assert rbm.weights_.dtype == np.float32 and rbm.weights_.shape == (n, 2 * n)
    assert rbm.n_visible == n and rbm.n_hidden == 2 * n
    # cosh(w/2) = e^{2K}
    assert math.cosh(ising_rbm_weight(K_PAPER) / 2) == pytest.approx(math.exp(2 * K_PAPER), 1e-14)
    # every bond column holds w on exactly its two sites; every site sits in 4 bonds
    bonds = ising_bond_sites(size)
    for k, (i, j) in enumerate(bonds):
        column = rbm.weights_[:, k]
        assert column[i] == w and column[j] == w and np.count_nonzero(column) == 2
    assert np.all(np.count_nonzero(rbm.weights_, axis=1) == 4)
    assert np.all(rbm.hidden_bias_ == -w) and np.all(rbm.visible_bias_ == -2 * w)
    # right bonds first, then down bonds: site 0 -> (0, 1) and (1, 0)
    assert tuple(bonds[0]) == (0, 1 % size) and tuple(bonds[n]) == (0, size % n)


@pytest.mark.parametrize(
    "size, coupling",
    [(1, 0.4), (0, 0.4), (2.0, 0.4), (True, 0.4), ("4", 0.4), (4, 0.0), (4, -0.3),
     (4, math.nan), (4, math.inf), (4, 1e3), (4, "0.4"), (4, None)],
)  # fmt: skip
def test_bad_input_is_refused(size, coupling):
    with pytest.raises(IsingRGError):
        ising_rbm(size, coupling)
    with pytest.raises(IsingRGError):
        ising_rbm_log_partition(size, coupling)


# ---------------------------------------------------------------------------------------------
# log Z: enumeration, closed form, Kaufman
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 3, 4])
@pytest.mark.parametrize("coupling", [0.05, 0.3, K_PAPER, K_C, 0.7])
def test_enumerated_log_z_equals_closed_form_and_kaufman(size, coupling):
    """Enumeration of the visible layer (2^(L^2) states) against ln Z_Ising + 2N(K+ln 2) - N w.

    L = 2 checks the double bonds of the 2 x 2 torus, counted as Kaufman counts them.
    """
    n = size * size
    closed = ising_rbm_log_partition(size, coupling)
    w = ising_rbm_weight(coupling)
    # float64 parameters: only the Gray-code walk's rounding (~1e-12 relative) is left
    enumerated = exact_log_partition(float64_parameters(size, coupling))
    assert enumerated == pytest.approx(closed, abs=1e-10)
    offset = 2 * n * (coupling + math.log(2)) - n * w  # ln Z_RBM - ln Z_Ising
    kaufman = exact.log_partition_function(coupling, size)
    assert enumerated - offset == pytest.approx(kaufman, abs=1e-10)
    brute = exact_enumeration.brute_force_log_partition_function(coupling, size)
    assert closed - offset == pytest.approx(brute, abs=1e-10)
    # the fitted float32 estimator: within the stated float32 bound
    rbm = ising_rbm(size, coupling)
    assert abs(exact_log_partition(rbm) - closed) <= float32_bound(rbm, coupling) + 1e-10


def test_closed_form_would_see_a_wrong_weight():
    """The enumeration check is sharp: a 1e-4 relative change of w moves ln Z far beyond 1e-10."""
    weights, b, c = float64_parameters(3, K_PAPER)
    scale = 1.0 + 1e-4
    shifted = exact_log_partition((weights * scale, b * scale, c * scale))
    assert abs(shifted - ising_rbm_log_partition(3, K_PAPER)) > 1e-5


# ---------------------------------------------------------------------------------------------
# per-configuration log-likelihood
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [8, 40])
def test_log_likelihood_per_configuration_is_the_ising_one(mc_configurations, size):
    """-F(v) - ln Z_RBM = K sum s_i s_j - ln Z_Ising for each Monte Carlo configuration.

    Tolerance: the float32 bound 2N |w32 - w| (about 3.5e-7 N here) plus 1e-9 for float64
    rounding of F (a sum of 2N softplus terms of size <~ 6).
    """
    spins = mc_configurations[size]
    rbm = ising_rbm(size, K_PAPER)
    log_z = ising_rbm_log_partition(size, K_PAPER)
    visible = to_visible(spins)
    rbm_log_p = rbm.log_likelihood(visible, log_z)
    expected = ising_log_p(spins, K_PAPER)
    tolerance = float32_bound(rbm, K_PAPER) + 1e-9
    assert np.max(np.abs(rbm_log_p - expected)) <= tolerance
    assert average_log_likelihood(rbm, visible, log_z) == pytest.approx(
        float(np.mean(expected)), abs=tolerance
    )
    # the configurations differ in log p by O(1) or more, so this is not a constant offset
    assert np.ptp(expected) > 1.0


# ---------------------------------------------------------------------------------------------
# effective couplings
# ---------------------------------------------------------------------------------------------


def test_effective_couplings_are_k_at_nearest_neighbours_and_zero_beyond(mc_configurations):
    size = 8
    rbm = ising_rbm(size, K_PAPER)
    visible = to_visible(mc_configurations[size])
    result = couplings_by_displacement(
        rbm, visible, size, max_distance=3, n_contexts=20, seed=1, true_coupling=K_PAPER
    )
    # |K* - K| <= |w32 - w| / 4 from the float32 weight, plus float64 rounding
    tolerance = abs(float(rbm.weights_.max()) - ising_rbm_weight(K_PAPER)) / 4 + 1e-12
    for entry in result["displacements"]:
        expected = K_PAPER if entry["distance"] == 1.0 else 0.0
        assert entry["mean"] == pytest.approx(expected, abs=tolerance), entry["displacement"]
        assert entry["context_std"] <= 1e-12 and entry["site_std"] <= 1e-12
    assert result["next_nearest_neighbour"]["mean"] == pytest.approx(0.0, abs=1e-12)
    assert {tuple(s["shell"]) for s in result["shells"]} >= {(0, 1), (1, 1), (0, 2)}
    assert result["ratio_nearest_to_true"] == pytest.approx(1.0, abs=tolerance / K_PAPER)


# ---------------------------------------------------------------------------------------------
# AIS against the closed form
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "size, n_betas, seed",
    [(16, 3000, 0), (16, 3000, 1), (16, 3000, 2), (40, 1000, 0)],
)
def test_ais_matches_closed_form(size, n_betas, seed):
    """AIS (100 runs, uniform base) gives the closed-form log Z within 3 quoted errors.

    Settings from a calibration on this model at K = 0.408 (4-5 seeds per setting; estimate
    minus truth, quoted error, spread of the estimates over seeds):

    * L = 16 (true 45.800): 1000 temperatures -0.08, 0.17, 0.23 (one seed 2.6 errors off);
      3000: +0.02, 0.08, 0.05; 10000: +0.02, 0.04, 0.04; 30000: +0.01, 0.021, 0.040.
    * L = 40 (true 285.166): 1000: +0.14, 0.44, 0.55 (effective sample size 3-10 of 100
      runs); 3000: +0.04, 0.31, 0.37; 10000: +0.07, 0.11, 0.18; 30000: -0.02, 0.05 (2 seeds).

    float32 products are exact here (every entry of v W and h W^T is a sum of at most four
    w's). Cost: the dense 100 x 1600 x 3200 products make L = 40 take 0.1 s per temperature
    with one BLAS thread, 0.3 s with two on a shared 2-core machine; hence one seed there.
    """
    rbm = ising_rbm(size, K_PAPER)
    log_z, error = ais_log_partition(rbm, n_runs=100, n_betas=n_betas, seed=seed, dtype=np.float32)
    assert abs(log_z - ising_rbm_log_partition(size, K_PAPER)) <= 3 * error
    assert error < 0.7  # a wide error bar would make the check empty


# ---------------------------------------------------------------------------------------------
# generative samples: block Gibbs of the RBM
# ---------------------------------------------------------------------------------------------


def gibbs_series(rbm, starts: np.ndarray, n_steps: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """E/N and |m| of every chain after each of n_steps Gibbs steps, each (n_chains, n_steps)."""
    size = math.isqrt(starts.shape[1])
    energy = np.empty((starts.shape[0], n_steps))
    abs_m = np.empty((starts.shape[0], n_steps))
    state = starts
    for t in range(n_steps):
        state = rbm.gibbs(state, 1, rng)
        spins = (2 * state - 1).reshape(-1, size, size)
        energy[:, t] = energy_per_spin(spins)
        abs_m[:, t] = np.abs(magnetization_per_spin(spins))
    return energy, abs_m


@pytest.mark.slow
def test_gibbs_samples_have_the_exact_energy_and_specific_heat():
    """Block Gibbs (v -> h -> v) of the L = 8 Ising RBM at K = 0.408, 64 chains from random
    and 64 from all-up states, 500 steps of burn-in, 2000 measured steps.

    Measured on this chain (256 + 256 chains): the all-up and random ensembles' mean E and |m|
    agree within their noise after 75-100 steps (relaxation time ~35 steps); integrated
    autocorrelation times from the blocking plateau ~21 steps (E) and ~32 (|m|), so split
    R-hat on n measured steps is about 1 + 2 tau / n, 1.03 here. Errors: jackknife over the
    independent chains (immune to the autocorrelation within a chain).
    """
    size, coupling, n_chains = 8, K_PAPER, 64
    n = size * size
    rbm = ising_rbm(size, coupling)
    rng = np.random.default_rng(2024)
    random_starts = (rng.random((n_chains, n)) < 0.5).astype(np.float32)
    starts = np.concatenate([random_starts, np.ones((n_chains, n), np.float32)])
    early_energy, early_m = gibbs_series(rbm, starts, 40, rng)
    # the diagnostic sees the two kinds of start in the first 40 steps
    assert split_rhat(early_energy) > 1.05 and split_rhat(early_m) > 1.05

    state = rbm.gibbs(starts, 460, rng)  # 500 steps of burn-in in all
    energy, abs_m = gibbs_series(rbm, state, 2000, rng)
    assert split_rhat(energy) < 1.05 and split_rhat(abs_m) < 1.05

    def heat(series):
        return coupling**2 * n * np.var(series[0])

    def mean(series):
        return float(np.mean(series[0]))

    e_mean, e_error = jackknife(mean, (energy,), n_blocks=2 * n_chains)
    c_mean, c_error = jackknife(heat, (energy,), n_blocks=2 * n_chains)
    assert abs(e_mean - exact.energy_per_spin(coupling, size)) <= 4 * e_error
    assert abs(c_mean - exact.specific_heat_per_spin(coupling, size)) <= 4 * c_error
    assert e_error < 0.01 and c_error < 0.1  # the test has resolving power

    # random and all-up starts agree on E and |m|
    for series in (energy, abs_m):
        a, a_error = jackknife(mean, (series[:n_chains],), n_blocks=n_chains)
        b, b_error = jackknife(mean, (series[n_chains:],), n_blocks=n_chains)
        assert abs(a - b) <= 4 * math.hypot(a_error, b_error)

"""Rank-normalized split R-hat and ESS (Vehtari et al. 2021) on cases with known answers.

Calibration of the estimators (100 replicates each, seed 1; ``python /tmp`` loop in the test
history, reproduced by the tests below at fewer replicates):

* iid N(0, 1), 4 chains x 1000: R-hat - 1 = 3.3e-4 +- 5.3e-4 (mean, sd; max 1.0027);
  ESS / S = 0.987 +- 0.005 (mean, standard error; the truncation of Geyer's sequence at the
  first negative pair keeps positive noise: a known bias of about -1 %), bulk ESS / S 0.993.
* AR(1) phi = 0.5 (tau = 3), 4 x 2000: ESS tau / S = 0.986 +- 0.006 (sd 0.06 per replicate).
* AR(1) phi = 0.9 (tau = 19), 4 x 4000: ESS tau / S = 0.999 +- 0.009 (sd 0.09), bulk 1.002.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ising_rg.errors import IsingRGError
from ising_rg.estimators.convergence import split_rhat
from ising_rg.estimators.rank_diagnostics import (
    bulk_ess,
    diagnose,
    effective_sample_size,
    rank_normalize,
    rank_rhat,
    split_chains,
    tail_ess,
)


def ar1(rng: np.random.Generator, n_chains: int, n_draws: int, phi: float) -> np.ndarray:
    """Stationary AR(1) chains x_t = phi x_t-1 + sqrt(1 - phi^2) e_t, unit variance,
    integrated autocorrelation time tau = (1 + phi) / (1 - phi)."""
    x = np.empty((n_chains, n_draws))
    x[:, 0] = rng.standard_normal(n_chains)
    noise = rng.standard_normal((n_chains, n_draws)) * math.sqrt(1 - phi**2)
    for t in range(1, n_draws):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x


def test_iid_draws_have_rhat_one_and_ess_near_the_number_of_draws():
    rng = np.random.default_rng(2)
    rhat, ess, bulk = [], [], []
    for _ in range(20):
        x = rng.standard_normal((4, 1000))
        rhat.append(rank_rhat(x))
        ess.append(effective_sample_size(x) / x.size)
        bulk.append(bulk_ess(x) / x.size)
    # R-hat - 1 has sd 5.3e-4 here: 1.01 is 19 sd away, and the mean sits near 0
    assert max(rhat) < 1.01
    assert np.mean(rhat) - 1 < 3 * 5.3e-4
    for values in (ess, bulk):
        mean, se = np.mean(values), np.std(values, ddof=1) / math.sqrt(len(values))
        assert abs(mean - 1) < 3 * se + 0.013, (mean, se)  # 0.013: the measured bias


@pytest.mark.parametrize("phi, n_draws", [(0.5, 2000), (0.9, 4000)])
def test_ar1_ess_is_the_number_of_draws_over_tau(phi, n_draws):
    rng = np.random.default_rng(3)
    tau = (1 + phi) / (1 - phi)
    ratios, bulk = [], []
    for _ in range(12):
        x = ar1(rng, 4, n_draws, phi)
        ratios.append(effective_sample_size(x) * tau / x.size)
        bulk.append(bulk_ess(x) * tau / x.size)
        assert rank_rhat(x) < 1.02
    for values in (ratios, bulk):
        mean, se = np.mean(values), np.std(values, ddof=1) / math.sqrt(len(values))
        assert abs(mean - 1) < 3 * se + 0.015, (phi, mean, se)
    # the ESS estimator must see the correlation: an iid reading would be tau times too big
    assert np.mean(ratios) < 0.5 * tau


def test_chains_stuck_in_different_modes_have_large_rhat_and_small_ess():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 500))
    x[2:] += 5.0  # two chains in another mode
    # ranks saturate: fully separated halves give sqrt(1 / (1 - 2/pi)) = 1.66 at most
    assert rank_rhat(x) > 1.5
    assert bulk_ess(x) < 50
    # one stuck chain of eight is enough to fail the 1.01 rule
    y = rng.standard_normal((8, 500))
    y[0] += 3.0
    assert rank_rhat(y) > 1.05


def test_folding_detects_chains_that_differ_in_spread_only():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 2000))
    x[:2] *= 3.0  # same location, three times the spread
    halves = split_chains(x)
    bulk_only = float(np.sqrt(
        ((halves.shape[1] - 1) / halves.shape[1] * rank_normalize(halves).var(1, ddof=1).mean()
         + rank_normalize(halves).mean(1).var(ddof=1)) / rank_normalize(halves).var(1, ddof=1)
        .mean()))
    assert bulk_only < 1.01  # the location-only R-hat misses it
    assert rank_rhat(x) > 1.1  # the folded one does not


def test_rank_rhat_is_invariant_under_monotone_maps_and_close_to_classic_for_gaussians():
    rng = np.random.default_rng(6)
    x = ar1(rng, 4, 1000, 0.7)
    x[0] += 0.3
    assert rank_rhat(np.exp(x)) == pytest.approx(rank_rhat(x), abs=1e-12)
    assert bulk_ess(np.exp(3 * x)) == pytest.approx(bulk_ess(x), rel=1e-12)
    assert rank_rhat(x) == pytest.approx(split_rhat(x), abs=0.02)


def test_rank_normalize_handles_ties_with_average_ranks():
    z = rank_normalize(np.array([[0.0, 1.0, 1.0, 2.0]]))
    assert z[0, 1] == z[0, 2] and z[0, 0] < z[0, 1] < z[0, 3]
    assert z.sum() == pytest.approx(0.0, abs=1e-12)  # symmetric scores


def test_constant_and_separated_constant_chains():
    assert rank_rhat(np.ones((3, 10))) == 1.0
    assert bulk_ess(np.ones((3, 10))) == 30.0
    x = np.zeros((2, 10))
    x[1] = 1.0
    assert rank_rhat(x) == math.inf


def test_tail_ess_and_diagnose():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 1000))
    assert 0.7 * x.size < tail_ess(x) < 1.3 * x.size
    verdict = diagnose({"a": x, "b": ar1(rng, 4, 1000, 0.9)})
    assert verdict["converged"] is False  # b has ESS ~ 4000 / 19 < 400
    assert verdict["bulk_ess"]["b"] < 400 <= verdict["bulk_ess"]["a"]
    assert diagnose({"a": x})["converged"] is True


@pytest.mark.parametrize("bad", [np.zeros(10), np.zeros((2, 3)), [[1, 2, np.nan, 4, 5]],
                                 "abc"])
def test_bad_draws_raise_one_line_errors(bad):
    with pytest.raises(IsingRGError, match="draws"):
        rank_rhat(bad)

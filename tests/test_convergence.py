"""Split R-hat on chains whose answer is known: iid draws, shifted means, a drift."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ising_rg.errors import IsingRGError
from ising_rg.estimators.convergence import split_rhat


def classic_rhat(chains: np.ndarray) -> float:
    """R-hat without the split (Gelman & Rubin 1992 form), for contrast with the split."""
    n = chains.shape[1]
    within = chains.var(axis=1, ddof=1).mean()
    return math.sqrt(((n - 1) / n * within + chains.mean(axis=1).var(ddof=1)) / within)


def rhat_spread(n_chains: int, n_steps: int) -> float:
    """Standard deviation of R-hat for iid chains: R^2 - 1 = (F - 1)/n, F ~ F(M - 1, M(n - 1)),
    M = 2 n_chains half-chains of n = n_steps // 2, so sd(R) ~ sqrt(2 / (M - 1)) / (2 n)."""
    halves, n = 2 * n_chains, n_steps // 2
    return math.sqrt(2.0 / (halves - 1)) / (2 * n)


def test_iid_chains_give_one_within_the_predicted_spread():
    n_chains, n_steps, n_seeds = 4, 1000, 400
    values = np.array(
        [
            split_rhat(np.random.default_rng(seed).standard_normal((n_chains, n_steps)))
            for seed in range(n_seeds)
        ]
    )
    spread = rhat_spread(n_chains, n_steps)  # 5.3e-4
    # the mean is 1 to O(spread^2); its standard error is spread / sqrt(400) = 2.7e-5
    assert abs(values.mean() - 1.0) < 4 * spread / math.sqrt(n_seeds)
    # the measured spread matches the F-distribution prediction (sd of an sd over 400 draws
    # is ~3.5 %; F(7, 3992) has 2/(M-1) (1 + O(1/d2)) variance)
    assert values.std(ddof=1) == pytest.approx(spread, rel=0.15)
    assert np.all(np.abs(values - 1.0) < 6 * spread)
    assert values.max() < 1.01  # far from any convergence threshold


def test_shifted_means_are_detected():
    """Two of four chains shifted by one standard deviation: the 8 half-chain means have
    variance (1/4) 8/7, so R-hat ~ sqrt(1 + 2/7) = 1.13."""
    rng = np.random.default_rng(1)
    chains = rng.standard_normal((4, 1000))
    chains[:2] += 1.0
    value = split_rhat(chains)
    assert value > 1.05
    # noise of the half-chain means (sd 1/sqrt(500)) moves R-hat by ~0.008 (one sd)
    assert value == pytest.approx(math.sqrt(1.0 + 2.0 / 7.0), abs=0.035)
    # and a shift far below the noise is not
    small = rng.standard_normal((4, 1000))
    small[:2] += 0.01
    assert split_rhat(small) < 1.01


def test_a_drift_shared_by_all_chains_is_caught_only_by_the_split():
    """Every chain drifts by 2 sd over its length: the chains agree with each other (classic
    R-hat ~ 1), but each chain's halves differ by 1 sd: R-hat ~ sqrt(1 + (2/7)/(1 + 1/12))."""
    rng = np.random.default_rng(2)
    n_steps = 1000
    drift = 2.0 * np.arange(n_steps) / n_steps
    chains = rng.standard_normal((4, n_steps)) + drift
    assert classic_rhat(chains) < 1.01
    value = split_rhat(chains)
    assert value > 1.05
    assert value == pytest.approx(math.sqrt(1.0 + (2.0 / 7.0) / (1.0 + 1.0 / 12.0)), abs=0.035)


def test_one_chain_is_split_in_two():
    rng = np.random.default_rng(3)
    steady = rng.standard_normal((1, 2000))
    assert abs(split_rhat(steady) - 1.0) < 6 * rhat_spread(1, 2000)
    jump = steady.copy()
    jump[0, 1000:] += 1.0
    assert split_rhat(jump) > 1.2


def test_odd_length_drops_the_middle_step():
    x = np.random.default_rng(4).standard_normal((3, 101))
    assert split_rhat(x) == split_rhat(np.delete(x, 50, axis=1))


def test_constant_chains():
    assert split_rhat(np.full((3, 10), 0.7)) == 1.0
    assert split_rhat(np.repeat([[0.0], [1.0]], 10, axis=1)) == math.inf


@pytest.mark.parametrize(
    "chains",
    [np.zeros(10), np.zeros((2, 3)), np.zeros((2, 4, 1)), np.full((2, 8), np.nan), [["a"] * 4]],
)
def test_bad_input_is_refused(chains):
    with pytest.raises(IsingRGError):
        split_rhat(chains)

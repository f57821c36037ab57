"""Rank-normalized split R-hat and effective sample sizes (Vehtari et al. 2021).

Vehtari, Gelman, Simpson, Carpenter & Buerkner, "Rank-normalization, folding, and localization:
an improved R-hat for assessing convergence of MCMC", Bayesian Analysis 16, 667 (2021).
Input everywhere: draws shaped (n_chains, n_draws), one row per chain in time order, warm-up
already removed.

* Split: every chain is cut into its first and second half (an odd middle draw is dropped), so
  a chain that still drifts looks like two chains that disagree.
* Rank normalization: all draws are pooled and ranked (ties get their average rank r), and
  replaced by z = Phi^-1((r - 3/8) / (S + 1/4)), S the number of draws. R-hat and ESS of z do
  not depend on the scale of the observable, exist for heavy tails, and see a chain stuck in
  another mode as strongly as any other disagreement.
* ``rank_rhat``: the larger of the classic R-hat (Gelman et al. 2013) of the rank-normalized
  split chains ("bulk") and of the rank-normalized split chains of |x - median(x)| ("folded":
  chains with equal location but different spread). Converged: < 1.01 (the paper's rule).
* ``effective_sample_size``: S / tau with the multi-chain autocorrelation
  rho_t = 1 - (W - mean_chains(acov_t)) / var+ (W: mean within-chain variance, var+ the pooled
  variance estimate), tau = -1 + 2 sum_t rho_t summed by Geyer's initial positive sequence
  (pairs rho_2k + rho_2k+1, stop at the first negative pair) made monotone (each pair no larger
  than the one before), plus the first rho of the stopping pair when positive; tau is floored at
  1 / log10(S), so the ESS of antithetic chains is at most S log10(S).
* ``bulk_ess``: the ESS of the rank-normalized split chains; "enough": >= 400 (the paper's rule
  for 4 chains, i.e. 100 per chain). ``tail_ess``: the smaller ESS of the indicators of the 5 %
  and 95 % quantiles.

A constant series has R-hat 1 and ESS S (nothing to estimate); chains constant at different
values have R-hat inf.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np

from ising_rg.errors import IsingRGError

__all__ = [
    "ESS_MINIMUM",
    "RANK_RHAT_THRESHOLD",
    "bulk_ess",
    "diagnose",
    "effective_sample_size",
    "rank_normalize",
    "rank_rhat",
    "split_chains",
    "tail_ess",
]

#: Converged when every rank-normalized split R-hat is below this (Vehtari et al. 2021).
RANK_RHAT_THRESHOLD = 1.01
#: ... and every bulk effective sample size is at least this.
ESS_MINIMUM = 400.0

_INVERSE_NORMAL = np.vectorize(NormalDist().inv_cdf, otypes=[np.float64])


def _draws(x: Any, minimum: int = 4) -> np.ndarray:
    """(n_chains, n_draws) float64 draws, checked."""
    try:
        draws = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise IsingRGError("draws must be a numeric array shaped (n_chains, n_draws)") from None
    if draws.ndim != 2 or draws.shape[0] < 1 or draws.shape[1] < minimum:
        raise IsingRGError(
            f"draws must be shaped (n_chains >= 1, n_draws >= {minimum}), got {draws.shape}")
    if not np.isfinite(draws).all():
        raise IsingRGError("draws contain NaN or infinite values")
    return draws


def split_chains(x: Any) -> np.ndarray:
    """Each chain's first and second half as separate chains: (2 n_chains, n_draws // 2).

    An odd number of draws drops the middle one.
    """
    draws = _draws(x)
    half = draws.shape[1] // 2
    return np.concatenate([draws[:, :half], draws[:, draws.shape[1] - half:]])


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..S of a flat array, ties sharing their average rank."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    # runs of equal values: their first and last positions
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], sorted_values.size]
    average = 0.5 * (starts + ends - 1) + 1.0  # mean of positions start..end-1, 1-based
    ranks = np.empty(values.size)
    ranks[order] = np.repeat(average, ends - starts)
    return ranks


def rank_normalize(x: Any) -> np.ndarray:
    """Normal scores z = Phi^-1((r - 3/8) / (S + 1/4)) of the pooled ranks r, same shape as x."""
    draws = np.asarray(x, dtype=np.float64)
    ranks = _average_ranks(draws.ravel())
    return _INVERSE_NORMAL((ranks - 0.375) / (draws.size + 0.25)).reshape(draws.shape)


def _classic_rhat(chains: np.ndarray) -> float:
    """sqrt(((n - 1)/n W + B/n) / W) of (m, n) chains (Gelman et al. 2013)."""
    n = chains.shape[1]
    within = float(chains.var(axis=1, ddof=1).mean())
    between_over_n = float(chains.mean(axis=1).var(ddof=1)) if chains.shape[0] > 1 else 0.0
    if within == 0.0:
        return 1.0 if np.ptp(chains) == 0.0 else math.inf
    return math.sqrt(((n - 1) / n * within + between_over_n) / within)


def rank_rhat(x: Any) -> float:
    """Rank-normalized split R-hat: max of the bulk and the folded R-hat (module docstring).

    Parameters
    ----------
    x : array-like, shape (n_chains, n_draws), n_draws >= 4
        One scalar observable per chain and draw.

    Returns
    -------
    float
        >= about 1 (dimensionless); converged below :data:`RANK_RHAT_THRESHOLD`.
    """
    draws = _draws(x)
    if np.ptp(draws) == 0.0:
        return 1.0
    halves = split_chains(draws)
    if np.all(np.ptp(halves, axis=1) == 0.0):  # every half-chain constant, not all equal
        return math.inf
    bulk = _classic_rhat(rank_normalize(halves))
    folded = _classic_rhat(rank_normalize(np.abs(halves - np.median(draws))))
    return max(bulk, folded)


def _autocovariances(chains: np.ndarray) -> np.ndarray:
    """Biased autocovariances sum_t (x_t - mean)(x_t+k - mean) / n per chain, (m, n), by FFT."""
    n = chains.shape[1]
    centred = chains - chains.mean(axis=1, keepdims=True)
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(centred, n=size, axis=1)
    return np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=1)[:, :n] / n


def effective_sample_size(x: Any) -> float:
    """Multi-chain effective sample size of the mean of x (Geyer's initial monotone sequence).

    Parameters
    ----------
    x : array-like, shape (n_chains, n_draws), n_draws >= 4
        Used as given (no split, no ranks); :func:`bulk_ess` is the diagnostic.

    Returns
    -------
    float
        S / tau, S = n_chains * n_draws draws (module docstring); S for a constant series.
    """
    chains = _draws(x)
    n_chains, n = chains.shape
    total = n_chains * n
    if np.ptp(chains) == 0.0:
        return float(total)
    acov = _autocovariances(chains)
    mean_var = acov[:, 0].mean() * n / (n - 1)  # W
    var_plus = mean_var * (n - 1) / n
    if n_chains > 1:
        var_plus += chains.mean(axis=1).var(ddof=1)
    rho = 1.0 - (mean_var - acov.mean(axis=0)) / var_plus  # (n,), rho[0] = 1
    n_pairs = n // 2
    pairs = rho[: 2 * n_pairs].reshape(n_pairs, 2).sum(axis=1)
    negative = np.flatnonzero(pairs < 0)
    n_positive = int(negative[0]) if negative.size else n_pairs
    monotone = np.minimum.accumulate(pairs[:n_positive])
    tau = -1.0 + 2.0 * float(monotone.sum())
    if n_positive < n_pairs and rho[2 * n_positive] > 0:  # the improved tail term
        tau += float(rho[2 * n_positive])
    tau = max(tau, 1.0 / math.log10(total))
    return float(total / tau)


def bulk_ess(x: Any) -> float:
    """Bulk effective sample size: the ESS of the rank-normalized split chains."""
    draws = _draws(x)
    if np.ptp(draws) == 0.0:
        return float(draws.size)
    return effective_sample_size(rank_normalize(split_chains(draws)))


def tail_ess(x: Any) -> float:
    """Tail effective sample size: the smaller ESS of I(x <= q05) and I(x <= q95), split."""
    draws = _draws(x)
    halves = split_chains(draws)
    sizes = [effective_sample_size((halves <= np.quantile(draws, q)).astype(np.float64))
             for q in (0.05, 0.95)]
    return float(min(sizes))


def diagnose(series: dict[str, Any], *, rhat_threshold: float = RANK_RHAT_THRESHOLD,
             ess_minimum: float = ESS_MINIMUM) -> dict[str, Any]:
    """R-hat and bulk ESS of several observables and the verdict.

    Parameters
    ----------
    series : mapping name -> array-like (n_chains, n_draws)
    rhat_threshold, ess_minimum : the convergence rule (defaults 1.01 and 400)

    Returns
    -------
    dict: ``rhat`` {name: float}, ``bulk_ess`` {name: float}, ``converged`` (every R-hat below
    the threshold and every bulk ESS at least the minimum), ``rhat_threshold``,
    ``ess_minimum``.
    """
    rhat = {name: rank_rhat(values) for name, values in series.items()}
    ess = {name: bulk_ess(values) for name, values in series.items()}
    converged = all(r < rhat_threshold for r in rhat.values()) and all(
        e >= ess_minimum for e in ess.values())
    return {"rhat": rhat, "bulk_ess": ess, "converged": bool(converged),
            "rhat_threshold": float(rhat_threshold), "ess_minimum": float(ess_minimum)}

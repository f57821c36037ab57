"""Convergence diagnostics for Markov chains run from independent starts."""

from __future__ import annotations

import math

import numpy as np

from ising_rg.errors import IsingRGError

__all__ = ["split_rhat"]


def split_rhat(chains: np.ndarray) -> float:
    """Split potential scale reduction factor R-hat (Gelman et al., Bayesian Data Analysis, 2013).

    Each chain is cut into its first and second half (the middle draw is dropped when the
    length is odd), so a chain that still drifts looks like two chains that disagree. With
    m' = 2 m half-chains of n' draws, B = n' var(half-chain means), W = mean within-half
    variance (both with ddof 1) and var+ = (n' - 1) / n' W + B / n':
    R-hat = sqrt(var+ / W). Values near 1 mean the starts have been forgotten; the usual
    threshold is 1.05 (or the stricter 1.01). Warm-up is the caller's business: pass only the
    draws to be judged (typically the second half of a run).

    Parameters
    ----------
    chains : ndarray, shape (n_chains, n_steps)
        One scalar per step per chain (e.g. E/N or |m|), n_chains >= 1, n_steps >= 4.

    Returns
    -------
    float
        R-hat >= about 1 (dimensionless). 1.0 if every draw of every half-chain is the same
        constant (nothing left to mix); inf if each half-chain is constant but they differ.
    """
    x = np.asarray(chains, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 4:
        raise IsingRGError(
            f"split_rhat needs chains shaped (n_chains >= 1, n_steps >= 4), got {x.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise IsingRGError("split_rhat needs finite values")
    half = x.shape[1] // 2
    halves = np.concatenate([x[:, :half], x[:, x.shape[1] - half :]], axis=0)
    n = halves.shape[1]
    means = halves.mean(axis=1)
    within = float(halves.var(axis=1, ddof=1).mean())
    between = n * float(means.var(ddof=1))
    if within == 0.0:
        return 1.0 if between == 0.0 else math.inf
    pooled = (n - 1) / n * within + between / n
    return math.sqrt(pooled / within)

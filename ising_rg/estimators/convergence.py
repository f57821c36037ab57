"""Convergence diagnostics for Markov chains run from independent starts.

Split R-hat (Gelman, Carlin, Stern, Dunson, Vehtari & Rubin, *Bayesian Data Analysis*, 3rd ed.,
2013, section 11.4): every chain is cut into its first and second half, and the 2m half-chains
of length n are compared. With W the mean of the half-chains' variances (ddof = 1) and B / n the
variance (ddof = 1) of their means,

    var+ = (n - 1) / n * W + B / n,        R-hat = sqrt(var+ / W).

R-hat -> 1 when all half-chains sample the same distribution; it exceeds 1 when the starts have
not been forgotten (between-chain spread) or when a chain still drifts (its two halves differ,
which is what the split detects even if every chain drifts alike). For independent draws,
R-hat^2 - 1 = (F - 1) / n with F ~ F(2m - 1, 2m (n - 1)) distributed, so its fluctuations are
of order sqrt(2 / (2m - 1)) / (2n). Common threshold: R-hat < 1.05 (or 1.01) for "converged".

``window_rhat`` is the rule every chain the package runs for measurement uses (the RBM flow,
the DBN's generative chains): after t recorded steps, the split R-hat of each observable over
the second half of them (``window_start``; the first half is warm-up), and ``rhat_converged``:
every R-hat below the threshold (1.05).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ising_rg.errors import IsingRGError

__all__ = ["RHAT_THRESHOLD", "rhat_converged", "split_rhat", "window_rhat", "window_start"]

#: R-hat below which chains count as converged (every observable).
RHAT_THRESHOLD = 1.05


def split_rhat(chains: Any) -> float:
    """Split R-hat of one scalar observable over independent chains (Gelman et al. 2013).

    Parameters
    ----------
    chains : array-like, shape (n_chains, n_steps)
        The observable (e.g. E/N or |m| of each chain's state), one row per chain, in time
        order, after whatever burn-in is discarded. n_chains >= 1 and n_steps >= 4; an odd
        n_steps drops the middle step so that both halves have n_steps // 2 steps.

    Returns
    -------
    float
        R-hat >= about 1 (dimensionless; slightly below 1 happens by chance). 1.0 if every
        half-chain is constant at the same value; inf if they are constant at different
        values.

    Raises
    ------
    IsingRGError
        If the array is not 2-D, too short, or contains NaN or infinite values.
    """
    try:
        x = np.asarray(chains, dtype=np.float64)
    except (TypeError, ValueError):
        raise IsingRGError("chains must be a numeric array shaped (n_chains, n_steps)") from None
    if x.ndim != 2:
        raise IsingRGError(f"chains must be shaped (n_chains, n_steps), got shape {x.shape}")
    n_chains, n_steps = x.shape
    if n_chains < 1 or n_steps < 4:
        raise IsingRGError(f"split R-hat needs >= 1 chain of >= 4 steps, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise IsingRGError("chains contain NaN or infinite values")
    half = n_steps // 2
    halves = np.concatenate([x[:, :half], x[:, n_steps - half :]])  # (2 n_chains, half)
    means = halves.mean(axis=1)
    within = float(halves.var(axis=1, ddof=1).mean())
    between_over_n = float(means.var(ddof=1))  # B / n
    if within == 0.0:  # every half-chain constant: compare the constants themselves
        return 1.0 if np.ptp(halves) == 0.0 else math.inf
    pooled = (half - 1) / half * within + between_over_n
    return math.sqrt(pooled / within)


def window_start(n_steps: int) -> int:
    """First step of the window judged after ``n_steps`` steps: the second half, ceil(t/2).

    Steps are counted from 0 (the start) to t = ``n_steps``; the first half is warm-up, as in
    Gelman et al.'s practice.
    """
    return (int(n_steps) + 1) // 2


def window_rhat(series: Mapping[str, Any]) -> dict[str, float]:
    """Split R-hat of each observable over all chains, on the second half of the steps so far.

    Parameters
    ----------
    series : mapping name -> array-like, shape (t + 1, n_chains)
        Each observable's value per recorded step (rows, step 0 the start) and chain (columns).

    Returns
    -------
    dict name -> float: ``split_rhat`` of rows ``window_start(t)`` .. t (NaN when that window
    has fewer than 4 steps).
    """
    out = {}
    for name, values in series.items():
        x = np.asarray(values)
        first = window_start(x.shape[0] - 1)
        out[name] = split_rhat(x[first:].T) if x.shape[0] - first >= 4 else math.nan
    return out


def rhat_converged(rhat: Mapping[str, float], threshold: float = RHAT_THRESHOLD) -> bool:
    """True when every R-hat is below ``threshold`` (a NaN R-hat counts as not converged)."""
    return all(value < threshold for value in rhat.values())

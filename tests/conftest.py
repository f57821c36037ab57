"""Shared helpers for the test suite."""

from __future__ import annotations

import math

import numpy as np


def chi_square_z(observed: np.ndarray, expected: np.ndarray, min_expected: float = 5.0) -> float:
    """Goodness of fit of counts as a standard-normal z (Wilson-Hilferty transform of chi^2).

    Bins expected to hold fewer than ``min_expected`` counts are pooled into one, so the
    chi-square approximation holds. z < 4 passes at the 3e-5 level.
    """
    observed = np.asarray(observed, dtype=float)
    expected = np.asarray(expected, dtype=float)
    small = expected < min_expected
    if small.any():
        observed = np.append(observed[~small], observed[small].sum())
        expected = np.append(expected[~small], expected[small].sum())
    keep = expected > 0
    chi2 = float(np.sum((observed[keep] - expected[keep]) ** 2 / expected[keep]))
    dof = int(keep.sum()) - 1
    return ((chi2 / dof) ** (1 / 3) - (1 - 2 / (9 * dof))) / math.sqrt(2 / (9 * dof))


def random_spins(n: int, size: int, seed: int) -> np.ndarray:
    """Independent uniformly random spins, int8 shaped (n, size, size)."""
    return np.random.default_rng(seed).choice(
        np.array([-1, 1], dtype=np.int8), size=(n, size, size)
    )

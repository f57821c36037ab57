"""Spin configurations and RBM visible units: the one convention between them.

Spins s in {-1, +1} (int8), arrays shaped (n_samples, L, L), row-major, periodic boundaries
(docs/formats.md). An RBM sees them as visible units v = (s + 1) / 2 in {0, 1}, flattened
row-major: site (row, col) is unit ``row * L + col``. The RBM package knows nothing about
lattices; everything that connects the two goes through this module.
"""

from __future__ import annotations

import numpy as np

from ising_rg.errors import IsingRGError

__all__ = ["analysis_subset", "as_spin_batch", "lattice_size", "spins_to_visible"]


def as_spin_batch(spins: np.ndarray) -> tuple[np.ndarray, bool]:
    """Validate spins; return them as int8 (n, L, L) and whether the input was a single (L, L).

    Raises IsingRGError unless the array is (n, L, L) or (L, L) with values in {-1, +1}.
    """
    s = np.asarray(spins)
    single = s.ndim == 2
    if single:
        s = s[np.newaxis]
    if s.ndim != 3 or s.shape[1] != s.shape[2] or s.shape[1] == 0:
        raise IsingRGError(f"spins must be shaped (n, L, L) or (L, L), got {np.shape(spins)}")
    if s.dtype != np.int8:
        if not np.all(np.isin(s, (-1, 1))):
            raise IsingRGError("spins must take values in {-1, +1}")
        s = s.astype(np.int8)
    elif np.any(np.abs(s) != 1):
        raise IsingRGError("spins must take values in {-1, +1}")
    return s, single


def lattice_size(n_visible: int) -> int:
    """L such that L * L == n_visible (IsingRGError if n_visible is not a square)."""
    size = int(round(np.sqrt(n_visible)))
    if size * size != n_visible:
        raise IsingRGError(f"{n_visible} visible units is not a square L x L lattice")
    return size


def spins_to_visible(spins: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Spins (n, L, L) in {-1, +1} -> visible units v = (s + 1) / 2, shape (n, L*L), row-major."""
    s = np.asarray(spins)
    if s.ndim != 3:
        raise IsingRGError(f"spins must be shaped (n, L, L), got {s.shape}")
    return ((s.reshape(s.shape[0], -1).astype(dtype) + 1) * 0.5).astype(dtype, copy=False)


def analysis_subset(n_samples: int, n_analysis: int | None) -> np.ndarray:
    """Indices of ``min(n_analysis, n_samples)`` samples evenly spaced over the whole run.

    Evenly spaced (not random) so the subset keeps sampling order and spans the whole chain.
    """
    if n_analysis is None or n_analysis >= n_samples:
        return np.arange(n_samples)
    if n_analysis < 2:
        raise IsingRGError(f"need at least 2 samples for the analysis, got {n_analysis}")
    return np.unique(np.round(np.linspace(0, n_samples - 1, n_analysis)).astype(np.int64))

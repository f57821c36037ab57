"""Block-spin correspondence: does a unit's activation follow the block spin under its field?

A unit a of layer l (block size b = 2^l) is compared with the block variable of a b x b window:
the majority-rule spin (seeded ties) or the block magnetization, of the window centred on the
unit's receptive-field centroid (``ising_rg.rg.shape.periodic_centroid``) or of the aligned
Kadanoff block containing it. The chance level places the windows at random. Lattices are
periodic L x L; activations are P(h=1|v) over the data, shaped (n_samples, n_units).
"""

from __future__ import annotations

import numpy as np

from ising_rg.errors import IsingRGError
from ising_rg.rg.kadanoff import window_block_spins
from ising_rg.seeding import SeedLike, as_generator


def centred_window_corners(centroids: np.ndarray, block_size: int, size: int) -> np.ndarray:
    """Top-left corners of the b x b windows centred (to the nearest site) on the centroids.

    corner = floor(c - (b - 1)/2 + 1/2) mod L per axis, so the window {corner, ..., corner+b-1}
    has its centre (corner + (b-1)/2) within 1/2 of c. Shape (n_units, 2), int.
    """
    c = np.asarray(centroids, dtype=np.float64)
    return (np.floor(c - 0.5 * (block_size - 1) + 0.5).astype(np.int64)) % size


def aligned_block_corners(centroids: np.ndarray, block_size: int, size: int) -> np.ndarray:
    """Top-left corners of the aligned Kadanoff blocks (corners at multiples of b) containing
    the centroids. Shape (n_units, 2), int."""
    c = np.asarray(centroids, dtype=np.float64)
    return (block_size * np.floor(c / block_size).astype(np.int64)) % size


def column_correlations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of matching columns of a and b (both (n_samples, k)) -> (k,).

    NaN where either column is constant (the correlation is undefined).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    norm = np.sqrt(np.sum(a * a, axis=0) * np.sum(b * b, axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, np.sum(a * b, axis=0) / np.where(norm > 0, norm, 1.0), np.nan)


def window_correlations(
    activations: np.ndarray, window_spins: np.ndarray, corners: np.ndarray
) -> np.ndarray:
    """|corr| over samples between unit a's activation and the block spin at ``corners[a]``.

    Parameters
    ----------
    activations : ndarray, shape (n_samples, n_units), P(h=1|v)
    window_spins : ndarray, shape (n_samples, L, L), block spin of the window at each corner
        (``window_majority_spins``)
    corners : int ndarray, shape (n_units, 2) or (n_units, n_draws, 2)

    Returns
    -------
    float64 array, shape (n_units,) (averaged over draws if given), NaN if undefined.
    """
    corners = np.asarray(corners)
    if corners.ndim == 2:
        corners = corners[:, np.newaxis, :]
    n_units, n_draws, _ = corners.shape
    act = np.asarray(activations)
    if act.shape[1] != n_units:
        raise IsingRGError(f"{act.shape[1]} activation columns for {n_units} units")
    corr = np.empty((n_units, n_draws))
    for draw in range(n_draws):  # one (n_samples, n_units) gather at a time bounds the memory
        spins_at = window_spins[:, corners[:, draw, 0], corners[:, draw, 1]]
        corr[:, draw] = np.abs(column_correlations(act, spins_at))
    return corr.mean(axis=1)


def block_spin_correlation(
    activations: np.ndarray,
    spins: np.ndarray,
    centroids: np.ndarray,
    block_size: int,
    *,
    seed: SeedLike = 0,
    aligned: bool = False,
    rule: str = "majority",
    window_spins: np.ndarray | None = None,
) -> np.ndarray:
    """|Pearson correlation| over data between each unit's activation and its block spin.

    The block spin is the majority-rule spin (``window_majority_spins``, seeded ties; or the
    block magnetization with ``rule="mean"``, see ``window_block_spins``) of the b x b window
    centred on the unit's receptive-field centroid (``aligned=False``, default), or of the
    aligned Kadanoff block containing the centroid (``aligned=True``). The centred window is the
    default because a network has no reason to place its units on the multiples of b; a perfect
    block-spin unit sitting on a block corner would score only ~0.5 when aligned.
    The absolute value is taken because the sign of a learned unit is arbitrary.

    Parameters
    ----------
    activations : ndarray, shape (n_samples, n_units), P(h=1|v) of the units over the data
    spins : ndarray, shape (n_samples, L, L), the same data as spins
    centroids : ndarray, shape (n_units, 2), e.g. ``periodic_centroid(receptive_fields)``
    block_size : int
        b (b_l = 2^l for layer l)
    seed : int, tie-breaking seed (ignored if window_spins is given)
    rule : "majority" or "mean" (ignored if window_spins is given)
    window_spins : ndarray, shape (n_samples, L, L), optional precomputed
        ``window_block_spins(spins, block_size, rule, seed)``

    Returns
    -------
    float64 array, shape (n_units,), in [0, 1] (NaN where a unit's activation is constant).
    """
    size = int(np.shape(spins)[-1])
    if window_spins is None:
        window_spins = window_block_spins(spins, block_size, rule, seed)
    corner_fn = aligned_block_corners if aligned else centred_window_corners
    return window_correlations(activations, window_spins, corner_fn(centroids, block_size, size))


def block_spin_correlation_chance(
    activations: np.ndarray,
    spins: np.ndarray,
    block_size: int,
    *,
    seed: SeedLike = 0,
    n_draws: int = 8,
    rule: str = "majority",
    window_spins: np.ndarray | None = None,
) -> np.ndarray:
    """Chance level of ``block_spin_correlation``: the same |corr| with each unit assigned
    ``n_draws`` b x b windows at uniformly random positions (seeded), averaged over the draws.

    A random block (rather than activations shuffled across samples, which gives ~1/sqrt(n))
    keeps the unit's activation statistics and the data's own spatial correlations, so it
    answers "is the unit tied to *its* block, more than to any block?". Random positions
    include, rarely, ones near the unit's own block; that is part of chance.

    Returns
    -------
    float64 array, shape (n_units,).
    """
    size = int(np.shape(spins)[-1])
    n_units = np.shape(activations)[1]
    if window_spins is None:
        window_spins = window_block_spins(spins, block_size, rule, seed)
    corners = as_generator(seed).integers(0, size, size=(n_units, n_draws, 2))
    return window_correlations(activations, window_spins, corners)

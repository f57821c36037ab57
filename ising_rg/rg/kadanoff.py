"""Kadanoff's block spins and ideal block units: the references of the RG analysis.

Block spins: majority-rule coarse-graining of periodic Ising configurations.

Conventions (``docs/formats.md``): spins in {-1, +1}, arrays shaped (n_samples, L, L),
row-major, periodic boundaries. A block of size b covers b x b sites; the *aligned* blocks of a
lattice are the (L/b)^2 blocks whose top-left corners sit at multiples of b.

Tie rule (even b only, where a block can sum to zero): every block gets its own fair coin,
+1 or -1 with probability 1/2. The coins are drawn as one array shaped like the output,
``as_generator(seed).integers(0, 2, size=output_shape)`` (PCG64), and used only where the
block sum is zero; so the tie-break of a given block depends on (seed, position) alone,
not on how many other blocks happened to tie.

Ideal Kadanoff units
--------------------
A Kadanoff unit of block size b reads one aligned b x b block of the L x L lattice (corners at
multiples of b; (L/b)^2 units, unit I * (L/b) + J on block (I, J)). Two rules:

* ``majority``: activation (1 + s_B) / 2 in {0, 1}, s_B the majority-rule spin of the block
  (ties, possible for even b, broken by seeded coins: ``window_block_spins`` at the aligned
  corners, so that, given the same tie seed, the unit *is* the block spin that
  ``block_spin_correlation`` compares with);
* ``average``: activation (1 + m_B) / 2 = the mean of v = (s + 1) / 2 over the block, m_B the
  block magnetization.

Their fields, one per kind of field the analysis measures (``ising_rg.rg.receptive_fields``):

* weight product and mean Jacobian: the uniform b x b block (``block_fields``). For the
  average unit both are exact (it is linear in v, dh/dv_x = 1/b^2 on its block); the majority
  unit is not differentiable, and is given the same uniform field, the one its block symmetry
  suggests. Only the amplitude is a convention (every shape metric is scale-free; the count of
  sites above a noise level is not, see ``ising_rg.rg.analysis``);
* activation-weighted: computed from the data and the activations like any unit's
  (``activation_weighted_fields``), so it is broadened by the data's correlations.

Known answers for the block fields: participation ratio b^2, radius of gyration
sqrt((b^2 - 1)/6), locality 1, half-weight radius sqrt(2)/2, sqrt(10)/2, (sqrt(34) +
sqrt(50))/4 for b = 2, 4, 8; and, since a block-spin map keeps the physical correlation
length, the units' correlation length xi_h equals the spins' xi in original lattice spacings
(tests/test_correlation.py, tests/test_references.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ising_rg.checks import check_choice, check_integer
from ising_rg.errors import IsingRGError
from ising_rg.sampling.observables import binned_error, energy_per_spin, magnetization_per_spin
from ising_rg.seeding import SeedLike, as_generator, seed_sequence
from ising_rg.spins import as_spin_batch

__all__ = [
    "KADANOFF_RULES",
    "KadanoffUnits",
    "block_fields",
    "block_spin_hierarchy",
    "coarse_grained_observables",
    "kadanoff_units",
    "majority_block_spins",
    "periodic_window_sums",
    "window_block_spins",
    "window_majority_spins",
]


def _check_block_size(size: int, block_size: int) -> None:
    if size % check_integer(block_size, "block size", 1):
        raise IsingRGError(f"lattice size {size} is not divisible by block size {block_size}")


def _break_ties(block_sums: np.ndarray, seed: SeedLike) -> np.ndarray:
    """Sign of the block sums as int8, zero sums replaced by seeded fair coins (module doc)."""
    out = np.sign(block_sums).astype(np.int8)
    ties = block_sums == 0
    if ties.any():
        coins = as_generator(seed).integers(0, 2, size=out.shape, dtype=np.int8)
        out[ties] = 2 * coins[ties] - 1
    return out


def periodic_window_sums(array: np.ndarray, block_size: int) -> np.ndarray:
    """Sum over every b x b window of a periodic lattice, at every offset.

    ``out[..., i, j] = sum_{0 <= di, dj < b} array[..., (i + di) % L1, (j + dj) % L2]``, i.e. the
    window whose top-left corner is (i, j). Computed separably with a cumulative sum on the array
    extended by b - 1 wrapped rows/columns: O(1) work per site whatever b is.

    Parameters
    ----------
    array : ndarray, shape (..., L1, L2)
        Integer or float field on the torus (ints are summed in int64, floats in float64).
    block_size : int
        Window side b, 1 <= b <= min(L1, L2).

    Returns
    -------
    ndarray, shape (..., L1, L2)
    """
    a = np.asarray(array)
    b = int(block_size)
    if b < 1 or b > min(a.shape[-2:]):
        raise IsingRGError(f"window size {b} must lie between 1 and the lattice size {a.shape[-1]}")
    dtype = np.int64 if np.issubdtype(a.dtype, np.integer) else np.float64
    out = a.astype(dtype, copy=False)
    for axis in (-2, -1):
        size = out.shape[axis]
        wrapped = np.concatenate([out, np.take(out, np.arange(b - 1), axis=axis)], axis=axis)
        csum = np.cumsum(wrapped, axis=axis, dtype=dtype)
        pad = [(0, 0)] * csum.ndim
        pad[axis] = (1, 0)
        csum = np.pad(csum, pad)
        upper = np.take(csum, np.arange(b, b + size), axis=axis)
        lower = np.take(csum, np.arange(size), axis=axis)
        out = upper - lower
    return out


def majority_block_spins(spins: np.ndarray, block_size: int = 2, seed: SeedLike = 0) -> np.ndarray:
    """Majority-rule block spins of the aligned b x b blocks.

    Parameters
    ----------
    spins : ndarray, shape (n, L, L) or (L, L), values in {-1, +1}
    block_size : int
        b; L must be divisible by b.
    seed : int or SeedSequence
        Seeds the tie-breaking coins (even b only; see the module docstring).

    Returns
    -------
    ndarray of int8, shape (n, L/b, L/b) (or (L/b, L/b) for a single configuration).
        ``out[k, I, J] = sign(sum of spins[k, b*I : b*I+b, b*J : b*J+b])``.
    """
    s, single = as_spin_batch(spins)
    n, size, _ = s.shape
    _check_block_size(size, block_size)
    m = size // block_size
    sums = s.reshape(n, m, block_size, m, block_size).sum(axis=(2, 4), dtype=np.int32)
    out = _break_ties(sums, seed)
    return out[0] if single else out


def window_majority_spins(spins: np.ndarray, block_size: int, seed: SeedLike = 0) -> np.ndarray:
    """Majority-rule spin of the b x b window at every offset (not only the aligned blocks).

    Used to compare a learned unit with the block spin of the block *centred* on it: a network
    has no reason to align its units with the multiples of b. Ties as in the module docstring
    (coins drawn over the full (n, L, L) output).

    Parameters
    ----------
    spins : ndarray, shape (n, L, L), values in {-1, +1}
    block_size : int
        b, 1 <= b <= L (L need not be divisible by b).
    seed : int or SeedSequence

    Returns
    -------
    ndarray of int8, shape (n, L, L): entry (k, i, j) is the majority spin of the window with
    top-left corner (i, j), periodic.
    """
    s, single = as_spin_batch(spins)
    out = _break_ties(periodic_window_sums(s, block_size), seed)
    return out[0] if single else out


def block_spin_hierarchy(
    spins: np.ndarray, block_size: int = 2, levels: int = 3, seed: SeedLike = 0
) -> list[np.ndarray]:
    """Repeated majority-rule blocking, Kadanoff style.

    Level l is obtained by blocking level l - 1 with b x b blocks, so level l has block spins of
    b^l x b^l original sites (note: repeated 2x2 majority is not the same map as one 4x4 majority).
    Each level uses its own tie-breaking stream, ``SeedSequence(seed).spawn(levels)[l - 1]``.

    Parameters
    ----------
    spins : ndarray, shape (n, L, L), values in {-1, +1}; L divisible by b^levels.
    block_size : int
    levels : int
    seed : int or SeedSequence

    Returns
    -------
    list of levels + 1 int8 arrays; entry l is shaped (n, L / b^l, L / b^l), entry 0 is the input.
    """
    s, single = as_spin_batch(spins)
    levels = check_integer(levels, "levels", 0)
    _check_block_size(s.shape[1], check_integer(block_size, "block size", 1) ** levels)
    hierarchy = [s]
    for child in seed_sequence(seed).spawn(levels):
        hierarchy.append(majority_block_spins(hierarchy[-1], block_size, seed=child))
    return [h[0] for h in hierarchy] if single else hierarchy


def coarse_grained_observables(
    spins: np.ndarray, block_size: int = 2, levels: int = 3, seed: SeedLike = 0
) -> list[dict]:
    """Energy and |m| per spin of the block-spin configurations at each level of the hierarchy.

    The coupling of a coarse lattice is not known (it is renormalized), so only the plain means
    are given, with blocking error bars (the samples are taken to be in sampling order).
    The nearest-neighbour correlation of level l is -energy_per_spin / 2.

    Returns
    -------
    list of dicts, one per level 0..levels::

        {"level": l, "size": L / b^l, "block_size": b^l,
         "energy_per_spin": {"mean", "error"}, "abs_magnetization": {"mean", "error"}}
    """
    out = []
    for level, config in enumerate(block_spin_hierarchy(spins, block_size, levels, seed)):
        config = config if config.ndim == 3 else config[np.newaxis]
        e = energy_per_spin(config)
        m = np.abs(magnetization_per_spin(config))
        out.append(
            {
                "level": level,
                "size": int(config.shape[-1]),
                "block_size": int(block_size**level),
                "energy_per_spin": {"mean": float(e.mean()), "error": binned_error(e)},
                "abs_magnetization": {"mean": float(m.mean()), "error": binned_error(m)},
            }
        )
    return out


def window_block_spins(
    spins: np.ndarray, block_size: int, rule: str = "majority", seed: SeedLike = 0
) -> np.ndarray:
    """Block variable of the b x b window at every corner, shape (n, L, L).

    ``rule="majority"``: majority-rule spin (``window_majority_spins``, seeded ties), int8.
    ``rule="mean"``: block magnetization (window sum / b^2), float64 — the linear block spin,
    free of the tie noise of even b (for independent spins and b = 2, 3/8 of the blocks tie and
    even a unit equal to the block sum correlates only 0.75 with the majority spin).
    """
    if check_choice(rule, "block-spin rule", ("majority", "mean")) == "majority":
        return window_majority_spins(spins, block_size, seed)
    return periodic_window_sums(np.asarray(spins), block_size) / block_size**2


KADANOFF_RULES = ("majority", "average")


@dataclass(frozen=True)
class KadanoffUnits:
    """Ideal Kadanoff units of one rule and block size on one data set.

    Attributes
    ----------
    rule : str
        ``"majority"`` or ``"average"``.
    block_size : int
        b.
    activations : float64 (n_samples, (L/b)^2)
        Activations in [0, 1] over the data.
    fields : float64 ((L/b)^2, L, L)
        Uniform blocks of amplitude 1 (the weight-product and Jacobian fields).
    """

    rule: str
    block_size: int
    activations: np.ndarray
    fields: np.ndarray


def block_fields(size: int, block_size: int, amplitude: float = 1.0) -> np.ndarray:
    """Uniform fields on the aligned b x b blocks, float64 ((L/b)^2, L, L).

    Unit I * (L/b) + J equals ``amplitude`` on rows I b .. I b + b - 1 and columns
    J b .. J b + b - 1, 0 elsewhere.
    """
    if block_size < 1 or size % block_size:
        raise IsingRGError(f"block size {block_size} must be >= 1 and divide L = {size}")
    n_side = size // block_size
    block_index = np.arange(size) // block_size  # which block row (column) each site is in
    unit_of_site = block_index[:, np.newaxis] * n_side + block_index[np.newaxis, :]
    fields = (np.arange(n_side * n_side)[:, np.newaxis, np.newaxis] == unit_of_site)
    return amplitude * fields.astype(np.float64)


def kadanoff_units(spins: np.ndarray, block_size: int, rule: str, *, seed: SeedLike = 0,
                   window_spins: np.ndarray | None = None) -> KadanoffUnits:
    """Ideal Kadanoff units of ``rule`` with b x b blocks on the configurations ``spins``.

    Parameters
    ----------
    spins : ndarray, shape (n, L, L), values in {-1, +1}
    block_size : int
        b; L must be divisible by b.
    rule : {"majority", "average"}
    seed : int or SeedSequence
        Tie-breaking coins of the majority rule (as ``window_block_spins(spins, b, "majority",
        seed)``); ignored for "average" and when ``window_spins`` is given.
    window_spins : ndarray, shape (n, L, L), optional
        Precomputed ``window_block_spins(spins, b, "majority" or "mean", seed)`` of the rule
        (block spin or block magnetization of the window at every corner).

    Returns
    -------
    KadanoffUnits
    """
    s, _ = as_spin_batch(spins)
    rule = check_choice(rule, "Kadanoff rule", KADANOFF_RULES)
    size = s.shape[1]
    fields = block_fields(size, block_size)
    if window_spins is None:
        window_spins = window_block_spins(s, block_size, "majority" if rule == "majority"
                                          else "mean", seed)
    window = np.asarray(window_spins)
    if window.shape != s.shape:
        raise IsingRGError(f"window spins must be shaped {s.shape}, got {window.shape}")
    corners = np.arange(0, size, block_size)
    blocks = window[:, corners[:, np.newaxis], corners[np.newaxis, :]]  # (n, L/b, L/b)
    activations = 0.5 * (1.0 + blocks.reshape(s.shape[0], -1).astype(np.float64))
    return KadanoffUnits(rule=rule, block_size=int(block_size), activations=activations,
                         fields=fields)

"""Ideal Kadanoff units: the known answers for every receptive-field and hidden-layer metric.

A Kadanoff unit of block size b reads one aligned b x b block of the L x L lattice (corners at
multiples of b; (L/b)^2 units, unit I * (L/b) + J on block (I, J)). Two rules:

* ``majority``: activation (1 + s_B) / 2 in {0, 1}, s_B the majority-rule spin of the block
  (ties, possible for even b, broken by seeded coins: ``ising_rg.rg.blockcorr.window_block_spins``
  at the aligned corners, so that, given the same tie seed, the unit *is* the block spin that
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

from ising_rg.checks import check_choice
from ising_rg.errors import IsingRGError
from ising_rg.rg.blockcorr import window_block_spins
from ising_rg.rg.blockspin import as_spin_batch
from ising_rg.seeding import SeedLike

__all__ = ["KADANOFF_RULES", "KadanoffUnits", "block_fields", "kadanoff_units"]

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

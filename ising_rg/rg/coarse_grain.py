"""Coarse-grainers behind one interface: spins (n, L, L) at level l -> (n, L/b, L/b) at l + 1.

Every coarse-grainer is a conditional law P(s' | s) that does not depend on the coupling of
the data, so each is an RG map that Monte Carlo RG can linearize (:mod:`ising_rg.rg.mcrg`):

* :class:`Majority`: the sign of each aligned b x b block sum; ties (even b) broken by a fair
  coin per block (:func:`ising_rg.rg.kadanoff.majority_block_spins`);
* :class:`Decimation`: the spin at the top-left corner of each block;
* :class:`DBNCoarseGrainer`: layer l + 1 of a trained deep belief network, sampled from
  P(h_(l+1) | h_l) given the state of layer l, each unit placed on its block site with its
  sign (:mod:`ising_rg.rg.placement`): a stochastic RG map, as in variational RG.

:func:`coarse_levels` applies one repeatedly, each level with its own random stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from ising_rg.checks import check_integer
from ising_rg.errors import IsingRGError
from ising_rg.rg.kadanoff import majority_block_spins
from ising_rg.rg.placement import LayerPlacement, place_units
from ising_rg.seeding import as_generator, bernoulli, seed_stream
from ising_rg.spins import as_spin_batch

__all__ = ["CoarseGrainer", "DBNCoarseGrainer", "Decimation", "Majority", "coarse_levels"]


@runtime_checkable
class CoarseGrainer(Protocol):
    """One step of a real-space RG map.

    Attributes
    ----------
    name : str
        'majority', 'decimation', 'dbn', ...
    block_size : int
        b of one step.
    """

    name: str
    block_size: int

    def coarse_grain(self, spins: np.ndarray, level: int,
                     rng: np.random.Generator) -> np.ndarray:
        """(n, L, L) int8 +-1 spins at level ``level`` -> (n, L/b, L/b) int8 +-1 at level + 1."""
        ...


def _spins_at(spins: np.ndarray, block_size: int) -> np.ndarray:
    s, single = as_spin_batch(spins)
    if single:
        raise IsingRGError(f"spins must be shaped (n, L, L), got {np.shape(spins)}")
    if s.shape[1] % block_size:
        raise IsingRGError(f"lattice size {s.shape[1]} is not divisible by block size "
                           f"{block_size}")
    return s


@dataclass(frozen=True)
class Majority:
    """Majority rule over aligned b x b blocks, ties broken by a fair coin per block."""

    block_size: int = 2
    name: str = "majority"

    def __post_init__(self) -> None:
        check_integer(self.block_size, "block size", 2)

    def coarse_grain(self, spins: np.ndarray, level: int,
                     rng: np.random.Generator) -> np.ndarray:
        """Majority spins, shape (n, L/b, L/b) int8; ``level`` plays no role."""
        check_integer(level, "level", 0)
        return majority_block_spins(_spins_at(spins, self.block_size), self.block_size,
                                    seed=rng)


@dataclass(frozen=True)
class Decimation:
    """Keep the spin at the top-left corner (b I, b J) of every b x b block."""

    block_size: int = 2
    name: str = "decimation"

    def __post_init__(self) -> None:
        check_integer(self.block_size, "block size", 2)

    def coarse_grain(self, spins: np.ndarray, level: int,
                     rng: np.random.Generator) -> np.ndarray:
        """Decimated spins, shape (n, L/b, L/b) int8; deterministic (``rng`` unused)."""
        check_integer(level, "level", 0)
        s = _spins_at(spins, self.block_size)
        return np.ascontiguousarray(s[:, :: self.block_size, :: self.block_size])


@dataclass(eq=False)
class DBNCoarseGrainer:
    """A trained DBN as a stochastic RG map, b = 2 per layer.

    Level l -> l + 1 (l = 0 .. n_layers - 1): the level-l spins are turned back into the
    binary states of layer l (level 0: the visible units v = (s + 1)/2; above: h_a =
    (sign_a s[site_a] + 1)/2, undoing the placement), layer l + 1 is sampled from
    P(h = 1 | layer l) = sigmoid(c + h_l W), and each of its units is written at its block
    site as sign * (2 h - 1). Chained over the levels this is the DBN's recognition pass
    (``DBN.sample_up``), binary at every layer.

    Parameters
    ----------
    dbn : fitted DBN (duck-typed: ``rbms_``, each with ``weights_``, ``hidden_bias_`` and
        ``transform``); layer l must have (L / 2^l)^2 units.
    reference_spins : ndarray (n, L, L)
        Configurations that fix the signs and measure the dead units.
    seed : int
        Seeds the locality chance level of the placement (not the sampling: that takes the
        ``rng`` of each call).

    Attributes
    ----------
    placements : list of LayerPlacement, layer 1 first
    info : dict, JSON-ready: ``{"layers": [placement.info(), ...]}``
    """

    dbn: object
    reference_spins: np.ndarray = field(repr=False)
    seed: int = 0
    name: str = "dbn"
    block_size: int = 2

    def __post_init__(self) -> None:
        check_integer(self.seed, "seed", 0)
        self.placements: list[LayerPlacement] = place_units(self.dbn, self.reference_spins,
                                                            self.seed)
        self.size = self.placements[0].size * 2
        self.info = {"layers": [p.info() for p in self.placements]}

    @property
    def n_levels(self) -> int:
        """Number of coarse-graining steps available (the network's layers)."""
        return len(self.placements)

    def coarse_grain(self, spins: np.ndarray, level: int,
                     rng: np.random.Generator) -> np.ndarray:
        """Sampled coarse spins of layer ``level + 1``, shape (n, L / 2^(level+1), ...) int8."""
        level = check_integer(level, "level", 0, self.n_levels - 1)
        expected = self.size // 2**level
        s = _spins_at(spins, 2)
        if s.shape[1] != expected:
            raise IsingRGError(f"level {level} spins of this network must be {expected}x"
                               f"{expected}, got {s.shape[1]}x{s.shape[2]}")
        n = s.shape[0]
        flat = s.reshape(n, -1)
        if level > 0:
            below = self.placements[level - 1]
            flat = flat[:, below.site] * below.sign
        state = ((flat.astype(np.float32) + 1.0) * 0.5).astype(np.float32)
        probability = self.dbn.rbms_[level].transform(state)
        hidden = bernoulli(probability, as_generator(rng), uniform_dtype=np.float32)
        placement = self.placements[level]
        out = np.empty((n, placement.size**2), dtype=np.int8)
        out[:, placement.site] = (2 * hidden.astype(np.int8) - 1) * placement.sign
        return out.reshape(n, placement.size, placement.size)


def coarse_levels(coarse_grainer: CoarseGrainer, spins: np.ndarray, n_levels: int,
                  seed: int = 0) -> list[np.ndarray]:
    """Levels 0 .. n_levels of repeated coarse-graining.

    Parameters
    ----------
    coarse_grainer : CoarseGrainer
    spins : ndarray, shape (n, L, L), values in {-1, +1}; L divisible by b^n_levels
    n_levels : int >= 0
        At most the coarse-grainer's ``n_levels`` attribute where it has one (a network's
        layers).
    seed : int
        Level l -> l + 1 draws from ``seed_stream(seed, l)``, so a level does not depend on
        how many levels are computed.

    Returns
    -------
    list of n_levels + 1 int8 arrays; entry l shaped (n, L / b^l, L / b^l), entry 0 the input.
    """
    if not isinstance(coarse_grainer, CoarseGrainer):
        raise IsingRGError(f"{coarse_grainer!r} is not a coarse-grainer (needs name, "
                           "block_size and coarse_grain)")
    n_levels = check_integer(n_levels, "n_levels", 0)
    seed = check_integer(seed, "seed", 0)
    s, single = as_spin_batch(spins)
    if single:
        raise IsingRGError(f"spins must be shaped (n, L, L), got {np.shape(spins)}")
    limit = getattr(coarse_grainer, "n_levels", None)
    if limit is not None and n_levels > limit:
        raise IsingRGError(f"{coarse_grainer.name} has {limit} levels (layers), asked for "
                           f"{n_levels}")
    b = coarse_grainer.block_size
    if s.shape[1] % b**n_levels:
        raise IsingRGError(f"lattice size {s.shape[1]} is not divisible by b^levels = "
                           f"{b}^{n_levels} = {b**n_levels} ({coarse_grainer.name})")
    levels = [s]
    for level in range(n_levels):
        rng = as_generator(seed_stream(seed, level))
        levels.append(coarse_grainer.coarse_grain(levels[-1], level, rng))
    return levels

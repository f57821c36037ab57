"""Place the units of a deep belief network's layers on block lattices, so their states are
coarse spins.

A network whose layer l has (L / 2^l)^2 units (the paper's 1600-400-100-25 on 40 x 40) can be
read as a coarse-graining with b = 2 per layer, once each unit has a block site and a sign:

* **site**: the optimal one-to-one assignment (``_assignment``, Hungarian method) of the
  units' receptive-field centroids to the centres of the (L / 2^l)^2 aligned blocks of side
  b_l = 2^l, minimizing the sum of squared periodic distances. Receptive fields are the
  paper's weight products r(l) = W(1) ... W(l) (:mod:`ising_rg.rg.receptive_fields`), taken
  over the live units of the layers below; centroids are periodic circular means
  (:func:`ising_rg.rg.shape.periodic_centroid`). Block (I, J) covers rows b I .. b I + b - 1
  and columns b J .. b J + b - 1; its centre is (b I + (b - 1)/2, b J + (b - 1)/2).
* **sign**: +1 if the unit's activation P(h = 1 | v) (probabilities propagated up) correlates
  non-negatively with the magnetization of its block over the reference configurations, -1
  otherwise; the coarse spin of the unit is sign * (2 h - 1).

What a placement cannot repair is reported, not hidden:

* **dead** units: mean activation over the reference data below 0.01 or above 0.99
  (:func:`ising_rg.rbm.trainer.dead_units`); their coarse spin is (nearly) constant;
* **non-local** units: the largest share of the field's squared weight inside any b_l x b_l
  window (``locality``) does not exceed the same share for the unit's own weights shuffled
  over the lattice (``locality_chance``, seeded): its field has no place (never flagged when
  b_l = L, where every field is inside the one window);
* **far** units: centroid farther than b_l from the centre of the block it was given;
* the correlation with the block magnetization (its magnitude says how well the unit follows
  its block; near 0 the sign is a coin).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ising_rg.errors import IsingRGError
from ising_rg.rbm.trainer import dead_units
from ising_rg.rg._assignment import optimal_assignment
from ising_rg.rg.receptive_fields import (
    lattice_size,
    layer_activations,
    spins_to_visible,
    weight_product_fields,
)
from ising_rg.rg.shape import locality, locality_chance, minimum_image, periodic_centroid
from ising_rg.seeding import seed_stream

__all__ = ["LayerPlacement", "block_lattice_sizes", "place_units"]


@dataclass
class LayerPlacement:
    """Where the units of one layer sit on its block lattice, and how well they fit there.

    Attributes
    ----------
    layer : int, 1-based
    block_size : int, b_l = 2^l in lattice spacings of level 0
    size : int, side m = L / b_l of the block lattice
    site : int64 (n_units,), flat block index I * m + J of each unit
    sign : int8 (n_units,), +1 or -1
    displacement : float64 (n_units,), periodic distance of the centroid from its block centre
    block_correlation : float64 (n_units,), Pearson correlation of the unit's activation with
        its block's magnetization over the reference spins, before the sign (NaN if constant)
    mean_activation : float64 (n_units,)
    dead, non_local, far : bool (n_units,)
    locality, locality_chance : float64 (n_units,)
    """

    layer: int
    block_size: int
    size: int
    site: np.ndarray
    sign: np.ndarray
    displacement: np.ndarray
    block_correlation: np.ndarray
    mean_activation: np.ndarray
    dead: np.ndarray
    non_local: np.ndarray
    far: np.ndarray
    locality: np.ndarray
    locality_chance: np.ndarray

    def info(self) -> dict:
        """JSON-ready summary: counts, unit lists and means (lengths in level-0 spacings)."""
        correlation = np.abs(self.block_correlation)
        n = self.site.size
        return {
            "layer": self.layer,
            "block_size": self.block_size,
            "size": self.size,
            "n_units": int(n),
            "dead_units": np.flatnonzero(self.dead).tolist(),
            "dead_fraction": float(self.dead.mean()),
            "non_local_units": np.flatnonzero(self.non_local).tolist(),
            "non_local_fraction": float(self.non_local.mean()),
            "far_units": np.flatnonzero(self.far).tolist(),
            "far_fraction": float(self.far.mean()),
            "locality": {"mean": float(self.locality.mean()),
                         "chance": float(self.locality_chance.mean())},
            "displacement": {"mean": float(self.displacement.mean()),
                             "max": float(self.displacement.max())},
            "abs_block_correlation": {"mean": float(np.nanmean(correlation))
                                      if np.any(np.isfinite(correlation)) else None,
                                      "min": float(np.nanmin(correlation))
                                      if np.any(np.isfinite(correlation)) else None},
            "negative_signs": int(np.sum(self.sign < 0)),
            "site_of_unit": self.site.tolist(),
            "sign": self.sign.tolist(),
        }


def block_lattice_sizes(dbn) -> tuple[int, list[int]]:
    """L and the block-lattice side m_l = L / 2^l of every layer; IsingRGError naming the first
    layer whose number of units is not m_l^2."""
    weights = [np.shape(rbm.weights_) for rbm in dbn.rbms_]
    size = lattice_size(weights[0][0])
    sides = []
    for layer, shape in enumerate(weights, start=1):
        b = 2**layer
        n_units = shape[1]
        if size % b:
            raise IsingRGError(f"layer {layer} ({n_units} units): L = {size} is not divisible "
                               f"by its block size b = {b}")
        side = size // b
        if n_units != side * side:
            raise IsingRGError(
                f"layer {layer} has {n_units} units, not the {side}x{side} = {side * side} "
                f"block lattice of b = {b} on the {size}x{size} lattice"
            )
        sides.append(side)
    return size, sides


def _block_centres(side: int, block_size: int) -> np.ndarray:
    index = np.arange(side) * block_size + 0.5 * (block_size - 1)
    rows, cols = np.meshgrid(index, index, indexing="ij")
    return np.stack([rows.ravel(), cols.ravel()], axis=1)


def _correlation(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Column-wise Pearson correlation of two (n, k) arrays (NaN where either is constant)."""
    xc = x - x.mean(axis=0)
    yc = y - y.mean(axis=0)
    denominator = np.sqrt((xc**2).sum(axis=0) * (yc**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (xc * yc).sum(axis=0) / denominator, np.nan)


def place_units(dbn, reference_spins: np.ndarray, seed: int = 0) -> list[LayerPlacement]:
    """Block site and sign of every unit of every layer of ``dbn`` (module docstring).

    Parameters
    ----------
    dbn : fitted DBN (duck-typed: ``rbms_`` with ``weights_`` and ``transform``)
        Layer l must have (L / 2^l)^2 units.
    reference_spins : ndarray, shape (n, L, L), values in {-1, +1}
        Configurations for the signs, the activations and the dead units.
    seed : int
        Seeds the shuffles of the locality chance level (stream (seed, layer)).

    Returns
    -------
    list of LayerPlacement, layer 1 first.
    """
    size, sides = block_lattice_sizes(dbn)
    spins = np.asarray(reference_spins)
    if spins.ndim != 3 or spins.shape[1:] != (size, size) or spins.shape[0] < 2:
        raise IsingRGError(f"reference spins must be shaped (n >= 2, {size}, {size}) for this "
                           f"network, got {spins.shape}")
    activations = [np.asarray(a, dtype=np.float64)
                   for a in layer_activations(dbn, spins_to_visible(spins))]
    means = [a.mean(axis=0) for a in activations]
    dead = [dead_units(m) for m in means]
    fields = weight_product_fields([rbm.weights_ for rbm in dbn.rbms_], size,
                                   live=[~d for d in dead])
    placements = []
    for layer, (side, field, activation) in enumerate(zip(sides, fields, activations,
                                                          strict=True), start=1):
        b = 2**layer
        offset = minimum_image(periodic_centroid(field)[:, np.newaxis, :]
                               - _block_centres(side, b)[np.newaxis, :, :], size)
        distance2 = np.sum(offset**2, axis=-1)  # (n_units, n_sites)
        site = optimal_assignment(distance2)
        displacement = np.sqrt(distance2[np.arange(site.size), site])
        n = spins.shape[0]
        block_magnetization = spins.reshape(n, side, b, side, b).sum(axis=(2, 4),
                                                                     dtype=np.int64)
        correlation = _correlation(activation,
                                   block_magnetization.reshape(n, -1)[:, site].astype(float))
        local = locality(field, b)
        chance = locality_chance(field, b, seed=seed_stream(seed, layer))
        placements.append(LayerPlacement(
            layer=layer, block_size=b, size=side, site=site,
            sign=np.where(correlation < 0, -1, 1).astype(np.int8),
            displacement=displacement, block_correlation=correlation,
            mean_activation=means[layer - 1], dead=dead[layer - 1],
            # a window as large as the lattice holds every field: no locality to measure
            non_local=(local <= chance) & (b < size), far=displacement > b,
            locality=local, locality_chance=chance,
        ))
    return placements

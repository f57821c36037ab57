"""Observables of RBM states read as spin configurations: the ``measure`` of a sampler.

:func:`ising_rg.rbm.tempering.parallel_tempering` records, besides the RBM's own free energy,
whatever a ``measure(v, rng) -> {name: (n,)}`` returns for its beta = 1 states v (binary, shape
(n, n_visible)). The RBM package knows nothing about lattices; these measures do:

* :func:`lattice_measure`: v is a configuration of an L x L torus (v = (s + 1) / 2, row-major):
  E/N (J = 1, :func:`ising_rg.sampling.observables.energy_per_spin`) and m.
* :func:`down_pass_measure`: v is a state of a DBN's top RBM; it is sent down the directed
  layers (``dbn.sample_down``, binary at every layer), the visible probabilities are
  binarised, and E/N and m are those of the resulting spins: what the DBN generates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ising_rg.checks import check_integer
from ising_rg.sampling.observables import energy_per_spin, magnetization_per_spin
from ising_rg.seeding import bernoulli

__all__ = ["Measure", "down_pass_measure", "lattice_measure"]

Measure = Callable[[np.ndarray, np.random.Generator], dict[str, np.ndarray]]


def lattice_measure(size: int) -> Measure:
    """Measure of visible states (n, L*L) on an L x L torus: ``energy_per_spin`` and
    ``magnetization`` (signed, per spin) of s = 2 v - 1, float64 (n,) each."""
    size = check_integer(size, "size", 2)

    def measure(v: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        spins = (2 * np.asarray(v).astype(np.int8) - 1).reshape(-1, size, size)
        return {"energy_per_spin": energy_per_spin(spins),
                "magnetization": magnetization_per_spin(spins)}

    return measure


def down_pass_measure(dbn: Any, size: int) -> Measure:
    """Measure for a DBN's top RBM (module docstring); the down pass and the binarisation
    draw from the measure's own random stream."""
    lattice = lattice_measure(size)

    def measure(v_top: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        visible = bernoulli(dbn.sample_down(v_top, rng), rng)
        return lattice(visible, rng)

    return measure

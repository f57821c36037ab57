"""What the DBN generates and reconstructs, and whether its generating chains converged.

* ``generative_quality``: E, |m|, C, chi and U4 of what the DBN generates at equilibrium (its
  top RBM's modes found and weighed, sampled by parallel tempering until converged, each state
  sent down the directed layers: ``ising_rg.diagnostics.equilibrium``) against the Monte Carlo
  data and exact values; the modes and their weights travel with the numbers.
* ``reconstruction_quality``: the same for data configurations sent up to each layer and back
  down (mean field, binarised).
* ``reconstruction_bound``: one-step stochastic reconstructions through the first RBM, what
  the DBN would generate if its upper layers modelled the first layer's hidden states
  perfectly (the bound on its generative quality).

The DBN is duck-typed as in ``ising_rg.rg.analysis``. Seeds are ``numpy.random.SeedSequence``
objects or integers handed in by the caller, so every random choice has its own stream.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ising_rg.diagnostics.equilibrium import rbm_equilibrium
from ising_rg.diagnostics.state_measures import down_pass_measure, lattice_measure
from ising_rg.errors import IsingRGError
from ising_rg.sampling.observables import (
    energy_per_spin,
    magnetization_per_spin,
    thermodynamics,
)
from ising_rg.seeding import as_generator, bernoulli, seed_stream
from ising_rg.spins import spins_to_visible

__all__ = [
    "THERMO_NAMES",
    "generative_quality",
    "reconstruction_bound",
    "reconstruction_quality",
]

THERMO_NAMES = (
    "energy_per_spin",
    "abs_magnetization",
    "specific_heat",
    "susceptibility",
    "binder_cumulant",
)
def _binarize(probabilities: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Sample v ~ Bernoulli(p) per unit and return spins (n, L, L) int8 (binary p unchanged)."""
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1, size, size)
    if np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise IsingRGError("the model returned visible probabilities outside [0, 1]")
    return 2 * bernoulli(p, rng, dtype=np.int8) - 1


def _thermo(spins: np.ndarray, coupling: float) -> dict[str, dict[str, float]]:
    n_sites = spins.shape[1] * spins.shape[2]
    return thermodynamics(energy_per_spin(spins), magnetization_per_spin(spins), coupling, n_sites)


def generative_quality(
    dbn,
    spins: np.ndarray,
    coupling: float,
    *,
    max_sweeps: int,
    exact: dict[str, float] | None,
    seed: int,
) -> dict[str, Any]:
    """What the DBN generates at equilibrium (binarised spins) against the Monte Carlo data
    and exact values.

    The DBN's generative model is an RBM over its top two layers with directed layers below:
    its equilibrium is sampled in the top RBM (``ising_rg.diagnostics.equilibrium``: its modes
    found and weighed, parallel tempering from all-up, all-down, data and random starts until
    rank R-hat < 1.01 and bulk ESS >= 400, or ``max_sweeps``), every state sent down the
    directed layers and binarised (``down_pass_measure``; for a one-layer DBN the top RBM's
    visible layer is the lattice).

    Parameters
    ----------
    dbn : trained DBN (``rbms_``, ``sample_up``, ``sample_down``)
    spins : ndarray, shape (n, L, L), {-1, +1}, the Monte Carlo data in sampling order
    coupling : float, K of the data (for C and chi)
    max_sweeps : int, the sampler's sweep budget
    exact : dict of exact per-spin values by name (missing names give None), or None
    seed : int, root of the sampler's streams

    Returns
    -------
    dict: per name in ``THERMO_NAMES`` {"dbn", "monte_carlo", "exact"} (each a {"mean",
    "error"} dict or a float; "dbn" None when there is no single equilibrium ensemble);
    ``converged``, ``rhat``, ``bulk_ess``, ``stopped``, ``n_sweeps``, ``modes``,
    ``ensemble_from``, ``sampler``, ``by_start``, ``log_z`` (of the top RBM, checked),
    ``n_samples`` (configurations in the ensemble).
    """
    size = spins.shape[-1]
    visible = spins_to_visible(spins)
    n_layers = len(dbn.rbms_)
    top_data = (visible if n_layers == 1
                else dbn.sample_up(visible, n_layers - 1, seed=seed_stream(seed, 2)))
    measure = lattice_measure(size) if n_layers == 1 else down_pass_measure(dbn, size)
    equilibrium = rbm_equilibrium(dbn.rbms_[-1], top_data, measure, coupling, size * size,
                                  seed=seed, max_sweeps=max_sweeps)
    monte_carlo = _thermo(spins, coupling)
    dbn_thermo = equilibrium["thermodynamics"] or {}
    exact = exact or {}
    generative: dict[str, Any] = {
        name: {"dbn": dbn_thermo.get(name), "monte_carlo": monte_carlo[name],
               "exact": exact.get(name)}
        for name in THERMO_NAMES
    }
    ensemble = equilibrium.pop("ensemble")
    generative.update(equilibrium)
    generative.pop("thermodynamics")
    generative["n_samples"] = 0 if ensemble is None else int(ensemble["energy_per_spin"].size)
    return generative


def reconstruction_quality(
    dbn, originals: np.ndarray, coupling: float, binarize_seeds: list[np.random.SeedSequence]
) -> dict[str, dict[str, Any]]:
    """Data -> layer depth -> back down, binarised, for every depth.

    Parameters
    ----------
    dbn : trained DBN with ``reconstruct(X, depth)`` and ``rbms_``
    originals : ndarray, shape (n, L, L), {-1, +1}, the data configurations to reconstruct
    coupling : float, K of the data
    binarize_seeds : one stream per depth (depth 1 first)

    Returns
    -------
    dict keyed by depth ("1", "2", ...): the thermodynamics of the reconstructions (as
    ``thermodynamics``), ``spin_agreement`` with the originals, ``mean_abs_error`` of the
    probabilities, ``n_samples``.
    """
    size = originals.shape[-1]
    original_visible = spins_to_visible(originals)
    reconstructions = {}
    for depth in range(1, len(dbn.rbms_) + 1):
        probabilities = np.asarray(dbn.reconstruct(original_visible, depth), dtype=np.float64)
        recon_spins = _binarize(probabilities, size, as_generator(binarize_seeds[depth - 1]))
        reconstructions[str(depth)] = {
            **_thermo(recon_spins, coupling),
            "spin_agreement": float(np.mean(recon_spins == originals)),
            "mean_abs_error": float(np.mean(np.abs(probabilities - original_visible))),
            "n_samples": int(recon_spins.shape[0]),
        }
    return reconstructions


def reconstruction_bound(rbm, visible: np.ndarray, coupling: float, size: int,
                         seed: Any = 0) -> dict[str, dict[str, float]]:
    """Thermodynamics of one-step stochastic reconstructions through the first RBM.

    h ~ P(h | v) and v' ~ P(v' | h), binary, for each data row v. If the layers above modelled
    the distribution of h (the data sampled up) exactly, the DBN would generate exactly these
    v': their E/N, |m|, C, chi are the best the DBN can generate with this first layer.

    Parameters
    ----------
    rbm : the first RBM (``transform``, ``propagate_down``)
    visible : ndarray, shape (n, L*L), {0, 1}, data rows (in sampling order)
    coupling : float, K (for C and chi)
    size : int, L
    seed : int, SeedSequence or Generator

    Returns
    -------
    dict: ``thermodynamics``'s entries of the reconstructions
    """
    rng = as_generator(seed)
    hidden = bernoulli(rbm.transform(visible), rng, uniform_dtype=np.float32)
    return _thermo(_binarize(rbm.propagate_down(hidden), size, rng), coupling)

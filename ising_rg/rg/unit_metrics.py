"""The metrics of one set of units of a layer, the same for a network's units and for ideal
Kadanoff units (``ising_rg.rg.baselines``).

For each kind of receptive field (``FIELD_KINDS``), over the units given: the size
(participation ratio, radius of gyration, half-weight radius, sites above a noise level),
locality, block-spin and block-average correlation with their chance levels, centroid coverage
and the correlation length of the units' activations binned by the fields' centroids, as the
JSON-ready entries of a layer in metrics.json (``unit_set_metrics``), measured against the
layer's data and block variables (``layer_context``). ``ising_rg.rg.analysis`` runs them layer by
layer.

Random streams: every random choice draws from ``seed_stream(seed, stream, layer)``
(:mod:`ising_rg.seeding`) with a fixed stream number per purpose, all numbered here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ising_rg import exact
from ising_rg.errors import IsingRGError
from ising_rg.estimators.correlation_length import CorrelationLength
from ising_rg.rg.block_correlation import block_spin_correlation, block_spin_correlation_chance
from ising_rg.rg.hidden_correlation import hidden_correlation_length
from ising_rg.rg.kadanoff import window_block_spins
from ising_rg.rg.shape import (
    best_window_fraction,
    centroid_coverage,
    half_weight_radius,
    local_units,
    locality_chance,
    participation_ratio,
    periodic_centroid,
    radius_of_gyration,
    sites_above,
)
from ising_rg.seeding import seed_stream

__all__ = [
    "CORRELATION_BLOCKS",
    "FIELD_KINDS",
    "correlation_entry",
    "onsager_xi",
    "layer_context",
    "mean_std",
    "unit_set_metrics",
]

# Stream numbers of the analysis' random choices, one per purpose (ising_rg.diagnostics.quality
# uses 7 and 8): ties, shuffles, random blocks and the locality null are drawn here, the others
# by ising_rg.rg.analysis and ising_rg.pipeline.
(STREAM_TIES, STREAM_SHUFFLE, STREAM_RANDOM_BLOCKS, STREAM_DBN_SAMPLE, STREAM_BINARIZE_SAMPLES,
 STREAM_BINARIZE_RECON, STREAM_COARSE) = range(7)
STREAM_LOCAL = 9

#: The kinds of receptive field, as keys of ``receptive_field_arrays`` and of each layer's
#: metrics (the first at the top level of a layer, the others under their own key).
FIELD_KINDS = ("weight_product", "activation_weighted", "jacobian")
#: Jackknife blocks of the correlation lengths (fewer if the data are short).
CORRELATION_BLOCKS = 32


def correlation_entry(length: CorrelationLength | None, exact_xi: float | None,
                      note: str | None = None, **extra: Any) -> dict[str, Any]:
    """The JSON entry of a correlation length: {mean, error, exact, method,
    finite_size_limited, plateau_reached, plateau, note, effective_mass, ...} (lattice
    spacings; ``note`` says why the entry is empty, when it is).

    No plateau, no number: without a window of agreeing effective masses (at least
    ``min_window`` = 3 separations) ``mean`` and ``error`` are null and ``note`` says so; the
    effective-mass curve (separation, 1/mu and its error) is kept either way, for the figures.
    ``extra`` entries (e.g. the units' binning) are added as they are.
    """
    if length is None:
        return {"mean": None, "error": None, "exact": exact_xi, "method": None,
                "finite_size_limited": None, "plateau_reached": None, "plateau": None,
                "note": note, "effective_mass": None, "without_kernels": None, **extra}
    mean, error = length.mean, length.error
    if note is None and math.isnan(mean):
        note = "no usable effective mass (relative error above the limit from the start)"
    elif note is None and math.isinf(mean):
        note = "no decay resolved on this torus (xi beyond the lattice)"
    elif note is None and not length.plateau_reached:
        note = "no plateau: the effective masses do not agree over 3 separations"
        mean = error = math.nan
    without = length.without_kernels
    return {"mean": mean, "error": error, "exact": exact_xi,
            "method": length.method, "finite_size_limited": length.finite_size_limited,
            "plateau_reached": length.plateau_reached,
            "plateau": None if length.plateau is None else list(length.plateau), "note": note,
            "effective_mass": {"separation": length.separation.tolist(),
                               "xi": length.effective_xi.tolist(),
                               "xi_error": length.effective_xi_error.tolist()},
            "without_kernels": None if without is None else {
                "mean": without["mean"], "error": without["error"],
                "plateau_reached": without["plateau_reached"]},
            **extra}


def onsager_xi(coupling: float) -> float | None:
    """Onsager's infinite-lattice xi at K, None where it diverges (K_c)."""
    value = float(exact.onsager_correlation_length(coupling))
    return value if math.isfinite(value) else None


def _unit_correlation_length(activations: np.ndarray, fields: np.ndarray, block_size: int,
                             coupling: float, kernels: np.ndarray) -> dict[str, Any]:
    """xi_h of the local units binned by ``fields``, read through their response ``kernels``
    (``hidden_correlation_length``), as a JSON entry; an empty entry with the reason where it
    cannot be measured (e.g. fewer than 4 x 4 bins, no local unit)."""
    exact_xi = onsager_xi(coupling)
    n_blocks = min(CORRELATION_BLOCKS, activations.shape[0] // 2)
    try:
        result = hidden_correlation_length(
            activations, fields, block_size, kernels=kernels,
            ordered=coupling > exact.critical_coupling(), n_blocks=n_blocks)
    except IsingRGError as error:
        return correlation_entry(None, exact_xi, str(error), units=None)
    return correlation_entry(result.length, exact_xi,
                             units={"used": result.n_units_used, "nonlocal": result.n_nonlocal,
                                    "given": result.n_units})


def _size_metrics(fields: np.ndarray, level: float | None) -> dict[str, Any]:
    """Participation ratio, radius of gyration, half-weight radius, sites above noise."""
    centroids = periodic_centroid(fields)
    above = (sites_above(fields, level) if level is not None and math.isfinite(level)
             else np.full(fields.shape[0], np.nan))
    return {
        "participation_ratio": mean_std(participation_ratio(fields)),
        "radius_of_gyration": mean_std(radius_of_gyration(fields, centroids)),
        "half_weight_radius": mean_std(half_weight_radius(fields, centroids)),
        "sites_above_noise": {**mean_std(above), "noise_level": level},
    }


def _field_metrics(
    fields: np.ndarray,
    activations: np.ndarray,
    context: dict[str, Any],
    level: float | None,
    chance_correlation: dict[str, float],
    kernels: np.ndarray,
) -> dict[str, Any]:
    """Every metric of one kind of field of a set of units (live units only)."""
    block_size, layer, seed = context["block_size"], context["layer"], context["seed"]
    size = fields.shape[-1]
    if fields.shape[0] == 0:  # no live unit: every statistic is undefined (None in JSON)
        nan = float("nan")
        return {
            **_size_metrics(fields, level),
            "locality": {"mean": nan, "std": nan, "chance": nan, "local_fraction": nan},
            "block_spin_correlation": {"mean": nan, "std": nan, "chance": nan, "aligned_mean": nan},
            "block_average_correlation": {"mean": nan, "std": nan, "chance": nan},
            "coverage": centroid_coverage(np.empty((0, 2)), size, block_size),
            "correlation_length": correlation_entry(None, onsager_xi(context["coupling"]),
                                                    "no live unit", units=None),
        }
    centroids = periodic_centroid(fields)
    locality_values, _ = best_window_fraction(fields, block_size)
    chance_locality = locality_chance(fields, block_size,
                                      seed=seed_stream(seed, STREAM_SHUFFLE, layer))
    is_local, _ = local_units(fields, block_size, seed=seed_stream(seed, STREAM_LOCAL, layer))

    def correlation(window: np.ndarray, aligned: bool = False) -> np.ndarray:
        return block_spin_correlation(activations, context["spins"], centroids, block_size,
                                      window_spins=window, aligned=aligned)

    return {
        **_size_metrics(fields, level),
        "locality": {**mean_std(locality_values), "chance": mean_std(chance_locality)["mean"],
                     # judged per unit against its own shuffles (sparsity kept, place not)
                     "local_fraction": float(np.mean(is_local))},
        "block_spin_correlation": {
            **mean_std(correlation(context["window_spins"])),
            "chance": chance_correlation["majority"],
            "aligned_mean": mean_std(correlation(context["window_spins"], True))["mean"],
        },
        # The same with the block magnetization (no tie noise).
        "block_average_correlation": {
            **mean_std(correlation(context["window_means"])),
            "chance": chance_correlation["mean"],
        },
        "coverage": centroid_coverage(centroids, size, block_size),
        "correlation_length": _unit_correlation_length(activations, fields, block_size,
                                                       context["coupling"], kernels),
    }


def unit_set_metrics(fields: dict[str, np.ndarray], activations: np.ndarray,
                      context: dict[str, Any],
                      levels: dict[str, float | None]) -> dict[str, Any]:
    """The metrics of every kind of field of one set of units: the weight-product ones at the
    top level, the others under their kind's name (the layout of a layer in metrics.json)."""
    block_size, layer, seed = context["block_size"], context["layer"], context["seed"]
    chance_correlation = {"majority": math.nan, "mean": math.nan}
    if activations.shape[1]:
        for name, window in (("majority", context["window_spins"]),
                             ("mean", context["window_means"])):
            # The same random blocks for either block variable (and every field kind).
            chance_correlation[name] = mean_std(block_spin_correlation_chance(
                activations, context["spins"], block_size,
                seed=seed_stream(seed, STREAM_RANDOM_BLOCKS, layer),
                n_draws=context["chance_draws"], window_spins=window))["mean"]
    # Every kind places and signs the units its own way; their response is the Jacobian.
    metrics = {kind: _field_metrics(fields[kind], activations, context, levels.get(kind),
                                    chance_correlation, fields["jacobian"])
               for kind in FIELD_KINDS}
    top = metrics.pop(FIELD_KINDS[0])
    return {**top, **metrics}


def layer_context(spins: np.ndarray, block_size: int, layer: int, coupling: float, *,
                   seed: int, chance_draws: int) -> dict[str, Any]:
    """What every unit set of a layer is measured against: the data subset and its block
    variables of the b x b window at every corner (majority with the layer's tie seed, and the
    block magnetization)."""
    return {
        "spins": spins,
        "window_spins": window_block_spins(spins, block_size, "majority",
                                           seed=seed_stream(seed, STREAM_TIES, layer)),
        "window_means": window_block_spins(spins, block_size, "mean"),
        "block_size": block_size,
        "layer": layer,
        "coupling": float(coupling),
        "seed": seed,
        "chance_draws": chance_draws,
    }


def mean_std(values: np.ndarray) -> dict[str, float]:
    """{"mean", "std"} of the finite entries (NaN if none)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"mean": float("nan"), "std": float("nan")}
    return {"mean": float(v.mean()), "std": float(v.std())}

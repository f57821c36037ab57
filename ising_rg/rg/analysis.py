"""The RG analysis of a trained DBN: every number behind results/metrics.json.

``analyze`` measures, per layer l (Kadanoff block size b_l = 2^l), the size, locality,
block-spin meaning and tiling of the receptive fields (both the paper's weight products and
activation-weighted averages over data), each beside its chance level, over *live* units;
and the thermodynamics of configurations generated or reconstructed by the DBN, against the
Monte Carlo data and (optionally) exact values (``ising_rg.rg.generative``). The metrics
themselves are in ``ising_rg.rg.shape`` (size, locality, tiling) and ``ising_rg.rg.blockcorr``
(block-spin correlation). ``receptive_field_arrays`` returns the fields for figures.

The DBN is duck-typed (see ising_rg.rg.receptive_fields): ``rbms_`` (each with ``weights_``,
``visible_bias_``, ``hidden_bias_``, ``transform``), ``reconstruct(X, depth)`` and
``sample(n_samples=, n_gibbs=, seed=)``.

Random streams: every random choice draws from ``seed_stream(seed, stream, layer)`` =
``SeedSequence(seed, spawn_key=(stream, layer))`` (:mod:`ising_rg.seeding`) with a fixed stream
number per purpose (below), so results do not depend on evaluation order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ising_rg.checks import check_integer
from ising_rg.errors import IsingRGError
from ising_rg.io.jsonfile import to_json
from ising_rg.rbm.trainer import DEAD_ACTIVATION_BOUNDS
from ising_rg.rg.blockcorr import (
    block_spin_correlation,
    block_spin_correlation_chance,
    window_block_spins,
)
from ising_rg.rg.blockspin import as_spin_batch, coarse_grained_observables
from ising_rg.rg.generative import generative_quality, reconstruction_quality
from ising_rg.rg.receptive_fields import (
    activation_weighted_fields,
    lattice_size,
    layer_activations,
    spins_to_visible,
    weight_product_fields,
)
from ising_rg.rg.shape import (
    best_window_fraction,
    centroid_coverage,
    dead_units,
    locality_chance,
    participation_ratio,
    periodic_centroid,
    radius_of_gyration,
)
from ising_rg.sampling.observables import correlation_length
from ising_rg.seeding import seed_stream

# Stream numbers of the random choices (see module docstring; ising_rg.rg.quality uses 7).
_TIES, _SHUFFLE, _RANDOM_BLOCKS, _DBN_SAMPLE, _BINARIZE_SAMPLES, _BINARIZE_RECON, _COARSE = range(7)

N_ANALYSIS = 5000  # evenly spaced data samples for the receptive-field and correlation metrics


def analysis_subset(n_samples: int, n_analysis: int | None) -> np.ndarray:
    """Indices of ``min(n_analysis, n_samples)`` samples evenly spaced over the whole run.

    Evenly spaced (not random) so the subset keeps sampling order and spans the whole chain.
    """
    if n_analysis is None or n_analysis >= n_samples:
        return np.arange(n_samples)
    if n_analysis < 2:
        raise IsingRGError(f"need at least 2 samples for the analysis, got {n_analysis}")
    return np.unique(np.round(np.linspace(0, n_samples - 1, n_analysis)).astype(np.int64))


def layer_block_sizes(n_layers: int, size: int) -> list[int]:
    """Kadanoff block size of each layer, b_l = 2^l (capped at the lattice size L)."""
    return [min(2**layer, size) for layer in range(1, n_layers + 1)]


def _check_inputs(dbn, spins: np.ndarray) -> tuple[np.ndarray, int]:
    s, single = as_spin_batch(spins)
    if single or s.shape[0] < 2:
        raise IsingRGError("the analysis needs at least 2 configurations shaped (n, L, L)")
    rbms = getattr(dbn, "rbms_", None)
    if not rbms:
        raise IsingRGError("the model has no trained layers")
    n_visible = np.shape(rbms[0].weights_)[0]
    size = lattice_size(n_visible)
    if size != s.shape[1]:
        raise IsingRGError(
            f"the model expects {size}x{size} configurations, the data are "
            f"{s.shape[1]}x{s.shape[2]}"
        )
    return s, size


def receptive_field_arrays(
    dbn, spins: np.ndarray, *, n_analysis: int | None = N_ANALYSIS
) -> dict[str, Any]:
    """Receptive fields and unit statistics of every layer, as arrays (for figures and files).

    Parameters
    ----------
    dbn : trained DBN (duck-typed, module docstring)
    spins : ndarray, shape (n, L, L), values in {-1, +1}
    n_analysis : int or None
        Number of evenly spaced samples used for data-driven quantities (None: all).

    Returns
    -------
    dict with lists indexed by layer - 1:
        ``weight_product``: float64 (n_l, L, L), the paper's r(l) = W(1)...W(l);
        ``activation_weighted``: float64 (n_l, L, L), <v | h_a> - <v> in {0,1} units;
        ``mean_activation``: float64 (n_l,), mean P(h=1|v) over the data;
        ``live``: bool (n_l,), not dead (mean activation within [0.01, 0.99]);
        ``centroids``, ``activation_weighted_centroids``: float64 (n_l, 2), (row, col);
        ``block_size``: int b_l;
    and ``n_analysed`` (int), ``activations`` (list of (n_analysed, n_l) P(h=1|v)) and
    ``spins`` (the int8 (n_analysed, L, L) subset they were computed on).
    """
    s, size = _check_inputs(dbn, spins)
    subset = s[analysis_subset(s.shape[0], n_analysis)]
    visible = spins_to_visible(subset)
    activations = layer_activations(dbn, visible)
    weight_fields = weight_product_fields([rbm.weights_ for rbm in dbn.rbms_], size)
    weighted_fields = [activation_weighted_fields(visible, h, size) for h in activations]
    mean_activation = [np.asarray(h, dtype=np.float64).mean(axis=0) for h in activations]
    return {
        "weight_product": weight_fields,
        "activation_weighted": weighted_fields,
        "mean_activation": mean_activation,
        "live": [~dead_units(m) for m in mean_activation],
        "centroids": [periodic_centroid(f) for f in weight_fields],
        "activation_weighted_centroids": [periodic_centroid(f) for f in weighted_fields],
        "block_size": layer_block_sizes(len(weight_fields), size),
        "n_analysed": int(subset.shape[0]),
        "activations": activations,
        "spins": subset,
    }


def _field_metrics(
    fields: np.ndarray,
    activations: np.ndarray,
    spins: np.ndarray,
    window_spins: np.ndarray,
    window_means: np.ndarray,
    block_size: int,
    *,
    seed: int,
    layer: int,
    chance_draws: int,
) -> dict[str, Any]:
    """Size, locality, block-spin correlation and coverage of one layer's (live) fields."""
    size = fields.shape[-1]
    if fields.shape[0] == 0:  # no live unit: every statistic is undefined (None in JSON)
        nan = float("nan")
        return {
            "participation_ratio": {"mean": nan, "std": nan},
            "radius_of_gyration": {"mean": nan, "std": nan},
            "locality": {"mean": nan, "std": nan, "chance": nan},
            "block_spin_correlation": {"mean": nan, "std": nan, "chance": nan, "aligned_mean": nan},
            "block_average_correlation": {"mean": nan, "std": nan, "chance": nan},
            "coverage": centroid_coverage(np.empty((0, 2)), size, block_size),
        }
    centroids = periodic_centroid(fields)
    locality_values, _ = best_window_fraction(fields, block_size)
    chance_locality = locality_chance(fields, block_size, seed=seed_stream(seed, _SHUFFLE, layer))

    def chance(window: np.ndarray) -> np.ndarray:  # the same random blocks for any block spin
        return block_spin_correlation_chance(
            activations, spins, block_size, seed=seed_stream(seed, _RANDOM_BLOCKS, layer),
            n_draws=chance_draws, window_spins=window)

    correlation = block_spin_correlation(
        activations, spins, centroids, block_size, window_spins=window_spins
    )
    aligned = block_spin_correlation(
        activations, spins, centroids, block_size, window_spins=window_spins, aligned=True
    )
    chance_correlation = chance(window_spins)
    # The same with the block magnetization (no tie noise).
    average = block_spin_correlation(
        activations, spins, centroids, block_size, window_spins=window_means
    )
    chance_average = chance(window_means)
    return {
        "participation_ratio": mean_std(participation_ratio(fields)),
        "radius_of_gyration": mean_std(radius_of_gyration(fields, centroids)),
        "locality": {**mean_std(locality_values), "chance": mean_std(chance_locality)["mean"]},
        "block_spin_correlation": {
            **mean_std(correlation),
            "chance": mean_std(chance_correlation)["mean"],
            "aligned_mean": mean_std(aligned)["mean"],
        },
        "block_average_correlation": {
            **mean_std(average),
            "chance": mean_std(chance_average)["mean"],
        },
        "coverage": centroid_coverage(centroids, size, block_size),
    }


def _kadanoff_reference(
    spins: np.ndarray, block_size: int, window_spins: np.ndarray, window_means: np.ndarray
) -> dict[str, Any]:
    """What ideal Kadanoff units score on the same data: the targets for a layer's metrics.

    Ideal unit = aligned b x b block, weight field uniform on it (PR = b^2,
    Rg = sqrt((b^2 - 1)/6), locality 1), activation (1 + block magnetization) / 2. Its
    block-spin correlation (majority rule) is below 1 through tie noise, and its
    activation-weighted field is broadened by the data's correlation length: compare a layer's
    ``block_spin_correlation`` and ``activation_weighted`` metrics with these, not with 1 and b^2
    (a reference, not a ceiling: a unit with a sharper nonlinearity tracks the majority better).
    Data-driven entries are None when b does not divide L.
    """
    size = spins.shape[-1]
    reference: dict[str, Any] = {
        "participation_ratio": float(block_size**2),
        "radius_of_gyration": math.sqrt((block_size**2 - 1) / 6.0),
        "locality": 1.0,
        "block_spin_correlation": None,
        "block_average_correlation": 1.0,
        "activation_weighted": None,
    }
    if size % block_size:
        return reference
    corners = np.arange(0, size, block_size)
    rows, cols = np.meshgrid(corners, corners, indexing="ij")
    rows, cols = rows.ravel(), cols.ravel()
    activations = 0.5 * (1.0 + window_means[:, rows, cols])  # (n, (L/b)^2)
    centroids = np.column_stack([rows, cols]) + 0.5 * (block_size - 1)
    correlation = block_spin_correlation(
        activations, spins, centroids, block_size, window_spins=window_spins
    )
    fields = activation_weighted_fields(spins_to_visible(spins), activations, size)
    reference["block_spin_correlation"] = mean_std(correlation)["mean"]
    reference["activation_weighted"] = {
        "participation_ratio": mean_std(participation_ratio(fields))["mean"],
        "radius_of_gyration": mean_std(radius_of_gyration(fields))["mean"],
        "locality": mean_std(best_window_fraction(fields, block_size)[0])["mean"],
    }
    return reference


def analyze(
    dbn,
    spins: np.ndarray,
    coupling: float,
    *,
    seed: int = 0,
    n_generative: int = 2000,
    exact: dict[str, float] | None = None,
    n_analysis: int | None = N_ANALYSIS,
    n_gibbs: int = 1000,
    chance_draws: int = 8,
    fields: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Measure whether a trained DBN does block-spin RG; a JSON-ready dict.

    Parameters
    ----------
    dbn : trained DBN (duck-typed, module docstring), visible layer L*L
    spins : ndarray, shape (n, L, L), {-1, +1}, the Monte Carlo data in sampling order
    coupling : float
        K = J / k_B T of the data (for C and chi of the generated configurations).
    seed : int
        Root of all random streams (ties, shuffles, random blocks, DBN sampling, binarization).
    n_generative : int
        Number of DBN samples, and of data configurations reconstructed per depth.
    exact : dict, optional
        Exact reference values, e.g. {"energy_per_spin": .., "specific_heat": ..} (per spin);
        missing names are reported as None.
    n_analysis : int or None
        Evenly spaced data samples used for the receptive-field and correlation metrics
        (activations, activation-weighted fields, block spins); None uses all. The Monte Carlo
        thermodynamics and correlation length always use all samples.
    n_gibbs : int
        Gibbs steps of the DBN's generative chains (started by the DBN itself, not from data,
        so the samples show the model's distribution rather than the data's).
    chance_draws : int
        Random blocks per unit for the block-spin chance level.
    fields : dict, optional
        ``receptive_field_arrays(dbn, spins, n_analysis=n_analysis)`` if the caller already
        has it (it needs the fields too); computed here otherwise.

    Returns
    -------
    dict with "layers" (one entry per layer), "generative", "data" and "settings"; plain
    floats/ints/lists/None only (NaN and inf become None). See the package report for a
    compact example.
    """
    s, size = _check_inputs(dbn, spins)
    check_integer(n_generative, "n_generative", 2)
    arrays = fields if fields is not None else receptive_field_arrays(dbn, s, n_analysis=n_analysis)
    layers = [_layer_metrics(arrays, index, seed=seed, chance_draws=chance_draws)
              for index in range(1, len(arrays["block_size"]) + 1)]
    generative = generative_quality(
        dbn, s, coupling, n_generative=n_generative, n_gibbs=n_gibbs, exact=exact,
        sample_seed=seed_stream(seed, _DBN_SAMPLE),
        binarize_seed=seed_stream(seed, _BINARIZE_SAMPLES))
    # Reconstructions: data -> layer depth -> back down, from evenly spaced data configurations.
    generative["reconstructions"] = reconstruction_quality(
        dbn, s[analysis_subset(s.shape[0], n_generative)], coupling,
        [seed_stream(seed, _BINARIZE_RECON, depth) for depth in range(1, len(dbn.rbms_) + 1)])
    settings = {
        "seed": int(seed),
        "n_analysis": arrays["n_analysed"],
        "n_generative": int(n_generative),
        "n_gibbs": int(n_gibbs),
        "chance_draws": int(chance_draws),
        "dead_activation_bounds": list(DEAD_ACTIVATION_BOUNDS),
        "block_spin_window": "centred on the receptive-field centroid",
        "locality_chance": "pixel positions of each unit's field permuted",
        "block_spin_chance": "random block positions per unit",
    }
    return to_json({"layers": layers, "generative": generative,
                    "data": _data_summary(s, coupling, arrays, len(dbn.rbms_), seed),
                    "settings": settings})


def _layer_metrics(arrays: dict[str, Any], index: int, *, seed: int,
                   chance_draws: int) -> dict[str, Any]:
    """Every metric of layer ``index`` (from 1) over its live units, from
    ``receptive_field_arrays``: both kinds of fields, and the Kadanoff reference."""
    subset = arrays["spins"]
    block_size = arrays["block_size"][index - 1]
    live = arrays["live"][index - 1]
    window_spins = window_block_spins(
        subset, block_size, "majority", seed=seed_stream(seed, _TIES, index)
    )
    common = {
        "activations": arrays["activations"][index - 1][:, live],
        "spins": subset,
        "window_spins": window_spins,
        "window_means": window_block_spins(subset, block_size, "mean"),
        "block_size": block_size,
        "seed": seed,
        "chance_draws": chance_draws,
    }
    weight = _field_metrics(arrays["weight_product"][index - 1][live], layer=index, **common)
    weighted = _field_metrics(
        arrays["activation_weighted"][index - 1][live], layer=index, **common
    )
    return {
        "index": index,
        "n_units": int(live.size),
        "n_live": int(live.sum()),
        "block_size": int(block_size),
        "dead_fraction": float(1.0 - live.mean()),
        "mean_activation": mean_std(arrays["mean_activation"][index - 1]),
        "kadanoff_reference": _kadanoff_reference(
            subset, block_size, window_spins, common["window_means"]
        ),
        **weight,
        "activation_weighted": weighted,
    }


def _data_summary(spins: np.ndarray, coupling: float, arrays: dict[str, Any], n_layers: int,
                  seed: int) -> dict[str, Any]:
    """The Monte Carlo data: size, correlation length (all samples) and the block-spin
    observables of the analysed subset."""
    size = spins.shape[-1]
    xi, xi_error = correlation_length(spins)
    levels = max(lv for lv in range(n_layers + 1) if size % 2**lv == 0)
    return {
        "size": int(size),
        "coupling": float(coupling),
        "n_samples": int(spins.shape[0]),
        "n_analysed": arrays["n_analysed"],
        "correlation_length": xi,
        "correlation_length_error": xi_error,
        "block_spin": coarse_grained_observables(
            arrays["spins"], block_size=2, levels=levels, seed=seed_stream(seed, _COARSE)
        ),
    }


def mean_std(values: np.ndarray) -> dict[str, float]:
    """{"mean", "std"} of the finite entries (NaN if none)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"mean": float("nan"), "std": float("nan")}
    return {"mean": float(v.mean()), "std": float(v.std())}

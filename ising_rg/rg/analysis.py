"""The RG analysis of a trained DBN: the ``layers`` and ``data`` of results/metrics.json.

``analyze`` measures, per layer l (Kadanoff block size b_l = 2^l), over the layer's *live*
units, for each of three kinds of receptive field (``ising_rg.rg.receptive_fields``: the paper's
weight products, activation-weighted averages over data, and the data-averaged Jacobian
<dh_a/dv_x>): the size (participation ratio, radius of gyration, and two measures a weak
background cannot move: the half-weight radius and the number of sites above the untrained
network's noise level), locality, block-spin meaning and tiling of the fields, each beside its
chance level, and the correlation length of the units' activations binned by the fields'
centroids (``ising_rg.rg.hidden_correlation``); the same for ideal Kadanoff units (majority
rule and block average, ``ising_rg.rg.kadanoff``) on the same data through the same code, as
the layer's ``kadanoff_reference``; and the correlation length of the spins against the exact
one. The metrics themselves are in ``ising_rg.rg.shape`` (size, locality, tiling) and
``ising_rg.rg.block_correlation`` (block-spin correlation); a set of units is scored by
``ising_rg.rg.unit_metrics``, the Kadanoff reference and the untrained network's noise levels
come from ``ising_rg.rg.baselines``. ``receptive_field_arrays`` returns the fields for figures.
How well the network models the data (what it generates, its likelihood) is not RG: it is
``ising_rg.diagnostics``, and ``ising_rg.pipeline.measure_network`` puts both together.

The DBN is duck-typed (see ising_rg.rg.receptive_fields): ``rbms_`` (each with ``weights_``,
``visible_bias_``, ``hidden_bias_``, ``transform`` = the logistic sigmoid of the input
times the weights plus the hidden bias).

Random streams: every random choice draws from ``seed_stream(seed, stream, layer)`` =
``SeedSequence(seed, spawn_key=(stream, layer))`` (:mod:`ising_rg.seeding`) with a fixed stream
number per purpose (``ising_rg.rg.unit_metrics``), so results do not depend on evaluation
order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ising_rg import exact
from ising_rg.errors import IsingRGError
from ising_rg.estimators.correlation_length import wall_correlation_length
from ising_rg.io.jsonfile import to_json
from ising_rg.rbm.trainer import DEAD_ACTIVATION_BOUNDS, dead_units
from ising_rg.rg.baselines import (
    kadanoff_reference,
    noise_levels,
    untrained_counterpart,  # noqa: F401 (re-exported: callers import it from here)
)
from ising_rg.rg.kadanoff import coarse_grained_observables
from ising_rg.rg.receptive_fields import (
    activation_weighted_fields,
    layer_activations,
    mean_jacobian_fields,
    weight_product_fields,
)
from ising_rg.rg.unit_metrics import (
    CORRELATION_BLOCKS,
    FIELD_KINDS,
    STREAM_COARSE,
    correlation_entry,
    layer_context,
    mean_std,
    onsager_xi,
    unit_set_metrics,
)
from ising_rg.seeding import seed_stream
from ising_rg.settings import AnalysisOptions
from ising_rg.spins import analysis_subset, as_spin_batch, lattice_size, spins_to_visible

_DEFAULT = AnalysisOptions()


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
    dbn, spins: np.ndarray, *, n_analysis: int | None = _DEFAULT.analysis_samples
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
        ``weight_product``: float64 (n_l, L, L), the paper's r(l) = W(1)...W(l), the products
        running over the live units of the layers below;
        ``activation_weighted``: float64 (n_l, L, L), <v | h_a> - <v> in {0,1} units;
        ``jacobian``: float64 (n_l, L, L), <dh_a / dv_x> over the data (dead units of the
        layers below excluded from the chain rule);
        ``mean_activation``: float64 (n_l,), mean P(h=1|v) over the data;
        ``live``: bool (n_l,), not dead (mean activation within [0.01, 0.99]);
        ``block_size``: int b_l;
    and ``n_analysed`` (int), ``activations`` (list of (n_analysed, n_l) P(h=1|v)) and
    ``spins`` (the int8 (n_analysed, L, L) subset they were computed on).
    """
    s, size = _check_inputs(dbn, spins)
    subset = s[analysis_subset(s.shape[0], n_analysis)]
    visible = spins_to_visible(subset)
    activations = layer_activations(dbn, visible)
    mean_activation = [np.asarray(h, dtype=np.float64).mean(axis=0) for h in activations]
    live = [~dead_units(m) for m in mean_activation]
    weights = [rbm.weights_ for rbm in dbn.rbms_]
    return {
        "weight_product": weight_product_fields(weights, size, live),
        "activation_weighted": [activation_weighted_fields(visible, h, size)
                                for h in activations],
        "jacobian": mean_jacobian_fields(weights, activations, size, live),
        "mean_activation": mean_activation,
        "live": live,
        "block_size": layer_block_sizes(len(weights), size),
        "n_analysed": int(subset.shape[0]),
        "activations": activations,
        "spins": subset,
    }


def analyze(
    dbn,
    spins: np.ndarray,
    coupling: float,
    options: AnalysisOptions = _DEFAULT,
    *,
    fields: dict[str, Any] | None = None,
    untrained=None,
) -> dict[str, Any]:
    """Measure whether a trained DBN does block-spin RG; a JSON-ready dict.

    Parameters
    ----------
    dbn : trained DBN (duck-typed, module docstring), visible layer L*L
    spins : ndarray, shape (n, L, L), {-1, +1}, the Monte Carlo data in sampling order
    coupling : float
        K = J / k_B T of the data.
    options : :class:`~ising_rg.settings.AnalysisOptions`
        ``seed`` (root of all random streams: ties, shuffles, random blocks),
        ``analysis_samples`` (evenly spaced data samples used for the receptive-field and
        correlation metrics: activations, activation-weighted fields, block spins; None uses
        all; the spins' correlation length always uses all samples), ``chance_draws`` (random
        blocks per unit for the block-spin chance level); the generative budgets are only
        recorded in the settings (``ising_rg.pipeline.generative_block`` uses them).
    fields : dict, optional
        ``receptive_field_arrays(dbn, spins, n_analysis=options.analysis_samples)`` if the
        caller already has it (it needs the fields too); computed here otherwise.
    untrained : DBN, optional
        The untrained network of the same architecture and seed (``untrained_counterpart``):
        its fields on the same data give each layer's noise level for ``sites_above_noise``
        (null without it).

    Returns
    -------
    dict with "layers" (one entry per layer), "data" and "settings"; plain floats/ints/lists/
    None only (NaN and inf become None).
    """
    s, size = _check_inputs(dbn, spins)
    seed, chance_draws = options.seed, options.chance_draws
    arrays = (fields if fields is not None
              else receptive_field_arrays(dbn, s, n_analysis=options.analysis_samples))
    levels = None
    if untrained is not None:
        levels = noise_levels(receptive_field_arrays(untrained, arrays["spins"], n_analysis=None))
    layers = [_layer_metrics(arrays, index, coupling, levels, seed=seed,
                             chance_draws=chance_draws)
              for index in range(1, len(arrays["block_size"]) + 1)]
    settings = {
        "seed": int(seed),
        "analysis_samples": arrays["n_analysed"],
        "generative_samples": options.generative_samples,
        "gibbs_steps": options.gibbs_steps,
        "chance_draws": int(chance_draws),
        "dead_activation_bounds": list(DEAD_ACTIVATION_BOUNDS),
        "block_spin_window": "centred on the receptive-field centroid",
        "locality_chance": "pixel positions of each unit's field permuted",
        "block_spin_chance": "random block positions per unit",
        "noise_level": ("(1 - 1/L^2) quantile of r^2 over the untrained network's fields of "
                        "the same layer and kind" if levels is not None else None),
        "correlation_blocks": CORRELATION_BLOCKS,
    }
    return to_json({"layers": layers,
                    "data": _data_summary(s, coupling, arrays, len(dbn.rbms_), seed),
                    "settings": settings})


def _layer_metrics(arrays: dict[str, Any], index: int, coupling: float,
                   levels: dict[str, list[float]] | None, *, seed: int,
                   chance_draws: int) -> dict[str, Any]:
    """Every metric of layer ``index`` (from 1) over its live units, from
    ``receptive_field_arrays``: every kind of field, and the Kadanoff reference."""
    subset = arrays["spins"]
    block_size = arrays["block_size"][index - 1]
    live = arrays["live"][index - 1]
    context = layer_context(subset, block_size, index, coupling, seed=seed,
                             chance_draws=chance_draws)
    layer_levels = {kind: levels[kind][index - 1] for kind in FIELD_KINDS} if levels else {}
    fields = {kind: arrays[kind][index - 1][live] for kind in FIELD_KINDS}
    activations = np.asarray(arrays["activations"][index - 1], dtype=np.float64)[:, live]
    norms = {kind: float(np.mean(np.sum(fields[kind] ** 2, axis=(1, 2))))
             if live.any() else math.nan for kind in FIELD_KINDS}
    return {
        "index": index,
        "n_units": int(live.size),
        "n_live": int(live.sum()),
        "block_size": int(block_size),
        "dead_fraction": float(1.0 - live.mean()),
        "mean_activation": mean_std(arrays["mean_activation"][index - 1]),
        **unit_set_metrics(fields, activations, context, layer_levels),
        "kadanoff_reference": kadanoff_reference(
            subset, block_size, coupling, layer=index, seed=seed, chance_draws=chance_draws,
            levels=layer_levels, field_norms=norms, context=context),
    }


def _data_summary(spins: np.ndarray, coupling: float, arrays: dict[str, Any], n_layers: int,
                  seed: int) -> dict[str, Any]:
    """The Monte Carlo data: size, correlation length (all samples) against the exact one, and
    the block-spin observables of the analysed subset."""
    size = spins.shape[-1]
    levels = max(lv for lv in range(n_layers + 1) if size % 2**lv == 0)
    n_blocks = min(CORRELATION_BLOCKS, spins.shape[0] // 2)
    try:
        xi = correlation_entry(wall_correlation_length(
            spins, ordered=coupling > exact.critical_coupling(), n_blocks=n_blocks),
            onsager_xi(coupling))
    except IsingRGError as error:
        xi = correlation_entry(None, onsager_xi(coupling), str(error))
    return {
        "size": int(size),
        "coupling": float(coupling),
        "n_samples": int(spins.shape[0]),
        "n_analysed": arrays["n_analysed"],
        "correlation_length": xi,
        "block_spin": coarse_grained_observables(
            arrays["spins"], block_size=2, levels=levels, seed=seed_stream(seed, STREAM_COARSE)
        ),
    }

"""What a layer's metrics are measured against: ideal Kadanoff units scored by the same code
(``kadanoff_reference``), and the noise levels of the network the trained one started from
(``untrained_counterpart``, ``noise_levels``). ``ising_rg.rg.analysis`` reports both beside
each layer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ising_rg.rbm.dbn import DBN
from ising_rg.rg.kadanoff import KADANOFF_RULES, block_fields, kadanoff_units
from ising_rg.rg.receptive_fields import activation_weighted_fields
from ising_rg.rg.shape import noise_level
from ising_rg.rg.unit_metrics import FIELD_KINDS, layer_context, unit_set_metrics
from ising_rg.settings import AnalysisOptions
from ising_rg.spins import as_spin_batch, spins_to_visible

__all__ = ["kadanoff_reference", "noise_levels", "untrained_counterpart"]


def untrained_counterpart(dbn, visible: np.ndarray | None = None):
    """The network ``dbn`` started training from: ``DBN(**dbn.get_params()).initialize(...)``.

    The same architecture, recipe and seed, zero epochs (``DBN.initialize``: bit-identical to
    the initial weights of ``DBN.fit`` for the paper's initialisation). ``visible``, shape
    (n, L*L), is needed only by initialisations that read the data (``init='guide'``).
    None if ``dbn`` does not expose ``get_params`` (a duck-typed network).
    """
    if not hasattr(dbn, "get_params"):
        return None
    params = dict(dbn.get_params())
    return DBN(params.pop("hidden"), **params).initialize(
        int(np.shape(dbn.rbms_[0].weights_)[0]), visible)


def noise_levels(untrained_arrays: dict[str, Any]) -> dict[str, list[float]]:
    """Noise level (``ising_rg.rg.shape.noise_level``) of every field kind and layer.

    Parameters
    ----------
    untrained_arrays : ``receptive_field_arrays`` of the untrained network on the same data.

    Returns
    -------
    {kind: [level of layer 1, layer 2, ...]} for the kinds of ``FIELD_KINDS`` (fields squared).
    """
    return {kind: [noise_level(f) for f in untrained_arrays[kind]] for kind in FIELD_KINDS}


def kadanoff_reference(
    spins: np.ndarray,
    block_size: int,
    coupling: float,
    *,
    layer: int = 1,
    seed: int = 0,
    chance_draws: int = AnalysisOptions().chance_draws,
    levels: dict[str, float | None] | None = None,
    field_norms: dict[str, float] | None = None,
    context: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """What ideal Kadanoff units score on the same data: every metric of a layer, measured on
    ``kadanoff_units`` of each rule through the code that measures the network's units.

    Parameters
    ----------
    spins : ndarray, shape (n, L, L), {-1, +1}: the analysed data subset
    block_size : int
        b (None is returned when b does not divide L: there is no aligned tiling).
    coupling : float
        K of the data (phase of the correlation length and its exact value).
    layer, seed, chance_draws : int
        As for the network's layer (the same tie coins, shuffles and random blocks).
    levels : {kind: noise level}, optional
        Noise levels of the network's layer (``noise_levels``), for ``sites_above_noise``.
    field_norms : {kind: mean sum_x r(x)^2 of the network's live fields}, optional
        Amplitude of the ideal uniform weight-product and Jacobian fields: b^2 a^2 = the norm,
        so that ``sites_above_noise`` asks whether the network's field strength, spread as a
        Kadanoff block, would stand out of the noise (every other metric is scale-free).
        Default amplitude 1.
    context : dict, optional
        The layer's precomputed ``ising_rg.rg.unit_metrics.layer_context``.

    Returns
    -------
    {"majority": metrics, "average": metrics}, each with the keys of a layer's metrics
    (weight-product metrics at the top level, ``activation_weighted`` and ``jacobian``).
    """
    s, _ = as_spin_batch(spins)
    size = s.shape[-1]
    if size % block_size:
        return None
    if context is None:
        context = layer_context(s, block_size, layer, coupling, seed=seed,
                                 chance_draws=chance_draws)
    visible = spins_to_visible(s)
    out = {}
    for rule in KADANOFF_RULES:
        window = context["window_spins"] if rule == "majority" else context["window_means"]
        units = kadanoff_units(s, block_size, rule, window_spins=window)
        fields = {}
        for kind in ("weight_product", "jacobian"):
            norm = (field_norms or {}).get(kind)
            amplitude = (math.sqrt(norm) / block_size
                         if norm is not None and math.isfinite(norm) and norm > 0 else 1.0)
            fields[kind] = block_fields(size, block_size, amplitude)
        fields["activation_weighted"] = activation_weighted_fields(visible, units.activations,
                                                                   size)
        out[rule] = unit_set_metrics(fields, units.activations, context, levels or {})
    return out

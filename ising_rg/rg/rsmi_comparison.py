"""The DBN beside a coarse-grainer trained for RG: RSMI's filter measured like the DBN.

Two measurements, on the same data and through the same code as the DBN's (docs/rsmi.md):

* ``environment_comparison``: the information each block rule keeps about its block's
  environment, I(H; E) in bits (``ising_rg.rg.rsmi_information.compare_rules``: one split, the
  same decoder training, differences from majority rule paired over configurations): one spin
  (decimation), majority rule, the RSMI filter, and the DBN's first-layer units, each
  restricted to its best b x b window (its weights there, in spin units W / 2; the share of
  squared weight the window drops is reported). The units taken are the live ones whose
  window keeps the most weight, the most favourable to the DBN.
* ``rsmi_reference``: the RSMI filter as a layer of units, one per aligned block
  (P(H = +1 | v) of each block), scored by every metric of a layer
  (``ising_rg.rg.unit_metrics.unit_set_metrics``: size, locality, block-spin correlation,
  correlation length), as the ideal Kadanoff units are (``ising_rg.rg.baselines``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ising_rg.checks import check_integer
from ising_rg.rbm.activations import sigmoid
from ising_rg.rbm.trainer import dead_units
from ising_rg.rg.receptive_fields import activation_weighted_fields
from ising_rg.rg.rsmi import RSMIFilter, coarse_blocks
from ising_rg.rg.rsmi_information import best_window_filters, compare_rules
from ising_rg.rg.unit_metrics import layer_context, unit_set_metrics
from ising_rg.settings import AnalysisOptions
from ising_rg.spins import analysis_subset, as_spin_batch, spins_to_visible

__all__ = ["DBN_UNITS", "RSMI_ROWS", "environment_comparison", "rsmi_control", "rsmi_reference",
           "rsmi_units"]

#: First-layer units of the DBN measured as block rules.
DBN_UNITS = 8
#: Configurations the control is measured on (``ising_rg.spins.analysis_subset`` of the data).
RSMI_ROWS = 5000


def _entry(comparison) -> dict[str, Any]:
    estimate = comparison.estimate
    return {"bits": estimate.bits, "error": estimate.error,
            "difference_from_majority": comparison.difference_bits,
            "difference_error": comparison.difference_error,
            "entropy_bits": estimate.entropy_bits,
            "block_information_bits": estimate.block_information_bits}


def environment_comparison(spins: np.ndarray, rsmi_filter: RSMIFilter, dbn: Any = None, *,
                           n_units: int = DBN_UNITS, seed: int = 0) -> dict[str, Any]:
    """I(H; E) in bits of decimation, majority rule, the RSMI filter and (if ``dbn``) its
    first-layer units in their best windows (module docstring).

    Parameters
    ----------
    spins : int8 (n, L, L), the data (the RSMI filter's block size b must divide L)
    rsmi_filter : fitted RSMIFilter (its geometry: buffer and environment)
    dbn : fitted DBN over the same L x L lattice, optional
    n_units : int, DBN units measured
    seed : int, the split and the decoders' training order

    Returns
    -------
    dict (JSON-ready): ``rules`` {name: {bits, error, difference_from_majority,
    difference_error, entropy_bits, block_information_bits}}, ``dbn_units`` (``units``: their
    indices, ``dropped_share`` per unit, ``mean`` of each entry over them), ``block_size``.
    """
    s, _ = as_spin_batch(spins)
    b = int(rsmi_filter.block_size)
    rules: dict[str, Any] = {"decimation": "decimation", "majority": "majority",
                             "rsmi": rsmi_filter}
    units, dropped = np.zeros(0, dtype=np.int64), np.zeros(0)
    if dbn is not None:
        first = dbn.rbms_[0]
        size = s.shape[-1]
        live = ~dead_units(first.transform(spins_to_visible(s[: min(len(s), 2000)])).mean(0))
        fields = np.asarray(first.weights_, dtype=np.float64).T.reshape(-1, size, size) / 2.0
        filters, _, shares = best_window_filters(fields, b)
        candidates = np.flatnonzero(live)
        units = candidates[np.argsort(shares[candidates], kind="stable")[:n_units]]
        dropped = shares[units]
        rules.update({f"dbn_unit_{unit}": filters[unit] for unit in units})
    compared = compare_rules(s, rules, reference="majority", block_size=b, seed=seed)
    out = {name: _entry(compared[name]) for name in ("decimation", "majority", "rsmi")}
    dbn_entries = [_entry(compared[f"dbn_unit_{unit}"]) for unit in units]
    return {
        "block_size": b,
        "rules": out,
        "dbn_units": None if dbn is None else {
            "units": units.tolist(),
            "dropped_share": dropped.tolist(),
            "each": dbn_entries,
            "mean": {key: float(np.mean([entry[key] for entry in dbn_entries]))
                     for key in dbn_entries[0]} if dbn_entries else None,
        },
    }


def rsmi_units(spins: np.ndarray, rsmi_filter: RSMIFilter) -> tuple[np.ndarray, dict[str, Any]]:
    """The RSMI filter as units on the aligned blocks: activations P(H = +1 | v) (n, (L/b)^2)
    and their fields ((L/b)^2, L, L): the filter placed on each block (weight product), its
    mean Jacobian <dP/dv> = 2 Lambda <P (1 - P)> (v = (s + 1)/2), and the
    activation-weighted average over the data."""
    s, _ = as_spin_batch(spins)
    n, size, _ = s.shape
    b = int(rsmi_filter.block_size)
    m = size // b
    weights = np.asarray(rsmi_filter.filter_, dtype=np.float64).reshape(-1)
    blocks = coarse_blocks(s, b).astype(np.float64)  # (n, m, m, b*b)
    activations = sigmoid(blocks @ weights).reshape(n, m * m)
    slope = (activations * (1.0 - activations)).mean(axis=0)  # per unit
    placed = np.zeros((m * m, size, size))
    for unit in range(m * m):
        row, col = divmod(unit, m)
        placed[unit, row * b:(row + 1) * b, col * b:(col + 1) * b] = weights.reshape(b, b)
    fields = {"weight_product": placed,
              "jacobian": 2.0 * slope[:, None, None] * placed,
              "activation_weighted": activation_weighted_fields(spins_to_visible(s),
                                                                activations, size)}
    return activations, fields


def rsmi_reference(spins: np.ndarray, rsmi_filter: RSMIFilter, coupling: float, *,
                   layer: int = 1, seed: int = 0,
                   chance_draws: int = AnalysisOptions().chance_draws,
                   levels: dict[str, float | None] | None = None) -> dict[str, Any]:
    """Every metric of a layer for the RSMI filter's units (``rsmi_units``), through the code
    that measures the network's units and the Kadanoff reference (the same tie coins,
    shuffles and random blocks for the layer)."""
    s, _ = as_spin_batch(spins)
    context = layer_context(s, int(rsmi_filter.block_size), layer, coupling, seed=seed,
                            chance_draws=check_integer(chance_draws, "chance_draws", 1))
    activations, fields = rsmi_units(s, rsmi_filter)
    return unit_set_metrics(fields, activations, context, levels or {})


def rsmi_control(spins: np.ndarray, rsmi_filter: RSMIFilter, dbn: Any, coupling: float, *,
                 seed: int = 0, chance_draws: int = AnalysisOptions().chance_draws,
                 wide_filter: RSMIFilter | None = None) -> dict[str, Any]:
    """The RSMI control beside a network (``analyze --filter``, the study extra ``rsmi``):
    the filter and the information it keeps, ``environment_comparison`` with the network's
    first-layer units, the filter's units scored like layer 1 (``rsmi_reference``), and a
    b = 4 filter shown if given (the published ones weight the block's boundary).

    Parameters
    ----------
    spins : int8 (n, L, L), the data; measured on ``RSMI_ROWS`` of them
    rsmi_filter : fitted RSMIFilter whose block size divides L
    dbn : fitted DBN over the same lattice, or None
    coupling : float, K of the data (the layer context's exact correlation length)
    seed : int, the split, the decoders' training order, tie coins and shuffles
    chance_draws : int, random blocks per unit for the filter's units' chance level (as for
        the network's layers: ``AnalysisOptions.chance_draws``)
    wide_filter : fitted RSMIFilter of 4 x 4 blocks, optional

    Returns
    -------
    dict: ``filter`` (b x b list), ``filter_bits``, ``filter_bits_error``, ``environment``,
    ``reference``, ``filter_4`` and ``filter_4_bits`` (None without ``wide_filter``); NaN
    where a quantity is undefined (JSON-ready after ``ising_rg.io.jsonfile.to_json``).
    """
    check_integer(chance_draws, "chance_draws", 1)  # before the environment's work
    rows = spins[analysis_subset(len(spins), RSMI_ROWS)]
    return {
        "filter": np.asarray(rsmi_filter.filter_).tolist(),
        "filter_bits": rsmi_filter.mutual_information_,
        "filter_bits_error": rsmi_filter.mutual_information_error_,
        "environment": environment_comparison(rows, rsmi_filter, dbn, seed=seed),
        "reference": rsmi_reference(rows, rsmi_filter, coupling, seed=seed,
                                    chance_draws=chance_draws),
        "filter_4": None if wide_filter is None else np.asarray(wide_filter.filter_).tolist(),
        "filter_4_bits": None if wide_filter is None else wide_filter.mutual_information_,
    }

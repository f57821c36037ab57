"""From job results to the report's numbers: each job's flat summary, and statistics over seeds.

A measurement that carries its own error within a job (a jackknife or paired error: MCRG
couplings and exponents, RSMI bits, correlation lengths) is summarized with it as
``<name>_error``, so that a group of one or two seeds is not judged by their scatter alone.

``summarize`` turns one job's metrics and extra measurements into flat scalar metrics
("layer1.locality", "generative.energy_per_spin.dbn", ...); ``aggregate`` groups the jobs by
(group, coupling) and gives each metric's mean, standard deviation and standard error over the
replicates.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np


def summarize(metrics: dict, extras: dict) -> dict[str, float | None]:
    """Flat scalar metrics of one job, the quantities aggregated over seeds."""
    out: dict[str, float | None] = {}

    def put(key: str, value: Any) -> None:
        out[key] = None if value is None else float(value)

    for layer in metrics["layers"]:
        prefix = f"layer{layer['index']}."
        put(prefix + "dead_fraction", layer.get("dead_fraction"))
        _summarize_fields(layer, prefix, put)
        for reference, values in (layer.get("kadanoff_reference") or {}).items():
            _summarize_fields(values, f"{prefix}kadanoff_{reference}.", put)
    for layer in extras.get("permuted_coordinates", {}).get("layers", []):
        prefix = f"layer{layer['index']}.permuted_coordinates."
        put(prefix + "locality", (layer.get("locality") or {}).get("mean"))
        put(prefix + "locality_chance", (layer.get("locality") or {}).get("chance"))
        put(prefix + "local_fraction", (layer.get("locality") or {}).get("local_fraction"))
    xi = metrics["data"].get("correlation_length") or {}
    put("data.correlation_length", xi.get("mean"))
    put("data.correlation_length_error", xi.get("error"))
    put("data.correlation_length_exact", xi.get("exact"))
    put("data.correlation_length_finite_size_limited", xi.get("finite_size_limited"))
    for name in ("energy_per_spin", "abs_magnetization", "specific_heat", "susceptibility"):
        entry = metrics["generative"].get(name, {})
        for source in ("dbn", "monte_carlo"):
            value = entry.get(source)
            put(f"generative.{name}.{source}",
                value.get("mean") if isinstance(value, dict) else value)
    put("generative.converged", metrics["generative"].get("converged"))
    rhat = metrics["generative"].get("rhat") or {}
    put("generative.rhat_max", max((v for v in rhat.values() if v is not None), default=None))
    _summarize_quality(metrics.get("quality") or {}, put)
    learned = extras.get("couplings", {})
    for key in ("nearest_neighbour", "next_nearest_neighbour"):
        put(f"couplings.{key}", (learned.get(key) or {}).get("mean"))
    put("couplings.ratio_nearest_to_true", learned.get("ratio_nearest_to_true"))
    _summarize_flow(extras.get("flow", {}).get("end_point") or {}, put)
    path = extras.get("flow", {}).get("chains_end") or {}
    put("flow.path_converged", path.get("converged"))
    put("flow.path_n_steps", path.get("n_steps"))
    put("flow.path_energy_per_spin", (path.get("energy_per_spin") or {}).get("mean"))
    put("flow.path_abs_magnetization", (path.get("abs_magnetization") or {}).get("mean"))
    _summarize_generative(metrics["generative"], put)
    _summarize_mcrg(extras.get("mcrg") or {}, put)
    _summarize_rsmi(extras.get("rsmi") or {}, put)
    for depth in (extras.get("free_energy") or {}).get("layers", []):
        prefix = f"free_energy.depth{depth['depth']}."
        for name in ("delta_f_per_spin", "change_per_spin"):
            entry = depth.get(name) or {}
            put(prefix + name, entry.get("mean"))
            put(prefix + name + "_error", entry.get("error"))
    return out


def _summarize_quality(quality: dict, put) -> None:
    """The quality block's numbers (``ising_rg.diagnostics.quality.quality_block``) as flat
    metrics."""
    for name in ("log_likelihood_per_spin", "gap_per_spin"):
        for split in ("train", "validation"):
            entry = (quality.get(name) or {}).get(split) or {}
            put(f"quality.{name}.{split}", entry.get("mean"))
            put(f"quality.{name}.{split}_error", entry.get("error"))
    put("quality.exact_kl_per_spin", (quality.get("exact_kl") or {}).get("per_spin"))
    couplings = quality.get("couplings") or {}
    for key in ("nearest_neighbour", "next_nearest_neighbour"):
        put(f"quality.{key}_ratio_to_true", (couplings.get(key) or {}).get("ratio_to_true"))
    put("quality.row_sum_ratio_to_4k", (couplings.get("row_sum") or {}).get("ratio_to_expected"))
    bound = ((quality.get("thermodynamics") or {}).get("energy_per_spin") or {}).get(
        "reconstruction_bound") or {}
    put("quality.reconstruction_energy_per_spin", bound.get("mean"))
    log_z = quality.get("log_z") or {}
    put("quality.log_z", log_z.get("log_z"))
    put("quality.log_z_bound_margin", log_z.get("bound_margin"))
    put("quality.log_z_bound_ok", log_z.get("bound_ok"))
    spread = couplings.get("nearest_neighbour_distribution") or {}
    put("quality.coupling_ising_test", (spread.get("ising_test") or {}).get("passes"))
    put("quality.coupling_relative_spread", (spread.get("ising_test") or {}).get("relative_spread"))
    for part in ("by_bond", "by_context"):
        entry = spread.get(part) or {}
        put(f"quality.coupling_{part}_min", entry.get("min"))
        put(f"quality.coupling_{part}_max", entry.get("max"))
        put(f"quality.coupling_{part}_std", entry.get("std"))


#: The receptive-field metrics of every kind of field summarized per job, and the prefix of each
#: kind's keys: weight products "", activation-weighted "weighted_", mean Jacobian "jacobian_".
FIELD_METRICS = ("participation_ratio", "radius_of_gyration", "half_weight_radius",
                 "sites_above_noise", "locality", "block_spin_correlation")
FIELD_KINDS = (("", None), ("weighted_", "activation_weighted"), ("jacobian_", "jacobian"))


def _summarize_fields(layer: dict, prefix: str, put) -> None:
    """A layer's (or a Kadanoff reference's) field metrics, each with its chance level where
    it has one, and its activations' correlation length, under ``prefix``."""
    for kind_prefix, kind in FIELD_KINDS:
        values = layer if kind is None else (layer.get(kind) or {})
        for name in FIELD_METRICS:
            entry = values.get(name) or {}
            put(prefix + kind_prefix + name, entry.get("mean"))
            if "chance" in entry:
                put(prefix + kind_prefix + name + "_chance", entry["chance"])
        local = (values.get("locality") or {}).get("local_fraction")
        put(prefix + kind_prefix + "local_fraction", local)
    xi = layer.get("correlation_length") or {}
    put(prefix + "correlation_length", xi.get("mean"))
    put(prefix + "correlation_length_error", xi.get("error"))
    put(prefix + "correlation_length_plateau", xi.get("plateau_reached"))
    put(prefix + "correlation_length_units", (xi.get("units") or {}).get("used"))


def _summarize_flow(end: dict, put) -> None:
    """The flow's end point (``rg.flow.flow_temperatures``) as flat metrics: E/N, |m| and
    N var(E/N), the temperature read from each, and the verdicts as 0/1 (None: undecided)."""
    if not end:
        return
    for name in ("energy_per_spin", "abs_magnetization", "energy_fluctuation"):
        put(f"flow.{name}", (end.get(name) or {}).get("mean"))
    put("flow.converged", end.get("converged"))
    put("flow.n_steps", end.get("n_steps"))
    put("flow.rhat_max", max((v for v in (end.get("rhat") or {}).values() if v is not None),
                             default=None))
    put("flow.ising_state", end.get("ising_state"))
    put("flow.temperature_from_energy", (end.get("temperature_from_energy") or {}).get("value"))
    put("flow.temperature_from_abs_magnetization",
        (end.get("temperature_from_abs_magnetization") or {}).get("value"))
    from_c = end.get("temperature_from_specific_heat") or {}
    put("flow.temperature_from_specific_heat",
        from_c.get("high" if from_c.get("side") == "above peak" else "low"))
    put("flow.best_temperature", end.get("best_temperature"))
    put("flow.max_abs_z", end.get("max_abs_z"))
    put("flow.log_z_bound_ok", (end.get("log_z") or {}).get("bound_ok"))
    _summarize_modes(end, "flow.", put)


def group_key(group: str, coupling: float, label: str = "") -> str:
    """The key of a grid point's replicates in ``aggregate``'s output:
    ``"<group>@<K, 3 decimals>"``, e.g. ``"sweep@0.500"``, followed by ``" [<label>]"`` for a
    group whose grid varies more than K (``"capacity@0.408 [hidden=64-16]"``)."""
    return f"{group}@{coupling:.3f}" + (f" [{label}]" if label else "")


def aggregate(results: list[dict]) -> dict[str, Any]:
    """Mean, standard deviation and count over replicates of every summary metric.

    Results are grouped by grid point: group, coupling and the job's ``label`` (what else
    varies in its group). Returns ``{"groups": {group_key(group, K, label): {"group",
    "variant", "coupling", "epochs", "label", "n", "metrics": {name: {"mean", "std", "sem",
    "n"}}, "seconds"}}}``.
    """
    grouped: dict[str, list[dict]] = defaultdict(list)
    for result in results:
        job = result["job"]
        grouped[group_key(job["group"], job["coupling"], job.get("label", ""))].append(result)
    out: dict[str, Any] = {"groups": {}}
    for key, members in sorted(grouped.items()):
        names = sorted({name for m in members for name in m["summary"]})
        metrics = {}
        for name in names:
            values = np.array([m["summary"].get(name) for m in members], dtype=object)
            values = np.array([v for v in values if v is not None], dtype=float)
            values = values[np.isfinite(values)]
            n = int(values.size)
            metrics[name] = {
                "mean": float(values.mean()) if n else None,
                "std": float(values.std(ddof=1)) if n > 1 else None,
                "sem": float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else None,
                "n": n,
            }
        first = members[0]["job"]
        out["groups"][key] = {
            "group": first["group"], "variant": first["variant"],
            "coupling": first["coupling"], "epochs": first["epochs"],
            "label": first.get("label", ""), "n": len(members),
            "metrics": metrics,
            "seconds": {stage: float(np.mean([m["seconds"].get(stage, 0.0) for m in members]))
                        for stage in ("sample", "train", "analyze", "extras")},
        }
    return out


def _dominant_mode(modes: dict) -> dict:
    """The heaviest of an equilibrium's modes ({} if none has a weight)."""
    weighted = [m for m in (modes or {}).get("modes", []) if m.get("weight") is not None]
    return max(weighted, key=lambda m: m["weight"], default={})


def _summarize_generative(generative: dict, put) -> None:
    """What the DBN generates at equilibrium: sweeps, its heaviest mode and how many modes."""
    put("generative.n_sweeps", generative.get("n_sweeps"))
    _summarize_modes(generative, "generative.", put)


def _summarize_modes(equilibrium: dict, prefix: str, put) -> None:
    """An equilibrium's modes (``rbm_equilibrium``): the heaviest one's weight and |m|, how
    many, and whether there is an equilibrium ensemble (0/1)."""
    modes = equilibrium.get("modes") or {}
    dominant = _dominant_mode(modes)
    put(prefix + "dominant_weight", dominant.get("weight"))
    put(prefix + "dominant_abs_magnetization", dominant.get("abs_magnetization"))
    put(prefix + "n_modes", len(modes.get("modes", [])) if modes else None)
    put(prefix + "has_ensemble", None if not equilibrium else
        equilibrium.get("ensemble_from", "").startswith(("all chains", "the chains")))


#: The couplings of the coarse Hamiltonian summarized per coarse-grainer and level.
MCRG_COUPLINGS = ("nn", "nnn", "plaquette", "field")


def _summarize_mcrg(mcrg: dict, put) -> None:
    """Per coarse-grainer and level: the nearest-neighbour projection K' (the flow), the
    full fit's couplings, y_t and y_h (``mcrg.<name>.level<l>.<quantity>``)."""
    for name, entry in (mcrg.get("coarse_grainers") or {}).items():
        for level in entry.get("levels", []):
            prefix = f"mcrg.{name}.level{level['level']}."
            entries = {"k_nn": level.get("nn_projection"),
                       **{c: (level.get("couplings") or {}).get(c) for c in MCRG_COUPLINGS},
                       "y_t": level.get("y_t"), "y_h": level.get("y_h")}
            for quantity, entry in entries.items():  # each with its jackknife error
                put(prefix + quantity, (entry or {}).get("mean"))
                put(prefix + quantity + "_error", (entry or {}).get("error"))


def _summarize_rsmi(rsmi: dict, put) -> None:
    """I(H; E) in bits of each block rule and of the DBN's units (and their differences from
    majority rule), the share of weight the units' windows drop, the RSMI filter's uniformity
    (largest over smallest |weight|), and its units' locality and correlation length."""
    environment = rsmi.get("environment") or {}
    rules = {**(environment.get("rules") or {}),
             "dbn_units": (environment.get("dbn_units") or {}).get("mean") or {}}
    for name, entry in rules.items():  # each with its error (paired, for the differences)
        put(f"rsmi.bits.{name}", entry.get("bits"))
        put(f"rsmi.bits.{name}_error", entry.get("error"))
        put(f"rsmi.difference.{name}", entry.get("difference_from_majority"))
        put(f"rsmi.difference.{name}_error", entry.get("difference_error"))
    units = environment.get("dbn_units") or {}
    dropped = units.get("dropped_share") or []
    put("rsmi.dbn_units_dropped_share", float(np.mean(dropped)) if dropped else None)
    weights = np.abs(np.asarray(rsmi.get("filter") or [], dtype=float)).ravel()
    put("rsmi.filter_spread", weights.max() / weights.min() if weights.size and weights.min()
        else None)
    reference = rsmi.get("reference") or {}
    put("rsmi.reference.local_fraction", (reference.get("locality") or {}).get("local_fraction"))
    put("rsmi.reference.block_spin_correlation",
        (reference.get("block_spin_correlation") or {}).get("mean"))
    put("rsmi.reference.correlation_length",
        (reference.get("correlation_length") or {}).get("mean"))

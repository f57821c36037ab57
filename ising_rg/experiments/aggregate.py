"""From job results to the report's numbers: each job's flat summary, and statistics over seeds.

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
    xi = metrics["data"].get("correlation_length") or {}
    put("data.correlation_length", xi.get("mean"))
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
    xi = layer.get("correlation_length") or {}
    put(prefix + "correlation_length", xi.get("mean"))


def _summarize_flow(end: dict, put) -> None:
    """The flow's end point (``rg.flow.flow_temperatures``) as flat metrics: E/N, |m| and
    N var(E/N), the temperature read from each, and the verdicts as 0/1 (None: undecided)."""
    if not end:
        return
    for name in ("energy_per_spin", "abs_magnetization", "energy_fluctuation"):
        put(f"flow.{name}", (end.get(name) or {}).get("mean"))
    put("flow.converged", end.get("converged"))
    put("flow.n_steps", end.get("n_steps"))
    put("flow.rhat_max", max(end.get("rhat", {}).values(), default=None))
    put("flow.ising_state", end.get("ising_state"))
    put("flow.temperature_from_energy", (end.get("temperature_from_energy") or {}).get("value"))
    put("flow.temperature_from_abs_magnetization",
        (end.get("temperature_from_abs_magnetization") or {}).get("value"))
    from_c = end.get("temperature_from_specific_heat") or {}
    put("flow.temperature_from_specific_heat",
        from_c.get("high" if from_c.get("side") == "above peak" else "low"))
    put("flow.best_temperature", end.get("best_temperature"))
    put("flow.max_abs_z", end.get("max_abs_z"))


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

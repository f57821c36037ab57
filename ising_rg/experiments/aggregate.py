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
        for name in ("participation_ratio", "radius_of_gyration"):
            put(prefix + name, (layer.get(name) or {}).get("mean"))
            put(prefix + "weighted_" + name,
                (layer.get("activation_weighted", {}).get(name) or {}).get("mean"))
        for name in ("locality", "block_spin_correlation"):
            entry = layer.get(name) or {}
            put(prefix + name, entry.get("mean"))
            put(prefix + name + "_chance", entry.get("chance"))
        weighted = layer.get("activation_weighted", {}).get("locality") or {}
        put(prefix + "weighted_locality", weighted.get("mean"))
        put(prefix + "weighted_locality_chance", weighted.get("chance"))
    for layer in extras.get("permuted_coordinates", {}).get("layers", []):
        prefix = f"layer{layer['index']}.permuted_coordinates."
        put(prefix + "locality", (layer.get("locality") or {}).get("mean"))
        put(prefix + "locality_chance", (layer.get("locality") or {}).get("chance"))
    put("data.correlation_length", metrics["data"].get("correlation_length"))
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
    fixed = extras.get("flow", {}).get("fixed_point", {})
    for start, point in fixed.get("starts", {}).items():
        for key in ("energy_per_spin", "abs_magnetization", "effective_temperature"):
            put(f"flow.{start}.{key}", point.get(key))
    if "converged" in fixed:
        put("flow.converged", fixed["converged"])
        put("flow.max_energy_difference_sigma", fixed.get("max_energy_difference_sigma"))
    for index, entry in enumerate(extras.get("hidden_correlations", []), start=1):
        put(f"layer{index}.activation_correlation_length", entry.get("xi"))
    put("data.activation_correlation_length",
        extras.get("data_activation_correlation", {}).get("xi"))
    return out


def _summarize_quality(quality: dict, put) -> None:
    """The quality block's numbers (``ising_rg.rg.quality.quality_block``) as flat metrics."""
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

"""One experiment job, end to end: sample -> train -> analyze -> extra measurements.

A job writes everything into its own folder (``data.h5``, ``model.h5``, ``metrics.json``,
``result.json``). ``result.json`` is written last, atomically; a job whose ``result.json``
exists for the same specification is not recomputed.

Variants answer the controls of the report:

* ``paper``      the paper's recipe (L1 = 2e-4);
* ``l1_zero``    the same without the L1 penalty: does locality come from L1?
* ``permuted``   a fixed random permutation of the sites before training, measured in the
                 permuted coordinates and, mapped back, in the original ones;
* ``untrained``  the initialised, untrained network: the chance level.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ising_rg import exact
from ising_rg.io.jsonfile import to_json, write_json

VARIANTS = ("paper", "l1_zero", "permuted", "untrained")
FLOW_STEPS = 150
N_ANALYSIS = 5000  # evenly spaced samples for the receptive-field and correlation metrics


@dataclass(frozen=True)
class Job:
    """The specification of one job (JSON-serialisable; its identity for resumption)."""

    group: str
    variant: str
    coupling: float
    replicate: int
    data_seed: int
    train_seed: int
    size: int = 40
    n_samples: int = 20000
    hidden: tuple[int, ...] = (400, 100, 25)
    epochs: int = 200
    l1: float = 2e-4
    n_generative: int = 1000
    n_gibbs: int = 200
    extras: tuple[str, ...] = field(default=("couplings", "flow", "hidden_correlations"))

    @property
    def name(self) -> str:
        return f"{self.group}_K{self.coupling:.3f}_r{self.replicate}"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["hidden"] = list(self.hidden)
        out["extras"] = list(self.extras)
        return out

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> Job:
        spec = dict(spec)
        spec["hidden"] = tuple(spec["hidden"])
        spec["extras"] = tuple(spec.get("extras", ()))
        return cls(**spec)


def load_finished(folder: Path, job: Job) -> dict | None:
    """The stored result of ``job`` in ``folder``, or None if absent or for another spec."""
    path = folder / "result.json"
    if not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    return stored if stored.get("job") == job.to_dict() else None


def run_job(spec: dict[str, Any], root: str) -> dict[str, Any]:
    """Run one job (or return its stored result); the unit of work sent to any executor.

    Parameters
    ----------
    spec : dict, ``Job.to_dict()``
    root : folder of the experiment; the job works in ``root/<job name>/``

    Returns
    -------
    dict: ``job`` (the spec), ``summary`` (flat scalar metrics), ``extras`` (curves),
    ``seconds`` (per stage) and ``computed`` (False when loaded from disk).
    """
    # Imports here keep the worker start-up light and the module importable anywhere.
    from ising_rg.io.models import file_sha256, save_dbn
    from ising_rg.io.samples import write_samples
    from ising_rg.rbm.dbn import DBN
    from ising_rg.rg import controls
    from ising_rg.rg.analysis import analyze, receptive_field_arrays
    from ising_rg.rg.receptive_fields import spins_to_visible
    from ising_rg.sampling.sampler import sample

    job = Job.from_dict(spec)
    folder = Path(root) / job.name
    finished = load_finished(folder, job)
    if finished is not None:
        finished["computed"] = False
        return finished
    folder.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    samples = sample(job.size, job.coupling, job.n_samples, seed=job.data_seed)
    write_samples(samples, folder / "data.h5", overwrite=True)
    seconds["sample"] = time.perf_counter() - start

    start = time.perf_counter()
    n_sites = job.size**2
    visible = spins_to_visible(samples.spins)
    permutation = None
    if job.variant == "permuted":
        permutation = controls.site_permutation(n_sites, seed=job.train_seed)
        training_data = controls.permute_visible(visible, permutation)
    else:
        training_data = visible
    if job.variant == "untrained":
        dbn = controls.untrained_dbn(n_sites, hidden=job.hidden, seed=job.train_seed)
    else:
        l1 = 0.0 if job.variant == "l1_zero" else job.l1
        dbn = DBN(job.hidden, random_state=job.train_seed, n_epochs=job.epochs, l1=l1)
        dbn.fit(training_data)
        save_dbn(dbn, folder / "model.h5", data_sha256=file_sha256(folder / "data.h5"),
                 hyperparameters=job.to_dict(), seed=job.train_seed, overwrite=True)
    seconds["train"] = time.perf_counter() - start

    start = time.perf_counter()
    reference = {"energy_per_spin": float(exact.energy_per_spin(job.coupling, job.size)),
                 "specific_heat": float(exact.specific_heat_per_spin(job.coupling, job.size))}
    # Measured in the lattice's own coordinates: for the permuted control, the first layer is
    # re-indexed so that it reads the original lattice (exactly the same function).
    network = (controls.permuted_dbn_in_original_coordinates(dbn, permutation)
               if permutation is not None else dbn)
    fields = receptive_field_arrays(network, samples.spins, n_analysis=N_ANALYSIS)
    metrics = analyze(network, samples.spins, job.coupling, seed=job.train_seed,
                      n_generative=job.n_generative, n_gibbs=job.n_gibbs, exact=reference,
                      n_analysis=N_ANALYSIS, fields=fields)
    extras: dict[str, Any] = {}
    if permutation is not None:
        # The same network measured naively in the coordinates it was trained in.
        permuted_spins = samples.spins.reshape(len(samples.spins), -1)[:, permutation]
        permuted_metrics = analyze(dbn, permuted_spins.reshape(samples.spins.shape),
                                   job.coupling, seed=job.train_seed, n_generative=10,
                                   n_gibbs=1, exact=reference)
        extras["permuted_coordinates"] = {"layers": permuted_metrics["layers"]}
    write_json(folder / "metrics.json", metrics, overwrite=True)
    seconds["analyze"] = time.perf_counter() - start

    start = time.perf_counter()
    extras.update(_extra_measurements(job, network, visible, fields))
    seconds["extras"] = time.perf_counter() - start
    result = {
        "job": job.to_dict(),
        "summary": summarize(metrics, extras),
        "extras": extras,
        "seconds": seconds,
    }
    result = to_json(result)
    write_json(folder / "result.json", result, overwrite=True)
    result["computed"] = True
    return result


def _extra_measurements(job: Job, network, visible: np.ndarray, fields: dict) -> dict:
    """Learned couplings, the RBM flow, and the hidden layers' correlation lengths.

    ``fields`` is ``receptive_field_arrays(network, spins)``, shared with the analysis.
    """
    from ising_rg.rg import couplings, flow, hidden_correlations

    out: dict[str, Any] = {}
    first = network.rbms_[0]
    if "couplings" in job.extras:
        out["couplings"] = couplings.couplings_by_displacement(
            first, visible, job.size, max_distance=min(4, job.size // 2 - 1),
            true_coupling=job.coupling, seed=job.train_seed)
    if "flow" in job.extras:
        runs = {}
        for start in ("up", "random"):
            run = flow.rbm_flow(first, job.size, n_steps=FLOW_STEPS, start=start,
                                seed=job.train_seed)
            runs[start] = run
        fixed_point = flow.flow_fixed_point(runs, job.size)
        # Keep the per-step means; the per-chain arrays and final spins are bulky.
        out["flow"] = {
            "runs": {start: {key: value for key, value in run.items()
                             if not key.endswith("_chains") and key != "final_spins"}
                     for start, run in runs.items()},
            "fixed_point": fixed_point,
        }
    if "hidden_correlations" in job.extras:
        out["hidden_correlations"] = [
            hidden_correlations.activation_correlation_length(
                activations, centroids, job.size, live=live)
            for activations, centroids, live in zip(
                fields["activations"], fields["centroids"], fields["live"], strict=True)
        ]
        # The same estimator on the spins themselves (each site a unit at its own position),
        # the like-for-like reference for the layers' correlation lengths.
        sites = np.stack(np.divmod(np.arange(job.size**2), job.size), axis=1).astype(float)
        subset = visible[:: max(1, len(visible) // N_ANALYSIS)]
        out["data_activation_correlation"] = hidden_correlations.activation_correlation_length(
            subset, sites, job.size)
    return out


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

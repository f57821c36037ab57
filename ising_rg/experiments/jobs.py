"""One experiment job, end to end: sample -> train -> analyze (the stages of
``ising_rg.pipeline``) -> extra measurements.

A job writes everything into its own folder (``data.h5``, ``model.h5``, ``metrics.json``,
``result.json``). ``result.json`` is written last, atomically; a job whose ``result.json``
exists for the same specification is not recomputed.

Variants answer the controls of the report:

* ``paper``      the paper's recipe (``ising_rg.paper``, L1 = 2e-4);
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

from ising_rg import paper
from ising_rg.io.jsonfile import to_json, write_json

VARIANTS = ("paper", "l1_zero", "permuted", "untrained")
FLOW_STEPS = 150


@dataclass(frozen=True)
class Job:
    """The specification of one job (JSON-serialisable; its identity for resumption)."""

    group: str
    variant: str
    coupling: float
    replicate: int
    data_seed: int
    train_seed: int
    size: int = paper.SIZE
    n_samples: int = paper.N_SAMPLES
    hidden: tuple[int, ...] = paper.HIDDEN
    epochs: int = paper.N_EPOCHS
    l1: float = paper.L1
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
    from ising_rg.experiments.aggregate import summarize
    from ising_rg.pipeline import measure_network, sample_data
    from ising_rg.rg import controls
    from ising_rg.rg.receptive_fields import spins_to_visible
    from ising_rg.sampling.sampler import SampleOptions

    job = Job.from_dict(spec)
    folder = Path(root) / job.name
    finished = load_finished(folder, job)
    if finished is not None:
        finished["computed"] = False
        return finished
    folder.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    samples = sample_data(SampleOptions(size=job.size, coupling=job.coupling,
                                        n_samples=job.n_samples, seed=job.data_seed),
                          folder / "data.h5", overwrite=True)
    seconds["sample"] = time.perf_counter() - start

    start = time.perf_counter()
    visible = spins_to_visible(samples.spins)
    dbn, permutation = _train(job, visible, folder)
    seconds["train"] = time.perf_counter() - start

    start = time.perf_counter()
    # Measured in the lattice's own coordinates: for the permuted control, the first layer is
    # re-indexed so that it reads the original lattice (exactly the same function).
    network = (controls.permuted_dbn_in_original_coordinates(dbn, permutation)
               if permutation is not None else dbn)
    metrics, fields = measure_network(network, samples.spins, job.coupling,
                                      seed=job.train_seed, n_generative=job.n_generative,
                                      n_gibbs=job.n_gibbs)
    extras: dict[str, Any] = {}
    if permutation is not None:
        # The same network measured naively in the coordinates it was trained in.
        permuted_spins = samples.spins.reshape(len(samples.spins), -1)[:, permutation]
        permuted_metrics, _ = measure_network(dbn, permuted_spins.reshape(samples.spins.shape),
                                              job.coupling, seed=job.train_seed,
                                              n_generative=10, n_gibbs=1)
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


def _train(job: Job, visible: np.ndarray, folder: Path) -> tuple[Any, np.ndarray | None]:
    """The job's network (trained, or untrained for that control; saved to ``model.h5`` when
    trained) and the site permutation of the permuted control (None for the others)."""
    from ising_rg.pipeline import save_model, train_dbn
    from ising_rg.rg import controls

    permutation = None
    training_data = visible
    if job.variant == "permuted":
        permutation = controls.site_permutation(job.size**2, seed=job.train_seed)
        training_data = controls.permute_visible(visible, permutation)
    if job.variant == "untrained":
        return controls.untrained_dbn(job.size**2, hidden=job.hidden, seed=job.train_seed), None
    l1 = 0.0 if job.variant == "l1_zero" else job.l1
    dbn = train_dbn(training_data, job.hidden, seed=job.train_seed, n_epochs=job.epochs, l1=l1)
    save_model(dbn, folder / "model.h5", data_path=folder / "data.h5",
               hyperparameters=job.to_dict(), seed=job.train_seed, overwrite=True)
    return dbn, permutation


def _extra_measurements(job: Job, network, visible: np.ndarray, fields: dict) -> dict:
    """Learned couplings and the RBM flow. (The ``hidden_correlations`` extra is a no-op: the
    layers' correlation lengths are in metrics.json, ``layers[i].correlation_length``.)

    ``fields`` is ``receptive_field_arrays(network, spins)``, shared with the analysis.
    """
    from ising_rg.rg import couplings, flow

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
    return out

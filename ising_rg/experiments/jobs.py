"""One experiment job, end to end: sample -> train -> analyze (the stages of
``ising_rg.pipeline``) -> extra measurements.

A job is identified by its settings (``Job.settings``: data, network, recipe, variant, seeds,
analyses), not by the group it was listed in: ``Job.key`` is a hash of their canonical JSON.
It works in ``<root>/jobs/<key>/`` (``metrics.json``, ``result.json``); ``result.json`` is
written last, atomically, and a job whose ``result.json`` holds the same settings is not
recomputed. Its data come from ``<root>/data/<data key>.h5``, one sample file per (L, K,
samples, algorithm, sampler options, seed), shared by every job that uses it; its trained
network from ``<root>/models/<model key>.h5``, keyed by what training reads (data sets, layers,
recipe, seed, variant; ``Job.model_key``), so that a change of the analysis settings or code
measures the same networks again without training them again.

Variants answer the controls of the report (the L1 = 0 control is the paper variant with a
recipe whose ``l1`` is 0):

* ``paper``      the network trained with the job's recipe;
* ``permuted``   a fixed random permutation of the sites before training, measured in the
                 permuted coordinates and, mapped back, in the original ones;
* ``untrained``  the initialised, untrained network: the chance level;
* ``ising_rbm``  no training: the RBM whose visible marginal is exactly the L x L Ising model
                 at the job's coupling, one hidden unit per bond (``rbm.ising_rbm``), as a
                 one-layer network: the reference point of a network that has learnt the
                 distribution perfectly.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ising_rg.io.jsonfile import to_json, write_json
from ising_rg.settings import AnalysisOptions, Recipe, SampleOptions

VARIANTS = ("paper", "permuted", "untrained", "ising_rbm")
#: The variants that are not trained (built from their seed or their coupling, never stored).
UNTRAINED_VARIANTS = ("untrained", "ising_rbm")
#: Part of every job's and data set's key: raise it when a change of the code changes what
#: the same settings compute, so that finished jobs are not reused.
JOB_FORMAT = 4
#: Part of every trained network's key: raise it when a change of the code changes what the
#: same training settings train.
MODEL_FORMAT = 1
#: Part of every data set's key: raise it when a change of the sampler changes what the same
#: sampling options sample.
DATA_FORMAT = 1
#: Settings added after ``JOB_FORMAT`` 1 -> the value that computes what jobs computed
#: before they existed. A job's key leaves such a setting out at that value, so the jobs that
#: were finished before it came keep their keys (and are not recomputed).
LATER_SETTINGS = {"learning_rate_decay": "none"}


def canonical_hash(payload: Any) -> str:
    """A stable key: the first 16 hex digits of the SHA-256 of the canonical JSON (sorted
    keys, no spaces, floats in Python's shortest round-trip form) of ``payload``."""
    text = json.dumps(to_json(payload), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Job:
    """One job: where it was listed (``group``, ``replicate``, ``label``: not part of its
    identity) and its resolved settings (``ising_rg.experiments.spec.SETTINGS``, flat).

    ``label`` names what tells the job's grid point from the others of its group beyond the
    coupling (e.g. ``"hidden=64-16"``, '' if nothing); ``point`` is the key of the aggregate.
    """

    group: str
    replicate: int
    settings: dict[str, Any]
    label: str = ""

    # The settings the stages read.
    variant = property(lambda self: self.settings["variant"])
    size = property(lambda self: self.settings["size"])
    coupling = property(lambda self: self.settings["coupling"])
    mixture = property(lambda self: self.settings["mixture"])
    samples = property(lambda self: self.settings["samples"])
    hidden = property(lambda self: tuple(self.settings["hidden"]))
    epochs = property(lambda self: self.settings["epochs"])
    l1 = property(lambda self: self.settings["l1"])
    data_seed = property(lambda self: self.settings["data_seed"])
    train_seed = property(lambda self: self.settings["train_seed"])
    generative_samples = property(lambda self: self.settings["generative_samples"])
    gibbs_steps = property(lambda self: self.settings["gibbs_steps"])
    extras = property(lambda self: tuple(self.settings["extras"]))
    likelihood = property(lambda self: self.settings["likelihood"])

    @property
    def point(self) -> str:
        """The aggregate's key of this job's grid point (``aggregate.group_key``)."""
        from ising_rg.experiments.aggregate import group_key

        return group_key(self.group, self.coupling, self.label)

    def key_settings(self) -> dict[str, Any]:
        """Everything that determines the result: the settings (for the untrained control
        only those that reach it: no training options but the initialisation; and none of
        ``LATER_SETTINGS`` at its old value) and the format."""
        settings = {key: value for key, value in self.settings.items()
                    if key not in LATER_SETTINGS or value != LATER_SETTINGS[key]}
        if self.variant in UNTRAINED_VARIANTS:
            # the exact Ising RBM reads neither the initialisation nor the layer sizes
            used = {"init"} if self.variant == "untrained" else {"hidden"}
            unused = set(Recipe.names()) - used
            settings = {key: value for key, value in settings.items() if key != "recipe"
                        and key not in unused and not (key == "hidden" and "hidden" in used)}
        return to_json({"format": JOB_FORMAT, **settings})

    @property
    def key(self) -> str:
        """``canonical_hash(key_settings())``: the job's identity and folder name."""
        return canonical_hash(self.key_settings())

    def model_settings(self) -> dict[str, Any] | None:
        """What training reads, and nothing else: the data sets' keys, the layers, the
        training options, the seed and the variant (None for the variants that are not
        trained, which are not stored)."""
        if self.variant in UNTRAINED_VARIANTS:
            return None
        return to_json({"format": MODEL_FORMAT, "variant": self.variant,
                        "data": [data_key(options) for options in self.data_options()],
                        "hidden": list(self.hidden), "seed": self.train_seed,
                        "training": {key: value for key, value in self.recipe.to_dict().items()
                                     if key != "name"
                                     and LATER_SETTINGS.get(key, object()) != value}})

    @property
    def model_key(self) -> str | None:
        """``canonical_hash(model_settings())``: the trained network's file name."""
        settings = self.model_settings()
        return None if settings is None else canonical_hash(settings)

    @property
    def name(self) -> str:
        """The job's folder name under ``<root>/jobs/`` (its key)."""
        return self.key

    def to_dict(self) -> dict[str, Any]:
        """Flat and JSON-ready: group, replicate, label, then every setting."""
        return to_json({"group": self.group, "replicate": self.replicate,
                        "label": self.label, **self.settings})

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> Job:
        spec = dict(spec)
        labels = [spec.pop(name) for name in ("group", "replicate")]
        label = spec.pop("label", "")
        settings = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()}
        return cls(*labels, settings, label)

    def data_options(self) -> list[SampleOptions]:
        """The ``SampleOptions`` of the job's data set (one per coupling of a mixture), all
        with the replicate's data seed."""
        s = self.settings
        return [SampleOptions(size=s["size"], coupling=coupling, samples=s["samples"],
                              algorithm=s["algorithm"], seed=s["data_seed"],
                              thermalization=s["thermalization"], spacing=s["spacing"],
                              chains=s["chains"])
                for coupling in (s["mixture"] or (s["coupling"],))]

    @property
    def recipe(self) -> Recipe:
        """The training settings (the job's recipe settings; ``recipe`` is the name)."""
        return Recipe(name=self.settings["recipe"],
                      **{key: self.settings[key] for key in Recipe.names() if key != "name"})

    @property
    def analysis_options(self) -> AnalysisOptions:
        """What the job measures; the analysis seed is the training seed."""
        return AnalysisOptions(seed=self.train_seed,
                               **{key: self.settings[key] for key in
                                  ("generative_samples", "gibbs_steps", "likelihood", "extras")})

    def cost(self) -> float:
        """A rough relative cost, to start the longest jobs first: weights times the
        configurations that pass through them (training epochs, generative Gibbs steps and,
        when asked for, the first RBM's AIS runs and temperatures)."""
        from ising_rg.rbm.partition import AIS_BETAS, AIS_RUNS, AIS_SEEDS

        widths = (self.size**2, *self.hidden)
        weights = sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=False))
        n_data = self.samples * len(self.data_options())
        epochs = 0 if self.variant in UNTRAINED_VARIANTS else self.epochs
        ais = widths[0] * widths[1] * AIS_SEEDS * AIS_RUNS * AIS_BETAS if self.likelihood else 0
        return float(weights * (n_data * epochs
                                + self.generative_samples * (self.gibbs_steps + 1)) + ais)


def data_key(options) -> str:
    """The key of a data set: ``canonical_hash`` of its ``SampleOptions`` and the format."""
    return canonical_hash({"format": DATA_FORMAT, **asdict(options)})


def data_path(root: str | Path, options) -> Path:
    """Where the experiment in ``root`` keeps the data set of ``options``."""
    return Path(root) / "data" / f"{data_key(options)}.h5"


def sample_data_set(options: dict[str, Any], root: str) -> dict[str, Any]:
    """Sample one data set into ``data_path(root, options)`` unless it is there; a unit of work
    for any executor. Beside it, ``<data key>.json`` records the options and the sampling time.
    Returns ``{"path", "seconds", "computed"}``."""
    from ising_rg.pipeline import sample_data
    from ising_rg.settings import SampleOptions

    options = SampleOptions(**options)
    path = data_path(root, options)
    if path.is_file():
        return {"path": str(path), "seconds": 0.0, "computed": False}
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    # Written under a temporary name and renamed: a second writer of the same data set
    # (another experiment in the same folder) writes the same bytes.
    sample_data(options, path, overwrite=True)
    seconds = time.perf_counter() - start
    write_json(path.with_suffix(".json"), {"options": asdict(options), "seconds": seconds},
               overwrite=True)
    return {"path": str(path), "seconds": seconds, "computed": True}


def load_finished(folder: Path, job: Job) -> dict | None:
    """The stored result of ``job`` in ``folder``, or None if absent or for other settings."""
    path = folder / "result.json"
    if not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(stored, dict) or stored.get("settings") != job.key_settings():
        return None
    stored["job"] = job.to_dict()  # labelled as listed now, whoever computed it
    return stored


def run_job(spec: dict[str, Any], root: str) -> dict[str, Any]:
    """Run one job (or return its stored result); the unit of work sent to any executor.

    Parameters
    ----------
    spec : dict, ``Job.to_dict()``
    root : folder of the experiment; the job works in ``root/jobs/<job key>/`` and reads its
        data from ``root/data/`` (sampling a data set that is not there yet)

    Returns
    -------
    dict: ``key``, ``settings`` (``Job.key_settings``), ``job`` (the spec), ``summary`` (flat
    scalar metrics), ``extras`` (curves), ``seconds`` (per stage) and ``computed`` (False
    when loaded from disk).
    """
    # Imports here keep the worker start-up light and the module importable anywhere.
    from ising_rg.experiments.aggregate import summarize
    from ising_rg.experiments.extras import extra_measurements
    from ising_rg.spins import spins_to_visible

    job = Job.from_dict(spec)
    folder = Path(root) / "jobs" / job.key
    finished = load_finished(folder, job)
    if finished is not None:
        finished["computed"] = False
        return finished
    folder.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    paths, parts, measured = _job_data(job, root)
    seconds["sample"] = time.perf_counter() - start

    start = time.perf_counter()
    visible = spins_to_visible(parts[measured].spins)
    training = (visible if len(parts) == 1 else
                np.concatenate([spins_to_visible(part.spins) for part in parts]))
    dbn, permutation = _train(job, training, root, paths[measured])
    seconds["train"] = time.perf_counter() - start

    start = time.perf_counter()
    network, metrics, extras = _analyze(job, dbn, permutation, parts, measured)
    write_json(folder / "metrics.json", metrics, overwrite=True)
    seconds["analyze"] = time.perf_counter() - start

    start = time.perf_counter()
    held_out = _held_out_rows(job, dbn, parts, measured)
    extras.update(extra_measurements(job, network, parts, measured, held_out, root))
    seconds["extras"] = time.perf_counter() - start
    result = {
        "key": job.key,
        "settings": job.key_settings(),
        "job": job.to_dict(),
        "summary": summarize(metrics, extras),
        "extras": extras,
        "seconds": seconds,
    }
    result = to_json(result)
    write_json(folder / "result.json", result, overwrite=True)
    result["computed"] = True
    return result


def _job_data(job: Job, root: str) -> tuple[list[Path], list, int]:
    """The job's data sets (sampled into ``root/data/`` if not there): their paths and their
    ``SampleSet``s, in the order of their couplings (training reads them all), and the index
    of the one the analysis reads, at the job's coupling (for a mixture, its measure_at)."""
    from ising_rg.io.samples import read_samples

    paths = [Path(sample_data_set(asdict(options), root)["path"])
             for options in job.data_options()]
    parts = [read_samples(path) for path in paths]
    measured = next(i for i, part in enumerate(parts) if part.coupling == job.coupling)
    return paths, parts, measured


def _held_out_rows(job: Job, dbn, parts: list, measured: int) -> np.ndarray:
    """The held-out rows of the measured data set: training's validation indices shifted by
    the rows of the data sets before it (a mixture trains on them all, in order). A network
    that was not trained has seen no row: any tenth serves as its held-out split."""
    n_rows = len(parts[measured].spins)
    offset = sum(len(part.spins) for part in parts[:measured])
    held_out = (np.asarray(dbn.validation_indices_) - offset
                if job.variant not in UNTRAINED_VARIANTS else np.arange(n_rows - n_rows // 10,
                                                                        n_rows))
    return held_out[(held_out >= 0) & (held_out < n_rows)]


def _analyze(job: Job, dbn, permutation: np.ndarray | None, parts: list,
             measured: int) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The network as measured (in the lattice's own coordinates), its metrics
    (``pipeline.measure_network`` on the measured data set) and, for the permuted control,
    the extra ``permuted_coordinates`` (the same network measured naively in the coordinates
    it was trained in)."""
    from ising_rg.pipeline import measure_layers, measure_network
    from ising_rg.rg import controls

    spins = parts[measured].spins
    # For the permuted control, the first layer is re-indexed so that it reads the original
    # lattice (exactly the same function).
    network = (controls.permuted_dbn_in_original_coordinates(dbn, permutation)
               if permutation is not None else dbn)
    metrics, _ = measure_network(network, spins, job.coupling, job.analysis_options,
                                 held_out=_held_out_rows(job, dbn, parts, measured))
    extras: dict[str, Any] = {}
    if permutation is not None:
        permuted_spins = spins.reshape(len(spins), -1)[:, permutation]
        permuted_metrics, _ = measure_layers(dbn, permuted_spins.reshape(spins.shape),
                                             job.coupling, job.analysis_options)
        extras["permuted_coordinates"] = {"layers": permuted_metrics["layers"]}
    return network, metrics, extras


def model_path(root: str | Path, job: Job) -> Path | None:
    """Where the experiment in ``root`` keeps the trained network of ``job`` (None for the
    untrained control)."""
    key = job.model_key
    return None if key is None else Path(root) / "models" / f"{key}.h5"


def _train(job: Job, visible: np.ndarray, root: str,
           data_file: Path) -> tuple[Any, np.ndarray | None]:
    """The job's network and the site permutation of the permuted control (None for the
    others).

    Trained networks are read from ``model_path(root, job)`` when there, else trained and
    saved there (atomically, recording ``data_file``'s SHA-256); the untrained control is
    rebuilt from its seed (cheap).
    """
    from ising_rg.pipeline import stored_or_trained
    from ising_rg.rbm import DBN, ising_rbm
    from ising_rg.rg import controls

    permutation = None
    training_data = visible
    if job.variant == "permuted":
        permutation = controls.site_permutation(job.size**2, seed=job.train_seed)
        training_data = controls.permute_visible(visible, permutation)
    if job.variant == "untrained":
        return controls.untrained_dbn(job.size**2, hidden=job.hidden, seed=job.train_seed,
                                      init=job.recipe.init), None
    if job.variant == "ising_rbm":
        return DBN.from_rbms([ising_rbm(job.size, job.coupling)]), None
    dbn = stored_or_trained(
        model_path(root, job), training_data, job.hidden, job.recipe, seed=job.train_seed,
        data_path=data_file,
        hyperparameters={**job.to_dict(), "model_settings": job.model_settings()})
    return dbn, permutation

"""Experiment sets: define jobs, dispatch them to an executor, resume, aggregate over seeds
(``ising_rg.experiments.aggregate``).

Jobs go to any ``concurrent.futures``-style executor: a local process pool by default, or a
Dask distributed cluster (``scheduler="tcp://host:port"``, the optional ``distributed``
extra). Every seed derives from one root seed through ``numpy.random.SeedSequence.spawn``
before anything runs, so results do not depend on scheduling, on the number of workers, or
on which jobs were already finished.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

from ising_rg import paper
from ising_rg.checks import check_integer
from ising_rg.errors import IsingRGError
from ising_rg.experiments.aggregate import aggregate
from ising_rg.experiments.jobs import Job, run_job
from ising_rg.io.jsonfile import write_json
from ising_rg.seeding import seed_sequence

#: The coupling sweep: both phases around K_c = 0.4407, the paper's point included.
SWEEP_COUPLINGS = (0.2, 0.3, paper.COUPLING, 0.44, 0.5)


def replicate_seeds(root_seed: int, n_replicates: int) -> list[tuple[int, int]]:
    """(data seed, training seed) of each replicate, spawned from one root seed.

    Replicate r uses the same seeds in every group and variant, so controls are paired: the
    L1 = 0 network of replicate r sees exactly the data and initial weights of the paper
    network of replicate r.
    """
    out = []
    for child in seed_sequence(root_seed).spawn(n_replicates):
        data, train = child.spawn(2)
        out.append((int(data.generate_state(1, np.uint32)[0]),
                    int(train.generate_state(1, np.uint32)[0])))
    return out


PRESETS: dict[str, dict[str, Any]] = {
    # The report's default scale: the paper's lattice, data and network, with fewer epochs
    # for the many control jobs (the "convergence" group trains the paper point for the
    # full 200 epochs to show that the metrics have converged).
    "default": {"size": paper.SIZE, "n_samples": paper.N_SAMPLES, "hidden": paper.HIDDEN,
                "epochs": 100, "full_epochs": paper.N_EPOCHS, "paper_seeds": 5,
                "control_seeds": 3, "n_generative": 1000, "n_gibbs": 200},
    # A few seconds per job, for tests and a dry run of the whole report.
    "tiny": {"size": 8, "n_samples": 600, "hidden": (16, 4), "epochs": 4, "full_epochs": 8,
             "paper_seeds": 2, "control_seeds": 2, "n_generative": 50, "n_gibbs": 5},
}


def build_jobs(preset: str = "default", root_seed: int = 0) -> list[Job]:
    """Every job of the report for ``preset``: paper point, controls, coupling sweep."""
    if preset not in PRESETS:
        raise IsingRGError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    p = PRESETS[preset]
    seeds = replicate_seeds(root_seed, max(p["paper_seeds"], p["control_seeds"]))
    common = {"size": p["size"], "n_samples": p["n_samples"], "hidden": tuple(p["hidden"]),
              "n_generative": p["n_generative"], "n_gibbs": p["n_gibbs"]}

    def job(group, variant, coupling, replicate, epochs=p["epochs"], extras=None):
        data_seed, train_seed = seeds[replicate]
        kwargs = dict(common, epochs=epochs)
        if extras is not None:
            kwargs["extras"] = extras
        return Job(group=group, variant=variant, coupling=coupling, replicate=replicate,
                   data_seed=data_seed, train_seed=train_seed, **kwargs)

    jobs = [job("paper", "paper", paper.COUPLING, r) for r in range(p["paper_seeds"])]
    # Replicate 0 of the paper point at half and at the full number of epochs: have the
    # metrics of the report's runs converged?
    jobs += [job("halfway", "paper", paper.COUPLING, 0, epochs=p["epochs"] // 2)]
    jobs += [job("convergence", "paper", paper.COUPLING, 0, epochs=p["full_epochs"])]
    for variant in ("l1_zero", "permuted", "untrained"):
        jobs += [job(variant, variant, paper.COUPLING, r) for r in range(p["control_seeds"])]
    for coupling in SWEEP_COUPLINGS:
        if coupling == paper.COUPLING:
            continue  # the paper group's first replicates are this point of the sweep
        jobs += [job("sweep", "paper", coupling, r, extras=("hidden_correlations",))
                 for r in range(p["control_seeds"])]
    return jobs


@contextlib.contextmanager
def local_executor(workers: int) -> Iterator[Executor]:
    """A process pool of single-threaded workers.

    Every worker runs one numba and one BLAS thread, set in the environment the spawned
    interpreters start with. One thread each keeps the cores from being oversubscribed
    (OpenBLAS threads busy-wait: two processes with a full set each slow each other down by
    an order of magnitude) and makes every job's result independent of ``workers``: float32
    GEMMs round differently with different BLAS thread counts.
    """
    threads = "1"
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({name: threads for name in names})
    try:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            yield pool
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def dask_executor(scheduler: str) -> Iterator[Executor]:
    """A ``concurrent.futures`` executor backed by a Dask distributed scheduler."""
    try:
        from distributed import Client
    except ImportError:
        raise IsingRGError("--scheduler needs the optional 'distributed' package: "
                           "pip install 'ising_rg[dask]'") from None
    try:
        client = Client(scheduler, timeout="10s")
    except OSError as error:
        raise IsingRGError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()


def run_jobs(jobs: list[Job], root: str | os.PathLike, executor: Executor,
             progress: Callable[[int, int, dict], None] | None = None) -> list[dict]:
    """Run ``jobs`` on ``executor``; results in the order of ``jobs``.

    Finished jobs (``result.json`` for the same spec) are loaded, not recomputed.
    """
    root = str(Path(root).resolve())
    Path(root).mkdir(parents=True, exist_ok=True)
    futures = {executor.submit(run_job, job.to_dict(), root): i for i, job in enumerate(jobs)}
    results: list[dict | None] = [None] * len(jobs)
    for done, future in enumerate(as_completed(futures), start=1):
        results[futures[future]] = future.result()
        if progress is not None:
            progress(done, len(jobs), results[futures[future]])
    return results  # type: ignore[return-value]


def run_experiment(preset: str, root: str | os.PathLike, *, workers: int = 1,
                   scheduler: str | None = None, root_seed: int = 0,
                   progress: Callable[[int, int, dict], None] | None = None) -> dict[str, Any]:
    """Build, run (resuming) and aggregate the experiment; writes ``root/aggregate.json``."""
    check_integer(workers, "--workers", 1)
    jobs = build_jobs(preset, root_seed)
    context = dask_executor(scheduler) if scheduler else local_executor(workers)
    with context as executor:
        results = run_jobs(jobs, root, executor, progress)
    summary = aggregate(results)
    summary["preset"] = preset
    summary["root_seed"] = root_seed
    summary["settings"] = {k: (list(v) if isinstance(v, tuple) else v)
                           for k, v in PRESETS[preset].items()}
    summary["jobs"] = [{"name": Job.from_dict(r["job"]).name, "seconds": r["seconds"]}
                       for r in results]
    write_json(Path(root) / "aggregate.json", summary, overwrite=True)
    return summary


def load_results(root: str | os.PathLike, names: list[str] | None = None) -> list[dict]:
    """The finished jobs' result.json under ``root`` (only the jobs in ``names`` if given:
    folders of jobs from an earlier experiment definition are ignored)."""
    results = []
    for path in sorted(Path(root).glob("*/result.json")):
        if names is None or path.parent.name in names:
            results.append(json.loads(path.read_text()))
    return results

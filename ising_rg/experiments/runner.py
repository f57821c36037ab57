"""Experiment sets: build a study's jobs, dispatch them to an executor, resume, aggregate over
seeds (``ising_rg.experiments.aggregate``) and tabulate (``ising_rg.experiments.table``).

A study is a TOML file or a built-in preset (``ising_rg.experiments.spec``). Jobs go to any
``concurrent.futures``-style executor: a local process pool by default, or a Dask distributed
cluster (``scheduler="tcp://host:port"``, the optional ``distributed`` extra). Every seed
derives from one root seed through ``numpy.random.SeedSequence.spawn`` before anything runs,
so results do not depend on scheduling, on the number of workers, or on which jobs were
already finished. The data sets are sampled first, each once, and the jobs are then
dispatched longest first.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ising_rg.errors import IsingRGError
from ising_rg.experiments.aggregate import aggregate
from ising_rg.experiments.jobs import (
    Job,
    data_key,
    data_path,
    load_finished,
    run_job,
    sample_data_set,
)
from ising_rg.experiments.spec import (
    MAX_JOBS,
    Study,
    build_study_jobs,
    load_preset,
    replicate_seeds,
)
from ising_rg.experiments.table import TABLE_NAME, write_table
from ising_rg.io.jsonfile import write_json

__all__ = ["build_jobs", "dask_executor", "load_results", "local_executor", "replicate_seeds",
           "run_experiment", "run_jobs"]

# progress(done, total, result) after each job; data_progress(done, total, options, result)
# after each data set that had to be sampled.
Progress = Callable[[int, int, dict], None]
DataProgress = Callable[[int, int, dict, dict], None]


def _study(study: Study | str) -> Study:
    return study if isinstance(study, Study) else load_preset(study)


def build_jobs(study: Study | str = "default", root_seed: int | None = None,
               max_jobs: int | None = None) -> list[Job]:
    """Every job of a study (a checked ``Study`` or a preset's name), in the study's order.

    ``root_seed`` overrides the study's ``seed``; ``max_jobs`` refuses a larger study.
    """
    return build_study_jobs(_study(study), root_seed, max_jobs)


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
             progress: Progress | None = None,
             data_progress: DataProgress | None = None) -> list[dict]:
    """Run ``jobs`` on ``executor``; results in the order of ``jobs``.

    Finished jobs (``result.json`` for the same settings) are loaded, not recomputed; a job
    listed twice (the same settings in two groups) runs once. The data sets the other jobs
    need are sampled first, each once; the jobs are then submitted longest first
    (``Job.cost``). Each result's ``job`` is the job as listed (its group and label).
    """
    root = str(Path(root).resolve())
    Path(root).mkdir(parents=True, exist_ok=True)
    unique: dict[str, Job] = {}
    for job in jobs:
        unique.setdefault(job.key, job)
    finished = {key: load_finished(Path(root) / "jobs" / key, job)
                for key, job in unique.items()}
    todo = [job for key, job in unique.items() if finished[key] is None]
    _sample_data_sets(todo, root, executor, data_progress)
    by_key: dict[str, dict] = {}
    done = 0

    def report(result: dict) -> None:
        nonlocal done
        done += 1
        by_key[result["key"]] = result
        if progress is not None:
            progress(done, len(unique), result)

    for result in finished.values():
        if result is not None:
            result["computed"] = False
            report(result)
    futures = [executor.submit(run_job, job.to_dict(), root)
               for job in sorted(todo, key=lambda job: -job.cost())]
    for future in as_completed(futures):
        report(future.result())
    return [dict(by_key[job.key], job=job.to_dict()) for job in jobs]


def _sample_data_sets(jobs: list[Job], root: str, executor: Executor,
                      data_progress: DataProgress | None) -> None:
    """Sample every data set of ``jobs`` that is not in ``root/data`` yet, each once, largest
    first, before any job starts (so that no two workers sample the same data)."""
    needed = {data_key(options): options for job in jobs for options in job.data_options()
              if not data_path(root, options).is_file()}
    order = sorted(needed.values(), key=lambda o: -o.size**2 * o.samples)
    futures = {executor.submit(sample_data_set, asdict(options), root): options
               for options in order}
    for done, future in enumerate(as_completed(futures), start=1):
        result = future.result()
        if data_progress is not None:
            data_progress(done, len(futures), asdict(futures[future]), result)


def report_settings(jobs: list[Job]) -> dict[str, Any]:
    """The settings the report's header states: those of the ``paper`` group's first job (the
    first job if there is none), and the longest training of the ``convergence`` group."""
    first = next((job for job in jobs if job.group == "paper"), jobs[0])
    convergence = [job.epochs for job in jobs if job.group == "convergence"]
    return {"size": first.size, "samples": first.samples, "hidden": list(first.hidden),
            "epochs": first.epochs, "full_epochs": max(convergence, default=first.epochs),
            "generative_samples": first.generative_samples, "gibbs_steps": first.gibbs_steps}


def run_experiment(study: Study | str, root: str | os.PathLike, *, workers: int = 1,
                   scheduler: str | None = None, root_seed: int | None = None,
                   max_jobs: int | None = MAX_JOBS, progress: Progress | None = None,
                   data_progress: DataProgress | None = None) -> dict[str, Any]:
    """Build, run (resuming) and aggregate a study (a ``Study`` or a preset's name).

    Writes ``root/aggregate.json`` (statistics over replicates, per group and grid point) and
    ``root/results.csv`` (one row per job and layer, ``ising_rg.experiments.table``); returns
    the aggregate. Every check (the study's, ``max_jobs``, ``workers``) comes before any job.
    """
    from ising_rg.checks import check_integer

    check_integer(workers, "--workers", 1)
    study = _study(study)
    jobs = build_study_jobs(study, root_seed, max_jobs)
    context = dask_executor(scheduler) if scheduler else local_executor(workers)
    with context as executor:
        results = run_jobs(jobs, root, executor, progress, data_progress)
    summary = aggregate(results)
    summary["preset"] = study.source.removeprefix("preset ")
    summary["root_seed"] = study.seed if root_seed is None else root_seed
    summary["settings"] = report_settings(jobs)
    summary["jobs"] = [{"name": r["key"], "job": r["job"], "seconds": r["seconds"]}
                       for r in results]
    summary["data_sets"] = _data_sets(jobs, root)
    write_json(Path(root) / "aggregate.json", summary, overwrite=True)
    write_table(Path(root) / TABLE_NAME, results)
    return summary


def _data_sets(jobs: list[Job], root: str | os.PathLike) -> list[dict[str, Any]]:
    """The study's data sets: key, options and sampling seconds (None if not recorded)."""
    out = {}
    for job in jobs:
        for options in job.data_options():
            key = data_key(options)
            if key not in out:
                try:
                    record = data_path(root, options).with_suffix(".json").read_text()
                    seconds = json.loads(record).get("seconds")
                except (OSError, ValueError, AttributeError):  # absent or not ours
                    seconds = None
                out[key] = {"key": key, "options": asdict(options), "seconds": seconds}
    return list(out.values())


def load_results(root: str | os.PathLike, jobs: list[dict] | None = None) -> list[dict]:
    """The finished jobs' ``result.json`` under ``root/jobs``.

    ``jobs``: the aggregate's ``jobs`` entries (``name`` and ``job``); only those jobs are read
    (folders of jobs from an earlier study are ignored), each labelled as the entry lists it.
    """
    if jobs is None:
        return [json.loads(path.read_text())
                for path in sorted(Path(root).glob("jobs/*/result.json"))]
    results = []
    for entry in jobs:
        path = Path(root) / "jobs" / entry["name"] / "result.json"
        if not path.is_file():
            raise IsingRGError(f"{path} is missing: run the experiment again")
        results.append(dict(json.loads(path.read_text()), job=entry["job"]))
    return results

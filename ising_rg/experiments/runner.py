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
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import asdict
from multiprocessing import resource_tracker
from pathlib import Path
from typing import Any

from ising_rg.errors import IsingRGError
from ising_rg.experiments.aggregate import aggregate, summarize
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
from ising_rg.io.atomic import remove_temporary_files, write_unless_unchanged
from ising_rg.io.jsonfile import json_text

__all__ = ["AGGREGATE_NAME", "build_jobs", "check_tables", "dask_executor", "load_results",
           "local_executor", "replicate_seeds", "run_experiment", "run_jobs"]

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
def local_executor(workers: int, folder: str | os.PathLike | None = None) -> Iterator[Executor]:
    """A process pool of single-threaded workers that stops at once when interrupted.

    Every worker runs one numba and one BLAS thread, set in the environment the spawned
    interpreters start with. One thread each keeps the cores from being oversubscribed
    (OpenBLAS threads busy-wait: two processes with a full set each slow each other down by
    an order of magnitude) and makes every job's result independent of ``workers``: float32
    GEMMs round differently with different BLAS thread counts.

    Workers ignore SIGINT (Ctrl-C reaches the whole process group; a worker interrupted
    inside the pool's own plumbing can hang it): the parent decides. On Ctrl-C in the parent
    (KeyboardInterrupt in the block) the pending jobs are cancelled, the workers are killed
    at once, not waited for, and the temporary files they were writing under ``folder`` are
    removed; every finished output is complete, having been renamed into place
    (``ising_rg.io.atomic``), so a rerun resumes from it. If a job fails (any other
    exception), the pending jobs are cancelled and the running ones finish first.
    """
    threads = "1"
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({name: threads for name in names})
    try:
        context = multiprocessing.get_context("spawn")
        # The pool's workers are the children started from here on (the pool starts them
        # when jobs are submitted): known by this difference, not by the pool's internals.
        before = {child.pid for child in multiprocessing.active_children()}
        # Started later, inside a submit(), the resource tracker would unblock SIGINT there
        # (it blocks and unblocks it around its own start): start it now.
        resource_tracker.ensure_running()
        pool = _LocalPool(max_workers=workers, mp_context=context,
                          initializer=_ignore_interrupts)
        try:
            yield pool
            pool.shutdown(wait=True)
        except Exception:
            # A job failed: run no more, let the running ones finish (a rerun reuses them).
            try:
                pool.shutdown(wait=True, cancel_futures=True)
            except BaseException:  # Ctrl-C while waiting for them
                _stop_workers(pool, before, folder)
                raise
            raise
        except BaseException:  # Ctrl-C (KeyboardInterrupt), SystemExit
            _stop_workers(pool, before, folder)
            raise
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _LocalPool(ProcessPoolExecutor):
    """A process pool whose workers never see Ctrl-C, even while they start up."""

    def submit(self, fn, /, *args, **kwargs):
        # submit() starts the workers: a Ctrl-C in the middle would cut a worker's start in
        # two (it would die reading its half-sent start-up data, with a traceback), so it
        # waits for the end of the call; the worker, started with SIGINT blocked, holds a
        # Ctrl-C that comes while it imports pending until its initializer discards it.
        with _interrupts_deferred():
            return super().submit(fn, *args, **kwargs)


#: The signals that stop a run: Ctrl-C, and SIGTERM, which the command line takes as Ctrl-C.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _stop_signals_handled(handler: Any) -> Iterator[None]:
    """Within the block, ``handler`` takes every stop signal; the previous handlers are put
    back after it. Outside the main thread (where no handler can be set) nothing changes."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = ({signum: signal.signal(signum, handler) for signum in _STOP_SIGNALS}
                if in_main_thread else {})
    try:
        yield
    finally:
        for signum, handler_before in previous.items():
            signal.signal(signum, handler_before)


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM are blocked in this thread (processes started
    here inherit that) and one that reaches the process anyway (another thread takes it) is
    only recorded; when the block ends it is raised again, to the handler the caller had
    (KeyboardInterrupt if that handler lets it pass)."""
    received: list[int] = []

    def record(signum, frame) -> None:
        received.append(signum)

    with _stop_signals_handled(record):
        mask = (signal.pthread_sigmask(signal.SIG_BLOCK, set(_STOP_SIGNALS))
                if hasattr(signal, "pthread_sigmask") else None)
        try:
            yield
        finally:
            if mask is not None:  # a signal held pending is delivered here, to the recorder
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    if received:
        signal.raise_signal(received[0])
        raise KeyboardInterrupt


def _ignore_interrupts() -> None:
    """A local worker's initializer: leave Ctrl-C to the parent (a Ctrl-C held pending while
    the worker started is discarded by ignoring it, then unblocking); SIGTERM keeps its
    default, so that the pool can still terminate its workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(_STOP_SIGNALS))


def _stop_workers(pool: ProcessPoolExecutor, before: set[int],
                  folder: str | os.PathLike | None) -> None:
    """Cancel the pool's pending jobs, kill its workers (the children not in ``before``; a
    job inside a numba kernel would not see a gentler signal for minutes) and remove their
    temporary files. A second Ctrl-C or SIGTERM meanwhile is ignored, so that the cleaning-up
    is not itself cut short."""
    with _stop_signals_handled(signal.SIG_IGN):
        pool.shutdown(wait=False, cancel_futures=True)
        stopped = [child.pid for child in multiprocessing.active_children()
                   if child.pid not in before]
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5.0
        for pid in stopped:
            while _running(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            if folder is not None:
                remove_temporary_files(folder, pid)


def _running(pid: int) -> bool:
    """Whether process ``pid`` still runs (a killed child not yet reaped by the pool does
    not: it is a zombie, state Z)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: give it a moment
        time.sleep(0.2)
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@contextlib.contextmanager
def dask_executor(scheduler: str) -> Iterator[Executor]:
    """A ``concurrent.futures`` executor backed by a Dask distributed scheduler; if the block
    raises (Ctrl-C included), its jobs are cancelled on the cluster."""
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
        executor = client.get_executor(pure=False)
        try:
            yield executor
        except BaseException:
            executor.shutdown(wait=False)  # cancels its futures, running ones too
            raise
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
                   data_progress: DataProgress | None = None,
                   overwrite: bool = False) -> dict[str, Any]:
    """Build, run (resuming) and aggregate a study (a ``Study`` or a preset's name).

    Writes ``root/aggregate.json`` (statistics over replicates, per group and grid point) and
    ``root/results.csv`` (one row per job and layer, ``ising_rg.experiments.table``); returns
    the aggregate. Every check (the study's, ``max_jobs``, ``workers``, the tables') comes
    before any job.

    Resuming: finished jobs, data sets and trained networks are reused, never rewritten. The
    tables are written when absent and left untouched when the run reproduces them (the same
    study again); tables of another study in ``root`` are replaced only if ``overwrite``
    (``check_tables``).
    """
    from ising_rg.checks import check_integer

    check_integer(workers, "--workers", 1)
    study = _study(study)
    jobs = build_study_jobs(study, root_seed, max_jobs)
    identity = _tables_identity(study, jobs, root_seed)
    check_tables(root, identity, overwrite)
    context = dask_executor(scheduler) if scheduler else local_executor(workers, root)
    with context as executor:
        results = run_jobs(jobs, root, executor, progress, data_progress)
    results = [resummarize(result, root) for result in results]
    summary = aggregate(results)
    summary["preset"] = identity["preset"]
    summary["root_seed"] = identity["root_seed"]
    summary["settings"] = report_settings(jobs)
    summary["jobs"] = [{"name": r["key"], "job": r["job"], "seconds": r["seconds"]}
                       for r in results]
    summary["data_sets"] = _data_sets(jobs, root)
    try:
        write_unless_unchanged(Path(root) / AGGREGATE_NAME, json_text(summary), overwrite)
        write_table(Path(root) / TABLE_NAME, results, overwrite)
    except IsingRGError as error:  # the same study, but a job was computed again
        raise IsingRGError(f"{error}: a job of this study was computed again since they were "
                           "written (its results are kept under jobs/)") from None
    return summary


def resummarize(result: dict[str, Any], root: str | os.PathLike) -> dict[str, Any]:
    """The job's flat summary made again from its stored metrics and extra measurements, so
    that what the tables and the report take from a job can grow without running it again."""
    path = Path(root) / "jobs" / result["key"] / "metrics.json"
    if not path.is_file():
        return result
    return dict(result, summary=summarize(json.loads(path.read_text()), result["extras"]))


#: The study's statistics over replicates, written beside ``results.csv``.
AGGREGATE_NAME = "aggregate.json"


def _tables_identity(study: Study, jobs: list[Job], root_seed: int | None) -> dict[str, Any]:
    """What makes the tables of ``root`` those of this study: its source, root seed and jobs
    (their keys and settings as listed)."""
    return {"preset": study.source.removeprefix("preset "),
            "root_seed": study.seed if root_seed is None else root_seed,
            "jobs": [{"name": job.key, "job": job.to_dict()} for job in jobs]}


def check_tables(root: str | os.PathLike, identity: dict[str, Any], overwrite: bool) -> None:
    """Before any job: may the study's tables (``aggregate.json``, ``results.csv``) be written
    into ``root``? Yes if they are absent, if ``overwrite``, or if ``aggregate.json`` is this
    study's (same source, root seed and jobs: the run resumes it and reproduces the tables).

    Raises
    ------
    IsingRGError
        If ``root`` holds the tables of another study (or tables without a readable
        ``aggregate.json``) and ``overwrite`` is false.
    """
    root = Path(root)
    present = [root / name for name in (AGGREGATE_NAME, TABLE_NAME) if (root / name).exists()]
    if overwrite or not present:
        return
    try:
        stored = json.loads((root / AGGREGATE_NAME).read_text())
        same = (stored["preset"] == identity["preset"]
                and stored["root_seed"] == identity["root_seed"]
                and [{"name": entry["name"], "job": entry["job"]} for entry in stored["jobs"]]
                == identity["jobs"])
    except (OSError, ValueError, KeyError, TypeError):  # absent, damaged or not ours
        same = False
    if not same:
        raise IsingRGError(
            f"{present[0]} holds the tables of another study (or another --seed); use "
            "--overwrite to replace them (finished jobs are reused either way), or another --out")


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

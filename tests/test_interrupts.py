"""Ctrl-C as a user presses it: SIGINT to the whole process group of a real `ising-rg`
subprocess while it works. Every command stops within seconds with exit status 130 and one
line "Aborted...", leaves no temporary or half-written file and keeps what was finished: a
rerun of `experiment` reuses the finished jobs."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ising_rg.io.samples import write_samples
from ising_rg.sampling.sampler import sample
from ising_rg.settings import SampleOptions

REPOSITORY = Path(__file__).resolve().parents[1]
#: The promise: stopped this soon after Ctrl-C.
STOP_SECONDS = 5.0
#: How long the work before the interrupt may take at most (a loaded machine), not a timing.
START_TIMEOUT = 300.0

# One slow job (it would train for minutes) and two quick ones: the runner starts the slow
# one first, so that when a quick one has finished, both workers are busy.
STUDY = """\
seed = 3
[defaults]
data = { size = 8, samples = 300 }
network = { hidden = [8, 4] }
analysis = { generative_samples = 10, gibbs_steps = 8, extras = [] }
[[groups]]
name = "quick"
replicates = [0]
recipe = { epochs = [1, 2] }
[[groups]]
name = "slow"
replicates = [0]
recipe = { epochs = 200000 }
"""


def _interruptible() -> None:
    """In the child before exec: SIGINT back to its default, as in a terminal's foreground job.
    A suite started in the background by a non-interactive shell inherits SIGINT ignored
    (POSIX), and an ignored signal stays ignored across exec."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Command:
    """``ising-rg ARGS`` in its own session (a process group, as a terminal's foreground
    job), its stderr read line by line."""

    def __init__(self, *args: str, cwd: Path) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPOSITORY))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ising_rg", *args], cwd=cwd, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            preexec_fn=_interruptible)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, text: str) -> str:
        """The first stderr line containing ``text`` (fails if the command ends first)."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            line = self.lines.get(timeout=deadline - time.monotonic())
            assert line is not None, f"ended before {text!r}:\n{''.join(self.stderr)}"
            self.stderr.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} within {START_TIMEOUT} s")

    def workers(self) -> list[int]:
        """The live child processes of the command (its worker pool)."""
        return [pid for pid, parent, state in _processes()
                if parent == self.process.pid and state not in "ZX"]

    def interrupt(self) -> tuple[int, str, str]:
        """Ctrl-C: SIGINT to the whole group; (exit status, stdout, rest of stderr) once it
        has ended, which must be within STOP_SECONDS."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self._ended("Ctrl-C")

    def terminate(self) -> tuple[int, str, str]:
        """SIGTERM to the command alone (as `kill PID` or a batch scheduler sends it), then
        as ``interrupt``."""
        os.kill(self.process.pid, signal.SIGTERM)
        return self._ended("SIGTERM")

    def _ended(self, what: str) -> tuple[int, str, str]:
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise AssertionError(f"still running {STOP_SECONDS} s after {what}") from None
        rest = []
        while (line := self.lines.get(timeout=10)) is not None:
            rest.append(line)
        return self.process.returncode, self.process.stdout.read(), "".join(rest)

    def assert_group_ends(self) -> None:
        """No process of the group is left running (killed workers included) shortly after
        the command ended; zombies wait for init, which may take its time."""
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline:
            alive = [pid for pid, group, state in _processes(group=True)
                     if group == self.process.pid and state not in "ZX"]
            if not alive:
                return
            time.sleep(0.05)
        raise AssertionError(f"processes {alive} of the command still run")


def _processes(group: bool = False) -> list[tuple[int, int, str]]:
    """(pid, parent pid or process group, state) of every process, from /proc."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out.append((int(stat.parent.name), int(fields[2 if group else 1]), fields[0]))
    return out


def _assert_aborted(status: int, stdout: str, rest: str, expected: int = 130,
                    word: str = "Aborted") -> None:
    assert status == expected, rest
    assert stdout == ""
    lines = rest.splitlines()
    assert len(lines) == 1 and lines[0].startswith(word), rest
    assert "Traceback" not in rest


def test_sigterm_stops_a_busy_experiment_and_its_workers(tmp_path):
    """SIGTERM to the parent alone (its workers do not see it): the same clean stop as
    Ctrl-C, exit status 143, and no worker left running a job on its own."""
    (tmp_path / "study.toml").write_text(STUDY)
    command = Command("experiment", "--spec", "study.toml", "--out", "runs", "--workers", "2",
                      cwd=tmp_path)
    command.wait_for("] ran quick")
    assert len(command.workers()) >= 2
    status, stdout, rest = command.terminate()
    _assert_aborted(status, stdout, rest, expected=143, word="Terminated: the finished jobs")
    command.assert_group_ends()
    assert _temporary_files(tmp_path) == []
    assert not (tmp_path / "runs" / "aggregate.json").exists()


def _temporary_files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.name.endswith(".tmp")]


pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="reads process states from /proc")


def test_ctrl_c_stops_a_busy_experiment_at_once_and_a_rerun_resumes(tmp_path):
    (tmp_path / "study.toml").write_text(STUDY)
    args = ("experiment", "--spec", "study.toml", "--out", "runs", "--workers", "2")
    runs = tmp_path / "runs"
    command = Command(*args, cwd=tmp_path)
    finished = command.wait_for("] ran quick")
    assert len(command.workers()) >= 2  # both busy: the slow job and the other quick one
    _assert_aborted(*command.interrupt())
    command.assert_group_ends()
    assert _temporary_files(tmp_path) == []
    assert not (runs / "aggregate.json").exists() and not (runs / "results.csv").exists()
    results = sorted(runs.glob("jobs/*/result.json"))
    assert len(results) >= 1  # the quick job(s) that finished, complete
    kept = {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in results}
    # The slow job has not finished: its folder holds no result (it is run again, from the
    # start); the other quick job may or may not have started.
    assert len(results) < len(list(runs.glob("jobs/*"))) <= 3

    # The same command again: the finished jobs are reused, not recomputed.
    again = Command(*args, cwd=tmp_path)
    reused = [again.wait_for("] reused quick") for _ in results]
    assert all("quick" in line for line in reused) and finished.split("] ran ")[1].split(
        " (")[0] in "".join(reused)
    _assert_aborted(*again.interrupt())
    again.assert_group_ends()
    assert {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in results} == kept
    assert _temporary_files(tmp_path) == []


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A sample file and a model trained on it."""
    from ising_rg.pipeline import run_train
    from ising_rg.settings import Recipe

    root = tmp_path_factory.mktemp("small")
    data = write_samples(sample(SampleOptions(8, 0.4, 400, seed=2)), root / "data.h5")
    run_train(data, root / "model.h5", (16, 4), Recipe(epochs=1, batch_size=20))
    return {"data": str(data), "model": str(root / "model.h5")}


# command, what it prints once it works (off a terminal), and the output it must not leave
WORKING = {
    "train": (("train", "--data", "{data}", "--hidden", "16,4", "--epochs", "200000", "--out",
               "out/dbn.h5"), "layer 1/2 (64->16)", "out/dbn.h5"),
    "sample": (("sample", "--size", "64", "--samples", "2000000", "--out", "out/data.h5"),
               "sampling L=64", "out/data.h5"),
    "analyze": (("analyze", "--model", "{model}", "--data", "{data}", "--out", "out",
                 "--generative-samples", "2000", "--gibbs-steps", "100000"),
                "analyze: generative sampling ...", "out/metrics.json"),
}


@pytest.mark.parametrize("name", list(WORKING))
def test_ctrl_c_stops_a_working_command_without_writing_its_output(small, tmp_path, name):
    args, working, output = WORKING[name]
    command = Command(*(arg.format(**small) for arg in args), cwd=tmp_path)
    command.wait_for(working)
    _assert_aborted(*command.interrupt())
    command.assert_group_ends()
    assert not (tmp_path / output).exists()
    assert [path.name for path in tmp_path.rglob("*") if path.is_file()] == []


def test_sigterm_stops_training_without_writing_its_output(small, tmp_path):
    args, working, output = WORKING["train"]
    command = Command(*(arg.format(**small) for arg in args), cwd=tmp_path)
    command.wait_for(working)
    _assert_aborted(*command.terminate(), expected=143, word="Terminated")
    assert not (tmp_path / output).exists()
    assert [path.name for path in tmp_path.rglob("*") if path.is_file()] == []


# A pool that starts its workers and is interrupted at once: the Ctrl-C lands while a worker
# is being started (the parent writing its start-up data) or is importing.
_POOL_SCRIPT = """
import os, signal, sys, threading, time
from ising_rg.experiments.runner import local_executor

def fire():
    time.sleep(float(sys.argv[1]))
    os.killpg(os.getpgid(0), signal.SIGINT)

if __name__ == "__main__":
    try:
        with local_executor(2) as pool:
            threading.Thread(target=fire, daemon=True).start()
            for future in [pool.submit(time.sleep, 60) for _ in range(3)]:
                future.result()
    except KeyboardInterrupt:
        print("interrupted")
"""


def test_ctrl_c_while_workers_start_leaves_no_worker_and_no_traceback(tmp_path):
    """Before the fix a quarter of these ended with a worker's traceback on stderr (it read
    half-sent start-up data, or took the KeyboardInterrupt itself while importing), and some
    with the interrupt lost."""
    script = tmp_path / "pool.py"
    script.write_text(_POOL_SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(REPOSITORY))
    for delay in np.linspace(0.0, 0.06, 13):
        process = subprocess.Popen([sys.executable, str(script), str(delay)], env=env,
                                   text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   start_new_session=True, preexec_fn=_interruptible)
        try:
            out, err = process.communicate(timeout=STOP_SECONDS + 30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError(f"Ctrl-C after {delay:.3f} s was lost") from None
        assert (out, err, process.returncode) == ("interrupted\n", "", 0), (delay, err[-500:])

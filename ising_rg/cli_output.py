"""What the ``ising-rg`` commands print (``ising_rg.cli``): progress bars and the analysis'
stage lines on stderr, the per-layer summary of metrics.json, the benchmark table and the
experiment's line per data set and per job.

Progress is drawn only when stderr is a terminal: elsewhere (a log file, a pipe, a batch
job) a bar writes its label once, as a line, and a stage its start and end lines.
"""

from __future__ import annotations

import math
import sys
import threading
import time

import click

from ising_rg.formatting import format_measurement

__all__ = ["JobLines", "ProgressBar", "StageLines", "bench_rows", "bench_table", "data_set_line",
           "epoch_status", "layer_table", "mcrg_table", "validation_line"]


def _clock(seconds: float) -> str:
    """A duration as h:mm:ss (m:ss under an hour)."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """A progress bar on stderr: the count done of the total, the rate and the time left
    (from the mean rate so far), and a short status text; a context manager.

    On a terminal only; elsewhere the label is written once, as a line (click's rule).
    ``update(done, status)`` sets the count done (not an increment); ``total`` corrects the
    total given at first.
    """

    def __init__(self, total: int, label: str, unit: str, hidden: bool = False) -> None:
        self.total, self.unit, self.done, self.status = int(total), unit, 0, ""
        self.start = time.perf_counter()
        self.bar = click.progressbar(length=self.total, label=label, file=sys.stderr,
                                     show_eta=False, show_percent=False, show_pos=False,
                                     item_show_func=self._info, hidden=hidden)

    def __enter__(self) -> ProgressBar:
        self.start = time.perf_counter()
        self.bar.__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        self.bar.__exit__(*exc_info)

    def update(self, done: int, status: str = "", total: int | None = None) -> None:
        if total is not None and total != self.total:  # known only once the work reports
            self.total = self.bar.length = int(total)
        done = min(int(done), self.total)
        self.status = status
        step, self.done = done - self.done, done
        self.bar.update(step, current_item=done)

    def _info(self, _item) -> str:
        parts = [f"{self.done:,}/{self.total:,} {self.unit}"]
        elapsed = time.perf_counter() - self.start
        if self.done and elapsed > 0:
            rate = self.done / elapsed
            if rate >= 1:
                parts.append(f"{rate:,.0f} {self.unit}/s" if rate >= 100
                             else f"{rate:.3g} {self.unit}/s")
            else:
                parts.append(f"{1 / rate:.3g} s per {self.unit.rstrip('s')}")
            if self.done < self.total:
                parts.append(f"{_clock((self.total - self.done) / rate)} left")
        if self.status:
            parts.append(self.status)
        return ", ".join(parts)


def epoch_status(metrics: dict[str, float]) -> str:
    """A training epoch's status for its progress bar: the reconstruction error and, when
    rows are held out, the free-energy gap (held-out minus training, nats)."""
    status = f"recon {metrics['reconstruction_error']:.4f}"
    if "free_energy_gap" in metrics:
        status += f", F-gap {metrics['free_energy_gap']:+.3f} nats"
    return status


class StageLines:
    """``pipeline.Progress`` for the terminal: a line on stderr when a stage starts, its time
    when it ends; in between, on a terminal, the seconds elapsed (updated every second) or,
    for a stage that reports its steps, a ``ProgressBar``."""

    def __init__(self, quiet: bool, command: str = "analyze") -> None:
        self.quiet, self.command = quiet, command
        self.terminal = sys.stderr.isatty()
        self.started: dict[str, float] = {}
        self.bar: ProgressBar | None = None
        self.ticker: _Ticker | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.quiet:
            return
        if done == 0 and stage not in self.started:
            self.close()
            self.started[stage] = time.perf_counter()
            if self.terminal:
                self.ticker = _Ticker(f"{self.command}: {stage} ...")
            else:
                click.echo(f"{self.command}: {stage} ...", err=True)
        elif done < total:
            self._stop_ticker()
            if self.bar is None:
                self.bar = ProgressBar(total, f"  {stage}", "steps").__enter__()
            self.bar.update(done)
        else:
            self.close()
            seconds = time.perf_counter() - self.started.pop(stage, time.perf_counter())
            click.echo(f"{self.command}: {stage} done ({seconds:.1f} s)", err=True)

    def _stop_ticker(self) -> None:
        if self.ticker is not None:
            self.ticker.stop()
            self.ticker = None

    def close(self) -> None:
        """End the line of a stage in progress (its ticker or bar)."""
        self._stop_ticker()
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


class _Ticker:
    """A line on a terminal that shows the seconds since it was made, updated every second
    (by a daemon thread) until ``stop``, which erases it (the stage's end line replaces it)."""

    def __init__(self, text: str) -> None:
        self.text, self.start, self.width = text, time.perf_counter(), 0
        self.stopped = threading.Event()
        self._write(self.text)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _write(self, line: str) -> None:
        self.width = max(self.width, len(line))
        sys.stderr.write(f"\r{line.ljust(self.width)}")
        sys.stderr.flush()

    def _run(self) -> None:
        while not self.stopped.wait(1.0):
            self._write(f"{self.text} {time.perf_counter() - self.start:.0f} s")

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()
        self._write("")
        sys.stderr.write("\r")
        sys.stderr.flush()


def layer_table(metrics: dict) -> list[str]:
    """The per-layer summary of ``metrics.json`` as aligned text lines: block size b, dead
    share, sqrt(PR), R_g, locality and block-spin correlation with their chance levels
    (means over live units, 3 significant digits)."""
    from ising_rg.formatting import significant

    def mean(entry: dict | None, key: str = "mean"):
        return None if not entry else entry.get(key)

    rows = [("layer", "b", "units", "dead", "sqrt(PR)", "R_g", "locality (chance)",
             "block-spin corr. (chance)")]
    for layer in metrics["layers"]:
        pr = mean(layer.get("participation_ratio"))
        dead = layer.get("dead_fraction")
        loc, corr = layer.get("locality"), layer.get("block_spin_correlation")
        rows.append((
            str(layer["index"]), str(layer["block_size"]), str(layer["n_units"]),
            "n/a" if dead is None else f"{100 * dead:.0f}%",
            significant(None if pr is None else math.sqrt(max(pr, 0.0))),
            significant(mean(layer.get("radius_of_gyration"))),
            f"{significant(mean(loc))} ({significant(mean(loc, 'chance'))})",
            f"{significant(mean(corr))} ({significant(mean(corr, 'chance'))})",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows]


def rsmi_control_lines(metrics: dict) -> list[str]:
    """``analyze --filter``'s summary of the RSMI control in ``metrics.json``: the information
    I(H; E) each block rule keeps about its environment, in bits, with its error; the
    first-layer units' mean and the share of their squared weight their windows drop. No
    lines without the control."""
    control = metrics.get("rsmi")
    if not control:
        return []
    environment = control["environment"]
    rules = [f"{name} {format_measurement(rule['bits'], rule['error'])}"
             for name, rule in environment["rules"].items()]
    lines = [f"RSMI control (b = {environment['block_size']}), I(H;E) in bits: "
             + ", ".join(rules)]
    units = environment.get("dbn_units") or {}
    if units.get("units"):
        mean, dropped = units["mean"], units["dropped_share"]
        lines.append(f"  first-layer units in their best windows ({len(units['units'])}, mean): "
                     f"{format_measurement(mean['bits'], mean['error'])} "
                     f"(the windows drop {100 * sum(dropped) / len(dropped):.0f}% of their "
                     "squared weight)")
    return lines


def validation_line(validation: dict) -> str:
    """``ising-rg validate``'s summary of validation.json: how far the sampler's <E>/N and C/N
    lie from Kaufman's exact values, in error bars, over the scan's temperatures, and the 1D
    decimation's largest deviation from exact enumeration."""
    scan = validation["sampler"]
    parts = []
    for name, label in (("energy", "<E>/N"), ("specific_heat", "C/N")):
        pulls = [abs(value - exact) / error for value, exact, error
                 in zip(scan[name], scan[f"{name}_exact"], scan[f"{name}_error"], strict=True)
                 if error]
        within = sum(pull <= 2 for pull in pulls)
        worst = f"{max(pulls):.2g}" if pulls else "n/a"
        parts.append(f"{label} within 2 error bars of exact at {within}/{len(scan[name])} "
                     f"temperatures (largest {worst})")
    error = validation["decimation"]["max_enumeration_error"]
    return "; ".join(parts) + f"; 1D decimation off exact enumeration by at most {error:.1e}"


def bench_rows(results: dict) -> list[tuple[str, str]]:
    """``run_benchmarks``' nested dict as (name, value) rows: the keys of each value's path
    joined by spaces, numbers to 4 significant digits."""
    from ising_rg.formatting import significant

    rows: list[tuple[str, str]] = []

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix} {key}".strip(), item)
        elif isinstance(value, bool | str):
            rows.append((prefix, str(value)))
        else:
            rows.append((prefix, significant(value, 4)))

    walk("", results)
    return rows


def bench_table(results: dict) -> list[str]:
    """``run_benchmarks``' nested dict as aligned "name  value" lines (``bench_rows``)."""
    rows = bench_rows(results)
    width = max((len(name) for name, _ in rows), default=0)
    return [f"{name.ljust(width)}  {value}" for name, value in rows]


def data_set_line(done: int, total: int, options: dict, result: dict) -> None:
    """The experiment's ``data_progress``: a line on stderr per data set sampled."""
    click.echo(f"[data {done}/{total}] sampled L={options['size']} "
               f"K={options['coupling']:g}, {options['samples']} samples, seed "
               f"{options['seed']} ({result['seconds']:.0f} s)", err=True)


class JobLines:
    """The experiment's ``progress``: a line on stderr per job run or reused, with the time
    elapsed since this object was made."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self, done: int, total: int, result: dict) -> None:
        job = result["job"]
        state = "ran" if result.get("computed") else "reused"
        label = f" [{job['label']}]" if job.get("label") else ""
        click.echo(f"[{done}/{total}] {state} {job['group']} K={job['coupling']:g}{label} "
                   f"seed {job['replicate']} ({sum(result['seconds'].values()):.0f} s, "
                   f"{time.perf_counter() - self.start:.0f} s elapsed)", err=True)


def mcrg_table(result: dict) -> list[str]:
    """``ising-rg mcrg``'s summary: per coarse-grainer and level, the nearest-neighbour
    coupling K' (nn projection) and y_t, y_h with their errors."""
    lines = [f"{'coarse-grainer':<16} {'level':>5} {'L':>4} {'K_nn':>16} {'y_t':>16} "
             f"{'y_h':>16}"]

    def shown(entry: dict | None) -> str:
        if not entry or entry.get("mean") is None:
            return "-"
        return format_measurement(entry["mean"], entry.get("error"))

    for name, coarse in result["coarse_grainers"].items():
        for level in coarse["levels"]:
            lines.append(f"{name:<16} {level['level']:>5} {level['size']:>4} "
                         f"{shown(level['nn_projection']):>16} {shown(level['y_t']):>16} "
                         f"{shown(level['y_h']):>16}")
    exact = result["settings"]["exact"]
    lines.append(f"exact 2D Ising at K_c: y_t = {exact['y_t']:g}, y_h = {exact['y_h']:g}")
    return lines


def rsmi_lines(model) -> list[str]:
    """``ising-rg rsmi``'s summary: the filter's weights and the information it keeps."""
    lines = ["filter Lambda (spin units):"]
    lines += ["  " + " ".join(f"{w:+8.3f}" for w in row) for row in model.filter_]
    bound = format_measurement(model.mutual_information_, model.mutual_information_error_)
    lines.append(f"I(H;E) >= {bound} bits on held-out configurations (H(H) = "
                 f"{model.entropy_:.4f} bits, "
                 f"I(H;V) = {model.block_information_:.4f} bits)")
    return lines

"""What the ``ising-rg`` commands print (``ising_rg.cli``): the analysis' stage lines and
progress bars on stderr, the per-layer summary of metrics.json, the benchmark table and the
experiment's line per data set and per job.
"""

from __future__ import annotations

import math
import sys
import time

import click

from ising_rg.formatting import format_measurement

__all__ = ["JobLines", "StageLines", "bench_table", "data_set_line", "layer_table"]


class StageLines:
    """``pipeline.Progress`` for the terminal: a line on stderr when a stage starts, its time
    when it ends, and a progress bar for a stage that reports steps."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.started: dict[str, float] = {}
        self.bar = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.quiet:
            return
        if done == 0 and stage not in self.started:
            self.started[stage] = time.perf_counter()
            click.echo(f"analyze: {stage} ...", err=True)
        elif done < total:
            if self.bar is None:
                self.bar = click.progressbar(length=total, label=f"  {stage}", file=sys.stderr)
                self.bar.__enter__()
            self.bar.update(done - self.bar.pos)
        else:
            self.close()
            seconds = time.perf_counter() - self.started.pop(stage, time.perf_counter())
            click.echo(f"analyze: {stage} done ({seconds:.1f} s)", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


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


def bench_table(results: dict) -> list[str]:
    """``run_benchmarks``' nested dict as aligned "name  value" lines (4 significant digits)."""
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

"""What the report's sections and figures share: reading aggregated metrics and formatting them.

Every number of the report is written by ``format_measurement`` (a mean rounded by its standard
error; ``ising_rg.formatting``) or, for a number without an error, ``significant``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ising_rg import paper
from ising_rg.experiments.aggregate import group_key
from ising_rg.formatting import format_measurement, significant

__all__ = ["L1_ZERO_KEY", "PAPER_KEY", "PERMUTED_KEY", "PREVIOUS_REPORT", "SIGMAS",
           "UNTRAINED_KEY", "ReportInputs", "count", "differs", "fm", "fmt_length", "measured",
           "format_measurement", "group_keys", "job_setting", "layer_indices", "metric",
           "reference", "sci", "significant", "sweep_rows", "with_chance"]

#: The aggregate's groups at the paper's coupling: the paper recipe and each control.
PAPER_KEY, L1_ZERO_KEY, PERMUTED_KEY, UNTRAINED_KEY = (
    group_key(group, paper.COUPLING) for group in ("paper", "l1_zero", "permuted", "untrained")
)


#: The report this one's "earlier answer" lines compare with: the study of the same preset
#: before the instruments were calibrated on cases built like the trained networks.
PREVIOUS_REPORT = "the previous report (commit 59b67b6)"


@dataclass(frozen=True)
class ReportInputs:
    """Everything a section reads: the experiment's ``aggregate.json``, the jobs'
    ``result.json`` dicts, and the folder the figures go to."""

    aggregate: dict
    results: list[dict]
    figure_dir: Path

    @property
    def size(self) -> int:
        """Lattice size L of the experiment."""
        return self.aggregate["settings"]["size"]

    @property
    def layers(self) -> list[int]:
        """Layer indices of the paper group (1, 2, ...)."""
        return layer_indices(self.aggregate, PAPER_KEY)


def metric(agg: dict, group_key: str, name: str) -> tuple[float, float, int]:
    """(mean, sem, n) of a metric, NaN where absent."""
    entry = agg["groups"].get(group_key, {}).get("metrics", {}).get(name)
    if not entry or entry["mean"] is None:
        return np.nan, np.nan, 0
    sem = entry["sem"] if entry["sem"] is not None else np.nan
    return entry["mean"], sem, entry["n"]


def measured(agg: dict, group_key: str, name: str) -> tuple[float, float, int]:
    """(mean, error, n) of a metric whose jobs carry their own errors (``<name>_error``: a
    jackknife or paired error): the error of the mean is the larger of the seeds' standard
    error and the jobs' mean error / sqrt(n), so one or two seeds that happen to agree are not
    taken for an exact value."""
    mean, sem, n = metric(agg, group_key, name)
    job_error = metric(agg, group_key, name + "_error")[0]
    if not n:
        return mean, sem, n
    within = job_error / np.sqrt(n) if np.isfinite(job_error) else np.nan
    candidates = [e for e in (sem, within) if np.isfinite(e)]
    return mean, (max(candidates) if candidates else np.nan), n


def fm(value: tuple[float, float, int]) -> str:
    """A ``metric`` (mean, error, n) as text, rounded by its error; a value every seed shares
    is that value ("every seed", not "exact"), one seed's without an error is marked."""
    mean, error, n = value
    if n == 1 and not np.isfinite(error):
        return f"{significant(mean)} (1 seed)"
    if n > 1 and error == 0:
        return f"{significant(mean)} (every seed)"
    return format_measurement(mean, error)




def reference(agg: dict, layer: int, name: str, unit: str = "majority") -> str:
    """What the ideal Kadanoff ``unit`` ('majority' or 'average') of the layer's b scores on
    the paper point's data, measured by the same code (``layers[i].kadanoff_reference``)."""
    return significant(metric(agg, PAPER_KEY, f"layer{layer}.kadanoff_{unit}.{name}")[0])


def count(agg: dict, key: str, name: str) -> str:
    """A 0/1 metric over the seeds as "k of n" ("n/a" when no seed decided)."""
    mean, _, n = metric(agg, key, name)
    return "n/a" if not np.isfinite(mean) or n == 0 else f"{round(mean * n)} of {n}"


def group_keys(agg: dict, group: str) -> list[str]:
    """The aggregate's keys of one study group (several when it varies K or a setting), in
    order of their keys."""
    return sorted(key for key, entry in agg["groups"].items() if entry["group"] == group)


def with_chance(agg: dict, key: str, name: str) -> str:
    """A metric of a group and, in parentheses, the chance level of the same networks."""
    return f"{fm(metric(agg, key, name))} ({fm(metric(agg, key, name + '_chance'))})"


def fmt_length(mean: float, sem: float, size: int) -> str:
    """A fitted correlation length; beyond half the lattice the fit has no decay to measure."""
    if np.isfinite(mean) and mean > size / 2:
        return f"> {size // 2} (no decay)"
    return format_measurement(mean, sem)


def job_setting(results: list[dict], *keys: str) -> object:
    """A setting the jobs used, from the extras of the first job at the paper's point that
    records it (e.g. ``"flow", "runs", "up", "settings", "n_chains"``); None if none does. The
    report's prose states these numbers instead of repeating them as literals."""
    for result in results:
        job = result.get("job", {})
        if job.get("variant") != "paper" or job.get("coupling") != paper.COUPLING:
            continue
        value = result.get("extras", {})
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            return value
    return None


def layer_indices(agg: dict, group_key: str) -> list[int]:
    """Layer indices that appear in a group's metric names ("layer<l>.<name>")."""
    names = agg["groups"].get(group_key, {}).get("metrics", {})
    return sorted({int(n.split(".")[0][5:]) for n in names if n.startswith("layer")})


def sci(value: float) -> str:
    """A small number in short scientific notation: 2e-4, not 0.0002 or 2e-04."""
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


#: A difference counts when it exceeds this many combined standard errors (``differs``).
SIGMAS = 3.0


def differs(a: tuple, b: tuple, sigmas: float = SIGMAS) -> bool | None:
    """Is a above b by more than ``sigmas`` combined standard errors? None if undecidable."""
    (ma, sa, _), (mb, sb, _) = a, b
    if not (np.isfinite(ma) and np.isfinite(mb)):
        return None
    err = np.sqrt(np.nan_to_num(sa) ** 2 + np.nan_to_num(sb) ** 2)
    return bool(ma - mb > sigmas * max(err, 1e-12))


def sweep_rows(agg: dict) -> list[tuple[float, str]]:
    """(coupling, group key) of the coupling sweep, the paper point included, by coupling."""
    rows = []
    for key, group in agg["groups"].items():
        if group["group"] in ("sweep", "paper"):
            rows.append((group["coupling"], key))
    return sorted(rows)

"""The generated report ``reports/rg_report.md``: each question, its measurement, its answer.

Everything here reads the experiment's results (``aggregate.json`` and each job's
``result.json``); nothing is trained or sampled. ``sections`` holds the text, one function per
section (``lengths`` and ``flow`` some of them); ``capacity`` the recipe and capacity study's;
``figures`` the figures they embed; ``common`` what they share.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ising_rg.errors import IsingRGError
from ising_rg.experiments.jobs import Job
from ising_rg.experiments.report.capacity import STUDY_GROUP_PREFIXES, STUDY_SECTIONS, has_study
from ising_rg.experiments.report.common import PAPER_KEY, ReportInputs
from ising_rg.experiments.report.sections import SECTIONS, cost
from ising_rg.io.atomic import atomic_output, check_output_path

__all__ = ["check_report_output", "write_report"]


def check_report_output(jobs: Sequence[Job], out_path: str | os.PathLike,
                        overwrite: bool = False) -> None:
    """Before hours of jobs: can a study of these jobs be reported, and may the report be
    written to ``out_path`` (its folder is created if missing)? IsingRGError otherwise.

    The report's sections need the paper group's point ``PAPER_KEY`` (K = 0.408, no other grid
    axis); the capacity study's, groups named capacity* or exact*."""
    points = {job.point for job in jobs}
    if PAPER_KEY not in points and not any(
            job.group.startswith(STUDY_GROUP_PREFIXES) for job in jobs):
        papers = sorted({job.point for job in jobs if job.group == "paper"})
        found = f"; this study's paper points: {', '.join(papers)}" if papers else ""
        raise IsingRGError(f"--report needs a group named 'paper' with the point {PAPER_KEY} "
                           "(K = 0.408, no other grid axis: the default preset's report) or "
                           f"groups named capacity* / exact* (the capacity study's){found}")
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    check_output_path(out_path, overwrite)


def write_report(aggregate: dict, results: list[dict], out_path: str | os.PathLike) -> Path:
    """Write the markdown report and its figures (next to it, in ``figures/``).

    Parameters
    ----------
    aggregate : dict, the experiment's ``aggregate.json`` (``experiments.runner``)
    results : list of dict, the jobs' ``result.json``
    out_path : path of the markdown file (replaced if it exists)
    """
    out_path = Path(out_path)
    figure_dir = out_path.parent / "figures"
    figure_dir.mkdir(parents=True, exist_ok=True)
    inputs = ReportInputs(aggregate, results, figure_dir)
    # The report study's sections when its paper group is there, the recipe and capacity
    # study's when its groups are (both, one after the other, for a study that has both).
    sections = (SECTIONS if PAPER_KEY in aggregate["groups"] else ()) + (
        STUDY_SECTIONS if has_study(inputs) else ())
    if not sections:
        raise IsingRGError("the study has neither the report's paper group nor the capacity "
                           "study's groups: nothing to report")
    lines = [line for section in (*sections, cost) for line in section(inputs)]
    with atomic_output(out_path, overwrite=True) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return out_path

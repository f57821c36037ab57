"""The generated report ``reports/rg_report.md``: each question, its measurement, its answer.

Everything here reads the experiment's results (``aggregate.json`` and each job's
``result.json``); nothing is trained or sampled. ``sections`` holds the text, one function per
section; ``figures`` the figures they embed; ``common`` what both share.
"""

from __future__ import annotations

import os
from pathlib import Path

from ising_rg.experiments.report.common import ReportInputs
from ising_rg.experiments.report.sections import SECTIONS
from ising_rg.io.atomic import atomic_output

__all__ = ["write_report"]


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
    lines = [line for section in SECTIONS for line in section(inputs)]
    with atomic_output(out_path, overwrite=True) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return out_path

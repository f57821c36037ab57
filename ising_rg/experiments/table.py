"""The experiment's results as one tidy table: ``results.csv``, one row per job and layer.

Columns: the job's identity (``key``, ``group``, ``point``, ``replicate``), its settings
(``ising_rg.experiments.spec.SETTINGS``, with ``temperature`` = 1 / ``coupling``), ``layer``,
then the metrics: the layer's own (``locality``, ``block_spin_correlation``, ...: the
``layer<l>.<name>`` entries of the job's summary) and the job's (``data_correlation_length``,
``generative_energy_per_spin_dbn``, ...: the other summary entries, dots turned into
underscores), repeated on each of its layers' rows, and the wall time per stage
(``seconds_<stage>``). docs/experiments.md lists them.

Cells: integers and floats in Python's round-trip form, booleans ``True``/``False``, lists as
JSON arrays (``[400, 100, 25]``), missing values empty. pandas reads it as is
(``pandas.read_csv``); ``read_table`` reads it back with the standard library.

``summary_lines`` is ``ising-rg experiment --summary``: mean and standard error over the
replicates of each grid point and layer.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ising_rg.errors import IsingRGError
from ising_rg.experiments.spec import SETTINGS
from ising_rg.formatting import format_measurement
from ising_rg.io.atomic import write_unless_unchanged

TABLE_NAME = "results.csv"
IDENTITY = ("key", "group", "point", "replicate")
STAGES = ("sample", "train", "analyze", "extras")
#: The columns ``--summary`` shows unless told otherwise.
SUMMARY_METRICS = ("locality", "block_spin_correlation", "radius_of_gyration", "dead_fraction")


def setting_columns() -> tuple[str, ...]:
    """Identity and settings columns, in order (``temperature`` after ``coupling``)."""
    settings = []
    for name in SETTINGS:
        settings.append(name)
        if name == "coupling":
            settings.append("temperature")
    return (*IDENTITY, *settings)


def table_rows(results: list[dict]) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns and rows (one per job and layer) of ``results`` (``run_jobs``' output)."""
    from ising_rg.experiments.aggregate import group_key

    rows = []
    layer_names: set[str] = set()
    job_names: set[str] = set()
    for result in results:
        job = result["job"]
        base: dict[str, Any] = {name: job.get(name) for name in setting_columns()}
        base.update(key=result["key"], temperature=1.0 / job["coupling"],
                    point=group_key(job["group"], job["coupling"], job.get("label", "")))
        layers: dict[int, dict[str, Any]] = {}
        for name, value in result["summary"].items():
            head, _, rest = name.partition(".")
            if head.startswith("layer") and head[5:].isdigit():
                layers.setdefault(int(head[5:]), {})[rest.replace(".", "_")] = value
            else:
                base[name.replace(".", "_")] = value
        for stage in STAGES:
            base[f"seconds_{stage}"] = result.get("seconds", {}).get(stage)
        job_names.update(name for name in base if name not in setting_columns())
        for layer in sorted(layers):
            layer_names.update(layers[layer])
            rows.append({**base, "layer": layer, **layers[layer]})
    seconds = [f"seconds_{stage}" for stage in STAGES]
    columns = [*setting_columns(), "layer", *sorted(layer_names),
               *sorted(job_names - set(seconds) - {"key", "temperature", "point"}), *seconds]
    return columns, rows


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, list | tuple):
        return json.dumps(list(value))
    return str(value)  # ints, strings; floats in their shortest round-trip form


def table_text(results: list[dict]) -> str:
    """``results`` as the text of ``results.csv`` (header, then one row per job and layer)."""
    columns, rows = table_rows(results)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in columns])
    return buffer.getvalue()


def write_table(path: str | os.PathLike, results: list[dict], overwrite: bool = True) -> Path:
    """Write ``results`` as ``results.csv`` (written, then renamed; a file that holds the same
    table already is left untouched, one that holds another is replaced only if
    ``overwrite``)."""
    write_unless_unchanged(path, table_text(results), overwrite)
    return Path(path)


def _value(text: str) -> Any:
    """A cell back in its type: '' -> None, int, float, True/False, JSON list, else the text."""
    if text == "":
        return None
    if text in ("True", "False"):
        return text == "True"
    if text.startswith("["):
        return json.loads(text)
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read_table(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of a ``results.csv``, each cell in its type (``_value``)."""
    path = Path(path)
    if not path.is_file():
        raise IsingRGError(f"{path} does not exist: run `ising-rg experiment` first")
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "layer" not in reader.fieldnames:
            raise IsingRGError(f"{path} is not an experiment's results table")
        try:
            return [{name: _value(text) for name, text in row.items()} for row in reader]
        except (ValueError, AttributeError) as error:
            raise IsingRGError(f"{path}: unreadable cell ({error})") from None


def mean_and_error(values: Sequence[float]) -> tuple[float | None, float | None, int]:
    """Mean, standard error of the mean (None for fewer than 2) and count of the finite
    values."""
    finite = [float(v) for v in values
              if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)]
    n = len(finite)
    if not n:
        return None, None, 0
    mean = sum(finite) / n
    if n < 2:
        return mean, None, n
    variance = sum((v - mean) ** 2 for v in finite) / (n - 1)
    return mean, math.sqrt(variance / n), n


def summary_lines(rows: list[dict[str, Any]],
                  metrics: Sequence[str] = SUMMARY_METRICS) -> list[str]:
    """The table grouped by grid point and layer: replicates ``n`` and, per metric, mean ±
    standard error over the replicates, as aligned text lines (header first)."""
    if rows:
        missing = [name for name in metrics if name not in rows[0]]
        if missing:
            raise IsingRGError(f"no column {missing[0]!r} in the results table; columns: "
                               + ", ".join(name for name in rows[0] if name not in IDENTITY))
    groups: dict[tuple[str, int], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["point"], row["layer"]), []).append(row)
    table = [["point", "layer", "n", *metrics]]
    for (point, layer), members in groups.items():
        cells = [point, str(layer), str(len(members))]
        for name in metrics:
            mean, error, _ = mean_and_error([row[name] for row in members])
            # identical replicates (error 0) are not an exact value: show the mean alone
            cells.append(format_measurement(mean, error or None))
        table.append(cells)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in table]

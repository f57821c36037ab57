"""The results folder written by ``ising-rg analyze`` and ``ising-rg validate``, read by
``ising-rg figures``.

    results/metrics.json   every number of the analysis (schema in the README), JSON
    results/arrays.h5      the arrays behind the figures:
        /fields/weight_product/<l>        float32 (n_l, L, L), r(l) = W(1)...W(l)
        /fields/activation_weighted/<l>   float32 (n_l, L, L), <v | h_a> - <v>
        /fields/live/<l>                  bool (n_l,), not dead
        /example/spins                    int8 (L, L), one Monte Carlo configuration
        /example/reconstruction/<l>       float32 (L, L), P(v=1) after going up to layer l and back
        /example/block_spins/<b>          int8 (L/b, L/b), majority-rule block spins
        /history/<l>/<name>               float64 (n_epochs,), training history of layer l
        root attributes: format="ising_rg.results", format_version
    results/validation.json   ``ising-rg validate``: ``settings``, ``sampler`` (Monte Carlo
                              temperature scan against the exact values), ``decimation`` (the
                              1D chain), JSON
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ising_rg.errors import IsingRGError
from ising_rg.io.atomic import atomic_output, check_output_path
from ising_rg.io.jsonfile import write_json

RESULTS_FORMAT = "ising_rg.results"
RESULTS_FORMAT_VERSION = 1
METRICS_NAME = "metrics.json"
ARRAYS_NAME = "arrays.h5"
VALIDATION_NAME = "validation.json"


def _results_folder(out_dir: str | os.PathLike) -> Path:
    """``out_dir`` as a Path, created if missing (IsingRGError if it is a file)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise IsingRGError(f"output {out_dir} exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir


def write_results(out_dir: str | os.PathLike, metrics: dict, arrays: dict[str, Any],
                  overwrite: bool = False) -> Path:
    """Write metrics.json and arrays.h5 into ``out_dir`` (created if missing), atomically.

    ``arrays`` maps HDF5 paths (e.g. "fields/weight_product/1") to numpy arrays.
    """
    out_dir = _results_folder(out_dir)
    for name in (METRICS_NAME, ARRAYS_NAME):  # check both before writing either
        if (out_dir / name).exists() and not overwrite:
            raise IsingRGError(
                f"output {out_dir / name} already exists (use --overwrite to replace it)")
    with atomic_output(out_dir / ARRAYS_NAME, overwrite) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = RESULTS_FORMAT
        f.attrs["format_version"] = RESULTS_FORMAT_VERSION
        for key, value in arrays.items():
            f.create_dataset(key, data=np.asarray(value))
    write_json(out_dir / METRICS_NAME, metrics, overwrite)
    return out_dir


def check_validation_output(out_dir: str | os.PathLike, overwrite: bool = False) -> Path:
    """Create ``out_dir`` if missing and check that validation.json may be written there."""
    return check_output_path(_results_folder(out_dir) / VALIDATION_NAME, overwrite)


def write_validation(out_dir: str | os.PathLike, validation: dict,
                     overwrite: bool = False) -> Path:
    """Write ``out_dir/validation.json`` (folder created if missing), atomically."""
    return write_json(check_validation_output(out_dir, overwrite), validation, overwrite)


def _read_json(path: Path, command: str) -> Any:
    if not path.is_file():
        raise IsingRGError(f"{path} not found: run `ising-rg {command}` first")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise IsingRGError(f"{path} is not valid JSON") from None


def read_metrics(results_dir: str | os.PathLike) -> dict:
    """The metrics dict from ``results_dir/metrics.json``, with a clear error if absent."""
    path = Path(results_dir) / METRICS_NAME
    metrics = _read_json(path, "analyze")
    if not isinstance(metrics, dict) or "layers" not in metrics:
        raise IsingRGError(f"{path} is not an ising_rg metrics file (no 'layers')")
    return metrics


def read_validation(results_dir: str | os.PathLike) -> dict:
    """The dict of ``results_dir/validation.json``, with a clear error if absent."""
    path = Path(results_dir) / VALIDATION_NAME
    validation = _read_json(path, "validate")
    if not isinstance(validation, dict) or not {"sampler", "decimation"} <= set(validation):
        raise IsingRGError(f"{path} is not an ising_rg validation file")
    return validation


def read_arrays(results_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every dataset of ``results_dir/arrays.h5`` as {path: array}."""
    path = Path(results_dir) / ARRAYS_NAME
    if not path.is_file():
        raise IsingRGError(f"{path} not found: run `ising-rg analyze` first")
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise IsingRGError(f"{path} is not an HDF5 file") from None
    with f:
        if f.attrs.get("format") != RESULTS_FORMAT:
            raise IsingRGError(f"{path} is not an ising_rg results file")
        out: dict[str, np.ndarray] = {}
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return out


def read_available(results_dir: str | os.PathLike) -> dict[str, Any]:
    """What ``results_dir`` holds: {"metrics", "arrays", "validation"}, None for each file that
    is absent (a file that is present but broken is an IsingRGError)."""
    results_dir = Path(results_dir)
    readers = (("metrics", METRICS_NAME, read_metrics), ("arrays", ARRAYS_NAME, read_arrays),
               ("validation", VALIDATION_NAME, read_validation))
    return {key: reader(results_dir) if (results_dir / name).exists() else None
            for key, name, reader in readers}

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
from ising_rg.io.hdf5 import check_format, check_input_file, open_hdf5, reading
from ising_rg.io.jsonfile import INTEGER, NUMBER, NUMBER_OR_NULL, check_json, write_json

RESULTS_FORMAT = "ising_rg.results"
RESULTS_FORMAT_VERSION = 1
METRICS_NAME = "metrics.json"
ARRAYS_NAME = "arrays.h5"
VALIDATION_NAME = "validation.json"
MCRG_NAME = "mcrg.json"


def check_results_output(out_dir: str | os.PathLike, names: tuple[str, ...],
                         overwrite: bool = False) -> Path:
    """Check, before any work and creating nothing, that the files ``names`` may be written
    into the results folder ``out_dir`` (which is created when they are written).

    Raises
    ------
    IsingRGError
        If ``out_dir`` is a file or cannot be created, or one of the files exists and
        ``overwrite`` is false.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise IsingRGError(f"output {out_dir} exists and is not a folder")
    for name in names:
        check_output_path(out_dir / name, overwrite)
    return out_dir


def write_results(out_dir: str | os.PathLike, metrics: dict, arrays: dict[str, Any],
                  overwrite: bool = False) -> Path:
    """Write metrics.json and arrays.h5 into ``out_dir`` (created if missing), atomically.

    ``arrays`` maps HDF5 paths (e.g. "fields/weight_product/1") to numpy arrays.
    """
    out_dir = check_results_output(out_dir, (METRICS_NAME, ARRAYS_NAME), overwrite)
    with atomic_output(out_dir / ARRAYS_NAME, overwrite) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = RESULTS_FORMAT
        f.attrs["format_version"] = RESULTS_FORMAT_VERSION
        for key, value in arrays.items():
            f.create_dataset(key, data=np.asarray(value))
    write_json(out_dir / METRICS_NAME, metrics, overwrite)
    return out_dir


def check_validation_output(out_dir: str | os.PathLike, overwrite: bool = False) -> Path:
    """Check that ``out_dir/validation.json`` may be written (before the scan runs)."""
    return check_results_output(out_dir, (VALIDATION_NAME,), overwrite) / VALIDATION_NAME


def write_validation(out_dir: str | os.PathLike, validation: dict,
                     overwrite: bool = False) -> Path:
    """Write ``out_dir/validation.json`` (folder created if missing), atomically."""
    return write_json(check_validation_output(out_dir, overwrite), validation, overwrite)


# What the readers require of each file: the parts the figures and the CLI's summary use.
_SPREAD = {"mean": NUMBER_OR_NULL, "std": NUMBER_OR_NULL}
_FIELD_METRICS = {"participation_ratio": _SPREAD, "radius_of_gyration": _SPREAD,
                  "locality": {**_SPREAD, "chance": NUMBER_OR_NULL}}
METRICS_SCHEMA = {"layers": [{
    "index": INTEGER, "block_size": INTEGER, "n_units": INTEGER,
    "dead_fraction": NUMBER_OR_NULL, **_FIELD_METRICS,
    "block_spin_correlation": {"mean": NUMBER_OR_NULL, "chance": NUMBER_OR_NULL},
    "activation_weighted?": _FIELD_METRICS,
}]}
_SCAN = ("temperature", "energy", "energy_error", "energy_exact", "specific_heat",
         "specific_heat_error", "specific_heat_exact")
_CURVE = ("curve_temperature", "curve_energy", "curve_specific_heat")
VALIDATION_SCHEMA = {
    "sampler": {"size": [INTEGER], **{key: [NUMBER] for key in _SCAN + _CURVE}},
    "decimation": {"ring_size": INTEGER, "map_coupling": [NUMBER], "map_decimated": [NUMBER],
                   "enumeration_coupling": [NUMBER], "enumeration_decimated": [NUMBER],
                   "flows": [[NUMBER]]},
}


def _read_json(path: Path, command: str) -> Any:
    if not path.exists():
        raise IsingRGError(f"{path} not found: run `ising-rg {command}` first")
    check_input_file(path, "results file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise IsingRGError(f"{path} is not valid JSON") from None
    except OSError as exc:
        raise IsingRGError(f"cannot read {path}: {exc.strerror or exc}") from None


def _same_lengths(value: dict, keys: tuple[str, ...], path: Path, where: str) -> None:
    lengths = {key: len(value[key]) for key in keys}
    if len(set(lengths.values())) > 1:
        raise IsingRGError(f"{path}: the lists {where}.{', '.join(keys)} differ in length "
                           f"({', '.join(map(str, lengths.values()))})")


def read_metrics(results_dir: str | os.PathLike) -> dict:
    """The metrics dict from ``results_dir/metrics.json``, checked against ``METRICS_SCHEMA``
    (layers numbered 1, 2, ...)."""
    path = Path(results_dir) / METRICS_NAME
    metrics = _read_json(path, "analyze")
    check_json(metrics, METRICS_SCHEMA, path)
    indices = [layer["index"] for layer in metrics["layers"]]
    if indices != list(range(1, len(indices) + 1)):
        raise IsingRGError(f"{path}: layers must be numbered 1, 2, ..., got {indices}")
    return metrics


def read_validation(results_dir: str | os.PathLike) -> dict:
    """The dict of ``results_dir/validation.json``, checked against ``VALIDATION_SCHEMA``."""
    path = Path(results_dir) / VALIDATION_NAME
    validation = _read_json(path, "validate")
    check_json(validation, VALIDATION_SCHEMA, path)
    _same_lengths(validation["sampler"], _SCAN, path, "sampler")
    _same_lengths(validation["sampler"], _CURVE, path, "sampler")
    decimation = validation["decimation"]
    _same_lengths(decimation, ("map_coupling", "map_decimated"), path, "decimation")
    _same_lengths(decimation, ("enumeration_coupling", "enumeration_decimated"), path,
                  "decimation")
    return validation


def read_arrays(results_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every dataset of ``results_dir/arrays.h5`` as {path: array}, checked: the format, and
    the dtype and shape of every array the figures draw (``_check_arrays``)."""
    path = Path(results_dir) / ARRAYS_NAME
    if not path.exists():
        raise IsingRGError(f"{path} not found: run `ising-rg analyze` first")
    with open_hdf5(path, "results file") as f, reading(path, "results file"):
        check_format(f, path, "results file", RESULTS_FORMAT, RESULTS_FORMAT_VERSION)
        out: dict[str, np.ndarray] = {}
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    _check_arrays(out, path)
    return out


def _numbered(arrays: dict[str, np.ndarray], prefix: str, path: Path) -> dict[int, np.ndarray]:
    """{n: array} of the keys ``prefix/<n>``; IsingRGError for a key whose last part is not a
    positive integer."""
    numbered = {}
    for key, value in arrays.items():
        if key.startswith(prefix + "/"):
            label = key[len(prefix) + 1:]
            if not label.isdigit() or int(label) < 1:
                raise IsingRGError(f"{path}: /{key} should be numbered {prefix}/1, 2, ...")
            numbered[int(label)] = value
    return numbered


def _check_array(value: np.ndarray, kind: str, shape: tuple[int, ...], key: str,
                 path: Path) -> None:
    if value.dtype.kind not in kind or value.shape != shape:
        raise IsingRGError(f"{path}: /{key} must be a {shape} array of kind {kind!r}, got "
                           f"{value.dtype} {value.shape}")


def _check_arrays(arrays: dict[str, np.ndarray], path: Path) -> None:
    """The arrays ``figure_arrays`` writes: fields and live flags of layers 1..n over an
    L x L lattice, the example configuration with its reconstructions and block spins, and
    the training histories (float series, reconstruction_error among them)."""
    if "example/spins" not in arrays:
        raise IsingRGError(f"{path}: dataset /example/spins is missing")
    spins = arrays["example/spins"]
    if spins.ndim != 2 or spins.shape[0] != spins.shape[1] or spins.dtype.kind != "i":
        raise IsingRGError(f"{path}: /example/spins must be an (L, L) integer array, got "
                           f"{spins.dtype} {spins.shape}")
    size = spins.shape[0]
    products = _numbered(arrays, "fields/weight_product", path)
    if sorted(products) != list(range(1, len(products) + 1)) or not products:
        raise IsingRGError(f"{path}: /fields/weight_product must hold layers 1, 2, ..., found "
                           f"{sorted(products)}")
    for group, kind in (("activation_weighted", "f"), ("live", "b")):
        numbered = _numbered(arrays, f"fields/{group}", path)
        if sorted(numbered) != sorted(products):
            raise IsingRGError(f"{path}: /fields/{group} must hold the layers of "
                               f"/fields/weight_product, {sorted(products)}")
        for layer, value in numbered.items():
            n_units = len(products[layer])
            shape = (n_units,) if group == "live" else (n_units, size, size)
            _check_array(value, kind, shape, f"fields/{group}/{layer}", path)
    for layer, value in products.items():
        _check_array(value, "f", (len(value), size, size), f"fields/weight_product/{layer}", path)
    for depth, value in _numbered(arrays, "example/reconstruction", path).items():
        _check_array(value, "f", (size, size), f"example/reconstruction/{depth}", path)
    for block, value in _numbered(arrays, "example/block_spins", path).items():
        _check_array(value, "i", (size // block, size // block), f"example/block_spins/{block}",
                     path)
    for key in arrays:
        if key.startswith("history/") and key.count("/") != 2:
            raise IsingRGError(f"{path}: /{key} should be /history/<layer>/<name>")
    histories = _numbered({key.rsplit("/", 1)[0]: value for key, value in arrays.items()
                           if key.startswith("history/")}, "history", path)
    for layer in histories:
        series = {key: value for key, value in arrays.items()
                  if key.startswith(f"history/{layer}/")}
        if f"history/{layer}/reconstruction_error" not in series:
            raise IsingRGError(f"{path}: /history/{layer}/reconstruction_error is missing")
        lengths = {len(value) if value.ndim == 1 else -1 for value in series.values()}
        if len(lengths) != 1 or -1 in lengths or any(
                value.dtype.kind != "f" for value in series.values()):
            raise IsingRGError(f"{path}: /history/{layer} must hold float series of one length")


def read_available(results_dir: str | os.PathLike) -> dict[str, Any]:
    """What ``results_dir`` holds: {"metrics", "arrays", "validation"}, None for each file that
    is absent (a file that is present but broken is an IsingRGError, as are metrics.json and
    arrays.h5 that describe different numbers of layers)."""
    results_dir = Path(results_dir)
    if results_dir.exists() and not results_dir.is_dir():
        raise IsingRGError(f"results folder {results_dir} is a file, not a folder")
    readers = (("metrics", METRICS_NAME, read_metrics), ("arrays", ARRAYS_NAME, read_arrays),
               ("validation", VALIDATION_NAME, read_validation))
    found = {key: reader(results_dir) if (results_dir / name).exists() else None
             for key, name, reader in readers}
    if found["metrics"] is not None and found["arrays"] is not None:
        n_metrics = len(found["metrics"]["layers"])
        n_arrays = len(_numbered(found["arrays"], "fields/weight_product", results_dir))
        if n_metrics != n_arrays:
            raise IsingRGError(f"{results_dir}: metrics.json has {n_metrics} layers but "
                               f"arrays.h5 has {n_arrays}: they come from different runs")
    return found


def write_mcrg(out_dir: str | os.PathLike, result: dict, overwrite: bool = False) -> Path:
    """Write ``ising-rg mcrg``'s result to ``out_dir/mcrg.json`` (created if missing),
    atomically; returns its path."""
    out_dir = check_results_output(out_dir, (MCRG_NAME,), overwrite)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / MCRG_NAME, result, overwrite=overwrite)
    return out_dir / MCRG_NAME

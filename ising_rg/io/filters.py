"""RSMI filter files: a trained :class:`~ising_rg.rg.rsmi.RSMIFilter` in HDF5, written
atomically, read with checks.

Layout::

    /filter                        float64 (b, b)        Lambda, spin units
    /decoder/weights               float64 (n_env,)      logistic decoder on the environment
    /decoder/environment_offsets   int64 (n_env, 2)      (row, col) of each weight's site from
                                                         the block's top-left corner
    /history/train_bits            float64 (epochs,)   per-epoch training history
    /history/validation_bits       float64 (epochs,)
    /history/filters               float64 (epochs, b*b)
    /train_indices                 int64 (n_train,)      the configurations of the split
    /validation_indices            int64 (n_held_out,)

Root attributes: ``format = "ising_rg.rsmi_filter"``, ``format_version = 1``, the geometry
(``block_size``, ``buffer``, ``environment``, ``lattice_size``), ``decoder_bias``, the measured
``mutual_information_bits`` with its ``mutual_information_error_bits``, ``entropy_bits`` and
``block_information_bits`` (held-out configurations; absent for a filter that was not
fitted here), ``hyperparameters`` (JSON, the
estimator's constructor arguments), and provenance: ``data_sha256`` (the sample file's SHA-256),
``seed``, ``package_version``, ``created`` (UTC, ISO 8601).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ising_rg import __version__
from ising_rg.checks import check_integer, check_sha256
from ising_rg.errors import IsingRGError, NotFittedError, one_line
from ising_rg.io.atomic import atomic_output, check_output_path
from ising_rg.io.hdf5 import (
    check_format,
    dataset,
    integer_attribute,
    json_attribute,
    number_attribute,
    open_hdf5,
    reading,
    text_attribute,
)
from ising_rg.io.jsonfile import to_json
from ising_rg.rg.rsmi import RSMIFilter

__all__ = ["FORMAT", "FORMAT_VERSION", "load_filter", "read_filter_metadata", "save_filter"]

FORMAT = "ising_rg.rsmi_filter"
FORMAT_VERSION = 1
WHAT = "filter file"  # how messages call the file
_SCORES = (("mutual_information_bits", "mutual_information_"),
           ("mutual_information_error_bits", "mutual_information_error_"),
           ("entropy_bits", "entropy_"), ("block_information_bits", "block_information_"))
_HISTORY_1D = ("train_bits", "validation_bits")


def save_filter(model: RSMIFilter, path: str | os.PathLike, *, data_sha256: str,
                overwrite: bool = False) -> Path:
    """Write a fitted RSMIFilter to ``path`` atomically (temporary file, then rename).

    Parameters
    ----------
    model : fitted RSMIFilter (its ``random_state`` is recorded as ``seed``)
    path : output file (.h5)
    data_sha256 : str
        SHA-256 of the sample file the filter was trained on
        (:func:`ising_rg.io.models.file_sha256`).
    overwrite : bool
        Replace an existing file; otherwise an existing file is an error and stays untouched.
    """
    check_output_path(path, overwrite)
    if not hasattr(model, "filter_"):
        raise NotFittedError("cannot save an unfitted RSMIFilter")
    check_sha256(data_sha256, "data_sha256")
    seed = check_integer(model.random_state, "the filter's random_state (seed)", 0)
    geometry = model.geometry(model.lattice_size_)
    with atomic_output(path, overwrite) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        for name in ("block_size", "buffer", "environment"):
            f.attrs[name] = int(getattr(geometry, name))
        f.attrs["lattice_size"] = int(geometry.size)
        f.attrs["decoder_bias"] = float(model.decoder_bias_)
        for key, attribute in _SCORES:
            if hasattr(model, attribute):  # a filter built from parameters has no scores
                f.attrs[key] = float(getattr(model, attribute))
        f.attrs["hyperparameters"] = json.dumps(to_json(model.get_params()), sort_keys=True)
        f.attrs["data_sha256"] = data_sha256
        f.attrs["seed"] = seed
        f.attrs["package_version"] = __version__
        f.attrs["created"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        f.create_dataset("filter", data=np.asarray(model.filter_, np.float64))
        decoder = f.create_group("decoder")
        decoder.create_dataset("weights", data=np.asarray(model.decoder_weights_, np.float64))
        decoder.create_dataset("environment_offsets",
                               data=np.asarray(model.environment_offsets_, np.int64))
        history = f.create_group("history")
        for name, values in getattr(model, "history_", {}).items():
            history.create_dataset(name, data=np.asarray(values, np.float64))
        for name in ("train_indices", "validation_indices"):
            if hasattr(model, name + "_"):
                f.create_dataset(name, data=np.asarray(getattr(model, name + "_"), np.int64))
    return Path(path)


def _attributes(f: h5py.File, path: Path) -> dict[str, Any]:
    """Every root attribute, checked (format and version first)."""
    check_format(f, path, WHAT, FORMAT, FORMAT_VERSION)
    meta: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION}
    meta["block_size"] = integer_attribute(f, "block_size", path, 1)
    meta["buffer"] = integer_attribute(f, "buffer", path, 0)
    meta["environment"] = integer_attribute(f, "environment", path, 1)
    meta["lattice_size"] = integer_attribute(f, "lattice_size", path, 2)
    meta["decoder_bias"] = number_attribute(f, "decoder_bias", path)
    for key, _ in _SCORES:
        if key in f.attrs:
            meta[key] = number_attribute(f, key, path, maximum=1)
    meta["hyperparameters"] = json_attribute(f, "hyperparameters", path, dict)
    meta["data_sha256"] = check_sha256(text_attribute(f, "data_sha256", path),
                                        f"{path}: attribute 'data_sha256'")
    meta["seed"] = integer_attribute(f, "seed", path, 0)
    for name in ("package_version", "created"):
        meta[name] = text_attribute(f, name, path)
    return meta


def read_filter_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """Root attributes of a filter file, checked and JSON decoded (the weights are not read)."""
    path = Path(path)
    with open_hdf5(path, WHAT) as f, reading(path, WHAT):
        return _attributes(f, path)


def _finite(data: h5py.Dataset, path: Path) -> np.ndarray:
    values = data[()]
    if not np.isfinite(values).all():
        raise IsingRGError(f"{path}: dataset {data.name} contains NaN or infinite values")
    return values


def _read_history(f: h5py.File, path: Path, n_filter: int) -> dict[str, np.ndarray]:
    if "history" not in f or not isinstance(f["history"], h5py.Group):
        raise IsingRGError(f"{path}: group /history is missing")
    group = f["history"]
    history = {name: dataset(group, name, path, np.float64, ("epochs",))[()]
               for name in _HISTORY_1D if name in group}
    if "filters" in group:
        history["filters"] = dataset(group, "filters", path, np.float64,
                                     ("epochs", n_filter))[()]
    if len({len(values) for values in history.values()}) > 1:
        raise IsingRGError(f"{path}: the series in /history differ in length")
    return history


def load_filter(path: str | os.PathLike, block_size: int | None = None) -> RSMIFilter:
    """Read a filter file written by :func:`save_filter` into a fitted RSMIFilter.

    Parameters
    ----------
    path : filter file
    block_size : int, optional
        The block size the caller needs; a filter for another one is refused.

    Raises
    ------
    IsingRGError
        One line naming the file and the problem: missing, empty or not HDF5, not an ising_rg
        filter file, unsupported version, an attribute missing or of the wrong type, a filter
        for another block size than ``block_size``, datasets of the wrong dtype or shape,
        non-finite weights, environment offsets that are not the stored geometry's.
    """
    path = Path(path)
    with open_hdf5(path, WHAT) as f, reading(path, WHAT):
        meta = _attributes(f, path)
        b = meta["block_size"]
        if block_size is not None and b != check_integer(block_size, "block size", 1):
            raise IsingRGError(f"{path} is a filter for {b} x {b} blocks, not "
                               f"{block_size} x {block_size}")
        weights = _finite(dataset(f, "filter", path, np.float64, (b, b)), path)
        if "decoder" not in f or not isinstance(f["decoder"], h5py.Group):
            raise IsingRGError(f"{path}: group /decoder is missing")
        decoder = _finite(dataset(f["decoder"], "weights", path, np.float64, ("n_env",)), path)
        offsets = dataset(f["decoder"], "environment_offsets", path, np.int64,
                          (decoder.size, 2))[()]
        history = _read_history(f, path, b * b)
        splits = {name: dataset(f, name, path, np.int64, ("n",))[()]
                  for name in ("train_indices", "validation_indices") if name in f}
    params = dict(meta["hyperparameters"])
    try:
        model = RSMIFilter.from_parameters(weights, decoder, meta["decoder_bias"],
                                           meta["lattice_size"], history=history, **params)
        geometry = model.geometry(meta["lattice_size"])
    except (IsingRGError, TypeError) as exc:
        raise IsingRGError(f"{path}: {one_line(exc)}") from None
    for name in ("block_size", "buffer", "environment"):
        if getattr(geometry, name) != meta[name]:
            raise IsingRGError(f"{path}: attribute {name!r} ({meta[name]}) is not the "
                               f"hyper-parameters' ({getattr(geometry, name)})")
    if not np.array_equal(model.environment_offsets_, offsets):
        raise IsingRGError(f"{path}: dataset /decoder/environment_offsets is not the "
                           "environment of the stored geometry")
    for key, attribute in _SCORES:
        if key in meta:
            setattr(model, attribute, meta[key])
    for name, values in splits.items():
        setattr(model, name + "_", values)
    return model

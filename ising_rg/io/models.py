"""Model files: a trained DBN in HDF5, written atomically, read with checks.

Layout (layers numbered from 1, bottom first)::

    /layers/<i>/weights            float32 (n_in, n_out)
    /layers/<i>/visible_bias       float32 (n_in,)
    /layers/<i>/hidden_bias        float32 (n_out,)
    /layers/<i>/history/<name>     float64 (n_epochs,)   per-epoch training history
    /validation_indices            int64 (n_val,)        rows of the data held out (optional)

Root attributes: ``format = "ising_rg.dbn"``, ``format_version = 2``, ``hyperparameters``
(JSON: what trained it, e.g. the recipe, the layers, the data), ``dbn_params`` (JSON, the DBN's
own constructor arguments: ``hidden``, ``recipe`` (every setting of the
:class:`~ising_rg.settings.Recipe` by name), ``random_state``), ``data_sha256``, ``seed``,
``package_version``, ``created`` (UTC, ISO 8601), ``n_layers``, ``layer_sizes`` (JSON).
Version 1 files (ising_rg 0.1: the recipe's settings flat in ``dbn_params``, three of them
under older names) are read too.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
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
    open_hdf5,
    reading,
    text_attribute,
)
from ising_rg.io.jsonfile import to_json
from ising_rg.rbm.dbn import DBN
from ising_rg.rbm.rbm import BernoulliRBM
from ising_rg.settings import Recipe

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "dbn_parameters",
    "file_sha256",
    "load_dbn",
    "read_model_metadata",
    "save_dbn",
]

FORMAT = "ising_rg.dbn"
FORMAT_VERSION = 2
WHAT = "model file"  # how messages call the file


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    path = Path(path)
    if not path.is_file():
        raise IsingRGError(f"file {path} does not exist")
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_dbn(
    dbn: DBN,
    path: str | os.PathLike,
    *,
    data_sha256: str,
    hyperparameters: dict,
    seed: int,
    overwrite: bool = False,
) -> Path:
    """Write a fitted DBN to ``path`` atomically (temporary file, then rename).

    Parameters
    ----------
    dbn : fitted DBN
    path : output file (.h5)
    data_sha256 : str
        SHA-256 of the sample file the DBN was trained on (:func:`file_sha256`).
    hyperparameters : dict
        JSON-serialisable training options (numpy values and tuples allowed; stored as a JSON
        string through :func:`ising_rg.io.jsonfile.to_json`).
    seed : int
        Master seed of the training run.
    overwrite : bool
        Replace an existing file; otherwise an existing file is an error and stays untouched.

    Returns
    -------
    Path of the written file.
    """
    check_output_path(path, overwrite)
    rbms = getattr(dbn, "rbms_", None)
    if not rbms:
        raise NotFittedError("cannot save an unfitted DBN")
    check_sha256(data_sha256, "data_sha256")
    check_integer(seed, "seed", 0)
    try:
        hyper_json = json.dumps(to_json(hyperparameters), sort_keys=True)
        params_json = json.dumps(to_json(dbn_parameters(dbn)), sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise IsingRGError(f"hyper-parameters are not JSON-serialisable ({exc})") from None
    sizes = [int(rbms[0].weights_.shape[0])] + [int(r.weights_.shape[1]) for r in rbms]
    with atomic_output(path, overwrite) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["hyperparameters"] = hyper_json
            f.attrs["dbn_params"] = params_json
            f.attrs["data_sha256"] = str(data_sha256)
            f.attrs["seed"] = int(seed)
            f.attrs["package_version"] = __version__
            f.attrs["created"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
            f.attrs["n_layers"] = len(rbms)
            f.attrs["layer_sizes"] = json.dumps(sizes)
            layers = f.create_group("layers")
            for index, rbm in enumerate(rbms, start=1):
                group = layers.create_group(str(index))
                group.create_dataset("weights", data=np.asarray(rbm.weights_, np.float32))
                group.create_dataset("visible_bias", data=np.asarray(rbm.visible_bias_, np.float32))
                group.create_dataset("hidden_bias", data=np.asarray(rbm.hidden_bias_, np.float32))
                history = group.create_group("history")
                for name, values in getattr(rbm, "history_", {}).items():
                    history.create_dataset(name, data=np.asarray(values, np.float64))
            validation = getattr(dbn, "validation_indices_", None)
            if validation is not None:
                f.create_dataset("validation_indices", data=np.asarray(validation, np.int64))
    return Path(path)


def dbn_parameters(dbn: DBN) -> dict[str, Any]:
    """The DBN's constructor arguments as the model file stores them (the recipe as a dict)."""
    params = dict(dbn.get_params())
    params["recipe"] = dbn._recipe().to_dict()
    return params


def _upgrade_version_1(params: dict[str, Any], hyperparameters: dict[str, Any]) -> dict:
    """``dbn_params`` of a version 1 file in today's form: its flat recipe settings (three of
    them under their 0.1 names, ``n_monitor`` beside them) and the recipe's name and held-out
    fraction from ``hyperparameters`` gathered into one recipe."""
    old_names = {"n_epochs": "epochs", "momentum_schedule": "momentum",
                 "n_persistent_chains": "persistent_chains"}
    recipe = {old_names.get(key, key): value for key, value in params.items()
              if old_names.get(key, key) in Recipe.names()}
    recipe["name"] = hyperparameters.get("recipe", "paper")
    recipe.setdefault("validation_fraction", hyperparameters.get("validation_fraction", 0.1))
    return {"hidden": params.get("hidden"), "random_state": params.get("random_state"),
            "recipe": recipe}


def _attributes(f: h5py.File, path: Path) -> dict[str, Any]:
    """Every root attribute, checked (format and version first), JSON decoded, and
    ``layer_shapes``: the (n_in, n_out) of each layer's weights, which must chain as
    ``layer_sizes`` says."""
    version = check_format(f, path, WHAT, FORMAT, FORMAT_VERSION, oldest=1)
    meta: dict[str, Any] = {"format": FORMAT, "format_version": version}
    for name in ("hyperparameters", "dbn_params"):
        meta[name] = json_attribute(f, name, path, dict)
    if version == 1:
        meta["dbn_params"] = _upgrade_version_1(meta["dbn_params"], meta["hyperparameters"])
    meta["data_sha256"] = check_sha256(text_attribute(f, "data_sha256", path),
                                        f"{path}: attribute 'data_sha256'")
    meta["seed"] = integer_attribute(f, "seed", path, 0)
    for name in ("package_version", "created"):
        meta[name] = text_attribute(f, name, path)
    n_layers = meta["n_layers"] = integer_attribute(f, "n_layers", path, 1)
    sizes = meta["layer_sizes"] = json_attribute(f, "layer_sizes", path, list)
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes):
        raise IsingRGError(f"{path}: attribute 'layer_sizes' must list positive integers "
                           f"(visible first), got {one_line(sizes, 60)}")
    if len(sizes) != n_layers + 1:
        raise IsingRGError(f"{path}: attribute 'layer_sizes' lists {len(sizes)} sizes but "
                           f"attribute 'n_layers' is {n_layers} (expected n_layers + 1 sizes)")
    if "layers" not in f:
        raise IsingRGError(f"{path}: group /layers is missing")
    if not isinstance(f["layers"], h5py.Group):
        raise IsingRGError(f"{path}: /layers must be a group, got a dataset")
    names = sorted(f["layers"].keys())
    expected = sorted(str(i) for i in range(1, n_layers + 1))
    if names != expected:
        raise IsingRGError(f"{path}: /layers must hold layers 1 to {n_layers} (attribute "
                           f"'n_layers'), found {names}")
    meta["layer_shapes"] = []
    for index in range(1, n_layers + 1):
        group = _layer_group(f, index, path)
        shape = (sizes[index - 1], sizes[index])
        dataset(group, "weights", path, np.float32, shape)
        meta["layer_shapes"].append(shape)
    return meta


def _layer_group(f: h5py.File, index: int, path: Path) -> h5py.Group:
    group = f["layers"][str(index)]
    if not isinstance(group, h5py.Group):
        raise IsingRGError(f"{path}: /layers/{index} must be a group, got a dataset")
    return group


def read_model_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """Root attributes of a model file, checked and JSON decoded, plus ``layer_shapes``
    [(n_in, n_out), ...].

    Validates every attribute and the shapes of the weights (IsingRGError otherwise); does
    not read the weights.
    """
    path = Path(path)
    with open_hdf5(path, WHAT) as f, reading(path, WHAT):
        return _attributes(f, path)


def _read_parameter(group: h5py.Group, name: str, path: Path, shape: tuple) -> np.ndarray:
    values = dataset(group, name, path, np.float32, shape)[()]
    if not np.isfinite(values).all():
        raise IsingRGError(f"{path}: dataset {group.name}/{name} contains NaN or infinite "
                           "values")
    return np.ascontiguousarray(values)


def _read_history(group: h5py.Group, path: Path) -> dict[str, np.ndarray]:
    """The layer's ``history`` group: float64 series of one length (NaN allowed: a quantity
    not measured in an epoch)."""
    if "history" not in group:
        raise IsingRGError(f"{path}: group {group.name}/history is missing")
    history_group = group["history"]
    if not isinstance(history_group, h5py.Group):
        raise IsingRGError(f"{path}: {group.name}/history must be a group, got a dataset")
    history = {name: dataset(history_group, name, path, np.float64, ("n_epochs",))[()]
               for name in history_group}
    if len({len(values) for values in history.values()}) > 1:
        raise IsingRGError(f"{path}: the series in {group.name}/history differ in length")
    return history


def load_dbn(path: str | os.PathLike) -> DBN:
    """Read a model file written by :func:`save_dbn` into a fitted DBN.

    ``transform``/``reconstruct`` of the loaded DBN reproduce the saved one bit for bit (the
    float32 parameters are stored exactly).

    Raises
    ------
    IsingRGError
        One line naming the file and the problem: missing, empty or unreadable file, not
        HDF5, not an ising_rg model file, unsupported format version, any attribute missing
        or of the wrong type, missing layers, datasets of the wrong dtype or shape, non-finite
        parameters, layer shapes that do not chain, hyper-parameters the estimators refuse.
    """
    path = Path(path)
    with open_hdf5(path, WHAT) as f, reading(path, WHAT):
        meta = _attributes(f, path)
        params = dict(meta["dbn_params"])
        known = ("hidden", "recipe", "random_state")
        missing = [key for key in known if params.get(key) is None]
        if missing:
            raise IsingRGError(f"{path}: attribute 'dbn_params' lacks {', '.join(missing)}")
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise IsingRGError(f"{path}: attribute 'dbn_params' has unknown key(s) "
                               f"{', '.join(unknown)}")
        if not isinstance(params["recipe"], dict):
            raise IsingRGError(f"{path}: attribute 'dbn_params': recipe must be a JSON object")
        try:
            params["recipe"] = Recipe.from_dict(params["recipe"])
        except IsingRGError as exc:
            raise IsingRGError(f"{path}: attribute 'dbn_params': {exc}") from None
        rbm_kwargs = params["recipe"].layer_settings()
        rbms = []
        for index, (n_in, n_out) in enumerate(meta["layer_shapes"], start=1):
            group = _layer_group(f, index, path)
            W, b, c = (_read_parameter(group, name, path, shape) for name, shape in (
                ("weights", (n_in, n_out)), ("visible_bias", (n_in,)), ("hidden_bias", (n_out,))))
            history = _read_history(group, path)
            try:
                rbms.append(BernoulliRBM.from_parameters(W, b, c, history=history, **rbm_kwargs))
            except IsingRGError as exc:
                raise IsingRGError(f"{path}: attribute 'dbn_params': {exc}") from None
        validation = None
        if "validation_indices" in f:
            validation = dataset(f, "validation_indices", path, np.int64, ("n",))[()]
            if validation.size and (validation.min() < 0
                                    or np.unique(validation).size != validation.size):
                raise IsingRGError(f"{path}: dataset /validation_indices must hold distinct "
                                   "row numbers >= 0")
        try:
            return DBN.from_rbms(rbms, validation_indices=validation, **params)
        except IsingRGError as exc:
            raise IsingRGError(f"{path}: attribute 'dbn_params': {exc}") from None

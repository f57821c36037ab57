"""Model files: a trained DBN in HDF5, written atomically, read with checks.

Layout (layers numbered from 1, bottom first)::

    /layers/<i>/weights            float32 (n_in, n_out)
    /layers/<i>/visible_bias       float32 (n_in,)
    /layers/<i>/hidden_bias        float32 (n_out,)
    /layers/<i>/history/<name>     float64 (n_epochs,)   per-epoch training history
    /validation_indices            int64 (n_val,)        rows of the data held out (optional)

Root attributes: ``format = "ising_rg.dbn"``, ``format_version = 1``, ``hyperparameters``
(JSON), ``dbn_params`` (JSON, the DBN's own constructor arguments), ``data_sha256``, ``seed``,
``package_version``, ``created`` (UTC, ISO 8601), ``n_layers``, ``layer_sizes`` (JSON).
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
from ising_rg.errors import IsingRGError, NotFittedError
from ising_rg.io.atomic import atomic_output, check_output_path
from ising_rg.io.jsonfile import to_json
from ising_rg.rbm.dbn import DBN, LAYER_HYPERPARAMETERS
from ising_rg.rbm.rbm import BernoulliRBM

__all__ = ["FORMAT", "FORMAT_VERSION", "file_sha256", "load_dbn", "read_model_metadata", "save_dbn"]

FORMAT = "ising_rg.dbn"
FORMAT_VERSION = 1


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
    try:
        hyper_json = json.dumps(to_json(hyperparameters), sort_keys=True)
        params_json = json.dumps(to_json(dbn.get_params()), sort_keys=True)
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


def _open_model(path: str | os.PathLike) -> h5py.File:
    path = Path(path)
    if not path.exists():
        raise IsingRGError(f"model file {path} does not exist")
    if path.is_dir():
        raise IsingRGError(f"model file {path} is a directory")
    try:
        is_hdf5 = h5py.is_hdf5(path)
    except OSError:
        is_hdf5 = False
    if not is_hdf5:
        raise IsingRGError(f"{path} is not an HDF5 file")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise IsingRGError(f"cannot open {path}: {exc}") from None
    try:
        fmt = _text(f.attrs.get("format"))
        if fmt != FORMAT:
            raise IsingRGError(f"{path} is not an ising_rg model file (format={fmt!r})")
        version = f.attrs.get("format_version")
        if version is None or int(version) != FORMAT_VERSION:
            raise IsingRGError(
                f"{path} has model format version {version}, this version reads {FORMAT_VERSION}"
            )
    except Exception:
        f.close()
        raise
    return f


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _json_attr(f: h5py.File, name: str, path: Any) -> Any:
    raw = _text(f.attrs.get(name))
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise IsingRGError(f"{path}: attribute {name} is not valid JSON") from None


def read_model_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """Root attributes of a model file, JSON decoded, plus ``layer_shapes`` [(n_in, n_out), ...].

    Validates the format and version (IsingRGError otherwise); does not read the weights.
    """
    with _open_model(path) as f:
        meta: dict[str, Any] = {}
        for key, value in f.attrs.items():
            if isinstance(value, np.generic):
                value = value.item()
            meta[key] = _text(value) if isinstance(value, bytes) else value
        for key in ("hyperparameters", "dbn_params", "layer_sizes"):
            if key in f.attrs:
                meta[key] = _json_attr(f, key, path)
        shapes = []
        if "layers" in f:
            for name in sorted(f["layers"].keys(), key=lambda s: int(s) if s.isdigit() else -1):
                group = f["layers"][name]
                if isinstance(group, h5py.Group) and "weights" in group:
                    shapes.append(tuple(int(n) for n in group["weights"].shape))
        meta["layer_shapes"] = shapes
        return meta


def _read_array(group: h5py.Group, name: str, path: Any, layer: str) -> np.ndarray:
    if name not in group or not isinstance(group[name], h5py.Dataset):
        raise IsingRGError(f"{path}: layer {layer} has no dataset {name!r}")
    data = group[name]
    if data.dtype != np.float32:
        raise IsingRGError(f"{path}: layer {layer} {name} has dtype {data.dtype}, expected float32")
    values = data[()]
    if not np.isfinite(values).all():
        raise IsingRGError(f"{path}: layer {layer} {name} contains NaN or infinite values")
    return np.ascontiguousarray(values)


def load_dbn(path: str | os.PathLike) -> DBN:
    """Read a model file written by :func:`save_dbn` into a fitted DBN.

    ``transform``/``reconstruct`` of the loaded DBN reproduce the saved one bit for bit (the
    float32 parameters are stored exactly).

    Raises
    ------
    IsingRGError
        One line naming the problem: missing file, not HDF5, not an ising_rg model file,
        unsupported format version, missing layers, wrong dtypes, non-finite values, or layer
        shapes that do not chain (n_out of layer i != n_in of layer i + 1).
    """
    try:
        return _load_dbn(path)
    except IsingRGError:  # a ValueError, but already the one-line message
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:  # corrupt file internals
        raise IsingRGError(f"{path}: unreadable model file ({exc})") from None


def _load_dbn(path: str | os.PathLike) -> DBN:
    with _open_model(path) as f:
        params = _json_attr(f, "dbn_params", path) or {}
        if not isinstance(params, dict):
            raise IsingRGError(f"{path}: attribute dbn_params is not a JSON object")
        if "layers" not in f or not isinstance(f["layers"], h5py.Group):
            raise IsingRGError(f"{path}: no /layers group")
        names = list(f["layers"].keys())
        expected = [str(i) for i in range(1, len(names) + 1)]
        if not names or sorted(names, key=lambda s: (len(s), s)) != expected:
            raise IsingRGError(f"{path}: layers must be numbered 1..n, found {sorted(names)}")
        rbm_kwargs = {key: value for key, value in params.items() if key in LAYER_HYPERPARAMETERS}
        if isinstance(rbm_kwargs.get("momentum_schedule"), list):
            rbm_kwargs["momentum_schedule"] = tuple(rbm_kwargs["momentum_schedule"])
        rbms = []
        for name in expected:
            group = f["layers"][name]
            if not isinstance(group, h5py.Group):
                raise IsingRGError(f"{path}: /layers/{name} is not a group")
            W, b, c = (_read_array(group, key, path, name)
                       for key in ("weights", "visible_bias", "hidden_bias"))
            if W.ndim != 2 or b.shape != (W.shape[0],) or c.shape != (W.shape[1],):
                raise IsingRGError(
                    f"{path}: layer {name} shapes do not match: weights {W.shape}, "
                    f"visible_bias {b.shape}, hidden_bias {c.shape}"
                )
            if rbms and W.shape[0] != rbms[-1].n_hidden:
                raise IsingRGError(
                    f"{path}: layer {name} has {W.shape[0]} inputs but layer {int(name) - 1} "
                    f"has {rbms[-1].n_hidden} outputs"
                )
            history = {}
            if "history" in group and isinstance(group["history"], h5py.Group):
                for key, data in group["history"].items():
                    if isinstance(data, h5py.Dataset):
                        history[key] = np.asarray(data[()], dtype=np.float64)
            rbms.append(BernoulliRBM.from_parameters(W, b, c, history=history, **rbm_kwargs))

        seed = params.get("random_state", f.attrs.get("seed", 0))
        validation = None
        if "validation_indices" in f:
            validation = np.asarray(f["validation_indices"][()], dtype=np.int64)
        return DBN.from_rbms(
            rbms,
            propagate=params.get("propagate", "probabilities"),
            random_state=int(seed) if seed is not None else 0,
            validation_indices=validation,
            **rbm_kwargs,
        )

"""Checked reading of the package's HDF5 files (sample, model and results files).

Every reader opens its file with :func:`open_hdf5`, reads each root attribute through one of
the typed readers (:func:`integer_attribute`, :func:`number_attribute`, :func:`text_attribute`,
:func:`json_attribute`) and each dataset through :func:`dataset`, and runs inside
:func:`reading`, which turns whatever a damaged file makes h5py or numpy raise into an
:class:`~ising_rg.errors.IsingRGError`. Every message is one line naming the file and the
attribute or dataset: ``data.h5: attribute 'size' must be an integer >= 2, got 'forty'``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ising_rg.checks import check_choice, check_integer, check_number
from ising_rg.errors import IsingRGError, one_line

__all__ = ["check_format", "check_input_file", "dataset", "integer_attribute", "json_attribute",
           "number_attribute", "open_hdf5", "reading", "text_attribute"]

# What a damaged file can make h5py, numpy or json raise while it is read.
_READ_ERRORS = (OSError, KeyError, ValueError, TypeError, RuntimeError, OverflowError,
                UnicodeDecodeError)


def check_input_file(path: str | os.PathLike, what: str) -> Path:
    """``path`` as a Path if it is a readable, non-empty file; else a one-line IsingRGError
    ("sample file x.h5 does not exist", "... is a directory", "... is empty", "cannot read
    ...")."""
    path = Path(path)
    if not path.exists():
        raise IsingRGError(f"{what} {path} does not exist")
    if path.is_dir():
        raise IsingRGError(f"{what} {path} is a directory, not a file")
    try:
        with open(path, "rb") as handle:
            empty = not handle.read(1)
    except OSError as exc:
        raise IsingRGError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if empty:
        raise IsingRGError(f"{what} {path} is empty")
    return path


def open_hdf5(path: str | os.PathLike, what: str) -> h5py.File:
    """Open ``path`` for reading after :func:`check_input_file`; "not an HDF5 file" if it is
    some other kind of file."""
    path = check_input_file(path, what)
    try:
        is_hdf5 = h5py.is_hdf5(path)
    except OSError:
        is_hdf5 = False
    if not is_hdf5:
        raise IsingRGError(f"{path} is not an HDF5 file (expected an ising_rg {what})")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise IsingRGError(_open_error(path, what, exc)) from None


def _open_error(path: Path, what: str, exc: OSError) -> str:
    """A plain message for a file HDF5 cannot open: a truncated file (an interrupted copy or
    download) is named as such, with its size against the size it should have, instead of
    HDF5's internals ("truncated file: eof = 500, sblock->base_addr = 0, stored_eof = ...")."""
    truncated = re.search(r"truncated file: eof = (\d+).*stored_eof = (\d+)", str(exc))
    if truncated:
        size, expected = (int(group) for group in truncated.groups())
        return (f"{what} {path} is truncated: {size:,} of its {expected:,} bytes are there "
                "(an interrupted copy or download?)")
    return f"cannot open {what} {path}: {one_line(exc)}"


@contextlib.contextmanager
def reading(path: str | os.PathLike, what: str) -> Iterator[None]:
    """Turn any error a damaged file raises inside the block into a one-line IsingRGError
    naming the file (IsingRGErrors pass unchanged)."""
    try:
        yield
    except IsingRGError:
        raise
    except _READ_ERRORS as exc:
        raise IsingRGError(
            f"{what} {path} is damaged ({type(exc).__name__}: {one_line(exc)})") from None


def check_format(f: h5py.File, path: Any, what: str, tag: str, version: int,
                 oldest: int | None = None) -> int:
    """The ``format`` tag and ``format_version`` of an ising_rg file: "x.h5 is not an ising_rg
    sample file (format=...)", "x.h5 has sample file format version 3; this ising_rg reads
    versions 1 to 2". Versions from ``oldest`` (default: ``version`` only) to ``version`` are
    read; returns the file's version."""
    if "format" not in f.attrs:
        raise IsingRGError(f"{path} is not an ising_rg {what} (it has no 'format' attribute)")
    found = _attribute(f, "format", path)
    if found != tag:
        raise IsingRGError(f"{path} is not an ising_rg {what} (format={_shown(found)}, "
                           f"expected {tag!r})")
    found_version = integer_attribute(f, "format_version", path, 1)
    oldest = version if oldest is None else oldest
    if not oldest <= found_version <= version:
        readable = f"version {version}" if oldest == version else f"versions {oldest} to {version}"
        raise IsingRGError(f"{path} has {what} format version {found_version}; this ising_rg "
                           f"reads {readable}")
    return found_version


def _shown(value: Any) -> str:
    """A short repr of an attribute's value for a message."""
    return one_line(repr(value), 40)


def _attribute(f: h5py.File, name: str, path: Any) -> Any:
    """A root attribute as a plain Python scalar (numpy scalars unwrapped, bytes decoded);
    IsingRGError if it is missing, unreadable or an array."""
    if name not in f.attrs:
        raise IsingRGError(f"{path}: attribute {name!r} is missing")
    try:
        value = f.attrs[name]
    except _READ_ERRORS as exc:
        raise IsingRGError(f"{path}: attribute {name!r} is unreadable ({one_line(exc)})") from None
    if isinstance(value, np.ndarray):
        raise IsingRGError(f"{path}: attribute {name!r} must be a single value, got an array "
                           f"of shape {value.shape}")
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise IsingRGError(f"{path}: attribute {name!r} is not UTF-8 text") from None
    return value


def integer_attribute(f: h5py.File, name: str, path: Any, minimum: int | None = None,
                      maximum: int | None = None) -> int:
    """Root attribute ``name``, an integer in [minimum, maximum]."""
    return check_integer(_attribute(f, name, path), f"{path}: attribute {name!r}", minimum,
                         maximum)


def number_attribute(f: h5py.File, name: str, path: Any, **bounds: float) -> float:
    """Root attribute ``name``, a finite real number within ``bounds`` (``check_number``'s
    ``minimum``, ``maximum``, ``above``, ``below``)."""
    return check_number(_attribute(f, name, path), f"{path}: attribute {name!r}", **bounds)


def text_attribute(f: h5py.File, name: str, path: Any,
                   choices: tuple[str, ...] | None = None) -> str:
    """Root attribute ``name``, a string (one of ``choices`` if given)."""
    value = _attribute(f, name, path)
    if not isinstance(value, str):
        raise IsingRGError(f"{path}: attribute {name!r} must be text, got {_shown(value)}")
    if choices is not None:
        check_choice(value, f"{path}: attribute {name!r}", choices)
    return value


def json_attribute(f: h5py.File, name: str, path: Any, kind: type = dict) -> Any:
    """Root attribute ``name``, JSON text encoding a ``kind`` (dict or list)."""
    text = text_attribute(f, name, path)
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise IsingRGError(f"{path}: attribute {name!r} is not valid JSON: {_shown(text)}"
                           ) from None
    if not isinstance(value, kind):
        noun = "a JSON object" if kind is dict else "a JSON list"
        raise IsingRGError(f"{path}: attribute {name!r} must be {noun}, got {_shown(value)}")
    return value


def dataset(group: h5py.Group, name: str, path: Any, dtype: Any,
            shape: tuple[int | str, ...]) -> h5py.Dataset:
    """Dataset ``name`` of ``group`` with exactly this dtype and shape; IsingRGError naming it
    otherwise. In ``shape`` an int is a required length and a str a named one: ``("n", "L",
    "L")`` is any (n, L, L) with its last two lengths equal."""
    prefix = group.name.strip("/")
    where = f"{path}: dataset /{prefix + '/' if prefix else ''}{name}"
    if name not in group:
        raise IsingRGError(f"{where} is missing")
    try:
        data = group[name]
    except _READ_ERRORS as exc:
        raise IsingRGError(f"{where} is unreadable ({one_line(exc)})") from None
    if not isinstance(data, h5py.Dataset):
        raise IsingRGError(f"{where} must be a dataset, got a group")
    if data.dtype != np.dtype(dtype):
        raise IsingRGError(f"{where} must be {np.dtype(dtype)}, got {data.dtype}")
    lengths: dict[str, int] = {}
    fits = len(data.shape) == len(shape) and all(
        got == want if isinstance(want, int) else lengths.setdefault(want, got) == got
        for got, want in zip(data.shape, shape, strict=False))
    if not fits:
        wanted = "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
        raise IsingRGError(f"{where} must have shape {wanted}, got {data.shape}")
    return data

"""Strict JSON for results: numpy types to plain Python, non-finite floats to null; checks of
decoded JSON against a small schema."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ising_rg.errors import IsingRGError, one_line
from ising_rg.io.atomic import atomic_output


def to_json(value: Any) -> Any:
    """Plain Python types for ``json.dump``; NaN and infinities become None (valid JSON)."""
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_json(value.tolist())
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def json_text(payload: Any) -> str:
    """The text ``write_json`` writes: ``to_json(payload)``, indented by 1, newline-ended."""
    return json.dumps(to_json(payload), indent=1, allow_nan=False) + "\n"


def write_json(path: str | os.PathLike, payload: Any, overwrite: bool = False) -> Path:
    """Write ``to_json(payload)`` atomically (temporary file, then rename)."""
    path = Path(path)
    with atomic_output(path, overwrite) as tmp:
        tmp.write_text(json_text(payload))
    return path


# Leaves of a schema for check_json: what a value must be.
NUMBER = "a number"  # finite int or float (not a bool)
NUMBER_OR_NULL = "a number or null"
INTEGER = "an integer"
TEXT = "text"


def check_json(value: Any, schema: Any, source: Any, where: str = "") -> None:
    """Check decoded JSON against a schema; IsingRGError naming the first mismatch by its key
    path ("metrics.json: layers[1].locality.mean must be a number or null, got 'x'").

    A schema is a leaf (``NUMBER``, ``NUMBER_OR_NULL``, ``INTEGER``, ``TEXT``), a dict of
    key -> schema (a key ending in "?" is optional; other keys of the value are allowed), or
    a one-item list ``[schema]``: a non-empty list whose items all match.
    """
    name = where or "the top level"
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            raise IsingRGError(f"{source}: {name} must be a JSON object, got {_quoted(value)}")
        for key, item in schema.items():
            optional, key = key.endswith("?"), key.rstrip("?")
            if key in value:
                check_json(value[key], item, source, f"{where}.{key}" if where else key)
            elif not optional:
                raise IsingRGError(f"{source}: {f'{where}.{key}' if where else key} is missing")
    elif isinstance(schema, list):
        if not isinstance(value, list) or not value:
            raise IsingRGError(f"{source}: {name} must be a non-empty list, got {_quoted(value)}")
        for index, item in enumerate(value):
            check_json(item, schema[0], source, f"{where}[{index}]")
    elif not _is_leaf(value, schema):
        raise IsingRGError(f"{source}: {name} must be {schema}, got {_quoted(value)}")


def _is_leaf(value: Any, kind: str) -> bool:
    if kind == TEXT:
        return isinstance(value, str)
    if kind == NUMBER_OR_NULL and value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) if kind == INTEGER else math.isfinite(value)


def _quoted(value: Any) -> str:
    """A short repr of a bad value for a message (long containers are not rendered whole)."""
    if isinstance(value, list | dict) and len(value) > 8:
        return f"a {type(value).__name__} of {len(value)} items"
    return one_line(repr(value), 40)

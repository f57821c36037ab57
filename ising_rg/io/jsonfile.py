"""Strict JSON for results: numpy types to plain Python, non-finite floats to null."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

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


def write_json(path: str | os.PathLike, payload: Any, overwrite: bool = False) -> Path:
    """Write ``to_json(payload)`` atomically (temporary file, then rename)."""
    path = Path(path)
    with atomic_output(path, overwrite) as tmp:
        tmp.write_text(json.dumps(to_json(payload), indent=1, allow_nan=False) + "\n")
    return path

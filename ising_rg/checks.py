"""Input checks shared by every package: integers, numbers, choices, unit-interval data.

Each check returns the value in its canonical type, or raises
:class:`~ising_rg.errors.IsingRGError` with a one-line message naming the parameter, what it must
be, and what it got (the CLI prints it as ``Error: <message>``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ising_rg.errors import IsingRGError

__all__ = ["check_choice", "check_float_array", "check_integer", "check_number",
           "check_sha256", "check_unit_interval"]


def check_integer(value: Any, name: str, minimum: int | None = None,
                  maximum: int | None = None) -> int:
    """``value`` as an int, if it is an integer (not a bool) in [minimum, maximum].

    Raises
    ------
    IsingRGError
        ``"<name> must be an integer >= <minimum>, got <value>"`` (and ``<= <maximum>``).
    """
    bounds = [f" {sign} {bound}" for sign, bound in ((">=", minimum), ("<=", maximum))
              if bound is not None]
    condition = " and".join(bounds)
    if (
        not isinstance(value, numbers.Integral)
        or isinstance(value, bool)
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        raise IsingRGError(f"{name} must be an integer{condition}, got {value!r}")
    return int(value)


def check_number(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    below: float | None = None,
) -> float:
    """``value`` as a float, if it is a finite real number within the given bounds.

    ``minimum``/``maximum`` are inclusive bounds, ``above``/``below`` exclusive ones; e.g.
    ``above=0`` for a positive number, ``minimum=0, below=1`` for a fraction in [0, 1).

    Raises
    ------
    IsingRGError
        ``"<name> must be a positive number, got <value>"``, ``"... a number >= 0 ..."`` or
        ``"... a number >= 0 and < 1 ..."``.
    """
    bounds = [f"{sign} {bound:g}" for sign, bound in
              ((">=", minimum), (">", above), ("<=", maximum), ("<", below)) if bound is not None]
    if bounds == ["> 0"]:
        condition = "a positive number"
    else:
        condition = "a number " + " and ".join(bounds) if bounds else "a finite number"
    if (
        not isinstance(value, numbers.Real)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or (minimum is not None and value < minimum)
        or (above is not None and value <= above)
        or (maximum is not None and value > maximum)
        or (below is not None and value >= below)
    ):
        raise IsingRGError(f"{name} must be {condition}, got {value!r}")
    return float(value)


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """``value``, if it is one of ``choices``; else ``"<name> must be 'a' or 'b', got ..."``."""
    if value not in choices:
        quoted = [repr(c) for c in choices]
        options = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
        raise IsingRGError(f"{name} must be {options}, got {value!r}")
    return value


def check_float_array(values: Any, name: str) -> np.ndarray:
    """``values`` (a number or an array-like of numbers) as a float64 array of its shape.

    Raises
    ------
    IsingRGError
        ``"<name> must be a number or an array of numbers"``.
    """
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise IsingRGError(f"{name} must be a number or an array of numbers") from exc


def check_unit_interval(X: Any, name: str = "X", n_features: int | None = None,
                        allow_empty: bool = False) -> np.ndarray:
    """Validate a 2-D finite array with values in [0, 1]; return it as C-ordered float32.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
        E.g. visible configurations in {0, 1} or hidden probabilities.
    name : str
        How the messages call it.
    n_features : int, optional
        Required number of columns (a model's visible units).
    allow_empty : bool
        Accept zero rows (inference on no data gives no rows); never zero columns.

    Raises
    ------
    IsingRGError
        One-line message naming the problem (shape, non-finite entries, range, columns).
    """
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists etc.
        raise IsingRGError(f"{name} is not a numeric array ({exc})") from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise IsingRGError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise IsingRGError(f"{name} must be 2-D (n_samples, n_features), got shape {arr.shape}")
    if (arr.shape[0] == 0 and not allow_empty) or arr.shape[1] == 0:
        raise IsingRGError(f"{name} is empty (shape {arr.shape})")
    if n_features is not None and arr.shape[1] != n_features:
        raise IsingRGError(
            f"{name} has {arr.shape[1]} features but the model has {n_features} visible units"
        )
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise IsingRGError(f"{name} contains NaN or infinite values")
    lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
    if lo < 0.0 or hi > 1.0:
        raise IsingRGError(f"{name} values must lie in [0, 1], found range [{lo:g}, {hi:g}]")
    return arr


def check_sha256(value: Any, name: str) -> str:
    """``value`` if it is a SHA-256 digest as text (64 lowercase hexadecimal digits)."""
    if not (isinstance(value, str) and len(value) == 64
            and all(ch in "0123456789abcdef" for ch in value)):
        raise IsingRGError(f"{name} must be 64 lowercase hexadecimal digits (a SHA-256), "
                           f"got {str(value)[:70]!r}")
    return value

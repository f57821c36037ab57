"""Numbers as people read them: a measurement formatted by its error, a plain value to a few
significant digits. One rule for the report (``ising_rg.experiments.report``) and the CLI's
summaries.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = ["format_measurement", "significant"]

# Outside 1e-4 <= |x| < 1e6 numbers are written as mantissa and power of ten.
_SMALLEST_FIXED, _LARGEST_FIXED = -4, 6


def _real(value: Any) -> float | None:
    """``value`` as a finite float, or None (None, NaN, infinities, non-numbers)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _exponent(value: float) -> int:
    """The power of ten of the leading digit of ``value`` (0 for 0)."""
    return 0 if value == 0 else math.floor(math.log10(abs(value)))


def _fixed(value: float, decimals: int) -> str:
    """``value`` rounded to ``decimals`` places (negative: to tens, hundreds, ...), no "-0"."""
    rounded = round(value, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{rounded:.{max(decimals, 0)}f}"


def significant(value: Any, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits: 0.19559035 -> "0.196", 1234.5 -> "1230",
    2.5e-7 -> "2.50e-7"; an integer whole (a count: 200 -> "200"); "n/a" for None or NaN,
    "inf"/"-inf" for infinities."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))  # a count: all its digits
    number = _real(value)
    if number is None:
        try:
            return str(float(value)) if math.isinf(float(value)) else "n/a"
        except (TypeError, ValueError):
            return "n/a"
    if number == 0:
        return "0"
    exponent = _exponent(float(f"{number:.{digits - 1}e}"))  # after rounding: 9.996 -> 10.0
    if not _SMALLEST_FIXED <= exponent < _LARGEST_FIXED:
        return f"{number / 10**exponent:.{digits - 1}f}e{exponent}"
    return _fixed(number, digits - 1 - exponent)


def format_measurement(mean: Any, error: Any) -> str:
    """A mean with its standard error, both rounded at the error's second significant digit.

    -1.1518 +- 0.00038 -> "-1.15180 ± 0.00038"; 1 +- 0.0025 -> "1.0000 ± 0.0025";
    123.456 +- 12.3 -> "123 ± 12"; 2.5e-7 +- 3e-9 -> "(2.500 ± 0.030)e-7".
    A zero error is an exact value: 0 +- 0 -> "0 (exact)", 0.25 +- 0 -> "0.25 (exact)" (up to
    6 significant digits). A missing, NaN or infinite error
    gives the mean alone, to 3 significant digits; a missing or NaN mean gives "n/a".

    Parameters
    ----------
    mean : float or None
    error : float or None
        The standard error of ``mean`` (its sign is ignored).
    """
    value = _real(mean)
    if value is None:
        return significant(mean)
    sigma = _real(error)
    if sigma is None:
        return significant(value)
    sigma = abs(sigma)
    if sigma == 0:
        return f"{value:.6g} (exact)"
    # The error's second significant digit sets the last decimal of both numbers; rounding the
    # error can carry into the next decade (0.0996 -> 0.10), so round first, then read it.
    decimals = 1 - _exponent(float(f"{sigma:.1e}"))
    scale = max(_exponent(value), _exponent(sigma))
    if not _SMALLEST_FIXED <= scale < _LARGEST_FIXED:
        power = 10.0**scale
        places = decimals + scale
        return f"({_fixed(value / power, places)} ± {_fixed(sigma / power, places)})e{scale}"
    return f"{_fixed(value, decimals)} ± {_fixed(sigma, decimals)}"

"""The RBM's parameter arrays (W, b, c): the check every constructor of a fitted RBM makes.

The hyper-parameters are checked by :class:`~ising_rg.settings.Recipe`; the generic checks
(integers, numbers, choices, unit-interval data) are :mod:`ising_rg.checks`. Every check
raises :class:`~ising_rg.errors.IsingRGError` with a one-line message naming the problem.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ising_rg.errors import IsingRGError

__all__ = ["check_parameter_arrays"]


def check_parameter_arrays(
    weights: Any, visible_bias: Any, hidden_bias: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """C-ordered float32 copies of (W, b, c) after checking that they chain and are finite.

    Parameters
    ----------
    weights : array-like, shape (n_visible, n_hidden)
    visible_bias : array-like, shape (n_visible,)
    hidden_bias : array-like, shape (n_hidden,)

    Values are rounded to float32 (exact for float32 input).
    """
    try:
        arrays = [
            np.array(a, dtype=np.float32, order="C") for a in (weights, visible_bias, hidden_bias)
        ]
    except (TypeError, ValueError) as exc:
        raise IsingRGError(f"RBM parameters are not numeric arrays ({exc})") from None
    W, b, c = arrays
    if W.ndim != 2 or W.size == 0 or b.shape != (W.shape[0],) or c.shape != (W.shape[1],):
        raise IsingRGError(
            "RBM parameter shapes do not match: weights must be (n_visible, n_hidden), "
            f"visible_bias (n_visible,), hidden_bias (n_hidden,); got {W.shape}, {b.shape}, "
            f"{c.shape}"
        )
    if not all(np.isfinite(a).all() for a in arrays):
        raise IsingRGError("RBM parameters contain NaN or infinite values")
    return W, b, c

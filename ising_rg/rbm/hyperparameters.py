"""Input checks specific to the RBM package: its hyper-parameters and its parameter arrays.

The generic checks (integers, numbers, choices, unit-interval data) are
:mod:`ising_rg.checks`. Every check raises :class:`~ising_rg.errors.IsingRGError` with a
one-line message naming the problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ising_rg.checks import check_choice, check_integer, check_number
from ising_rg.errors import IsingRGError

__all__ = ["check_hyperparameters", "check_parameter_arrays"]


def check_hyperparameters(params: Mapping[str, Any]) -> tuple[float, float, int]:
    """Validate the hyper-parameters of a :class:`~ising_rg.rbm.rbm.BernoulliRBM`.

    Parameters
    ----------
    params : mapping
        ``BernoulliRBM.get_params()``. The one check that needs the data, batch_size <= the
        number of training samples, is ``fit``'s.

    Returns
    -------
    (initial momentum, final momentum, epochs at the initial momentum)
    """
    for name in ("n_hidden", "n_epochs", "cd_k", "n_monitor", "batch_size"):
        check_integer(params[name], name, 1)
    check_number(params["learning_rate"], "learning_rate", above=0)
    for name in ("l1", "l2"):
        check_number(params[name], name, minimum=0)
    try:
        m0, m1, switch = params["momentum_schedule"]
    except (TypeError, ValueError):
        raise IsingRGError(
            "momentum_schedule must be (initial, final, n_initial_epochs), got "
            f"{params['momentum_schedule']!r}"
        ) from None
    for m in (m0, m1):
        check_number(m, "momentum", minimum=0, below=1)
    check_integer(switch, "n_initial_epochs", 0)
    check_choice(params["learning_rate_decay"], "learning_rate_decay", ("none", "linear"))
    check_choice(params["init"], "init", ("paper", "guide"))
    check_choice(params["negative_visible"], "negative_visible", ("probabilities", "samples"))
    if not isinstance(params["persistent"], bool | np.bool_):
        raise IsingRGError(f"persistent must be True or False, got {params['persistent']!r}")
    if params["n_persistent_chains"] is not None:
        check_integer(params["n_persistent_chains"], "n_persistent_chains", 1)
    return float(m0), float(m1), int(switch)


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

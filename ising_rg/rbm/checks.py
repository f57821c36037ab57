"""Input checks of the RBM package: arrays, hyper-parameters, parameters, seeds.

Every check raises :class:`~ising_rg.errors.IsingRGError` with a one-line message naming the
problem.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from ising_rg.errors import IsingRGError

__all__ = [
    "as_generator",
    "check_hyperparameters",
    "check_integer",
    "check_parameter_arrays",
    "check_unit_interval",
    "seed_sequence",
]


def as_generator(seed: Any) -> np.random.Generator:
    """A PCG64 Generator from an int / SeedSequence / None (fresh entropy); a Generator as is."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.Generator(np.random.PCG64(seed))


def seed_sequence(random_state: Any) -> np.random.SeedSequence:
    """SeedSequence of a non-negative integer seed (None: fresh entropy; a SeedSequence as is)."""
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise IsingRGError(f"random_state must be a non-negative integer, got {random_state}")
        return np.random.SeedSequence(int(random_state))
    raise IsingRGError(f"random_state must be an integer seed, got {random_state!r}")


def check_integer(value: Any, name: str, minimum: int) -> int:
    """``value`` as an int, if it is an integer (not a bool) >= ``minimum``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise IsingRGError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise IsingRGError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_real(value: Any, name: str) -> float:
    if not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise IsingRGError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _check_choice(value: Any, name: str, choices: tuple[str, str]) -> None:
    if value not in choices:
        raise IsingRGError(f"{name} must be {choices[0]!r} or {choices[1]!r}, got {value!r}")


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
    if _check_real(params["learning_rate"], "learning_rate") <= 0:
        raise IsingRGError(f"learning_rate must be > 0, got {params['learning_rate']}")
    for name in ("l1", "l2"):
        if _check_real(params[name], name) < 0:
            raise IsingRGError(f"{name} must be >= 0, got {params[name]}")
    try:
        m0, m1, switch = params["momentum_schedule"]
    except (TypeError, ValueError):
        raise IsingRGError(
            "momentum_schedule must be (initial, final, n_initial_epochs), got "
            f"{params['momentum_schedule']!r}"
        ) from None
    for m in (m0, m1):
        if not isinstance(m, numbers.Real) or not 0.0 <= m < 1.0:
            raise IsingRGError(f"momentum must be in [0, 1), got {m!r}")
    if not isinstance(switch, numbers.Integral) or switch < 0:
        raise IsingRGError(f"n_initial_epochs must be an integer >= 0, got {switch!r}")
    _check_choice(params["init"], "init", ("paper", "guide"))
    _check_choice(params["negative_visible"], "negative_visible", ("probabilities", "samples"))
    if not isinstance(params["persistent"], bool | np.bool_):
        raise IsingRGError(f"persistent must be True or False, got {params['persistent']!r}")
    if params["n_persistent_chains"] is not None:
        check_integer(params["n_persistent_chains"], "n_persistent_chains", 1)
    return float(m0), float(m1), int(switch)


def check_unit_interval(X: Any, name: str = "X", n_features: int | None = None) -> np.ndarray:
    """Validate a 2-D finite array with values in [0, 1]; return it as C-ordered float32.

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
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise IsingRGError(f"{name} is empty (shape {arr.shape})")
    if n_features is not None and arr.shape[1] != n_features:
        raise IsingRGError(
            f"{name} has {arr.shape[1]} features but the model has {n_features} visible units"
        )
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise IsingRGError(f"{name} contains NaN or infinite values")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0.0 or hi > 1.0:
        raise IsingRGError(f"{name} values must lie in [0, 1], found range [{lo:g}, {hi:g}]")
    return arr


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

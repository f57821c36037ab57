"""Seeds and seeded draws: the one place that turns a seed into random numbers.

Every random choice in the package takes a seed (:data:`SeedLike`) and draws from numpy's PCG64
through :func:`as_generator`; integer seeds are split into independent streams with
:func:`seed_sequence` (``.spawn``) or :func:`seed_stream` (a fixed spawn key per purpose), so
results do not depend on evaluation order.

:func:`bernoulli` is the one Bernoulli draw, ``(rng.random(shape) < p)``. Uniform draws in
float32 and float64 are different streams, so each caller names the precision it draws in.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ising_rg.errors import IsingRGError

__all__ = ["SeedLike", "as_generator", "bernoulli", "seed_sequence", "seed_stream"]

#: What a ``seed`` argument accepts: a non-negative integer, a SeedSequence, or None (fresh
#: entropy, not reproducible). Functions that draw directly also accept a Generator.
SeedLike = int | np.random.SeedSequence | None


def as_generator(seed: Any) -> np.random.Generator:
    """A PCG64 Generator from an int / SeedSequence / None (fresh entropy); a Generator as is."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.Generator(np.random.PCG64(seed))


def seed_sequence(random_state: Any) -> np.random.SeedSequence:
    """SeedSequence of a non-negative integer seed (None: fresh entropy; a SeedSequence as is).

    Raises
    ------
    IsingRGError
        For a negative or non-integer seed.
    """
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise IsingRGError(f"random_state must be a non-negative integer, got {random_state}")
        return np.random.SeedSequence(int(random_state))
    raise IsingRGError(f"random_state must be an integer seed, got {random_state!r}")


def seed_stream(seed: int, *key: int) -> np.random.SeedSequence:
    """The stream ``SeedSequence(seed, spawn_key=key)``: one fixed key per purpose, so a random
    choice draws the same numbers whatever else was drawn before it."""
    return np.random.SeedSequence(seed, spawn_key=key)


def bernoulli(
    probabilities: Any,
    rng: np.random.Generator,
    *,
    uniform_dtype: type = np.float64,
    dtype: type = np.float32,
    shape: tuple[int, ...] | None = None,
) -> np.ndarray:
    """One Bernoulli draw per entry: 1 where a uniform u in [0, 1) falls below p, else 0.

    Exactly ``(rng.random(shape, dtype=uniform_dtype) < probabilities).astype(dtype)``.

    Parameters
    ----------
    probabilities : array-like or float
        P(x = 1), values in [0, 1]; broadcast against ``shape``.
    rng : numpy Generator
    uniform_dtype : numpy.float32 or numpy.float64
        Precision of the uniform draws. The two are different random streams: a caller keeps
        its precision to keep its results.
    dtype : numpy dtype
        Of the result (values 0 and 1).
    shape : tuple of int, optional
        Shape of the draw; default the shape of ``probabilities``.

    Returns
    -------
    ndarray, shape ``shape``, dtype ``dtype``
    """
    if shape is None:
        shape = np.shape(probabilities)
    return (rng.random(shape, dtype=uniform_dtype) < probabilities).astype(dtype)

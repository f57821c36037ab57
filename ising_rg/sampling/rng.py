"""Explicit-state random numbers for numba kernels: xoroshiro128+ and xoroshiro64** streams.

numba's global ``np.random`` has one state per thread, so results inside ``prange`` depend on
how iterations are scheduled. Here every stream (one per lattice site for Metropolis, one per
chain for Wolff, one per column for the RBM's Gibbs sampling) carries its own state in two
arrays, so a result depends only on the seed, never on the number of threads. Both generators
(Blackman & Vigna) need only adds or multiplies, shifts and rotations, which vectorize:
xoroshiro128+ (two uint64, seeded by splitmix64; we use its top 32 or 53 bits, which pass
BigCrush) and xoroshiro64** (two uint32, :func:`next_uint32_narrow`, the one implementation
used by the Metropolis and the RBM kernels).
"""

from __future__ import annotations

import numba as nb
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_U24 = np.uint64(24)
_U16 = np.uint64(16)
_U37 = np.uint64(37)
_U40 = np.uint64(40)
_U27 = np.uint64(27)
_U30 = np.uint64(30)
_U31 = np.uint64(31)
_U32 = np.uint64(32)
_U11 = np.uint64(11)
_INV_2_53 = 1.0 / 9007199254740992.0


@nb.njit(inline="always")
def _splitmix64(x):
    """One splitmix64 output for counter value x (a good 64-bit mixer)."""
    z = x + _GOLDEN
    z = (z ^ (z >> _U30)) * _MIX1
    z = (z ^ (z >> _U27)) * _MIX2
    return z ^ (z >> _U31)


@nb.njit(cache=True)
def _fill_states(seed, state0, state1):
    base = _splitmix64(np.uint64(seed))
    for i in range(state0.size):
        counter = base + np.uint64(2) * np.uint64(i) * _GOLDEN
        a = _splitmix64(counter)
        b = _splitmix64(counter + _GOLDEN)
        if a == 0 and b == 0:  # the all-zero state is the one fixed point
            b = np.uint64(1)
        state0.flat[i] = a
        state1.flat[i] = b


def new_streams(
    seed: int, shape: int | tuple[int, ...], dtype: type = np.uint64
) -> tuple[np.ndarray, np.ndarray]:
    """Independent streams, one per element of ``shape``.

    ``dtype=np.uint64`` gives xoroshiro128+ states (``next_uint64``, ``next_double``);
    ``dtype=np.uint32`` gives xoroshiro64** states (``next_uint32_narrow``), half the memory
    and twice the vector lanes, for the Metropolis kernel.

    Parameters
    ----------
    seed : int
        Non-negative integer (< 2**64). Stream i is seeded from splitmix64(seed) and i,
        so streams never overlap in practice (period 2**128 - 1).
    shape : int or tuple
        Shape of the stream array.

    Returns
    -------
    state0, state1 : ndarray of uint64, each of ``shape``
    """
    state0 = np.empty(shape, dtype=np.uint64)
    state1 = np.empty(shape, dtype=np.uint64)
    _fill_states(np.uint64(seed), state0, state1)
    if dtype == np.uint32:
        # Fold each 64-bit seed to 32 bits; the all-zero state (the fixed point) is avoided.
        state0 = (state0 >> np.uint64(32)).astype(np.uint32)
        state1 = (state1 >> np.uint64(32)).astype(np.uint32) | np.uint32(1)
    return state0, state1


@nb.njit(inline="always")
def next_uint64(s0, s1):
    """Advance one xoroshiro128+ state; returns (output, new_s0, new_s1)."""
    result = s0 + s1
    s1 = s1 ^ s0
    s0 = ((s0 << _U24) | (s0 >> _U40)) ^ s1 ^ (s1 << _U16)
    s1 = (s1 << _U37) | (s1 >> np.uint64(27))
    return result, s0, s1


@nb.njit(inline="always")
def next_uint32(s0, s1):
    """Top 32 bits of the next output (as uint64), and the new state."""
    result, s0, s1 = next_uint64(s0, s1)
    return result >> _U32, s0, s1


@nb.njit(inline="always")
def next_double(s0, s1):
    """Uniform float64 in [0, 1) from the top 53 bits, and the new state."""
    result, s0, s1 = next_uint64(s0, s1)
    return float(result >> _U11) * _INV_2_53, s0, s1


_M32 = np.uint32(0x9E3779BB)


@nb.njit(inline="always")
def _rotl32(x, k):
    return np.uint32((x << np.uint32(k)) | (x >> np.uint32(32 - k)))


@nb.njit(inline="always")
def next_uint32_narrow(s0, s1):
    """Advance one xoroshiro64** state (two uint32); returns (32-bit output, new_s0, new_s1).

    Every operation is 32-bit (the casts keep numba from widening), so a loop over many
    streams vectorizes eight lanes wide with AVX2.
    """
    result = np.uint32(_rotl32(np.uint32(s0 * _M32), 5) * np.uint32(5))
    s1 = np.uint32(s1 ^ s0)
    s0 = np.uint32(_rotl32(s0, 26) ^ s1 ^ np.uint32(s1 << np.uint32(9)))
    s1 = _rotl32(s1, 13)
    return result, s0, s1

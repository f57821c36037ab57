"""Brute-force enumeration of the L x L Ising torus (L <= 4): the oracle the exact results of
:mod:`ising_rg.exact` and the samplers are tested against.

Same conventions as :mod:`ising_rg.exact` (J = 1, coupling K = 1/T, energy
``E = -sum_i s_i (s_right(i) + s_down(i))``: 2N bonds for every L >= 2, so two parallel bonds
per neighbouring pair at L = 2). States are indexed by an integer whose bit ``i = row*L + col``
(least significant bit = site 0) is 1 for spin +1.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ising_rg.errors import IsingRGError
from ising_rg.exact import check_couplings, check_size, float_or_array

__all__ = [
    "MAX_ENUMERATION_SIZE",
    "boltzmann_state_probabilities",
    "brute_force_density_of_states",
    "brute_force_log_partition_function",
    "brute_force_moments",
    "enumerate_torus",
]

#: Largest lattice that :func:`enumerate_torus` accepts (2^16 states; 2^25 would need GBs).
MAX_ENUMERATION_SIZE = 4


def _enum_size(size: int) -> int:
    size = check_size(size)
    if size > MAX_ENUMERATION_SIZE:
        raise IsingRGError(
            f"brute-force enumeration needs size <= {MAX_ENUMERATION_SIZE}, got {size}"
        )
    return size


@functools.lru_cache(maxsize=8)
def _enumerate_cached(size: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    n_sites = size * size
    states = np.arange(1 << n_sites, dtype=np.int64)
    # spins[state, i] = +1 if bit i of the state index is set, else -1.
    bits = (states[:, None] >> np.arange(n_sites, dtype=np.int64)) & 1
    spins = (2 * bits - 1).astype(np.int8)
    idx = np.arange(n_sites).reshape(size, size)
    right = np.roll(idx, -1, axis=1).ravel()  # site (r, c+1)
    down = np.roll(idx, -1, axis=0).ravel()  # site (r+1, c)
    # Each site's right and down bond: 2N bonds for any L (two parallel bonds per pair if L=2).
    energy = -(spins * (spins[:, right] + spins[:, down])).sum(axis=1, dtype=np.int64)
    magnetization = spins.sum(axis=1, dtype=np.int64)
    energy.flags.writeable = False
    magnetization.flags.writeable = False
    return energy, magnetization


def enumerate_torus(size: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Total energy and magnetization of every state of the L x L torus.

    Parameters
    ----------
    size : int, 2 <= L <= 4.

    Returns
    -------
    energy : ndarray int64, shape (2^(L^2),), E = -sum_i s_i (s_right + s_down) (units of J).
    magnetization : ndarray int64, shape (2^(L^2),), M = sum_i s_i.
        Entry ``j`` is the state whose bit ``i = row*L + col`` is 1 for s_i = +1.
    """
    energy, magnetization = _enumerate_cached(_enum_size(size))
    return energy.copy(), magnetization.copy()


def brute_force_density_of_states(
    size: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Number of states per (E, M) pair of the L x L torus (L <= 4).

    Returns
    -------
    energy, magnetization, count : ndarrays int64, shape (n_pairs,), totals (not per spin);
    ``count.sum() == 2^(L^2)``.
    """
    energy, magnetization = _enumerate_cached(_enum_size(size))
    n_sites = size * size
    # Pack (E, M) into one integer key: E in [-2N, 2N], M in [-N, N].
    key = (energy + 2 * n_sites) * (2 * n_sites + 1) + (magnetization + n_sites)
    uniq, count = np.unique(key, return_counts=True)
    e = uniq // (2 * n_sites + 1) - 2 * n_sites
    m = uniq % (2 * n_sites + 1) - n_sites
    return e, m, count.astype(np.int64)


def _dos_weights(k: NDArray[np.float64], size: int):
    """Normalised Boltzmann weights over (E, M) pairs, shape (n_K, n_pairs), plus E, M, ln Z."""
    e, m, count = brute_force_density_of_states(size)
    log_w = -k.reshape(-1, 1) * e + np.log(count)
    top = log_w.max(axis=1, keepdims=True)
    w = np.exp(log_w - top)
    norm = w.sum(axis=1, keepdims=True)
    log_z = (top + np.log(norm))[:, 0]
    return w / norm, e.astype(np.float64), m.astype(np.float64), log_z


def brute_force_log_partition_function(
    coupling: ArrayLike, size: int
) -> float | NDArray[np.float64]:
    """ln Z by summing over all 2^(L^2) states (L <= 4); same shape rules as the exact one."""
    k, scalar = check_couplings(coupling)
    _, _, _, log_z = _dos_weights(k.ravel(), _enum_size(size))
    return float_or_array(log_z.reshape(k.shape), scalar)


def brute_force_moments(coupling: ArrayLike, size: int) -> tuple:
    """Exact moments by full enumeration of the L x L torus (L <= 4).

    Parameters
    ----------
    coupling : float or array, K = 1/T in [K_MIN, K_MAX] = [1e-4, 100].
    size : int, 2 <= L <= 4.

    Returns
    -------
    (energy_per_spin, specific_heat_per_spin, abs_m, m2, m4) : floats, or ndarrays shaped like
    ``coupling``.  <E>/N (units J), C/N = K^2 var(E)/N (units k_B), and <|m|>, <m^2>, <m^4> of
    the magnetization per spin m = M/N.
    """
    k, scalar = check_couplings(coupling)
    size = _enum_size(size)
    n_sites = size * size
    p, e, m, _ = _dos_weights(k.ravel(), size)
    mean_e = p @ e
    var_e = (p * (e[None, :] - mean_e[:, None]) ** 2).sum(axis=1)  # centred: no cancellation
    mpp = m / n_sites
    results = (
        mean_e / n_sites,
        k.ravel() ** 2 * var_e / n_sites,
        p @ np.abs(mpp),
        p @ mpp**2,
        p @ mpp**4,
    )
    return tuple(float_or_array(r.reshape(k.shape), scalar) for r in results)


def boltzmann_state_probabilities(coupling: float, size: int) -> NDArray[np.float64]:
    """Exact Boltzmann probability of every state of the L x L torus (L <= 4).

    Parameters
    ----------
    coupling : float, K = 1/T in [1e-4, 100].
    size : int, 2 <= L <= 4.

    Returns
    -------
    ndarray float64, shape (2^(L^2),), summing to 1.  Entry ``j`` is the state whose bit
    ``i = row*L + col`` (least significant bit = site 0) is 1 for spin +1, i.e. spins
    ``s[row, col] = 2*((j >> (row*L + col)) & 1) - 1``.
    """
    k, scalar = check_couplings(coupling)
    if not scalar:
        raise IsingRGError("boltzmann_state_probabilities takes a single coupling")
    energy, _ = _enumerate_cached(_enum_size(size))
    log_w = -float(k) * energy
    w = np.exp(log_w - log_w.max())
    return w / w.sum()

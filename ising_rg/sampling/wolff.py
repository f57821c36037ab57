"""Wolff single-cluster kernels (numba).

A cluster grows from a random seed site over bonds to aligned neighbours, each added with
probability p_add = 1 - exp(-2K), and is flipped as a whole (Wolff 1989). Each chain carries
its own xoroshiro128+ state (a uint64 array of length 2), so chains run in parallel give the
same results on any number of threads. Works for any L >= 2 (for L = 2 the two horizontal
neighbours are one site joined by two bonds, as in the 2N-bond convention).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ising_rg.sampling.rng import next_double


def add_probability(coupling: float) -> float:
    """Bond-activation probability p_add = 1 - exp(-2K) for coupling K = J / k_B T."""
    return float(-np.expm1(-2.0 * coupling))


@nb.njit(cache=True)
def cluster_step(spins, p_add, state, stack):
    """Grow and flip one Wolff cluster in place.

    Parameters
    ----------
    spins : int8 (L, L), C-contiguous, modified in place
    p_add : float
    state : uint64 (2,), the chain's RNG state, advanced in place
    stack : int64 (L*L,), work space

    Returns
    -------
    int : the number of flipped spins (the cluster size).
    """
    size_l = spins.shape[0]
    flat = spins.ravel()
    s0 = state[0]
    s1 = state[1]
    u, s0, s1 = next_double(s0, s1)
    seed = int(u * flat.size)
    old = flat[seed]
    flat[seed] = -old  # flipping on entry marks the site as taken
    stack[0] = seed
    top = 1
    cluster_size = 1
    while top > 0:
        top -= 1
        site = stack[top]
        r = site // size_l
        c = site - r * size_l
        row = r * size_l
        for k in range(4):
            if k == 0:
                neighbour = row + (c + 1 if c < size_l - 1 else 0)
            elif k == 1:
                neighbour = row + (c - 1 if c > 0 else size_l - 1)
            elif k == 2:
                neighbour = (r + 1 if r < size_l - 1 else 0) * size_l + c
            else:
                neighbour = (r - 1 if r > 0 else size_l - 1) * size_l + c
            if flat[neighbour] == old:
                u, s0, s1 = next_double(s0, s1)
                if u < p_add:
                    flat[neighbour] = -old
                    stack[top] = neighbour
                    top += 1
                    cluster_size += 1
    state[0] = s0
    state[1] = s1
    return cluster_size


@nb.njit(cache=True)
def cluster_steps(spins, p_add, state, stack, n_steps):
    """``n_steps`` Wolff steps; returns the total number of flipped spins."""
    flipped = 0
    for _ in range(n_steps):
        flipped += cluster_step(spins, p_add, state, stack)
    return flipped


@nb.njit(cache=True)
def energy_magnetization(spins):
    """Total energy (2N-bond convention) and magnetization of an (L, L) configuration."""
    size_l = spins.shape[0]
    energy = 0
    magnetization = 0
    for r in range(size_l):
        down = r + 1 if r < size_l - 1 else 0
        for c in range(size_l):
            right = c + 1 if c < size_l - 1 else 0
            energy -= spins[r, c] * (spins[r, right] + spins[down, c])
            magnetization += spins[r, c]
    return energy, magnetization


@nb.njit(cache=True)
def record_series(spins, p_add, state, energy, magnetization, cluster_sizes):
    """One cluster step per entry, recording E, M (totals) and the cluster size (pilot runs)."""
    stack = np.empty(spins.size, dtype=np.int64)
    for t in range(energy.size):
        cluster_sizes[t] = cluster_step(spins, p_add, state, stack)
        energy[t], magnetization[t] = energy_magnetization(spins)


@nb.njit(cache=True, parallel=True)
def run_chains(spins, p_add, states, n_thermalize, spacing, spins_out, energy_out,
               magnetization_out):
    """Independent chains in parallel, each storing a sample every ``spacing`` cluster steps.

    A fixed number of cluster steps between samples (never "until so many spins flipped",
    a state-dependent stopping rule that biases toward order).

    spins : int8 (n_chains, L, L); states : uint64 (n_chains, 2)
    spins_out : int8 (n_chains, n_per_chain, L, L); energy_out, magnetization_out : float64
    (n_chains, n_per_chain), per spin.

    Returns
    -------
    int64 (n_chains,): spins flipped per chain (for the sweep-equivalent bookkeeping).
    """
    n_chains = spins.shape[0]
    n_sites = spins.shape[1] * spins.shape[2]
    flipped = np.zeros(n_chains, dtype=np.int64)
    for c in nb.prange(n_chains):
        stack = np.empty(n_sites, dtype=np.int64)
        flipped[c] += cluster_steps(spins[c], p_add, states[c], stack, n_thermalize)
        for k in range(spins_out.shape[1]):
            flipped[c] += cluster_steps(spins[c], p_add, states[c], stack, spacing)
            spins_out[c, k] = spins[c]
            energy, magnetization = energy_magnetization(spins[c])
            energy_out[c, k] = energy / n_sites
            magnetization_out[c, k] = magnetization / n_sites
    return flipped

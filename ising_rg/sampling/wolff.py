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

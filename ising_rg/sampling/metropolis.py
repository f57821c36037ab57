"""Checkerboard Metropolis kernels (numba).

The L x L torus is split into its two sublattices, stored apart so that a row of one colour
is a contiguous vector whose four neighbours are rows of the other colour:

    black[r, 1 + j] = s[r, 2j + r % 2]        white[r, 1 + j] = s[r, 2j + 1 - r % 2]

for j = 0 .. L/2 - 1. Each row carries one ghost cell at each end (columns 0 and L/2 + 1,
copies of the row's last and first spins), so the periodic horizontal neighbour is a plain
shifted slice and the inner loop runs the full row with no wrap-around branch: it vectorizes.
Up and down neighbours of black[r, j] are white[r -+ 1, j]; its horizontal neighbours are
white[r, j] and white[r, j - 1] (r even) or white[r, j + 1] (r odd); for white the shift is
reversed.

Every site carries its own xoroshiro64** stream (``rng.py``), so a sweep parallelized over
rows gives the same spins on any number of threads. Sites of one colour are conditionally
independent given the other colour, so each half-sweep is an exact Metropolis update.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ising_rg.sampling.rng import next_uint32_narrow


def acceptance_thresholds(coupling: float) -> np.ndarray:
    """Integer acceptance thresholds for s * (neighbour sum) = 2 and 4.

    A flip raising the energy by dE = 2 s h (h the neighbour sum) is accepted with
    probability exp(-K dE); with a 32-bit uniform u it is accepted when u < p 2^32
    (exact to 2^-32). Flips with s h <= 0 lower or keep the energy and are always accepted.

    Returns
    -------
    ndarray of uint32, shape (2,): thresholds for s h = 2 and s h = 4.
    """
    p = np.exp(-2.0 * coupling * np.array([2.0, 4.0]))
    return np.minimum(np.floor(p * 2.0**32), 2.0**32 - 1).astype(np.uint32)


@nb.njit(inline="always")
def _update_row(target, up, down, same, shift, s0, s1, threshold2, threshold4):
    """Metropolis update of one padded row of one colour, then refresh its ghost cells.

    ``up``, ``down``, ``same`` are padded rows of the other colour; ``shift`` (+-1) says on
    which side the second horizontal neighbour lies.
    """
    n = target.size - 2
    spins = target[1 : n + 1]
    above = up[1 : n + 1]
    below = down[1 : n + 1]
    left_or_right = same[1 : n + 1]
    shifted = same[1 + shift : n + 1 + shift]
    for j in range(n):
        u, s0[j], s1[j] = next_uint32_narrow(s0[j], s1[j])
        # 32-bit arithmetic throughout (numba would widen to 64) keeps eight lanes per vector.
        h = (np.int32(above[j]) + np.int32(below[j])
             + np.int32(left_or_right[j]) + np.int32(shifted[j]))
        spin = np.int32(spins[j])
        local = spin * h
        threshold = threshold4 if local == 4 else threshold2
        accept = (local <= 0) | (u < threshold)
        spins[j] = np.int8(-spin if accept else spin)
    target[0] = target[n]
    target[n + 1] = target[1]


@nb.njit(inline="always")
def _vertical(r, n_rows):
    """Indices of the rows above and below row r on the torus."""
    return (r - 1 if r > 0 else n_rows - 1), (r + 1 if r < n_rows - 1 else 0)


@nb.njit(inline="always")
def _sweeps(black, white, state0, state1, thresholds, n_sweeps):
    """``n_sweeps`` checkerboard sweeps (black half, then white half).

    black, white : int8 (L, L/2 + 2), padded; state0, state1 : uint32 (2, L, L/2).
    """
    n_rows = black.shape[0]
    threshold2, threshold4 = thresholds[0], thresholds[1]
    for _ in range(n_sweeps):
        for r in nb.prange(n_rows):
            up, down = _vertical(r, n_rows)
            _update_row(
                black[r], white[up], white[down], white[r], 2 * (r & 1) - 1,
                state0[0, r], state1[0, r], threshold2, threshold4,
            )
        for r in nb.prange(n_rows):
            up, down = _vertical(r, n_rows)
            _update_row(
                white[r], black[up], black[down], black[r], 1 - 2 * (r & 1),
                state0[1, r], state1[1, r], threshold2, threshold4,
            )


# One body, two compilations: serial for one chain among many, row-parallel for one big
# lattice. (Two named wrappers, not two dispatchers of one function: numba's on-disk cache
# keys on the function, not on ``parallel``, and would hand one version to both.)
@nb.njit(cache=True)
def sweeps_serial(black, white, state0, state1, thresholds, n_sweeps):
    """Serial checkerboard sweeps (see ``_sweeps``)."""
    _sweeps(black, white, state0, state1, thresholds, n_sweeps)


@nb.njit(cache=True, parallel=True)
def sweeps_parallel(black, white, state0, state1, thresholds, n_sweeps):
    """Row-parallel checkerboard sweeps; same spins as ``sweeps_serial``, any thread count."""
    _sweeps(black, white, state0, state1, thresholds, n_sweeps)


@nb.njit(cache=True)
def energy_magnetization(black, white):
    """Total energy and magnetization (integers) of a split lattice.

    Every bond joins a black and a white site, so E = -sum_black s (sum of its 4 neighbours).
    """
    n_rows = black.shape[0]
    n = black.shape[1] - 2
    energy = 0
    magnetization = 0
    for r in range(n_rows):
        up, down = _vertical(r, n_rows)
        shift = 2 * (r & 1) - 1
        for j in range(1, n + 1):
            h = white[up, j] + white[down, j] + white[r, j] + white[r, j + shift]
            energy -= black[r, j] * h
            magnetization += black[r, j] + white[r, j]
    return energy, magnetization


@nb.njit(cache=True)
def split_lattice(spins, black, white):
    """Fill the padded sublattice arrays (L, L/2 + 2) from an (L, L) configuration."""
    n_rows = spins.shape[0]
    n = n_rows // 2
    for r in range(n_rows):
        parity = r & 1
        for j in range(n):
            black[r, 1 + j] = spins[r, 2 * j + parity]
            white[r, 1 + j] = spins[r, 2 * j + 1 - parity]
        for half in (black, white):
            half[r, 0] = half[r, n]
            half[r, n + 1] = half[r, 1]


@nb.njit(cache=True)
def join_lattice(black, white, spins):
    """Fill an (L, L) configuration from its padded sublattice arrays."""
    n_rows = spins.shape[0]
    for r in range(n_rows):
        parity = r & 1
        for j in range(n_rows // 2):
            spins[r, 2 * j + parity] = black[r, 1 + j]
            spins[r, 2 * j + 1 - parity] = white[r, 1 + j]


@nb.njit(cache=True)
def record_series(black, white, state0, state1, thresholds, energy, magnetization):
    """One sweep per entry, recording total energy and magnetization after each (pilot runs).

    energy, magnetization : int64 (n_sweeps,), filled in place.
    """
    for t in range(energy.size):
        _sweeps(black, white, state0, state1, thresholds, 1)
        energy[t], magnetization[t] = energy_magnetization(black, white)


@nb.njit(cache=True, parallel=True)
def run_chains(black, white, state0, state1, thresholds, n_thermalize, spacing, spins_out,
               energy_out, magnetization_out):
    """Independent chains in parallel, each storing a sample every ``spacing`` sweeps.

    black, white : int8 (n_chains, L, L/2 + 2); state0, state1 : uint32 (n_chains, 2, L, L/2)
    spins_out : int8 (n_chains, n_per_chain, L, L); energy_out, magnetization_out : float64
    (n_chains, n_per_chain), per spin. Chains are independent, so the result does not depend
    on how they are spread over threads.
    """
    n_sites = spins_out.shape[2] * spins_out.shape[3]
    for c in nb.prange(black.shape[0]):
        _sweeps(black[c], white[c], state0[c], state1[c], thresholds, n_thermalize)
        for k in range(spins_out.shape[1]):
            _sweeps(black[c], white[c], state0[c], state1[c], thresholds, spacing)
            join_lattice(black[c], white[c], spins_out[c, k])
            energy, magnetization = energy_magnetization(black[c], white[c])
            energy_out[c, k] = energy / n_sites
            magnetization_out[c, k] = magnetization / n_sites

"""numba kernel: the locality of many site shuffles of each unit's field (the per-unit null).

For unit a and shuffle k: the unit's weight distribution p_a(x) (squared weights, normalised)
with its sites permuted at random (Fisher-Yates with the unit's own xoroshiro128+ stream), and
the largest sum of it over any periodic b x b window. Units run in parallel, each with its own
stream, so the result depends on the seed only, not on the number of threads.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ising_rg.sampling.rng import next_uint64


@nb.njit(inline="always")
def _best_window(grid, size, block, prefix):
    """Largest sum of ``grid`` (size x size, periodic) over a block x block window, with a
    2D prefix sum of the grid extended by block - 1 wrapped rows and columns."""
    n = size + block - 1
    for i in range(n + 1):
        prefix[i, 0] = 0.0
        prefix[0, i] = 0.0
    for i in range(n):
        row = 0.0
        for j in range(n):
            row += grid[i % size, j % size]
            prefix[i + 1, j + 1] = prefix[i, j + 1] + row
    best = 0.0
    for i in range(size):
        for j in range(size):
            total = (prefix[i + block, j + block] - prefix[i, j + block]
                     - prefix[i + block, j] + prefix[i, j])
            if total > best:
                best = total
    return best


@nb.njit(parallel=True, cache=True)
def shuffled_best_windows(distributions, size, block, n_shuffles, state0, state1, out):
    """out[a, k] = best window sum of shuffle k of distributions[a] (float64, (n, size*size))."""
    n_units, n_sites = distributions.shape
    for a in nb.prange(n_units):
        s0, s1 = state0[a], state1[a]
        values = distributions[a].copy()
        grid = np.empty((size, size))
        prefix = np.empty((size + block, size + block))
        for k in range(n_shuffles):
            for i in range(n_sites - 1, 0, -1):  # Fisher-Yates
                r, s0, s1 = next_uint64(s0, s1)
                j = np.int64(r % np.uint64(i + 1))
                values[i], values[j] = values[j], values[i]
            for i in range(n_sites):
                grid[i // size, i % size] = values[i]
            out[a, k] = _best_window(grid, size, block, prefix)

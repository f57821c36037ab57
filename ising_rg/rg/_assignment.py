"""Optimal one-to-one assignment (the linear assignment problem), numba kernel.

Given an n x n cost matrix C, find the permutation p minimizing sum_i C[i, p(i)]. Solved by the
Hungarian method in its shortest-augmenting-path form (Kuhn 1955, Munkres 1957; the O(n^3)
variant with row and column potentials, as in Jonker & Volgenant 1987 without their
initialization heuristics): rows are added one at a time; for each, a Dijkstra-like search over
reduced costs C[i, j] - u[i] - v[j] >= 0 finds the cheapest augmenting path to a free column,
the potentials are updated so that every reduced cost stays non-negative and the matched ones
are zero, and the path is flipped. At the end the matching is optimal (the potentials are a
dual solution with equal objective). Deterministic: ties go to the lowest column index.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ising_rg.errors import IsingRGError

__all__ = ["optimal_assignment"]


@nb.njit(cache=True)
def _shortest_augmenting_path(cost):  # pragma: no cover - compiled
    n = cost.shape[0]
    inf = np.inf
    # 1-based rows and columns; column 0 is a virtual column holding the row being added.
    u = np.zeros(n + 1)
    v = np.zeros(n + 1)
    row_of = np.zeros(n + 1, dtype=np.int64)  # row matched to column j (0: free)
    way = np.zeros(n + 1, dtype=np.int64)  # previous column on the shortest path
    for i in range(1, n + 1):
        row_of[0] = i
        j0 = 0
        min_reduced = np.full(n + 1, inf)
        used = np.zeros(n + 1, dtype=np.bool_)
        while True:
            used[j0] = True
            i0 = row_of[j0]
            delta = inf
            j1 = 0
            for j in range(1, n + 1):
                if not used[j]:
                    reduced = cost[i0 - 1, j - 1] - u[i0] - v[j]
                    if reduced < min_reduced[j]:
                        min_reduced[j] = reduced
                        way[j] = j0
                    if min_reduced[j] < delta:
                        delta = min_reduced[j]
                        j1 = j
            for j in range(n + 1):
                if used[j]:
                    u[row_of[j]] += delta
                    v[j] -= delta
                else:
                    min_reduced[j] -= delta
            j0 = j1
            if row_of[j0] == 0:
                break
        while j0 != 0:  # flip the augmenting path
            j1 = way[j0]
            row_of[j0] = row_of[j1]
            j0 = j1
    column_of = np.empty(n, dtype=np.int64)
    for j in range(1, n + 1):
        column_of[row_of[j] - 1] = j - 1
    return column_of


def optimal_assignment(cost: np.ndarray) -> np.ndarray:
    """The one-to-one assignment of rows to columns with the least total cost.

    Parameters
    ----------
    cost : array-like, shape (n, n), finite real numbers

    Returns
    -------
    int64 array (n,): ``column[i]`` is the column assigned to row i (a permutation of 0..n-1)
    minimizing ``sum_i cost[i, column[i]]``.
    """
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise IsingRGError(f"the assignment cost must be a square matrix, got {c.shape}")
    if not np.all(np.isfinite(c)):
        raise IsingRGError("the assignment cost must be finite")
    if c.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    # Shift so every cost is >= 0: the optimum is unchanged and the potentials stay small.
    return _shortest_augmenting_path(np.ascontiguousarray(c - c.min()))

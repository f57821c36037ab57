"""Optimal assignment (Hungarian method) against brute force over every permutation."""

import itertools

import numpy as np
import pytest

from ising_rg.errors import IsingRGError
from ising_rg.rg._assignment import optimal_assignment


def _brute_force_cost(cost):
    n = cost.shape[0]
    return min(cost[np.arange(n), list(p)].sum() for p in itertools.permutations(range(n)))


@pytest.mark.parametrize("kind", ["normal", "small integers", "negative"])
def test_matches_brute_force_on_every_small_size(kind):
    rng = np.random.default_rng({"normal": 0, "small integers": 1, "negative": 2}[kind])
    for n in range(1, 8):
        for _ in range(25):
            if kind == "normal":
                cost = rng.normal(size=(n, n))
            elif kind == "small integers":  # many ties: only the optimal cost is unique
                cost = rng.integers(0, 4, size=(n, n)).astype(float)
            else:
                cost = -np.exp(rng.normal(size=(n, n)) * 3)
            column = optimal_assignment(cost)
            assert sorted(column) == list(range(n))
            assert cost[np.arange(n), column].sum() == pytest.approx(_brute_force_cost(cost),
                                                                     abs=1e-9)


def test_unique_optimum_is_found_exactly():
    # Continuous random costs have a unique optimum (almost surely): the permutation itself.
    rng = np.random.default_rng(3)
    for n in (5, 6, 7):
        cost = rng.random((n, n))
        best = min(itertools.permutations(range(n)),
                   key=lambda p: cost[np.arange(n), list(p)].sum())
        np.testing.assert_array_equal(optimal_assignment(cost), best)


def test_planted_permutation_of_points_on_a_grid():
    # 400 points each displaced a little from a distinct grid site: the assignment that
    # minimizes the squared distances returns each point to its own site.
    rng = np.random.default_rng(4)
    sites = np.stack(np.meshgrid(np.arange(20.0), np.arange(20.0), indexing="ij"), -1)
    sites = sites.reshape(-1, 2)
    planted = rng.permutation(400)
    points = sites[planted] + rng.uniform(-0.3, 0.3, size=(400, 2))
    cost = np.sum((points[:, np.newaxis, :] - sites[np.newaxis, :, :]) ** 2, axis=-1)
    np.testing.assert_array_equal(optimal_assignment(cost), planted)


def test_bad_cost_raises():
    with pytest.raises(IsingRGError, match="square"):
        optimal_assignment(np.zeros((2, 3)))
    with pytest.raises(IsingRGError, match="finite"):
        optimal_assignment(np.array([[0.0, np.inf], [1.0, 0.0]]))
    assert optimal_assignment(np.zeros((0, 0))).size == 0

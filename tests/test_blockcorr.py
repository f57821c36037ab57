"""Block-spin correlation of units whose activation is (or is not) a block spin, and chance."""

import numpy as np
import pytest

from ising_rg.rg.block_correlation import (
    block_spin_correlation,
    block_spin_correlation_chance,
    column_correlations,
)
from ising_rg.rg.kadanoff import window_majority_spins
from tests.conftest import random_spins


def test_block_spin_correlation_of_a_block_spin_unit_is_one():
    size, b, n = 8, 2, 3000
    spins = random_spins(n, size, 0)
    windows = window_majority_spins(spins, b, seed=5)
    # Unit 0 IS the block spin of the window with corner (3, 6); unit 1 is a soft block-spin
    # unit (sigmoid of the block sum); unit 2 is noise.
    block_sum = spins[:, 3:5, 6:8].sum(axis=(1, 2))
    activations = np.column_stack(
        [
            (windows[:, 3, 6] + 1) / 2,
            1 / (1 + np.exp(-1.5 * block_sum)),
            np.random.default_rng(1).random(n),
        ]
    )
    centroids = np.array([[3.5, 6.5], [3.5, 6.5], [3.5, 6.5]])
    corr = block_spin_correlation(activations, spins, centroids, b, seed=5)
    assert corr[0] == pytest.approx(1.0)
    # Ties (3/8 of random 2x2 blocks) cap a linear unit's correlation with the majority spin
    # at 0.75; with the block magnetization it is near 1.
    assert 0.7 < corr[1] < 0.85
    assert corr[2] < 0.1
    linear = block_spin_correlation(activations, spins, centroids, b, rule="mean")
    assert linear[1] > 0.95 and linear[2] < 0.1
    chance = block_spin_correlation_chance(activations, spins, b, seed=6, n_draws=16)
    assert chance[0] < 0.3 and chance[1] < 0.3
    # The aligned Kadanoff block containing (3.5, 6.5) has corner (2, 6): overlaps half the window.
    aligned = block_spin_correlation(activations, spins, centroids, b, seed=5, aligned=True)
    assert aligned[0] < 0.7


def test_block_spin_correlation_of_negative_unit_and_wrapping_window():
    size, b, n = 8, 4, 2000
    spins = random_spins(n, size, 2)
    windows = window_majority_spins(spins, b, seed=0)
    activations = ((1 - windows[:, 6, 7]) / 2)[:, None]  # anti-aligned, window wraps both axes
    centroid = np.array([[(6 + 1.5) % size, (7 + 1.5) % size]])
    corr = block_spin_correlation(activations, spins, centroid, b, seed=0)
    assert corr[0] == pytest.approx(1.0)


def test_column_correlations_of_constant_column_is_nan():
    a = np.column_stack([np.ones(5), np.arange(5.0)])
    out = column_correlations(a, np.column_stack([np.arange(5.0), np.arange(5.0)]))
    assert np.isnan(out[0]) and out[1] == pytest.approx(1.0)

"""Receptive-field metrics on synthetic fields with known answers, and the correlation length."""

import numpy as np
import pytest

from ising_rg.rg.blockspin import window_majority_spins
from ising_rg.rg.metrics import (
    best_window_fraction,
    block_spin_correlation,
    block_spin_correlation_chance,
    centroid_coverage,
    column_correlations,
    correlation_length,
    dead_units,
    locality,
    locality_chance,
    participation_ratio,
    periodic_centroid,
    radius_of_gyration,
    structure_factor_series,
)

L = 16


def block_field(size, block_size, corner, signs_seed=None):
    """A field equal to +-1 on the b x b window at ``corner`` (periodic), 0 elsewhere."""
    field = np.zeros((size, size))
    rows = (corner[0] + np.arange(block_size)) % size
    cols = (corner[1] + np.arange(block_size)) % size
    values = np.ones((block_size, block_size))
    if signs_seed is not None:
        values *= np.random.default_rng(signs_seed).choice([-1.0, 1.0], size=values.shape)
    field[np.ix_(rows, cols)] = values
    return field


@pytest.mark.parametrize("block_size", [1, 2, 4, 8])
def test_participation_ratio_of_uniform_block_is_b_squared(block_size):
    fields = np.stack(
        [
            block_field(L, block_size, (0, 0)),
            block_field(L, block_size, (L - 1, 5), signs_seed=1),  # wraps, mixed signs
            3.7 * block_field(L, block_size, (9, L - 2)),  # scale does not matter
        ]
    )
    np.testing.assert_allclose(participation_ratio(fields), block_size**2, rtol=1e-12)


def test_participation_ratio_of_uniform_and_zero_fields():
    assert participation_ratio(np.ones((L, L)))[0] == pytest.approx(L * L)
    assert participation_ratio(np.zeros((L, L)))[0] == pytest.approx(L * L)


def test_periodic_centroid_of_blob_wrapping_the_boundary():
    # A 2x2 block on rows {15, 0}, cols {15, 0}: centroid at the corner, (15.5, 15.5) mod 16,
    # whereas a naive mean would put it in the middle of the lattice (7.5, 7.5).
    field = block_field(L, 2, (L - 1, L - 1))
    centroid = periodic_centroid(field)[0]
    distance = (centroid - 15.5 + L / 2) % L - L / 2
    np.testing.assert_allclose(distance, 0.0, atol=1e-9)
    # An asymmetric blob: weight 1 at col 15, 3 at col 0 (row 4): circular mean of the two sites.
    blob = np.zeros((L, L))
    blob[4, 15], blob[4, 0] = 1.0, np.sqrt(3.0)  # p = 1/4 and 3/4
    angle = np.angle(0.25 * np.exp(2j * np.pi * 15 / L) + 0.75)
    np.testing.assert_allclose(periodic_centroid(blob)[0], [4.0, (angle * L / (2 * np.pi)) % L])


def test_periodic_centroid_of_interior_block():
    np.testing.assert_allclose(periodic_centroid(block_field(L, 4, (3, 8)))[0], [4.5, 9.5])


@pytest.mark.parametrize("block_size", [1, 2, 3, 4, 8])
def test_radius_of_gyration_of_uniform_block(block_size):
    expected = np.sqrt((block_size**2 - 1) / 6.0)
    fields = np.stack([block_field(L, block_size, (2, 3)), block_field(L, block_size, (L - 1, 14))])
    np.testing.assert_allclose(radius_of_gyration(fields), expected, atol=1e-9)


def test_radius_of_gyration_of_two_points():
    field = np.zeros((L, L))
    field[0, 0] = field[0, L - 2] = 1.0  # 2 apart through the boundary, not 14
    assert radius_of_gyration(field)[0] == pytest.approx(1.0, abs=1e-9)


def test_locality_of_planted_block_vs_random_field():
    rng = np.random.default_rng(0)
    planted = np.stack(
        [block_field(L, 4, (rng.integers(L), rng.integers(L))) for _ in range(20)]
    ) + 0.01 * rng.normal(size=(20, L, L))
    random_fields = rng.normal(size=(20, L, L))
    planted_locality = locality(planted, 4)
    assert planted_locality.min() > 0.97
    # 16 equal pixels scattered at random: a 4x4 window still catches ~4 of them.
    assert locality_chance(planted, 4, seed=1).mean() < 0.45
    random_locality = locality(random_fields, 4).mean()
    random_chance = locality_chance(random_fields, 4, seed=1).mean()
    assert random_locality < 0.25
    assert random_locality == pytest.approx(random_chance, rel=0.15)


def test_best_window_finds_wrapped_block_corner():
    fraction, corner = best_window_fraction(block_field(L, 4, (L - 1, L - 3)), 4)
    assert fraction[0] == pytest.approx(1.0)
    np.testing.assert_array_equal(corner[0], [L - 1, L - 3])


def test_locality_chance_is_seeded():
    fields = np.random.default_rng(3).normal(size=(5, L, L))
    np.testing.assert_array_equal(locality_chance(fields, 2, seed=4), locality_chance(fields, 2, 4))


def random_spins(n, size, seed):
    return np.random.default_rng(seed).choice(
        np.array([-1, 1], dtype=np.int8), size=(n, size, size)
    )


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


def test_coverage_of_perfect_tiling_and_of_a_pile():
    size, b = 16, 4
    grid = np.array([[b * i + 1.5, b * j + 1.5] for i in range(4) for j in range(4)])
    tiling = centroid_coverage(grid, size, b)
    assert tiling["occupied_block_fraction"] == 1.0
    assert tiling["nearest_neighbour_distance"]["mean"] == pytest.approx(b)
    assert tiling["square_grid_spacing"] == pytest.approx(b)
    pile = centroid_coverage(np.full((16, 2), 5.0), size, b)
    assert pile["occupied_block_fraction"] == 1 / 16
    assert pile["nearest_neighbour_distance"]["mean"] == 0.0
    assert 0.6 < tiling["occupied_block_fraction_random"] < 0.7  # 1 - (15/16)^16
    # Two centroids across the boundary are close.
    pair = centroid_coverage(np.array([[0.5, 0.5], [15.5, 0.5]]), size, b)
    assert pair["nearest_neighbour_distance"]["mean"] == pytest.approx(1.0)


def test_dead_units():
    mean_activation = np.array([0.0, 0.005, 0.01, 0.5, 0.99, 0.995, 1.0])
    np.testing.assert_array_equal(
        dead_units(mean_activation), [True, True, False, False, False, True, True]
    )


def test_structure_factor_matches_pair_sum():
    spins = random_spins(3, 6, 4)
    s_zero, s_min = structure_factor_series(spins)
    rows, cols = np.meshgrid(np.arange(6), np.arange(6), indexing="ij")
    for k, config in enumerate(spins.astype(float)):
        assert s_zero[k] == pytest.approx(config.sum() ** 2 / 36)
        sx = np.abs(np.sum(config * np.exp(2j * np.pi * cols / 6))) ** 2 / 36
        sy = np.abs(np.sum(config * np.exp(2j * np.pi * rows / 6))) ** 2 / 36
        assert s_min[k] == pytest.approx((sx + sy) / 2)


def heat_bath(coupling, size, n_chains, n_sweeps, seed):
    """Checkerboard heat-bath Ising chains in numpy (independent chains, batched)."""
    rng = np.random.default_rng(seed)
    s = rng.choice(np.array([-1.0, 1.0]), size=(n_chains, size, size))
    rows, cols = np.indices((size, size))
    colours = [(rows + cols) % 2 == c for c in (0, 1)]
    for _ in range(n_sweeps):
        for colour in colours:
            h = np.roll(s, 1, 1) + np.roll(s, -1, 1) + np.roll(s, 1, 2) + np.roll(s, -1, 2)
            up = rng.random(s.shape) < 1 / (1 + np.exp(-2 * coupling * h))
            s = np.where(colour, np.where(up, 1.0, -1.0), s)
    return s.astype(np.int8)


def test_correlation_length_is_small_for_independent_spins():
    xi, error = correlation_length(random_spins(4000, 12, 5))
    assert xi < 0.6
    assert np.isfinite(error)


def test_correlation_length_grows_towards_criticality():
    size = 12
    xis = [correlation_length(heat_bath(k, size, 400, 150, seed=1))[0] for k in (0.15, 0.3, 0.4)]
    assert xis[0] < xis[1] < xis[2]
    assert xis[0] < 0.8  # high T: short-ranged (high-temperature series ~ 0.3)
    assert 1.0 < xis[2] < size  # T = 2.5 on a 12x12 torus: a few lattice spacings

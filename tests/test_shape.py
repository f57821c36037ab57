"""Field-shape metrics on synthetic fields with known answers: size, centroid, locality, tiling."""

import numpy as np
import pytest

from ising_rg.rg.shape import (
    best_window_fraction,
    centroid_coverage,
    dead_units,
    locality,
    locality_chance,
    participation_ratio,
    periodic_centroid,
    radius_of_gyration,
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

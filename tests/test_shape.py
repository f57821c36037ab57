"""Field-shape metrics on synthetic fields with known answers: size, centroid, locality, tiling;
sizes that a weak background cannot move."""

import math

import numpy as np
import pytest

from ising_rg.rbm.dbn import DBN
from ising_rg.rbm.trainer import dead_units
from ising_rg.rg.kadanoff import block_fields
from ising_rg.rg.receptive_fields import weight_product_fields
from ising_rg.rg.shape import (
    best_window_fraction,
    centroid_coverage,
    half_weight_radius,
    local_units,
    locality,
    locality_chance,
    locality_null,
    noise_level,
    participation_ratio,
    periodic_centroid,
    radius_of_gyration,
    sites_above,
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


# ------------------------------------------------------------------------------ robust sizes
@pytest.mark.parametrize(
    ("block_size", "expected"),
    [(1, 0.0), (2, math.sqrt(2) / 2), (4, math.sqrt(10) / 2),
     # b = 8: exactly half the weight within sqrt(34)/2, so the midpoint to sqrt(50)/2
     (8, (math.sqrt(34) + math.sqrt(50)) / 4)],
)
def test_half_weight_radius_of_uniform_blocks(block_size, expected):
    fields = np.stack([block_field(L, block_size, (3, 5)),
                       2.0 * block_field(L, block_size, (L - 1, L - 2), signs_seed=4)])
    np.testing.assert_allclose(half_weight_radius(fields), expected, atol=1e-12)


def _untrained_noise_level(size):
    """Noise level of layer 1 of the paper's untrained network on an L x L lattice."""
    rbm = DBN((size * size // 4,), random_state=0).initialize(size * size).rbms_[0]
    return noise_level(weight_product_fields([rbm.weights_], size)[0])


def test_noise_level_is_exceeded_at_one_site_per_untrained_unit():
    size = 16
    rbm = DBN((64,), random_state=0).initialize(size * size).rbms_[0]
    fields = weight_product_fields([rbm.weights_], size)[0]
    level = noise_level(fields)
    assert sites_above(fields, level).mean() == pytest.approx(1.0, abs=0.05)
    # The paper's initial weights are 0.1 N(0,1): the (1 - 1/256) quantile of their square.
    assert level == pytest.approx(0.01 * 2.889**2, rel=0.1)
    assert sites_above(block_field(size, 4, (2, 2)), level)[0] == 16


@pytest.mark.parametrize("block_size", [2, 4, 8])
def test_robust_sizes_ignore_a_weak_background_that_inflates_the_radius_of_gyration(block_size):
    # A b x b block of 1 on the 40 x 40 torus, and the same with a uniform background of 2 %
    # and 5 % of its amplitude on every other site.
    size = 40
    clean = block_field(size, block_size, (11, 17))
    fields = np.stack([clean] + [np.where(clean > 0, 1.0, level) for level in (0.02, 0.05)])
    half = half_weight_radius(fields)
    np.testing.assert_allclose(half[1:], half[0], rtol=0.2)
    level = _untrained_noise_level(size)
    above = sites_above(fields, level)
    np.testing.assert_array_equal(above, block_size**2)
    rg = radius_of_gyration(fields)
    assert rg[0] == pytest.approx(math.sqrt((block_size**2 - 1) / 6))
    if block_size == 2:  # the background moves R_g from 0.71 to 6.1 and 11.6
        np.testing.assert_allclose(rg[1:], [6.10, 11.56], atol=0.01)
    assert rg[2] > 1.5 * rg[0]  # well outside 20 % for every b


# -- locality judged per unit against its own shuffles (sparsity kept, place not) ------------
def _bond_fields(n_units: int, size: int, rng) -> np.ndarray:
    """Planted bond-like units: two large weights on a random nearest-neighbour pair, small
    noise elsewhere (what the paper recipe's L = 16 first layer learns)."""
    fields = 0.01 * rng.normal(size=(n_units, size, size))
    rows, cols = rng.integers(0, size, n_units), rng.integers(0, size, n_units)
    horizontal = rng.random(n_units) < 0.5
    fields[np.arange(n_units), rows, cols] = 1.0
    fields[np.arange(n_units), (rows + ~horizontal) % size, (cols + horizontal) % size] = 0.9
    return fields


def test_bond_units_are_local_though_their_shuffles_are_sparse_too():
    """A site shuffle keeps a bond unit's two large weights, so its pooled chance level is
    high (about 0.55), yet every such unit stands out of its own null."""
    fields = _bond_fields(300, 16, np.random.default_rng(0))
    assert locality_chance(fields, 2, seed=1).mean() > 0.45  # the pooled chance level misleads
    is_local, z = local_units(fields, 2, seed=2)
    assert is_local.all(), z.min()


def test_ideal_kadanoff_units_are_local():
    """At L = 16 and at the paper's L = 40, where a 2 x 2 block's 100 shuffles often never
    put two of its sites in one window (all equal: no spread to divide by), yet it beats
    every one of them."""
    for size, block_size in ((16, 2), (16, 4), (16, 8), (40, 2), (40, 4), (40, 8)):
        fields = block_fields(size, block_size)
        is_local, z = local_units(fields, block_size, seed=3)
        assert is_local.all(), (size, block_size, z.min())
    uniform = np.ones((3, 16, 16))  # the same everywhere: every window holds the same
    assert not local_units(uniform, 2, seed=3)[0].any()


def test_random_fields_are_local_about_one_time_in_a_hundred():
    """Independent random weights: the locality (a largest window sum) is Gumbel-like, which
    exceeds its mean by 3 standard deviations with probability 1.2 %. The binomial error of the
    fraction over 3000 units is 0.002; the window is 1.2 % +- 4 of them (the estimated mean and
    deviation of 100 shuffles blur the threshold a little)."""
    fields = np.random.default_rng(5).normal(size=(3000, 16, 16))
    fraction = local_units(fields, 2, seed=6)[0].mean()
    assert 0.012 - 4 * 0.002 < fraction < 0.012 + 4 * 0.002, fraction


def test_locality_null_is_seeded_and_thread_independent():
    fields = np.random.default_rng(7).normal(size=(20, 12, 12))
    one = locality_null(fields, 2, n_shuffles=30, seed=8)
    assert one.shape == (20, 30)
    np.testing.assert_array_equal(one, locality_null(fields, 2, n_shuffles=30, seed=8))
    assert not np.array_equal(one, locality_null(fields, 2, n_shuffles=30, seed=9))
    import numba

    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        np.testing.assert_array_equal(one, locality_null(fields, 2, n_shuffles=30, seed=8))
    finally:
        numba.set_num_threads(threads)
    # each shuffle keeps the unit's weights: the null's best window never beats the b^2
    # largest weights together
    p = (fields**2).reshape(20, -1) / (fields**2).reshape(20, -1).sum(axis=1, keepdims=True)
    top4 = np.sort(p, axis=1)[:, -4:].sum(axis=1)
    assert (one <= top4[:, None] + 1e-12).all()

"""Majority-rule block spins: hand-made configurations, ties, hierarchy, window sums."""

import numpy as np
import pytest

from ising_rg.errors import IsingRGError
from ising_rg.rg.kadanoff import (
    block_spin_hierarchy,
    coarse_grained_observables,
    majority_block_spins,
    periodic_window_sums,
    window_majority_spins,
)


def test_majority_rule_on_hand_made_configuration():
    # 2x2 blocks of a 4x4 lattice; no ties: block sums are +4, -2, +2, -4.
    spins = np.array(
        [
            [1, 1, -1, -1],
            [1, 1, -1, 1],
            [1, -1, -1, -1],
            [1, 1, -1, -1],
        ],
        dtype=np.int8,
    )
    expected = np.array([[1, -1], [1, -1]], dtype=np.int8)
    np.testing.assert_array_equal(majority_block_spins(spins, 2), expected)
    # Batched input gives the same per configuration; flipping all spins flips the blocks.
    batch = np.stack([spins, -spins])
    np.testing.assert_array_equal(majority_block_spins(batch, 2), np.stack([expected, -expected]))


def test_odd_block_has_no_ties_and_matches_direct_sum():
    rng = np.random.default_rng(1)
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(5, 9, 9))
    blocks = majority_block_spins(spins, 3, seed=None)  # seed unused: no ties for odd b
    direct = np.sign(spins.reshape(5, 3, 3, 3, 3).sum(axis=(2, 4)))
    np.testing.assert_array_equal(blocks, direct)


def test_ties_are_broken_by_seeded_fair_coins():
    tie = np.array([[1, -1], [-1, 1]], dtype=np.int8)  # block sum 0
    spins = np.tile(tie, (200, 4, 4))  # 200 configurations of 8x8, every 2x2 block tied
    a = majority_block_spins(spins, 2, seed=7)
    b = majority_block_spins(spins, 2, seed=7)
    c = majority_block_spins(spins, 2, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # The documented rule: coins drawn over the full output shape from default_rng(seed).
    coins = np.random.default_rng(7).integers(0, 2, size=a.shape, dtype=np.int8)
    np.testing.assert_array_equal(a, 2 * coins - 1)
    assert abs(np.mean(a == 1) - 0.5) < 0.03


def test_tie_break_only_touches_tied_blocks():
    spins = np.ones((1, 4, 4), dtype=np.int8)
    spins[0, 0, 0] = spins[0, 1, 1] = -1  # top-left block tied, others +4
    for seed in range(10):
        out = majority_block_spins(spins, 2, seed=seed)[0]
        assert out[0, 1] == out[1, 0] == out[1, 1] == 1
        assert out[0, 0] in (-1, 1)


@pytest.mark.parametrize(
    "spins, block_size",
    [
        (np.ones((2, 6, 6), dtype=np.int8), 4),  # 6 not divisible by 4
        (np.zeros((2, 4, 4), dtype=np.int8), 2),  # not spins
        (np.ones((2, 4, 6), dtype=np.int8), 2),  # not square
    ],
)
def test_bad_input_raises_one_line_error(spins, block_size):
    with pytest.raises(IsingRGError):
        majority_block_spins(spins, block_size)


def test_periodic_window_sums_match_brute_force():
    rng = np.random.default_rng(2)
    field = rng.normal(size=(3, 7, 7))
    for b in (1, 2, 3, 7):
        brute = sum(np.roll(field, (-di, -dj), axis=(1, 2)) for di in range(b) for dj in range(b))
        np.testing.assert_allclose(periodic_window_sums(field, b), brute, atol=1e-12)


def test_window_majority_agrees_with_aligned_blocks():
    rng = np.random.default_rng(3)
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(4, 9, 9))
    windows = window_majority_spins(spins, 3)
    np.testing.assert_array_equal(windows[:, ::3, ::3], majority_block_spins(spins, 3))
    # A window that wraps: corner (8, 8) covers rows/cols {8, 0, 1}.
    rows = cols = np.array([8, 0, 1])
    wrapped = np.sign(spins[:, rows][:, :, cols].sum(axis=(1, 2)))
    np.testing.assert_array_equal(windows[:, 8, 8], wrapped)


def test_hierarchy_shapes_and_uniform_configurations():
    spins = np.ones((3, 16, 16), dtype=np.int8)
    spins[1] *= -1
    hierarchy = block_spin_hierarchy(spins, block_size=2, levels=3, seed=0)
    assert [h.shape for h in hierarchy] == [(3, 16, 16), (3, 8, 8), (3, 4, 4), (3, 2, 2)]
    for level in hierarchy:
        np.testing.assert_array_equal(level[0], 1)
        np.testing.assert_array_equal(level[1], -1)
    with pytest.raises(IsingRGError):
        block_spin_hierarchy(np.ones((1, 12, 12), dtype=np.int8), block_size=2, levels=3)


def test_coarse_grained_observables_of_ordered_and_striped_states():
    ordered = np.ones((4, 8, 8), dtype=np.int8)
    for level in coarse_grained_observables(ordered, block_size=2, levels=2):
        assert level["energy_per_spin"]["mean"] == -2.0
        assert level["abs_magnetization"]["mean"] == 1.0
    # Vertical stripes of width 2: vertical bonds all satisfied, half the horizontal ones broken,
    # E/N = -1; 2x2 blocking gives stripes of width 1, all horizontal bonds broken, E/N = 0.
    stripes = np.tile(np.array([1, 1, -1, -1], dtype=np.int8), (4, 8, 2))
    levels = coarse_grained_observables(stripes, block_size=2, levels=1)
    assert levels[0]["energy_per_spin"]["mean"] == -1.0
    assert levels[1]["size"] == 4 and levels[1]["block_size"] == 2
    assert levels[1]["energy_per_spin"]["mean"] == 0.0
    assert levels[1]["abs_magnetization"]["mean"] == 0.0

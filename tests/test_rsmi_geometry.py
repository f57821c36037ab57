"""RSMI geometry: the block, its buffer and its environment on the torus."""

from __future__ import annotations

import numpy as np
import pytest

from ising_rg.errors import IsingRGError
from ising_rg.rg.rsmi_geometry import block_distances, rsmi_geometry


def _ring(size, block, buffer, environment):
    """Environment sites around the block at the origin, by brute force over every site:
    those whose nearest block site is at periodic Chebyshev distance in (L_B, L_B + L_E]."""
    sites = set()
    for r in range(size):
        for c in range(size):
            d = min(max(min((r - i) % size, (i - r) % size), min((c - j) % size, (j - c) % size))
                    for i in range(block) for j in range(block))
            if buffer < d <= buffer + environment:
                sites.add(r * size + c)
    return sites


@pytest.mark.parametrize("size,block,buffer,environment", [
    (40, 2, 2, 2), (16, 2, 2, 2), (32, 4, 4, 4), (4, 2, 0, 1), (4, 1, 1, 1), (8, 2, 1, 5),
    (6, 3, 0, 2)])
def test_environment_is_the_ring_at_the_stated_distance(size, block, buffer, environment):
    g = rsmi_geometry(size, block, buffer, environment)
    assert set(g.environment_index[0].tolist()) == _ring(size, block, buffer, environment)
    assert g.environment_index.shape == (g.n_blocks, g.n_environment)
    assert g.n_blocks == (size // block) ** 2
    if block + 2 * (buffer + environment) <= size:  # the square ring of the docs
        inner, outer = block + 2 * buffer, block + 2 * (buffer + environment)
        assert g.n_environment == outer**2 - inner**2
    # No site of the block is in its environment, and no site is counted twice.
    for k in range(g.n_blocks):
        assert not set(g.block_index[k]) & set(g.environment_index[k])
        assert len(set(g.environment_index[k])) == g.n_environment


def test_blocks_tile_the_lattice_and_environments_translate():
    g = rsmi_geometry(12, 3, 1, 1)
    assert sorted(g.block_index.ravel().tolist()) == list(range(144))
    # Block k's environment is block 0's shifted by block k's corner.
    rows0, cols0 = np.divmod(g.environment_index[0], 12)
    for k in range(g.n_blocks):
        corner_r, corner_c = divmod(int(g.block_index[k, 0]), 12)
        shifted = ((rows0 + corner_r) % 12) * 12 + (cols0 + corner_c) % 12
        assert np.array_equal(g.environment_index[k], shifted)


def test_small_torus_environments_used_by_the_exact_checks():
    assert rsmi_geometry(4, 2, 0, 1).n_environment == 12  # every site outside the block
    assert rsmi_geometry(4, 1, 1, 1).n_environment == 7  # the sites at distance 2
    assert rsmi_geometry(4, 1, 0, 1).n_environment == 8


def test_environment_field_places_values_at_offsets():
    g = rsmi_geometry(10, 2, 1, 1)
    field = g.environment_field(np.arange(g.n_environment, dtype=float))
    assert np.isnan(field[:2, :2]).all()  # block
    assert np.isnan(field[2, 0]) and np.isnan(field[-1, -1])  # buffer
    assert field[3, 0] == pytest.approx(float(np.nonzero(
        (g.environment_offsets == [3, 0]).all(axis=1))[0][0]))
    assert np.isfinite(field).sum() == g.n_environment


def test_block_distances():
    d = block_distances(8, 2)
    assert d[0, 0] == d[1, 1] == 0
    assert d[2, 0] == 1 and d[7, 0] == 1 and d[4, 4] == 3 and d[5, 0] == 3


@pytest.mark.parametrize("args,message", [
    ((8, 5, 0, 1), "block size 5 is larger than half the lattice"),
    ((10, 6, 0, 1), "larger than half"),
    ((10, 4, 0, 1), "not divisible by block size 4"),
    ((8, 2, 3, 1), "buffer 3 around a 2 x 2 block leaves no environment"),
    ((4, 2, 1, 1), "leaves no environment"),
    ((8, 2, -1, 1), "buffer must be an integer >= 0"),
    ((8, 2, 1, 0), "environment must be an integer >= 1"),
    ((8, 0, 1, 1), "block size must be an integer >= 1"),
    ((8, 2.0, 1, 1), "block size must be an integer"),
])
def test_bad_geometry_gets_a_one_line_error(args, message):
    with pytest.raises(IsingRGError, match=message) as info:
        rsmi_geometry(*args)
    assert "\n" not in str(info.value)

"""The data's second-moment correlation length: structure factors against pair sums, and the
estimator on independent spins and on heat-bath chains towards criticality."""

import numpy as np
import pytest

from ising_rg.sampling.observables import correlation_length, structure_factor_series
from tests.conftest import random_spins


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

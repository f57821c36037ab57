"""Correlation length of unit activations: synthetic fields with known exp(-r/xi) correlations."""

import math

import numpy as np
import pytest

from ising_rg.errors import IsingRGError
from ising_rg.rg.hidden_correlations import activation_correlation_length, field_polarity
from ising_rg.rg.shape import minimum_image

SIZE = 40


def grid_positions(spacing=4):
    coords = np.arange(0, SIZE, spacing) + 1.5
    rows, cols = np.meshgrid(coords, coords, indexing="ij")
    return np.stack([rows.ravel(), cols.ravel()], axis=1)  # (100, 2)


def exponential_field(positions, xi, n_samples, seed):
    """Gaussian samples with covariance exp(-r/xi) in the torus minimum-image distance."""
    d = minimum_image(positions[:, None, :] - positions[None, :, :], SIZE)
    cov = np.exp(-np.sqrt(np.sum(d**2, axis=-1)) / xi)
    values, vectors = np.linalg.eigh(cov)
    factor = vectors * np.sqrt(np.clip(values, 0.0, None))
    noise = np.random.default_rng(seed).standard_normal((n_samples, len(positions)))
    return noise @ factor.T


@pytest.mark.parametrize("xi", [3.0, 5.0])
def test_recovers_exponential_correlation_length(xi):
    positions = grid_positions()
    field = exponential_field(positions, xi, 4000, seed=int(xi))
    activations = 0.5 + 0.1 * field  # an affine map keeps the correlations
    out = activation_correlation_length(activations, positions, SIZE)
    assert out["statistic"] == "rms"
    assert out["xi"] == pytest.approx(xi, rel=0.15)
    assert 0 < out["xi_error"] < 0.15 * xi
    assert out["fit"]["n_bins_used"] >= 3 and out["n_units_used"] == 100
    assert out["count"].sum() == out["n_pairs"] == 100 * 99 // 2
    nonempty = out["count"] > 0
    np.testing.assert_array_less(
        np.abs(out["correlation"][nonempty] - out["signed_correlation"][nonempty]), 0.05
    )


def test_unit_signs_dead_units_and_live_mask():
    positions = grid_positions()
    xi = 4.0
    field = exponential_field(positions, xi, 4000, seed=1)
    rng = np.random.default_rng(2)
    signs = np.where(rng.random(100) < 0.5, -1.0, 1.0)  # half the units are down-detectors
    activations = 0.5 + 0.1 * field * signs
    # plus 5 dead units (constant activation) at arbitrary positions
    activations = np.hstack([activations, np.full((4000, 5), 0.999)])
    centroids = np.vstack([positions, rng.random((5, 2)) * SIZE])
    rms = activation_correlation_length(activations, centroids, SIZE)
    assert rms["n_units_used"] == 100
    assert rms["xi"] == pytest.approx(xi, rel=0.15)
    # the raw signed mean cancels; the right polarity restores the aligned correlations
    assert np.nanmax(np.abs(rms["signed_correlation"][rms["fit_bins"]])) < 0.15
    polarity = np.concatenate([signs, np.ones(5)])
    aligned = activation_correlation_length(activations, centroids, SIZE, polarity=polarity)
    assert aligned["statistic"] == "aligned"
    assert aligned["xi"] == pytest.approx(xi, rel=0.15)
    live = np.ones(105, bool)
    live[:50] = False
    half = activation_correlation_length(activations, centroids, SIZE, live=live)
    assert half["n_units_used"] == 50


def test_independent_units_have_no_correlation_length():
    positions = grid_positions()
    activations = np.random.default_rng(3).random((4000, 100))
    out = activation_correlation_length(activations, positions, SIZE)
    assert math.isnan(out["xi"]) or out["xi"] < 1.0
    assert np.nanmax(out["correlation"]) < 0.05


def test_field_polarity_and_errors():
    fields = np.zeros((3, 4, 4))
    fields[0, 0, 0] = 1.0
    fields[1, 1, 1] = -2.0
    np.testing.assert_array_equal(field_polarity(fields), [1.0, -1.0, 1.0])
    with pytest.raises(IsingRGError):
        activation_correlation_length(np.zeros((10, 3)), np.zeros((2, 2)), SIZE)
    with pytest.raises(IsingRGError):
        activation_correlation_length(np.zeros((10, 3)), np.zeros((3, 2)), SIZE, polarity=[1, 0, 1])

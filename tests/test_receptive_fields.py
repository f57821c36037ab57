"""Receptive fields: the paper's weight products and activation-weighted averages."""

import numpy as np
import pytest

from ising_rg.errors import IsingRGError
from ising_rg.rg.receptive_fields import (
    activation_weighted_fields,
    activation_weighted_receptive_fields,
    lattice_size,
    layer_activations,
    receptive_fields,
    spins_to_visible,
    weight_product_fields,
)


class FakeRBM:
    def __init__(self, weights, hidden_bias=None):
        self.weights_ = np.asarray(weights, dtype=np.float32)
        self.visible_bias_ = np.zeros(self.weights_.shape[0], dtype=np.float32)
        self.hidden_bias_ = (
            np.zeros(self.weights_.shape[1], dtype=np.float32)
            if hidden_bias is None
            else np.asarray(hidden_bias, dtype=np.float32)
        )

    def transform(self, x):
        return 1 / (1 + np.exp(-(np.asarray(x) @ self.weights_ + self.hidden_bias_)))


class FakeDBN:
    def __init__(self, rbms):
        self.rbms_ = rbms


def test_weight_product_is_the_matrix_product_laid_out_row_major():
    rng = np.random.default_rng(0)
    w1, w2 = rng.normal(size=(16, 6)), rng.normal(size=(6, 3))
    fields = weight_product_fields([w1, w2], 4)
    assert [f.shape for f in fields] == [(6, 4, 4), (3, 4, 4)]
    np.testing.assert_allclose(fields[1].reshape(3, 16).T, w1 @ w2)
    # Site index i = row * L + col.
    w = np.zeros((16, 1))
    w[1 * 4 + 2, 0] = 1.0
    field = weight_product_fields([w], 4)[0][0]
    assert field[1, 2] == 1.0 and field.sum() == 1.0


def test_receptive_fields_of_dbn_and_bad_shapes():
    rng = np.random.default_rng(1)
    dbn = FakeDBN([FakeRBM(rng.normal(size=(16, 4))), FakeRBM(rng.normal(size=(4, 2)))])
    fields = receptive_fields(dbn)
    np.testing.assert_allclose(
        fields[1].reshape(2, 16).T,
        dbn.rbms_[0].weights_.astype(float) @ dbn.rbms_[1].weights_.astype(float),
        rtol=1e-6,
    )
    with pytest.raises(IsingRGError):
        lattice_size(15)
    with pytest.raises(IsingRGError):
        weight_product_fields([np.ones((16, 4)), np.ones((3, 2))], 4)


def test_activation_weighted_fields_match_explicit_average():
    rng = np.random.default_rng(2)
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(50, 3, 3))
    x = spins_to_visible(spins)
    assert x.shape == (50, 9) and set(np.unique(x)) == {0.0, 1.0}
    h = rng.random((50, 4))
    h[:, 3] = 0.0  # a unit that never fires
    fields = activation_weighted_fields(x, h, 3)
    for a in range(3):
        expected = (h[:, a] @ x) / h[:, a].sum() - x.mean(axis=0)
        np.testing.assert_allclose(fields[a].ravel(), expected, atol=1e-6)
    np.testing.assert_array_equal(fields[3], 0.0)


def test_activation_weighted_field_of_a_pixel_detector():
    # A unit that fires exactly when pixel (0, 1) is up sees that pixel always up.
    rng = np.random.default_rng(3)
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(400, 4, 4))
    w = np.zeros((16, 1))
    w[1, 0] = 40.0
    dbn = FakeDBN([FakeRBM(w, hidden_bias=[-20.0])])
    (field,) = activation_weighted_receptive_fields(dbn, spins)
    x = spins_to_visible(spins)
    assert field[0, 0, 1] == pytest.approx(1.0 - x[:, 1].mean(), abs=1e-6)
    assert np.abs(np.delete(field[0].ravel(), 1)).max() < 0.15
    assert len(layer_activations(dbn, x)) == 1

"""Receptive fields: the paper's weight products (over live units), activation-weighted
averages, and the mean Jacobian against finite differences of the exact activation map."""

import numpy as np
import pytest

from ising_rg.errors import IsingRGError
from ising_rg.rg.receptive_fields import (
    activation_weighted_fields,
    activation_weighted_receptive_fields,
    layer_activations,
    mean_jacobian_fields,
    receptive_fields,
    weight_product_fields,
)
from ising_rg.spins import lattice_size, spins_to_visible


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


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _tiny_network(seed=4):
    """A 3 x 3 lattice under layers of 5, 4 and 3 units, float64 throughout."""
    rng = np.random.default_rng(seed)
    sizes = (9, 5, 4, 3)
    weights = [rng.normal(size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    biases = [rng.normal(size=b) for b in sizes[1:]]
    return weights, biases


def _activations(weights, biases, v, live=None, frozen=None):
    """The up pass h(l) = sigmoid(h(l-1) W(l) + c(l)). With ``live`` and ``frozen`` (the
    activations at the unperturbed inputs), a dead unit passes on its frozen value whatever
    the input: it passes no change on."""
    out, x = [], v
    for index, (w, c) in enumerate(zip(weights, biases, strict=True)):
        x = _sigmoid(x @ w + c)
        out.append(x)
        if live is not None and index < len(live):
            x = np.where(live[index], x, frozen[index])
    return out


@pytest.mark.parametrize("with_dead_unit", [False, True])
def test_mean_jacobian_matches_finite_differences_of_the_activation_map(with_dead_unit):
    weights, biases = _tiny_network()
    v = np.random.default_rng(5).random((40, 9))  # any points in [0, 1]^9
    live = None
    if with_dead_unit:  # layer-1 unit 2 declared dead: its output is frozen for the layers above
        live = [np.arange(5) != 2, np.ones(4, bool), np.ones(3, bool)]
    base = _activations(weights, biases, v)
    jacobians = mean_jacobian_fields(weights, base, 3, live, chunk=7)
    step = 1e-6
    for layer in range(3):
        numeric = np.zeros((weights[layer].shape[1], 9))
        for site in range(9):
            up, down = v.copy(), v.copy()
            up[:, site] += step
            down[:, site] -= step
            difference = (_activations(weights, biases, up, live, base)[layer]
                          - _activations(weights, biases, down, live, base)[layer])
            numeric[:, site] = (difference / (2 * step)).mean(axis=0)
        np.testing.assert_allclose(jacobians[layer].reshape(-1, 9), numeric, atol=1e-8)


def test_mean_jacobian_of_layer_one_is_the_mean_slope_times_the_weights():
    weights, biases = _tiny_network()
    h = _activations(weights, biases, np.random.default_rng(6).random((30, 9)))
    (first,) = mean_jacobian_fields(weights[:1], h[:1], 3)
    expected = (h[0] * (1 - h[0])).mean(axis=0)[:, None] * weights[0].T
    np.testing.assert_allclose(first.reshape(5, 9), expected, rtol=1e-12)
    with pytest.raises(IsingRGError):
        mean_jacobian_fields(weights, h[:2], 3)


def test_weight_products_drop_dead_units_of_the_layers_below():
    weights, _ = _tiny_network()
    live = [np.array([True, False, True, True, False]), np.array([True, True, False, True])]
    fields = weight_product_fields(weights, 3, live)
    keep1, keep2 = live
    expected = weights[0][:, keep1] @ weights[1][keep1] @ (weights[2] * keep2[:, None])
    np.testing.assert_allclose(fields[2].reshape(3, 9).T, expected, rtol=1e-12)
    np.testing.assert_allclose(fields[0].reshape(5, 9).T, weights[0])  # own dead units kept
    assert not np.allclose(fields[2], weight_product_fields(weights, 3)[2])
    with pytest.raises(IsingRGError):
        weight_product_fields(weights, 3, [np.ones(4, bool), np.ones(4, bool)])

"""analyze() on a tiny hand-built DBN (L = 8, layers 64-16-4): schema, sanity and determinism."""

import json

import numpy as np
import pytest

from ising_rg.errors import IsingRGError
from ising_rg.rg.analysis import analysis_subset, analyze, receptive_field_arrays

L = 8


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class FakeRBM:
    def __init__(self, weights, hidden_bias):
        self.weights_ = np.asarray(weights, dtype=np.float32)
        self.visible_bias_ = np.zeros(self.weights_.shape[0], dtype=np.float32)
        self.hidden_bias_ = np.asarray(hidden_bias, dtype=np.float32)

    def transform(self, x):
        return sigmoid(np.asarray(x, dtype=np.float32) @ self.weights_ + self.hidden_bias_)

    def down(self, h):
        return sigmoid(np.asarray(h, dtype=np.float32) @ self.weights_.T + self.visible_bias_)

    propagate_down = down

    @property
    def n_visible(self):
        return self.weights_.shape[0]

    def gibbs(self, v, k, rng):
        for _ in range(k):
            h = (rng.random((len(v), self.weights_.shape[1])) < self.transform(v))
            v = (rng.random(v.shape) < self.down(h)).astype(np.float32)
        return v


class FakeDBN:
    """Kadanoff by construction: layer 1 unit (I, J) sums the 2x2 block (I, J) of sites,
    layer 2 unit sums a 2x2 group of layer-1 units (a 4x4 block). Unit 0 of layer 1 is dead."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        w1 = 0.01 * rng.normal(size=(L * L, 16))
        for row in range(L):
            for col in range(L):
                w1[row * L + col, (row // 2) * 4 + col // 2] += 1.5
        b1 = np.full(16, -3.0)
        b1[0] = -50.0
        w2 = 0.01 * rng.normal(size=(16, 4))
        for unit in range(16):
            w2[unit, ((unit // 4) // 2) * 2 + (unit % 4) // 2] += 1.5
        self.rbms_ = [FakeRBM(w1, b1), FakeRBM(w2, np.full(4, -3.0))]

    def transform(self, x, depth):
        for rbm in self.rbms_[:depth]:
            x = rbm.transform(x)
        return x

    def reconstruct(self, x, depth):
        h = self.transform(x, depth)
        for rbm in reversed(self.rbms_[:depth]):
            h = rbm.down(h)
        return h

    def sample_up(self, x, depth, rng):
        state = np.asarray(x, dtype=np.float32)
        for rbm in self.rbms_[:depth]:
            state = (rng.random((len(state), rbm.weights_.shape[1])) < rbm.transform(state))
        return state.astype(np.float32)

    def sample_down(self, states, rng):
        out = states
        for rbm in reversed(self.rbms_[:-1]):
            out = rbm.down((rng.random(out.shape) < out).astype(np.float32))
        return out

    def sample(self, n_samples, n_gibbs=10, seed=0, X_init=None):
        rng = np.random.default_rng(seed)
        v = (rng.random((n_samples, L * L)) < 0.5).astype(np.float32)
        for _ in range(n_gibbs):
            h = (rng.random((n_samples, 16)) < self.rbms_[0].transform(v)).astype(np.float32)
            v = self.rbms_[0].down(h)
        return v


@pytest.fixture(scope="module")
def spins():
    # Smooth random configurations: independent 2x2 blocks of aligned spins plus 10% noise.
    rng = np.random.default_rng(1)
    blocks = rng.choice(np.array([-1, 1], dtype=np.int8), size=(600, L // 2, L // 2))
    s = np.repeat(np.repeat(blocks, 2, axis=1), 2, axis=2)
    flip = rng.random(s.shape) < 0.1
    return np.where(flip, -s, s).astype(np.int8)


def _analyze(spins):
    return analyze(FakeDBN(), spins, 0.4, seed=3, n_generative=200, n_analysis=400, n_gibbs=40,
                   exact={"energy_per_spin": -1.2, "specific_heat": 1.1})


@pytest.fixture(scope="module")
def result(spins):
    return _analyze(spins)


def test_schema_is_complete_and_json_clean(result):
    json.dumps(result, allow_nan=False)
    assert set(result) == {"layers", "generative", "data", "settings"}
    assert [layer["index"] for layer in result["layers"]] == [1, 2]
    layer_keys = {
        "participation_ratio",
        "radius_of_gyration",
        "locality",
        "block_spin_correlation",
        "block_average_correlation",
        "coverage",
    }
    for layer, n_units, block_size in zip(result["layers"], (16, 4), (2, 4), strict=True):
        assert layer["n_units"] == n_units and layer["block_size"] == block_size
        assert layer_keys | {"dead_fraction", "activation_weighted", "kadanoff_reference"} <= set(
            layer
        )
        assert layer_keys <= set(layer["activation_weighted"])
        for fields in (layer, layer["activation_weighted"]):
            for key in ("participation_ratio", "radius_of_gyration"):
                assert set(fields[key]) == {"mean", "std"}
            assert {"mean", "chance"} <= set(fields["locality"])
            assert {"mean", "chance"} <= set(fields["block_spin_correlation"])
            coverage = fields["coverage"]
            assert {"occupied_block_fraction", "nearest_neighbour_distance"} <= set(coverage)
    generative = result["generative"]
    for name in ("energy_per_spin", "abs_magnetization", "specific_heat", "susceptibility"):
        assert set(generative[name]) == {"dbn", "monte_carlo", "exact"}
        assert set(generative[name]["dbn"]) == {"mean", "error"}
    assert generative["energy_per_spin"]["exact"] == -1.2
    assert generative["specific_heat"]["exact"] == 1.1
    assert generative["susceptibility"]["exact"] is None
    assert set(generative["reconstructions"]) == {"1", "2"}
    for recon in generative["reconstructions"].values():
        assert {"energy_per_spin", "abs_magnetization", "spin_agreement"} <= set(recon)
    data = result["data"]
    assert data["size"] == L and data["coupling"] == 0.4 and data["n_samples"] == 600
    assert data["n_analysed"] == 400


def leaves(tree, path=""):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from leaves(value, f"{path}/{key}")
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            yield from leaves(value, f"{path}/{index}")
    else:
        yield path, tree


def test_numbers_are_finite_and_none_only_for_missing_exact_values(result):
    values = dict(leaves(result))
    numbers = [v for v in values.values() if isinstance(v, int | float) and not isinstance(v, bool)]
    assert len(numbers) > 100
    assert all(np.isfinite(numbers))
    missing = {path for path, value in values.items() if value is None}
    assert missing == {
        f"/generative/{name}/exact"
        for name in ("abs_magnetization", "susceptibility", "binder_cumulant")
    }


def test_kadanoff_dbn_scores_as_kadanoff(result):
    first, second = result["layers"]
    assert first["dead_fraction"] == pytest.approx(1 / 16)
    assert second["dead_fraction"] == 0.0
    assert first["participation_ratio"]["mean"] == pytest.approx(4.0, rel=0.05)
    assert second["participation_ratio"]["mean"] == pytest.approx(16.0, rel=0.05)
    for layer in (first, second):
        assert layer["locality"]["mean"] > 0.95
        assert layer["locality"]["mean"] > layer["locality"]["chance"] + 0.3
        bsc = layer["block_spin_correlation"]
        assert bsc["mean"] > 0.5 and bsc["mean"] > bsc["chance"] + 0.3
        assert layer["block_average_correlation"]["mean"] > 0.8
        # The hand-built DBN is near its ideal-Kadanoff targets on the same data.
        reference = layer["kadanoff_reference"]
        assert reference["participation_ratio"] == layer["block_size"] ** 2
        assert bsc["mean"] == pytest.approx(reference["block_spin_correlation"], abs=0.1)
        weighted, ideal = layer["activation_weighted"], reference["activation_weighted"]
        assert weighted["participation_ratio"]["mean"] == pytest.approx(
            ideal["participation_ratio"], rel=0.2
        )
        assert weighted["locality"]["mean"] == pytest.approx(ideal["locality"], rel=0.2)
    # 15 live layer-1 units in 16 blocks; 4 layer-2 units in 4 blocks.
    assert first["coverage"]["occupied_block_fraction"] == pytest.approx(15 / 16)
    assert second["coverage"]["occupied_block_fraction"] == 1.0
    assert second["coverage"]["nearest_neighbour_distance"]["mean"] == pytest.approx(4, abs=0.2)


def test_analysis_is_deterministic(spins, result):
    assert json.dumps(_analyze(spins)) == json.dumps(result)


def test_receptive_field_arrays(spins):
    arrays = receptive_field_arrays(FakeDBN(), spins, n_analysis=100)
    assert [f.shape for f in arrays["weight_product"]] == [(16, L, L), (4, L, L)]
    assert [f.shape for f in arrays["activation_weighted"]] == [(16, L, L), (4, L, L)]
    assert arrays["live"][0].sum() == 15 and not arrays["live"][0][0]
    assert arrays["block_size"] == [2, 4] and arrays["n_analysed"] == 100
    assert arrays["centroids"][0].shape == (16, 2)


def test_bad_data_is_a_one_line_error(spins):
    with pytest.raises(IsingRGError):
        analyze(FakeDBN(), spins[:, :4, :4], 0.4)
    with pytest.raises(IsingRGError):
        analyze(FakeDBN(), spins[:1], 0.4)


def test_analysis_subset_is_evenly_spaced():
    np.testing.assert_array_equal(analysis_subset(10, 4), [0, 3, 6, 9])
    np.testing.assert_array_equal(analysis_subset(3, 10), [0, 1, 2])

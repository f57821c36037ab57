"""analyze() on a tiny hand-built DBN (L = 8, layers 64-16-4): schema, sanity and determinism;
dead units out of the weight products."""

import json

import numpy as np
import pytest

from ising_rg import exact
from ising_rg.errors import IsingRGError
from ising_rg.pipeline import generative_block
from ising_rg.rg.analysis import FIELD_KINDS, analyze, receptive_field_arrays
from ising_rg.settings import AnalysisOptions
from ising_rg.spins import analysis_subset

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

    def sample_up(self, x, depth, seed=0):
        rng = np.random.default_rng(seed)
        state = np.asarray(x, dtype=np.float32)
        for rbm in self.rbms_[:depth]:
            state = (rng.random((len(state), rbm.weights_.shape[1])) < rbm.transform(state))
        return state.astype(np.float32)

    def sample_down(self, states, seed=0):
        rng = np.random.default_rng(seed)
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


class UntrainedDBN(FakeDBN):
    """The same architecture with the paper's initial weights 0.1 N(0, 1) and zero biases."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.rbms_ = [FakeRBM(0.1 * rng.normal(size=(L * L, 16)), np.zeros(16)),
                      FakeRBM(0.1 * rng.normal(size=(16, 4)), np.zeros(4))]


@pytest.fixture(scope="module")
def spins():
    # Smooth random configurations: independent 2x2 blocks of aligned spins plus 10% noise.
    rng = np.random.default_rng(1)
    blocks = rng.choice(np.array([-1, 1], dtype=np.int8), size=(600, L // 2, L // 2))
    s = np.repeat(np.repeat(blocks, 2, axis=1), 2, axis=2)
    flip = rng.random(s.shape) < 0.1
    return np.where(flip, -s, s).astype(np.int8)


OPTIONS = AnalysisOptions(seed=3, generative_samples=200, analysis_samples=400, gibbs_steps=3000)


def _analyze(spins):
    """The RG metrics (``analyze``) with the generative block beside them, as
    ``pipeline.measure_network`` puts them together."""
    result = analyze(FakeDBN(), spins, 0.4, OPTIONS, untrained=UntrainedDBN())
    result["generative"] = generative_block(FakeDBN(), spins, 0.4, OPTIONS)
    return result


@pytest.fixture(scope="module")
def result(spins):
    return _analyze(spins)


FIELD_KEYS = {
    "participation_ratio",
    "radius_of_gyration",
    "half_weight_radius",
    "sites_above_noise",
    "locality",
    "block_spin_correlation",
    "block_average_correlation",
    "coverage",
    "correlation_length",
}
XI_KEYS = {"mean", "error", "exact", "method", "finite_size_limited", "plateau_reached",
           "plateau", "note", "effective_mass", "without_kernels"}


def _check_unit_set(metrics):
    """Every kind of field with every metric: the weight product at the top level."""
    for kind in FIELD_KINDS:
        fields = metrics if kind == "weight_product" else metrics[kind]
        assert FIELD_KEYS <= set(fields), kind
        for key in ("participation_ratio", "radius_of_gyration", "half_weight_radius"):
            assert set(fields[key]) == {"mean", "std"}
        assert set(fields["sites_above_noise"]) == {"mean", "std", "noise_level"}
        assert {"mean", "chance"} <= set(fields["locality"])
        assert {"mean", "chance"} <= set(fields["block_spin_correlation"])
        assert {"occupied_block_fraction", "nearest_neighbour_distance"} <= set(fields["coverage"])
        # hidden units also say how many were used and left out as non-local
        assert set(fields["correlation_length"]) == XI_KEYS | {"units"}


def test_schema_is_complete_and_json_clean(result):
    json.dumps(result, allow_nan=False)
    assert set(result) == {"layers", "generative", "data", "settings"}
    assert [layer["index"] for layer in result["layers"]] == [1, 2]
    for layer, n_units, block_size in zip(result["layers"], (16, 4), (2, 4), strict=True):
        assert layer["n_units"] == n_units and layer["block_size"] == block_size
        assert {"dead_fraction", "activation_weighted", "jacobian", "kadanoff_reference"} <= set(
            layer
        )
        _check_unit_set(layer)
        # The ideal Kadanoff units carry the same keys as the measured units beside them.
        assert set(layer["kadanoff_reference"]) == {"majority", "average"}
        for reference in layer["kadanoff_reference"].values():
            _check_unit_set(reference)
    generative = result["generative"]
    for name in ("energy_per_spin", "abs_magnetization", "specific_heat", "susceptibility"):
        assert set(generative[name]) == {"dbn", "monte_carlo", "exact"}
        assert set(generative[name]["dbn"]) == {"mean", "error"}
    assert generative["energy_per_spin"]["exact"] == exact.energy_per_spin(0.4, L)
    assert generative["specific_heat"]["exact"] == exact.specific_heat_per_spin(0.4, L)
    assert generative["susceptibility"]["exact"] is None
    assert set(generative["reconstructions"]) == {"1", "2"}
    for recon in generative["reconstructions"].values():
        assert {"energy_per_spin", "abs_magnetization", "spin_agreement"} <= set(recon)
    data = result["data"]
    assert data["size"] == L and data["coupling"] == 0.4 and data["n_samples"] == 600
    assert data["n_analysed"] == 400
    assert set(data["correlation_length"]) == XI_KEYS
    assert data["correlation_length"]["exact"] == pytest.approx(7.0 / 7.0 * 5.96238, rel=1e-5)
    xi = data["correlation_length"]
    # 8 x 8 at K = 0.4 (xi ~ 6): a number only over a plateau, else a note saying why
    assert (xi["mean"] is not None and xi["mean"] > 0 and xi["error"] > 0) or xi["note"]


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
    # On an 8 x 8 lattice a layer's correlation length may be unmeasurable (the coarse lattice
    # of layer 2 is 2 x 2): such entries are null, with a note saying why.
    xi_missing = {path for path in missing if "/correlation_length/" in path}
    for path in xi_missing:
        if path.endswith("/correlation_length/mean"):
            assert values[path.replace("/mean", "/note")], path
    assert missing - xi_missing == {
        f"/generative/{name}/exact"
        for name in ("abs_magnetization", "susceptibility", "binder_cumulant")
    }


def test_kadanoff_dbn_scores_as_kadanoff(result):
    first, second = result["layers"]
    assert first["dead_fraction"] == pytest.approx(1 / 16)
    assert second["dead_fraction"] == 0.0
    assert first["participation_ratio"]["mean"] == pytest.approx(4.0, rel=0.05)
    # Layer-1 unit 0 is dead, so the layer-2 unit above it covers 3 of its 4 sub-blocks.
    assert second["participation_ratio"]["mean"] == pytest.approx((12 + 3 * 16) / 4, rel=0.05)
    for layer in (first, second):
        assert layer["locality"]["mean"] > 0.95
        assert layer["locality"]["mean"] > layer["locality"]["chance"] + 0.3
        bsc = layer["block_spin_correlation"]
        assert bsc["mean"] > 0.5 and bsc["mean"] > bsc["chance"] + 0.3
        assert layer["block_average_correlation"]["mean"] > 0.8
        # The hand-built DBN is near its ideal-Kadanoff targets on the same data.
        reference = layer["kadanoff_reference"]["average"]
        b = layer["block_size"]
        assert reference["participation_ratio"]["mean"] == pytest.approx(b**2)
        assert reference["jacobian"]["participation_ratio"]["mean"] == pytest.approx(b**2)
        assert reference["locality"]["mean"] == pytest.approx(1.0)
        assert bsc["mean"] == pytest.approx(reference["block_spin_correlation"]["mean"], abs=0.1)
        # The majority unit is the block spin it is compared with (same tie coins).
        assert layer["kadanoff_reference"]["majority"]["block_spin_correlation"][
            "mean"] == pytest.approx(1.0)
        for kind in ("activation_weighted", "jacobian"):
            measured, ideal = layer[kind], reference[kind]
            assert measured["participation_ratio"]["mean"] == pytest.approx(
                ideal["participation_ratio"]["mean"], rel=0.2)
            assert measured["locality"]["mean"] == pytest.approx(ideal["locality"]["mean"],
                                                                 rel=0.2)
        # The Kadanoff fields stand far above the untrained network's noise; so do the
        # hand-built ones: b^2 sites each (12 for the layer-2 unit above the dead unit).
        expected = b**2 if layer is first else (12 + 3 * 16) / 4
        assert layer["sites_above_noise"]["mean"] == pytest.approx(expected)
        assert reference["sites_above_noise"]["mean"] == pytest.approx(b**2)
    # 15 live layer-1 units in 16 blocks; 4 layer-2 units in 4 blocks.
    assert first["coverage"]["occupied_block_fraction"] == pytest.approx(15 / 16)
    assert second["coverage"]["occupied_block_fraction"] == 1.0
    # About 4 (the block spacing), less where the unit above the dead unit lost a sub-block and
    # its centroid moved by 1/3 of a site towards the others.
    assert second["coverage"]["nearest_neighbour_distance"]["mean"] == pytest.approx(3.8, abs=0.2)


def test_analysis_is_deterministic(spins, result):
    assert json.dumps(_analyze(spins)) == json.dumps(result)


def test_receptive_field_arrays(spins):
    arrays = receptive_field_arrays(FakeDBN(), spins, n_analysis=100)
    for kind in FIELD_KINDS:
        assert [f.shape for f in arrays[kind]] == [(16, L, L), (4, L, L)]
    assert arrays["live"][0].sum() == 15 and not arrays["live"][0][0]
    assert arrays["block_size"] == [2, 4] and arrays["n_analysed"] == 100


def test_dead_units_are_left_out_of_the_products(spins):
    # Layer-1 unit 0 is dead (bias -50) yet strongly wired: give it a large weight to the top
    # layer and a field over the whole lattice. The layer-2 fields must not see it.
    dbn = FakeDBN()
    dbn.rbms_[0].weights_[:, 0] = 0.5  # at most 32 against a bias of -50: still dead
    dbn.rbms_[1].weights_[0, :] = 5.0
    arrays = receptive_field_arrays(dbn, spins, n_analysis=200)
    assert not arrays["live"][0][0]
    w1 = dbn.rbms_[0].weights_.astype(np.float64)
    w2 = dbn.rbms_[1].weights_.astype(np.float64)
    live_only = (w1[:, 1:] @ w2[1:]).T.reshape(4, L, L)
    np.testing.assert_allclose(arrays["weight_product"][1], live_only, rtol=1e-12)
    assert np.abs(arrays["weight_product"][1] - (w1 @ w2).T.reshape(4, L, L)).min() > 2
    # A layer's own dead unit keeps its field (it is excluded from the statistics instead).
    np.testing.assert_allclose(arrays["weight_product"][0][0], w1[:, 0].reshape(L, L))
    # The Jacobian chain drops it too: zeroing its weights changes nothing above it.
    dbn.rbms_[0].weights_[:, 0] = 0.0
    dbn.rbms_[1].weights_[0, :] = 0.0
    again = receptive_field_arrays(dbn, spins, n_analysis=200)
    np.testing.assert_allclose(again["jacobian"][1], arrays["jacobian"][1], atol=1e-12)


def test_bad_data_is_a_one_line_error(spins):
    with pytest.raises(IsingRGError):
        analyze(FakeDBN(), spins[:, :4, :4], 0.4)
    with pytest.raises(IsingRGError):
        analyze(FakeDBN(), spins[:1], 0.4)


def test_analysis_subset_is_evenly_spaced():
    np.testing.assert_array_equal(analysis_subset(10, 4), [0, 3, 6, 9])
    np.testing.assert_array_equal(analysis_subset(3, 10), [0, 1, 2])

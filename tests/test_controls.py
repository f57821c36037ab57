"""Controls: site permutation (and its inverse on data, weights, fields, DBNs), untrained DBN."""

import numpy as np
import pytest

from ising_rg.errors import IsingRGError, NotFittedError
from ising_rg.rbm.dbn import DBN
from ising_rg.rbm.rbm import HISTORY_KEYS, BernoulliRBM
from ising_rg.rg.controls import (
    inverse_permutation,
    permute_visible,
    permuted_dbn_in_original_coordinates,
    site_permutation,
    unpermute_fields,
    untrained_dbn,
)
from ising_rg.rg.receptive_fields import receptive_fields
from ising_rg.rg.shape import locality
from ising_rg.settings import AnalysisOptions, Recipe

L = 8


def test_permutation_roundtrip_on_data_and_weights():
    perm = site_permutation(L * L, seed=3)
    assert np.array_equal(np.sort(perm), np.arange(L * L))
    assert np.array_equal(perm, site_permutation(L * L, seed=3))
    assert not np.array_equal(perm, site_permutation(L * L, seed=4))
    inverse = inverse_permutation(perm)
    assert np.array_equal(perm[inverse], np.arange(L * L))
    rng = np.random.default_rng(0)
    X = rng.random((5, L * L))
    permuted = permute_visible(X, perm)
    assert np.array_equal(permuted[:, 7], X[:, perm[7]])  # column k holds original site perm[k]
    assert np.array_equal(permute_visible(permuted, inverse), X)
    W = rng.random((L * L, 3))
    W_perm = W[perm]  # the rows of a model trained on permuted data, ideally
    np.testing.assert_array_equal(unpermute_fields(W_perm.T, perm, L), W.T.reshape(3, L, L))
    images = W_perm.T.reshape(3, L, L)
    np.testing.assert_array_equal(unpermute_fields(images, perm, L), W.T.reshape(3, L, L))
    with pytest.raises(IsingRGError):
        inverse_permutation(np.array([0, 0, 1]))
    with pytest.raises(IsingRGError):
        permute_visible(X, perm[:-1])


def test_planted_local_field_looks_nonlocal_when_permuted():
    size = 16
    field = np.zeros((size, size))
    field[5:7, 9:11] = 1.0  # a 2x2 block
    perm = site_permutation(size * size, seed=1)
    in_permuted_coordinates = permute_visible(field.reshape(1, -1), perm).reshape(1, size, size)
    assert locality(field[None], 2)[0] == 1.0
    assert locality(in_permuted_coordinates, 2)[0] < 0.6
    restored = unpermute_fields(in_permuted_coordinates, perm, size)
    np.testing.assert_array_equal(restored[0], field)
    assert locality(restored, 2)[0] == 1.0


def small_dbn(seed=0, weights=None):
    """The untrained (16, 4) network with random biases (and optionally given layer-1 weights)."""
    start = untrained_dbn(L * L, hidden=(16, 4), seed=seed)
    rng = np.random.default_rng(seed)
    layers = []
    for index, rbm in enumerate(start.rbms_):
        W = weights if index == 0 and weights is not None else rbm.weights_
        b = rng.normal(0, 0.3, rbm.visible_bias_.shape)
        c = rng.normal(0, 0.3, rbm.hidden_bias_.shape)
        layers.append(BernoulliRBM.from_parameters(W, b, c, **rbm.get_params()))
    return DBN.from_rbms(layers, layer_seeds=start.layer_seeds_, **start.get_params())


def test_permuted_dbn_in_original_coordinates():
    rng = np.random.default_rng(2)
    perm = site_permutation(L * L, seed=5)
    X = (rng.random((30, L * L)) < 0.5).astype(np.float32)
    # dyadic weights: every partial sum of X W is exact, so any summation order gives the same bits
    dyadic = (rng.integers(-64, 65, (L * L, 16)) / 256.0).astype(np.float32)
    for weights, exact_bits in ((dyadic, True), (None, False)):
        dbn = small_dbn(weights=weights)
        original_w = dbn.rbms_[0].weights_.copy()
        mapped = permuted_dbn_in_original_coordinates(dbn, perm)
        assert np.array_equal(dbn.rbms_[0].weights_, original_w)  # input untouched
        for depth in (1, 2):
            got = mapped.transform(X, depth)
            want = dbn.transform(permute_visible(X, perm), depth)
            if exact_bits:
                np.testing.assert_array_equal(got, want)
            else:
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        # its receptive fields are the permuted model's fields mapped back to the lattice
        np.testing.assert_allclose(
            receptive_fields(mapped)[0],
            unpermute_fields(receptive_fields(dbn)[0], perm, L),
            rtol=1e-6,
        )
        # reconstructions come out in original coordinates
        np.testing.assert_allclose(
            mapped.reconstruct(X, 1),
            permute_visible(
                dbn.reconstruct(permute_visible(X, perm), 1), inverse_permutation(perm)
            ),
            rtol=1e-5,
            atol=1e-6,
        )


def test_untrained_dbn_works_and_is_seeded():
    dbn = untrained_dbn(L * L, hidden=(16, 4, 2), seed=7)
    assert isinstance(dbn, DBN) and dbn.n_layers_ == 3
    w = dbn.rbms_[0].weights_
    assert w.dtype == np.float32 and w.shape == (L * L, 16)
    assert 0.08 < w.std() < 0.12 and np.all(dbn.rbms_[0].hidden_bias_ == 0)
    assert dbn.rbms_[0].history_["reconstruction_error"].shape == (0,)
    X = (np.random.default_rng(0).random((10, L * L)) < 0.5).astype(np.float32)
    assert dbn.transform(X, 1).shape == (10, 16) and dbn.transform(X).shape == (10, 2)
    assert dbn.reconstruct(X, 2).shape == (10, L * L)
    probabilities, binary = dbn.sample(5, n_gibbs=3, seed=0, return_binary=True)
    assert probabilities.shape == binary.shape == (5, L * L)
    again = untrained_dbn(L * L, hidden=(16, 4, 2), seed=7)
    other = untrained_dbn(L * L, hidden=(16, 4, 2), seed=8)
    for a, b, c in zip(dbn.rbms_, again.rbms_, other.rbms_, strict=True):
        assert np.array_equal(a.weights_, b.weights_)
        assert not np.array_equal(a.weights_, c.weights_)
    guide = untrained_dbn(L * L, hidden=(16, 4), init="guide", seed=7, data=X)
    assert 0.005 < guide.rbms_[0].weights_.std() < 0.015
    assert np.any(guide.rbms_[1].visible_bias_ != 0)
    with pytest.raises(IsingRGError):
        untrained_dbn(L * L, hidden=(16,), init="guide")


def test_untrained_dbn_follows_the_documented_seed_rule():
    """From first principles: layer seeds are the first uint64 state words, shifted right by
    one bit, of the last n_layers of SeedSequence(seed).spawn(2 + n_layers); each layer's W is
    0.1 N(0, 1) in float32 from the first of SeedSequence(layer_seed).spawn(4); biases are
    zero."""
    seed, hidden = 21, (9, 5, 3)
    layer_streams = np.random.SeedSequence(seed).spawn(2 + len(hidden))[2:]
    layer_seeds = [int(s.generate_state(1, dtype=np.uint64)[0] >> 1) for s in layer_streams]
    dbn = untrained_dbn(L * L, hidden=hidden, seed=seed)
    assert dbn.layer_seeds_ == layer_seeds
    assert dbn.get_params()["hidden"] == list(hidden)
    for n_in, n_out, layer_seed, rbm in zip((L * L, 9, 5), hidden, layer_seeds, dbn.rbms_,
                                           strict=True):
        stream = np.random.SeedSequence(layer_seed).spawn(4)[0]
        expected = np.random.Generator(np.random.PCG64(stream)).standard_normal(
            (n_in, n_out), dtype=np.float32
        )
        expected *= np.float32(0.1)
        assert np.array_equal(rbm.weights_, expected)
        assert not rbm.visible_bias_.any() and not rbm.hidden_bias_.any()
        assert rbm.random_state == layer_seed and rbm.l1 == 2e-4 and rbm.n_iter_ == 0
        assert set(rbm.history_) == set(HISTORY_KEYS)
    assert dbn.validation_indices_.size == 0 and dbn.train_indices_.size == 0


def test_permuted_copy_needs_a_fitted_dbn():
    with pytest.raises(NotFittedError):
        permuted_dbn_in_original_coordinates(DBN((4,)), site_permutation(L * L))
    with pytest.raises(IsingRGError):
        permuted_dbn_in_original_coordinates(small_dbn(), site_permutation(L * L - 1))


def test_untrained_dbn_is_where_training_starts():
    """A DBN 'trained' for one epoch at a negligible learning rate keeps its initial weights:
    they must be exactly the untrained network's."""
    X = (np.random.default_rng(1).random((40, L * L)) < 0.5).astype(np.float32)
    trained = DBN((6, 3), random_state=11,
                  recipe=Recipe(epochs=1, learning_rate=1e-30, batch_size=10))
    trained.fit(X)
    start = untrained_dbn(L * L, hidden=(6, 3), seed=11)
    for a, b in zip(trained.rbms_, start.rbms_, strict=True):
        assert np.array_equal(a.weights_, b.weights_)
    assert trained.layer_seeds_ == start.layer_seeds_


def test_analyze_runs_on_untrained_and_permuted_networks():
    from ising_rg.rg.analysis import analyze

    spins = np.where(np.random.default_rng(0).random((40, L, L)) < 0.5, 1, -1).astype(np.int8)
    dbn = untrained_dbn(L * L, hidden=(16, 4), seed=0)
    for model in (dbn, permuted_dbn_in_original_coordinates(dbn, site_permutation(L * L, 1))):
        result = analyze(model, spins, 0.4, AnalysisOptions(generative_samples=10, gibbs_steps=8))
        assert [layer["n_units"] for layer in result["layers"]] == [16, 4]

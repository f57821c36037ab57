"""DBN: greedy stacking, seeds, validation split, inference, sampling, errors."""

from __future__ import annotations

import numpy as np
import pytest

from ising_rg.errors import IsingRGError, NotFittedError
from ising_rg.rbm import DBN, BernoulliRBM

RBM_KW = {"n_epochs": 3, "batch_size": 20}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    # two noisy prototypes: structure for the layers to pick up
    prototypes = (rng.random((2, 36)) < 0.5).astype(np.float32)
    X = prototypes[rng.integers(0, 2, 400)]
    return np.abs(X - (rng.random(X.shape) < 0.1)).astype(np.float32)


@pytest.fixture(scope="module")
def dbn(data):
    return DBN((16, 8, 4), random_state=11, **RBM_KW).fit(data)


def test_fit_builds_the_stack_and_records_the_split(dbn, data):
    assert dbn.n_layers_ == 3 and len(dbn.rbms_) == 3
    assert [r.weights_.shape for r in dbn.rbms_] == [(36, 16), (16, 8), (8, 4)]
    assert all(r.weights_.dtype == np.float32 for r in dbn.rbms_)
    val, train = dbn.validation_indices_, dbn.train_indices_
    assert len(val) == 40 and len(train) == 360
    assert np.intersect1d(val, train).size == 0
    assert np.array_equal(np.union1d(val, train), np.arange(400))
    assert len(set(dbn.layer_seeds_)) == 3
    for rbm in dbn.rbms_:  # each layer monitored its own validation free energy
        assert np.isfinite(rbm.history_["free_energy_gap"]).all()


def test_each_layer_is_trained_on_the_probabilities_of_the_layer_below(dbn, data):
    """Greedy recipe: layer 2 = an RBM fitted to P(h1 | X_train) with layer 2's seed."""
    train = data[dbn.train_indices_]
    val = data[dbn.validation_indices_]
    layer1 = dbn.rbms_[0]
    layer2 = BernoulliRBM(8, random_state=dbn.layer_seeds_[1], **RBM_KW)
    layer2.fit(layer1.transform(train), X_val=layer1.transform(val))
    assert np.array_equal(layer2.weights_, dbn.rbms_[1].weights_)
    assert np.array_equal(layer2.hidden_bias_, dbn.rbms_[1].hidden_bias_)


def test_same_seed_gives_bit_identical_weights(dbn, data):
    again = DBN((16, 8, 4), random_state=11, **RBM_KW).fit(data)
    other = DBN((16, 8, 4), random_state=12, **RBM_KW).fit(data)
    for a, b in zip(dbn.rbms_, again.rbms_, strict=True):
        assert np.array_equal(a.weights_, b.weights_)
        assert np.array_equal(a.visible_bias_, b.visible_bias_)
    assert not np.array_equal(dbn.rbms_[0].weights_, other.rbms_[0].weights_)


def test_propagating_samples_changes_the_upper_layers_only(dbn, data):
    sampled = DBN((16, 8, 4), random_state=11, propagate="samples", **RBM_KW).fit(data)
    assert np.array_equal(sampled.rbms_[0].weights_, dbn.rbms_[0].weights_)
    assert not np.array_equal(sampled.rbms_[1].weights_, dbn.rbms_[1].weights_)


def test_transform_reconstruct_and_depth(dbn, data):
    top = dbn.transform(data)
    assert top.shape == (400, 4) and top.dtype == np.float32
    manual = data
    for rbm in dbn.rbms_[:2]:
        manual = rbm.transform(manual)
    assert np.array_equal(dbn.transform(data, depth=2), manual)
    for depth in (1, 2, 3):
        rec = dbn.reconstruct(data, depth)
        assert rec.shape == data.shape and rec.min() >= 0 and rec.max() <= 1
    down = dbn.rbms_[0].propagate_down(dbn.rbms_[0].transform(data))
    assert np.array_equal(dbn.reconstruct(data, 1), down)
    with pytest.raises(IsingRGError, match="depth"):
        dbn.transform(data, depth=4)


def test_sample_returns_visible_probabilities(dbn, data):
    p = dbn.sample(25, n_gibbs=20, seed=5)
    assert p.shape == (25, 36) and p.dtype == np.float32
    assert np.all((p >= 0) & (p <= 1))
    assert np.array_equal(p, dbn.sample(25, n_gibbs=20, seed=5))
    p2, binary = dbn.sample(10, n_gibbs=5, seed=1, X_init=data[:10], return_binary=True)
    assert p2.shape == binary.shape == (10, 36)
    assert set(np.unique(binary)) <= {0.0, 1.0}


def test_callback_sees_every_layer_and_epoch_and_interrupt_propagates(data):
    calls = []
    DBN((8, 4), random_state=0, **RBM_KW).fit(data, callback=lambda *a: calls.append(a[:3]))
    assert calls == [(layer, epoch, 3) for layer in (1, 2) for epoch in (1, 2, 3)]

    def stop(layer, epoch, n_epochs, metrics):
        if layer == 2:
            raise KeyboardInterrupt

    model = DBN((8, 4), random_state=0, **RBM_KW)
    with pytest.raises(KeyboardInterrupt):
        model.fit(data, callback=stop)
    assert not hasattr(model, "rbms_")


def test_no_validation_split(data):
    model = DBN((6,), random_state=0, **RBM_KW).fit(data, validation_fraction=0.0)
    assert model.validation_indices_.size == 0 and model.train_indices_.size == 400
    assert np.isnan(model.rbms_[0].history_["free_energy_gap"]).all()


@pytest.mark.parametrize(
    ("hidden", "kwargs", "words"),
    [
        ((0, 4), {}, "layer size must be an integer >= 1"),
        ((), {}, "at least one"),
        ((8,), {"propagate": "means"}, "propagate"),
        ((8,), {"learning_rate": -0.1}, "learning_rate"),
        ((8,), {"batch_size": 10_000}, "batch_size"),
    ],
)
def test_bad_parameters_raise_one_line_errors(data, hidden, kwargs, words):
    with pytest.raises(IsingRGError) as info:
        DBN(hidden, **kwargs).fit(data)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_unknown_rbm_keyword_and_bad_validation_fraction(data):
    with pytest.raises(IsingRGError, match="unknown"):
        DBN((8,), epochs=3)
    with pytest.raises(IsingRGError, match="validation_fraction"):
        DBN((8,), **RBM_KW).fit(data, validation_fraction=1.0)
    with pytest.raises(NotFittedError, match="not fitted"):
        DBN((8,)).transform(data)


def test_from_rbms_rebuilds_the_fitted_dbn_bit_for_bit(dbn, data):
    layers = [
        BernoulliRBM.from_parameters(r.weights_, r.visible_bias_, r.hidden_bias_,
                                     history=r.history_, **r.get_params())
        for r in dbn.rbms_
    ]
    rebuilt = DBN.from_rbms(layers, layer_seeds=dbn.layer_seeds_,
                            validation_indices=dbn.validation_indices_,
                            train_indices=dbn.train_indices_, **dbn.get_params())
    assert rebuilt.get_params() == dbn.get_params()
    assert rebuilt.n_layers_ == 3 and rebuilt.n_features_in_ == 36
    assert rebuilt.layer_seeds_ == dbn.layer_seeds_
    assert np.array_equal(rebuilt.validation_indices_, dbn.validation_indices_)
    for depth in (1, 2, 3):
        assert np.array_equal(rebuilt.transform(data, depth), dbn.transform(data, depth))
    assert np.array_equal(rebuilt.sample(5, 3, seed=1), dbn.sample(5, 3, seed=1))
    bare = DBN.from_rbms(layers)  # hidden sizes from the layers, nothing else recorded
    assert bare.hidden == (16, 8, 4) and bare.layer_seeds_ == []
    assert bare.validation_indices_.size == 0 and bare.train_indices_.size == 0


def test_from_rbms_refuses_layers_that_do_not_chain_or_are_unfitted(dbn):
    first, second, third = dbn.rbms_
    with pytest.raises(IsingRGError, match="layer 2 has 8 inputs"):
        DBN.from_rbms([first, third])
    with pytest.raises(IsingRGError, match="does not match"):
        DBN.from_rbms([first, second], hidden=[16, 9])
    with pytest.raises(IsingRGError, match="BernoulliRBM"):
        DBN.from_rbms([])
    with pytest.raises(NotFittedError):
        DBN.from_rbms([first, BernoulliRBM(8)])


def test_initialize_gives_the_layers_fit_starts_from(data):
    """Each layer is BernoulliRBM.initialize with the layer seed DBN.fit derives, and those
    are the weights a fit at a negligible learning rate keeps."""
    untrained = DBN((16, 8), random_state=5).initialize(36)
    assert untrained.n_layers_ == 2 and untrained.n_features_in_ == 36
    trained = DBN((16, 8), random_state=5, n_epochs=1, batch_size=20,
                  learning_rate=1e-30).fit(data)
    assert untrained.layer_seeds_ == trained.layer_seeds_
    for n_in, layer, still, seed in zip((36, 16), untrained.rbms_, trained.rbms_,
                                        trained.layer_seeds_, strict=True):
        alone = BernoulliRBM(layer.n_hidden, random_state=seed).initialize(n_in)
        assert np.array_equal(layer.weights_, alone.weights_)
        assert np.array_equal(layer.weights_, still.weights_)
        assert layer.n_iter_ == 0
    assert untrained.validation_indices_.size == 0 and untrained.train_indices_.size == 0

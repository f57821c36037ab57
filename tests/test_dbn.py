"""DBN: greedy stacking, seeds, validation split, inference, sampling, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ising_rg.errors import IsingRGError, NotFittedError
from ising_rg.rbm import DBN, BernoulliRBM
from ising_rg.settings import RECIPES, Recipe
from tests.conftest import chi_square_z

RECIPE = Recipe(epochs=3, batch_size=20)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    # two noisy prototypes: structure for the layers to pick up
    prototypes = (rng.random((2, 36)) < 0.5).astype(np.float32)
    X = prototypes[rng.integers(0, 2, 400)]
    return np.abs(X - (rng.random(X.shape) < 0.1)).astype(np.float32)


@pytest.fixture(scope="module")
def dbn(data):
    return DBN((16, 8, 4), random_state=11, recipe=RECIPE).fit(data)


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
    layer2 = BernoulliRBM(8, random_state=dbn.layer_seeds_[1], **RECIPE.layer_settings())
    layer2.fit(layer1.transform(train), X_val=layer1.transform(val))
    assert np.array_equal(layer2.weights_, dbn.rbms_[1].weights_)
    assert np.array_equal(layer2.hidden_bias_, dbn.rbms_[1].hidden_bias_)


def test_same_seed_gives_bit_identical_weights(dbn, data):
    again = DBN((16, 8, 4), random_state=11, recipe=RECIPE).fit(data)
    other = DBN((16, 8, 4), random_state=12, recipe=RECIPE).fit(data)
    for a, b in zip(dbn.rbms_, again.rbms_, strict=True):
        assert np.array_equal(a.weights_, b.weights_)
        assert np.array_equal(a.visible_bias_, b.visible_bias_)
    assert not np.array_equal(dbn.rbms_[0].weights_, other.rbms_[0].weights_)


def test_propagating_samples_changes_the_upper_layers_only(dbn, data):
    sampled = DBN((16, 8, 4), random_state=11, recipe=RECIPE.replace(propagate="samples")).fit(data)
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


def binary_states(n_units: int) -> np.ndarray:
    """All 2^n binary states, shape (2^n, n), float32, in binary-counting order."""
    return np.array(list(itertools.product([0, 1], repeat=n_units)), dtype=np.float32)


def tiny_random_dbn(seed: int) -> DBN:
    """A 4 - 3 - 2 DBN with strong random weights (scale 2) and biases (scale 1)."""
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in ((4, 3), (3, 2)):
        layers.append(BernoulliRBM.from_parameters(
            rng.normal(0, 2.0, (n_in, n_out)).astype(np.float32),
            rng.normal(0, 1.0, n_in).astype(np.float32),
            rng.normal(0, 1.0, n_out).astype(np.float32)))
    return DBN.from_rbms(layers)


def exact_dbn_marginal(dbn: DBN) -> np.ndarray:
    """p(v) = sum_h1 p_top(h1) P(v | h1) over the 16 visible states, by enumeration."""
    bottom, top = dbn.rbms_
    h1 = binary_states(3)
    log_p_top = -top.free_energy(h1)  # the top RBM's marginal over h1, unnormalised
    p_top = np.exp(log_p_top - log_p_top.max())
    p_top /= p_top.sum()
    p_on = bottom.propagate_down(h1).astype(np.float64)  # (8 h1 states, 4 sites)
    v = binary_states(4)
    p_v_given_h = np.prod(np.where(v[None] == 1, p_on[:, None], 1 - p_on[:, None]), axis=2)
    return p_top @ p_v_given_h


@pytest.mark.parametrize("seed", [0, 1])
def test_ancestral_samples_follow_the_exact_dbn_marginal_and_mean_field_does_not(seed):
    """Counts of the 16 visible states of a 4 - 3 - 2 DBN against its exact marginal.

    Measured for seeds 0-2 at 40,000 samples: ancestral z = 1.0, 0.1, -0.4; mean-field
    z = 25, 23, 26 (z of the chi-square statistic, Wilson-Hilferty; z < 4 is the 3e-5 level).
    """
    dbn = tiny_random_dbn(seed)
    expected = 20000 * exact_dbn_marginal(dbn)
    codes = 1 << np.arange(3, -1, -1)  # binary counting order of binary_states
    z = {}
    for mean_field in (False, True):
        _, v = dbn.sample(20000, n_gibbs=50, seed=seed + 1, return_binary=True,
                          mean_field=mean_field)
        counts = np.bincount(v.astype(np.int64) @ codes, minlength=16)
        z[mean_field] = chi_square_z(counts, expected)
    assert z[False] < 4.0
    assert z[True] > 8.0


def test_sample_up_and_down_are_binary_between_layers(dbn, data):
    top_states = dbn.sample_up(data[:30], depth=2, seed=3)
    assert top_states.shape == (30, 8) and set(np.unique(top_states)) <= {0.0, 1.0}
    assert np.array_equal(dbn.sample_up(data[:30], 0, seed=3), data[:30])  # binary X as is
    p = dbn.sample_down(top_states, seed=4)
    assert p.shape == (30, 36) and np.all((p >= 0) & (p <= 1))
    assert np.array_equal(p, dbn.sample_down(top_states, seed=4))
    # mean-field propagation draws nothing: the composition of the layers' P(v | h)
    mean_field = dbn.sample_down(top_states, seed=5, mean_field=True)
    expected = dbn.rbms_[0].propagate_down(dbn.rbms_[1].propagate_down(top_states))
    assert np.array_equal(mean_field, expected)
    with pytest.raises(IsingRGError):
        dbn.sample_down(data[:3], seed=0)  # 36 units where the top RBM has 8 visible
    with pytest.raises(IsingRGError):
        dbn.sample_up(data[:3], depth=4)
    single = DBN.from_rbms([dbn.rbms_[0]])
    assert np.array_equal(single.sample_down(data[:5]), data[:5])


def test_callback_sees_every_layer_and_epoch_and_interrupt_propagates(data):
    calls = []
    DBN((8, 4), random_state=0, recipe=RECIPE).fit(data, callback=lambda *a: calls.append(a[:3]))
    assert calls == [(layer, epoch, 3) for layer in (1, 2) for epoch in (1, 2, 3)]

    def stop(layer, epoch, n_epochs, metrics):
        if layer == 2:
            raise KeyboardInterrupt

    model = DBN((8, 4), random_state=0, recipe=RECIPE)
    with pytest.raises(KeyboardInterrupt):
        model.fit(data, callback=stop)
    assert not hasattr(model, "rbms_")


def test_no_validation_split(data):
    model = DBN((6,), random_state=0, recipe=RECIPE.replace(validation_fraction=0.0)).fit(data)
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
        ((8,), {"validation_fraction": 1.0}, "validation_fraction"),
    ],
)
def test_bad_parameters_raise_one_line_errors(data, hidden, kwargs, words):
    with pytest.raises(IsingRGError) as info:
        DBN(hidden, recipe=Recipe().replace(**kwargs)).fit(data)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_unknown_recipe_setting_or_name_and_unfitted_use(data):
    with pytest.raises(TypeError):
        DBN((8,), epochs=3)  # a setting belongs to the recipe
    with pytest.raises(IsingRGError, match="unknown Recipe setting"):
        Recipe().replace(n_epochs=3)
    with pytest.raises(IsingRGError, match="unknown recipe 'fast'"):
        DBN((8,), recipe="fast").fit(data)
    with pytest.raises(NotFittedError, match="not fitted"):
        DBN((8,)).transform(data)


def test_a_named_recipe_in_one_line(data):
    """The documented recipes are usable from Python as they are named."""
    model = DBN((6,), recipe="density", random_state=0)
    assert model._recipe() == RECIPES["density"]
    rbm = BernoulliRBM(6, **RECIPES["density"].layer_settings())
    assert (rbm.learning_rate, rbm.learning_rate_decay, rbm.l1) == (0.03, "linear", 2e-3)


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
    trained = DBN((16, 8), random_state=5,
                  recipe=Recipe(epochs=1, batch_size=20, learning_rate=1e-30)).fit(data)
    assert untrained.layer_seeds_ == trained.layer_seeds_
    for n_in, layer, still, seed in zip((36, 16), untrained.rbms_, trained.rbms_,
                                        trained.layer_seeds_, strict=True):
        alone = BernoulliRBM(layer.n_hidden, random_state=seed).initialize(n_in)
        assert np.array_equal(layer.weights_, alone.weights_)
        assert np.array_equal(layer.weights_, still.weights_)
        assert layer.n_iter_ == 0
    assert untrained.validation_indices_.size == 0 and untrained.train_indices_.size == 0

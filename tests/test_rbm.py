"""BernoulliRBM: exact quantities against brute force, CD gradients, training, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ising_rg.errors import IsingRGError, NotFittedError
from ising_rg.rbm import BernoulliRBM, exact_log_partition
from ising_rg.rbm.rbm import HISTORY_KEYS
from ising_rg.rbm.trainer import cd_gradient


def all_states(n: int) -> np.ndarray:
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.float64)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def rbm_from(W, b, c) -> BernoulliRBM:
    """A fitted RBM with given parameters (rounded to float32, as training would leave them)."""
    return BernoulliRBM.from_parameters(W, b, c)


def float64_params(rbm):
    return (a.astype(np.float64) for a in (rbm.weights_, rbm.visible_bias_, rbm.hidden_bias_))


@pytest.fixture(scope="module")
def tiny_rbm():
    rng = np.random.default_rng(5)
    return rbm_from(
        rng.standard_normal((6, 4)) * 1.5, rng.standard_normal(6) * 0.5, rng.standard_normal(4)
    )


def test_free_energy_matches_sum_over_hidden_states(tiny_rbm):
    W, b, c = float64_params(tiny_rbm)
    V, H = all_states(6), all_states(4)
    energy = -(V @ b)[:, None] - (H @ c)[None, :] - V @ W @ H.T  # E(v, h)
    brute = -np.log(np.exp(-energy).sum(axis=1))
    np.testing.assert_allclose(tiny_rbm.free_energy(V), brute, rtol=0, atol=1e-10)


def test_transform_and_reconstruct_match_float64_formulas(tiny_rbm):
    W, b, c = float64_params(tiny_rbm)
    V = all_states(6)
    hidden = sigmoid(V @ W + c)
    np.testing.assert_allclose(tiny_rbm.transform(V), hidden, atol=2e-6)
    np.testing.assert_allclose(tiny_rbm.reconstruct(V), sigmoid(hidden @ W.T + b), atol=2e-6)
    assert tiny_rbm.transform(V).dtype == np.float32


def test_pseudo_log_likelihood_equals_sum_of_exact_conditionals(tiny_rbm):
    W, b, c = float64_params(tiny_rbm)
    V = all_states(6)
    log_p = -tiny_rbm.free_energy(V)
    index = {tuple(v): n for n, v in enumerate(V.astype(int))}
    expected = np.zeros(len(V))
    for n, v in enumerate(V.astype(int)):
        for i in range(6):
            flipped = v.copy()
            flipped[i] = 1 - flipped[i]
            other = log_p[index[tuple(flipped)]]
            expected[n] += log_p[n] - np.logaddexp(log_p[n], other)  # log P(v_i | v_-i)
    np.testing.assert_allclose(tiny_rbm.pseudo_log_likelihood(V), expected, atol=1e-10)


def test_cd_gradient_approaches_exact_gradient_for_long_chains(tiny_rbm):
    """CD-k estimates d<log p>/dtheta; with k -> infinity and binary negative samples it is
    unbiased. Data from a distribution far from the model make CD-1's bias obvious."""
    W, b, c = float64_params(tiny_rbm)
    rng = np.random.default_rng(5)
    patterns = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], [1, 0, 1, 0, 1, 0]], float)
    n_chains = 20000
    X = patterns[rng.integers(0, 3, n_chains)]
    X = np.abs(X - (rng.random(X.shape) < 0.1)).astype(np.float32)

    V = all_states(6)
    free = -(V @ b) - np.logaddexp(0, V @ W + c).sum(axis=1)
    p_model = np.exp(-free - (-free).max())
    p_model /= p_model.sum()
    h_data, h_model = sigmoid(X @ W + c), sigmoid(V @ W + c)
    exact = np.concatenate(
        [
            (X.T @ h_data / n_chains - (V * p_model[:, None]).T @ h_model).ravel(),
            X.mean(axis=0) - p_model @ V,
            h_data.mean(axis=0) - p_model @ h_model,
        ]
    )

    def max_error(**params):
        rbm = rbm_from(*float64_params(tiny_rbm)).set_params(**params)
        return np.abs(
            np.concatenate([g.ravel() for g in cd_gradient(rbm, X, seed=1)]) - exact
        ).max()

    # each negative statistic is a mean of n_chains independent values in [0, 1]
    std_err = 0.5 / np.sqrt(n_chains)
    cd_long = max_error(cd_k=500, negative_visible="samples")
    cd_1 = max_error(cd_k=1, negative_visible="samples")
    pcd_long = max_error(cd_k=500, persistent=True, persistent_chains=n_chains)
    assert cd_long < 5 * std_err  # 34 components, conservative standard error
    assert pcd_long < 5 * std_err
    assert cd_1 > 20 * std_err and cd_1 > 5 * cd_long
    # rbm.m's mean-field negative phase: biased even for long chains, but far better than CD-1
    hinton_long = max_error(cd_k=500, negative_visible="probabilities")
    hinton_1 = max_error(cd_k=1, negative_visible="probabilities")
    assert hinton_long < hinton_1 / 2


def ising_3x3_exact(coupling: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """All 512 states of the 3x3 periodic Ising model as visible vectors and their probabilities.

    E = -sum_i s_i (s_right(i) + s_down(i)) with periodic wrap; v = (s + 1) / 2, i = row*3 + col.
    """
    spins = 2 * all_states(9) - 1
    s = spins.reshape(-1, 3, 3)
    energy = -(s * (np.roll(s, -1, axis=2) + np.roll(s, -1, axis=1))).sum(axis=(1, 2))
    log_weight = -coupling * energy
    p = np.exp(log_weight - log_weight.max())
    return (spins + 1) / 2, p / p.sum()


@pytest.fixture(scope="module")
def ising_data():
    visible, p = ising_3x3_exact(0.4)
    rows = np.random.default_rng(0).choice(len(p), size=5000, p=p)
    return visible, p, visible[rows].astype(np.float32)


def test_training_on_exact_ising_samples_learns_the_distribution(ising_data):
    visible, p, X = ising_data
    rbm = BernoulliRBM(16, epochs=60, random_state=0).fit(X)  # the paper's recipe
    log_q = rbm.log_likelihood(visible, exact_log_partition(rbm))
    assert abs(np.exp(log_q).sum() - 1.0) < 1e-9  # exact normalisation
    kl_model = float(np.sum(p * (np.log(p) - log_q)))

    # Reference: the best independent-spin (product) model, i.e. the data's site means. At
    # K = 0.4 on the 3x3 torus it misses all correlations: KL ~ 3.0 nats. Even a perfect fit
    # of the 5000-sample empirical distribution would sit at KL ~ 511 / (2 * 5000) ~ 0.05;
    # CD-1 with momentum reaches ~0.2. Require the RBM to remove > 85% of the product KL.
    mean = X.mean(axis=0).astype(np.float64)
    log_product = (visible * np.log(mean) + (1 - visible) * np.log(1 - mean)).sum(axis=1)
    kl_product = float(np.sum(p * (np.log(p) - log_product)))
    assert kl_product > 2.5
    assert kl_model < 0.15 * kl_product

    # training raises the exact log-likelihood of the data
    early = BernoulliRBM(16, epochs=1, random_state=0).fit(X)
    ll_early = early.log_likelihood(X, exact_log_partition(early)).mean()
    ll_final = rbm.log_likelihood(X, exact_log_partition(rbm)).mean()
    ll_product = float((X * np.log(mean) + (1 - X) * np.log(1 - mean)).sum(axis=1).mean())
    assert ll_final > ll_early + 1.0
    assert ll_final > ll_product + 1.0
    # the recorded history is complete and finite
    for key, values in rbm.history_.items():
        assert values.shape == (60,), key
        if key not in ("free_energy_validation", "free_energy_gap"):
            assert np.isfinite(values).all(), key


def test_linear_learning_rate_decay_is_applied_and_recorded():
    X = (np.random.default_rng(1).random((200, 10)) < 0.5).astype(np.float32)

    def fit(**kw):
        return BernoulliRBM(4, epochs=5, batch_size=20, learning_rate=0.2, random_state=0,
                            **kw).fit(X)

    decayed, constant = fit(learning_rate_decay="linear"), fit()
    np.testing.assert_allclose(decayed.history_["learning_rate"], [0.2, 0.16, 0.12, 0.08, 0.04])
    np.testing.assert_array_equal(constant.history_["learning_rate"], [0.2] * 5)
    # Epoch 1 takes the same steps; later ones smaller: the parameters differ.
    one = [BernoulliRBM(4, epochs=1, batch_size=20, learning_rate=0.2, random_state=0,
                        learning_rate_decay=d).fit(X) for d in ("linear", "none")]
    assert np.array_equal(one[0].weights_, one[1].weights_)
    assert not np.array_equal(decayed.weights_, constant.weights_)


def test_sampled_negatives_with_a_decaying_rate_learn_the_distribution_closely(ising_data):
    # Exact KL(Ising || RBM) on the 3x3 torus after 60 epochs (16 hidden, 5000 exact samples,
    # this fixture), measured for seeds 0-7: the defaults (rbm.m) 0.057-0.31 nats; sampled
    # negative visibles with the linearly decaying rate 0.008-0.025 (either change alone:
    # 0.017-0.49 and 0.11-0.25). The bound 0.04 lies between the worst seed of the
    # combination and the best seed of the defaults.
    visible, p, X = ising_data
    for seed in (0, 1):
        kls = []
        for extra in ({}, {"negative_visible": "samples", "learning_rate_decay": "linear"}):
            rbm = BernoulliRBM(16, epochs=60, random_state=seed, **extra).fit(X)
            log_q = rbm.log_likelihood(visible, exact_log_partition(rbm))
            kls.append(float(np.sum(p * (np.log(p) - log_q))))
        paper, decayed = kls
        assert decayed < 0.04 < paper, (seed, kls)


def test_l1_penalty_drives_weights_to_zero(ising_data):
    _, _, X = ising_data
    plain = BernoulliRBM(16, epochs=30, random_state=3, l1=0.0).fit(X)
    sparse = BernoulliRBM(16, epochs=30, random_state=3, l1=3e-3).fit(X)
    near_zero = [float(np.mean(np.abs(r.weights_) < 0.01)) for r in (plain, sparse)]
    assert near_zero[1] > near_zero[0] + 0.1
    assert np.abs(sparse.weights_).mean() < 0.7 * np.abs(plain.weights_).mean()


def test_same_seed_gives_identical_parameters_and_other_seeds_differ(ising_data):
    _, _, X = ising_data

    def fit(seed, **kw):
        return BernoulliRBM(8, epochs=3, random_state=seed, **kw).fit(X[:1000])

    for kw in ({}, {"persistent": True, "cd_k": 2}, {"cd_k": 3, "negative_visible": "samples"}):
        a, b, other = fit(7, **kw), fit(7, **kw), fit(8, **kw)
        for name in ("weights_", "visible_bias_", "hidden_bias_"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), (kw, name)
        assert not np.array_equal(a.weights_, other.weights_)


def test_paper_defaults_and_init_options():
    rbm = BernoulliRBM(400)
    assert (rbm.learning_rate, rbm.batch_size, rbm.cd_k, rbm.momentum) == (
        0.1,
        100,
        1,
        (0.5, 0.9, 5),
    )
    X = (np.random.default_rng(0).random((400, 50)) < 0.2).astype(np.float32)
    paper = BernoulliRBM(20, epochs=1, learning_rate=1e-9, random_state=0).fit(X)
    assert abs(paper.weights_.std() - 0.1) < 0.01 and np.all(np.abs(paper.hidden_bias_) < 1e-6)
    guide = BernoulliRBM(20, epochs=1, learning_rate=1e-9, init="guide", random_state=0).fit(X)
    mean = np.clip(X.mean(axis=0), 1e-3, 1 - 1e-3)
    np.testing.assert_allclose(guide.visible_bias_, np.log(mean / (1 - mean)), atol=1e-4)
    assert abs(guide.weights_.std() - 0.01) < 0.002
    assert list(paper.history_["momentum"]) == [0.5]


def test_momentum_schedule_is_recorded():
    X = (np.random.default_rng(1).random((200, 10)) < 0.5).astype(np.float32)
    rbm = BernoulliRBM(4, epochs=7, batch_size=20, random_state=0).fit(X, X_val=X[:50])
    np.testing.assert_array_equal(rbm.history_["momentum"], [0.5] * 5 + [0.9] * 2)
    gap = rbm.history_["free_energy_gap"]
    assert np.isfinite(gap).all()


def test_callback_gets_each_epoch_and_interrupt_propagates():
    X = (np.random.default_rng(2).random((100, 8)) < 0.5).astype(np.float32)
    seen = []
    BernoulliRBM(3, epochs=4, batch_size=10).fit(X, callback=lambda *a: seen.append(a[:2]))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]

    def interrupt(epoch, n_epochs, metrics):
        raise KeyboardInterrupt

    rbm = BernoulliRBM(3, epochs=4, batch_size=10)
    with pytest.raises(KeyboardInterrupt):
        rbm.fit(X, callback=interrupt)
    assert not hasattr(rbm, "weights_")


def test_sampling_returns_binary_states(tiny_rbm):
    samples = tiny_rbm.sample(50, n_steps=20, seed=1)
    assert samples.shape == (50, 6) and set(np.unique(samples)) <= {0.0, 1.0}
    assert np.array_equal(samples, tiny_rbm.sample(50, n_steps=20, seed=1))


def test_long_gibbs_chains_sample_the_model_distribution(tiny_rbm):
    W, b, c = float64_params(tiny_rbm)
    V = all_states(6)
    free = -(V @ b) - np.logaddexp(0, V @ W + c).sum(axis=1)
    p = np.exp(-free - (-free).max())
    p /= p.sum()
    samples = tiny_rbm.sample(20000, n_steps=100, seed=3)
    mean_exact = p @ V
    # site means: 20000 independent chains, standard error <= 0.5 / sqrt(20000) = 0.0035
    np.testing.assert_allclose(samples.mean(axis=0), mean_exact, atol=0.02)


BAD_FITS = [
    (np.zeros(10), {}, "2-D"),
    (np.full((20, 4), np.nan), {}, "NaN"),
    (np.full((20, 4), 2.0), {}, "[0, 1]"),
    (np.zeros((20, 4)), {"batch_size": 50}, "batch_size"),
    (np.zeros((20, 4)), {"batch_size": 0}, "batch_size"),
    (np.zeros((20, 4)), {"learning_rate": 0.0}, "learning_rate"),
    (np.zeros((20, 4)), {"learning_rate": -1.0}, "learning_rate"),
    (np.zeros((20, 4)), {"cd_k": 0}, "cd_k"),
    (np.zeros((20, 4)), {"l1": -1e-4}, "l1"),
    (np.zeros((20, 4)), {"n_hidden": 0}, "n_hidden"),
    (np.zeros((20, 4)), {"init": "zeros"}, "init"),
    (np.zeros((20, 4)), {"learning_rate_decay": "cosine"}, "learning_rate_decay"),
    (np.zeros((20, 4)), {"momentum": (0.5, 1.5, 5)}, "momentum"),
    (np.zeros((0, 4)), {}, "empty"),
]


@pytest.mark.parametrize(("X", "params", "words"), BAD_FITS)
def test_bad_input_raises_one_line_error(X, params, words):
    rbm = BernoulliRBM(3, epochs=1, batch_size=10).set_params(**params)
    with pytest.raises(IsingRGError) as info:
        rbm.fit(X)
    message = str(info.value)
    assert words in message and "\n" not in message


def test_inference_checks_shapes_and_fitted_state(tiny_rbm):
    with pytest.raises(NotFittedError, match="not fitted"):
        BernoulliRBM(3).transform(np.zeros((2, 6)))
    with pytest.raises(IsingRGError, match="visible units"):
        tiny_rbm.transform(np.zeros((2, 5)))
    with pytest.raises(IsingRGError, match="binary"):
        tiny_rbm.pseudo_log_likelihood(np.full((2, 6), 0.5))


def test_error_classes_separate_bad_input_from_unfitted_models():
    """Bad input is an IsingRGError (a ValueError); a model used before it has parameters is a
    NotFittedError (ValueError and AttributeError, as in scikit-learn), never an IsingRGError."""
    assert issubclass(IsingRGError, ValueError)
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
    assert not issubclass(NotFittedError, IsingRGError)
    assert not issubclass(IsingRGError, NotFittedError)
    unfitted = BernoulliRBM(3)
    assert not hasattr(unfitted, "n_visible")  # the property raises an AttributeError
    with pytest.raises(NotFittedError) as info:
        unfitted.free_energy(np.zeros((1, 4)))
    assert not isinstance(info.value, IsingRGError)
    with pytest.raises(NotFittedError):
        exact_log_partition(unfitted)


def test_from_parameters_is_the_trained_model_bit_for_bit(ising_data):
    visible, _, X = ising_data
    trained = BernoulliRBM(8, epochs=3, random_state=2, l1=1e-3).fit(X[:500])
    rebuilt = BernoulliRBM.from_parameters(
        trained.weights_, trained.visible_bias_, trained.hidden_bias_,
        history=trained.history_, **trained.get_params(),
    )  # fmt: skip
    assert rebuilt.get_params() == trained.get_params()
    assert rebuilt.n_iter_ == trained.n_iter_ == 3 and rebuilt.n_features_in_ == 9
    for name in ("weights_", "visible_bias_", "hidden_bias_"):
        assert getattr(rebuilt, name).dtype == np.float32
        assert np.array_equal(getattr(rebuilt, name), getattr(trained, name))
        assert getattr(rebuilt, name) is not getattr(trained, name)  # copies
    for key in HISTORY_KEYS:
        np.testing.assert_array_equal(rebuilt.history_[key], trained.history_[key])
    assert np.array_equal(rebuilt.transform(visible), trained.transform(visible))
    assert np.array_equal(rebuilt.free_energy(visible), trained.free_energy(visible))
    assert np.array_equal(rebuilt.sample(20, 5, seed=4), trained.sample(20, 5, seed=4))


@pytest.mark.parametrize(
    ("args", "kwargs", "words"),
    [
        ((np.zeros((4, 3)), np.zeros(4), np.zeros(2)), {}, "shapes"),
        ((np.zeros(4), np.zeros(4), np.zeros(1)), {}, "shapes"),
        ((np.full((4, 3), np.nan), np.zeros(4), np.zeros(3)), {}, "NaN"),
        ((np.zeros((4, 3)), np.zeros(4), np.zeros(3)), {"n_hidden": 5}, "n_hidden"),
        ((np.zeros((4, 3)), np.zeros(4), np.zeros(3)), {"n_epochs": 5}, "unknown"),
        ((np.zeros((4, 3)), np.zeros(4), np.zeros(3)), {"cd_k": 0}, "cd_k"),
        ((np.zeros((4, 3)), np.zeros(4), np.zeros(3)), {"history": {"a": [1.0], "b": []}},
         "history"),
    ],
)
def test_from_parameters_validates(args, kwargs, words):
    with pytest.raises(IsingRGError) as info:
        BernoulliRBM.from_parameters(*args, **kwargs)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_initialize_is_where_fit_starts_by_the_documented_seed_rule():
    """Zero epochs: W = 0.1 N(0, 1) in float32 from the first of the four streams spawned from
    SeedSequence(random_state), zero biases; and a fit at a negligible learning rate starts
    (and stays) exactly there."""
    seed, n_visible, n_hidden = 13, 10, 4
    rng_init = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed).spawn(4)[0]))
    expected = rng_init.standard_normal((n_visible, n_hidden), dtype=np.float32)
    expected *= np.float32(0.1)
    rbm = BernoulliRBM(n_hidden, random_state=seed).initialize(n_visible)
    assert np.array_equal(rbm.weights_, expected)
    assert not rbm.visible_bias_.any() and not rbm.hidden_bias_.any()
    assert rbm.n_iter_ == 0 and set(rbm.history_) == set(HISTORY_KEYS)
    assert all(values.shape == (0,) for values in rbm.history_.values())
    X = (np.random.default_rng(0).random((20, n_visible)) < 0.5).astype(np.float32)
    still = BernoulliRBM(n_hidden, random_state=seed, epochs=1, batch_size=10,
                         learning_rate=1e-30).fit(X)
    assert np.array_equal(still.weights_, rbm.weights_)
    guide = BernoulliRBM(n_hidden, random_state=seed, init="guide").initialize(n_visible, X)
    mean = np.clip(X.mean(axis=0, dtype=np.float64), 1e-3, 1 - 1e-3)
    np.testing.assert_array_equal(guide.visible_bias_, np.log(mean / (1 - mean)).astype(np.float32))
    with pytest.raises(IsingRGError, match="needs data"):
        BernoulliRBM(n_hidden, init="guide").initialize(n_visible)
    with pytest.raises(IsingRGError, match="n_visible"):
        BernoulliRBM(n_hidden).initialize(0)

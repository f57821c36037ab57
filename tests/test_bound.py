"""The variational bound per depth against brute-force enumeration of tiny DBNs, the transpose
stack (complementary prior: the bound is tight) and the exact Ising RBM (Delta F_1 = 0)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ising_rg.errors import IsingRGError, NotFittedError
from ising_rg.exact import log_partition_function
from ising_rg.exact.enumeration import boltzmann_state_probabilities, enumerate_torus
from ising_rg.rbm import DBN, BernoulliRBM, average_log_likelihood, exact_log_partition
from ising_rg.rbm.bound import (
    free_energy_by_depth,
    ising_log_likelihood,
    variational_bound,
    variational_bounds,
)
from ising_rg.rbm.ising import ising_rbm

COUPLING = 0.408


# -- brute-force oracle: every state of every layer ----------------------------------------------


def all_states(n: int) -> np.ndarray:
    """Every {0, 1} vector of length n, shape (2^n, n)."""
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    top = a.max(axis=axis, keepdims=True)
    return np.squeeze(top, axis) + np.log(np.exp(a - top).sum(axis=axis))


def log_bernoulli(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    """log prod_i p_i^x_i (1 - p_i)^(1 - x_i) for every pair: x (nx, n), p (np, n) -> (nx, np)."""
    return x @ np.log(p).T + (1 - x) @ np.log1p(-p).T


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def parameters(rbm: BernoulliRBM):
    return (a.astype(np.float64) for a in (rbm.weights_, rbm.visible_bias_, rbm.hidden_bias_))


def rbm_log_marginal(rbm: BernoulliRBM) -> np.ndarray:
    """log p(x) of the RBM's visible marginal for every visible state, by summing over (x, h)."""
    W, b, c = parameters(rbm)
    X, H = all_states(W.shape[0]), all_states(W.shape[1])
    log_joint = (X @ b)[:, None] + (H @ c)[None, :] + X @ W @ H.T
    log_marginal = logsumexp(log_joint, axis=1)
    return log_marginal - logsumexp(log_marginal, axis=0)


def exact_dbn(dbn: DBN, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """(log p(v), B(v)) of the depth-layer model for every visible state v.

    log p from the generative model sum_h p(v | h_1) ... p_top(h_{l-1}); the bound from
    B_k(x) = sum_h Q_k(h | x) [log p(x | h) - log Q_k(h | x) + B_{k+1}(h)], B_l = log p_l.
    """
    log_p = bound = rbm_log_marginal(dbn.rbms_[depth - 1])
    for rbm in reversed(dbn.rbms_[: depth - 1]):
        W, b, c = parameters(rbm)
        X, H = all_states(W.shape[0]), all_states(W.shape[1])
        log_q = log_bernoulli(H, sigmoid(X @ W + c)).T  # (x, h)
        log_down = log_bernoulli(X, sigmoid(H @ W.T + b))  # (x, h)
        bound = (np.exp(log_q) * (log_down - log_q + bound[None, :])).sum(axis=1)
        log_p = logsumexp(log_down + log_p[None, :], axis=1)
    return log_p, bound


def random_rbm(n_visible: int, n_hidden: int, scale: float, seed: int) -> BernoulliRBM:
    rng = np.random.default_rng(seed)
    return BernoulliRBM.from_parameters(
        rng.standard_normal((n_visible, n_hidden)) * scale,
        rng.standard_normal(n_visible), rng.standard_normal(n_hidden))


def random_dbn(sizes: tuple[int, ...], scale: float, seed: int) -> DBN:
    return DBN.from_rbms([random_rbm(n_in, n_out, scale, seed + i)
                          for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes))])


def transposed(rbm: BernoulliRBM) -> BernoulliRBM:
    """W2 = W1^T, visible bias 2 = hidden bias 1, hidden bias 2 = visible bias 1."""
    return BernoulliRBM.from_parameters(rbm.weights_.T, rbm.hidden_bias_, rbm.visible_bias_)


# -- known answers -------------------------------------------------------------------------------


def test_the_transpose_stack_keeps_the_first_rbms_marginal_and_its_bound_is_tight():
    first = random_rbm(5, 4, scale=1.2, seed=11)
    dbn = DBN.from_rbms([first, transposed(first), first])  # W3 = W2^T = W1
    log_p_rbm = rbm_log_marginal(first)
    for depth in (2, 3):
        log_p, bound = exact_dbn(dbn, depth)
        np.testing.assert_allclose(log_p, log_p_rbm, atol=1e-10)
        np.testing.assert_allclose(bound, log_p_rbm, atol=1e-10)  # Q is the true posterior

    # The estimator: the log-ratio of every Q sample is log p(v) itself, so every row is exact.
    X = all_states(5)
    for estimate in variational_bounds(dbn, X, n_q_samples=3, seed=4):
        np.testing.assert_allclose(estimate.per_row, log_p_rbm, atol=1e-9)
    # With AIS for every log Z, on one state (the rows then differ by nothing but log Z's
    # error): unbiased within the stated error, over independent seeds.
    z_scores = []
    for seed in range(8):
        for estimate in variational_bounds(dbn, np.repeat(X[7:8], 5, axis=0), n_q_samples=1,
                                           max_exact_units=0, n_ais_runs=100,
                                           n_ais_betas=300, seed=seed):
            assert estimate.log_z_method.startswith("mixture AIS")
            assert estimate.sampling_error < 1e-9
            z_scores.append((estimate.mean - log_p_rbm[7]) / estimate.error)
    assert np.max(np.abs(z_scores)) < 4.5
    assert 0.25 < np.mean(np.square(z_scores)) < 4.0


@pytest.mark.parametrize(("sizes", "seed"), [((4, 3, 3), 1), ((4, 3, 3, 2), 2), ((3, 4, 2, 3), 3)])
def test_bound_is_below_log_p_and_the_estimator_finds_the_exact_bound(sizes, seed):
    dbn = random_dbn(sizes, scale=1.5, seed=seed)
    depth = len(sizes) - 1
    log_p, bound = exact_dbn(dbn, depth)
    assert np.all(bound <= log_p + 1e-12)
    assert np.max(log_p - bound) > 1e-3  # random weights: Q is not the posterior

    # One visible state per call, repeated: the spread over rows is the Q-sampling noise alone.
    z_scores = []
    for index, v in enumerate(all_states(sizes[0])):
        estimates = variational_bounds(dbn, np.repeat(v[None, :], 300, axis=0), n_q_samples=4,
                                       seed=index)
        assert estimates[0].per_row == pytest.approx(exact_dbn(dbn, 1)[0][index], abs=1e-9)
        for estimate in estimates[1:]:
            exact_bound = exact_dbn(dbn, estimate.depth)[1][index]
            z_scores.append((estimate.mean - exact_bound) / estimate.error)
    z_scores = np.array(z_scores)
    assert np.max(np.abs(z_scores)) < 4.5
    assert 0.2 < np.mean(z_scores**2) < 3.0  # the stated error is the actual spread


def test_the_exact_ising_rbm_has_delta_f_zero_at_depth_1_and_its_transpose_at_depth_2():
    size = 4
    rng = np.random.default_rng(0)
    states = rng.choice(2**16, size=3000, p=boltzmann_state_probabilities(COUPLING, size))
    visible = ((states[:, None] >> np.arange(size * size)) & 1).astype(np.float32)
    layer = ising_rbm(size, COUPLING)
    dbn = DBN.from_rbms([layer, transposed(layer)])

    table = free_energy_by_depth(dbn, visible, COUPLING, n_rows=None, n_q_samples=2)
    assert table["n_rows"] == 3000 and table["n_spins"] == 16
    ising = table["ising_per_spin"]
    data = table["data_ising_per_spin"]
    assert abs(data["mean"] - ising) < 4 * data["error"]  # exact samples: Kaufman's mean
    for entry in table["layers"]:
        assert entry["log_z_method"] == "exact"
        assert abs(entry["delta_f_per_spin"]["mean"]) < 1e-6  # float32 model: K to 2^-26 w
        assert entry["delta_f_per_spin"]["error"] < 1e-6
        bound = entry["bound_per_spin"]
        assert abs(bound["mean"] - ising) < 4 * bound["error"]
    assert abs(table["layers"][1]["change_per_spin"]["mean"]) < 1e-9

    # The same with AIS for log Z: zero within the stated error, and the error is small.
    table = free_energy_by_depth(dbn, visible, COUPLING, n_rows=500, n_q_samples=2,
                                 max_exact_units=0, n_ais_runs=100, n_ais_betas=1000)
    for entry in table["layers"]:
        delta = entry["delta_f_per_spin"]
        assert abs(delta["mean"]) < 4 * delta["error"] and delta["error"] < 0.01


@pytest.mark.parametrize("size", [2, 3, 4])
def test_ising_log_likelihood_is_the_boltzmann_probability_of_every_state(size):
    energy, _ = enumerate_torus(size)
    states = np.arange(2 ** (size * size))
    visible = ((states[:, None] >> np.arange(size * size)) & 1).astype(np.float32)
    log_p = ising_log_likelihood(visible, COUPLING)
    np.testing.assert_allclose(
        log_p, -COUPLING * energy - log_partition_function(COUPLING, size), atol=1e-10)
    assert np.log(np.exp(log_p).sum()) == pytest.approx(0.0, abs=1e-10)


# -- consistency, determinism, bad input -----------------------------------------------------------


def test_parts_add_up_and_depth_1_is_the_rbms_log_likelihood():
    dbn = random_dbn((6, 4, 3), scale=1.0, seed=7)
    X = (np.random.default_rng(1).random((50, 6)) < 0.5).astype(np.float32)
    first, second = variational_bounds(dbn, X, n_q_samples=3)
    log_z = exact_log_partition(dbn.rbms_[0])
    assert first.mean == pytest.approx(average_log_likelihood(dbn.rbms_[0], X, log_z), abs=1e-9)
    assert first.n_q_samples == 0 and first.conditional_log_likelihood == ()
    parts = (sum(second.conditional_log_likelihood) + sum(second.posterior_entropy)
             + second.top_log_weight - second.log_z)
    assert second.mean == pytest.approx(parts, abs=1e-9)
    assert second.error == pytest.approx(np.hypot(second.sampling_error, second.log_z_error))
    alone = variational_bound(dbn, X, 2, n_q_samples=3)  # the same draws: top depth is 2 in both
    np.testing.assert_array_equal(alone.per_row, second.per_row)


def test_same_seed_same_bound_other_seed_other_draws():
    dbn = random_dbn((6, 5, 4, 3), scale=1.0, seed=8)
    X = (np.random.default_rng(2).random((600, 6)) < 0.5).astype(np.float32)
    a = variational_bounds(dbn, X, max_exact_units=0, n_ais_runs=10, n_ais_betas=50, seed=3)
    b = variational_bounds(dbn, X, max_exact_units=0, n_ais_runs=10, n_ais_betas=50, seed=3)
    c = variational_bounds(dbn, X, max_exact_units=0, n_ais_runs=10, n_ais_betas=50, seed=4)
    for x, y, z in zip(a, b, c, strict=True):
        np.testing.assert_array_equal(x.per_row, y.per_row)
        assert x.log_z == y.log_z and x.log_z != z.log_z
    assert not np.array_equal(a[2].per_row, c[2].per_row)


def test_bad_input_is_refused_with_one_line_messages():
    dbn = random_dbn((4, 3, 2), scale=1.0, seed=9)
    X = np.zeros((5, 4), np.float32)
    with pytest.raises(IsingRGError, match="binary"):
        variational_bounds(dbn, X + 0.5)
    with pytest.raises(IsingRGError, match="features"):
        variational_bounds(dbn, np.zeros((5, 3)))
    with pytest.raises(IsingRGError, match="depth must be an integer >= 1 and <= 2"):
        variational_bound(dbn, X, 3)
    with pytest.raises(IsingRGError, match="n_q_samples"):
        variational_bounds(dbn, X, n_q_samples=0)
    with pytest.raises(NotFittedError):
        variational_bounds(DBN((3,)), X)
    with pytest.raises(IsingRGError, match="L x L"):
        free_energy_by_depth(dbn, X[:, :3], COUPLING)
    with pytest.raises(IsingRGError, match="coupling"):
        ising_log_likelihood(X, -1.0)

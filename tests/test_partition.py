"""Partition functions: Gray-code enumeration against brute force, AIS against exact."""

from __future__ import annotations

import itertools

import numba
import numpy as np
import pytest

from ising_rg.errors import IsingRGError, NotFittedError
from ising_rg.rbm import (
    BernoulliRBM,
    ais_log_partition,
    average_log_likelihood,
    exact_log_partition,
)
from ising_rg.rbm._enumerate import gray_code_log_partition
from ising_rg.rbm.partition import ais_beta_schedule


def brute_force_log_z(W, b, c) -> float:
    """log sum over all (v, h) of exp(-E(v, h)), E = -b.v - c.h - v.W.h."""
    V = np.array(list(itertools.product([0, 1], repeat=W.shape[0])), float)
    H = np.array(list(itertools.product([0, 1], repeat=W.shape[1])), float)
    log_weight = (V @ b)[:, None] + (H @ c)[None, :] + V @ W @ H.T
    top = log_weight.max()
    return float(top + np.log(np.exp(log_weight - top).sum()))


def random_params(n_visible, n_hidden, scale, seed):
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal((n_visible, n_hidden)) * scale,
        rng.standard_normal(n_visible),
        rng.standard_normal(n_hidden),
    )


# (n_visible, n_hidden): hidden enumerated when it is the smaller layer, visible otherwise
@pytest.mark.parametrize("shape", [(5, 4), (4, 5), (6, 3), (3, 6), (7, 7)])
@pytest.mark.parametrize("chunk_bits", [1, 2, 12])
def test_exact_log_z_matches_brute_force(shape, chunk_bits):
    W, b, c = random_params(*shape, scale=1.5, seed=sum(shape))
    exact = exact_log_partition((W, b, c), chunk_bits=chunk_bits)
    assert exact == pytest.approx(brute_force_log_z(W, b, c), abs=1e-11)


def test_exact_log_z_direct_path_for_huge_inputs():
    """Inputs beyond +-600 switch off the tracked exponentials; the result must not change."""
    W, b, c = random_params(5, 4, scale=200.0, seed=1)
    b = b * 300
    assert exact_log_partition((W, b, c)) == pytest.approx(brute_force_log_z(W, b, c), rel=1e-13)


def test_tracked_and_direct_kernels_agree_on_a_bigger_model():
    W, b, c = random_params(60, 16, scale=0.4, seed=2)
    coupling = np.ascontiguousarray(W.T)
    tracked = gray_code_log_partition(coupling, c, b, 12, True)
    direct = gray_code_log_partition(coupling, c, b, 12, False)
    assert tracked == pytest.approx(direct, abs=1e-10)


def test_exact_log_z_is_identical_for_any_thread_count():
    W, b, c = random_params(40, 14, scale=0.5, seed=3)
    previous = numba.get_num_threads()
    try:
        results = []
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            results.append(exact_log_partition((W, b, c), chunk_bits=6))
    finally:
        numba.set_num_threads(previous)
    assert len(set(results)) == 1


def test_exact_log_z_accepts_a_fitted_rbm_and_refuses_huge_layers():
    X = (np.random.default_rng(0).random((100, 12)) < 0.5).astype(np.float32)
    rbm = BernoulliRBM(5, epochs=2, batch_size=10).fit(X)
    W, b, c = (a.astype(np.float64) for a in (rbm.weights_, rbm.visible_bias_, rbm.hidden_bias_))
    assert exact_log_partition(rbm) == pytest.approx(brute_force_log_z(W, b, c), abs=1e-10)
    with pytest.raises(IsingRGError, match="max_units"):
        exact_log_partition(random_params(30, 30, 0.1, 0), max_units=25)
    with pytest.raises(IsingRGError, match="shapes"):
        exact_log_partition((np.zeros((3, 2)), np.zeros(2), np.zeros(2)))
    with pytest.raises(NotFittedError, match="not fitted"):
        exact_log_partition(BernoulliRBM(3))


def test_average_log_likelihood_matches_brute_force():
    W, b, c = random_params(5, 3, scale=1.0, seed=4)
    rbm = BernoulliRBM.from_parameters(W, b, c)
    W, b, c = (a.astype(np.float64) for a in (rbm.weights_, rbm.visible_bias_, rbm.hidden_bias_))
    X = (np.random.default_rng(1).random((30, 5)) < 0.5).astype(np.float32)
    H = np.array(list(itertools.product([0, 1], repeat=3)), float)
    log_z = brute_force_log_z(W, b, c)
    joint = (X @ b)[:, None] + (H @ c)[None, :] + X @ W @ H.T
    log_p = np.log(np.exp(joint).sum(axis=1)) - log_z
    assert average_log_likelihood(rbm, X, exact_log_partition(rbm)) == pytest.approx(
        log_p.mean(), abs=1e-9
    )


def test_beta_schedule_is_increasing_from_zero_to_one():
    betas = ais_beta_schedule(1000)
    assert betas.shape == (1000,) and betas[0] == 0.0 and betas[-1] == 1.0
    assert np.all(np.diff(betas) > 0)
    # finer steps near beta = 1, as in Salakhutdinov & Murray
    assert np.diff(betas)[-1] < np.diff(betas)[0]


def test_ais_agrees_with_exact_log_z_within_its_error_bars():
    """A non-trivial model: 40 visible x 16 hidden, weights ~ N(0, 0.5^2) (log Z ~ 55)."""
    W, b, c = random_params(40, 16, scale=0.5, seed=7)
    b, c = 0.3 * b, 0.3 * c
    exact = exact_log_partition((W, b, c))
    data = (np.random.default_rng(0).random((500, 40)) < 1 / (1 + np.exp(-b))).astype(np.float32)
    for base, kwargs in (("uniform", {}), ("data-mean", {"data": data})):
        log_z, std_err = ais_log_partition(
            (W, b, c), n_runs=100, n_betas=5000, base=base, seed=1, **kwargs
        )
        assert 0 < std_err < 0.1, base
        assert abs(log_z - exact) < 3 * std_err + 1e-3, (base, log_z, exact, std_err)


def test_ais_rejects_bad_arguments():
    params = random_params(4, 3, 0.1, 0)
    with pytest.raises(IsingRGError, match="data"):
        ais_log_partition(params, base="data-mean")
    with pytest.raises(IsingRGError, match="n_runs"):
        ais_log_partition(params, n_runs=1)
    with pytest.raises(IsingRGError, match="base"):
        ais_log_partition(params, base="nonsense")


@pytest.mark.slow
def test_exact_enumeration_at_the_top_layer_scale_and_ais_agree():
    """The paper's top RBM is 100 x 25: enumeration (2^25 Gray-code states) and AIS agree.

    How long the enumeration takes is a benchmark's business, not a test's.
    """
    W, b, c = random_params(100, 25, scale=0.15, seed=9)
    exact = exact_log_partition((W, b, c))
    log_z, std_err = ais_log_partition((W, b, c), n_runs=50, n_betas=3000, seed=2)
    assert abs(log_z - exact) < 3 * std_err + 1e-3

"""The RBM flow v -> h -> v: trivial RBMs, an RBM that is exactly an Ising model, determinism."""

import math

import numpy as np
import pytest

from ising_rg import exact
from ising_rg.errors import IsingRGError
from ising_rg.rbm.rbm import BernoulliRBM
from ising_rg.rg.flow import effective_temperature, flow_fixed_point, rbm_flow


def make_rbm(weights, visible_bias, hidden_bias):
    return BernoulliRBM.from_parameters(weights, visible_bias, hidden_bias)


def softplus(x):
    return np.logaddexp(0.0, x)


def ising_rbm(size, coupling):
    """An RBM whose marginal is exactly the zero-field Ising model at ``coupling``: one hidden
    unit per bond with weight w on its two sites and bias -w, so each bond contributes
    softplus(w (v_i + v_j - 1)) = const + (w/4)(s_i + s_j) + K s_i s_j with
    K = (2 softplus(w) - w - 2 ln 2) / 4; the visible bias -2w cancels the field."""
    lo, hi = 0.0, 20.0
    for _ in range(100):  # K(w) is increasing
        w = 0.5 * (lo + hi)
        k = (2 * softplus(w) - w - 2 * math.log(2)) / 4
        lo, hi = (w, hi) if k < coupling else (lo, w)
    n = size * size
    bonds = []
    for r in range(size):
        for c in range(size):
            bonds += [(r * size + c, r * size + (c + 1) % size)]
            bonds += [(r * size + c, ((r + 1) % size) * size + c)]
    weights = np.zeros((n, len(bonds)))
    for k, (i, j) in enumerate(bonds):
        weights[i, k] = weights[j, k] = w
    return make_rbm(weights, np.full(n, -2 * w), np.full(len(bonds), -w))


def test_effective_temperature():
    size = 8
    temperature = effective_temperature(exact.energy_per_spin(0.4, size), size)
    assert temperature == pytest.approx(2.5, rel=1e-9)
    assert effective_temperature(0.0, size) == math.inf
    assert effective_temperature(0.3, size) == math.inf
    assert effective_temperature(-2.0, size) == 0.0
    # high-temperature tail beyond the exact inversion's range
    assert effective_temperature(-2 * math.tanh(1e-4), size) == pytest.approx(1e4, rel=1e-6)
    out = effective_temperature(np.array([np.nan, -2.5, -1.0]), size)
    assert np.isnan(out[0]) and np.isnan(out[1]) and 2.0 < out[2] < 10.0
    with pytest.raises(IsingRGError):
        effective_temperature(-1.0, 1)


def test_zero_rbm_randomises_in_one_step():
    size = 40
    rbm = make_rbm(np.zeros((size * size, 400)), np.zeros(size * size), np.zeros(400))
    out = rbm_flow(rbm, size, n_chains=200, n_steps=3, start="up", seed=1)
    assert out["energy_per_spin"][0] == -2.0 and out["abs_magnetization"][0] == 1.0
    e, e_err = out["energy_per_spin"][1:], out["energy_per_spin_error"][1:]
    assert np.all(np.abs(e) < 5 * e_err) and np.all(e_err < 0.005)
    # independent spins: <|m|> = sqrt(2 / (pi N)) = 0.02 = O(1/L)
    np.testing.assert_allclose(
        out["abs_magnetization"][1:], math.sqrt(2 / (math.pi * 1600)), rtol=0.15
    )
    summary = flow_fixed_point(out, size)
    assert summary["effective_temperature"] > 50
    assert out["final_spins"].shape == (200, size, size) and out["final_spins"].dtype == np.int8
    mean_field = rbm_flow(rbm, size, n_chains=200, n_steps=2, start="up", stochastic=False)
    assert abs(mean_field["energy_per_spin"][-1]) < 0.01


def test_large_visible_bias_keeps_all_up():
    size = 16
    rbm = make_rbm(np.zeros((size * size, 20)), np.full(size * size, 30.0), np.zeros(20))
    for start in ("up", "random"):
        out = rbm_flow(rbm, size, n_chains=20, n_steps=5, start=start, seed=0)
        assert np.all(out["energy_per_spin"][1:] == -2.0)
        assert np.all(out["abs_magnetization"][1:] == 1.0)
    summary = flow_fixed_point(out, size)
    assert summary["energy_per_spin"] == -2.0 and summary["effective_temperature"] == 0.0


def test_ising_rbm_flows_to_its_exact_equilibrium():
    size, coupling = 8, 0.3
    rbm = ising_rbm(size, coupling)
    runs = {
        start: rbm_flow(rbm, size, n_chains=400, n_steps=60, start=start, seed=3)
        for start in ("up", "random")
    }
    summary = flow_fixed_point(runs, size)
    assert summary["converged"]
    target = exact.energy_per_spin(coupling, size)
    for start in runs:
        s = summary["starts"][start]
        assert abs(s["energy_per_spin"] - target) < 4 * s["energy_per_spin_error"]
        assert s["effective_temperature"] == pytest.approx(1 / coupling, rel=0.1)
        low, high = s["effective_temperature_range"]
        assert low < s["effective_temperature"] < high
    # a different model is told apart: the all-up start of a strongly coupled RBM stays ordered
    cold = rbm_flow(ising_rbm(size, 0.8), size, n_chains=100, n_steps=20, start="up", seed=3)
    mixed = flow_fixed_point({"hot": runs["up"], "cold": cold}, size)
    assert not mixed["converged"] and mixed["max_energy_difference_sigma"] > 10


def test_deterministic_given_seed():
    rng = np.random.default_rng(0)
    size = 6
    rbm = make_rbm(rng.normal(0, 0.5, (36, 10)), rng.normal(0, 0.1, 36), rng.normal(0, 0.1, 10))
    for stochastic in (True, False):
        a = rbm_flow(
            rbm, size, n_chains=10, n_steps=5, start="random", seed=5, stochastic=stochastic
        )
        b = rbm_flow(
            rbm, size, n_chains=10, n_steps=5, start="random", seed=5, stochastic=stochastic
        )
        c = rbm_flow(
            rbm, size, n_chains=10, n_steps=5, start="random", seed=6, stochastic=stochastic
        )
        np.testing.assert_array_equal(a["energy_per_spin_chains"], b["energy_per_spin_chains"])
        np.testing.assert_array_equal(a["final_spins"], b["final_spins"])
        assert not np.array_equal(a["energy_per_spin_chains"], c["energy_per_spin_chains"])
    data = (rng.random((4, 36)) < 0.5).astype(np.float32)
    out = rbm_flow(rbm, size, n_steps=2, start=data)
    assert out["settings"]["n_chains"] == 4 and out["settings"]["start"] == "array"
    with pytest.raises(IsingRGError):
        rbm_flow(rbm, 5)
    with pytest.raises(IsingRGError):
        rbm_flow(rbm, size, start="sideways")
    with pytest.raises(IsingRGError):
        rbm_flow(rbm, size, start=np.full((2, 36), 0.5))

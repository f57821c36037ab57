"""The RBM flow v -> h -> v: trivial RBMs, an RBM that is exactly an Ising model, determinism."""

import math

import numpy as np
import pytest

from ising_rg import exact
from ising_rg.diagnostics.rbm_flow import (
    effective_temperature,
    flow_fixed_point,
    flow_temperatures,
    rbm_flow,
    window_start,
)
from ising_rg.diagnostics.thermometry import abs_magnetization_calibration
from ising_rg.errors import IsingRGError
from ising_rg.estimators.convergence import split_rhat
from ising_rg.exact import enumeration as exact_enumeration
from ising_rg.rbm.rbm import BernoulliRBM
from ising_rg.sampling.observables import energy_per_spin
from ising_rg.sampling.sampler import sample
from ising_rg.settings import SampleOptions


def make_rbm(weights, visible_bias, hidden_bias):
    return BernoulliRBM.from_parameters(weights, visible_bias, hidden_bias)


def ising_rbm(size, coupling):
    """An RBM whose visible marginal is exactly the zero-field L x L Ising model at ``coupling``.

    One hidden unit per bond (i, j) with weight w to both sites and bias -w: summing it out
    gives ln(1 + e^{w (v_i + v_j - 1)}) = const + (w/4)(s_i + s_j) + K s_i s_j with
    e^{2K} = cosh(w/2), i.e. w = 2 arccosh(e^{2K}); each site sits on 4 bonds, so the
    visible bias -2w cancels the field w s_i.
    """
    w = 2 * math.acosh(math.exp(2 * coupling))
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
    # and R-hat over the two sets of tail chains sees it too (on the equal runs' 12-step tails
    # it is merely finite: a window shorter than the autocorrelation time cannot pass it)
    assert mixed["rhat"]["energy_per_spin"] > 2 and np.isfinite(summary["rhat"]["energy_per_spin"])


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


def test_ising_rbm_marginal_is_the_ising_model():
    """The known-answer RBM used below: -F(v) = -K E(s) + const over all 2^9 states of 3 x 3."""
    size, coupling = 3, 0.37
    energy, _ = exact_enumeration.enumerate_torus(size)  # bit i of state j set = spin up at site i
    states = ((np.arange(2**9)[:, None] >> np.arange(9)) & 1).astype(np.float32)
    difference = -ising_rbm(size, coupling).free_energy(states) + coupling * energy
    np.testing.assert_allclose(difference - difference.mean(), 0.0, atol=1e-5)


def test_split_rhat_known_values():
    # halves [1, 2] and [3, 4]: B = 2 var([1.5, 3.5]) = 4, W = 0.5, var+ = W / 2 + B / 2 = 2.25
    assert split_rhat(np.array([[1.0, 2.0, 3.0, 4.0]])) == pytest.approx(math.sqrt(4.5))
    # odd length: the middle draw is dropped
    assert split_rhat(np.array([[1.0, 2.0, 50.0, 3.0, 4.0]])) == pytest.approx(math.sqrt(4.5))
    assert split_rhat(np.full((3, 10), 2.5)) == 1.0
    assert split_rhat(np.repeat([[1.0], [2.0]], 10, axis=1)) == math.inf
    for bad in (np.zeros((2, 3)), np.zeros(10), np.array([[0.0, 1.0, np.nan, 2.0]])):
        with pytest.raises(IsingRGError):
            split_rhat(bad)


def test_split_rhat_detects_disagreeing_starts_and_drift():
    rng = np.random.default_rng(0)
    iid = rng.normal(size=(8, 2000))
    assert split_rhat(iid) < 1.01
    assert split_rhat(iid + 0.5 * np.arange(8)[:, None]) > 1.2  # starts that disagree
    # every chain drifting alike: the chain means agree, only the split halves see it
    assert split_rhat(iid + np.linspace(0.0, 4.0, 2000)) > 1.2


def test_several_starts_and_the_stopping_rule():
    rng = np.random.default_rng(0)
    size = 6
    rbm = make_rbm(rng.normal(0, 0.3, (36, 10)), rng.normal(0, 0.1, 36), rng.normal(0, 0.1, 10))
    spins = np.where(rng.random((5, size, size)) < 0.5, 1, -1).astype(np.int8)
    visible = ((spins.reshape(5, -1) + 1) // 2).astype(np.float32)
    kwargs = {"n_chains": 4, "seed": 7}
    run = rbm_flow(rbm, size, n_steps=40, start={"mc": spins, "random": "random", "up": "up"},
                   **kwargs)
    same = rbm_flow(rbm, size, n_steps=40, start={"mc": visible, "random": "random", "up": "up"},
                    **kwargs)
    np.testing.assert_array_equal(run["energy_per_spin_chains"], same["energy_per_spin_chains"])
    assert [run["by_start"][name]["chains"] for name in ("mc", "random", "up")] == [
        [0, 5], [5, 9], [9, 13]]
    assert run["settings"]["n_chains"] == 13 and run["settings"]["start"] == ["mc", "random", "up"]
    np.testing.assert_array_equal(run["energy_per_spin_chains"][0, 9:], -2.0)
    np.testing.assert_array_equal(run["energy_per_spin_chains"][0, :5], energy_per_spin(spins))
    np.testing.assert_allclose(run["by_start"]["mc"]["abs_magnetization"],
                               run["abs_magnetization_chains"][:, :5].mean(axis=1))
    np.testing.assert_allclose(run["energy_fluctuation"],
                               36 * run["energy_per_spin_chains"].var(axis=1, ddof=1))
    assert run["settings"]["n_steps"] == 40 and run["rhat_history"] == []
    assert np.isfinite(run["rhat"]["energy_per_spin"]) and window_start(40) == 20
    # checking costs no random numbers: a run stopped at step 10 is the start of the long one
    stopped = rbm_flow(rbm, size, n_steps=40, start={"mc": spins, "random": "random", "up": "up"},
                       check_every=10, rhat_threshold=100.0, **kwargs)
    assert stopped["settings"]["n_steps"] == 10 and stopped["converged"]
    assert [entry["step"] for entry in stopped["rhat_history"]] == [10]
    np.testing.assert_array_equal(stopped["energy_per_spin_chains"],
                                  run["energy_per_spin_chains"][:11])
    # too short to judge: R-hat needs 4 steps in the second half
    short = rbm_flow(rbm, size, n_steps=5, start="random", **kwargs)
    assert math.isnan(short["rhat"]["energy_per_spin"]) and not short["converged"]
    for bad in ({"start": {}}, {"start": {"s": np.zeros((2, size, size))}},
                {"check_every": 0}, {"rhat_threshold": 1.0}):
        with pytest.raises(IsingRGError):
            rbm_flow(rbm, size, n_steps=5, **bad)


@pytest.fixture(scope="module")
def table_l8():
    return abs_magnetization_calibration(8, seed=0)


def monte_carlo_starts(size, temperatures, n_per_temperature, seed):
    return {
        f"T={t:g}": sample(
            SampleOptions(size, 1 / t, n_per_temperature, "wolff", seed=seed + i)).spins
        for i, t in enumerate(temperatures)
    }


def assert_within(readout_value, one_error_range, truth, n_errors=4):
    lo, hi = one_error_range
    assert readout_value - n_errors * (readout_value - lo) < truth
    assert truth < readout_value + n_errors * (hi - readout_value)


@pytest.mark.slow  # ~600 flow steps of 128 chains each, plus Monte Carlo starts
@pytest.mark.parametrize("coupling", [0.3, 0.6])  # T above / below the C peak (2.46 at L = 8)
def test_exact_ising_rbm_flow_stays_at_its_temperature(coupling, table_l8):
    size, temperature = 8, 1 / coupling
    starts = monte_carlo_starts(size, (1.5, temperature, 5.0), 32, seed=11)
    starts["random"] = "random"
    run = rbm_flow(ising_rbm(size, coupling), size, n_chains=32, n_steps=4000, start=starts,
                   seed=1, check_every=50)
    assert run["converged"] and max(run["rhat"].values()) < 1.05
    assert run["settings"]["n_steps"] < 4000
    state = flow_temperatures(run, size, calibration=table_l8)
    # every observable at its Ising value at T: exact E and N var(E/N) = T^2 C/N (Kaufman),
    # Monte Carlo |m| (the table), within 4 combined errors
    e, m, f = (state[key] for key in ("energy_per_spin", "abs_magnetization",
                                      "energy_fluctuation"))
    assert abs(e["mean"] - exact.energy_per_spin(coupling, size)) < 4 * e["error"]
    f_exact = exact.specific_heat_per_spin(coupling, size) / coupling**2
    assert abs(f["mean"] - f_exact) < 4 * f["error"]
    m_table, m_table_error = table_l8.curve(coupling)
    assert abs(m["mean"] - m_table) < 4 * math.hypot(m["error"], m_table_error)
    # so each of the three readouts gives T within its errors, C on the right branch
    for key in ("temperature_from_energy", "temperature_from_abs_magnetization"):
        assert_within(state[key]["value"], state[key]["range"], temperature)
    from_c = state["temperature_from_specific_heat"]
    branch = "low" if temperature < from_c["peak_temperature"] else "high"
    assert_within(from_c[branch], from_c[branch + "_range"], temperature)
    assert from_c["side"] == ("below peak" if branch == "low" else "above peak")
    assert state["ising_state"] is True and state["verdict"].startswith("an Ising state")
    assert state["best_temperature"] == pytest.approx(temperature, rel=0.02)


def test_product_model_is_not_an_ising_state(table_l8):
    size, m0 = 8, 0.6
    field = math.log((1 + m0) / (1 - m0))  # P(v = 1) = (1 + m0) / 2 at every site
    biased = make_rbm(np.zeros((64, 4)), np.full(64, field), np.zeros(4))
    starts = monte_carlo_starts(size, (1.5, 3.0), 100, seed=21)
    starts["random"] = "random"
    run = rbm_flow(biased, size, n_chains=100, n_steps=1000, start=starts, seed=2,
                   check_every=20)
    assert run["converged"]
    state = flow_temperatures(run, size, calibration=table_l8)
    # the measurements are right for independent spins of mean m0: <s_i s_j> = m0^2, and the
    # 12 ordered pairs of bonds sharing a site have covariance m0^2 - m0^4
    e, m, f = (state[key] for key in ("energy_per_spin", "abs_magnetization",
                                      "energy_fluctuation"))
    assert abs(e["mean"] + 2 * m0**2) < 4 * e["error"]
    assert abs(m["mean"] - m0) < 4 * m["error"]
    assert abs(f["mean"] - (2 * (1 - m0**4) + 12 * (m0**2 - m0**4))) < 4 * f["error"]
    # E reads T ~ 3.3, |m| reads T ~ 2.5: many errors apart
    t_e, t_m = state["temperature_from_energy"], state["temperature_from_abs_magnetization"]
    half_widths = [(r["range"][1] - r["range"][0]) / 2 for r in (t_e, t_m)]
    assert t_e["value"] - t_m["value"] > 10 * math.hypot(*half_widths)
    assert state["ising_state"] is False and state["verdict"].startswith("not an Ising state")
    # zero weights and zero biases: independent fair spins, which *is* the Ising model at
    # T = inf (K = 0), and the verdict says so
    fair = make_rbm(np.zeros((64, 4)), np.zeros(64), np.zeros(4))
    run = rbm_flow(fair, size, n_chains=100, n_steps=1000, start=starts, seed=3, check_every=20)
    state = flow_temperatures(run, size, calibration=table_l8)
    assert state["ising_state"] is True and state["best_temperature"] > 20


def test_unconverged_flow_reads_no_temperature(table_l8):
    size = 8
    run = rbm_flow(ising_rbm(size, 0.6), size, n_chains=32, n_steps=20,
                   start={"up": "up", "random": "random"}, seed=4)
    assert not run["converged"]
    state = flow_temperatures(run, size, calibration=table_l8)
    assert state["ising_state"] is None and state["verdict"].startswith("not converged")
    assert state["window"] == [10, 20] and state["n_steps"] == 20

"""Parallel tempering of RBMs against exact answers: Kaufman's finite torus, planted modes.

* The exact Ising RBM (``ising_rbm``): its visible marginal is the Ising model at K, so every
  start must give Kaufman's E/N and C/N (``ising_rg.exact``) within the measured errors.
* A DBN made of the Ising RBM and its transpose generates exactly the Ising model (the top
  RBM's visible marginal is the first RBM's hidden marginal), so the down-pass measure must
  give Kaufman's E/N too.
* ``two_modes`` (tests/test_log_partition.py), 100 visible units: mirror-image modes at
  m = +-0.9 with exact weights 0.3 / 0.7; the fraction of draws with m > 0 must match.
* ``planted_dominant``: a broad mode and a sharp all-down mode 50 nats heavier, separated by a
  first-order jump along beta; chains from the data and from all-down disagree, and the
  sampler must say so (not converged, both modes listed by start).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from ising_rg import exact
from ising_rg.diagnostics.state_measures import down_pass_measure, lattice_measure
from ising_rg.errors import IsingRGError
from ising_rg.rbm import DBN, BernoulliRBM, ising_rbm
from ising_rg.rbm.log_partition import log_partition
from ising_rg.rbm.tempering import equilibrium_modes, parallel_tempering
from ising_rg.sampling.observables import thermodynamics
from tests.planted_rbms import planted_data, planted_dominant, two_modes

K_PAPER = 0.408


def _group(result, kind: str, name: str) -> np.ndarray:
    """The window series of one start kind's chains, chain after chain."""
    rows = [i for i, k in enumerate(result.kinds) if k == kind]
    return result.series[name][rows].ravel()


@pytest.mark.slow
def test_exact_ising_rbm_reproduces_kaufman_from_every_start():
    size = 16
    result = parallel_tempering(ising_rbm(size, K_PAPER), measure=lattice_measure(size), seed=0,
                                starts=("up", "down", "random"), n_chains_per_start=3,
                                block_sweeps=500, max_sweeps=30000)
    assert result.converged and result.stopped == "converged"
    assert max(result.rhat.values()) < 1.01 and min(result.bulk_ess.values()) >= 400
    # the tuned ladder: every pair swaps (the barrier is spread evenly)
    assert result.swap_acceptance.min() > 0.3 and result.hot_to_cold.min() > 10
    e_exact = exact.energy_per_spin(K_PAPER, size)
    c_exact = exact.specific_heat_per_spin(K_PAPER, size)
    for kind in ("up", "down", "random"):
        thermo = thermodynamics(_group(result, kind, "energy_per_spin"),
                                _group(result, kind, "magnetization"), K_PAPER, size * size)
        e, c = thermo["energy_per_spin"], thermo["specific_heat"]
        assert abs(e["mean"] - e_exact) < 3 * e["error"], (kind, e, e_exact)
        assert abs(c["mean"] - c_exact) < 3 * c["error"], (kind, c, c_exact)
        assert e["error"] < 0.02 and c["error"] < 0.15  # the checks are not empty
    # symmetric modes m > 0 and m < 0, equal weights within errors
    assert [m["sign"] for m in result.modes] == [-1, 1]
    up = result.modes[1]
    assert abs(up["weight"] - 0.5) < 3 * up["weight_error"]


@pytest.mark.slow
def test_dbn_of_the_ising_rbm_and_its_transpose_generates_the_ising_model():
    size = 8
    first = ising_rbm(size, K_PAPER)
    top = BernoulliRBM.from_parameters(first.weights_.T, first.hidden_bias_,
                                       first.visible_bias_)
    dbn = DBN.from_rbms([first, top])
    result = parallel_tempering(top, measure=down_pass_measure(dbn, size), seed=1,
                                starts=("up", "down", "random"), n_chains_per_start=2,
                                block_sweeps=500, max_sweeps=12000)
    assert result.converged
    thermo = thermodynamics(result.series["energy_per_spin"].ravel(),
                            result.series["magnetization"].ravel(), K_PAPER, size * size)
    e = thermo["energy_per_spin"]
    assert abs(e["mean"] - exact.energy_per_spin(K_PAPER, size)) < 3 * e["error"]
    assert e["error"] < 0.02


def test_planted_two_mode_weights_match_exact_enumeration():
    rbm, _, up_share = two_modes(0.3, n=100)
    result = parallel_tempering(rbm, seed=0, starts=("up", "down", "random"),
                                n_chains_per_start=4, block_sweeps=250, max_sweeps=8000)
    assert result.converged
    down, up = result.modes
    assert down["sign"] == -1 and up["sign"] == 1
    assert equilibrium_modes(result, None)["modes"][1] == up
    assert abs(up["weight"] - up_share) < 3 * up["weight_error"], (up, up_share)
    assert up["weight_error"] < 0.03
    assert up["abs_magnetization"] == pytest.approx(0.905, abs=0.02)


def test_modes_behind_a_first_order_jump_are_reported_not_averaged():
    rbm, _ = planted_dominant(lead=50.0, n_visible=400, n_hidden=6)
    data = planted_data(rbm, n=50)
    result = parallel_tempering(rbm, data, seed=2, starts=("down", "data"),
                                n_chains_per_start=2, tune_sweeps=(50, 100),
                                block_sweeps=100, max_sweeps=400)
    assert not result.converged and result.stopped == "budget"
    assert result.rhat["magnetization"] > 1.1
    by_start = result.by_start
    assert by_start["down"]["magnetization"]["mean"] < -0.8
    assert abs(by_start["data"]["magnetization"]["mean"]) < 0.2
    assert [m["sign"] for m in result.modes] == [-1, 1]
    assert all(m["weight"] is None for m in result.modes)  # not measured: not converged
    # the chains form two modes; the mixture-AIS shares give their weights: all down
    assert len(result.chain_modes) == 2
    estimate = log_partition(rbm, data, seed=2, max_exact_units=0, n_runs=16, n_betas=300,
                             pilot_betas=100, explore_steps=100)
    equilibrium = equilibrium_modes(result, estimate)
    assert equilibrium["source"] == "mixture AIS"
    heavy = max(equilibrium["modes"], key=lambda m: m["weight"])
    assert heavy["weight"] == pytest.approx(1.0) and heavy["magnetization"] < -0.8
    assert "down" in heavy["kinds"] and "data" not in heavy["kinds"]


def test_mode_weights_from_ais_shares_carry_errors_that_cover_the_exact_weight():
    """Chains that cannot cross (two rungs near beta = 1) leave the two-mode RBM's modes
    unweighed by the sampler; the mixture-AIS shares weigh them, each with the delta-method
    error of its bases' summed share (calibrated over seeds in tests/test_log_partition.py),
    and the exact weight (enumeration) lies within 3 of those errors."""
    rbm, _, up_share = two_modes(0.3)
    result = parallel_tempering(rbm, seed=1, starts=("up", "down"), n_chains_per_start=2,
                                n_rungs=2, beta_min=0.95, tune_sweeps=(20,), block_sweeps=20,
                                max_sweeps=40)
    assert not result.converged and len(result.chain_modes) == 2
    estimate = log_partition(rbm, seed=1, max_exact_units=0, n_runs=40, n_betas=300,
                             pilot_betas=100, explore_steps=100)
    equilibrium = equilibrium_modes(result, estimate)
    assert equilibrium["source"] == "mixture AIS"
    up = max(equilibrium["modes"], key=lambda m: m["magnetization"])
    assert 0 < up["weight_error"] < 0.01
    assert abs(up["weight"] - up_share) < 3 * up["weight_error"], (up, up_share)


def test_without_ais_shares_modes_are_not_weighed_unless_there_is_one():
    """log Z enumerated exactly leaves no AIS shares: the first-order case's two chain modes
    stay unweighed (None, not 0), and a chain mode that every start reached weighs 1."""
    rbm, _ = planted_dominant(lead=50.0, n_visible=400, n_hidden=6)
    data = planted_data(rbm, n=50)
    result = parallel_tempering(rbm, data, seed=2, starts=("down", "data"),
                                n_chains_per_start=2, tune_sweeps=(50, 100),
                                block_sweeps=100, max_sweeps=400)
    exact_estimate = log_partition(rbm, data, seed=2)
    assert exact_estimate.method == "exact" and not exact_estimate.bases
    assert not result.converged and len(result.chain_modes) == 2
    equilibrium = equilibrium_modes(result, exact_estimate)
    assert [m["weight"] for m in equilibrium["modes"]] == [None, None]
    assert "enumerated exactly" in equilibrium["source"]
    # one mode: a weakly coupled RBM (exact log Z) stopped before its ESS reaches 400
    weights = np.random.default_rng(3).normal(0.0, 0.05, size=(64, 6))
    hot = BernoulliRBM.from_parameters(weights, np.zeros(64), np.zeros(6))
    short = parallel_tempering(hot, seed=3, starts=("up", "down", "random"),
                               n_chains_per_start=2, tune_sweeps=(20,), block_sweeps=20,
                               max_sweeps=20)
    assert not short.converged and len(short.chain_modes) == 1
    single = equilibrium_modes(short, log_partition(hot, seed=3))
    assert single["source"] == "the only mode every start reached"
    assert single["modes"][0]["weight"] == 1.0
    assert sorted(single["modes"][0]["kinds"]) == ["down", "random", "up"]


def test_same_seed_same_result():
    rbm, _, _ = two_modes(0.5, n=64)
    options = dict(seed=4, starts=("up", "random"), tune_sweeps=(20,), block_sweeps=20,
                   max_sweeps=40)
    first = parallel_tempering(rbm, **options).to_dict(with_series=True)
    second = parallel_tempering(rbm, **options).to_dict(with_series=True)
    assert first.pop("seconds") > 0 and second.pop("seconds") > 0
    assert first == second
    json.dumps(first, allow_nan=False)  # JSON-ready as it is


@pytest.mark.parametrize("option, value, message", [
    ("starts", ("sideways",), "start kinds"), ("starts", ("data",), "needs data"),
    ("beta_min", 1.0, "beta_min"), ("n_rungs", 1, "n_rungs"), ("block_sweeps", 4, "block"),
    ("max_sweeps", 10, "max_sweeps"), ("n_chains_per_start", 0, "n_chains_per_start"),
    ("extra_starts", {"up": np.ones((1, 16))}, "extra start names"),
    ("extra_starts", {"mine": np.full((1, 16), 0.5)}, "binary")])
def test_bad_options_raise_one_line_errors(option, value, message):
    rbm, _, _ = two_modes(0.5, n=16)
    kwargs = {"starts": ("up",), option: value}
    with pytest.raises(IsingRGError, match=message):
        parallel_tempering(rbm, **kwargs)

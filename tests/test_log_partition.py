"""log Z that cannot silently miss a mode: mixture AIS and the bound, on RBMs with exact log Z.

The planted cases (built in tests/planted_rbms.py) are shaped like the failure they guard
against (the paper-recipe network at L = 40: an all-down mode e^416 heavier than the basin the
data's chains stay in):

* ``planted_dominant``: 1600 visible x 10 hidden. Nine hidden units with random weights make a
  broad data-like mode; hidden unit 0 has weight -6 to every visible unit and a bias that puts
  a sharp all-down mode ``lead`` nats above the rest. Exact log Z: sum over unit 0 off (the
  9-unit model) and on (the 9-unit model with visible biases b - 6, times e^c0), each by
  enumeration. Gibbs chains from data never switch unit 0 on (its input is c0 - 6 k with
  k ~ 800 units on).
* ``two_modes``: 400 visible, 2 hidden units with equal weights to every site (an "up" unit
  +3 and a "down" unit -3): -F depends on k = sum v only, so log Z and the weight of each
  mode (k > n/2 or k < n/2) are exact sums over k. The modes sit at k ~ 19 and ~ 381, e^100s
  apart in barrier.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ising_rg.errors import IsingRGError
from ising_rg.rbm import BernoulliRBM, exact_log_partition, ising_rbm, ising_rbm_log_partition
from ising_rg.rbm.log_partition import check_estimate, log_partition, visited_bound
from ising_rg.rbm.mixture_ais import mixture_ais, summarize_runs
from ising_rg.rbm.modes import Base, cluster_chains
from ising_rg.rbm.partition import ais_beta_schedule, ais_estimate
from ising_rg.rbm.scaled import ScaledRBM
from tests.planted_rbms import planted_data, planted_dominant, two_modes

K_PAPER = 0.408


# ---------------------------------------------------------------------------------------------


def test_old_data_rate_ais_misses_the_planted_mode_and_mixture_ais_finds_it():
    rbm, exact = planted_dominant()
    data = planted_data(rbm)
    old = ais_estimate(rbm, data=data, n_runs=40, n_betas=500, seed=0)
    # the old estimate is ~50 nats low while its seeds agree within their error bar ...
    assert old["log_z"] < exact - 40 and old["error"] < 1.0
    # ... and the bound catches it: the all-down state alone outweighs it
    bound = visited_bound(rbm, data)
    assert bound.source == "all-down" and bound.value <= exact
    assert not check_estimate(old["log_z"], old["error"], bound)

    new = log_partition(rbm, data, seed=0, max_exact_units=0, n_runs=40, n_betas=500,
                        pilot_betas=200)
    assert new.method == "mixture AIS" and new.bound_ok
    assert abs(new.log_z - exact) < 3 * new.error + 1e-6, (new.log_z, exact, new.error)
    assert new.error < 0.1
    kept = [b for b in new.bases if b.kept]
    # one mode kept: the chains from all-down, sharp at m = -0.995; it holds all the weight
    assert len(kept) == 1 and kept[0].name.startswith("down (m=-0.99")
    assert kept[0].share == pytest.approx(1.0) and kept[0].end_magnetization < -0.99
    # the data-like bases were dropped: their pilot contributions are ~50 nats lower
    dropped = [b for b in new.bases if not b.kept]
    assert dropped[0].name == "data rate"
    assert max(b.pilot_log_contribution for b in dropped) < exact - 30
    # the equilibrium states resampled from the AIS runs are all in the dominant mode
    assert new.equilibrium_states.shape == (64, 1600)
    assert np.all(new.equilibrium_states.mean(axis=1) < 0.01)


def test_mixture_counts_each_mode_once_where_sum_and_max_of_separate_runs_fail():
    rbm, exact, up_share = two_modes(0.3)
    scaled = ScaledRBM(rbm)
    n = scaled.n_visible
    up, down = Base("up", np.full(n, 0.95)), Base("down", np.full(n, 0.05))
    betas = ais_beta_schedule(500)

    def run(bases, seed):
        return summarize_runs([mixture_ais(scaled, bases, 40, betas, np.random.default_rng(s))
                               for s in (seed, seed + 100)])

    mixture = run([up, down, down], 1)  # the down mode has two bases
    assert abs(mixture["log_z"] - exact) < 3 * mixture["error"] + 1e-6
    assert mixture["error"] < 0.05
    # the strata's shares are the modes' weights
    assert mixture["share"][0] == pytest.approx(up_share, abs=3 * 0.05 * up_share)
    separate = [run([base], seed) for base, seed in ((up, 2), (down, 3), (down, 4))]
    estimates = np.array([s["log_z"] for s in separate])
    errors = np.array([s["error"] for s in separate])
    # summing counts the down mode twice: ln(0.3 + 2 * 0.7) = ln 1.7 too high
    summed = float(np.logaddexp.reduce(estimates))
    assert summed - exact == pytest.approx(math.log(1 + (1 - up_share)),
                                           abs=3 * errors.max() + 1e-3)
    # the best single base drops the up mode: ln 0.7 too low
    assert estimates.max() - exact == pytest.approx(math.log(1 - up_share),
                                                    abs=3 * errors.max() + 1e-3)


@pytest.mark.parametrize("shape, scale, seed", [((14, 12), 1.0, 0), ((12, 14), 2.0, 1),
                                                 ((16, 10), 2.5, 2)])
def test_small_enumerable_rbms(shape, scale, seed):
    rng = np.random.default_rng(seed)
    W = scale * rng.standard_normal(shape)
    b, c = 0.5 * rng.standard_normal(shape[0]), 0.5 * rng.standard_normal(shape[1])
    rbm = BernoulliRBM.from_parameters(W, b, c)
    exact = exact_log_partition(rbm)
    estimate = log_partition(rbm, seed=seed, max_exact_units=0, n_runs=60, n_betas=1000,
                             pilot_betas=200, explore_steps=100)
    assert abs(estimate.log_z - exact) < 3 * estimate.error + 1e-6, (estimate.log_z, exact)
    assert estimate.bound_ok and estimate.bound <= exact + 1e-9


def test_exact_branch_and_the_bound():
    rbm, exact = planted_dominant(n_hidden=8)
    result = log_partition(rbm, planted_data(rbm), seed=0)
    assert result.method == "exact" and result.log_z == exact_log_partition(rbm)
    assert result.error == 0 and result.bound_ok and result.bound <= result.log_z
    assert result.to_dict()["bound_margin"] == pytest.approx(result.log_z - result.bound)


@pytest.mark.slow
def test_exact_ising_rbm_keeps_its_closed_form():
    """L = 16, K = 0.408 (256 x 512): one paramagnetic mode; every base lands in it."""
    rbm = ising_rbm(16, K_PAPER)
    truth = ising_rbm_log_partition(16, K_PAPER)
    result = log_partition(rbm, seed=0, n_runs=100, n_betas=3000)
    assert abs(result.log_z - truth) < 3 * result.error, (result.log_z, truth, result.error)
    assert result.error < 0.3 and result.bound_ok


def test_same_seed_same_result_and_extra_states_become_bases():
    rbm, _, _ = two_modes(0.5, n=100)
    extra = np.ones((3, 100), np.float32)
    options = dict(seed=3, max_exact_units=0, n_runs=8, n_betas=50, pilot_betas=20,
                   explore_chains=2, explore_steps=10, extra_states=extra)
    first = log_partition(rbm, **options).to_dict()
    second = log_partition(rbm, **options).to_dict()
    first.pop("seconds"), second.pop("seconds")
    assert first == second
    json.dumps(first, allow_nan=False)  # JSON-ready as it is
    assert "extra m>0" in [b["name"] for b in first["bases"]]


@pytest.mark.parametrize("option, value, message", [
    ("n_runs", 1, "n_runs"), ("n_betas", 2, "n_betas"), ("n_seeds", 1, "n_seeds"),
    ("prune_margin", 0.0, "prune_margin"), ("seed", -1, "seed"),
    ("extra_states", np.full((2, 100), 0.5), "binary"),
    ("max_exact_units", 41, "max_exact_units")])
def test_bad_options_raise_one_line_errors(option, value, message):
    rbm, _, _ = two_modes(0.5, n=100)
    with pytest.raises(IsingRGError, match=message):
        log_partition(rbm, **{"max_exact_units": 0, option: value})
    with pytest.raises(IsingRGError, match="data"):
        log_partition(rbm, np.zeros((4, 7)))


def test_cluster_chains_links_chains_whose_means_agree_within_their_spread():
    means = np.array([[0.02, -2250.0], [0.05, -2255.0], [-0.98, -3211.0], [-0.985, -3210.0],
                      [0.40, -2000.0]])
    spreads = np.array([[0.1, 20.0], [0.1, 20.0], [0.005, 3.0], [0.005, 3.0], [0.1, 20.0]])
    assert cluster_chains(means, spreads).tolist() == [0, 0, 1, 1, 2]
    # a chain between two others links them (single linkage)
    bridged = np.vstack([means[:2], [[0.22, -2120.0]], means[4:]])
    assert cluster_chains(bridged, np.full((4, 2), [0.1, 80.0])).tolist() == [0, 0, 0, 0]


def test_share_errors_match_the_scatter_of_shares_over_seeds():
    """The strata's shares carry delta-method errors: on the two-mode RBM (exact up share by
    enumeration) the squared pulls (share - exact) / error over 8 independent seeds average
    like chi^2_8 / 8, inside its 0.1 % and 99.9 % quantiles (0.17, 3.27); too small errors
    (or shares off the exact weight) push the mean up, errors blown up push it down."""
    rbm, _, up_share = two_modes(0.3)
    scaled = ScaledRBM(rbm)
    n = scaled.n_visible
    bases = [Base("up", np.full(n, 0.95)), Base("down", np.full(n, 0.05))]
    betas = ais_beta_schedule(300)
    pulls = []
    for seed in range(8):
        summary = summarize_runs([mixture_ais(scaled, bases, 20, betas,
                                              np.random.default_rng(seed))])
        share, error = summary["share"][0], summary["share_error"][0]
        assert summary["share_error"][1] == pytest.approx(error)  # two strata: s and 1 - s
        assert 0 < error < 0.05
        pulls.append((share - up_share) / error)
    assert 0.17 < np.mean(np.square(pulls)) < 3.27, pulls

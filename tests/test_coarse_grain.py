"""Coarse-grainers: majority and decimation by hand, the DBN map on a network built to be
majority rule (placement, signs, sampling, dead and non-local units), bad input."""

import math

import numpy as np
import pytest

from ising_rg.errors import IsingRGError
from ising_rg.rbm.dbn import DBN
from ising_rg.rbm.rbm import BernoulliRBM
from ising_rg.rg.coarse_grain import (
    CoarseGrainer,
    DBNCoarseGrainer,
    Decimation,
    Majority,
    coarse_levels,
)
from ising_rg.rg.kadanoff import majority_block_spins
from ising_rg.rg.majority_network import majority_rule_network
from ising_rg.sampling.sampler import sample
from ising_rg.settings import SampleOptions
from tests.conftest import random_spins


def _block_sums(spins, b=2):
    n, size, _ = spins.shape
    return spins.reshape(n, size // b, b, size // b, b).sum(axis=(2, 4), dtype=np.int64)


def test_majority_and_decimation_by_hand():
    s = random_spins(7, 12, seed=1)
    rng = np.random.default_rng(5)
    np.testing.assert_array_equal(Majority(2).coarse_grain(s, 0, rng),
                                  majority_block_spins(s, 2, seed=np.random.default_rng(5)))
    np.testing.assert_array_equal(Majority(3).coarse_grain(s, 2, rng),
                                  np.sign(_block_sums(s, 3)))
    np.testing.assert_array_equal(Decimation(3).coarse_grain(s, 0, rng), s[:, ::3, ::3])
    assert isinstance(Majority(), CoarseGrainer) and Majority().name == "majority"
    assert Decimation().name == "decimation" and Decimation().block_size == 2


def test_coarse_levels_shapes_seeds_and_streams():
    s = random_spins(5, 16, seed=2)
    levels = coarse_levels(Majority(), s, 3, seed=4)
    assert [level.shape for level in levels] == [(5, 16, 16), (5, 8, 8), (5, 4, 4), (5, 2, 2)]
    assert all(level.dtype == np.int8 for level in levels)
    again = coarse_levels(Majority(), s, 3, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(levels, again, strict=True))
    # Level l draws from its own stream: computing fewer levels does not change it.
    np.testing.assert_array_equal(coarse_levels(Majority(), s, 1, seed=4)[1], levels[1])
    # A different seed changes tie-breaks (random spins tie often).
    assert not np.array_equal(coarse_levels(Majority(), s, 1, seed=5)[1], levels[1])


def test_coarse_levels_bad_input():
    with pytest.raises(IsingRGError, match=r"lattice size 12 is not divisible by b\^levels"):
        coarse_levels(Majority(), random_spins(2, 12, seed=0), 3)
    with pytest.raises(IsingRGError, match="not divisible by block size 2"):
        Majority().coarse_grain(random_spins(2, 5, seed=0), 0, np.random.default_rng())
    with pytest.raises(IsingRGError, match="not a coarse-grainer"):
        coarse_levels(object(), random_spins(2, 4, seed=0), 1)
    with pytest.raises(IsingRGError, match="block size must be an integer >= 2"):
        Majority(1)


@pytest.fixture(scope="module")
def reference():
    return sample(SampleOptions(size=16, coupling=0.35, samples=400, seed=3)).spins


@pytest.mark.parametrize("size", [16, 40])
def test_placement_recovers_the_planted_sites_and_signs(size):
    # 40: the paper's architecture 1600-400-100-25.
    dbn, sites, signs = majority_rule_network(size, seed=size)
    spins = sample(SampleOptions(size=size, coupling=0.35, samples=200, seed=3)).spins
    placements = DBNCoarseGrainer(dbn, spins).placements
    assert len(placements) == len(sites)
    for placement, site, sign in zip(placements, sites, signs, strict=True):
        np.testing.assert_array_equal(placement.site, site)
        np.testing.assert_array_equal(placement.sign, sign)
        if placement.size > 1:  # one unit over the whole torus has no centroid
            assert placement.displacement.max() < 1e-9
        assert not placement.dead.any() and not placement.far.any()
        assert not placement.non_local.any()


def test_majority_network_is_majority_rule(reference):
    dbn, _, _ = majority_rule_network(16, seed=7)
    levels = coarse_levels(DBNCoarseGrainer(dbn, reference), reference, 3, seed=2)
    tie_ups, ties = 0, 0
    for fine, coarse in zip(levels, levels[1:], strict=False):
        sums = _block_sums(fine)
        untied = sums != 0
        # Off the ties the network is deterministic (a unit errs with p = 2^-24 per draw).
        np.testing.assert_array_equal(coarse[untied], np.sign(sums[untied]))
        tie_ups += int(np.sum(coarse[~untied] == 1))
        ties += int(np.sum(~untied))
    # Ties are fair coins: binomial z within 4.
    assert ties > 1000 and abs(tie_ups - ties / 2) < 4 * math.sqrt(ties / 4), (tie_ups, ties)


def test_dbn_states_are_sampled_from_the_conditional(reference):
    # A weak majority network: P(coarse = +1 | block sum S) = sigmoid(w S) at every level,
    # whatever the unit's sign (the placement undoes it).
    w = 0.3
    dbn, _, _ = majority_rule_network(16, n_layers=2, strength=w, seed=8)
    levels = coarse_levels(DBNCoarseGrainer(dbn, reference), reference, 2, seed=3)
    for fine, coarse in zip(levels, levels[1:], strict=False):
        sums = _block_sums(fine)
        for total in (-4, -2, 0, 2, 4):
            chosen = coarse[sums == total]
            if chosen.size < 50:
                continue
            p = 1.0 / (1.0 + math.exp(-w * total))
            z = (np.sum(chosen == 1) - chosen.size * p) / math.sqrt(chosen.size * p * (1 - p))
            assert abs(z) < 4, (total, chosen.size, z)


def _rebuilt(dbn, layer_index, weights=None, hidden_bias=None):
    rbms = list(dbn.rbms_)
    rbm = rbms[layer_index]
    rbms[layer_index] = BernoulliRBM.from_parameters(
        rbm.weights_ if weights is None else weights, rbm.visible_bias_,
        rbm.hidden_bias_ if hidden_bias is None else hidden_bias)
    return DBN.from_rbms(rbms)


def test_dead_and_non_local_units_are_reported(reference):
    dbn, sites, _ = majority_rule_network(16, seed=9)
    bias = dbn.rbms_[0].hidden_bias_.copy()
    bias[5] = -1000.0  # never fires
    weights = dbn.rbms_[0].weights_.copy()
    weights[:, 11] = 0.0
    scattered = [(0, 0), (0, 8), (8, 0), (8, 8)]  # four sites half a lattice apart
    weights[[r * 16 + c for r, c in scattered], 11] = 50.0
    bias[11] = -100.0  # fires when two or more of the four are up: alive
    coarse_grainer = DBNCoarseGrainer(_rebuilt(dbn, 0, weights=weights, hidden_bias=bias),
                                      reference)
    info = coarse_grainer.info["layers"][0]
    assert info["dead_units"] == [5] and info["dead_fraction"] == pytest.approx(1 / 64)
    assert info["non_local_units"] == [11]
    # Each 2 x 2 window holds at most one of its four equal weights: locality 1/4.
    assert coarse_grainer.placements[0].locality[11] == pytest.approx(0.25)
    levels = coarse_levels(coarse_grainer, reference, 1, seed=0)
    site, sign = coarse_grainer.placements[0].site[5], coarse_grainer.placements[0].sign[5]
    # The dead unit's coarse spin is the constant sign * (2 * 0 - 1).
    assert np.all(levels[1].reshape(len(reference), -1)[:, site] == -sign)


def test_network_of_the_wrong_shape_is_refused(reference):
    rng = np.random.default_rng(0)

    def network(*sizes):
        return DBN.from_rbms([
            BernoulliRBM.from_parameters(rng.normal(size=(n_in, n_out)), np.zeros(n_in),
                                         np.zeros(n_out))
            for n_in, n_out in zip(sizes, sizes[1:], strict=False)
        ])

    with pytest.raises(IsingRGError, match=r"layer 2 has 8 units, not the 4x4 = 16 block "
                                           r"lattice of b = 4 on the 16x16"):
        DBNCoarseGrainer(network(256, 64, 8), reference)
    with pytest.raises(IsingRGError, match="layer 1 has 60 units"):
        DBNCoarseGrainer(network(256, 60), reference)
    with pytest.raises(IsingRGError, match=r"layer 3 .* L = 12 is not divisible by its block "
                                           r"size b = 8"):
        DBNCoarseGrainer(network(144, 36, 9, 1), random_spins(4, 12, seed=0))
    dbn, _, _ = majority_rule_network(16, seed=1)
    with pytest.raises(IsingRGError, match=r"reference spins must be shaped \(n >= 2, 16, 16\)"):
        DBNCoarseGrainer(dbn, random_spins(4, 8, seed=0))
    coarse_grainer = DBNCoarseGrainer(dbn, reference)
    with pytest.raises(IsingRGError, match="level 1 spins of this network must be 8x8"):
        coarse_grainer.coarse_grain(reference, 1, np.random.default_rng())
    with pytest.raises(IsingRGError, match="level must be an integer"):
        coarse_grainer.coarse_grain(reference, 4, np.random.default_rng())
    with pytest.raises(IsingRGError, match="dbn has 4 levels"):
        coarse_levels(coarse_grainer, reference, 5)

"""Swendsen's MCRG: the linearized map on exact cases, the 2D Ising exponents from majority
rule at K_c, the DBN built to be majority rule measured the same, and mcrg.json's structure."""

import json
import math

import numpy as np
import pytest

from ising_rg.errors import IsingRGError
from ising_rg.exact import critical_coupling
from ising_rg.io.jsonfile import to_json
from ising_rg.rg.coarse_grain import DBNCoarseGrainer, Decimation, Majority, coarse_levels
from ising_rg.rg.majority_network import majority_rule_network
from ising_rg.rg.mcrg import (
    EXACT_Y_H,
    EXACT_Y_T,
    exponents_by_operators,
    linearized_rg_matrix,
    mcrg_exponents,
)
from ising_rg.rg.mcrg_output import available_levels, mcrg_results
from ising_rg.sampling.observables import jackknife
from ising_rg.sampling.sampler import sample
from ising_rg.settings import SampleOptions


def test_linear_dependence_gives_the_matrix_back():
    # If S^(n) = S^(n+1) X exactly, then A = B X and T = B^-1 A = X.
    rng = np.random.default_rng(0)
    coarse = rng.normal(size=(500, 3))
    x = rng.normal(size=(3, 3))
    np.testing.assert_allclose(linearized_rg_matrix(coarse @ x, coarse), x, atol=1e-10)
    # Exponent of a known eigenvalue: diag(4, 2, 1) with b = 2 gives y = 2 (largest).
    diagonal = np.diag([4.0, 2.0, 1.0])
    np.testing.assert_allclose(exponents_by_operators(coarse @ diagonal, coarse, 2), [2, 2, 2])


def test_one_dimensional_decimation_slope():
    # Open Ising chains: bonds b_i = s_i s_(i+1) are independent, <b> = t = tanh K. Decimation
    # by 2 gives tanh K' = t^2, so dK'/dK = 2 t / (1 + t^2) exactly; Swendsen's T with the one
    # operator S = sum of bonds must return it within its jackknife error. (A ratio of
    # fluctuations: its error shrinks with the number of chains, not with their length.)
    rng = np.random.default_rng(1)
    for coupling in (0.3, 0.8):
        t = math.tanh(coupling)
        bonds = np.where(rng.random((40000, 64)) < (1 + t) / 2, 1, -1).astype(np.int8)
        fine = bonds.sum(axis=1, keepdims=True, dtype=np.int64).astype(float)
        coarse = (bonds[:, 0::2] * bonds[:, 1::2]).sum(axis=1, keepdims=True,
                                                   dtype=np.int64).astype(float)
        value, error = jackknife(lambda s: linearized_rg_matrix(s[0], s[1])[0, 0],
                                 (fine, coarse), 32)
        exact = 2 * t / (1 + t * t)
        assert abs(value - exact) < 4 * error and error < 0.01, (coupling, value, error, exact)


@pytest.fixture(scope="module")
def critical_64():
    """2,000 Wolff configurations of the 64 x 64 torus at K_c."""
    return sample(SampleOptions(size=64, coupling=critical_coupling(), samples=2000,
                                seed=11)).spins


def test_majority_rule_at_kc_gives_the_ising_exponents(critical_64):
    # Levels 2 and 3 (16 x 16 and 8 x 8 coarse lattices), all operators (6 even, 4 odd).
    # Measured: y_t = 0.998(17), 0.992(21); y_h = 1.8758(8), 1.8711(14) (docs/mcrg.md).
    levels = coarse_levels(Majority(), critical_64, 3, seed=0)
    steps = mcrg_exponents(levels, 2)
    for step in steps[1:]:
        y_t, y_h = step["y_t"], step["y_h"]
        assert abs(y_t["mean"] - EXACT_Y_T) < 0.1 * EXACT_Y_T, y_t
        assert abs(y_h["mean"] - EXACT_Y_H) < 0.05 * EXACT_Y_H, y_h
        assert y_t["error"] < 0.05 and y_h["error"] < 0.01
        # and within their errors plus 1 % of the exact value (the finite-size remainder)
        assert abs(y_t["mean"] - EXACT_Y_T) < 4 * y_t["error"] + 0.01
        assert abs(y_h["mean"] - EXACT_Y_H) < 4 * y_h["error"] + 0.01 * EXACT_Y_H
        assert [k["n_operators"] for k in y_t["by_operators"]] == [1, 2, 3, 4, 5, 6]
        assert [k["n_operators"] for k in y_h["by_operators"]] == [1, 2, 3, 4]


def test_mcrg_results_structure_and_reproducibility(critical_64):
    spins = critical_64[:512, :32, :32]  # a 32 x 32 corner: not equilibrium, fine for structure
    out = mcrg_results(spins, [Majority(), Decimation()], seed=3, coupling=0.44)
    assert json.loads(json.dumps(to_json(out), allow_nan=False))
    assert out == mcrg_results(spins, [Majority(), Decimation()], seed=3, coupling=0.44)
    assert set(out["coarse_grainers"]) == {"majority", "decimation"}
    settings = out["settings"]
    assert settings["n_configurations"] == 512 and settings["size"] == 32
    assert settings["exact"] == {"y_t": 1.0, "y_h": 1.875}
    majority = out["coarse_grainers"]["majority"]
    assert majority["n_levels"] == 3  # 32 -> 16 -> 8 -> 4
    assert [level["size"] for level in majority["levels"]] == [32, 16, 8, 4]
    assert [level["block_size"] for level in majority["levels"]] == [1, 2, 4, 8]
    level0, level1 = majority["levels"][:2]
    assert level0["y_t"] is None and level0["y_h"] is None
    assert level0["couplings"] == out["coarse_grainers"]["decimation"]["levels"][0]["couplings"]
    assert set(level1["couplings"]) == set(settings["coupling_operators"])
    assert set(level1["couplings"]["nn"]) == {"mean", "error"}
    assert set(level1["y_t"]) == {"mean", "error", "by_operators"}
    assert set(level1["nn_projection"]) == {"mean", "error"}


def test_majority_network_measures_like_majority_rule():
    # The DBN built to be majority rule differs from Majority only in its tie coins: every
    # coupling, y_t and y_h must agree within 4 combined errors at every level.
    spins = sample(SampleOptions(size=32, coupling=critical_coupling(), samples=1000,
                                 seed=12)).spins
    dbn, _, _ = majority_rule_network(32, n_layers=3, seed=2)
    out = mcrg_results(spins, [Majority(), DBNCoarseGrainer(dbn, spins)], seed=1)
    majority = out["coarse_grainers"]["majority"]["levels"]
    network = out["coarse_grainers"]["dbn"]["levels"]
    assert len(majority) == len(network) == 4
    for a, b in zip(majority[1:], network[1:], strict=True):
        for name in ("y_t", "y_h"):
            assert abs(a[name]["mean"] - b[name]["mean"]) < 4 * math.hypot(
                a[name]["error"], b[name]["error"]), (a["level"], name)
        for name, value in a["couplings"].items():
            other = b["couplings"][name]
            assert abs(value["mean"] - other["mean"]) < 4 * math.hypot(
                value["error"], other["error"]), (a["level"], name)
    assert out["coarse_grainers"]["dbn"]["info"]["layers"][0]["dead_fraction"] == 0


def test_levels_and_bad_input():
    assert available_levels(Majority(), 64) == 4
    assert available_levels(Majority(), 40) == 3  # 40 -> 20 -> 10 -> 5
    assert available_levels(Majority(3), 27) == 1  # 27 -> 9; 3 would be below 4
    dbn, _, _ = majority_rule_network(16, n_layers=1, seed=0)
    spins = sample(SampleOptions(size=16, coupling=0.3, samples=64, seed=0)).spins
    assert available_levels(DBNCoarseGrainer(dbn, spins), 16) == 1
    with pytest.raises(IsingRGError, match="distinct names"):
        mcrg_results(spins, [Majority(), Majority(4)])
    with pytest.raises(IsingRGError, match="cannot be coarse-grained"):
        mcrg_results(spins[:, :6, :6], [Majority()])
    with pytest.raises(IsingRGError, match="lattice size 15 is not divisible by the block size "
                                           "b = 2 of majority"):
        mcrg_results(spins[:, :15, :15], [Majority()])
    with pytest.raises(IsingRGError, match="level 0 spins of this network must be 16x16"):
        mcrg_results(spins[:, :8, :8], [DBNCoarseGrainer(dbn, spins)])
    with pytest.raises(IsingRGError, match="at least two levels"):
        mcrg_exponents([spins], 2)

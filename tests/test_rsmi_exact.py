"""The exact RSMI oracle on the 4 x 4 torus, against closed forms and brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ising_rg.exact import critical_coupling
from ising_rg.exact.enumeration import boltzmann_state_probabilities
from ising_rg.rg.rsmi_bound import CoarseRule
from ising_rg.rg.rsmi_exact import (
    exact_block_information,
    exact_environment_information,
    exact_logistic_bound,
    state_spins,
)
from ising_rg.rg.rsmi_geometry import rsmi_geometry

K_C = critical_coupling()
COUPLINGS = (0.408, K_C)
# (name, rule, block size, buffer); the environment is every site beyond the buffer (L_E = 1).
RULES = (
    ("decimation", CoarseRule.decimation(2), 0),
    ("majority", CoarseRule.majority(2), 0),
    ("uniform sum", CoarseRule.filter(np.ones((2, 2))), 0),
    ("single spin, buffer 1", CoarseRule.decimation(1), 1),
)
# exact I(H;E) - best logistic bound, bits, measured by these functions (docs/rsmi.md):
# <= 3.2e-4 for the 2 x 2 rules, 9.5e-4 (K = 0.408) and 1.21e-3 (K_c) for the single spin
# behind a buffer. The margin the tests allow is the largest of them, rounded up.
LOGISTIC_GAP_BITS = 1.3e-3


def _entropy_bits(p):
    p = np.clip(p, 1e-300, 1.0)
    q = np.clip(1.0 - p, 1e-300, 1.0)
    return -(p * np.log2(p) + q * np.log2(q))


@pytest.mark.parametrize("coupling", COUPLINGS)
def test_single_spin_against_its_closed_form(coupling):
    """H = s_0 and E = the other 15 spins: P(s_0 = +1 | E) = sigmoid(2 K h), h the sum of the
    four neighbours, so I = 1 - E[H_b(sigmoid(2 K h))] bits, and the logistic decoder is exact,
    with weight 2K on each neighbour and 0 elsewhere."""
    spins = state_spins(4).astype(np.int64)
    p_state = boltzmann_state_probabilities(coupling, 4)
    h = spins[:, 1] + spins[:, 3] + spins[:, 4] + spins[:, 12]  # neighbours of site 0
    expected = 1.0 - float(p_state @ _entropy_bits(1.0 / (1.0 + np.exp(-2 * coupling * h))))
    rule = CoarseRule.decimation(1)
    # L_E = 2 reaches every site of the 4 x 4 torus (largest distance 2).
    sites = rsmi_geometry(4, 1, 0, 2).environment_index[0].tolist()
    assert sorted(sites) == list(range(1, 16))
    assert exact_environment_information(coupling, 4, rule, 0, 2) == pytest.approx(expected,
                                                                                   abs=1e-12)
    bound, decoder = exact_logistic_bound(coupling, 4, rule, 0, 2)
    assert bound == pytest.approx(expected, abs=1e-10)
    weights = dict(zip(sites, decoder.weights, strict=True))
    for site in sites:
        assert weights[site] == pytest.approx(2 * coupling if site in (1, 3, 4, 12) else 0.0,
                                              abs=1e-8)
    assert decoder.bias == pytest.approx(0.0, abs=1e-8)


@pytest.mark.parametrize("coupling", COUPLINGS)
@pytest.mark.parametrize("name,rule,buffer", RULES, ids=[r[0] for r in RULES])
def test_logistic_bound_is_below_the_exact_information_and_close(coupling, name, rule, buffer):
    exact = exact_environment_information(coupling, 4, rule, buffer, 1)
    bound, _ = exact_logistic_bound(coupling, 4, rule, buffer, 1)
    assert 0.0 < exact <= 1.0
    assert bound <= exact + 1e-12
    assert exact - bound < LOGISTIC_GAP_BITS


def test_information_orders_as_block_spins_should():
    """Majority keeps more than decimation, and both grow toward the critical point."""
    for coupling in COUPLINGS:
        decimation = exact_environment_information(coupling, 4, CoarseRule.decimation(2), 0, 1)
        majority = exact_environment_information(coupling, 4, CoarseRule.majority(2), 0, 1)
        assert majority > decimation
    assert exact_environment_information(0.408, 4, CoarseRule.majority(2), 0, 1) < (
        exact_environment_information(K_C, 4, CoarseRule.majority(2), 0, 1))


def test_never_above_one_bit():
    """A rule cannot tell more than its own entropy; deep in the ordered phase a block spin
    knows its environment almost completely."""
    huge = CoarseRule.filter(1e3 * np.ones((2, 2)))
    for coupling in (0.1, 0.408, K_C, 1.0):
        for rule in (huge, CoarseRule.majority(2)):
            assert exact_environment_information(coupling, 4, rule, 0, 1) <= 1.0
            assert exact_logistic_bound(coupling, 4, rule, 0, 1)[0] <= 1.0
    # (At K = 2 the two ordered states make the decoder's optimum run off: exact value only.)
    assert 0.99 < exact_environment_information(2.0, 4, CoarseRule.majority(2), 0, 1) <= 1.0


def test_block_information_of_majority_is_one_bit_minus_ties():
    spins = state_spins(4)
    block_sum = spins[:, [0, 1, 4, 5]].sum(axis=1, dtype=np.int64)
    for coupling in COUPLINGS:
        p_tie = float(boltzmann_state_probabilities(coupling, 4)[block_sum == 0].sum())
        assert exact_block_information(coupling, 4, CoarseRule.majority(2)) == pytest.approx(
            1.0 - p_tie, abs=1e-12)
    three = CoarseRule.filter([[1, 0], [1, 1]], hard=True)
    assert exact_block_information(0.408, 4, three) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("coupling", COUPLINGS)
def test_compression_prefers_the_coin_at_ties(coupling):
    """The bound alone prefers a tie-free three-spin majority to majority rule (whose ties a
    coin decides); the compression term of RSMIFilter, 0.1 I(H; V), reverses the order (the
    threshold is about 0.07 here: the exact gain / P(tie))."""
    majority = CoarseRule.majority(2)
    three = CoarseRule.filter([[1, 0], [1, 1]], hard=True)
    gain = (exact_environment_information(coupling, 4, three, 0, 1)
            - exact_environment_information(coupling, 4, majority, 0, 1))
    assert gain > 0.003  # 0.0054 bits at K = 0.408, 0.0040 at K_c

    def objective(rule, compression):
        return (exact_environment_information(coupling, 4, rule, 0, 1)
                - compression * exact_block_information(coupling, 4, rule))

    assert objective(majority, 0.1) > objective(three, 0.1)
    threshold = gain / (1.0 - exact_block_information(coupling, 4, majority))
    assert 0.05 < threshold < 0.09 and math.isfinite(threshold)

"""1D decimation: exact enumeration against tanh K' = tanh(K)^2, and the RBM reading."""

import numpy as np
import pytest

from ising_rg.errors import IsingRGError
from ising_rg.rg.decimation1d import (
    bernoulli_log_marginal,
    decimate_ring_by_enumeration,
    decimated_coupling,
    decimation_constant,
    decimation_flow,
    decimation_layers,
    decimation_rbm_weights,
    rbm_decimation_discrepancy,
    ring_bond_sum,
    ring_states,
    spin_rbm_to_bernoulli,
)

COUPLINGS = [0.05, 0.4, 1.0, 2.5, -0.7]


def test_decimated_coupling_formula():
    for k in COUPLINGS:
        assert np.tanh(decimated_coupling(k)) == pytest.approx(np.tanh(k) ** 2, rel=1e-14)
        assert decimated_coupling(k) == pytest.approx(0.5 * np.log(np.cosh(2 * k)), rel=1e-12)
        assert np.exp(decimation_constant(k)) == pytest.approx(2 * np.sqrt(np.cosh(2 * k)))


def test_flow_runs_to_zero():
    flow = decimation_flow(1.5, 12)
    assert flow.shape == (13,)
    assert flow[1] == decimated_coupling(1.5)
    assert np.all(np.diff(flow) < 0)
    assert flow[-1] < 1e-6


@pytest.mark.parametrize("n_spins", [8, 12, 16])
@pytest.mark.parametrize("coupling", COUPLINGS)
def test_enumeration_reproduces_exact_decimation(n_spins, coupling):
    fit = decimate_ring_by_enumeration(coupling, n_spins)
    assert abs(fit.coupling - np.arctanh(np.tanh(coupling) ** 2)) < 1e-10
    assert abs(fit.constant - decimation_constant(coupling)) < 1e-10
    assert fit.max_residual < 1e-9


def test_stride_four_is_two_decimation_steps():
    for k in (0.3, 1.2):
        fit = decimate_ring_by_enumeration(k, 16, stride=4)
        assert abs(fit.coupling - decimation_flow(k, 2)[2]) < 1e-10
        assert abs(fit.constant - decimation_constant(k, stride=4)) < 1e-10


def test_enumeration_rejects_bad_rings():
    with pytest.raises(IsingRGError):
        decimate_ring_by_enumeration(0.5, 9)
    with pytest.raises(IsingRGError):
        decimate_ring_by_enumeration(0.5, 4)  # only 2 kept spins


@pytest.mark.parametrize("n_kept", [4, 6, 8])
def test_decimation_rbm_marginal_is_the_decimated_ring(n_kept):
    for k in COUPLINGS:
        assert rbm_decimation_discrepancy(k, n_kept) < 1e-12


def test_rbm_marginal_is_not_the_undecimated_ring():
    # Able to fail: the same marginal compared with coupling K (not K') is far off.
    k, n_kept = 0.8, 6
    states = ring_states(n_kept)
    w01, b, c, _ = spin_rbm_to_bernoulli(decimation_rbm_weights(k, n_kept))
    log_rbm = bernoulli_log_marginal((states + 1) // 2, w01, b, c)
    log_wrong = k * ring_bond_sum(states)
    spread = np.ptp(log_rbm - log_wrong)
    assert spread > 0.5


def test_rbm_joint_weight_is_the_ring_weight():
    # Interleave kept s_j (even sites) and decimated sigma_j (odd sites): s.W.sigma = K sum s s.
    k, n_kept = 0.6, 4
    w = decimation_rbm_weights(k, n_kept)
    states = ring_states(2 * n_kept).astype(float)
    kept, hidden = states[:, 0::2], states[:, 1::2]
    np.testing.assert_allclose(
        np.einsum("mi,ij,mj->m", kept, w, hidden), k * ring_bond_sum(states), atol=1e-12
    )


def test_spin_to_bernoulli_conversion_by_enumeration():
    rng = np.random.default_rng(0)
    w, a, d = rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=2)
    w01, b, c, constant = spin_rbm_to_bernoulli(w, a, d)
    s = ring_states(3).astype(float)
    sigma = ring_states(2).astype(float)
    for si in s:
        for hj in sigma:
            spin_log_weight = a @ si + d @ hj + si @ w @ hj
            v, h = (si + 1) / 2, (hj + 1) / 2
            assert spin_log_weight == pytest.approx(b @ v + c @ h + v @ w01 @ h + constant)


def test_layered_network_follows_the_flow():
    layers = decimation_layers(0.9, 16)
    assert [layer["n_kept"] for layer in layers] == [8, 4, 2]
    np.testing.assert_allclose([layer["coupling"] for layer in layers], decimation_flow(0.9, 2))
    assert layers[0]["weights"].shape == (8, 8)
    assert np.count_nonzero(layers[0]["weights"]) == 16

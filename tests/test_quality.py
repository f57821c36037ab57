"""The quality instruments on known answers.

The exact Ising RBM (``ising_rg.rbm.ising_rbm``), used as a one-layer DBN, *is* the Ising
model: its generative chains must give Kaufman's E/N and C/N and converge, its one-step
reconstructions of Ising data are Ising data again, its log-likelihood gap to the Ising model
is 0, its KL divergence from it is 0, its effective couplings are K at nearest neighbours and
0 beyond, and every site's couplings sum to 4K. A hand-built bimodal RBM whose chains cannot
leave the mode they start in is the known failure the convergence diagnostic must flag.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ising_rg import exact
from ising_rg.diagnostics.generative import (
    THERMO_NAMES,
    generative_quality,
    reconstruction_bound,
)
from ising_rg.diagnostics.quality import exact_kl_divergence, quality_block
from ising_rg.errors import IsingRGError
from ising_rg.rbm import DBN, BernoulliRBM, ais_estimate, ising_rbm, ising_rbm_log_partition
from ising_rg.rbm.ising import ising_rbm_weight
from ising_rg.sampling.sampler import draw
from ising_rg.settings import SampleOptions
from ising_rg.spins import spins_to_visible

K = 0.408


def kaufman(size: int) -> dict[str, float]:
    return {"energy_per_spin": float(exact.energy_per_spin(K, size)),
            "specific_heat": float(exact.specific_heat_per_spin(K, size))}


def float32_coupling_bound(size: int) -> float:
    """|K* - K| of the float32 Ising RBM (K* = ln cosh(w32 / 2) / 2; rbm/ising.py)."""
    w32 = float(ising_rbm(size, K).weights_.max())
    return abs(w32 - ising_rbm_weight(K)) / 4 + 1e-12


@pytest.fixture(scope="module")
def mc_spins():
    """Wolff configurations at K = 0.408 on the 4 x 4 and 8 x 8 tori."""
    return {size: draw(SampleOptions(size, K, 2000, "wolff", seed=10 + size)).spins
            for size in (4, 8)}


@pytest.fixture(scope="module")
def ising_generative(mc_spins):
    """The generative check of the Ising RBM as a one-layer DBN at L = 4 and 8."""
    out = {}
    for size in (4, 8):
        dbn = DBN.from_rbms([ising_rbm(size, K)])
        out[size] = generative_quality(dbn, mc_spins[size], K, max_sweeps=8000,
                                       exact=kaufman(size), seed=size)
    return out


def within(value: dict, target: float, n_sigma: float = 4.0) -> bool:
    return abs(value["mean"] - target) <= n_sigma * value["error"]


@pytest.mark.parametrize("size", [4, 8])
def test_the_ising_rbms_equilibrium_is_kaufmans(ising_generative, size):
    """Parallel tempering of the L x L Ising RBM from all-up, all-down, data, random and AIS
    starts: converged (rank R-hat < 1.01, bulk ESS >= 400) within the budget, and the
    ensemble gives Kaufman's E/N and C/N within 4 errors; one mode pair (m and -m) of equal
    weight."""
    result = ising_generative[size]
    assert result["converged"] and result["stopped"] == "converged"
    assert max(result["rhat"].values()) < 1.01 and min(result["bulk_ess"].values()) >= 400
    assert within(result["energy_per_spin"]["dbn"], kaufman(size)["energy_per_spin"])
    assert within(result["specific_heat"]["dbn"], kaufman(size)["specific_heat"])
    assert result["energy_per_spin"]["dbn"]["error"] < 0.02  # resolving power
    assert result["log_z"]["bound_ok"]
    assert result["modes"]["source"] == "parallel tempering"


def bimodal_dbn(size: int) -> DBN:
    """One hidden unit with weight 4 to every site and bias -3N: it switches on only when
    3/4 of the sites are up, and then holds them up (p = sigmoid(4)); switched off, the
    sites are fair coins. Each mode holds a Gibbs chain for ~exp(N) steps: chains started
    ordered stay ordered (E/N ~ -1.9), those from random states stay disordered (E/N ~ 0).
    """
    n_sites = size * size
    rbm = BernoulliRBM.from_parameters(np.full((n_sites, 1), 4.0, np.float32),
                                       np.zeros(n_sites, np.float32),
                                       np.array([-3.0 * n_sites], np.float32))
    return DBN.from_rbms([rbm])


def test_a_bimodal_network_reports_its_modes_and_their_weights(mc_spins):
    """Modes that trap Gibbs chains: the equilibrium sampler finds both (from up and from
    random starts), and their weights add to 1 and match exact enumeration of the one hidden
    unit (p(h = 1) = Z_1 / (Z_0 + Z_1), Z_0 = 2^N, Z_1 = e^-3N (1 + e^4)^N)."""
    size = 4
    n_sites = size * size
    result = generative_quality(bimodal_dbn(size), mc_spins[size], K, max_sweeps=4000,
                                exact=kaufman(size), seed=3)
    log_z0 = n_sites * math.log(2.0)
    log_z1 = -3.0 * n_sites + n_sites * math.log1p(math.exp(4.0))
    on = 1.0 / (1.0 + math.exp(log_z0 - log_z1))
    modes = result["modes"]["modes"]
    assert sum(mode["weight"] for mode in modes) == pytest.approx(1.0, abs=1e-6)
    ordered = sum(mode["weight"] for mode in modes if abs(mode["magnetization"]) > 0.6)
    assert ordered == pytest.approx(on, abs=0.05)
    assert result["log_z"]["bound_ok"]


def test_the_generative_check_is_reproducible(mc_spins):
    dbn = DBN.from_rbms([ising_rbm(4, K)])
    first = generative_quality(dbn, mc_spins[4], K, max_sweeps=500, exact=None, seed=5)
    again = generative_quality(dbn, mc_spins[4], K, max_sweeps=500, exact=None, seed=5)
    assert first["energy_per_spin"] == again["energy_per_spin"]
    assert first["rhat"] == again["rhat"] and first["n_sweeps"] == again["n_sweeps"]


def test_reconstruction_bound_of_the_ising_rbm_is_the_ising_model(mc_spins):
    """v ~ Ising, h ~ P(h | v), v' ~ P(v' | h): v' ~ Ising again, because the RBM's marginal is
    the Ising model; so the bound gives Kaufman's E/N and C/N (4 errors)."""
    size = 8
    result = reconstruction_bound(ising_rbm(size, K), spins_to_visible(mc_spins[size]), K, size,
                                  seed=1)
    assert within(result["energy_per_spin"], kaufman(size)["energy_per_spin"])
    assert within(result["specific_heat"], kaufman(size)["specific_heat"])


def test_quality_block_of_the_ising_rbm_at_l4_is_exact(mc_spins, ising_generative):
    """L = 4: log Z and the KL by enumeration; gap 0, KL 0, K_eff = K and 0, row sum 4K.

    Tolerances are float32 ones: the stored weight makes the RBM the Ising model at K* with
    |K* - K| <= |w32 - w| / 4, so ln p differs by at most 2N |K* - K| + |ln Z* - ln Z|.
    """
    size, n_sites = 4, 16
    dbn = DBN.from_rbms([ising_rbm(size, K)])
    block = quality_block(dbn, mc_spins[size], K, generative=ising_generative[size], seed=2)
    bound = float32_coupling_bound(size)
    log_p_bound = 4 * n_sites * bound  # per configuration
    assert block["log_z"]["method"] == "exact"
    assert block["log_z"]["log_z"] == pytest.approx(ising_rbm_log_partition(size, K),
                                                    abs=log_p_bound)
    gap = block["gap_per_spin"]["train"]
    assert abs(gap["mean"]) <= log_p_bound / n_sites
    assert block["gap_per_spin"]["validation"] is None  # from_rbms: no held-out rows
    assert block["exact_kl"]["nats"] == pytest.approx(0.0, abs=log_p_bound)
    ll = block["log_likelihood_per_spin"]["train"]
    assert within(ll, block["ising_log_likelihood_per_spin"])
    couplings = block["couplings"]
    assert couplings["nearest_neighbour"]["mean"] == pytest.approx(K, abs=bound)
    assert couplings["next_nearest_neighbour"]["mean"] == pytest.approx(0.0, abs=1e-12)
    assert couplings["nearest_neighbour"]["ratio_to_true"] == pytest.approx(1.0, abs=bound / K)
    assert couplings["row_sum"]["mean"] == pytest.approx(4 * K, abs=4 * bound)
    assert couplings["row_sum"]["ratio_to_expected"] == pytest.approx(1.0, abs=bound / K)
    thermo = block["thermodynamics"]
    assert set(thermo) == set(THERMO_NAMES)
    assert thermo["energy_per_spin"]["exact"] == pytest.approx(kaufman(size)["energy_per_spin"])
    assert within(thermo["energy_per_spin"]["dbn"], kaufman(size)["energy_per_spin"])
    assert within(thermo["specific_heat"]["reconstruction_bound"], kaufman(size)["specific_heat"])
    assert block["converged"] is True


def test_exact_kl_sees_a_wrong_coupling():
    """The KL is not 0 by construction: the Ising RBM at K' = 0.3 against Ising at K = 0.408,
    KL(p_K || p_K') = (K' - K) N e(K) - ln Z(K) + ln Z(K') with e = <E>/N (Kaufman)."""
    size, other = 4, 0.3
    n_sites = size * size
    divergence = exact_kl_divergence(ising_rbm(size, other), K, size)
    expected = ((other - K) * n_sites * exact.energy_per_spin(K, size)
                - exact.log_partition_function(K, size)
                + exact.log_partition_function(other, size))
    assert divergence["nats"] == pytest.approx(expected, abs=1e-4)
    assert divergence["nats"] > 0.1


def test_quality_block_at_l8_gap_is_zero_within_the_ais_error(mc_spins, ising_generative):
    """L = 8 (64 x 128: log Z by mixture AIS, 2 seeds x 100 runs x 2000 temperatures): the
    paired gap to the Ising log-likelihood is 0 within its quoted error (3 sigma), the error
    is small enough to mean something, and the estimate clears its hard bound."""
    size = 8
    dbn = DBN.from_rbms([ising_rbm(size, K)])
    block = quality_block(dbn, mc_spins[size], K, generative=ising_generative[size], seed=4,
                          likelihood=True, ais={"n_betas": 2000})
    assert block["log_z"]["method"] == "mixture AIS" and block["log_z"]["n_betas"] == 2000
    assert block["log_z"]["bound_ok"] and block["log_z"]["bound_margin"] > 0
    gap = block["gap_per_spin"]["train"]
    assert abs(gap["mean"]) <= 3 * gap["error"] and gap["error"] < 0.005
    assert block["exact_kl"] is None  # 2^64 states
    without = quality_block(dbn, mc_spins[size], K, generative=ising_generative[size], seed=4)
    assert without["log_z"] is None and without["gap_per_spin"]["train"] is None


@pytest.mark.slow
def test_ais_estimate_on_the_l16_ising_rbm_holds_across_seeds():
    """2 seeds x 100 runs x 3000 temperatures on the L = 16 Ising RBM (256 x 512, true log Z
    known): the true value is inside 3 quoted errors, and the seeds' scatter is what the
    within-run error says (seed_error <= 3 within_error). Calibration at this size (one seed
    each, 100 runs): 3000 temperatures -> estimate - truth 0.06, -0.07, 0.02, 0.05, 0.03
    with quoted errors 0.07-0.10."""
    rbm = ising_rbm(16, K)
    result = ais_estimate(rbm, n_betas=3000, seed=0)
    truth = ising_rbm_log_partition(16, K)
    assert abs(result["log_z"] - truth) <= 3 * result["error"]
    assert result["error"] == max(result["within_error"], result["seed_error"])
    assert result["seed_error"] <= 3 * result["within_error"]
    assert len(result["estimates"]) == 2 and min(result["effective_sample_size"]) > 20
    assert result["error"] < 0.15


def test_quality_block_scores_the_given_held_out_rows_and_refuses_foreign_ones(
        mc_spins, ising_generative):
    """Held-out rows passed explicitly (a network trained on a mixture of data sets) are
    scored as the validation split; training indices beyond the data are refused."""
    dbn = DBN.from_rbms([ising_rbm(4, K)])
    spins = mc_spins[4][:100]
    block = quality_block(dbn, spins, K, generative=ising_generative[4], seed=2,
                          held_out=np.arange(80, 100))
    assert block["gap_per_spin"]["validation"] is not None
    dbn.validation_indices_ = np.array([5, 150])
    with pytest.raises(IsingRGError, match="outside the 100 data rows"):
        quality_block(dbn, spins, K, generative=ising_generative[4], seed=2)


def test_no_likelihood_from_a_log_z_below_its_bound(mc_spins):
    """A log Z that failed its hard check (ln Z >= max -F over visited states) has missed
    weight: the block prints no likelihood and no gap from it, rather than wrong numbers."""
    from ising_rg.diagnostics.quality import _first_rbm_likelihood

    size = 4
    rbm = ising_rbm(size, K)
    rows = {"train": spins_to_visible(mc_spins[size][:20])}
    good = {"log_z": ising_rbm_log_partition(size, K), "error": 0.0, "bound_ok": True}
    assert _first_rbm_likelihood(rbm, rows, good, K, size)["gap_per_spin"]["train"] is not None
    failed = dict(good, log_z=good["log_z"] - 50.0, bound_ok=False)
    out = _first_rbm_likelihood(rbm, rows, failed, K, size)
    assert out["log_likelihood_per_spin"]["train"] is None
    assert out["gap_per_spin"]["train"] is None

"""Tests of the exact Ising references: Kaufman vs brute force, Onsager limits, derivatives."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ising_rg import exact as ex
from ising_rg.errors import IsingRGError
from ising_rg.exact import enumeration as enum

KC = ex.critical_coupling()
# Below, at and above K_c, plus the far high- and low-temperature ends.
COUPLINGS = np.array([0.05, 0.2, 0.4, KC, 0.45, 0.6, 1.0, 2.0])


# ---------------------------------------------------------------------------------------------
# Constants and special functions
# ---------------------------------------------------------------------------------------------


def test_critical_point_constants():
    assert ex.critical_coupling() == pytest.approx(0.4406867935097715, rel=1e-15)
    assert ex.critical_temperature() == pytest.approx(2.269185314213022, rel=1e-15)
    # Self-duality: sinh(2 K_c) = 1.
    assert math.sinh(2 * KC) == pytest.approx(1.0, rel=1e-15)


def test_elliptic_integrals_known_values():
    assert ex.complete_elliptic_k(0.0) == pytest.approx(math.pi / 2, rel=1e-15)
    assert ex.complete_elliptic_e(0.0) == pytest.approx(math.pi / 2, rel=1e-15)
    # k = 1/sqrt 2: K = Gamma(1/4)^2 / (4 sqrt pi), Legendre's relation gives E.
    k_val = math.gamma(0.25) ** 2 / (4 * math.sqrt(math.pi))
    e_val = (math.pi / 2 + k_val**2) / (2 * k_val)  # 2 E K - K^2 = pi/2 at k = k'
    assert ex.complete_elliptic_k(2**-0.5) == pytest.approx(k_val, rel=1e-14)
    assert ex.complete_elliptic_e(2**-0.5) == pytest.approx(e_val, rel=1e-14)
    assert ex.complete_elliptic_k(1.0) == math.inf
    assert ex.complete_elliptic_e(1.0) == 1.0
    # Logarithmic divergence K(k) ~ ln(4/k') near k = 1.
    kp = 1e-4
    assert ex.complete_elliptic_k(math.sqrt(1 - kp**2)) == pytest.approx(math.log(4 / kp), 1e-7)


# ---------------------------------------------------------------------------------------------
# Brute force: conventions
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 3, 4])
def test_enumeration_conventions(size):
    n = size * size
    energy, magnetization = enum.enumerate_torus(size)
    assert energy.shape == magnetization.shape == (2**n,)
    # 2N bonds for every L (including the doubled bonds of L = 2): ground state E = -2N.
    assert energy.min() == -2 * n and energy[0] == -2 * n and energy[-1] == -2 * n
    # State 1 = only site 0 up: M = 2 - N, and flipping one spin breaks its 4 bonds.
    assert magnetization[1] == 2 - n
    assert energy[1] == -2 * n + 8
    e, m, count = enum.brute_force_density_of_states(size)
    assert count.sum() == 2**n
    # Global flip symmetry of the density of states.
    table = {(int(a), int(b)): int(c) for a, b, c in zip(e, m, count, strict=True)}
    assert all(table[(a, -b)] == c for (a, b), c in table.items())


def test_enumeration_bit_order_matches_lattice_layout():
    # Site i = row*L + col: an up spin at (0, 0) and (0, 1) (bits 0, 1) on a 3x3 lattice shares
    # one bond, at (0, 0) and (1, 1) (bits 0, 4) none.
    energy, _ = enum.enumerate_torus(3)
    ground = -18
    assert energy[0b11] == ground + 8 + 8 - 4
    assert energy[0b10001] == ground + 16
    assert energy[0b1001] == ground + 8 + 8 - 4  # (0,0) and (1,0): vertical neighbours


@pytest.mark.parametrize("size", [2, 3])
def test_state_probabilities(size):
    k = 0.37
    p = enum.boltzmann_state_probabilities(k, size)
    n = size * size
    assert p.shape == (2**n,)
    assert p.sum() == pytest.approx(1.0, rel=1e-14)
    # Spin-flip symmetry: state j and its complement are equally likely.
    j = np.arange(2**n)
    np.testing.assert_allclose(p, p[(2**n - 1) ^ j], rtol=1e-13)
    energy, magnetization = enum.enumerate_torus(size)
    e_mean, c, abs_m, m2, m4 = enum.brute_force_moments(k, size)
    assert p @ energy / n == pytest.approx(e_mean, rel=1e-13)
    assert p @ (magnetization / n) ** 2 == pytest.approx(m2, rel=1e-13)
    assert p @ np.abs(magnetization / n) == pytest.approx(abs_m, rel=1e-13)
    assert 0 < m2**2 <= m4 <= m2
    assert c > 0


# ---------------------------------------------------------------------------------------------
# Kaufman vs brute force
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 3, 4])
def test_kaufman_matches_brute_force(size):
    log_z = ex.log_partition_function(COUPLINGS, size)
    energy = ex.energy_per_spin(COUPLINGS, size)
    heat = ex.specific_heat_per_spin(COUPLINGS, size)
    e_bf, c_bf, *_ = enum.brute_force_moments(COUPLINGS, size)
    np.testing.assert_allclose(
        log_z, enum.brute_force_log_partition_function(COUPLINGS, size), rtol=1e-12
    )
    np.testing.assert_allclose(energy, e_bf, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(heat, c_bf, rtol=1e-10, atol=1e-14)


def test_nearest_neighbour_correlation_identity():
    # <s_0 s_right(0)> computed directly from the 3x3 state probabilities.
    size, k = 3, 0.33
    p = enum.boltzmann_state_probabilities(k, size)
    j = np.arange(p.size)
    s0 = 2 * (j & 1) - 1
    s1 = 2 * ((j >> 1) & 1) - 1
    s3 = 2 * ((j >> 3) & 1) - 1
    assert p @ (s0 * s1) == pytest.approx(ex.nearest_neighbour_correlation(k, size), rel=1e-12)
    assert p @ (s0 * s3) == pytest.approx(ex.nearest_neighbour_correlation(k, size), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Derivatives, limits, stability
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [6, 40, 257])
def test_analytic_derivatives_match_finite_differences(size):
    k = np.array([0.2, 0.43, KC, 0.46, 0.8])
    h = 2e-6  # small: near K_c the third derivative is large at L = 257
    n = size * size
    lz_p, lz_m = ex.log_partition_function(k + h, size), ex.log_partition_function(k - h, size)
    np.testing.assert_allclose(ex.energy_per_spin(k, size), -(lz_p - lz_m) / (2 * h) / n, rtol=1e-7)
    e_p, e_m = ex.energy_per_spin(k + h, size), ex.energy_per_spin(k - h, size)
    np.testing.assert_allclose(
        ex.specific_heat_per_spin(k, size), -(k**2) * (e_p - e_m) / (2 * h), rtol=1e-6
    )


def test_onsager_formulas_are_mutually_consistent():
    k = np.array([0.1, 0.3, 0.43, 0.45, 0.6, 1.2])
    h = 1e-5
    f_p, f_m = ex.onsager_log_partition_per_spin(k + h), ex.onsager_log_partition_per_spin(k - h)
    np.testing.assert_allclose(ex.onsager_energy_per_spin(k), -(f_p - f_m) / (2 * h), rtol=1e-8)
    e_p, e_m = ex.onsager_energy_per_spin(k + h), ex.onsager_energy_per_spin(k - h)
    np.testing.assert_allclose(
        ex.onsager_specific_heat_per_spin(k), -(k**2) * (e_p - e_m) / (2 * h), rtol=1e-6
    )
    np.testing.assert_allclose(
        ex.onsager_free_energy_per_spin(k), -ex.onsager_log_partition_per_spin(k) / k, rtol=1e-15
    )


def test_onsager_at_and_near_critical_point():
    catalan = 0.915965594177219015
    assert ex.onsager_log_partition_per_spin(KC) == pytest.approx(
        math.log(2) / 2 + 2 * catalan / math.pi, rel=1e-13
    )
    assert ex.onsager_energy_per_spin(KC) == pytest.approx(-math.sqrt(2), rel=1e-15)
    # Continuous through K_c; the specific heat is infinite only exactly there.
    for dk in (1e-9, -1e-9):
        assert ex.onsager_energy_per_spin(KC + dk) == pytest.approx(-math.sqrt(2), abs=1e-6)
        c = ex.onsager_specific_heat_per_spin(KC + dk)
        assert math.isfinite(c) and c > 5
    assert ex.onsager_specific_heat_per_spin(KC) == math.inf
    # Log divergence: C ~ -(8/pi) K_c^2 ln|1 - K/K_c|, same amplitude on both sides.
    amp = 8 / math.pi * KC**2
    for side in (1, -1):
        c1 = ex.onsager_specific_heat_per_spin(KC * (1 + side * 1e-6))
        c2 = ex.onsager_specific_heat_per_spin(KC * (1 + side * 1e-8))
        assert c2 - c1 == pytest.approx(amp * math.log(100), rel=1e-4)
    # Limits: T -> inf and T -> 0.
    assert ex.onsager_energy_per_spin(1e-3) == pytest.approx(-2 * math.tanh(1e-3), rel=1e-5)
    assert ex.onsager_energy_per_spin(10.0) == pytest.approx(-2.0, rel=1e-15)


def test_yang_magnetization():
    assert ex.yang_magnetization(0.3) == 0.0
    assert ex.yang_magnetization(KC) == 0.0
    # 40-digit Decimal evaluation of (1 - sinh(1)^-4)^(1/8).
    assert ex.yang_magnetization(0.5) == pytest.approx(0.91131937787749597752, rel=1e-14)
    assert ex.yang_magnetization(5.0) == pytest.approx(1.0, abs=1e-15)
    m = ex.yang_magnetization(np.array([0.2, 0.45, 0.5, 0.7]))
    assert m.shape == (4,) and m[0] == 0 and np.all(np.diff(m[1:]) > 0)
    # beta = 1/8: m^8 is linear in K - K_c just above K_c.
    d1, d2 = 1e-7, 2e-7
    ratio = ex.yang_magnetization(KC + d2) ** 8 / ex.yang_magnetization(KC + d1) ** 8
    assert ratio == pytest.approx(2.0, rel=1e-5)


def test_large_lattice_approaches_onsager():
    # Off-critical: exponential convergence, monotone in L.
    for k in (0.42, 0.46):
        diffs = [
            abs(ex.energy_per_spin(k, size) - ex.onsager_energy_per_spin(k))
            for size in (16, 32, 64, 128)
        ]
        assert diffs[0] > diffs[1] > diffs[2] > diffs[3]
        assert diffs[0] > 1e-3 and diffs[3] < 1e-5
        assert ex.energy_per_spin(k, 1024) == pytest.approx(
            ex.onsager_energy_per_spin(k), rel=1e-14
        )
        assert ex.specific_heat_per_spin(k, 1024) == pytest.approx(
            ex.onsager_specific_heat_per_spin(k), rel=1e-12
        )
        # ln Z - N f_inf -> 0 in the disordered phase, ln 2 (two ordered sectors) below T_c.
        excess = ex.log_partition_function(k, 1024) - 1024**2 * ex.onsager_log_partition_per_spin(k)
        assert excess == pytest.approx(math.log(2) if k > KC else 0.0, abs=1e-7)
    # Critical: energy converges like 1/L, C grows like (8/pi) K_c^2 ln L (Ferdinand & Fisher).
    e_inf = ex.onsager_energy_per_spin(KC)
    d = [ex.energy_per_spin(KC, size) - e_inf for size in (256, 1024, 4096)]
    assert d[0] < 0 and d[0] / d[1] == pytest.approx(4.0, rel=1e-3)
    assert d[1] / d[2] == pytest.approx(4.0, rel=1e-3)
    c1024, c4096 = ex.specific_heat_per_spin(KC, 1024), ex.specific_heat_per_spin(KC, 4096)
    # (corrections are O(ln L / L), hence the 1e-3 tolerance)
    assert c4096 - c1024 == pytest.approx(8 / math.pi * KC**2 * math.log(4), rel=1e-3)


def test_stable_at_critical_point_and_extremes_for_huge_lattice():
    size = 4096
    n = size * size
    for k in (KC, 0.05, 2.0):
        log_z = ex.log_partition_function(k, size)
        e = ex.energy_per_spin(k, size)
        c = ex.specific_heat_per_spin(k, size)
        assert all(math.isfinite(v) for v in (log_z, e, c))
        assert log_z / n == pytest.approx(ex.onsager_log_partition_per_spin(k), rel=1e-7)
        assert e == pytest.approx(ex.onsager_energy_per_spin(k), rel=1e-3)
    for k in (0.05, 2.0):  # far from K_c the finite-size corrections are below rounding
        assert ex.energy_per_spin(k, size) == pytest.approx(
            ex.onsager_energy_per_spin(k), rel=1e-12
        )
        assert ex.specific_heat_per_spin(k, size) == pytest.approx(
            ex.onsager_specific_heat_per_spin(k), rel=1e-9
        )
    assert ex.energy_per_spin(100.0, 8) == -2.0
    assert ex.specific_heat_per_spin(100.0, 8) >= 0.0


def test_vectorisation_and_types():
    assert isinstance(ex.energy_per_spin(0.4, 8), float)
    assert isinstance(ex.onsager_energy_per_spin(0.4), float)
    k = np.array([[0.3, 0.4, 0.5], [0.6, 0.7, 0.8]])
    e = ex.energy_per_spin(k, 8)
    assert e.shape == (2, 3)
    assert e[1, 2] == pytest.approx(ex.energy_per_spin(0.8, 8), rel=1e-15)
    # More couplings than one internal chunk at L = 4096 (chunks of 128).
    ks = np.linspace(0.3, 0.6, 131)
    e = ex.energy_per_spin(ks, 4096)
    assert e[-1] == pytest.approx(ex.energy_per_spin(0.6, 4096), rel=1e-15)
    assert np.all(np.diff(e) < 0)
    assert ex.energy_per_spin(0.4, np.int64(5)) == pytest.approx(ex.energy_per_spin(0.4, 5))


# ---------------------------------------------------------------------------------------------
# Inversion, summary, errors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 5, 40])
def test_temperature_from_energy_inverts_energy(size):
    t = np.array([0.4, 1.0, 2.0, ex.critical_temperature(), 2.45, 5.0, 100.0])
    e = ex.energy_per_spin(1 / t, size)
    t_back = ex.temperature_from_energy(e, size)
    # At T = 0.4, e + 2 ~ 1e-9 and T(e) is ill-conditioned: check the energy there instead.
    np.testing.assert_allclose(t_back[1:], t[1:], rtol=1e-9)
    np.testing.assert_allclose(ex.energy_per_spin(1 / t_back, size), e, rtol=1e-14, atol=1e-13)
    assert ex.temperature_from_energy(float(e[3]), size) == pytest.approx(t[3], rel=1e-12)


def test_exact_summary_is_json_and_consistent():
    summary = ex.exact_summary(0.408, 40)
    back = json.loads(json.dumps(summary, allow_nan=False))
    assert back["size"] == 40 and back["coupling"] == 0.408
    assert back["temperature"] == pytest.approx(1 / 0.408)
    assert back["energy_per_spin"] == ex.energy_per_spin(0.408, 40)
    assert back["nearest_neighbour_correlation"] == pytest.approx(-back["energy_per_spin"] / 2)
    assert back["yang_magnetization"] == 0.0
    assert back["critical_temperature"] == ex.critical_temperature()
    for key in (
        "log_partition_function",
        "specific_heat_per_spin",
        "onsager_energy_per_spin",
        "onsager_specific_heat_per_spin",
        "critical_coupling",
    ):
        assert isinstance(back[key], float)
    at_kc = ex.exact_summary(KC, 40)
    assert at_kc["onsager_specific_heat_per_spin"] is None  # infinite: not valid JSON
    json.dumps(at_kc, allow_nan=False)


@pytest.mark.parametrize(
    ("func", "args"),
    [
        (ex.energy_per_spin, (0.0, 8)),
        (ex.energy_per_spin, (-0.3, 8)),
        (ex.energy_per_spin, (math.nan, 8)),
        (ex.energy_per_spin, (math.inf, 8)),
        (ex.energy_per_spin, ([0.3, -0.1], 8)),
        (ex.energy_per_spin, ("hot", 8)),
        (ex.energy_per_spin, (1e-9, 8)),
        (ex.log_partition_function, (0.4, 1)),
        (ex.specific_heat_per_spin, (0.4, 4.0)),
        (ex.specific_heat_per_spin, (0.4, True)),
        (ex.onsager_energy_per_spin, (0.0,)),
        (ex.yang_magnetization, (-1.0,)),
        (ex.temperature_from_energy, (-2.0, 8)),
        (ex.temperature_from_energy, (0.0, 8)),
        (ex.temperature_from_energy, (-2.5, 8)),
        (ex.temperature_from_energy, (math.nan, 8)),
        (enum.enumerate_torus, (5,)),
        (enum.brute_force_moments, (0.4, 1)),
        (enum.boltzmann_state_probabilities, ([0.3, 0.4], 2)),
        (ex.exact_summary, (0.0, 40)),
    ],
)
def test_bad_input_raises_one_line_error(func, args):
    with pytest.raises(IsingRGError) as info:
        func(*args)
    assert "\n" not in str(info.value) and str(info.value)

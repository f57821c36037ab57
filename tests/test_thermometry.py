"""Thermometers: T from E, C (both branches) and |m|, and the Ising-state verdict."""

import math

import numpy as np
import pytest

from ising_rg import exact
from ising_rg.diagnostics.thermometry import (
    abs_magnetization_calibration,
    ising_state,
    specific_heat_peak,
    temperature_from_abs_magnetization,
    temperature_from_energy_fluctuation,
    temperature_from_specific_heat,
)
from ising_rg.errors import IsingRGError
from ising_rg.exact import enumeration as exact_enumeration
from ising_rg.sampling.observables import thermodynamics
from ising_rg.sampling.sampler import sample
from ising_rg.settings import SampleOptions


def exact_fluctuation(temperature, size):
    """N var(E/N) = T^2 C/N of the exact L x L model."""
    temperature = np.asarray(temperature, dtype=float)
    return exact.specific_heat_per_spin(1 / temperature, size) * temperature**2


@pytest.mark.parametrize("size", [4, 8, 40])
def test_peaked_readouts_invert_the_exact_curves_on_both_branches(size):
    peak = specific_heat_peak(size)
    # (curve, its readout, peak, value as T -> inf: C -> 0, N var(E/N) -> 2)
    for curve, invert, peak_t, peak_value, hot_limit in (
        (lambda t: exact.specific_heat_per_spin(1 / t, size), temperature_from_specific_heat,
         peak["temperature"], peak["specific_heat"], 0.0),
        (lambda t: exact_fluctuation(t, size), temperature_from_energy_fluctuation,
         peak["fluctuation_temperature"], peak["energy_fluctuation"], 2.0),
    ):
        # a maximum: the exact curve is lower a little to either side
        assert np.all(curve(np.array([peak_t * 0.999, peak_t * 1.001])) < peak_value)
        low_t = np.array([0.7, 1.2, 1.8, 2.1])
        high_t = np.array([3.0, 4.0, 10.0, 20.0])
        assert low_t.max() < peak_t < high_t.min()
        low, other = invert(curve(low_t), size)
        np.testing.assert_allclose(low, low_t, rtol=1e-9)
        # the same value's other solution lies above the peak and has the same value; it
        # exists only above the T -> inf limit
        exists = curve(low_t) > hot_limit
        np.testing.assert_array_equal(np.isfinite(other), exists)
        assert np.all(other[exists] > peak_t)
        np.testing.assert_allclose(curve(other[exists]), curve(low_t[exists]), rtol=1e-9)
        other, high = invert(curve(high_t), size)
        np.testing.assert_allclose(high, high_t, rtol=1e-9)
        assert np.all(other < peak_t)
        # at the maximum both branches meet; above it no Ising state has that value
        assert invert(peak_value, size) == (peak_t, peak_t)
        assert all(math.isnan(t) for t in invert(peak_value * 1.001, size))
        assert all(math.isnan(t) for t in invert(np.nan, size))
        assert all(math.isnan(t) for t in invert(-0.1, size))
    # the C readout reaches far in both directions
    c_hot = exact.specific_heat_per_spin(1 / 900.0, size)
    assert temperature_from_specific_heat(c_hot, size)[1] == pytest.approx(900.0, rel=1e-9)
    assert temperature_from_specific_heat(0.0, size) == (0.0, math.inf)
    # the fluctuation falls to 2 (T = inf) from above: below 2 there is no high branch
    low, high = temperature_from_energy_fluctuation(1.5, size)
    assert 0 < low < peak["fluctuation_temperature"] and math.isnan(high)
    assert temperature_from_energy_fluctuation(2.0 + 1e-7, size)[1] == math.inf
    with pytest.raises(IsingRGError):
        temperature_from_specific_heat(1.0, 1)


@pytest.fixture(scope="module")
def table_l4():
    return abs_magnetization_calibration(4, seed=3)


def test_abs_magnetization_table_matches_enumeration(table_l4):
    table = table_l4
    exact_m = exact_enumeration.brute_force_moments(table.coupling[1:], 4)[2]
    z = (table.abs_magnetization[1:] - exact_m) / table.abs_magnetization_error[1:]
    assert np.max(np.abs(z)) < 4.5
    # honest error bars: neither much too small nor much too large (mean z^2 ~ 1 +- 0.2)
    assert 0.4 < np.mean(z**2) < 1.8
    # T = inf is exact: E|sum of 16 fair spins| / 16
    expected = sum(abs(2 * k - 16) * math.comb(16, k) for k in range(17)) / (16 * 2**16)
    assert table.coupling[0] == 0 and table.abs_magnetization[0] == pytest.approx(expected)
    assert np.all(np.diff(table.monotone_abs_magnetization) >= 0)
    # cached per (L, seed), read-only
    assert abs_magnetization_calibration(4, seed=3) is table
    assert not table.abs_magnetization.flags.writeable
    with pytest.raises(IsingRGError):
        abs_magnetization_calibration(4.0)


def test_abs_magnetization_readout(table_l4):
    table = table_l4
    def exact_abs_m(temperature):
        return exact_enumeration.brute_force_moments(1 / temperature, 4)[2]

    for t in (1.6, 2.2, 2.6, 3.5, 6.0):
        m_exact = exact_abs_m(t)
        slope = (exact_abs_m(t * 1.001) - m_exact) / (0.001 * t)
        t_read = temperature_from_abs_magnetization(m_exact, table)
        table_error = float(table.curve(1 / t)[1])
        assert abs(t_read - t) < 4 * table_error / abs(slope)
    assert temperature_from_abs_magnetization(0.01, table) == math.inf
    assert math.isnan(temperature_from_abs_magnetization(1.0, table))
    read = temperature_from_abs_magnetization(np.array([0.9, 0.5]), table)
    assert read.shape == (2,) and read[0] < read[1]


def monte_carlo_state(size, temperature, seed):
    samples = sample(SampleOptions(size, 1 / temperature, 4000, "wolff", seed=seed))
    stats = thermodynamics(samples.energy, samples.magnetization, 1 / temperature, size * size)
    c = stats["specific_heat"]
    return (
        (stats["energy_per_spin"]["mean"], stats["energy_per_spin"]["error"]),
        (stats["abs_magnetization"]["mean"], stats["abs_magnetization"]["error"]),
        (c["mean"] * temperature**2, c["error"] * temperature**2),
    )


def test_monte_carlo_ensemble_is_an_ising_state_and_a_shifted_one_is_not():
    size, temperature = 8, 2.8
    table = abs_magnetization_calibration(size, seed=0)
    energy, abs_m, fluctuation = monte_carlo_state(size, temperature, seed=99)
    state = ising_state(energy, abs_m, fluctuation, size, table)
    assert state["ising_state"] is True and state["verdict"].startswith("an Ising state")
    assert state["best_temperature"] == pytest.approx(temperature, rel=0.02)
    assert state["max_abs_z"] <= 3
    assert state["temperature_from_specific_heat"]["side"] == "above peak"
    for key in ("temperature_from_energy", "temperature_from_abs_magnetization"):
        lo, hi = state[key]["range"]
        assert lo < state[key]["value"] < hi
        assert lo - 4 * (hi - lo) < temperature < hi + 4 * (hi - lo)
    high = state["temperature_from_specific_heat"]
    lo, hi = high["high_range"]
    assert lo - 4 * (hi - lo) < temperature < hi + 4 * (hi - lo)
    # the same E and C with |m| moved by 10 errors: no temperature fits all three
    shifted = (abs_m[0] + 10 * math.hypot(abs_m[1], 0.005), abs_m[1])
    state = ising_state(energy, shifted, fluctuation, size, table)
    assert state["ising_state"] is False and "|m|" in state["verdict"]
    assert state["max_abs_z"] > 3
    # an ensemble colder than the table cannot be judged
    frozen = ising_state((-1.99999, 1e-6), (0.99999, 1e-6), (1e-4, 1e-5), size, table)
    assert frozen["ising_state"] is None and frozen["verdict"].startswith("undecided")
    with pytest.raises(IsingRGError):
        ising_state(energy, abs_m, fluctuation, 16, table)

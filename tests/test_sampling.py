"""Samplers against exact results: finite-lattice thermodynamics, full state distributions,
the Binder-cumulant crossing at T_c, and reproducibility."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from ising_rg import exact
from ising_rg.exact import enumeration as exact_enumeration
from ising_rg.sampling import metropolis
from ising_rg.sampling.observables import (
    energy_per_spin,
    integrated_autocorrelation_time,
    magnetization_per_spin,
    thermodynamics,
)
from ising_rg.sampling.rng import new_streams
from ising_rg.sampling.sampler import draw, sample
from ising_rg.settings import SampleOptions
from tests.conftest import chi_square_z

K_C = exact.critical_coupling()
COUPLINGS = (0.3, K_C, 0.55)  # above, at and below T_c


@pytest.mark.parametrize("algorithm", ["wolff", "metropolis"])
@pytest.mark.parametrize("size", [4, 8, 16])
@pytest.mark.parametrize("coupling", COUPLINGS)
def test_energy_and_specific_heat_match_kaufman(algorithm, size, coupling):
    samples = sample(SampleOptions(size, coupling, 8000, algorithm, seed=size))
    stats = thermodynamics(samples.energy, samples.magnetization, coupling, size * size)
    for name, reference in (
        ("energy_per_spin", exact.energy_per_spin(coupling, size)),
        ("specific_heat", exact.specific_heat_per_spin(coupling, size)),
    ):
        mean, error = stats[name]["mean"], stats[name]["error"]
        assert error > 0
        assert abs(mean - reference) < 4 * error, (name, mean, error, reference)


def _state_index(spins: np.ndarray) -> np.ndarray:
    """Bit i (i = row * L + col) set for spin +1, as in boltzmann_state_probabilities."""
    bits = (spins.reshape(len(spins), -1) > 0).astype(np.int64)
    return bits @ (1 << np.arange(bits.shape[1], dtype=np.int64))


# Checkerboard Metropolis is not ergodic on 2x2: both sites of a colour see the same field,
# and a zero field flips both with certainty, so states where both colours are split are never
# entered (odd L has no checkerboard at all). Metropolis is checked state by state on 4x4.
@pytest.mark.parametrize(
    ("algorithm", "size", "coupling", "n"),
    [("wolff", 2, 0.3, 100_000), ("wolff", 3, 0.35, 100_000), ("wolff", 2, 0.6, 100_000),
     ("metropolis", 4, 0.3, 400_000), ("wolff", 4, 0.45, 200_000)],
)
def test_state_distribution_is_boltzmann(algorithm, size, coupling, n):
    samples = draw(SampleOptions.unchecked(size, coupling, n, algorithm, seed=7, spacing=10))
    counts = np.bincount(_state_index(samples.spins), minlength=2 ** (size * size))
    expected = n * exact_enumeration.boltzmann_state_probabilities(coupling, size)
    assert chi_square_z(counts, expected) < 4.0


@pytest.mark.parametrize("algorithm", ["wolff", "metropolis"])
def test_energy_magnetization_distribution_4x4(algorithm):
    """The joint (E, M) histogram on the 4x4 torus against its exact density of states."""
    coupling, n = 0.4, 100_000
    samples = draw(SampleOptions(4, coupling, n, algorithm, seed=3, spacing=5))
    energies, magnetizations, counts = exact_enumeration.brute_force_density_of_states(4)
    weights = counts * np.exp(-coupling * (energies - energies.min()))
    expected = n * weights / weights.sum()
    observed_e = np.rint(samples.energy * 16).astype(int)
    observed_m = np.rint(samples.magnetization * 16).astype(int)
    pairs = zip(energies, magnetizations, strict=True)
    lookup = {(int(e), int(m)): i for i, (e, m) in enumerate(pairs)}
    observed = np.zeros(len(energies))
    for e, m in zip(observed_e, observed_m, strict=True):
        observed[lookup[(e, m)]] += 1
    assert chi_square_z(observed, expected) < 4.0


@pytest.mark.slow
def test_binder_cumulants_cross_at_critical_temperature():
    temperatures = np.array([2.20, 2.24, 2.28, 2.32])
    cumulants = {}
    for size in (8, 16):
        values = []
        for t in temperatures:
            s = sample(SampleOptions(size, 1.0 / t, 20000, "wolff", seed=11))
            u4 = thermodynamics(s.energy, s.magnetization, 1.0 / t, size * size)
            values.append(u4["binder_cumulant"]["mean"])
        cumulants[size] = np.array(values)
    difference = cumulants[16] - cumulants[8]  # positive below T_c, negative above
    assert difference[0] > 0 > difference[-1]
    slope, intercept = np.polyfit(temperatures, difference, 1)
    crossing = -intercept / slope
    assert abs(crossing / exact.critical_temperature() - 1) < 0.015, crossing


def test_same_seed_same_samples_and_different_seed_differs():
    a = sample(SampleOptions(8, 0.4, 500, "wolff", seed=5))
    b = sample(SampleOptions(8, 0.4, 500, "wolff", seed=5))
    c = sample(SampleOptions(8, 0.4, 500, "wolff", seed=6))
    assert np.array_equal(a.spins, b.spins)
    assert np.array_equal(a.energy, b.energy)
    assert not np.array_equal(a.spins, c.spins)


@pytest.mark.parametrize("algorithm", ["wolff", "metropolis"])
def test_thread_count_does_not_change_samples(algorithm):
    original = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = sample(SampleOptions(8, 0.42, 400, algorithm, seed=1))
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = sample(SampleOptions(8, 0.42, 400, algorithm, seed=1))
    finally:
        numba.set_num_threads(original)
    assert np.array_equal(one.spins, two.spins)


def test_row_parallel_metropolis_equals_serial_on_any_thread_count():
    size = 64
    rng = np.random.default_rng(0)
    spins = np.where(rng.random((size, size)) < 0.5, -1, 1).astype(np.int8)
    thresholds = metropolis.acceptance_thresholds(K_C)
    results = []
    original = numba.get_num_threads()
    try:
        for kernel, threads in ((metropolis.sweeps_serial, 1), (metropolis.sweeps_parallel, 1),
                                (metropolis.sweeps_parallel, 2)):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            black = np.empty((size, size // 2 + 2), dtype=np.int8)
            white = np.empty_like(black)
            metropolis.split_lattice(spins, black, white)
            s0, s1 = new_streams(9, (2, size, size // 2), np.uint32)
            kernel(black, white, s0, s1, thresholds, 20)
            out = np.empty_like(spins)
            metropolis.join_lattice(black, white, out)
            results.append(out)
    finally:
        numba.set_num_threads(original)
    assert not np.array_equal(results[0], spins)
    assert np.array_equal(results[0], results[1])
    assert np.array_equal(results[0], results[2])


@pytest.mark.parametrize("size", [2, 4, 6, 10])
def test_split_join_and_sublattice_energy(size):
    rng = np.random.default_rng(size)
    spins = np.where(rng.random((size, size)) < 0.5, -1, 1).astype(np.int8)
    black = np.empty((size, size // 2 + 2), dtype=np.int8)
    white = np.empty_like(black)
    metropolis.split_lattice(spins, black, white)
    back = np.empty_like(spins)
    metropolis.join_lattice(black, white, back)
    assert np.array_equal(back, spins)
    energy, magnetization = metropolis.energy_magnetization(black, white)
    assert energy == round(energy_per_spin(spins) * size**2)
    assert magnetization == round(magnetization_per_spin(spins) * size**2)


def test_observables_on_ground_state_and_checkerboard():
    up = np.ones((1, 6, 6), dtype=np.int8)
    assert energy_per_spin(up)[0] == -2.0
    assert magnetization_per_spin(up)[0] == 1.0
    checker = np.where(np.add.outer(np.arange(6), np.arange(6)) % 2, -1, 1).astype(np.int8)
    assert energy_per_spin(checker) == 2.0
    assert magnetization_per_spin(checker) == 0.0


def test_autocorrelation_time_of_ar1_process():
    """An AR(1) series x_t = a x_{t-1} + noise has tau_int = (1 + a) / (2 (1 - a))."""
    a, n = 0.9, 400_000
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = 0.0
    for t in range(1, n):
        x[t] = a * x[t - 1] + noise[t]
    expected = (1 + a) / (2 * (1 - a))
    assert abs(integrated_autocorrelation_time(x) / expected - 1) < 0.1
    assert integrated_autocorrelation_time(rng.standard_normal(10_000)) < 0.7


def test_auto_spacing_is_twice_tau():
    s = sample(SampleOptions(16, K_C, 200, "metropolis", seed=0))
    tau = max(s.tau_int_energy, s.tau_int_abs_magnetization)
    assert s.spacing_sweeps >= 2 * tau
    assert s.spacing_sweeps < 2 * tau + 1
    assert s.thermalization_sweeps >= 20 * tau

"""The |m| thermometer's calibration: a Monte Carlo <|m|>(T) table of the L x L Ising model.

There is no exact finite-lattice <|m|>(T), so ``ising_rg.diagnostics.thermometry`` reads the
temperature of an ensemble's |m| from a table made with the package's own sampler at the same L:
one seeded run per temperature of ``CALIBRATION_TEMPERATURES``, T = inf from its exact value, a
non-decreasing fit in K on top (``AbsMagnetizationCalibration``), cached in memory per (L, seed,
n_samples) (``abs_magnetization_calibration``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ising_rg import exact
from ising_rg.checks import check_float_array
from ising_rg.errors import IsingRGError
from ising_rg.sampling.observables import thermodynamics
from ising_rg.sampling.sampler import sample
from ising_rg.settings import SampleOptions

__all__ = [
    "CALIBRATION_TEMPERATURES",
    "AbsMagnetizationCalibration",
    "abs_magnetization_calibration",
]

#: Temperatures of the |m| calibration table (J / k_B), dense near T_c = 2.269 where <|m|>
#: falls fastest; T = inf (K = 0, independent spins) is added from its exact value.
CALIBRATION_TEMPERATURES = tuple(
    [0.8, 1.0, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 1.95]
    + [round(2.0 + 0.025 * i, 3) for i in range(25)]
    + [2.65, 2.7, 2.8, 2.9, 3.0, 3.2, 3.4, 3.7, 4.0, 4.5, 5.0, 6.0, 7.0, 8.5, 10.0, 12.5]
    + [16.0, 20.0, 30.0, 50.0]
)
# Wolff near T_c, where Metropolis slows down critically; Metropolis elsewhere (faster there).
_WOLFF_WINDOW = 0.5


def _independent_spins_abs_magnetization(n_sites: int) -> float:
    """Exact <|m|> of n_sites independent fair +-1 spins: sum_k |2k - N| binom(N, k) / (N 2^N)."""
    k = np.arange(n_sites + 1)
    # ln binom(N, k) - N ln 2, accumulated as a sum of logs (exact enough for N <= 10^6)
    steps = np.log((n_sites - k[1:] + 1) / k[1:])
    log_weight = np.concatenate([[0.0], np.cumsum(steps)]) - n_sites * math.log(2.0)
    return float(np.sum(np.abs(2 * k - n_sites) * np.exp(log_weight)) / n_sites)


def _isotonic_increasing(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted least-squares non-decreasing fit (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for value, weight in zip(values, weights, strict=True):
        blocks.append([float(value), float(weight), 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    return np.concatenate([np.full(int(n), v) for v, _, n in blocks])


@dataclass(frozen=True)
class AbsMagnetizationCalibration:
    """Monte Carlo <|m|> of the L x L Ising model on a grid of couplings: the |m| thermometer.

    Attributes
    ----------
    size, seed, n_samples : int
        L, the root seed and the Monte Carlo samples per temperature.
    coupling : float64 (n_points,)
        K = 1/T, increasing; ``coupling[0] = 0`` (T = inf), whose |m| is exact.
    abs_magnetization, abs_magnetization_error : float64 (n_points,)
        Monte Carlo <|m|> and its standard error (blocking; at least 1/n_samples); error 0 at
        K = 0.
    monotone_abs_magnetization : float64 (n_points,)
        The weighted non-decreasing fit of the table (<|m|> rises with K; Monte Carlo noise
        can make neighbouring points cross where the curve is flat). It is what is read.
    """

    size: int
    seed: int
    n_samples: int
    coupling: np.ndarray
    abs_magnetization: np.ndarray
    abs_magnetization_error: np.ndarray
    monotone_abs_magnetization: np.ndarray

    @property
    def max_coupling(self) -> float:
        """Largest calibrated K (lowest calibrated temperature 1/K)."""
        return float(self.coupling[-1])

    def curve(self, coupling: Any) -> tuple[np.ndarray, np.ndarray]:
        """<|m|> and its error at couplings in [0, max_coupling], by linear interpolation in K.

        Returns
        -------
        (mean, error) : float64 arrays of the input's shape; NaN outside the table.
        """
        k = check_float_array(coupling, "coupling")
        inside = (k >= 0) & (k <= self.max_coupling)
        mean = np.interp(k, self.coupling, self.monotone_abs_magnetization)
        error = np.interp(k, self.coupling, self.abs_magnetization_error)
        return np.where(inside, mean, np.nan), np.where(inside, error, np.nan)

    def coupling_at(self, abs_magnetization: Any) -> np.ndarray:
        """K at which the calibrated <|m|> equals the value (linear interpolation).

        0 at or below the independent-spin value (T = inf); NaN above the table's largest
        value (colder than the lowest calibrated temperature) or non-finite.
        """
        m = check_float_array(abs_magnetization, "abs_magnetization")
        curve = self.monotone_abs_magnetization
        readable = np.isfinite(m) & (m <= curve[-1])
        return np.where(readable, np.interp(m, curve, self.coupling), np.nan)


def _calibration_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, index]).generate_state(1, np.uint32)[0])


@functools.lru_cache(maxsize=16)
def _calibration(size: int, seed: int, n_samples: int) -> AbsMagnetizationCalibration:
    temperatures = np.array(CALIBRATION_TEMPERATURES)[::-1]  # increasing K
    means, errors = [_independent_spins_abs_magnetization(size * size)], [0.0]
    for index, temperature in enumerate(temperatures):
        near_critical = abs(temperature - exact.critical_temperature()) <= _WOLFF_WINDOW
        samples = sample(SampleOptions(size, 1.0 / temperature, n_samples,
                                       "wolff" if near_critical else "metropolis",
                                       seed=_calibration_seed(seed, index)))
        stats = thermodynamics(samples.energy, samples.magnetization, 1.0 / temperature,
                               size * size)["abs_magnetization"]
        means.append(stats["mean"])
        # all samples alike (deep in the ordered phase of a small lattice): error 0 would claim
        # infinite precision; 1/n_samples is the table's resolution there
        errors.append(max(stats["error"], 1.0 / n_samples))
    coupling = np.concatenate([[0.0], 1.0 / temperatures])
    means_array, errors_array = np.array(means), np.array(errors)
    # weights 1/error^2, the exact K = 0 point pinned by a tiny error floor
    weights = 1.0 / np.maximum(errors_array, 1e-9) ** 2
    monotone = _isotonic_increasing(means_array, weights)
    arrays = [coupling, means_array, errors_array, monotone]
    for array in arrays:
        array.flags.writeable = False  # shared by every caller through the cache
    return AbsMagnetizationCalibration(size, seed, n_samples, *arrays)


def abs_magnetization_calibration(
    size: int, seed: int = 0, n_samples: int = 4000
) -> AbsMagnetizationCalibration:
    """The Monte Carlo <|m|>(T) table at one L, computed once per (L, seed, n_samples).

    Each temperature of ``CALIBRATION_TEMPERATURES`` (T = 0.8 to 50, steps of 0.025 near T_c)
    is sampled with ``ising_rg.sampling.sampler.sample`` (Wolff within 0.5 of T_c, Metropolis
    elsewhere; automatic thermalization and spacing), with its own seed derived from
    ``seed``; T = inf is exact. The table is kept in memory (read-only arrays), so later calls
    with the same arguments are free. Cost (2 busy cores): ~10 s at L = 8, ~1 min at L = 40.

    Parameters
    ----------
    size : int
        L, even and >= 4 (the sampler's requirement).
    seed : int
        Root seed; the same seed gives the same table.
    n_samples : int
        Configurations per temperature (their spacing is ~2 tau_int, so nearly independent).

    Returns
    -------
    AbsMagnetizationCalibration
    """
    for name, value in (("size", size), ("seed", seed), ("n_samples", n_samples)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise IsingRGError(f"{name} must be an integer, got {value!r}")
    return _calibration(int(size), int(seed), int(n_samples))

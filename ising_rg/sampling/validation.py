"""Sampler validation over a temperature range: Monte Carlo against Kaufman's exact values."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ising_rg import exact, paper
from ising_rg.sampling.observables import thermodynamics
from ising_rg.sampling.sampler import sample
from ising_rg.settings import VALIDATION_SAMPLES, SampleOptions


def temperature_scan(
    size: int = paper.SIZE,
    temperatures: np.ndarray | None = None,
    n_samples: int = VALIDATION_SAMPLES,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, list[float]]:
    """<E>/N and C/N from Monte Carlo, with error bars, beside the exact finite-lattice values.

    Parameters
    ----------
    size : int
        Lattice size L.
    temperatures : ndarray, shape (n_t,), optional
        Temperatures in units of J / k_B; default 13 points from 1.8 to 3.0.
    n_samples, seed
        Wolff configurations per temperature and the root seed; temperature i uses seed
        ``seed + i``.
    progress : callable(done, total), optional
        Told after each temperature.

    Returns
    -------
    dict of lists (JSON-serialisable): ``temperature``, ``energy``, ``energy_error``,
    ``specific_heat``, ``specific_heat_error``, ``energy_exact``, ``specific_heat_exact``,
    and a fine exact curve ``curve_temperature``, ``curve_energy``, ``curve_specific_heat``.
    """
    if temperatures is None:
        temperatures = np.linspace(1.8, 3.0, 13)
    temperatures = np.asarray(temperatures, dtype=float)
    out: dict[str, list[float]] = {k: [] for k in (
        "temperature", "energy", "energy_error", "specific_heat", "specific_heat_error")}
    for i, t in enumerate(temperatures):
        samples = sample(SampleOptions(size, 1.0 / t, n_samples, "wolff", seed=seed + i))
        stats = thermodynamics(samples.energy, samples.magnetization, 1.0 / t, size * size)
        out["temperature"].append(float(t))
        out["energy"].append(stats["energy_per_spin"]["mean"])
        out["energy_error"].append(stats["energy_per_spin"]["error"])
        out["specific_heat"].append(stats["specific_heat"]["mean"])
        out["specific_heat_error"].append(stats["specific_heat"]["error"])
        if progress is not None:
            progress(i + 1, len(temperatures))
    out["energy_exact"] = exact.energy_per_spin(1.0 / temperatures, size).tolist()
    out["specific_heat_exact"] = exact.specific_heat_per_spin(1.0 / temperatures, size).tolist()
    curve = np.linspace(temperatures.min(), temperatures.max(), 241)
    out["curve_temperature"] = curve.tolist()
    out["curve_energy"] = exact.energy_per_spin(1.0 / curve, size).tolist()
    out["curve_specific_heat"] = exact.specific_heat_per_spin(1.0 / curve, size).tolist()
    out["size"] = [size]
    return out

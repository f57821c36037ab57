"""Thermometers: read the temperature of an ensemble of L x L configurations three ways.

An ensemble of configurations is an equilibrium Ising state at temperature T only if *every*
observable takes its Ising value at that one T. Three readouts, each separately:

* **from E**: the exact finite-lattice <E>/N(T) (Kaufman) is strictly increasing, so
  ``effective_temperature`` inverts it uniquely;
* **from C**: the exact C(T)/N is not monotonic, it peaks near T_c, so each value has a branch
  below and a branch above the peak (``temperature_from_specific_heat``). An ensemble gives its
  energy fluctuation N var(E/N), which for an Ising state equals T^2 C(T)/N; the C-temperature
  of an ensemble is the T at which the Ising specific heat equals the ensemble's N var(E/N)/T^2,
  i.e. the inverse of T^2 C(T)/N (``temperature_from_energy_fluctuation``, also peaked, also
  two branches). It does not use the E-temperature, so the three readouts stay independent;
* **from |m|**: there is no exact finite-lattice <|m|>(T), so a Monte Carlo calibration table at
  the same L, made with the package's own sampler, seeded and cached in memory per
  (L, seed, n_samples), is read by interpolation (``abs_magnetization_calibration``, in
  ``ising_rg.diagnostics.magnetization_calibration``; re-exported here).

``ising_state`` combines them: the ensemble is an Ising state if some temperature lies within
``n_sigma`` errors of all three observables (the confidence sets of the three temperatures
overlap), and it says which C branch that is.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from ising_rg import exact
from ising_rg.checks import check_float_array
from ising_rg.diagnostics.magnetization_calibration import (
    CALIBRATION_TEMPERATURES,
    AbsMagnetizationCalibration,
    abs_magnetization_calibration,
)
from ising_rg.errors import IsingRGError

__all__ = [
    "CALIBRATION_TEMPERATURES",
    "AbsMagnetizationCalibration",
    "abs_magnetization_calibration",
    "effective_temperature",
    "ising_state",
    "specific_heat_peak",
    "temperature_from_abs_magnetization",
    "temperature_from_energy_fluctuation",
    "temperature_from_specific_heat",
]

# Couplings bracketing the range handled by exact.temperature_from_energy (T in [0.05, 1000]),
# taken slightly inside it; energies outside use the asymptotic forms in effective_temperature.
_K_HIGH_T = 1.1e-3
_K_LOW_T = 19.0

# Temperatures searched by the peaked (C) inversions. Below T = 0.5 the exact C/N (~e^{-8/T})
# sinks towards the ~1e-12 rounding level of Kaufman's formula and stops being invertible.
_T_PEAKED_LOW = 0.5
_T_PEAKED_HIGH = 1000.0
_BISECTIONS = 60  # a bracket of width ln(2000) ~ 7.6 shrinks to ~7e-18


def _check_size(size: Any) -> int:
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 2:
        raise IsingRGError(f"size must be an integer >= 2, got {size!r}")
    return int(size)


def _scalar_or_array(values: np.ndarray) -> float | np.ndarray:
    return float(values) if values.ndim == 0 else values


# ----------------------------------------------------------------------------------------------
# T from E
# ----------------------------------------------------------------------------------------------


def effective_temperature(energy_per_spin: Any, size: int) -> float | np.ndarray:
    """Temperature at which the exact L x L Ising energy per spin equals the given energy.

    Inverts the exact finite-lattice <E>/N(T) (Kaufman; ``exact.temperature_from_energy``) for
    energies corresponding to T in about [0.053, 909]; outside:

    * E >= 0 (no ferromagnetic order at all, e.g. independent spins, or anti-aligned): inf;
    * -2 tanh(0.0011) <= E < 0 (T > ~909): the high-temperature series E/N = -2 tanh K - O(t^3),
      T = 1 / artanh(-E/2), relative error < 3e-6;
    * E <= E(K = 19) (T < 0.053, i.e. E within ~1e-66 of -2; all spins aligned): 0;
    * E < -2 (impossible for a configuration) or non-finite: NaN.

    Parameters
    ----------
    energy_per_spin : float or array-like
        Energy per spin in units of J.
    size : int
        L (the finite-lattice curve is used; L = 40 differs from Onsager near T_c).

    Returns
    -------
    float or float64 array of the same shape, in units of J / k_B.
    """
    size = _check_size(size)
    e = check_float_array(energy_per_spin, "energy_per_spin")
    out = np.full(e.shape, np.nan)
    e_low, e_high = (float(v) for v in exact.energy_per_spin(np.array([_K_LOW_T, _K_HIGH_T]), size))
    finite = np.isfinite(e)
    inside = finite & (e > e_low) & (e < e_high)
    if np.any(inside):
        out[inside] = exact.temperature_from_energy(e[inside], size)
    high = finite & (e >= e_high) & (e < 0)
    out[high] = 1.0 / np.arctanh(-0.5 * e[high])
    out[finite & (e >= 0)] = np.inf
    out[finite & (e <= e_low) & (e >= -2.0)] = 0.0
    return _scalar_or_array(out)


# ----------------------------------------------------------------------------------------------
# T from C: two branches about the peak
# ----------------------------------------------------------------------------------------------

# Per curve: T -> the exact value, and its limit as T -> inf (C -> 0; N var(E/N) -> 2, the 2N
# bonds being pairwise independent at K = 0).
_PEAKED_CURVES = ("specific_heat", "energy_fluctuation")
_HIGH_T_LIMIT = {"specific_heat": 0.0, "energy_fluctuation": 2.0}


def _peaked_curve(kind: str, temperature: np.ndarray, size: int) -> np.ndarray:
    coupling = 1.0 / np.asarray(temperature, dtype=np.float64)
    c = np.asarray(exact.specific_heat_per_spin(coupling, size))
    return c if kind == "specific_heat" else c / coupling**2


@functools.lru_cache(maxsize=256)
def _peak(kind: str, size: int) -> tuple[float, float, float, float]:
    """(T_peak, value at the peak, value at _T_PEAKED_LOW, value at _T_PEAKED_HIGH)."""
    grid = np.geomspace(_T_PEAKED_LOW, _T_PEAKED_HIGH, 481)
    values = _peaked_curve(kind, grid, size)
    i = int(np.argmax(values))
    lo, hi = math.log(grid[max(i - 1, 0)]), math.log(grid[min(i + 1, grid.size - 1)])
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(80):  # golden section on ln T, bracket shrinks by 0.618^80 ~ 2e-17
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        fa, fb = _peaked_curve(kind, np.exp([a, b]), size)
        if fa < fb:
            lo = a
        else:
            hi = b
    t_peak = math.exp(0.5 * (lo + hi))
    ends = _peaked_curve(kind, np.array([t_peak, _T_PEAKED_LOW, _T_PEAKED_HIGH]), size)
    return t_peak, float(ends[0]), float(ends[1]), float(ends[2])


def specific_heat_peak(size: int) -> dict[str, float]:
    """Where the exact L x L specific heat and energy fluctuation peak.

    Returns
    -------
    dict
        ``temperature`` and ``specific_heat`` (C/N) at the maximum of C(T)/N;
        ``fluctuation_temperature`` and ``energy_fluctuation`` at the maximum of
        N var(E/N) = T^2 C(T)/N (J^2). E.g. L = 8: C/N = 1.19 at T = 2.36.
    """
    size = _check_size(size)
    t_c, c_max, _, _ = _peak("specific_heat", size)
    t_f, f_max, _, _ = _peak("energy_fluctuation", size)
    return {
        "temperature": t_c,
        "specific_heat": c_max,
        "fluctuation_temperature": t_f,
        "energy_fluctuation": f_max,
    }


def _bisect_branch(kind: str, target: np.ndarray, size: int, lo: float, hi: float,
                   rising: bool) -> np.ndarray:
    """T in [lo, hi] with curve(T) = target, on a branch where the curve rises (or falls) in T."""
    log_lo = np.full(target.shape, math.log(lo))
    log_hi = np.full(target.shape, math.log(hi))
    for _ in range(_BISECTIONS):
        mid = 0.5 * (log_lo + log_hi)
        below = _peaked_curve(kind, np.exp(mid), size) < target
        go_up = below if rising else ~below
        log_lo = np.where(go_up, mid, log_lo)
        log_hi = np.where(go_up, log_hi, mid)
    return np.exp(0.5 * (log_lo + log_hi))


def _peaked_inverse(kind: str, values: Any, size: int) -> tuple[float | np.ndarray, ...]:
    size = _check_size(size)
    v = check_float_array(values, kind)
    t_peak, v_peak, v_low_end, v_high_end = _peak(kind, size)
    limit = _HIGH_T_LIMIT[kind]
    low = np.full(v.shape, np.nan)
    high = np.full(v.shape, np.nan)
    finite = np.isfinite(v)
    on_curve = finite & (v <= v_peak)

    low_inside = on_curve & (v > v_low_end)
    if np.any(low_inside):
        low[low_inside] = _bisect_branch(kind, v[low_inside], size, _T_PEAKED_LOW, t_peak, True)
    low[finite & (v >= 0) & (v <= v_low_end)] = 0.0  # colder than T = 0.5: frozen

    high_inside = on_curve & (v > v_high_end)
    if np.any(high_inside):
        high[high_inside] = _bisect_branch(kind, v[high_inside], size, t_peak, _T_PEAKED_HIGH,
                                           False)
    high[finite & (v > limit) & (v <= v_high_end)] = np.inf  # hotter than T = 1000
    if kind == "specific_heat":
        high[finite & (v == 0)] = np.inf
    at_peak = finite & (v == v_peak)
    low[at_peak] = high[at_peak] = t_peak
    return _scalar_or_array(low), _scalar_or_array(high)


def temperature_from_specific_heat(
    specific_heat: Any, size: int
) -> tuple[float | np.ndarray, float | np.ndarray]:
    """Both temperatures at which the exact L x L specific heat per spin takes a given value.

    C(T)/N rises from 0 at T = 0 to a maximum near T_c (``specific_heat_peak``) and falls back
    to 0 as T -> inf, so a value below the maximum has one solution on each side of the peak.
    Each branch is found by bisection in ln T to machine precision (the inversion is
    ill-conditioned only near the peak, where C is flat).

    Parameters
    ----------
    specific_heat : float or array-like
        C/N in units of k_B.
    size : int
        L >= 2.

    Returns
    -------
    (low, high) : floats or float64 arrays of the input's shape, J / k_B
        ``low``: the solution below the peak temperature, ``high``: the one above; both equal
        the peak temperature at the maximum. NaN where C/N exceeds the finite-lattice maximum
        (no Ising state has that much specific heat), is negative or non-finite. ``low`` is 0
        where the solution lies below T = 0.5 (C/N < ~1e-5, frozen); ``high`` is inf where it
        lies above T = 1000 (C/N < ~2e-6).
    """
    return _peaked_inverse("specific_heat", specific_heat, size)


def temperature_from_energy_fluctuation(
    energy_fluctuation: Any, size: int
) -> tuple[float | np.ndarray, float | np.ndarray]:
    """The C-temperatures of an ensemble: T at which T^2 C(T)/N equals its N var(E/N).

    For an Ising state at T the energy fluctuation N var(E/N) = var(E)/N equals T^2 C(T)/N
    (fluctuation-dissipation), so solving C(T)/N = N var(E/N) / T^2 reads the temperature from
    the specific heat without borrowing T from the energy. T^2 C(T)/N rises from 0, peaks just
    above the peak of C (L = 8: 6.92 at T = 2.46) and falls to 2 as T -> inf (at K = 0 the 2N
    bond energies are pairwise independent, each of variance 1), approaching it from above.

    Parameters
    ----------
    energy_fluctuation : float or array-like
        N var(E/N) in units of J^2.
    size : int
        L >= 2.

    Returns
    -------
    (low, high) : floats or float64 arrays of the input's shape, J / k_B
        As in ``temperature_from_specific_heat``: NaN above the finite-lattice maximum; ``low``
        0 below T = 0.5; ``high`` inf above T = 1000 (2 < value < ~2.00001), and NaN for
        values <= 2, which no Ising state above the peak has.
    """
    return _peaked_inverse("energy_fluctuation", energy_fluctuation, size)


# ----------------------------------------------------------------------------------------------
# T from |m|: the Monte Carlo table of ising_rg.diagnostics.magnetization_calibration
# ----------------------------------------------------------------------------------------------


def temperature_from_abs_magnetization(
    abs_magnetization: Any, calibration: AbsMagnetizationCalibration
) -> float | np.ndarray:
    """T at which the Monte Carlo <|m|> of the L x L Ising model equals the given value.

    Parameters
    ----------
    abs_magnetization : float or array-like
        <|m|> per spin, in [0, 1].
    calibration : AbsMagnetizationCalibration
        From ``abs_magnetization_calibration`` at the same L.

    Returns
    -------
    float or float64 array, J / k_B: inf at or below the independent-spin value (T = inf);
    NaN above the value at the lowest calibrated temperature (T < 0.8: |m| within ~1e-4 of 1,
    where |m| no longer resolves T) and for non-finite input.
    """
    k = calibration.coupling_at(abs_magnetization)
    with np.errstate(divide="ignore"):
        return _scalar_or_array(1.0 / k)


# ----------------------------------------------------------------------------------------------
# The verdict
# ----------------------------------------------------------------------------------------------


def _z(value: float, error: float, model: np.ndarray, model_error: np.ndarray | float = 0.0):
    """(value - model) / combined error, element-wise; 0 / 0 counts as agreement."""
    scale = np.hypot(error, model_error)
    difference = value - model
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(scale > 0, difference / scale, np.where(difference == 0, 0.0, np.inf))
    return np.abs(z)


def _energy_readout(mean: float, error: float, size: int) -> dict[str, Any]:
    lo, hi = effective_temperature(np.array([mean - error, mean + error]), size)
    return {"value": effective_temperature(mean, size), "range": [float(lo), float(hi)]}


def _fluctuation_readout(mean: float, error: float, size: int) -> dict[str, Any]:
    t_peak, f_peak, _, _ = _peak("energy_fluctuation", size)
    low, high = temperature_from_energy_fluctuation(mean, size)
    top = min(mean + error, f_peak)
    low_lo, high_hi = temperature_from_energy_fluctuation(max(mean - error, 0.0), size)
    low_hi, high_lo = temperature_from_energy_fluctuation(top, size)
    if mean - error <= _HIGH_T_LIMIT["energy_fluctuation"]:
        high_hi = math.inf  # consistent with anything up to T = inf
    if mean - error > f_peak:
        low_lo = low_hi = high_lo = high_hi = math.nan
    return {
        "low": low,
        "high": high,
        "low_range": [float(low_lo), float(low_hi)],
        "high_range": [float(high_lo), float(high_hi)],
        "peak_temperature": t_peak,
    }


def _magnetization_readout(mean: float, error: float,
                           calibration: AbsMagnetizationCalibration) -> dict[str, Any]:
    k = float(calibration.coupling_at(mean))
    table_error = float(calibration.curve(k)[1]) if math.isfinite(k) else 0.0
    total = math.hypot(error, table_error)
    hot, cold = temperature_from_abs_magnetization(np.array([mean - total, mean + total]),
                                                   calibration)
    return {
        "value": temperature_from_abs_magnetization(mean, calibration),
        "range": [float(cold), float(hot)],
        "table_error": table_error,
    }


def _coupling_grid(centres: list[float], widths: list[float], k_max: float) -> np.ndarray:
    """Uniform couplings on [0, k_max] plus dense ones around each readout."""
    pieces = [np.linspace(0.0, k_max, 4001)]
    for centre, width in zip(centres, widths, strict=True):
        if math.isfinite(centre) and math.isfinite(width) and width > 0:
            pieces.append(np.linspace(centre - width, centre + width, 2001))
    grid = np.unique(np.concatenate(pieces))
    return grid[(grid >= 0) & (grid <= k_max)]


def _search_grid(from_energy: dict[str, Any], from_magnetization: dict[str, Any],
                 from_fluctuation: dict[str, Any], n_sigma: float, k_max: float) -> np.ndarray:
    """The couplings at which ``ising_state`` compares the observables with the Ising model:
    uniform on [0, k_max] plus, around each readout's coupling, a band n_sigma + 2 times as
    wide as its one-error range."""
    centres, widths = [], []
    for readout in (from_energy["value"], from_magnetization["value"],
                    from_fluctuation["low"], from_fluctuation["high"]):
        centres.append(1.0 / readout if readout > 0 else math.inf)
    for lo, hi in (from_energy["range"], from_magnetization["range"],
                   from_fluctuation["low_range"], from_fluctuation["high_range"]):
        with np.errstate(divide="ignore"):
            k_band = np.abs(np.diff(1.0 / np.array([lo, hi], dtype=float)))
        widths.append((n_sigma + 2.0) * float(k_band[0]) if np.isfinite(k_band[0]) else math.nan)
    return _coupling_grid(centres, widths, k_max)


def _z_on_grid(grid: np.ndarray, energy: tuple[float, float], abs_m: tuple[float, float],
               fluctuation: tuple[float, float], size: int,
               calibration: AbsMagnetizationCalibration) -> dict[str, np.ndarray]:
    """|z| of each observable, given as (mean, error), against its Ising value at every
    coupling of the grid: Kaufman's E/N and N var(E/N) = T^2 C/N (their infinite-temperature
    limits at K = 0), and the calibrated |m| with the table's error."""
    positive = np.maximum(grid, exact.K_MIN)  # K = 0 evaluated at K_MIN, where E/N = -2e-4
    e_model = np.asarray(exact.energy_per_spin(positive, size))
    c_model = np.asarray(exact.specific_heat_per_spin(positive, size))
    f_model = np.where(grid > 0, c_model / positive**2, _HIGH_T_LIMIT["energy_fluctuation"])
    e_model = np.where(grid > 0, e_model, 0.0)
    m_model, m_model_error = calibration.curve(grid)
    return {
        "energy_per_spin": _z(*energy, e_model),
        "abs_magnetization": _z(*abs_m, m_model, m_model_error),
        "energy_fluctuation": _z(*fluctuation, f_model),
    }


def _verdict(t_energy: float, k_max: float, best_t: float, max_abs_z: float, worst_name: str,
             side: str, n_sigma: float, size: int) -> tuple[str, bool | None]:
    """``ising_state``'s sentence and decision: undecided when the E-temperature lies below
    the calibrated range, else an Ising state iff the best temperature's largest |z| (that
    of ``worst_name``) is within ``n_sigma``."""
    if not t_energy >= 1.0 / k_max:  # colder than the table (or NaN): |m| cannot be read
        return (f"undecided: the E-temperature {t_energy:.4g} lies below the calibrated range "
                f"(T >= {1.0 / k_max:.3g})", None)
    if max_abs_z <= n_sigma:
        return (f"an Ising state: E, |m| and C agree with the L = {size} Ising model at "
                f"T = {best_t:.4g} within {n_sigma:g} errors (largest |z| = {max_abs_z:.2f}; "
                f"C branch {side})", True)
    names = {"energy_per_spin": "E", "abs_magnetization": "|m|", "energy_fluctuation": "C"}
    return (f"not an Ising state: no temperature fits E, |m| and C within {n_sigma:g} errors "
            f"(best T = {best_t:.4g} still misses {names[worst_name]} by "
            f"{max_abs_z:.1f} errors)", False)


def ising_state(
    energy_per_spin: tuple[float, float],
    abs_magnetization: tuple[float, float],
    energy_fluctuation: tuple[float, float],
    size: int,
    calibration: AbsMagnetizationCalibration,
    n_sigma: float = 3.0,
) -> dict[str, Any]:
    """Read T from E, |m| and C separately, and decide whether they describe one Ising state.

    Parameters
    ----------
    energy_per_spin, abs_magnetization, energy_fluctuation : (mean, standard error)
        The ensemble's <E>/N (J), <|m|> and N var(E/N) (J^2; T^2 C/N for an Ising state).
    size : int
        L.
    calibration : AbsMagnetizationCalibration
        The |m| table at this L (``abs_magnetization_calibration``).
    n_sigma : float
        Agreement threshold: the state is an Ising state if at some coupling K in the
        calibrated range [0, calibration.max_coupling] every observable lies within n_sigma
        combined errors (the ensemble's and, for |m|, the table's) of its Ising value.

    Returns
    -------
    dict
        ``temperature_from_energy``: {value, range} (range: T at E -+ 1 error);
        ``temperature_from_abs_magnetization``: {value, range, table_error};
        ``temperature_from_specific_heat``: {low, high, low_range, high_range,
        peak_temperature, side} - the two branches of ``temperature_from_energy_fluctuation``,
        ranges at 1 error, ``side`` the branch of the best temperature ('below peak' or
        'above peak');
        ``specific_heat``: C/N = N var(E/N) / T^2 at the best temperature;
        ``best_temperature``: the T minimising the largest |z| over the three observables
        (on a grid of couplings: 4001 uniform in [0, K_max] plus 2001 around each readout);
        ``z_at_best``: {energy_per_spin, abs_magnetization, energy_fluctuation} |z| there;
        ``max_abs_z``; ``ising_state``: True / False, or None when the E-temperature lies
        below the calibrated range; ``verdict``: one sentence; ``n_sigma``.
    """
    size = _check_size(size)
    if calibration.size != size:
        raise IsingRGError(f"the |m| calibration is for L = {calibration.size}, not {size}")
    (e, e_err), (m, m_err), (f, f_err) = (
        (float(a), float(b)) for a, b in (energy_per_spin, abs_magnetization, energy_fluctuation)
    )
    from_energy = _energy_readout(e, e_err, size)
    from_fluctuation = _fluctuation_readout(f, f_err, size)
    from_magnetization = _magnetization_readout(m, m_err, calibration)

    k_max = calibration.max_coupling
    grid = _search_grid(from_energy, from_magnetization, from_fluctuation, n_sigma, k_max)
    z = _z_on_grid(grid, (e, e_err), (m, m_err), (f, f_err), size, calibration)
    worst = np.max(np.stack(list(z.values())), axis=0)
    best = int(np.argmin(worst))
    best_k = float(grid[best])
    best_t = 1.0 / best_k if best_k > 0 else math.inf
    max_abs_z = float(worst[best])
    side = "below peak" if best_t < from_fluctuation["peak_temperature"] else "above peak"
    from_fluctuation["side"] = side
    worst_name = max(z, key=lambda name: z[name][best])
    verdict, is_ising = _verdict(from_energy["value"], k_max, best_t, max_abs_z, worst_name,
                                 side, n_sigma, size)
    return {
        "temperature_from_energy": from_energy,
        "temperature_from_abs_magnetization": from_magnetization,
        "temperature_from_specific_heat": from_fluctuation,
        "specific_heat": f * best_k**2,
        "best_temperature": best_t,
        "z_at_best": {name: float(values[best]) for name, values in z.items()},
        "max_abs_z": max_abs_z,
        "ising_state": is_ising,
        "verdict": verdict,
        "n_sigma": float(n_sigma),
    }

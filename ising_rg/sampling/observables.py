"""Observables of spin configurations and their statistical estimators.

Conventions: spins in {-1, +1}, arrays shaped (n_samples, L, L), periodic boundaries,
E = -sum_<ij> s_i s_j over the 2N nearest-neighbour bonds, reported per spin. The correlation
length is in ``ising_rg.estimators.correlation_length``.
"""

from __future__ import annotations

import numpy as np


def energy_per_spin(spins: np.ndarray) -> np.ndarray:
    """Energy per spin of each configuration.

    Parameters
    ----------
    spins : ndarray, shape (n_samples, L, L) or (L, L), values in {-1, +1}

    Returns
    -------
    ndarray, shape (n_samples,) (or a float for one configuration), units of J.
    """
    s = np.asarray(spins, dtype=np.int32)
    # Each site contributes its right and down bonds: 2N bonds in all, for any L.
    bonds = s * (np.roll(s, -1, axis=-1) + np.roll(s, -1, axis=-2))
    return -bonds.sum(axis=(-2, -1)) / (s.shape[-1] * s.shape[-2])


def magnetization_per_spin(spins: np.ndarray) -> np.ndarray:
    """Magnetization per spin of each configuration, shape (n_samples,) (signed)."""
    s = np.asarray(spins)
    return s.sum(axis=(-2, -1), dtype=np.int64) / (s.shape[-1] * s.shape[-2])


def binned_error(series: np.ndarray, min_bins: int = 32) -> float:
    """Standard error of the mean of a correlated series by blocking (Flyvbjerg-Petersen).

    The series is halved repeatedly into blocks; the error estimate rises with block length
    while blocks are still correlated and plateaus once they are independent. We return the
    largest estimate among block levels that keep at least ``min_bins`` blocks, a
    conservative reading of the plateau.
    """
    x = np.asarray(series, dtype=np.float64)
    if x.size < 2:
        return float("nan")
    best = x.std(ddof=1) / np.sqrt(x.size)
    while x.size // 2 >= min_bins:
        n = x.size // 2
        x = 0.5 * (x[0 : 2 * n : 2] + x[1 : 2 * n : 2])
        best = max(best, x.std(ddof=1) / np.sqrt(x.size))
    return float(best)


def jackknife(
    estimator, series: tuple[np.ndarray, ...], n_blocks: int = 32
) -> tuple[float | np.ndarray, float | np.ndarray]:
    """Value and blocked-jackknife error of a non-linear function of sample means.

    Parameters
    ----------
    estimator : callable
        Takes the per-sample series (a tuple of arrays, sliced along their first axis) and
        returns a float, or an array of any fixed shape (each entry gets its own error).
    series : tuple of ndarray, each shape (n,) or (n, ...)
        Time series, in sampling order (blocks are contiguous, so autocorrelation shorter
        than a block is handled).
    n_blocks : int
        Number of contiguous jackknife blocks.

    Returns
    -------
    (value, error) : floats for a scalar estimator, else float64 arrays of its shape.
    """
    n = len(series[0])
    n_blocks = max(2, min(n_blocks, n))
    value = np.asarray(estimator(series), dtype=np.float64)
    edges = np.linspace(0, n, n_blocks + 1).astype(int)
    leave_one_out = np.empty((n_blocks,) + value.shape)
    for b in range(n_blocks):
        keep = np.r_[0 : edges[b], edges[b + 1] : n]
        leave_one_out[b] = estimator(tuple(x[keep] for x in series))
    spread = (leave_one_out - leave_one_out.mean(axis=0)) ** 2
    error = np.sqrt((n_blocks - 1) * np.mean(spread, axis=0))
    if value.ndim == 0:
        return float(value), float(error)
    return value, error


def thermodynamics(
    energy: np.ndarray, magnetization: np.ndarray, coupling: float, n_sites: int
) -> dict[str, dict[str, float]]:
    """Means and error bars of the standard observables from per-spin time series.

    Parameters
    ----------
    energy, magnetization : ndarray, shape (n,)
        Per-spin energy and (signed) magnetization of each configuration, in sampling order.
    coupling : float
        K = J / k_B T, needed for the fluctuation formulas.
    n_sites : int
        N = L^2.

    Returns
    -------
    dict
        ``{name: {"mean": value, "error": standard error}}`` for ``energy_per_spin``,
        ``abs_magnetization``, ``specific_heat`` (C/N = K^2 N var(e)),
        ``susceptibility`` (chi/N = K N var(|m|), the finite-lattice convention using |m|)
        and ``binder_cumulant`` (U4 = 1 - <m^4> / (3 <m^2>^2)).
    """
    e = np.asarray(energy, dtype=np.float64)
    m = np.abs(np.asarray(magnetization, dtype=np.float64))
    out = {
        "energy_per_spin": {"mean": float(e.mean()), "error": binned_error(e)},
        "abs_magnetization": {"mean": float(m.mean()), "error": binned_error(m)},
    }
    for name, fn in (
        ("specific_heat", lambda s: coupling**2 * n_sites * np.var(s[0])),
        ("susceptibility", lambda s: coupling * n_sites * np.var(s[1])),
        ("binder_cumulant", lambda s: 1.0 - np.mean(s[1] ** 4) / (3.0 * np.mean(s[1] ** 2) ** 2)),
    ):
        value, error = jackknife(fn, (e, m))
        out[name] = {"mean": value, "error": error}
    return out


def integrated_autocorrelation_time(series: np.ndarray, c: float = 6.0) -> float:
    """Integrated autocorrelation time with Sokal's automatic window.

    tau_int = 1/2 + sum_{t=1}^{W} rho(t), with the smallest window W such that W >= c tau_int(W)
    (Sokal 1989; c = 6 suits near-exponential decay). The autocorrelation function is computed
    by FFT. Units: the spacing of the series. Returns 0.5 for an uncorrelated (or constant)
    series.
    """
    x = np.asarray(series, dtype=np.float64)
    n = x.size
    if n < 4:
        return 0.5
    x = x - x.mean()
    var = np.dot(x, x) / n
    if var == 0.0:
        return 0.5
    size = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(x, size)
    acf = np.fft.irfft(f * np.conj(f), size)[:n] / (n * var)
    tau = 0.5
    for window in range(1, n):
        tau += acf[window]
        if window >= c * tau:
            break
    return float(max(tau, 0.5))

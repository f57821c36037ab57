"""Effective masses of a wall-to-wall correlator: its decay rate mu(r) between neighbouring
separations, in the one-particle (cosh) and two-particle readings.

``ising_rg.estimators.correlation_length`` (its module docstring, step 3: "correlation step 3"
below) states the physics of both readings and computes the correlator; this module solves
C(r)/C(r+a) for the decay rate, elementwise by bisection. Separations and rates are in
original lattice spacings (a the site spacing, S = L a the torus side).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["KernelModel", "cosh_decay_rates", "kernel_decay_rates", "kernel_model",
           "two_particle_correlator", "two_particle_decay_rates"]

_BISECTION_STEPS = 64


def _bisect(function: Callable[[np.ndarray], np.ndarray], target: np.ndarray, low: np.ndarray,
            high: np.ndarray) -> np.ndarray:
    """Solve increasing ``function(x) = target`` elementwise on [low, high] by bisection."""
    for _ in range(_BISECTION_STEPS):
        middle = 0.5 * (low + high)
        above = function(middle) > target
        high = np.where(above, middle, high)
        low = np.where(above, low, middle)
    return 0.5 * (low + high)


def _log_ratios(correlator: np.ndarray) -> np.ndarray:
    """ln(C(r)/C(r+a)) for neighbouring separations, shape (n_r - 1,); NaN where a C <= 0."""
    upper_c, lower_c = correlator[:-1], correlator[1:]
    valid = (upper_c > 0) & (lower_c > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(valid, np.log(np.where(valid, upper_c / lower_c, 1.0)), np.nan)


def cosh_decay_rates(correlator: np.ndarray, spacing: float, size: float) -> np.ndarray:
    """mu(r) from C(r)/C(r+a) = cosh((r - S/2) mu)/cosh((r + a - S/2) mu), S = L a.

    ``correlator`` holds C at r = 0, a, ..., shape (n_r,); returns shape (n_r - 1,). The root is
    bracketed by ln(rho)/a <= mu <= ln(2 rho)/a (valid for r + a <= S/2); rho <= 1 (no decay)
    gives 0, a non-positive C gives NaN.
    """
    log_rho = _log_ratios(correlator)
    r = spacing * np.arange(log_rho.size)
    half = 0.5 * size

    def log_ratio(mu: np.ndarray) -> np.ndarray:
        return _log_cosh((r - half) * mu) - _log_cosh((r + spacing - half) * mu)

    decays = log_rho > 0
    target = np.where(decays, log_rho, 1.0)
    low = target / spacing
    high = (target + math.log(2.0)) / spacing
    mu = _bisect(log_ratio, target, low, high)
    return np.where(np.isnan(log_rho), np.nan, np.where(decays, mu, 0.0))


def _log_cosh(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    return ax + np.log1p(np.exp(-2.0 * ax)) - math.log(2.0)


def two_particle_correlator(
    separation: ArrayLike, mass: ArrayLike, size: float, spacing: float = 1.0
) -> np.ndarray:
    """Logarithm of the lattice two-particle wall-to-wall correlator (correlation step 3).

    ln sum_q w(q) [exp(-2 g(q) r) + exp(-2 g(q) (S - r))] up to an r-independent constant,
    with cosh g(q) = cosh m + 1 - cos q, w(q) = sin^2 q / sinh^4 g(q) (sinh(a g)/sinh g)^2,
    q = pi k / S, k = 1 .. S - 1.

    Parameters
    ----------
    separation : array-like, shape (...)
        r, original lattice spacings, 0 <= r <= S/2.
    mass : array-like, broadcastable with ``separation``
        One-particle mass m >= 0 (inverse original lattice spacings).
    size : float
        Torus side S = L a in original lattice spacings (an integer number of sites).
    spacing : float
        a: the walls are sums over a rows (block factor B); 1 for spins.

    Returns
    -------
    float64 array, broadcast shape of ``separation`` and ``mass``.
    """
    n_momenta = int(round(size))
    q = np.pi * np.arange(1, n_momenta) / n_momenta
    r = np.asarray(separation, dtype=np.float64)[..., np.newaxis]
    m = np.asarray(mass, dtype=np.float64)[..., np.newaxis]
    # g from cosh g = 1 + u with u = cosh m - cos q >= 0, stable for small u.
    u = (np.cosh(m) - 1.0) + 2.0 * np.sin(0.5 * q) ** 2
    g = np.log1p(u + np.sqrt(u * (u + 2.0)))
    log_sinh_g = np.log(np.sinh(g))
    log_block = 2.0 * (_log_sinh(spacing * g) - log_sinh_g)
    log_w = 2.0 * np.log(np.sin(q)) - 4.0 * log_sinh_g + log_block
    # exp(-2 g r) + exp(-2 g (S - r)) = exp(-2 g r) (1 + exp(-2 g (S - 2 r))), S - 2r >= 0.
    terms = log_w - 2.0 * g * r + np.log1p(np.exp(-2.0 * g * np.maximum(size - 2.0 * r, 0.0)))
    top = terms.max(axis=-1, keepdims=True)
    return (top + np.log(np.exp(terms - top).sum(axis=-1, keepdims=True)))[..., 0]


def _log_sinh(x: np.ndarray) -> np.ndarray:
    """ln sinh x for x > 0, without overflow."""
    return x + np.log(-np.expm1(-2.0 * x)) - math.log(2.0)


def two_particle_decay_rates(correlator: np.ndarray, spacing: float, size: float) -> np.ndarray:
    """mu(r) = 2m from C(r)/C(r+a) matched to ``two_particle_correlator`` (correlation step 3).

    The model ratio grows with m; with g(q) >= m for every q and each term's ratio >=
    exp(2 g a)/2, the root lies in 0 <= m <= ln(2 rho)/(2a).  A ratio below the m = 0 value
    (no decay resolvable on this torus) gives 0, a non-positive C gives NaN.
    """
    log_rho = _log_ratios(correlator)
    r = spacing * np.arange(log_rho.size)

    def log_ratio(mass: np.ndarray) -> np.ndarray:
        return two_particle_correlator(r, mass, size, spacing) - two_particle_correlator(
            r + spacing, mass, size, spacing
        )

    target = np.where(np.isnan(log_rho), 0.0, log_rho)
    floor = log_ratio(np.zeros_like(r))
    decays = target > floor
    high = np.maximum(np.log(2.0) + target, 1e-12) / (2.0 * spacing)
    mass = _bisect(log_ratio, target, np.zeros_like(r), high)
    return np.where(np.isnan(log_rho), np.nan, np.where(decays, 2.0 * mass, 0.0))


# ------------------------------------------------------------------- through a known kernel
#: Largest decay rate a kernel reading looks for (xi = 0.2 original lattice spacings), and the
#: largest decay mu (r + a) over a separation: the model is a sum over momenta, which resolves
#: a correlator down to about exp(-25) of its value at 0 (double precision).
_KERNEL_MAX_RATE = 5.0
_KERNEL_MAX_DECAY = 25.0
#: Smallest (no decay resolvable below it on any torus the package measures).
_KERNEL_MIN_RATE = 1e-6


def kernel_model(spectra: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """ln of the correlator at each coarse separation R of fields that respond linearly to
    the spins through known kernels, for spins with the one-particle correlator of decay
    rate mu.

    The spins' correlator is taken as the lattice propagator
    G(k) = 1 / (2 cosh mu + 2 - 2 cos k_x - 2 cos k_y) on the L x L torus: its wall-to-wall
    projection is exactly cosh((r - L/2) mu), and a transverse momentum q decays at g(q),
    cosh g = cosh mu + 1 - cos q, the one-particle dispersion of the square-lattice Ising model
    (``two_particle_correlator``). The model correlator is sum_k S(R, k) G(k), S the kernels'
    cross spectra (``ising_rg.rg.hidden_correlation.kernel_spectra``).

    Parameters
    ----------
    spectra : float64 (n_R, L, L), S(R, k) at k = 2 pi (i, j) / L
    rate : float64 (n_R,) or scalar, mu (inverse lattice spacings)

    Returns
    -------
    float64 (n_R,); NaN where the sum is not positive.
    """
    size = spectra.shape[-1]
    k = 2.0 * np.pi * np.arange(size) / size
    transverse = 4.0 - 2.0 * np.cos(k)[:, None] - 2.0 * np.cos(k)[None, :]
    mu = np.broadcast_to(np.asarray(rate, dtype=np.float64), spectra.shape[:1])
    propagator = 1.0 / (2.0 * np.cosh(mu)[:, None, None] - 2.0 + transverse[None])
    total = np.sum(spectra * propagator, axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, np.log(np.where(total > 0, total, 1.0)), np.nan)


class KernelModel:
    """``kernel_model`` of one set of kernels tabulated on a grid of decay rates, so that the
    data's every jackknife replicate is read against the same table.

    The ratio of the model at neighbouring separations need not be monotonic in mu for
    irregular kernels (trained units' responses have sign changes and uneven bins), so a
    ratio is not solved for mu; each effective mass is the mu whose model matches the data's
    log ratios over a short window of separations best (least squares on the grid, refined by
    a parabola through the best three points in ln mu). For point kernels on every site the
    ratios are those of the cosh reading.

    Parameters
    ----------
    spectra : float64 (n_R, L, L), S(R, k) (``ising_rg.rg.hidden_correlation.kernel_spectra``)
    spacing : float, a: coarse separation R is r = R a original lattice spacings
    """

    #: Decay rates tabulated: 1 / xi from 0.2 to 1000 original lattice spacings.
    GRID = np.geomspace(1e-3, _KERNEL_MAX_RATE, 800)

    def __init__(self, spectra: np.ndarray, spacing: float = 1.0) -> None:
        self.spacing = float(spacing)
        self.log_model = np.stack([kernel_model(spectra, np.full(spectra.shape[0], mu))
                                   for mu in self.GRID])  # (n_grid, n_R)
        # beyond what the sum over momenta resolves (exp(-25) of its value at 0)
        n_r = spectra.shape[0]
        resolved = self.GRID[:, None] * self.spacing * np.arange(n_r)[None, :] <= (
            _KERNEL_MAX_DECAY)
        self.log_model = np.where(resolved, self.log_model, np.nan)

    def rates(self, correlator: np.ndarray, window: int = 3) -> np.ndarray:
        """mu for each pair (R, R + 1): the best match of the log ratios at R .. R + window - 1
        (fewer where the torus ends); NaN where the data's ratios are undefined or the best
        match lies at the edge of the rates tabulated or resolved there."""
        log_rho = _log_ratios(correlator)
        model_ratio = self.log_model[:, :-1] - self.log_model[:, 1:]  # (n_grid, n_R - 1)
        out = np.full(log_rho.size, np.nan)
        ln_grid = np.log(self.GRID)
        for r in range(log_rho.size):
            span = slice(r, min(r + window, log_rho.size))
            data = log_rho[span]
            if np.isnan(data).any():
                continue
            misfit = np.sum((model_ratio[:, span] - data) ** 2, axis=1)
            if not np.isfinite(misfit).any():
                continue
            best = int(np.nanargmin(np.where(np.isfinite(misfit), misfit, np.nan)))
            # A best match at the edge of the table, or of the rates it resolves at this
            # separation, is no reading: every jackknife replicate would pin to the same edge
            # and give a value with no error that a plateau would then weight above all others.
            if not (0 < best < self.GRID.size - 1 and np.isfinite(misfit[best - 1:best + 2]).all()):
                continue
            y0, y1, y2 = misfit[best - 1:best + 2]
            curvature = y0 - 2.0 * y1 + y2
            if curvature > 0:
                step = ln_grid[best + 1] - ln_grid[best]
                out[r] = math.exp(ln_grid[best] + 0.5 * step * (y0 - y2) / curvature)
            else:
                out[r] = self.GRID[best]
        return out


def kernel_decay_rates(correlator: np.ndarray, spectra: np.ndarray | KernelModel,
                       spacing: float = 1.0) -> np.ndarray:
    """mu(R) of fields seen through known kernels: ``KernelModel(spectra).rates``.

    A kernel of width w spreads the spins' correlator over w: read with a pure cosh, the decay
    between neighbouring separations looks slower until R >> w^2 / xi, which a torus of a few
    xi never reaches; through the kernels the model has the spins' own decay rate at every R.

    Parameters
    ----------
    correlator : float64 (n_R,), C(R) at coarse separations R = 0, 1, ...
    spectra : float64 (n_R, L, L), ``kernel_model``'s S(R, k), or its ``KernelModel``
    spacing : float, a

    Returns
    -------
    float64 (n_R - 1,), mu(R) for the pairs (R, R + 1), inverse original lattice spacings.
    """
    model = spectra if isinstance(spectra, KernelModel) else KernelModel(spectra, spacing)
    return model.rates(correlator)

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

__all__ = ["cosh_decay_rates", "two_particle_correlator", "two_particle_decay_rates"]

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

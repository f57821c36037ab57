"""The infinite 2D Ising lattice: Onsager, Yang, and the exact correlation length (J = 1, K = 1/T).

* Onsager (1944): energy, specific heat and free energy per spin; critical coupling
  K_c = ln(1 + sqrt 2) / 2.
* Yang (1952): spontaneous magnetization (1 - sinh(2K)^-4)^(1/8) below T_c.
* The exact correlation length of the connected correlations on both sides of T_c, and the
  Kramers-Wannier dual coupling.
* Complete elliptic integrals by the arithmetic-geometric mean (no scipy).

Couplings K must be finite and lie in [K_MIN, K_MAX] = [1e-4, 100]; anything else raises
:class:`~ising_rg.errors.IsingRGError` with a one-line message (:func:`check_couplings`, shared
with the finite-lattice module :mod:`ising_rg.exact`). All names are also importable from
:mod:`ising_rg.exact`, the one place the rest of the package takes exact references from.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ising_rg.errors import IsingRGError

__all__ = [
    "K_MAX",
    "K_MIN",
    "check_couplings",
    "complete_elliptic_e",
    "complete_elliptic_k",
    "critical_coupling",
    "critical_temperature",
    "dual_coupling",
    "float_or_array",
    "onsager_correlation_length",
    "onsager_energy_per_spin",
    "onsager_free_energy_per_spin",
    "onsager_log_partition_per_spin",
    "onsager_specific_heat_per_spin",
    "yang_magnetization",
]

_KC = 0.5 * math.log1p(math.sqrt(2.0))  # ln(1 + sqrt 2) / 2 = 0.44068679350977...

#: Supported couplings.  Below K_MIN the high-temperature limit cancels ~1/K^2-sized terms
#: (relative error ~1e-16/K^2); above K_MAX sinh(2K)^2-sized intermediates approach overflow.
K_MIN = 1e-4
K_MAX = 100.0


# ----------------------------------------------------------------------------------------------
# Input handling
# ----------------------------------------------------------------------------------------------


def check_couplings(coupling: ArrayLike) -> tuple[NDArray[np.float64], bool]:
    """Validate couplings; return them as a float64 array and whether the input was a scalar."""
    try:
        k = np.asarray(coupling, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise IsingRGError(f"coupling must be a positive number, got {coupling!r}") from exc
    if not np.all(np.isfinite(k)):
        raise IsingRGError("coupling must be finite")
    if np.any(k <= 0.0):
        raise IsingRGError(f"coupling must be > 0, got {float(np.min(k))}")
    if np.any(k < K_MIN) or np.any(k > K_MAX):
        bad = float(k[(k < K_MIN) | (k > K_MAX)].flat[0])
        raise IsingRGError(
            f"coupling must lie in [{K_MIN:g}, {K_MAX:g}] (temperature {1 / K_MAX:g} to "
            f"{1 / K_MIN:g}), got {bad:g}"
        )
    return k, k.ndim == 0


def float_or_array(values: NDArray[np.float64], scalar: bool) -> float | NDArray[np.float64]:
    """Return a Python float for scalar input, else the array."""
    return float(values) if scalar else values


# ----------------------------------------------------------------------------------------------
# Complete elliptic integrals (no scipy): arithmetic-geometric mean
# ----------------------------------------------------------------------------------------------


def _agm_k_e(kp: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Complete elliptic integrals K(k), E(k) from the complementary modulus k' = sqrt(1 - k^2).

    Taking k' (not k) as input keeps full precision near k = 1, where Onsager's functions are
    singular and 1 - k^2 would cancel.  Uses a_0 = 1, b_0 = k', c_0 = k;
    K = pi / (2 a_inf), E = K (1 - sum_n 2^(n-1) c_n^2).
    """
    kp = np.asarray(kp, dtype=np.float64)
    a = np.ones_like(kp)
    b = kp.copy()
    c2 = (1.0 - kp) * (1.0 + kp)  # c_0^2 = k^2
    total = 0.5 * c2
    power = 0.5
    for _ in range(64):  # quadratic convergence: ~10 passes even for k' = 1e-300
        c = 0.5 * (a - b)
        a, b = 0.5 * (a + b), np.sqrt(a * b)
        power *= 2.0
        total = total + power * c * c
        if np.all(np.abs(c) <= 1e-17 * a):
            break
    # AGM(1, 0) = 0 is approached only linearly, so set K(1) = inf explicitly.
    k_fin = np.pi / (2.0 * np.where(kp == 0.0, 1.0, a))
    k_int = np.where(kp == 0.0, np.inf, k_fin)
    e_int = np.where(kp == 0.0, 1.0, k_fin * (1.0 - total))  # E(1) = 1, not inf * 0
    return k_int, e_int


def complete_elliptic_k(k: ArrayLike) -> float | NDArray[np.float64]:
    """Complete elliptic integral of the first kind, K(k) = int_0^{pi/2} (1 - k^2 sin^2)^(-1/2).

    Parameters
    ----------
    k : float or array, modulus in [0, 1] (not the parameter m = k^2). K(1) = inf.
    """
    k = np.asarray(k, dtype=np.float64)
    if np.any(~(np.abs(k) <= 1.0)):
        raise IsingRGError("elliptic modulus must lie in [-1, 1]")
    kp = np.sqrt((1.0 - k) * (1.0 + k))
    return float_or_array(_agm_k_e(kp)[0], k.ndim == 0)


def complete_elliptic_e(k: ArrayLike) -> float | NDArray[np.float64]:
    """Complete elliptic integral of the second kind, E(k) = int_0^{pi/2} (1 - k^2 sin^2)^(1/2).

    Parameters
    ----------
    k : float or array, modulus in [0, 1]. E(1) = 1.
    """
    k = np.asarray(k, dtype=np.float64)
    if np.any(~(np.abs(k) <= 1.0)):
        raise IsingRGError("elliptic modulus must lie in [-1, 1]")
    kp = np.sqrt((1.0 - k) * (1.0 + k))
    return float_or_array(_agm_k_e(kp)[1], k.ndim == 0)


# ----------------------------------------------------------------------------------------------
# Infinite lattice: Onsager and Yang
# ----------------------------------------------------------------------------------------------


def critical_coupling() -> float:
    """Exact critical coupling K_c = ln(1 + sqrt 2)/2 = 0.4406868 of the square lattice."""
    return _KC


def critical_temperature() -> float:
    """Exact critical temperature T_c = 1/K_c = 2/ln(1 + sqrt 2) = 2.2691853 (units J/k_B)."""
    return 1.0 / _KC


def _onsager_parts(k: NDArray[np.float64]):
    """Shared pieces of Onsager's formulas: coth 2K, tanh^2 2K, k'_signed, K(kappa), E(kappa).

    kappa = 2 sinh 2K / cosh^2 2K; its signed complement k'_s = 2 tanh^2 2K - 1
    = (sinh^2 2K - 1)/(sinh^2 2K + 1) vanishes at K_c (|k'_s| = sqrt(1 - kappa^2)).
    """
    s = np.sinh(2.0 * k)
    # (s - 1)(s + 1) / (1 + s^2) written to stay finite for large K (s^2 would overflow first).
    kps = ((s - 1.0) / s) * ((s + 1.0) / s) / (1.0 + 1.0 / (s * s))
    # Force the exact singular point: sinh(2 K_c) is 1 only up to rounding.
    kps = np.where(k == _KC, 0.0, kps)
    k_int, e_int = _agm_k_e(np.abs(kps))
    coth = 1.0 / np.tanh(2.0 * k)
    tanh2 = np.tanh(2.0 * k) ** 2
    return coth, tanh2, kps, k_int, e_int


def onsager_energy_per_spin(coupling: ArrayLike) -> float | NDArray[np.float64]:
    """Infinite-lattice energy per spin, <E>/N = -coth 2K [1 + (2/pi) k'_s K(kappa)].

    Here kappa = 2 sinh 2K / cosh^2 2K and k'_s = 2 tanh^2 2K - 1.  Continuous at K_c, where
    k'_s K(kappa) ~ k' ln(4/k') -> 0 and <E>/N = -sqrt 2.

    Parameters
    ----------
    coupling : float or array, K = J/(k_B T) > 0.

    Returns
    -------
    float or ndarray (same shape), units of J; between -2 (T = 0) and 0 (T = inf).
    """
    k, scalar = check_couplings(coupling)
    coth, _, kps, k_int, _ = _onsager_parts(k)
    term = np.where(kps == 0.0, 0.0, kps * np.where(np.isfinite(k_int), k_int, 0.0))
    return float_or_array(-coth * (1.0 + (2.0 / np.pi) * term), scalar)


def onsager_specific_heat_per_spin(coupling: ArrayLike) -> float | NDArray[np.float64]:
    """Infinite-lattice specific heat per spin (units k_B).

    C/N = (4/pi) (K coth 2K)^2 {K(kappa) - E(kappa) - (1 - tanh^2 2K)[pi/2 + k'_s K(kappa)]}.
    Diverges logarithmically at K_c: returns ``inf`` exactly at ``critical_coupling()``,
    finite values everywhere else.

    Parameters
    ----------
    coupling : float or array, K = 1/T in [K_MIN, K_MAX] = [1e-4, 100].

    Returns
    -------
    float or ndarray (same shape), C/N = K^2 var(E)/N.
    """
    k, scalar = check_couplings(coupling)
    coth, tanh2, kps, k_int, e_int = _onsager_parts(k)
    finite = kps != 0.0
    k_safe = np.where(finite, k_int, 0.0)
    bracket = k_safe - e_int - (1.0 - tanh2) * (0.5 * np.pi + kps * k_safe)
    c = (4.0 / np.pi) * (k * coth) ** 2 * bracket
    return float_or_array(np.where(finite, c, np.inf), scalar)


@functools.lru_cache(maxsize=4)
def _gauss_legendre_01(n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (x + 1.0), 0.5 * w


def onsager_log_partition_per_spin(coupling: ArrayLike) -> float | NDArray[np.float64]:
    """Infinite-lattice lim (ln Z)/N = -beta f (dimensionless).

    Onsager's double integral with one angle done analytically:
    ln Z/N = ln 2 + (1/2pi) int_0^pi ln[(a + sqrt(a^2 - s^2))/2] dtheta,
    a = cosh^2 2K - s cos theta, s = sinh 2K.  The only near-singularity sits at theta = 0 near
    K_c; theta = pi t^2 moves it away from the quadrature nodes, so 600-point Gauss-Legendre is
    accurate to ~1e-14.  At K_c the value is ln(2)/2 + 2G/pi (G = Catalan's constant).
    """
    k, scalar = check_couplings(coupling)
    t, w = _gauss_legendre_01(600)
    kk = k.reshape(-1, 1)
    s = np.sinh(2.0 * kk)
    theta = np.pi * t * t
    # a - s = (s - 1)^2 + 2 s sin^2(theta/2): no cancellation near theta = 0, K = K_c.
    a_minus_s = (s - 1.0) ** 2 + 2.0 * s * np.sin(0.5 * theta) ** 2
    a = a_minus_s + s
    integrand = np.log(0.5 * (a + np.sqrt(a_minus_s * (a + s))))
    # dtheta = 2 pi t dt, and the prefactor is 1/(2 pi).
    val = math.log(2.0) + (integrand * t) @ w
    return float_or_array(val.reshape(k.shape), scalar)


def onsager_free_energy_per_spin(coupling: ArrayLike) -> float | NDArray[np.float64]:
    """Infinite-lattice free energy per spin f = -T ln Z / N (units of J), T = 1/K."""
    k, scalar = check_couplings(coupling)
    return float_or_array(-np.asarray(onsager_log_partition_per_spin(k)) / k, scalar)


def yang_magnetization(coupling: ArrayLike) -> float | NDArray[np.float64]:
    """Spontaneous magnetization per spin (Yang 1952): (1 - sinh(2K)^-4)^(1/8) for K > K_c, else 0.

    Parameters
    ----------
    coupling : float or array, K = 1/T in [K_MIN, K_MAX] = [1e-4, 100].

    Returns
    -------
    float or ndarray (same shape), in [0, 1).
    """
    k, scalar = check_couplings(coupling)
    s = np.sinh(2.0 * k)
    inner = 1.0 - s ** (-4.0)
    m = np.where(k > _KC, np.clip(inner, 0.0, None) ** 0.125, 0.0)
    return float_or_array(m, scalar)


def dual_coupling(coupling: ArrayLike) -> float | NDArray[np.float64]:
    """Kramers-Wannier dual coupling K* = -ln(tanh K)/2, i.e. tanh K* = exp(-2K).

    Maps the high-temperature side onto the low-temperature side and back (K** = K); K_c is
    its fixed point.

    Parameters
    ----------
    coupling : float or array, K = 1/T in [K_MIN, K_MAX] = [1e-4, 100].

    Returns
    -------
    float or ndarray (same shape), K* > 0 (dimensionless).
    """
    k, scalar = check_couplings(coupling)
    return float_or_array(-0.5 * np.log(np.tanh(k)), scalar)


def onsager_correlation_length(coupling: ArrayLike) -> float | NDArray[np.float64]:
    """Exact infinite-lattice correlation length of the connected spin-spin correlation.

    The decay length along a lattice axis, <s_0 s_r> - <s>^2 ~ exp(-r/xi) at large r, from the
    smallest Kaufman eigenvalue gap gamma_0 = 2K + ln tanh K of the row transfer matrix:

    * above T_c (K < K_c): 1/xi = -gamma_0 = -ln tanh K - 2K (one-particle state);
    * below T_c (K > K_c): 1/xi = 2 gamma_0 = 4K + 2 ln tanh K (the connected correlation is
      carried by two-particle states, so its decay rate is twice the gap);
    * at K_c: xi = inf.

    The two sides are related by duality: xi(K) = xi_above(K*)/2 for K > K_c, with K* the dual
    coupling (``dual_coupling``).  Examples: 0.818 (K = 0.2), 1.58 (0.3), 7.47 (0.408),
    364 (0.44, just above T_c), 2.19 (0.5).

    Parameters
    ----------
    coupling : float or array, K = 1/T in [K_MIN, K_MAX] = [1e-4, 100].

    Returns
    -------
    float or ndarray (same shape), lattice spacings; ``inf`` exactly at ``critical_coupling()``.
    """
    k, scalar = check_couplings(coupling)
    gap = 2.0 * k + np.log(np.tanh(k))  # < 0 above T_c, > 0 below, 0 at K_c
    inverse = np.where(k < _KC, -gap, 2.0 * gap)
    # Exactly at K_c (and in rounding around it) the gap vanishes: xi diverges.
    usable = (k != _KC) & (inverse > 0.0)
    xi = np.where(usable, 1.0 / np.where(usable, inverse, 1.0), np.inf)
    return float_or_array(xi, scalar)

"""Exact references for the 2D nearest-neighbour Ising model (J = 1, coupling K = 1/T).

Conventions
-----------
* Energy ``E = -sum_i s_i (s_right(i) + s_down(i))`` on an L x L torus: every site owns its right
  and its down bond, so there are exactly 2N bonds (N = L^2) for *every* L >= 2.  For L = 2 the
  right and the left neighbour of a site are the same site, so each neighbouring pair is joined
  by two bonds (coupling 2K in effect).  Kaufman's transfer-matrix result counts the bonds the same
  way (the row transfer matrix has the bond (j, j+1 mod L) for every j), and the brute-force
  enumeration of :mod:`ising_rg.exact_enumeration` uses the same rule, so the two agree for
  L = 2 too.
* Per-spin quantities: ``<E>/N`` in units of J, ``C/N = K^2 var(E)/N`` in units of k_B.
* Couplings K = 1/T must be finite and lie in [K_MIN, K_MAX] = [1e-4, 100]; anything else (and
  sizes L < 2) raises :class:`~ising_rg.errors.IsingRGError` with a one-line message.

Contents
--------
* Infinite lattice: Onsager's energy, specific heat and free energy, Yang's magnetization,
  the correlation length on both sides of T_c and the dual coupling.
* Finite torus: Kaufman's exact partition function (Ferdinand & Fisher, Phys. Rev. 185, 832
  (1969), eqs. 2.1-2.5) with analytic first and second K-derivatives, evaluated in log space so
  that L of several thousand and K exactly at K_c are fine.
* Input checks shared with :mod:`ising_rg.exact_enumeration` (the brute-force oracle that
  checks all of the above and the samplers): :func:`check_couplings`, :func:`check_size`.
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ising_rg.errors import IsingRGError

__all__ = [
    "critical_coupling",
    "critical_temperature",
    "onsager_energy_per_spin",
    "onsager_specific_heat_per_spin",
    "onsager_log_partition_per_spin",
    "onsager_free_energy_per_spin",
    "yang_magnetization",
    "dual_coupling",
    "onsager_correlation_length",
    "log_partition_function",
    "energy_per_spin",
    "specific_heat_per_spin",
    "nearest_neighbour_correlation",
    "temperature_from_energy",
    "exact_summary",
    "complete_elliptic_k",
    "complete_elliptic_e",
    "check_couplings",
    "check_size",
    "float_or_array",
]

_KC = 0.5 * math.log1p(math.sqrt(2.0))  # ln(1 + sqrt 2) / 2 = 0.44068679350977...

#: Supported couplings.  Below K_MIN the high-temperature limit cancels ~1/K^2-sized terms
#: (relative error ~1e-16/K^2); above K_MAX sinh(2K)^2-sized intermediates approach overflow.
K_MIN = 1e-4
K_MAX = 100.0

# Bracket of couplings searched by temperature_from_energy (T from 0.05 to 1000).
_K_SEARCH_MIN = 1e-3
_K_SEARCH_MAX = 20.0


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


def check_size(size: int) -> int:
    """Validate a lattice linear size (an integer >= 2)."""
    if isinstance(size, bool) or not isinstance(size, numbers.Integral):
        raise IsingRGError(f"size must be an integer >= 2, got {size!r}")
    if size < 2:
        raise IsingRGError(f"size must be >= 2, got {size}")
    return int(size)


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


# ----------------------------------------------------------------------------------------------
# Finite L x L torus: Kaufman (1949) in Ferdinand & Fisher (1969) notation
# ----------------------------------------------------------------------------------------------
#
# Z = 1/2 (2 sinh 2K)^(N/2) (Z1 + Z2 + Z3 + Z4),  with a = L/2 and
#   Z1 = prod_{r=0}^{L-1} 2 cosh(a g_{2r+1}),   Z2 = prod 2 sinh(a g_{2r+1}),
#   Z3 = prod_{r=0}^{L-1} 2 cosh(a g_{2r}),     Z4 = prod 2 sinh(a g_{2r}),
#   cosh g_l = cosh 2K coth 2K - cos(pi l / L)   (l = 0 .. 2L-1),
#   g_0 = 2K + ln tanh K   (SIGNED: < 0 above T_c, which makes Z4 < 0 there).
# All g_l, l >= 1, are > 0 because cosh 2K coth 2K = x + 1/x >= 2 (x = sinh 2K).
#
# Each term is handled as (log scale, normalised value, centred first/second derivative
# numerators) so the four can be combined like a log-sum-exp and differentiated exactly.


def _log_2cosh(y):
    """ln(2 cosh y) for any real y, without overflow."""
    ay = np.abs(y)
    return ay + np.log1p(np.exp(-2.0 * ay))


def _log_2sinh(y):
    """ln(2 sinh y) for y > 0, without overflow or loss of precision for small y."""
    return y + np.log(-np.expm1(-2.0 * y))


def _cosh_term(a, gv, gd1, gd2):
    """Log of prod 2 cosh(a g) over the last axis and its first and second log-derivatives."""
    y = a * gv
    e2 = np.exp(-2.0 * np.abs(y))
    th = np.sign(y) * (1.0 - e2) / (1.0 + e2)
    sech2 = 4.0 * e2 / (1.0 + e2) ** 2
    d1 = a * th * gd1
    d2 = a * a * sech2 * gd1 * gd1 + a * th * gd2
    return _log_2cosh(y).sum(axis=1), d1.sum(axis=1), d2.sum(axis=1)


def _sinh_term(a, gv, gd1, gd2):
    """Same for prod 2 sinh(a g), g > 0."""
    y = a * gv
    e2 = np.exp(-2.0 * y)
    om = -np.expm1(-2.0 * y)  # 1 - e^{-2y}
    cth = (1.0 + e2) / om
    csch2 = 4.0 * e2 / (om * om)
    d1 = a * cth * gd1
    d2 = -a * a * csch2 * gd1 * gd1 + a * cth * gd2
    return _log_2sinh(y).sum(axis=1), d1.sum(axis=1), d2.sum(axis=1)


def _kaufman_block(k: NDArray[np.float64], size: int):
    """ln Z, d ln Z/dK and d^2 ln Z/dK^2 for a 1-D block of couplings (shape (n,) each)."""
    n_sites = size * size
    a = 0.5 * size
    kk = k.reshape(-1, 1)  # (n, 1)
    x = np.sinh(2.0 * kk)
    ch = np.cosh(2.0 * kk)
    inv_x = 1.0 / x

    # ---- g_l for l = 1 .. 2L-1 from cosh g = A - cos(theta), A = x + 1/x -------------------
    l_idx = np.arange(1, 2 * size)
    half_theta = 0.5 * np.pi * l_idx / size
    # u = cosh g - 1 = (x - 1)^2/x + 2 sin^2(theta/2): accurate when g is small (near K_c).
    u = (x - 1.0) * ((x - 1.0) * inv_x) + 2.0 * np.sin(half_theta) ** 2  # (n, 2L-1)
    sh = np.sqrt(u * (u + 2.0))  # sinh g
    g = np.log1p(u + sh)
    # dA/dK and d^2A/dK^2 with A = x + 1/x, x' = 2 cosh 2K, x'' = 4x.
    a1 = 2.0 * ch * (1.0 - inv_x * inv_x)
    a2 = 8.0 * (ch * inv_x) ** 2 * inv_x + 4.0 * (x - inv_x)
    g1 = a1 / sh  # from sinh g g' = A'
    g2 = (a2 - (1.0 + u) * g1 * g1) / sh  # from cosh g g'^2 + sinh g g'' = A''

    # ---- g_0, signed, explicit: g_0 = 2K + ln tanh K ------------------------------------
    g0 = 2.0 * kk[:, 0] + np.log(np.tanh(k))
    g0_1 = 2.0 + 2.0 * inv_x[:, 0]  # d/dK ln tanh K = 2 / sinh 2K
    g0_2 = -4.0 * ch[:, 0] * inv_x[:, 0] ** 2

    odd = slice(0, None, 2)  # l = 1, 3, ..., 2L-1  (index l-1 in the arrays above)
    even = slice(1, None, 2)  # l = 2, 4, ..., 2L-2
    go, go1, go2 = g[:, odd], g1[:, odd], g2[:, odd]
    ge, ge1, ge2 = g[:, even], g1[:, even], g2[:, even]

    l1, s1_1, s2_1 = _cosh_term(a, go, go1, go2)
    l2, s1_2, s2_2 = _sinh_term(a, go, go1, go2)
    # Z3 includes g_0 inside a cosh: even function, so its sign is irrelevant for the value,
    # but the signed g_0 and its derivative keep tanh(a g_0) g_0' right on both sides of K_c.
    l3r, s1_3r, s2_3r = _cosh_term(a, ge, ge1, ge2)
    l30, s1_30, s2_30 = _cosh_term(a, g0[:, None], g0_1[:, None], g0_2[:, None])
    l3, s1_3, s2_3 = l3r + l30, s1_3r + s1_30, s2_3r + s2_30
    # Z4 = 2 sinh(a g_0) * prod_{r>=1} 2 sinh(a g_{2r}).  The g_0 factor vanishes at K_c (and
    # changes sign there) but its derivative does not, so keep it as a value, not a logarithm:
    # scale it by e^{-a|g_0|} and carry its value and derivatives explicitly.
    l4r, s1_4, s2_4 = _sinh_term(a, ge, ge1, ge2)
    y0 = a * np.abs(g0)
    e0 = np.exp(-2.0 * y0)
    f0 = np.sign(g0) * (-np.expm1(-2.0 * y0))  # 2 sinh(a g_0) e^{-a|g_0|}
    f0_1 = a * (1.0 + e0) * g0_1  # its K-derivative, same scaling
    f0_2 = a * a * f0 * g0_1**2 + a * (1.0 + e0) * g0_2
    l4 = l4r + y0

    # Combine: Z_i = e^{l_i} z_i, Z_i' = e^{l_i} (m z_i + D1_i), Z_i'' = e^{l_i}(m^2 z_i + 2m D1_i
    # + D2_i), with a common reference slope m = S1 of Z1.  Then
    # (ln Zs)' = m + sum w D1 / sum w z,   (ln Zs)'' = sum w D2 / sum w z - (sum w D1/sum w z)^2,
    # where only differences of slopes appear (no N^2-sized cancellation at large L).
    m = s1_1
    d_2, d_3, d_4 = s1_2 - m, s1_3 - m, s1_4 - m
    logs = np.stack([l1, l2, l3, l4])
    top = logs.max(axis=0)
    w = np.exp(logs - top)
    z = np.stack([np.ones_like(m), np.ones_like(m), np.ones_like(m), f0])
    num1 = np.stack([np.zeros_like(m), d_2, d_3, f0_1 + f0 * d_4])
    num2 = np.stack(
        [
            s2_1,
            d_2 * d_2 + s2_2,
            d_3 * d_3 + s2_3,
            f0_2 + 2.0 * f0_1 * d_4 + f0 * (d_4 * d_4 + s2_4),
        ]
    )
    zs = (w * z).sum(axis=0)
    r1 = (w * num1).sum(axis=0) / zs
    r2 = (w * num2).sum(axis=0) / zs

    # Prefactor 1/2 (2 sinh 2K)^(N/2): ln(2 sinh 2K) = 2K + ln(1 - e^{-4K}) avoids overflow.
    log_pref = -math.log(2.0) + 0.5 * n_sites * (2.0 * k + np.log(-np.expm1(-4.0 * k)))
    coth2k = ch[:, 0] * inv_x[:, 0]
    log_z = log_pref + top + np.log(zs)
    dlog_z = n_sites * coth2k + m + r1
    d2log_z = -2.0 * n_sites * inv_x[:, 0] ** 2 + r2 - r1 * r1
    return log_z, dlog_z, d2log_z


def _kaufman(coupling: ArrayLike, size: int):
    """Validated, chunked driver: returns (ln Z, d ln Z/dK, d2 ln Z/dK2, scalar flag)."""
    k, scalar = check_couplings(coupling)
    size = check_size(size)
    flat = k.ravel()
    out = np.empty((3, flat.size))
    # Bound the (n_K, 2L) work arrays to ~1M elements each.
    chunk = max(1, (1 << 20) // (2 * size))
    for start in range(0, flat.size, chunk):
        stop = start + chunk
        out[:, start:stop] = _kaufman_block(flat[start:stop], size)
    return out.reshape((3,) + k.shape), scalar


def log_partition_function(coupling: ArrayLike, size: int) -> float | NDArray[np.float64]:
    """Exact ln Z of the L x L periodic Ising model (Kaufman 1949), 2N bonds, J = 1.

    Parameters
    ----------
    coupling : float or array, K = 1/T > 0.
    size : int, L >= 2 (even or odd).

    Returns
    -------
    float or ndarray (same shape as ``coupling``), dimensionless.
    """
    vals, scalar = _kaufman(coupling, size)
    return float_or_array(vals[0], scalar)


def energy_per_spin(coupling: ArrayLike, size: int) -> float | NDArray[np.float64]:
    """Exact mean energy per spin <E>/N = -(1/N) d ln Z/dK on the L x L torus.

    The derivative is taken analytically (dg_l/dK in closed form), not by finite differences.

    Parameters
    ----------
    coupling : float or array, K = 1/T in [K_MIN, K_MAX] = [1e-4, 100].
    size : int, L >= 2.

    Returns
    -------
    float or ndarray (same shape as ``coupling``), units of J, in (-2, 0).
    """
    vals, scalar = _kaufman(coupling, size)
    return float_or_array(-vals[1] / (size * size), scalar)


def specific_heat_per_spin(coupling: ArrayLike, size: int) -> float | NDArray[np.float64]:
    """Exact specific heat per spin C/N = K^2 (d^2 ln Z/dK^2)/N = K^2 var(E)/N (units k_B).

    Parameters
    ----------
    coupling : float or array, K = 1/T in [K_MIN, K_MAX] = [1e-4, 100].
    size : int, L >= 2.

    Returns
    -------
    float or ndarray (same shape as ``coupling``); finite for every finite L, including K_c
    (where it grows like (8/pi) K_c^2 ln L, Ferdinand & Fisher).
    """
    vals, scalar = _kaufman(coupling, size)
    k = np.asarray(coupling, dtype=np.float64)
    # C >= 0 exactly; at very large K the true value is ~e^{-8K} and rounding (~1e-16) could
    # make it slightly negative.
    return float_or_array(np.maximum(k * k * vals[2] / (size * size), 0.0), scalar)


def nearest_neighbour_correlation(coupling: ArrayLike, size: int) -> float | NDArray[np.float64]:
    """Exact <s_i s_j> for a nearest-neighbour bond on the L x L torus.

    By translation and 90-degree rotation symmetry of the torus all 2N bonds have the same mean,
    so <E> = -2N <s_i s_j>, i.e. <s_i s_j> = -<E>/(2N).  (For L = 2 the "bond" is one of the two
    parallel bonds between a pair; the identity still holds.)

    Returns
    -------
    float or ndarray (same shape as ``coupling``), in (0, 1).
    """
    e = energy_per_spin(coupling, size)
    return float_or_array(-0.5 * np.asarray(e), np.ndim(e) == 0)


def temperature_from_energy(energy: ArrayLike, size: int) -> float | NDArray[np.float64]:
    """Temperature T at which the exact L x L energy per spin equals ``energy``.

    <E>/N is strictly increasing in T (its T-derivative is C/N > 0), so a bisection in ln K
    over K in [1e-3, 20] (T in [0.05, 1000]) is unique and reaches machine precision.

    Parameters
    ----------
    energy : float or array, energy per spin in (-2, 0), units of J.
    size : int, L >= 2.

    Returns
    -------
    float or ndarray (same shape), T in units of J/k_B.

    Raises
    ------
    IsingRGError
        If an energy is non-finite or outside the range reachable for T in [0.05, 1000].
    """
    size = check_size(size)
    try:
        e = np.asarray(energy, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise IsingRGError(f"energy must be a number, got {energy!r}") from exc
    if not np.all(np.isfinite(e)):
        raise IsingRGError("energy must be finite")
    e_low, e_high = energy_per_spin(np.array([_K_SEARCH_MAX, _K_SEARCH_MIN]), size)
    outside = (e <= e_low) | (e >= e_high)
    if np.any(outside):
        bad = float(e[outside].flat[0])
        raise IsingRGError(
            f"energy per spin must lie in ({e_low:.6g}, {e_high:.6g}) for a temperature in "
            f"[{1 / _K_SEARCH_MAX:g}, {1 / _K_SEARCH_MIN:g}], got {bad:.6g}"
        )
    flat = e.ravel()
    lo = np.full(flat.shape, math.log(_K_SEARCH_MIN))  # high T: energy above target
    hi = np.full(flat.shape, math.log(_K_SEARCH_MAX))  # low T: energy below target
    for _ in range(60):  # bracket width ln(2e4) ~ 10 -> 10 * 2^-60 ~ 1e-17
        mid = 0.5 * (lo + hi)
        above = np.asarray(energy_per_spin(np.exp(mid), size)) > flat
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    t = np.exp(-0.5 * (lo + hi)).reshape(e.shape)
    return float_or_array(t, e.ndim == 0)


def exact_summary(coupling: float, size: int) -> dict:
    """Exact finite-lattice and infinite-lattice references at one (K, L), JSON-ready.

    Parameters
    ----------
    coupling : float, K = 1/T in [1e-4, 100].
    size : int, L >= 2.

    Returns
    -------
    dict of plain Python floats/ints.  Keys: size, n_spins, coupling, temperature,
    log_partition_function, free_energy_per_spin (-T ln Z/N), energy_per_spin,
    specific_heat_per_spin, nearest_neighbour_correlation, onsager_energy_per_spin,
    onsager_specific_heat_per_spin, onsager_free_energy_per_spin, yang_magnetization,
    onsager_correlation_length (infinite lattice, lattice spacings), critical_coupling,
    critical_temperature.  A value that is infinite (the Onsager specific heat and correlation
    length, exactly at K_c) is reported as None so the dict stays strict JSON.
    """
    k, scalar = check_couplings(coupling)
    if not scalar:
        raise IsingRGError("exact_summary takes a single coupling")
    size = check_size(size)
    kf = float(k)
    log_z = log_partition_function(kf, size)
    e = energy_per_spin(kf, size)

    def fin(v: float) -> float | None:
        v = float(v)
        return v if math.isfinite(v) else None

    return {
        "size": size,
        "n_spins": size * size,
        "coupling": kf,
        "temperature": 1.0 / kf,
        "log_partition_function": fin(log_z),
        "free_energy_per_spin": fin(-log_z / (kf * size * size)),
        "energy_per_spin": fin(e),
        "specific_heat_per_spin": fin(specific_heat_per_spin(kf, size)),
        "nearest_neighbour_correlation": fin(-0.5 * e),
        "onsager_energy_per_spin": fin(onsager_energy_per_spin(kf)),
        "onsager_specific_heat_per_spin": fin(onsager_specific_heat_per_spin(kf)),
        "onsager_free_energy_per_spin": fin(onsager_free_energy_per_spin(kf)),
        "yang_magnetization": fin(yang_magnetization(kf)),
        "onsager_correlation_length": fin(onsager_correlation_length(kf)),
        "critical_coupling": critical_coupling(),
        "critical_temperature": critical_temperature(),
    }

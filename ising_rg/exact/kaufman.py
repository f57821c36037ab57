"""Exact references for the 2D nearest-neighbour Ising model (J = 1, coupling K = 1/T).

Conventions
-----------
* Energy ``E = -sum_i s_i (s_right(i) + s_down(i))`` on an L x L torus: every site owns its right
  and its down bond, so there are exactly 2N bonds (N = L^2) for *every* L >= 2.  For L = 2 the
  right and the left neighbour of a site are the same site, so each neighbouring pair is joined
  by two bonds (coupling 2K in effect).  Kaufman's transfer-matrix result counts the bonds the same
  way (the row transfer matrix has the bond (j, j+1 mod L) for every j), and the brute-force
  enumeration of :mod:`ising_rg.exact.enumeration` uses the same rule, so the two agree for
  L = 2 too.
* Per-spin quantities: ``<E>/N`` in units of J, ``C/N = K^2 var(E)/N`` in units of k_B.
* Couplings K = 1/T must be finite and lie in [K_MIN, K_MAX] = [1e-4, 100]; anything else (and
  sizes L < 2) raises :class:`~ising_rg.errors.IsingRGError` with a one-line message.

Contents
--------
* Infinite lattice (implemented in :mod:`ising_rg.exact.onsager`, re-exported here): Onsager's
  energy, specific heat and free energy, Yang's magnetization, the correlation length on both
  sides of T_c and the dual coupling.
* Finite torus: Kaufman's exact partition function (Ferdinand & Fisher, Phys. Rev. 185, 832
  (1969), eqs. 2.1-2.5) with analytic first and second K-derivatives, evaluated in log space so
  that L of several thousand and K exactly at K_c are fine.
* Input checks shared with :mod:`ising_rg.exact.enumeration` (the brute-force oracle that
  checks all of the above and the samplers): :func:`check_couplings`, :func:`check_size`.
* :func:`exact_summary`: every exact value at (K, L), as ``ising-rg exact`` prints it.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ising_rg.errors import IsingRGError
from ising_rg.exact.onsager import (
    K_MAX,
    K_MIN,
    check_couplings,
    complete_elliptic_e,
    complete_elliptic_k,
    critical_coupling,
    critical_temperature,
    dual_coupling,
    float_or_array,
    onsager_correlation_length,
    onsager_energy_per_spin,
    onsager_free_energy_per_spin,
    onsager_log_partition_per_spin,
    onsager_specific_heat_per_spin,
    yang_magnetization,
)

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
    "exact_reference",
    "complete_elliptic_k",
    "complete_elliptic_e",
    "check_couplings",
    "check_size",
    "float_or_array",
    "K_MIN",
    "K_MAX",
]

# Bracket of couplings searched by temperature_from_energy (T from 0.05 to 1000).
_K_SEARCH_MIN = 1e-3
_K_SEARCH_MAX = 20.0


def check_size(size: int) -> int:
    """Validate a lattice linear size (an integer >= 2)."""
    if isinstance(size, bool) or not isinstance(size, numbers.Integral):
        raise IsingRGError(f"size must be an integer >= 2, got {size!r}")
    if size < 2:
        raise IsingRGError(f"size must be >= 2, got {size}")
    return int(size)


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


def exact_reference(coupling: float, size: int) -> dict[str, float]:
    """Exact <E>/N and C/N of the L x L torus at K (Kaufman): the generative checks' targets."""
    return {
        "energy_per_spin": float(energy_per_spin(coupling, size)),
        "specific_heat": float(specific_heat_per_spin(coupling, size)),
    }

"""Monte Carlo renormalization group (Swendsen 1979): the linearized RG map and its exponents.

An RG map sends the couplings K^(n) of level n (``-H/kT = sum_a K_a S_a``, operators of
:mod:`ising_rg.rg.operators`) to those of level n + 1. Its linearization at the fixed point,
T_ab = dK_a^(n+1) / dK_b^(n), follows from the chain rule applied to the mean of an operator
of level n + 1 over configurations of level 0 (Swendsen 1979):

    d<S_a^(n+1)> / dK_b^(n) = sum_c B_ac T_cb,      so     T = B^-1 A,
    A_ab = <S_a^(n+1) S_b^(n)> - <S_a^(n+1)><S_b^(n)>,
    B_ab = <S_a^(n+1) S_b^(n+1)> - <S_a^(n+1)><S_b^(n+1)>,

with S^(n) the operator sums (extensive) of the level-n configurations and S^(n+1) those of
the configurations one coarse-graining step above them. It holds for any RG map whose
conditional law P(s^(n+1) | s^(n)) does not depend on the couplings (majority rule with random
ties, decimation, a fixed network). The leading eigenvalue lambda of T over even operators
gives the thermal exponent y_t = ln(lambda) / ln(b), over odd operators the magnetic one y_h
(b the linear block size of one step). Exact 2D Ising: y_t = 1, y_h = 15/8.

Truncation: T is computed in the space of the first k operators of each list (k = 1 .. N);
its leading eigenvalue converges as k grows if the operators are ordered by importance
(short range first). Every k is reported, so the dependence is visible. Finite size: level
n + 1 of an L-lattice is an L / b^(n+1) lattice; the nearer the fixed point (larger n), the
smaller the lattice. Errors: jackknife over contiguous blocks of configurations, every
eigenvalue recomputed per replicate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ising_rg.checks import check_integer
from ising_rg.errors import IsingRGError
from ising_rg.rg.operators import EVEN_OPERATORS, ODD_OPERATORS, operator_sums
from ising_rg.sampling.observables import jackknife

__all__ = [
    "EXACT_Y_H",
    "EXACT_Y_T",
    "exponents_by_operators",
    "leading_eigenvalue",
    "linearized_rg_matrix",
    "mcrg_exponents",
]

#: Exact 2D Ising exponents: y_t = 1 / nu, y_h = d - beta / nu = 15/8.
EXACT_Y_T = 1.0
EXACT_Y_H = 15.0 / 8.0


def linearized_rg_matrix(fine: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """T = B^-1 A from the operator sums of the same configurations at two levels.

    Parameters
    ----------
    fine : ndarray, shape (n, k), S_b^(n) per configuration
    coarse : ndarray, shape (n, k), S_a^(n+1) of the same configurations coarse-grained once

    Returns
    -------
    float64 array (k, k): T_ab = dK_a^(n+1) / dK_b^(n). NaN if B is singular.
    """
    fine = np.asarray(fine, dtype=np.float64)
    coarse = np.asarray(coarse, dtype=np.float64)
    if fine.ndim != 2 or fine.shape != coarse.shape:
        raise IsingRGError(f"operator sums must be two (n, k) arrays, got {fine.shape}, "
                           f"{coarse.shape}")
    fine_c = fine - fine.mean(axis=0)
    coarse_c = coarse - coarse.mean(axis=0)
    n = fine.shape[0]
    a = coarse_c.T @ fine_c / n
    b = coarse_c.T @ coarse_c / n
    try:
        return np.linalg.solve(b, a)
    except np.linalg.LinAlgError:
        return np.full(a.shape, np.nan)


def leading_eigenvalue(matrix: np.ndarray) -> float:
    """The eigenvalue of largest real part, as a real number (its real part; NaN for a
    matrix with NaN)."""
    m = np.asarray(matrix, dtype=np.float64)
    if not np.all(np.isfinite(m)):
        return float("nan")
    return float(np.max(np.linalg.eigvals(m).real))


def _exponent(eigenvalue: float, block_size: int) -> float:
    return float(np.log(eigenvalue) / np.log(block_size)) if eigenvalue > 0 else float("nan")


def exponents_by_operators(fine: np.ndarray, coarse: np.ndarray, block_size: int) -> np.ndarray:
    """y = ln(lambda_k) / ln(b) for the truncations to the first k = 1 .. N operators.

    Parameters
    ----------
    fine, coarse : ndarray, shape (n, N), operator sums at levels n and n + 1
    block_size : int, b of one step

    Returns
    -------
    float64 array (N,): entry k - 1 uses the first k operators.
    """
    k_max = np.shape(fine)[1]
    return np.array([
        _exponent(leading_eigenvalue(linearized_rg_matrix(fine[:, :k], coarse[:, :k])),
                  block_size)
        for k in range(1, k_max + 1)
    ])


def _level_exponents(sums: list[np.ndarray], level: int, block_size: int,
                     n_blocks: int) -> dict:
    """Exponents of the step level - 1 -> level for one operator list, with jackknife errors."""
    def estimator(series):
        return exponents_by_operators(series[0], series[1], block_size)

    values, errors = jackknife(estimator, (sums[level - 1], sums[level]), n_blocks)
    by_k = [{"n_operators": k + 1, "mean": float(v), "error": float(e)}
            for k, (v, e) in enumerate(zip(values, errors, strict=True))]
    return {"mean": float(values[-1]), "error": float(errors[-1]), "by_operators": by_k}


def mcrg_exponents(levels: Sequence[np.ndarray], block_size: int,
                   even_operators: Sequence[str] = EVEN_OPERATORS,
                   odd_operators: Sequence[str] = ODD_OPERATORS,
                   n_blocks: int = 32) -> list[dict]:
    """y_t and y_h of every step of a coarse-graining hierarchy, with jackknife errors.

    Parameters
    ----------
    levels : sequence of ndarray, level n shaped (n_conf, L / b^n, L / b^n), values +-1
        The same configurations at levels 0, 1, ... (``coarse_levels``), in sampling order.
    block_size : int, b of one step
    even_operators, odd_operators : sequences of operator names
        In order of importance: the k-operator truncation uses the first k.
    n_blocks : int, jackknife blocks

    Returns
    -------
    list of dicts, one per level n = 1 .. len(levels) - 1 (the step n - 1 -> n)::

        {"level": n, "size": L / b^n,
         "y_t": {"mean", "error", "by_operators": [{"n_operators", "mean", "error"}, ...]},
         "y_h": {...}}

    ``mean`` and ``error`` of y_t and y_h are those of the largest truncation.
    """
    block_size = check_integer(block_size, "block size", 2)
    n_blocks = check_integer(n_blocks, "n_blocks", 2)
    if len(levels) < 2:
        raise IsingRGError("MCRG needs at least two levels (one coarse-graining step)")
    n_conf = np.shape(levels[0])[0]
    if any(np.shape(level)[0] != n_conf for level in levels):
        raise IsingRGError("every level must hold the same configurations")
    even = [operator_sums(level, even_operators) for level in levels]
    odd = [operator_sums(level, odd_operators) for level in levels]
    out = []
    for n in range(1, len(levels)):
        out.append({
            "level": n,
            "size": int(np.shape(levels[n])[1]),
            "y_t": _level_exponents(even, n, block_size, n_blocks),
            "y_h": _level_exponents(odd, n, block_size, n_blocks),
        })
    return out

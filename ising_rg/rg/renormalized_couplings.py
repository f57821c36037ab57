"""Couplings of a coarse Hamiltonian from its configurations: maximum pseudo-likelihood.

Model: the configurations s (n, L, L) are taken to follow ``P(s) ~ exp(sum_a K_a S_a(s))`` with
the lattice operators S_a of :mod:`ising_rg.rg.operators` (``nn``, ``nnn``, ``nn3``,
``plaquette``, ``field``, ...); the Ising model at coupling K has K_nn = K and every other
coupling 0. Units: dimensionless couplings, like K = J / kT.

Estimator: maximum pseudo-likelihood (Besag 1975). Every operator is linear in each spin,
S_a = s_i f_a,i + (rest), so the conditional law of one spin given the others is exact and
needs no partition function:

    P(s_i | rest) = exp(s_i h_i) / (2 cosh h_i),   h_i = sum_a K_a f_a,i,

and the estimate maximizes ``PL(K) = sum_configurations sum_i ln P(s_i | rest)``. Why this one:

* consistent: the pseudo-likelihood score has mean zero under the model, so the estimate
  converges to the true couplings as the data grow, for any finite set of operators that
  contains the true Hamiltonian (Besag 1975; Comets 1992 for Gibbs fields);
* concave in K (its Hessian is -sum_i (1 - tanh^2 h_i) t_i t_i^T), so the maximum is unique
  and Newton's method finds it in a few steps, from K = 0, with no tuning;
* exact likelihood would need ln Z(K) of the coarse model, which is not available;
* it *is* Swendsen's (1984) renormalized-coupling method: the stationarity condition
  sum_i <s_i f_a,i> = sum_i <f_a,i tanh h_i> is his identity <S_a> = <S~_a> (each spin
  replaced by its conditional mean), here solved by Newton's method.

A coarse Hamiltonian has infinitely many couplings; fitting a truncated set gives the
truncated model closest to the data in the pseudo-likelihood sense, not the first couplings of
the full expansion: the fitted values depend on which operators are fitted (state them).

Sufficient statistics: PL depends on a site only through the vector t_i = s_i (f_a,i)_a of small
integers (|t_a| <= the operator's coordination), because ln cosh is even. So the data reduce to
a histogram of the distinct t vectors per block of configurations; the fit and every jackknife
replicate (a full re-fit without one block, not a linearization) are Newton iterations over a few
thousand distinct vectors instead of n L^2 sites.

Errors: jackknife over ``n_blocks`` contiguous blocks of configurations (in sampling order, so
correlation between neighbouring configurations shorter than a block is accounted for).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ising_rg.checks import check_integer
from ising_rg.errors import IsingRGError
from ising_rg.rg.operators import (
    COUPLING_OPERATORS,
    LatticeOperator,
    local_field_chunks,
    operators_by_name,
)

__all__ = ["CouplingEstimate", "environment_histogram", "fit_coupling_sets", "fit_couplings",
           "maximize_pseudo_likelihood"]

_BINCOUNT_LIMIT = 1 << 22  # histogram by np.bincount when blocks x code space fits; else unique
_MAX_NEWTON_STEPS = 100
_DIVERGED = 50.0  # |K| beyond this: the data are (nearly) separable, the maximum is at infinity


@dataclass
class CouplingEstimate:
    """Fitted couplings of a coarse Hamiltonian, with jackknife errors.

    Attributes
    ----------
    names : list of str, the operators fitted
    values : float64 (n_operators,), the pseudo-likelihood estimate (NaN if it diverged)
    errors : float64 (n_operators,), jackknife standard errors
    replicates : float64 (n_blocks, n_operators), the leave-one-block-out estimates
    converged : bool, False if the full fit or a replicate diverged (values then NaN)
    n_configurations, size : int
    n_environments : int, distinct local environments t (the histogram's support)
    """

    names: list[str]
    values: np.ndarray
    errors: np.ndarray
    replicates: np.ndarray
    converged: bool
    n_configurations: int
    size: int
    n_environments: int

    def as_dict(self) -> dict[str, dict[str, float]]:
        """``{name: {"mean": value, "error": error}}`` (floats; NaN if not converged)."""
        return {name: {"mean": float(v), "error": float(e)}
                for name, v, e in zip(self.names, self.values, self.errors, strict=True)}


def _block_edges(n: int, n_blocks: int) -> np.ndarray:
    return np.linspace(0, n, n_blocks + 1).astype(np.int64)


def environment_histogram(spins: np.ndarray, operators: Sequence[LatticeOperator],
                          n_blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct local environments t_i = s_i (f_a,i)_a and their counts per block.

    Parameters
    ----------
    spins : ndarray, shape (n, L, L), values in {-1, +1}
    operators : sequence of LatticeOperator
    n_blocks : int
        Contiguous blocks of configurations (``np.linspace(0, n, n_blocks + 1)`` edges).

    Returns
    -------
    environments : int64 (m, n_operators), the distinct t vectors (sorted by code)
    counts : int64 (n_blocks, m), how many sites of each block have each environment
    """
    n = np.shape(spins)[0]
    offsets = np.array([op.coordination for op in operators], dtype=np.int64)
    radices = 2 * offsets + 1
    space = int(np.prod(radices.astype(object)))
    if space * n_blocks >= 2**62:
        raise IsingRGError("too many operators for the environment histogram")
    place = np.cumprod(np.r_[1, radices[:-1]]).astype(np.int64)
    block_of = np.searchsorted(_block_edges(n, n_blocks), np.arange(n), side="right") - 1
    dense = space * n_blocks <= _BINCOUNT_LIMIT
    total = np.zeros(space * n_blocks, dtype=np.int64) if dense else None
    keys, key_counts = [], []
    for rows, chunk, fields in local_field_chunks(spins, operators):
        code = np.zeros(chunk.shape, dtype=np.int64)
        for field, offset, weight in zip(fields, offsets, place, strict=True):
            code += (field * chunk + offset).astype(np.int64) * weight
        code += (block_of[rows] * space)[:, np.newaxis, np.newaxis]
        if dense:
            total += np.bincount(code.ravel(), minlength=total.size)
        else:
            unique, counts = np.unique(code, return_counts=True)
            keys.append(unique)
            key_counts.append(counts)
    if dense:
        key = np.flatnonzero(total)
        count = total[key]
    else:
        key, inverse = np.unique(np.concatenate(keys), return_inverse=True)
        count = np.bincount(inverse, weights=np.concatenate(key_counts)).astype(np.int64)
    code, block = key % space, key // space
    distinct, column = np.unique(code, return_inverse=True)
    counts = np.zeros((n_blocks, distinct.size), dtype=np.int64)
    np.add.at(counts, (block, column), count)
    environments = (distinct[:, np.newaxis] // place[np.newaxis, :]) % radices - offsets
    return environments, counts


def _log_2cosh(h: np.ndarray) -> np.ndarray:
    a = np.abs(h)
    return a + np.log1p(np.exp(-2.0 * a))


def _objective(t: np.ndarray, weights: np.ndarray, couplings: np.ndarray) -> float:
    h = t @ couplings
    return float(weights @ (h - _log_2cosh(h)))


def maximize_pseudo_likelihood(environments: np.ndarray, weights: np.ndarray,
                               start: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    """Newton's method (with step halving) for the maximum of the pseudo-likelihood.

    PL(K) = sum_e w_e [K.t_e - ln 2cosh(K.t_e)], gradient sum_e w_e t_e (1 - tanh K.t_e),
    Hessian -sum_e w_e (1 - tanh^2 K.t_e) t_e t_e^T (concave).

    Parameters
    ----------
    environments : ndarray (m, k), the distinct local environments t
    weights : ndarray (m,), their counts
    start : ndarray (k,), optional (default 0)

    Returns
    -------
    couplings : float64 (k,), NaN where it diverged or the problem is singular
    converged : bool
    """
    t = np.asarray(environments, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    k = t.shape[1]
    couplings = np.zeros(k) if start is None else np.array(start, dtype=np.float64)
    value = _objective(t, w, couplings)
    for _ in range(_MAX_NEWTON_STEPS):
        tanh = np.tanh(t @ couplings)
        gradient = t.T @ (w * (1.0 - tanh))
        curvature = (t * (w * (1.0 - tanh**2))[:, np.newaxis]).T @ t
        try:
            step = np.linalg.solve(curvature, gradient)
        except np.linalg.LinAlgError:
            return np.full(k, np.nan), False
        scale = 1.0
        while scale > 1e-10:  # halve until the concave objective does not decrease
            trial = couplings + scale * step
            trial_value = _objective(t, w, trial)
            if trial_value >= value - 1e-12 * abs(value):
                break
            scale *= 0.5
        couplings, value = trial, trial_value
        if not np.all(np.isfinite(couplings)) or np.max(np.abs(couplings)) > _DIVERGED:
            return np.full(k, np.nan), False
        if np.max(np.abs(scale * step)) < 1e-12:
            return couplings, True
    return couplings, bool(np.max(np.abs(scale * step)) < 1e-8)


def _check_spins(spins: np.ndarray, n_blocks: int) -> np.ndarray:
    s = np.asarray(spins)
    if s.ndim != 3 or s.shape[1] != s.shape[2] or s.shape[1] == 0:
        raise IsingRGError(f"spins must be shaped (n, L, L), got {s.shape}")
    if s.shape[0] < n_blocks:
        raise IsingRGError(f"need at least n_blocks = {n_blocks} configurations, got "
                           f"{s.shape[0]}")
    if not np.all(np.abs(s) == 1):
        raise IsingRGError("spins must take values in {-1, +1}")
    return s


def _fit_histogram(environments: np.ndarray, counts: np.ndarray, names: list[str],
                   size: int) -> CouplingEstimate:
    """Full fit and leave-one-block-out re-fits on a histogram of environments."""
    n_blocks = counts.shape[0]
    total = counts.sum(axis=0)
    values, converged = maximize_pseudo_likelihood(environments, total)
    replicates = np.full((n_blocks, len(names)), np.nan)
    if converged:
        for block in range(n_blocks):
            replicates[block], ok = maximize_pseudo_likelihood(
                environments, total - counts[block], start=values)
            converged &= ok
    errors = np.sqrt((n_blocks - 1) * np.mean((replicates - replicates.mean(axis=0)) ** 2,
                                              axis=0))
    if not converged:
        values = np.full(len(names), np.nan)
        errors = np.full(len(names), np.nan)
    n_sites = int(total.sum())
    return CouplingEstimate(
        names=list(names), values=values, errors=errors, replicates=replicates,
        converged=bool(converged), n_configurations=n_sites // (size * size), size=size,
        n_environments=int(environments.shape[0]),
    )


def _marginal(environments: np.ndarray, counts: np.ndarray,
              columns: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The histogram of the environments restricted to some operators (columns)."""
    distinct, inverse = np.unique(environments[:, columns], axis=0, return_inverse=True)
    marginal = np.zeros((counts.shape[0], distinct.shape[0]), dtype=np.int64)
    np.add.at(marginal, (slice(None), inverse.ravel()), counts)
    return distinct, marginal


def fit_coupling_sets(spins: np.ndarray,
                      operator_sets: Sequence[Sequence[str | LatticeOperator]],
                      n_blocks: int = 32) -> list[CouplingEstimate]:
    """Several truncations of the coarse Hamiltonian fitted on one histogram of the data.

    The local environments are counted once for the union of the operators; each set is fitted
    on the histogram's marginal over its own operators (the same numbers a separate
    ``fit_couplings`` call gives).

    Parameters
    ----------
    spins : ndarray, shape (n, L, L), values in {-1, +1}, in sampling order
    operator_sets : sequence of sequences of operator names, e.g. ``[COUPLING_OPERATORS,
        ["nn"]]`` (the full fit and the nearest-neighbour projection)
    n_blocks : int >= 2, jackknife blocks of contiguous configurations (at most n)

    Returns
    -------
    list of CouplingEstimate, one per set
    """
    sets = [operators_by_name(ops) for ops in operator_sets]
    if not sets:
        raise IsingRGError("need at least one set of operators")
    union: list[LatticeOperator] = []
    for op in (op for ops in sets for op in ops):
        if op not in union:
            union.append(op)
    n_blocks = check_integer(n_blocks, "n_blocks", 2)
    s = _check_spins(spins, n_blocks)
    environments, counts = environment_histogram(s, union, n_blocks)
    out = []
    for ops in sets:
        columns = [union.index(op) for op in ops]
        if columns == list(range(len(union))):
            marginal = environments, counts
        else:
            marginal = _marginal(environments, counts, columns)
        out.append(_fit_histogram(*marginal, [op.name for op in ops], int(s.shape[1])))
    return out


def fit_couplings(spins: np.ndarray,
                  operators: Sequence[str | LatticeOperator] = COUPLING_OPERATORS,
                  n_blocks: int = 32) -> CouplingEstimate:
    """Couplings of ``-H/kT = sum_a K_a S_a`` by maximum pseudo-likelihood, jackknife errors.

    Parameters
    ----------
    spins : ndarray, shape (n, L, L), values in {-1, +1}, in sampling order
    operators : sequence of operator names (default nn, nnn, nn3, plaquette, field)
    n_blocks : int >= 2
        Jackknife blocks of contiguous configurations (at most n).

    Returns
    -------
    CouplingEstimate
    """
    return fit_coupling_sets(spins, [operators], n_blocks)[0]

"""Annealed importance sampling from a mixture of product bases: one estimator for many modes.

Plain AIS (:func:`ising_rg.rbm.partition.ais_log_partition`) anneals from one product base.
Its mean weight is unbiased for Z / Z_A, but the runs only explore the basins their chains
reach: a dominant mode no run enters is missed, and the log of the mean weight is then far too
low with a small, honest-looking error (416 nats on the paper-recipe network at L = 40).

Here the base is a mixture p_A(v) = sum_m pi_m q_m(v) of product distributions q_m (one per
mode found by :func:`ising_rg.rbm.modes.explore`, plus the data's base rate), pi_m = 1/M. The
intermediate distributions, 0 = beta_0 < ... < beta_K = 1, are on v with the label m summed:

    p*_k(v) = [sum_m pi_m q_m(v)^(1 - beta_k)] exp(beta_k b.v) prod_j (1 + exp(beta_k x_j(v))),

x = c + v W; p*_0 = 2^n_hidden p_A (log Z_0 = n_hidden ln 2) and p*_K = exp(-F), so
Z_K = Z. Each run starts in a given component m (stratum: R_m runs per component, v ~ q_m),
accumulates log w += log p*_k(v) - log p*_{k-1}(v), then moves by one Gibbs sweep of the
extended model p*_k(v, h, m) = pi_m q_m(v)^(1 - beta_k) exp(-beta_k E(v, h)): the label
m ~ p(m | v), h ~ p(h | v), v ~ p(v | h, m) (a product with logits (1 - beta_k) a_m +
beta_k (b + W h)). That sweep leaves p*_k(v) invariant, so this is ordinary AIS on v and the
stratified mean

    Z_hat = Z_0 sum_m pi_m mean_{runs r of stratum m} w_r

is unbiased for Z (Neal 2001), with no assumption about the modes.

Why this and not a sum or the best of separate AIS runs, one per base: a separate run from
base m estimates, in practice, only the weight of the basins its chains reach. Summing such
estimates counts a basin once per base that reaches it (two bases in one mode: ln 2 too high,
k bases: ln k), and taking the largest drops every other basin (two equal modes: ln 2 too low).
In the mixture, a basin reached from several components is counted once, because near
beta = 0 the label of a state is resampled among every component that covers it, and its
weight carries the mixture density in the denominator; a basin reached from one component
alone contributes through that stratum's runs. ``tests/test_log_partition.py`` shows all three
on RBMs with exact log Z. What the mixture still cannot do is find a mode that no component
covers; :mod:`ising_rg.rbm.log_partition` checks the result against the largest -F(v) seen.

Per stratum m, ``log_contribution`` = ln(pi_m mean_r w_r) + ln Z_0 estimates the weight of the
basins its runs end in (when the labels do not mix, i.e. the modes are separated): their sum
is Z_hat, and contribution / Z_hat is the share of the network's weight in that mode.

Error: the delta-method standard error of the stratified mean, ln-scale,
sqrt(sum_m pi_m^2 var_m(w) / R_m) / Z_hat. Like any AIS estimate ln Z_hat is low in expectation
(Jensen) and the error does not see runs never drawn: compare seeds
(:func:`ising_rg.rbm.log_partition.log_partition` does).

The share of a set S of strata, s_S = C_S / Z_hat, has by the same delta method (the strata are
independent) the variance (1 - s_S)^2 r_S + s_S^2 (r - r_S), with r_m = pi_m^2 var_m(w) / (R_m
Z_hat^2) each stratum's relative variance, r_S their sum over S and r the sum over all strata
(:func:`share_error`; a mode made of several bases sums them). It has the same blind spot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ising_rg.checks import check_integer
from ising_rg.errors import IsingRGError
from ising_rg.rbm.modes import Base
from ising_rg.rbm.rbm import softplus
from ising_rg.rbm.scaled import ScaledRBM, magnetization
from ising_rg.seeding import bernoulli

__all__ = ["MixtureRuns", "mixture_ais", "share_error", "summarize_runs"]


@dataclass(frozen=True)
class MixtureRuns:
    """The runs of one mixture AIS batch.

    Attributes
    ----------
    log_weights : float64 (R,), ln w_r + ln Z_0 (so exp(mean) is an estimate of Z)
    strata : int64 (R,), the component each run started in
    log_pi : float64 (M,), ln pi_m
    end_states : float32 (R, n_visible), the states at beta = 1 (properly weighted by w)
    end_magnetization : float64 (R,), mean spin of each end state
    """

    log_weights: np.ndarray
    strata: np.ndarray
    log_pi: np.ndarray
    end_states: np.ndarray
    end_magnetization: np.ndarray


def _log_sum_exp(x: np.ndarray, axis: int | None = None) -> np.ndarray:
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return np.squeeze(out, axis=axis) if axis is not None else out.item()


class _Mixture:
    """ln of the components' densities and of p*_beta for a batch of states."""

    def __init__(self, bases: Sequence[Base]) -> None:
        self.logits = np.stack([base.logits for base in bases])  # (M, n_visible)
        self.log_norm = softplus(self.logits).sum(axis=1)  # ln sum_v exp(a_m . v)
        self.log_pi = np.full(len(bases), -math.log(len(bases)))

    def log_q(self, v: np.ndarray) -> np.ndarray:
        """ln q_m(v), float64 (n, M)."""
        return v.astype(np.float64) @ self.logits.T - self.log_norm

    def log_p(self, rbm: ScaledRBM, beta: float, v: np.ndarray, x: np.ndarray,
              log_q: np.ndarray) -> np.ndarray:
        """ln p*_beta(v), float64 (n,)."""
        mix = _log_sum_exp(self.log_pi + (1.0 - beta) * log_q, axis=1)
        return mix + rbm.neg_free_energy(v, x, beta)


def _check_betas(betas: np.ndarray) -> np.ndarray:
    betas = np.asarray(betas, dtype=np.float64)
    if betas.ndim != 1 or betas.size < 2 or betas[0] != 0.0 or betas[-1] != 1.0 or np.any(
            np.diff(betas) <= 0):
        raise IsingRGError("betas must increase strictly from 0 to 1")
    return betas


def mixture_ais(rbm: ScaledRBM, bases: Sequence[Base], runs_per_base: int, betas: np.ndarray,
                rng: np.random.Generator) -> MixtureRuns:
    """One batch of mixture AIS (module docstring): ``runs_per_base`` runs per component.

    Parameters
    ----------
    rbm : ScaledRBM
    bases : sequence of Base (M >= 1), each over rbm.n_visible units
    runs_per_base : int >= 1
    betas : float64 (K + 1,), 0 = beta_0 < ... < beta_K = 1
    rng : numpy Generator

    Returns
    -------
    MixtureRuns
    """
    if not bases:
        raise IsingRGError("mixture AIS needs at least one base")
    runs_per_base = check_integer(runs_per_base, "runs_per_base", 1)
    betas = _check_betas(betas)
    mixture = _Mixture(bases)
    if mixture.logits.shape[1] != rbm.n_visible:
        raise IsingRGError("the bases do not match the RBM's visible units")
    strata = np.repeat(np.arange(len(bases)), runs_per_base)
    v = bernoulli(1.0 / (1.0 + np.exp(-mixture.logits[strata])), rng)
    x = rbm.hidden_input(v)
    log_q = mixture.log_q(v)
    log_w = np.zeros(strata.size)
    log_p_prev = mixture.log_p(rbm, betas[0], v, x, log_q)
    for beta in betas[1:]:
        log_w += mixture.log_p(rbm, beta, v, x, log_q) - log_p_prev
        # the label, by the Gumbel-max trick: argmax_m (ln pi_m + (1 - beta) ln q_m(v) + G)
        scores = mixture.log_pi + (1.0 - beta) * log_q - np.log(-np.log(
            rng.random(log_q.shape)))
        labels = np.argmax(scores, axis=1)
        base_field = (1.0 - beta) * mixture.logits[labels] if beta < 1.0 else None
        v, x, _ = rbm.gibbs_step(x, beta, rng, base_field)
        log_q = mixture.log_q(v)
        log_p_prev = mixture.log_p(rbm, beta, v, x, log_q)
    log_z0 = rbm.n_hidden * math.log(2.0)
    return MixtureRuns(log_w + log_z0, strata, mixture.log_pi, v, magnetization(v))


def summarize_runs(runs: Sequence[MixtureRuns]) -> dict:
    """The stratified estimate over one or several batches of the same bases.

    Each stratum is summed on its own scale (its largest weight), so a stratum e^-400 below
    the others keeps its contribution instead of underflowing to zero.

    Returns
    -------
    dict: ``log_z`` (nats), ``error`` (delta method, ln scale), per stratum arrays
    ``log_contribution`` (ln pi_m + ln mean w, nats), ``share`` (contribution / Z_hat),
    ``effective_sample_size`` ((sum w)^2 / sum w^2 within the stratum),
    ``log_weight_variance`` (variance s^2 of ln w within the stratum; it falls as 1 / n_betas,
    and for log-normal weights the stratum's mean of N weights has the relative error
    sqrt((e^(s^2) - 1) / N)),
    ``n_runs``, ``end_magnetization`` (mean over the stratum's end states),
    ``relative_variance`` (pi_m^2 var_m(w) / (R_m Z_hat^2): the stratum's term of the squared
    error), ``share_error`` (delta method, :func:`share_error`).
    """
    log_w = np.concatenate([r.log_weights for r in runs])
    strata = np.concatenate([r.strata for r in runs])
    end_m = np.concatenate([r.end_magnetization for r in runs])
    log_pi = runs[0].log_pi
    n_strata = log_pi.size
    log_contribution = np.full(n_strata, -np.inf)
    log_variance = np.full(n_strata, -np.inf)  # ln(pi_m^2 var_m(w) / R_m)
    ess = np.zeros(n_strata)
    log_w_variance = np.zeros(n_strata)
    counts = np.bincount(strata, minlength=n_strata)
    mean_m = np.full(n_strata, np.nan)
    for m in range(n_strata):
        mine = log_w[strata == m]
        if mine.size == 0:
            continue
        top = mine.max()
        w = np.exp(mine - top)
        log_contribution[m] = log_pi[m] + top + math.log(w.mean())
        if mine.size > 1 and w.var(ddof=1) > 0:
            log_variance[m] = (2 * log_pi[m] + 2 * top + math.log(w.var(ddof=1))
                               - math.log(mine.size))
        ess[m] = w.sum() ** 2 / np.sum(w * w)
        log_w_variance[m] = mine.var(ddof=1) if mine.size > 1 else 0.0
        mean_m[m] = end_m[strata == m].mean()
    log_z = float(_log_sum_exp(log_contribution))
    error = math.exp(0.5 * float(_log_sum_exp(log_variance)) - log_z) if np.isfinite(
        log_variance).any() else 0.0
    share = np.exp(log_contribution - log_z)
    relative_variance = np.where(np.isfinite(log_variance),
                                 np.exp(log_variance - 2 * log_z), 0.0)
    return {
        "log_z": log_z,
        "error": float(error),
        "log_contribution": log_contribution,
        "share": share,
        "share_error": share_error(share, relative_variance, float(relative_variance.sum())),
        "relative_variance": relative_variance,
        "effective_sample_size": ess,
        "log_weight_variance": log_w_variance,
        "n_runs": counts,
        "end_magnetization": mean_m,
    }


def share_error(share: np.ndarray | float, relative_variance: np.ndarray | float,
                total_relative_variance: float) -> np.ndarray | float:
    """Standard error of the share s_S = C_S / Z_hat of a set S of strata (delta method).

    Parameters
    ----------
    share : s_S, the set's share of the estimate (a scalar or one per set)
    relative_variance : r_S, the sum over S of the strata's ``relative_variance``
    total_relative_variance : r, the sum over every stratum of the estimate

    Returns
    -------
    sqrt((1 - s_S)^2 r_S + s_S^2 (r - r_S)), the shape of ``share``.
    """
    s, r_set = np.asarray(share, float), np.asarray(relative_variance, float)
    variance = (1.0 - s) ** 2 * r_set + s**2 * np.maximum(total_relative_variance - r_set, 0.0)
    error = np.sqrt(variance)
    return float(error) if error.ndim == 0 else error

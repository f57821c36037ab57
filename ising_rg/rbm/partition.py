"""Partition functions of Bernoulli RBMs: exact enumeration and annealed importance sampling.

Conventions as in :mod:`ising_rg.rbm.rbm`: E(v, h) = -b.v - c.h - v.W.h, W (n_visible, n_hidden),
Z = sum_{v,h} exp(-E(v, h)). All results are natural logarithms (nats).

* :func:`exact_log_partition` sums the smaller layer out analytically and enumerates the other
  one with a Gray-code walk (numba, parallel over fixed chunks, deterministic for any thread
  count). Feasible when the smaller layer has <= ~30 units: 2^25 states of a 25-unit layer
  against 100 units take seconds.
* :func:`ais_log_partition` estimates log Z by annealed importance sampling (Neal 2001) as in
  Salakhutdinov & Murray, "On the quantitative analysis of deep belief networks" (ICML 2008);
  :func:`ais_estimate` runs it from several independent seeds and quotes an error that
  covers their scatter. AIS underestimates log Z in expectation, so log-likelihoods from it
  are optimistic.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ising_rg.checks import check_integer, check_unit_interval
from ising_rg.errors import IsingRGError, NotFittedError
from ising_rg.rbm._enumerate import gray_code_log_partition
from ising_rg.rbm.activations import softplus
from ising_rg.seeding import as_generator, bernoulli, seed_sequence

__all__ = [
    "AIS_BETAS",
    "AIS_RUNS",
    "AIS_SEEDS",
    "ais_beta_schedule",
    "ais_estimate",
    "ais_log_partition",
    "average_log_likelihood",
    "exact_log_partition",
    "rbm_parameters",
]

#: |input| bound above which the tracked exponentials of the Gray-code kernel could overflow
_TRACKED_INPUT_LIMIT = 600.0


def rbm_parameters(model: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(W, b, c) as float64 arrays from a fitted BernoulliRBM, a (W, b, c) tuple or a dict.

    A dict may use the keys ``weights, visible_bias, hidden_bias`` (or ``W, b, c``).

    Raises
    ------
    IsingRGError
        If the shapes do not chain (W (n_v, n_h), b (n_v,), c (n_h,)) or values are not finite.
    NotFittedError
        For an estimator without parameters yet.
    """
    if hasattr(model, "weights_"):
        W, b, c = model.weights_, model.visible_bias_, model.hidden_bias_
    elif isinstance(model, dict):
        try:
            W = model.get("weights", model.get("W"))
            b = model.get("visible_bias", model.get("b"))
            c = model.get("hidden_bias", model.get("c"))
        except AttributeError:
            raise IsingRGError("RBM parameters dict is malformed") from None
    elif isinstance(model, tuple | list) and len(model) == 3:
        W, b, c = model
    elif hasattr(model, "fit"):
        raise NotFittedError("this RBM is not fitted yet")
    else:
        raise IsingRGError(
            f"expected a fitted BernoulliRBM or (W, b, c), got {type(model).__name__}"
        )
    if W is None or b is None or c is None:
        raise IsingRGError("RBM parameters need weights, visible_bias and hidden_bias")
    W, b, c = (np.asarray(a, dtype=np.float64) for a in (W, b, c))
    if W.ndim != 2 or b.shape != (W.shape[0],) or c.shape != (W.shape[1],):
        raise IsingRGError(
            f"inconsistent RBM shapes: W {W.shape}, visible bias {b.shape}, hidden bias {c.shape}"
        )
    if not (np.isfinite(W).all() and np.isfinite(b).all() and np.isfinite(c).all()):
        raise IsingRGError("RBM parameters contain NaN or infinite values")
    return W, b, c


def exact_log_partition(model: Any, *, max_units: int = 25, chunk_bits: int = 12) -> float:
    """Exact log Z by enumerating the smaller layer (Gray code, numba).

    Parameters
    ----------
    model : fitted BernoulliRBM, (W, b, c) or dict
        See :func:`rbm_parameters`.
    max_units : int
        Refuse (IsingRGError) if the smaller layer has more units: the cost is
        2^n_small * n_large. Raise it deliberately, up to 40.
    chunk_bits : int
        Gray-code states per parallel chunk = 2^chunk_bits (results do not depend on it beyond
        rounding, ~1e-12 relative).

    Returns
    -------
    float
        log Z in nats.
    """
    W, b, c = rbm_parameters(model)
    n_visible, n_hidden = W.shape
    check_integer(max_units, "max_units", 1, 40)
    if n_hidden <= n_visible:  # enumerate h, sum v out
        coupling, enum_bias, other_bias = np.ascontiguousarray(W.T), c, b
    else:  # enumerate v, sum h out
        coupling, enum_bias, other_bias = np.ascontiguousarray(W), b, c
    n_enum = coupling.shape[0]
    if n_enum > max_units:
        raise IsingRGError(
            f"exact log Z needs 2^{n_enum} states (smaller layer {n_enum} units > max_units="
            f"{max_units}); use ais_log_partition"
        )
    input_bound = float(np.max(np.abs(other_bias) + np.abs(coupling).sum(axis=0)))
    tracked = input_bound < _TRACKED_INPUT_LIMIT
    return float(
        gray_code_log_partition(
            coupling,
            np.ascontiguousarray(enum_bias),
            np.ascontiguousarray(other_bias),
            int(chunk_bits),
            tracked,
        )
    )


def ais_beta_schedule(n_betas: int) -> np.ndarray:
    """Inverse temperatures 0 = beta_0 < ... < beta_{K-1} = 1 for AIS, shape (n_betas,).

    Salakhutdinov & Murray's piecewise-linear schedule scaled to ``n_betas`` points: uniform
    steps on [0, 0.5], [0.5, 0.9], [0.9, 1] in the proportions 500 : 4000 : 10000 of their
    14,500 intermediate distributions (finer where the distributions change fastest).
    """
    check_integer(n_betas, "n_betas", 3)
    n1 = max(1, round((n_betas - 1) * 500 / 14500))
    n2 = max(1, round((n_betas - 1) * 4000 / 14500))
    n3 = max(1, n_betas - 1 - n1 - n2)
    return np.concatenate(
        [
            np.linspace(0.0, 0.5, n1, endpoint=False),
            np.linspace(0.5, 0.9, n2, endpoint=False),
            np.linspace(0.9, 1.0, n3 + 1),
        ]
    )


def _base_visible_bias(base: Any, data: Any, n_visible: int) -> np.ndarray:
    if base is None:
        base = "data-mean" if data is not None else "uniform"
    if isinstance(base, str):
        if base == "uniform":
            return np.zeros(n_visible)
        if base == "data-mean":
            if data is None:
                raise IsingRGError("base='data-mean' needs the training data (data=...)")
            X = check_unit_interval(data, "data", n_features=n_visible)
            p = np.clip(X.mean(axis=0, dtype=np.float64), 1e-3, 1.0 - 1e-3)
            return np.log(p / (1.0 - p))
        raise IsingRGError(f"base must be 'data-mean', 'uniform' or an array, got {base!r}")
    bias = np.asarray(base, dtype=np.float64)
    if bias.shape != (n_visible,) or not np.isfinite(bias).all():
        raise IsingRGError(f"base visible bias must be finite with shape ({n_visible},)")
    return bias


#: Defaults of :func:`ais_estimate` (docs/metrics.md, "AIS: defaults, cost, ..."). On the exact
#: Ising RBM at 1600 x 3200, 100 runs x 10,000 temperatures scatter over seeds by 0.14 nats
#: against quoted errors of ~0.11 (30,000 are honest); on the paper's layer-1 RBM (1600 x 400)
#: two seeds at these defaults agreed within 0.3 nats (error 0.25) in ~5 minutes per seed on
#: a loaded 2-core machine. Hence two seeds and the larger of the two errors.
AIS_RUNS = 100
AIS_BETAS = 10000
AIS_SEEDS = 2


def _ais_log_weights(
    W: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    base_bias: np.ndarray,
    n_runs: int,
    betas: np.ndarray,
    rng: np.random.Generator,
    dtype: type,
) -> tuple[np.ndarray, float]:
    """The log importance weights of ``n_runs`` AIS runs, shape (n_runs,), and log Z_A."""
    n_visible, n_hidden = W.shape
    log_z_base = n_hidden * math.log(2.0) + float(softplus(base_bias).sum())
    Wd = W.astype(dtype)
    WTd = np.ascontiguousarray(Wd.T)
    bias_shift = b - base_bias  # (b - b_A) . v is the beta-linear part of log p*_k

    p_base = 1.0 / (1.0 + np.exp(-base_bias))
    v = bernoulli(p_base, rng, dtype=dtype, shape=(n_runs, n_visible))
    log_w = np.zeros(n_runs)
    x = (v @ Wd).astype(np.float64) + c  # hidden input at the current v
    log_p_prev = softplus(betas[0] * x).sum(axis=1) + betas[0] * (v @ bias_shift)
    with np.errstate(over="ignore"):
        for beta in betas[1:]:
            log_p_next = softplus(beta * x).sum(axis=1) + beta * (v @ bias_shift)
            log_w += log_p_next - log_p_prev
            # one Gibbs step at beta: h ~ p(h | v), v ~ p(v | h)
            p_h = 1.0 / (1.0 + np.exp(-beta * x))
            h = bernoulli(p_h, rng, dtype=dtype)
            field = (1.0 - beta) * base_bias + beta * (b + (h @ WTd))
            v = bernoulli(1.0 / (1.0 + np.exp(-field)), rng, dtype=dtype)
            x = (v @ Wd).astype(np.float64) + c
            log_p_prev = softplus(beta * x).sum(axis=1) + beta * (v @ bias_shift)
    return log_w, log_z_base


def _weight_summary(log_w: np.ndarray) -> tuple[float, float, float]:
    """(log mean w, delta-method standard error of it, effective sample size) of log weights.

    The effective sample size (sum w)^2 / sum w^2 is the number of runs that carry the
    estimate: near n_runs when the weights are even, a few when one run dominates.
    """
    weights = np.exp(log_w - log_w.max())
    mean_w = weights.mean()
    std_err = float(weights.std(ddof=1) / (math.sqrt(log_w.size) * mean_w))
    ess = float(weights.sum() ** 2 / np.sum(weights**2))
    return float(log_w.max() + math.log(mean_w)), std_err, ess


def _check_ais_arguments(model: Any, n_runs: int, n_betas: int, dtype: type, base: Any,
                         data: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    W, b, c = rbm_parameters(model)
    check_integer(n_runs, "n_runs", 2)
    check_integer(n_betas, "n_betas", 3)
    if dtype not in (np.float32, np.float64):
        raise IsingRGError("dtype must be numpy.float32 or numpy.float64")
    return W, b, c, _base_visible_bias(base, data, W.shape[0])


def ais_log_partition(
    model: Any,
    *,
    n_runs: int = AIS_RUNS,
    n_betas: int = AIS_BETAS,
    data: Any = None,
    base: Any = None,
    seed: Any = 0,
    dtype: type = np.float64,
) -> tuple[float, float]:
    """Estimate log Z by annealed importance sampling (Salakhutdinov & Murray 2008), one seed.

    Base model A: an RBM with the same hidden layer, zero weights, zero hidden biases and
    visible biases b_A ("base-rate" model: b_A = logit of the data mean when data are given),
    whose log Z_A = n_hidden log 2 + sum_i softplus(b_A,i) is exact. The intermediate
    distributions on v, for 0 = beta_0 < ... < beta_K = 1 (:func:`ais_beta_schedule`), are

        p*_k(v) = exp((1 - beta_k) b_A.v + beta_k b.v) prod_j (1 + exp(beta_k (c_j + (v W)_j)))
                = exp((1 - beta_k) (-F_A(v)) + beta_k (-F(v)))  (up to the constant 2^n_hidden),

    i.e. the RBM with weights and biases scaled by beta_k, visible biases interpolated. Each run
    starts with v ~ p_A exactly, accumulates log w += log p*_k(v) - log p*_{k-1}(v) and then
    moves v by one block Gibbs step (h then v) that leaves p_k invariant. Then
    Z / Z_A ~= mean(w).

    The mean weight is unbiased for Z / Z_A, so its log *underestimates* log Z in expectation
    (Jensen's inequality), and a log-likelihood -F(v) - log Z computed from it is optimistic
    (too high). With too few temperatures the weights are dominated by a few runs and the
    standard error below is too small as well: use :func:`ais_estimate`, which compares
    independent seeds and quotes the larger of the two errors.

    Parameters
    ----------
    model : fitted BernoulliRBM, (W, b, c) or dict
    n_runs : int
        Independent AIS runs (chains), run in parallel as a batch.
    n_betas : int
        Number of inverse temperatures including 0 and 1.
    data : array-like (n, n_visible), optional
        Training data for the base-rate visible biases.
    base : {'data-mean', 'uniform'} or array (n_visible,), optional
        Base visible biases; default 'data-mean' when data are given, else 'uniform' (zero).
    seed : int, SeedSequence or Generator
    dtype : numpy float type
        Precision of the matrix products (float32 is ~2x faster for big models; the
        importance weights are always accumulated in float64).

    Returns
    -------
    (log_z, std_err) : (float, float)
        log of the mean importance weight plus log Z_A (nats), and its standard error from the
        spread of the weights (delta method: std(w) / (sqrt(n_runs) mean(w))).
    """
    W, b, c, base_bias = _check_ais_arguments(model, n_runs, n_betas, dtype, base, data)
    log_w, log_z_base = _ais_log_weights(W, b, c, base_bias, int(n_runs),
                                         ais_beta_schedule(int(n_betas)), as_generator(seed),
                                         dtype)
    log_mean_w, std_err, _ = _weight_summary(log_w)
    return float(log_z_base + log_mean_w), std_err


def ais_estimate(
    model: Any,
    *,
    n_runs: int = AIS_RUNS,
    n_betas: int = AIS_BETAS,
    n_seeds: int = AIS_SEEDS,
    data: Any = None,
    base: Any = None,
    seed: int = 0,
    dtype: type = np.float32,
) -> dict[str, Any]:
    """log Z by AIS from ``n_seeds`` independent seeds, with an error bar that holds across seeds.

    Each seed is one :func:`ais_log_partition` batch of ``n_runs`` runs (streams spawned from
    ``seed``). The estimate pools all runs (log of the mean weight over every seed's runs);
    its error is the larger of

    * ``within_error``: the delta-method standard error of the pooled weights, and
    * ``seed_error``: the standard deviation of the per-seed estimates over sqrt(n_seeds),
      i.e. the standard error of their mean as measured by their scatter,

    because with too few temperatures a few runs dominate the weights, the delta method does
    not see the runs that were never drawn, and independent seeds then disagree by more than
    it says. AIS *underestimates* log Z in expectation (Jensen), so the log-likelihood
    -F(v) - log Z it gives is optimistic (an upper estimate) by about the bias, which shrinks
    with more temperatures.

    Parameters
    ----------
    model : fitted BernoulliRBM, (W, b, c) or dict
    n_runs, n_betas : runs per seed and inverse temperatures (as in ais_log_partition)
    n_seeds : int >= 2
    data, base : the base model's visible biases (as in ais_log_partition)
    seed : int, root of the seeds' streams
    dtype : precision of the matrix products (float32 default)

    Returns
    -------
    dict (JSON-ready), nats: ``log_z``, ``error`` (the larger of the two below),
    ``within_error``, ``seed_error``, ``estimates`` and ``estimate_errors`` (per seed),
    ``effective_sample_size`` (per seed, of n_runs), ``n_runs``, ``n_betas``, ``n_seeds``,
    ``method`` ("AIS").
    """
    W, b, c, base_bias = _check_ais_arguments(model, n_runs, n_betas, dtype, base, data)
    n_seeds = check_integer(n_seeds, "n_seeds", 2)
    betas = ais_beta_schedule(int(n_betas))
    all_log_w = []
    estimates, errors, sizes = [], [], []
    log_z_base = 0.0
    for stream in seed_sequence(seed).spawn(n_seeds):
        log_w, log_z_base = _ais_log_weights(W, b, c, base_bias, int(n_runs), betas,
                                             as_generator(stream), dtype)
        log_mean_w, std_err, ess = _weight_summary(log_w)
        all_log_w.append(log_w)
        estimates.append(log_z_base + log_mean_w)
        errors.append(std_err)
        sizes.append(ess)
    pooled, within_error, _ = _weight_summary(np.concatenate(all_log_w))
    seed_error = float(np.std(estimates, ddof=1) / math.sqrt(n_seeds))
    return {
        "log_z": float(log_z_base + pooled),
        "error": max(within_error, seed_error),
        "within_error": within_error,
        "seed_error": seed_error,
        "estimates": [float(e) for e in estimates],
        "estimate_errors": [float(e) for e in errors],
        "effective_sample_size": [float(e) for e in sizes],
        "n_runs": int(n_runs),
        "n_betas": int(n_betas),
        "n_seeds": int(n_seeds),
        "method": "AIS",
    }


def average_log_likelihood(model: Any, X: Any, log_z: float) -> float:
    """Mean log p(v) = mean(-F(v)) - log Z over the rows of X (nats per configuration).

    Parameters
    ----------
    model : fitted BernoulliRBM (its ``free_energy`` is used)
    X : array-like, shape (n_samples, n_visible), binary {0, 1}
    log_z : float
        From :func:`exact_log_partition` or :func:`ais_log_partition`.
    """
    if not hasattr(model, "free_energy"):
        raise IsingRGError("average_log_likelihood needs a fitted BernoulliRBM")
    return float(np.mean(model.log_likelihood(X, log_z)))

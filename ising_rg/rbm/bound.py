"""The variational lower bound on log p(v) of a DBN cut at depth l: the free energy per layer.

The l-layer model of a DBN (layers 1..l) is the top RBM l, an undirected model whose marginal
over its visible layer is p_l(x) = exp(-F_l(x)) / Z_l, under directed sigmoid layers
p(h_{k-1} | h_k) = prod_i Bernoulli(h_{k-1,i}; sigmoid(b_k + W_k h_k)), k = l-1, ..., 1, with
h_0 = v (W_k, b_k, c_k the weights, visible and hidden biases of RBM k). Its marginal is

    p^(l)(v) = sum_{h_1..h_{l-1}} p(v | h_1) ... p(h_{l-2} | h_{l-1}) p_l(h_{l-1}).

The recognition distribution is the stack's own factorial posterior,
Q(h_1..h_{l-1} | v) = prod_k Q_k(h_k | h_{k-1}), Q_k(h_k | x) = prod_j Bernoulli(h_kj;
sigmoid(c_k + x W_k)), each h_k a *binary* sample given the one below. Jensen's inequality gives
(Hinton, Osindero & Teh 2006, applied layer by layer)

    log p^(l)(v) >= B_l(v) = E_Q[ sum_{k=1}^{l-1} (log p(h_{k-1} | h_k) - log Q_k(h_k | h_{k-1}))
                                  - F_l(h_{l-1}) ] - log Z_l,

with equality when Q is the true posterior of the l-layer model; B_1(v) = -F_1(v) - log Z_1 is
RBM 1's own log-likelihood. Estimated as in Salakhutdinov & Murray (ICML 2008): per row v, S
chains h_1, ..., h_{l-1} ~ Q, every term exact given the sample (the log-ratio form, so the
estimate is exact sample by sample when Q is the true posterior, e.g. for a second layer that is
the first one's transpose), and log Z_l by exact enumeration when the top RBM's smaller layer is
small enough, else by mixture AIS over the modes chains find, checked against max -F over every
visited state (:func:`ising_rg.rbm.log_partition.log_partition`).

What a depth step measures: per row, B_{l+1}(v) - B_l(v) = E_Q[log p_{l+1}(h_l) - log p_l(h_l |
h_{l-1}) ... ], i.e. it is an identity in the posterior samples of the layers below: the
l + 1-layer model replaces RBM l's own prior over h_l (its marginal, -F_l's hidden-side
counterpart) by RBM l + 1's model of those samples. A gain therefore says how poor RBM l's
prior over its hidden layer was (a first RBM far from the data distribution gains a lot at
depth 2), not that the deeper model is closer to the Ising model's free energy in any RG sense.

Error: the per-row estimates (each the mean over its S chains) are independent across rows, so
the standard error of their mean over rows covers both the spread of log p over the data and
the Q-sampling noise; the standard error of log Z (0 if exact) is added in quadrature.

All log-probabilities are in nats per configuration. Bound estimates share their Q samples
across depths (one chain h_1, h_2, ... per row and draw), so the change of the bound from one
depth to the next has a paired, smaller error.

:func:`free_energy_by_depth` compares each depth with the exact Ising model (Kaufman's ln Z) on
Ising data, per spin: Delta F_l = B_l - log p_Ising, averaged over the rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ising_rg.checks import check_integer, check_number, check_unit_interval
from ising_rg.errors import IsingRGError, NotFittedError
from ising_rg.exact import K_MAX, K_MIN, energy_per_spin, log_partition_function
from ising_rg.rbm.activations import sigmoid, softplus
from ising_rg.rbm.ising import ising_bond_sites
from ising_rg.rbm.log_partition import log_partition
from ising_rg.rbm.partition import rbm_parameters
from ising_rg.seeding import as_generator, bernoulli, seed_stream

__all__ = [
    "BoundEstimate",
    "free_energy_by_depth",
    "ising_log_likelihood",
    "variational_bound",
    "variational_bounds",
]

#: Rows per block of the Q sampling (fixed: the random stream must not depend on memory).
_ROWS_PER_BLOCK = 256
#: Spawn keys of the random streams: Q samples, and AIS of the top RBM of depth l.
_Q_STREAM, _AIS_STREAM = 1, 2


@dataclass(frozen=True)
class BoundEstimate:
    """The variational lower bound B_l on log p(v) of the l-layer model, averaged over rows.

    Every value is in nats per configuration. ``mean`` = sum(conditional_log_likelihood) +
    sum(posterior_entropy) + top_log_weight - log_z exactly (the parts are means over the same
    rows and Q samples).

    Attributes
    ----------
    depth : int
        l, the number of layers of the model.
    mean : float
        Mean of B_l(v) over the rows.
    error : float
        Standard error of ``mean``: sqrt(sampling_error^2 + log_z_error^2).
    sampling_error : float
        Standard error over rows of the per-row estimates (data spread and Q-sampling noise).
    log_z, log_z_error : float
        log Z_l of the top RBM and its standard error (0 when exact).
    log_z_method : str
        'exact' or 'AIS (<runs> runs, <temperatures> temperatures)'.
    top_log_weight : float
        Mean of -F_l(h_{l-1}), the top RBM's unnormalised log-marginal of its input.
    conditional_log_likelihood : tuple of float, length l - 1
        Entry k - 1: mean of log p(h_{k-1} | h_k) (k = 1: the data given the first hidden layer).
    posterior_entropy : tuple of float, length l - 1
        Entry k - 1: mean of -log Q_k(h_k | h_{k-1}), a Monte Carlo estimate of the entropy.
    n_q_samples : int
        Q chains per row (0 for depth 1, which has no hidden layer to sample).
    per_row : ndarray, shape (n_rows,), float64
        B_l estimated for each row (mean over its chains, minus log_z).
    """

    depth: int
    mean: float
    error: float
    sampling_error: float
    log_z: float
    log_z_error: float
    log_z_method: str
    top_log_weight: float
    conditional_log_likelihood: tuple[float, ...]
    posterior_entropy: tuple[float, ...]
    n_q_samples: int
    per_row: np.ndarray = field(repr=False)


def _fitted_layers(dbn: Any) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rbms = getattr(dbn, "rbms_", None)
    if not rbms:
        if hasattr(dbn, "fit"):
            raise NotFittedError("this DBN is not fitted yet")
        raise IsingRGError(f"expected a fitted DBN, got {type(dbn).__name__}")
    return [rbm_parameters(rbm) for rbm in rbms]


def _check_binary(X: Any, n_visible: int | None = None) -> np.ndarray:
    """X as float32 (n_rows, n_visible) if every entry is 0 or 1."""
    V = check_unit_interval(X, "X", n_features=n_visible)
    if not np.all((V == 0) | (V == 1)):
        raise IsingRGError("log-likelihoods need binary {0, 1} data, got probabilities")
    return V


def _check_depths(depths: Any, n_layers: int) -> list[int]:
    if depths is None:
        return list(range(1, n_layers + 1))
    if isinstance(depths, int | np.integer):
        depths = [depths]
    checked = sorted({check_integer(d, "depth", 1, n_layers) for d in depths})
    if not checked:
        raise IsingRGError("depths names no depth")
    return checked


def _standard_error(values: np.ndarray) -> float:
    """Standard error of the mean of independent values (inf for a single one)."""
    if values.size < 2:
        return math.inf
    return float(values.std(ddof=1) / math.sqrt(values.size))


def _bernoulli_log_probability(x: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """sum_i log Bernoulli(x_i; sigmoid(logits_i)) per row: x.logits - sum softplus(logits)."""
    return np.einsum("ij,ij->i", x, logits) - softplus(logits).sum(axis=1)


def _top_log_partition(
    layer: tuple[np.ndarray, np.ndarray, np.ndarray],
    input_mean: np.ndarray,
    *,
    max_exact_units: int,
    n_ais_runs: int,
    n_ais_betas: int | None,
    seed: Any,
) -> tuple[float, float, str]:
    """log Z of a top RBM, its standard error and how it was obtained (``log_partition``:
    exact, or mixture AIS over the modes chains from all-up, all-down, the inputs' base rate
    and random starts find, checked against max -F over every visited state)."""
    estimate = log_partition(
        layer, input_mean[None, :], seed=int(seed.generate_state(1)[0]) if hasattr(
            seed, "generate_state") else int(seed), n_runs=n_ais_runs, n_betas=n_ais_betas,
        max_exact_units=max_exact_units)
    if estimate.method == "exact":
        return estimate.log_z, 0.0, "exact"
    checked = "bound ok" if estimate.bound_ok else "BOUND VIOLATED"
    return estimate.log_z, estimate.error, (
        f"{estimate.method} ({estimate.n_seeds} x {estimate.n_runs} runs, {estimate.n_betas} "
        f"temperatures; {checked})")


def variational_bounds(
    dbn: Any,
    X: Any,
    depths: int | Iterable[int] | None = None,
    *,
    n_q_samples: int = 10,
    max_exact_units: int = 25,
    n_ais_runs: int = 100,
    n_ais_betas: int | None = None,
    seed: int = 0,
) -> list[BoundEstimate]:
    """The variational lower bound B_l on log p(v) for each depth l, averaged over the rows of X.

    For the l-layer model of the DBN (top RBM l over directed layers l - 1, ..., 1),

        B_l(v) = E_Q[ sum_{k<l} (log p(h_{k-1} | h_k) - log Q_k(h_k | h_{k-1})) - F_l(h_{l-1}) ]
                 - log Z_l  <=  log p^(l)(v),

    h_0 = v, Q_k(h_k = 1 | x) = sigmoid(c_k + x W_k), p(h_{k-1} = 1 | h_k) = sigmoid(b_k + W_k
    h_k), F_l the top RBM's free energy (module docstring). B_1 is RBM 1's log-likelihood.
    The expectation is the mean over ``n_q_samples`` chains h_1 ~ Q_1(. | v), h_2 ~ Q_2(. | h_1),
    ... per row, shared by all depths.

    Parameters
    ----------
    dbn : fitted DBN (its ``rbms_``, bottom first)
    X : array-like, shape (n_rows, n_visible), binary {0, 1}
        The configurations to score (e.g. the training data).
    depths : int or iterable of int, optional
        Depths l in 1..n_layers to evaluate; default all.
    n_q_samples : int >= 1
        Q chains per row.
    max_exact_units : int >= 0
        log Z_l by exact enumeration when the top RBM's smaller layer has at most this many
        units (cost 2^units), else by AIS; 0 always uses AIS.
    n_ais_runs, n_ais_betas : int (n_ais_betas None: chosen by the pilot)
        AIS runs per seed and inverse temperatures (:func:`log_partition`); the base-rate start is
        the mean of the top RBM's inputs (the data for l = 1, the Q samples of h_{l-1} above).
    seed : int
        Root of the Q samples (stream ``(seed, 1)``) and of the AIS of depth l (``(seed, 2, l)``).

    Returns
    -------
    list of BoundEstimate, one per depth in increasing order (nats per configuration).

    Raises
    ------
    IsingRGError
        For non-binary X, a wrong number of columns, or a depth outside 1..n_layers.
    """
    layers = _fitted_layers(dbn)
    V = _check_binary(X, layers[0][0].shape[0])
    wanted = _check_depths(depths, len(layers))
    n_q_samples = check_integer(n_q_samples, "n_q_samples", 1)
    max_exact_units = check_integer(max_exact_units, "max_exact_units", 0, 40)
    seed = check_integer(seed, "seed", 0)
    n_draws = n_q_samples if wanted[-1] > 1 else 1  # depth 1 is deterministic: one pass
    sums = _q_sample_sums(layers, V, wanted, n_draws, as_generator(seed_stream(seed, _Q_STREAM)))
    estimates = []
    for depth in wanted:
        log_z, log_z_error, method = _top_log_partition(
            layers[depth - 1], sums.input_sum[depth - 1] / (V.shape[0] * n_draws),
            max_exact_units=max_exact_units, n_ais_runs=n_ais_runs, n_ais_betas=n_ais_betas,
            seed=seed_stream(seed, _AIS_STREAM, depth))
        estimates.append(_bound_estimate(depth, sums, n_draws, n_q_samples,
                                         (log_z, log_z_error, method)))
    return estimates


class _DrawSums(NamedTuple):
    """Sums over the Q draws, per row: -F_l(h_{l-1}) of each wanted depth l (n_rows,), the
    two terms of each directed layer k < top, log p(h_{k-1} | h_k) and -log Q_k(h_k | h_{k-1})
    (top - 1, n_rows) each; and the sum of each layer's (sampled) inputs for the AIS start."""

    top_log_weight: dict[int, np.ndarray]
    conditional: np.ndarray
    entropy: np.ndarray
    input_sum: list[np.ndarray]


def _q_sample_sums(layers: list[tuple[np.ndarray, np.ndarray, np.ndarray]], V: np.ndarray,
                   wanted: list[int], n_draws: int, rng: np.random.Generator) -> _DrawSums:
    """Draw ``n_draws`` chains h_1 ~ Q_1(. | v), h_2 ~ Q_2(. | h_1), ... up to the largest
    wanted depth for every row v of V (n_rows, n_visible), in blocks of ``_ROWS_PER_BLOCK``
    rows, and sum the bound's terms over the draws."""
    top = wanted[-1]
    n_rows = V.shape[0]
    top_log_weight = {d: np.zeros(n_rows) for d in wanted}
    conditional = np.zeros((top - 1, n_rows))
    entropy = np.zeros((top - 1, n_rows))
    input_sum = [np.zeros(layers[k][0].shape[0]) for k in range(top)]
    with np.errstate(over="ignore", under="ignore"):
        for start in range(0, n_rows, _ROWS_PER_BLOCK):
            rows = slice(start, start + _ROWS_PER_BLOCK)
            v = V[rows].astype(np.float64)
            W, b, c = layers[0]
            logits_v = v @ W + c  # the same for every draw
            input_sum[0] += v.sum(axis=0) * n_draws
            for _ in range(n_draws):
                x, logits_up = v, logits_v
                for depth in range(1, top + 1):
                    W, b, c = layers[depth - 1]
                    if depth in top_log_weight:  # -F_depth(x) = b.x + sum softplus(c + x W)
                        top_log_weight[depth][rows] += x @ b + softplus(logits_up).sum(axis=1)
                    if depth == top:
                        break
                    h = bernoulli(sigmoid(logits_up), rng)
                    conditional[depth - 1, rows] += _bernoulli_log_probability(x, h @ W.T + b)
                    entropy[depth - 1, rows] -= _bernoulli_log_probability(h, logits_up)
                    input_sum[depth] += h.sum(axis=0)
                    W_next, _, c_next = layers[depth]
                    x, logits_up = h, h @ W_next + c_next
    return _DrawSums(top_log_weight, conditional, entropy, input_sum)


def _bound_estimate(depth: int, sums: _DrawSums, n_draws: int, n_q_samples: int,
                    log_z: tuple[float, float, str]) -> BoundEstimate:
    """B_depth per row and its parts from the sums over the draws and the top RBM's
    (log Z, its standard error, how it was obtained)."""
    log_z_value, log_z_error, method = log_z
    conditional, entropy = sums.conditional[: depth - 1], sums.entropy[: depth - 1]
    directed = conditional.sum(axis=0) + entropy.sum(axis=0)
    per_row = (sums.top_log_weight[depth] + directed) / n_draws - log_z_value
    sampling_error = _standard_error(per_row)
    return BoundEstimate(
        depth=depth,
        mean=float(per_row.mean()),
        error=math.hypot(sampling_error, log_z_error),
        sampling_error=sampling_error,
        log_z=float(log_z_value),
        log_z_error=float(log_z_error),
        log_z_method=method,
        top_log_weight=float(sums.top_log_weight[depth].mean() / n_draws),
        conditional_log_likelihood=tuple(float(row.mean() / n_draws) for row in conditional),
        posterior_entropy=tuple(float(row.mean() / n_draws) for row in entropy),
        n_q_samples=n_q_samples if depth > 1 else 0,
        per_row=per_row,
    )


def variational_bound(dbn: Any, X: Any, depth: int, **options: Any) -> BoundEstimate:
    """The variational lower bound on log p(v) of the ``depth``-layer model, mean over rows.

    B_l(v) = E_Q[ sum_{k<l} (log p(h_{k-1} | h_k) - log Q_k(h_k | h_{k-1})) - F_l(h_{l-1}) ]
    - log Z_l <= log p^(l)(v) (Hinton, Osindero & Teh 2006), estimated with Q samples and exact
    or AIS log Z_l (Salakhutdinov & Murray 2008); nats per configuration. X: binary, shape
    (n_rows, n_visible). ``options`` as in :func:`variational_bounds`, which this calls with
    ``depths=depth``.
    """
    return variational_bounds(dbn, X, depth, **options)[0]


def ising_log_likelihood(X: Any, coupling: float) -> np.ndarray:
    """log p_Ising(v) = K sum_<ij> s_i s_j - ln Z(K, L) of each row, nats per configuration.

    Parameters
    ----------
    X : array-like, shape (n_rows, L*L), binary {0, 1}
        Visible rows v = (s + 1) / 2 of the periodic L x L lattice, site i = row*L + col.
    coupling : float
        K = J / k_B T.

    Returns
    -------
    ndarray, shape (n_rows,), float64; ln Z from Kaufman's finite-torus solution.
    """
    coupling = check_number(coupling, "coupling", minimum=K_MIN, maximum=K_MAX)
    V = _check_binary(X)
    size = math.isqrt(V.shape[1])
    if size * size != V.shape[1] or size < 2:
        raise IsingRGError(f"X has {V.shape[1]} columns, not the sites of an L x L lattice")
    spins = 2.0 * V - 1.0  # float32: the bond sums are small integers, exact
    bonds = ising_bond_sites(size)
    bond_sum = np.einsum("ij,ij->i", spins[:, bonds[:, 0]], spins[:, bonds[:, 1]])
    return coupling * bond_sum.astype(np.float64) - float(log_partition_function(coupling, size))


def _mean_error(values: np.ndarray, extra_error: float = 0.0) -> dict[str, float]:
    """{"mean", "error"} of a mean over rows, the error widened by an independent one."""
    return {"mean": float(values.mean()), "error": math.hypot(_standard_error(values),
                                                              extra_error)}


def _depth_entry(estimate: BoundEstimate, previous: BoundEstimate | None,
                 reference: np.ndarray, n_spins: int) -> dict[str, Any]:
    """``free_energy_by_depth``'s entry of one depth: its bound per spin against the exact
    Ising log-likelihood of the rows, ``reference`` (n_rows,), and the change from the
    ``previous`` depth listed (paired over rows and Q samples; None for the first)."""
    per_spin = estimate.per_row / n_spins
    relative_error = estimate.log_z_error / n_spins
    entry = {
        "depth": estimate.depth,
        "bound_per_spin": _mean_error(per_spin, relative_error),
        "delta_f_per_spin": _mean_error(per_spin - reference / n_spins, relative_error),
        "change_per_spin": None,
        "log_z": estimate.log_z,
        "log_z_error": estimate.log_z_error,
        "log_z_method": estimate.log_z_method,
        "n_q_samples": estimate.n_q_samples,
        "parts_per_spin": {
            "top_log_weight": estimate.top_log_weight / n_spins,
            "conditional_log_likelihood": [
                x / n_spins for x in estimate.conditional_log_likelihood],
            "posterior_entropy": [x / n_spins for x in estimate.posterior_entropy],
        },
    }
    if previous is not None:
        entry["change_per_spin"] = _mean_error(
            per_spin - previous.per_row / n_spins,
            math.hypot(estimate.log_z_error, previous.log_z_error) / n_spins)
    return entry


def free_energy_by_depth(
    dbn: Any,
    visible: Any,
    coupling: float,
    *,
    depths: int | Iterable[int] | None = None,
    n_rows: int | None = 2000,
    **options: Any,
) -> dict[str, Any]:
    """Delta F_l per spin: the l-layer bound against the exact Ising log-likelihood, l = 1, 2, ...

    For each depth l, on ``n_rows`` evenly spaced rows v of the Ising data,

        Delta F_l = mean_v [B_l(v) - log p_Ising(v)] / N,   log p_Ising(v) = -K E(v) - ln Z,

    N the number of spins and ln Z Kaufman's. On data drawn from the Ising model this estimates
    E_p[B_l] / N - (-K <E>/N - ln Z / N) <= 0: minus the KL divergence per spin from the
    Ising model to the l-layer model, minus the bound's own slack. The row-by-row difference
    has a much smaller spread than either term, hence a smaller error. 0 means the l-layer model
    holds the Ising free energy; l = 1 is RBM 1's own log-likelihood.

    Parameters
    ----------
    dbn : fitted DBN over N = L*L visible units
    visible : array-like, shape (n_samples, L*L), binary {0, 1}
        Ising configurations v = (s + 1) / 2 the network was not trained on (its held-out
        rows: a bound scored on training rows mixes the fit with overfitting).
    coupling : float
        K of the data.
    depths : int or iterable of int, optional
        Default all layers.
    n_rows : int or None
        Rows used (evenly spaced); None for all.
    **options
        Passed to :func:`variational_bounds` (n_q_samples, max_exact_units, n_ais_runs,
        n_ais_betas, seed).

    Returns
    -------
    dict, JSON-ready; per-spin values in nats per spin, ``{"mean", "error"}`` a mean over rows
    with its standard error (the log Z error included):

    * ``n_spins``, ``n_rows``, ``coupling``;
    * ``ising_per_spin``: -K <E>/N - ln Z / N, the exact Ising log-likelihood (minus the entropy
      per spin, Kaufman); ``data_ising_per_spin``: the mean of log p_Ising over the rows used,
      which it should match within its error;
    * ``layers``: per depth, ``depth``, ``bound_per_spin`` (B_l / N), ``delta_f_per_spin``,
      ``change_per_spin`` (Delta F_l - Delta F_{l-1}, paired over rows and Q samples; null for
      the first depth listed), ``log_z``, ``log_z_error`` (nats), ``log_z_method``,
      ``n_q_samples``, and ``parts_per_spin`` (``top_log_weight``,
      ``conditional_log_likelihood`` and ``posterior_entropy`` per directed layer, see
      :class:`BoundEstimate`).
    """
    V = check_unit_interval(visible, "visible")
    if n_rows is not None:
        n_rows = check_integer(n_rows, "n_rows", 2)
        if n_rows < V.shape[0]:
            V = V[np.linspace(0, V.shape[0] - 1, n_rows).round().astype(np.int64)]
    n_spins = V.shape[1]
    reference = ising_log_likelihood(V, coupling)
    estimates = variational_bounds(dbn, V, depths, **options)
    size = math.isqrt(n_spins)
    ising = -coupling * float(energy_per_spin(coupling, size)) - float(
        log_partition_function(coupling, size)) / n_spins
    layers = []
    previous = None
    for estimate in estimates:
        layers.append(_depth_entry(estimate, previous, reference, n_spins))
        previous = estimate
    return {
        "n_spins": n_spins,
        "n_rows": int(V.shape[0]),
        "coupling": float(coupling),
        "ising_per_spin": ising,
        "data_ising_per_spin": _mean_error(reference / n_spins),
        "layers": layers,
    }

"""The CD-k / PCD-k trainer of :class:`~ising_rg.rbm.rbm.BernoulliRBM`: minibatch updates and
the epoch loop with its per-epoch monitoring.

The default training recipe is Hinton & Salakhutdinov's Matlab ``rbm.m`` (Science 2006) with an
L1 weight penalty in place of its L2 "weight cost", which is what Mehta & Schwab mean by
"L1 in place of L2":

* CD-1: the positive phase uses the hidden *probabilities* P(h|v_data) for the statistics and
  a *binary sample* of them to drive the reconstruction; the reconstruction uses the visible
  *probabilities* P(v|h); the negative hidden statistics are P(h|reconstruction).
* Per minibatch of B samples (momentum m, learning rate lr, penalties l1, l2)::

      inc_W = m inc_W + lr ((v^T P(h|v) - v_neg^T P(h|v_neg)) / B - l1 sign(W) - l2 W)
      inc_b = m inc_b + lr (sum(v) - sum(v_neg)) / B
      inc_c = m inc_c + lr (sum(P(h|v)) - sum(P(h|v_neg))) / B
      W += inc_W;  b += inc_b;  c += inc_c

  so the L1 penalty gradient l1 sign(W) sits *inside* the momentum update, exactly where
  ``rbm.m`` puts its weightcost*W term. Biases are not penalised.
* Momentum 0.5 for the first 5 epochs then 0.9, learning rate 0.1, batch 100, weights
  0.1 N(0,1), biases 0. The learning rate may decay over the epochs
  (``learning_rate_decay``, :func:`epoch_learning_rate`); the penalty steps lr l1 and lr l2
  shrink with it.

Performance: everything in the training loop is float32 in preallocated buffers. Per minibatch
there are four GEMMs (v W, h W^T, v_neg W and one fused weight-gradient GEMM
[v; v_neg]^T [h; -h_neg] with K = 2B, the learning rate and the minus sign folded into the h
rows) and five serial numba kernels (:mod:`ising_rg.rbm._kernels`): row gather (binary data
kept as uint8: 4x less memory traffic), sigmoid + sampling + column sums for the bias gradients
(vectorised float32 exp; uniforms from per-column xoroshiro64** streams seeded from the PCG64
Generator), and one fused momentum update. One CD-1 epoch is within ~1.3x of its GEMM floor
(:func:`ising_rg.bench.benchmark_epoch`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ising_rg.checks import check_unit_interval
from ising_rg.errors import IsingRGError
from ising_rg.rbm._kernels import (
    apply_updates,
    free_energy_fast,
    gather_rows,
    hidden_step,
    hidden_step_sample,
    is_binary,
    sigmoid_rows,
    sum_squared_difference,
    visible_step_error,
    visible_step_sample,
    weight_statistics,
)
from ising_rg.seeding import as_generator, bernoulli
from ising_rg.settings import Recipe

__all__ = [
    "CHUNK_ROWS",
    "DEAD_ACTIVATION_BOUNDS",
    "HISTORY_KEYS",
    "CDTrainer",
    "cd_gradient",
    "dead_units",
    "epoch_learning_rate",
    "epoch_metrics",
    "start_trainer",
    "train_cd",
]

_F32 = np.float32
#: History arrays recorded once per epoch by :meth:`BernoulliRBM.fit`.
HISTORY_KEYS = (
    "reconstruction_error",
    "free_energy_train",
    "free_energy_validation",
    "free_energy_gap",
    "learning_rate",
    "momentum",
    "weight_norm",
    "weight_abs_mean",
    "hidden_dead_fraction",
    "epoch_seconds",
)
CHUNK_ROWS = 2048  # rows per GEMM chunk in inference: bounded memory, still BLAS-efficient
#: (low, high): a hidden unit whose mean activation P(h = 1 | v) over the data is below low or
#: above high is dead (always off or always on). Used by the training history's
#: ``hidden_dead_fraction`` and by the RG analysis, which measures live units only.
DEAD_ACTIVATION_BOUNDS = (0.01, 0.99)


def dead_units(
    mean_activation: np.ndarray,
    low: float = DEAD_ACTIVATION_BOUNDS[0],
    high: float = DEAD_ACTIVATION_BOUNDS[1],
) -> np.ndarray:
    """Units whose mean activation over the data is < low or > high (always off or always on).

    Parameters
    ----------
    mean_activation : ndarray, shape (n_units,), mean over the data of P(h=1|v)

    Returns
    -------
    bool array, shape (n_units,), True for dead units.
    """
    m = np.asarray(mean_activation, dtype=np.float64)
    return (m < low) | (m > high)


class CDTrainer:
    """Preallocated float32 buffers and the per-minibatch CD-k / PCD-k update.

    The parameter arrays W, b, c are updated in place (the same objects throughout).
    Buffer layout: ``stack_v = [v_data; v_neg]`` (B + M, n_visible) and
    ``stack_h = [lr/B P(h|v_data); -lr/M P(h|v_neg)]`` (B + M, n_hidden), so one GEMM
    ``stack_v^T stack_h`` gives the whole scaled weight gradient (K = B + M). The bias
    gradients come from column sums accumulated by the sigmoid kernels.
    """

    def __init__(
        self,
        weights: np.ndarray,
        visible_bias: np.ndarray,
        hidden_bias: np.ndarray,
        batch_size: int,
        *,
        cd_k: int,
        persistent: bool,
        n_chains: int,
        negative_visible: str,
        learning_rate: float,
        l1: float,
        l2: float,
        rng: np.random.Generator,
    ) -> None:
        n_visible, n_hidden = weights.shape
        self.W, self.b, self.c = weights, visible_bias, hidden_bias
        self.B = batch_size
        self.M = n_chains if persistent else batch_size
        self.k = cd_k
        self.persistent = persistent
        self.sample_final_visible = negative_visible == "samples"
        self.rng = rng
        B, M = self.B, self.M

        self.stack_v = np.empty((B + M, n_visible), _F32)
        self.stack_h = np.empty((B + M, n_hidden), _F32)
        self.v_pos, self.v_neg = self.stack_v[:B], self.stack_v[B:]
        self.h_pos, self.h_neg = self.stack_h[:B], self.stack_h[B:]
        self.h_sample = np.empty((M, n_hidden), _F32)
        # column sums: v_data, v_neg (n_visible); h_data, h_neg (n_hidden); scratch
        self.sum_v_pos, self.sum_v_neg = np.zeros(n_visible, _F32), np.zeros(n_visible, _F32)
        self.sum_h_pos, self.sum_h_neg = np.zeros(n_hidden, _F32), np.zeros(n_hidden, _F32)
        self.sum_scratch = np.zeros(n_hidden, _F32)
        self.sums = (self.sum_v_pos, self.sum_v_neg, self.sum_h_pos, self.sum_h_neg)
        self.streams_h = self._new_streams(n_hidden)
        self.streams_v = self._new_streams(n_visible)

        self.grad_W = np.empty((n_visible, n_hidden), _F32)
        self.inc_W = np.zeros((n_visible, n_hidden), _F32)
        self.inc_b = np.zeros(n_visible, _F32)
        self.inc_c = np.zeros(n_hidden, _F32)
        # flat views for the fused update kernel (same memory)
        self._W_flat, self._inc_W_flat = self.W.reshape(-1), self.inc_W.reshape(-1)
        self._grad_W_flat = self.grad_W.reshape(-1)
        self.one = _F32(1.0)
        self.set_learning_rate(learning_rate, l1, l2)

    def _new_streams(self, n_lanes: int) -> tuple[np.ndarray, np.ndarray]:
        """xoroshiro64** states, one stream per column, seeded from the Generator."""
        s0 = self.rng.integers(0, 2**32, size=n_lanes, dtype=np.uint32)
        s1 = self.rng.integers(0, 2**32, size=n_lanes, dtype=np.uint32)
        s1[(s0 == 0) & (s1 == 0)] = 1  # the all-zero state is a fixed point
        return s0, s1

    def set_learning_rate(self, learning_rate: float, l1: float, l2: float) -> None:
        self.pos_scale = _F32(learning_rate / self.B)
        self.neg_scale = _F32(-learning_rate / self.M)
        self.scales = np.array([self.pos_scale, self.neg_scale], _F32)
        self.l1_step = _F32(learning_rate * l1)
        self.l2_step = _F32(learning_rate * l2)

    def init_chains(self, X: np.ndarray) -> None:
        """PCD: start the persistent chains at random training vectors, made binary."""
        rows = self.rng.integers(0, X.shape[0], size=self.M)
        self.v_neg[...] = bernoulli(X[rows], self.rng, uniform_dtype=_F32)

    def gradient(self, X: np.ndarray, rows: np.ndarray) -> float:
        """Fill grad_W and the column sums (times the learning rate) for minibatch ``rows``.

        Returns the summed squared reconstruction error of the minibatch (CD only; 0 for PCD).
        """
        W, WT, b, c, one = self.W, self.W.T, self.b, self.c, self.one
        v_pos, v_neg, h_pos, h_neg, h_sample = (
            self.v_pos, self.v_neg, self.h_pos, self.h_neg, self.h_sample,
        )  # fmt: skip
        s0h, s1h = self.streams_h
        s0v, s1v = self.streams_v

        gather_rows(X, rows, v_pos, self.sum_v_pos)
        np.matmul(v_pos, W, out=h_pos)
        if self.persistent:
            hidden_step(h_pos, c, self.pos_scale, self.sum_h_pos)
            np.matmul(v_neg, W, out=h_neg)
            hidden_step_sample(h_neg, c, one, self.sum_scratch, h_sample, s0h, s1h)
        else:  # rbm.m: binary hidden states drive the reconstruction
            hidden_step_sample(h_pos, c, self.pos_scale, self.sum_h_pos, h_sample, s0h, s1h)

        error = 0.0
        for step in range(self.k):
            last = step == self.k - 1
            np.matmul(h_sample, WT, out=v_neg)
            if self.persistent or not last or self.sample_final_visible:
                with_error = last and not self.persistent
                error = visible_step_sample(v_neg, b, v_pos, with_error, self.sum_v_neg, s0v, s1v)
            else:  # rbm.m: the reconstruction is the visible probabilities
                error = visible_step_error(v_neg, b, v_pos, self.sum_v_neg)
            np.matmul(v_neg, W, out=h_neg)
            if last:  # negative statistics; scale and sign folded into the sigmoid
                hidden_step(h_neg, c, self.neg_scale, self.sum_h_neg)
            else:
                hidden_step_sample(h_neg, c, one, self.sum_scratch, h_sample, s0h, s1h)

        np.matmul(self.stack_v.T, self.stack_h, out=self.grad_W)
        return float(error)

    def bias_gradients(self) -> tuple[np.ndarray, np.ndarray]:
        """(grad_b, grad_c) of the last gradient() call, times the learning rate."""
        ps, ns = (np.float64(x) for x in (self.pos_scale, self.neg_scale))
        grad_b = ps * self.sum_v_pos + ns * self.sum_v_neg
        grad_c = ps * self.sum_h_pos + ns * self.sum_h_neg
        return grad_b, grad_c

    def apply(self, momentum: np.float32) -> None:
        """The rbm.m momentum update (L1/L2 on the weights only) from the last gradient()."""
        apply_updates(
            self._W_flat, self._inc_W_flat, self._grad_W_flat, self.b, self.inc_b, self.c,
            self.inc_c, self.sums, self.scales, momentum, self.l1_step, self.l2_step,
        )  # fmt: skip


def start_trainer(
    recipe: Recipe,
    parameters: tuple[np.ndarray, np.ndarray, np.ndarray],
    X: np.ndarray,
    batch_size: int,
    rates: tuple[float, float, float],
    rng: np.random.Generator,
) -> CDTrainer:
    """A CDTrainer for the training settings ``recipe`` (``BernoulliRBM.recipe``).

    ``parameters`` = (W, b, c) float32, updated in place; ``rates`` = (learning rate, l1, l2);
    ``rng`` draws the Gibbs streams (and, for PCD, the chains' starting points in X).
    """
    chains = recipe.persistent_chains or batch_size
    learning_rate, l1, l2 = rates
    trainer = CDTrainer(
        *parameters, batch_size, cd_k=recipe.cd_k, persistent=recipe.persistent,
        n_chains=chains, negative_visible=recipe.negative_visible,
        learning_rate=learning_rate, l1=l1, l2=l2, rng=rng,
    )  # fmt: skip
    if recipe.persistent:
        trainer.init_chains(X)
    return trainer


def train_cd(
    recipe: Recipe,
    n_monitor: int,
    parameters: tuple[np.ndarray, np.ndarray, np.ndarray],
    X: np.ndarray,
    X_val: np.ndarray | None,
    generators: Sequence[np.random.Generator],
    callback: Callable[[int, int, dict[str, float]], None] | None = None,
) -> dict[str, np.ndarray]:
    """Run ``recipe.epochs`` epochs of CD-k / PCD-k with momentum on (W, b, c) in place.

    Parameters
    ----------
    recipe : the training settings (``BernoulliRBM.recipe``; only its layer settings are read)
    n_monitor : int, size of the fixed subset of X monitored every epoch
    parameters : (W, b, c)
        float32 arrays (n_visible, n_hidden), (n_visible,), (n_hidden,), the starting point.
    X : float32 array (n_samples, n_visible), values in [0, 1]
    X_val : float32 array (n_val, n_visible) or None
    generators : (shuffle, gibbs, monitor) Generators
    callback : see :meth:`BernoulliRBM.fit`

    Returns
    -------
    history : dict of :data:`HISTORY_KEYS` -> float64 array (n_epochs,)
    """
    W, b, c = parameters
    rng_shuffle, rng_gibbs, rng_monitor = generators
    n_samples, n_visible = X.shape
    batch_size, n_epochs = recipe.batch_size, recipe.epochs
    l1, l2 = recipe.l1, recipe.l2
    rates = (epoch_learning_rate(recipe, 0), l1, l2)
    trainer = start_trainer(recipe, parameters, X, batch_size, rates, rng_gibbs)
    # binary data (the first layer) is gathered from a uint8 copy: 4x less memory traffic
    X_train = X.astype(np.uint8) if is_binary(X) else X

    n_monitor = min(n_monitor, n_samples)
    X_monitor = X[np.sort(rng_monitor.permutation(n_samples)[:n_monitor])]
    n_batches = n_samples // batch_size
    history = {key: np.full(n_epochs, np.nan) for key in HISTORY_KEYS}
    m0, m1, switch = recipe.momentum

    with np.errstate(over="ignore", under="ignore"):
        for epoch in range(n_epochs):
            start = time.perf_counter()
            momentum = m0 if epoch < switch else m1
            learning_rate = epoch_learning_rate(recipe, epoch)
            trainer.set_learning_rate(learning_rate, l1, l2)
            order = rng_shuffle.permutation(n_samples)
            error = 0.0
            for batch in range(n_batches):
                rows = order[batch * batch_size : (batch + 1) * batch_size]
                error += trainer.gradient(X_train, rows)
                trainer.apply(_F32(momentum))

            if not (np.isfinite(W).all() and np.isfinite(b).all() and np.isfinite(c).all()):
                raise IsingRGError(
                    f"training diverged at epoch {epoch + 1} (non-finite weights); "
                    "lower the learning rate"
                )
            metrics = epoch_metrics(parameters, X_monitor, X_val, recipe.persistent)
            if not recipe.persistent:
                metrics["reconstruction_error"] = error / (n_batches * batch_size * n_visible)
            metrics["learning_rate"] = learning_rate
            metrics["momentum"] = float(momentum)
            metrics["epoch_seconds"] = time.perf_counter() - start
            for key, value in metrics.items():
                history[key][epoch] = value
            if callback is not None:
                callback(epoch + 1, n_epochs, dict(metrics))
    return history


def epoch_learning_rate(recipe: Recipe, epoch: int) -> float:
    """The learning rate of epoch ``epoch`` (counted from 0) under ``learning_rate_decay``.

    'none': ``learning_rate``; 'linear': ``learning_rate * (1 - epoch / epochs)``.
    """
    if recipe.learning_rate_decay == "linear":
        return recipe.learning_rate * (1.0 - epoch / recipe.epochs)
    return recipe.learning_rate


def epoch_metrics(
    parameters: tuple[np.ndarray, np.ndarray, np.ndarray],
    X_monitor: np.ndarray,
    X_val: np.ndarray | None,
    persistent: bool,
) -> dict[str, float]:
    """Cheap per-epoch monitoring: float32 GEMMs on the monitoring subset and X_val.

    For PCD (``persistent``) also the mean-field reconstruction error on the monitoring subset.
    """
    W, b, c = parameters
    x = X_monitor @ W  # (n_monitor, n_hidden) float32
    f_train = np.empty(X_monitor.shape[0])
    free_energy_fast(x, c, (X_monitor @ b).astype(np.float64), f_train)
    sigmoid_rows(x, c, _F32(1.0))
    mean_activation = x.mean(axis=0, dtype=np.float64)
    norm, abs_mean = weight_statistics(W.reshape(-1))
    metrics = {
        "free_energy_train": float(f_train.mean()),
        "weight_norm": float(norm),
        "weight_abs_mean": float(abs_mean),
        "hidden_dead_fraction": float(np.mean(dead_units(mean_activation))),
    }
    if persistent:
        v = x @ W.T
        sigmoid_rows(v, b, _F32(1.0))
        metrics["reconstruction_error"] = sum_squared_difference(X_monitor, v) / v.size
    if X_val is not None:
        f_val = np.empty(X_val.shape[0])
        for s in range(0, X_val.shape[0], CHUNK_ROWS):
            block = X_val[s : s + CHUNK_ROWS]
            visible_term = (block @ b).astype(np.float64)
            free_energy_fast(block @ W, c, visible_term, f_val[s : s + CHUNK_ROWS])
        metrics["free_energy_validation"] = float(f_val.mean())
        metrics["free_energy_gap"] = metrics["free_energy_validation"] - float(f_train.mean())
    return metrics


def cd_gradient(rbm: Any, X: Any, seed: Any = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The training loop's gradient estimate for a fitted RBM's current parameters (for tests).

    Runs exactly the code of one minibatch update with lr = 1 on all of X as one batch,
    without applying it.

    Parameters
    ----------
    rbm : fitted BernoulliRBM (its hyper-parameters choose CD/PCD, k, the negative phase)
    X : array-like (n, n_visible), values in [0, 1]; the rows are the chains' starting points
        for CD
    seed : int, SeedSequence or Generator for the Gibbs streams

    Returns
    -------
    float64 copies of (dW, db, dc), each an estimate of d<log p(v)>_X / d(W, b, c).
    """
    W, b, c = (np.array(a, _F32) for a in (rbm.weights_, rbm.visible_bias_, rbm.hidden_bias_))
    X = check_unit_interval(X, "X", n_features=W.shape[0])
    n = X.shape[0]
    trainer = start_trainer(rbm.recipe, (W, b, c), X, n, (1.0, 0.0, 0.0), as_generator(seed))
    trainer.gradient(X, np.arange(n))
    grad_b, grad_c = trainer.bias_gradients()
    return trainer.grad_W.astype(np.float64), grad_b, grad_c

"""Bernoulli-Bernoulli restricted Boltzmann machine trained by contrastive divergence.

Conventions (SPEC section 2): units v in {0,1}^n_visible, h in {0,1}^n_hidden,

    E(v, h) = -b.v - c.h - v.W.h,        W shaped (n_visible, n_hidden),
    F(v)    = -b.v - sum_j softplus(c_j + (v W)_j),     p(v) = exp(-F(v)) / Z.

Energies and free energies are dimensionless (units of k_B T of the machine itself).

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
  0.1 N(0,1), biases 0.

Performance (one CD-1 epoch is within ~1.3x of its GEMM floor, see :func:`benchmark_epoch`):
everything in the training loop is float32 in preallocated buffers. Per minibatch there are
four GEMMs (v W, h W^T, v_neg W and one fused weight-gradient GEMM [v; v_neg]^T [h; -h_neg]
with K = 2B, the learning rate and the minus sign folded into the h rows) and five serial
numba kernels: row gather (binary data kept as uint8: 4x less memory traffic), sigmoid +
sampling + column sums for the bias gradients (vectorised float32 exp; uniforms from
per-column xoroshiro64** streams seeded from the PCG64 Generator), and one fused momentum
update. The kernels are serial on purpose: OpenBLAS's worker threads own (and spin on) the
two cores between GEMMs, and a prange kernel would fight them.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable
from typing import Any

import numba as nb
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from ising_rg.errors import IsingRGError

__all__ = [
    "BernoulliRBM",
    "benchmark_epoch",
    "gemm_flops_per_s",
    "gemm_floor_seconds",
    "sigmoid",
    "softplus",
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
_CHUNK_ROWS = 2048  # rows per GEMM chunk in inference: bounded memory, still BLAS-efficient


# --------------------------------------------------------------------------------------------
# numba kernels (serial; see module docstring)
# --------------------------------------------------------------------------------------------


@intrinsic
def _int32_bits_as_float32(typingctx, bits):
    """Reinterpret an int32 bit pattern as float32 (vectorises, unlike a view per element)."""
    signature = types.float32(types.int32)

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.FloatType())

    return signature, codegen


@nb.njit(inline="always", fastmath=True)
def _exp_core_f32(x):
    """exp(x) for float32 x in [-87, 87], max relative error ~6e-7.

    Cephes-style range reduction x = k ln2 + r with a degree-7 polynomial for exp(r) and the
    2^k factor built from its bit pattern. numpy's float32 exp is not vectorised on this build
    (~1.3 ns/element); this is, ~0.3 ns/element inside a numba loop.
    """
    k = np.floor(x * _F32(1.4426950408889634) + _F32(0.5))
    r = x - k * _F32(0.693359375) - k * _F32(-2.12194440e-4)
    p = _F32(1.9875691500e-4)
    p = p * r + _F32(1.3981999507e-3)
    p = p * r + _F32(8.3334519073e-3)
    p = p * r + _F32(4.1665795894e-2)
    p = p * r + _F32(1.6666665459e-1)
    p = p * r + _F32(5.0000001201e-1)
    p = p * r * r + r + _F32(1.0)
    return p * _int32_bits_as_float32((np.int32(k) + np.int32(127)) << np.int32(23))


@nb.njit(inline="always", fastmath=True)
def _exp_f32(x):
    """exp(x) for any float32 x, clamped to [-87, 87] (no overflow, no denormals)."""
    x = _F32(-87.0) if x < _F32(-87.0) else x
    x = _F32(87.0) if x > _F32(87.0) else x
    return _exp_core_f32(x)


@nb.njit(inline="always", fastmath=True)
def _sigmoid_f32(x):
    """1 / (1 + exp(-x)) in float32 via t = exp(-|x|), never below 1/(1 + e^60) = 8.7e-27.

    The floor keeps sigmoid outputs, their products with lr/B and with the weights in the next
    GEMM clear of float32 denormals, which cost ~2.5x in every kernel and GEMM touching them
    (a well-trained layer has inputs far below -80). The absolute error is < 1e-26.
    """
    a = min(x, -x)
    a = _F32(-60.0) if a < _F32(-60.0) else a
    t = _exp_core_f32(a)
    r = _F32(1.0) / (_F32(1.0) + t)
    return r if x >= _F32(0.0) else t * r


_U32 = nb.uint32
_UNIT_24 = np.float32(2.0**-24)


@nb.njit(inline="always")
def _uniform_f32(s0, s1, lane):
    """Next uniform in [0, 1) (24 bits) from xoroshiro64** stream ``lane`` (state s0, s1).

    One explicit 64-bit-state stream per column (Blackman & Vigna's xoroshiro64**, which
    passes BigCrush): 32-bit integer operations only, so a row of draws vectorises across
    lanes, ~10x cheaper than Generator.random + a comparison pass at minibatch sizes.
    """
    a = s0[lane]
    b = s1[lane]
    r = _U32(a * _U32(0x9E3779BB))
    r = _U32(_U32(_U32(r << _U32(5)) | _U32(r >> _U32(27))) * _U32(5))
    b = _U32(b ^ a)
    s0[lane] = _U32(_U32(_U32(a << _U32(26)) | _U32(a >> _U32(6))) ^ b ^ _U32(b << _U32(9)))
    s1[lane] = _U32(_U32(b << _U32(13)) | _U32(b >> _U32(19)))
    return np.float32(np.int32(r >> _U32(8))) * _UNIT_24


@nb.njit(cache=True, fastmath=True, error_model="numpy", boundscheck=False)
def _sigmoid_rows(z, bias, scale):
    """In place z[i, j] <- scale * sigmoid(z[i, j] + bias[j]); z (n, m) float32 C-order."""
    n, m = z.shape
    for i in range(n):
        row = z[i]
        for j in range(m):
            row[j] = scale * _sigmoid_f32(row[j] + bias[j])


@nb.njit(cache=True, fastmath=True, error_model="numpy", boundscheck=False)
def _hidden_step(z, bias, scale, column_sum):
    """z <- scale * P(h=1|.) from the input z = v W; column_sum <- sum_i P (unscaled)."""
    n, m = z.shape
    column_sum[:] = 0.0
    for i in range(n):
        row = z[i]
        for j in range(m):
            p = _sigmoid_f32(row[j] + bias[j])
            row[j] = scale * p
            column_sum[j] += p


@nb.njit(cache=True, fastmath=True, error_model="numpy", boundscheck=False)
def _hidden_step_sample(z, bias, scale, column_sum, sample, s0, s1):
    """As _hidden_step, and sample[i, j] <- 1.0 if u < P else 0.0 (rbm.m: ``probs > rand``)."""
    n, m = z.shape
    column_sum[:] = 0.0
    for i in range(n):
        row = z[i]
        sample_row = sample[i]
        for j in range(m):
            p = _sigmoid_f32(row[j] + bias[j])
            sample_row[j] = _F32(1.0) if _uniform_f32(s0, s1, j) < p else _F32(0.0)
            row[j] = scale * p
            column_sum[j] += p


@nb.njit(cache=True, fastmath=True, error_model="numpy", boundscheck=False)
def _visible_step_error(z, bias, target, column_sum):
    """z <- P(v=1|h) from z = h W^T; column_sum <- sum_i P; returns sum (target - P)^2."""
    n, m = z.shape
    column_sum[:] = 0.0
    error = _F32(0.0)
    for i in range(n):
        row = z[i]
        target_row = target[i]
        for j in range(m):
            p = _sigmoid_f32(row[j] + bias[j])
            d = target_row[j] - p
            error += d * d
            row[j] = p
            column_sum[j] += p
    return error


@nb.njit(cache=True, fastmath=True, error_model="numpy", boundscheck=False)
def _visible_step_sample(z, bias, target, with_error, column_sum, s0, s1):
    """z <- binary sample of P(v=1|h); column_sum <- sum of the samples.

    Returns sum (target - P)^2 if ``with_error`` (target then has >= n rows), else 0.
    """
    n, m = z.shape
    column_sum[:] = 0.0
    error = _F32(0.0)
    for i in range(n):
        row = z[i]
        if with_error:
            target_row = target[i]
            for j in range(m):
                p = _sigmoid_f32(row[j] + bias[j])
                d = target_row[j] - p
                error += d * d
                row[j] = p
        else:
            for j in range(m):
                row[j] = _sigmoid_f32(row[j] + bias[j])
        for j in range(m):
            x = _F32(1.0) if _uniform_f32(s0, s1, j) < row[j] else _F32(0.0)
            row[j] = x
            column_sum[j] += x
    return error


@nb.njit(cache=True, error_model="numpy", boundscheck=False)
def _gather_rows(X, rows, out, column_sum):
    """out[i] <- float32(X[rows[i]]) (X uint8 or float32); column_sum <- sum_i out[i]."""
    m = X.shape[1]
    column_sum[:] = 0.0
    for i in range(rows.size):
        source = X[rows[i]]
        row = out[i]
        for j in range(m):
            x = np.float32(source[j])
            row[j] = x
            column_sum[j] += x


@nb.njit(inline="always")
def _momentum_step(param, increment, gradient, momentum, l1_step, l2_step):
    for i in range(param.size):
        w = param[i]
        sign = (_F32(1.0) if w > _F32(0.0) else _F32(0.0)) - (
            _F32(1.0) if w < _F32(0.0) else _F32(0.0)
        )
        step = momentum * increment[i] + gradient[i] - l1_step * sign - l2_step * w
        increment[i] = step
        param[i] = w + step


@nb.njit(inline="always")
def _bias_step(param, increment, positive_sum, negative_sum, positive_scale, negative_scale, m):
    for i in range(param.size):
        step = m * increment[i] + (
            positive_scale * positive_sum[i] + negative_scale * negative_sum[i]
        )
        increment[i] = step
        param[i] += step


@nb.njit(cache=True, error_model="numpy", boundscheck=False)
def _apply_updates(W, inc_W, grad_W, b, inc_b, c, inc_c, sums, scales, momentum, l1_step, l2_step):
    """The rbm.m momentum update of all parameters, one fused pass each (flat float32 views).

    ``inc = m inc + grad - l1_step sign(W) - l2_step W;  W += inc`` with the learning rate and
    1/B already inside ``grad_W``, ``l1_step = lr l1``, ``l2_step = lr l2``. Bias gradients
    come from the column sums ``sums = (sum v_data, sum v_neg, sum h_data, sum h_neg)`` and
    ``scales = (lr/B, -lr/M)``; biases are not penalised. One read of three arrays and one
    write of two, instead of the five or six passes the same update takes in numpy.
    """
    _momentum_step(W, inc_W, grad_W, momentum, l1_step, l2_step)
    _bias_step(b, inc_b, sums[0], sums[1], scales[0], scales[1], momentum)
    _bias_step(c, inc_c, sums[2], sums[3], scales[0], scales[1], momentum)


@nb.njit(cache=True, error_model="numpy", boundscheck=False)
def _is_binary(X):
    """True if every entry of the 2-D array X is exactly 0 or 1 (stops at the first other)."""
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            x = X[i, j]
            if x != 0 and x != 1:
                return False
    return True


@nb.njit(cache=True, fastmath=True, error_model="numpy", boundscheck=False)
def _sum_squared_difference(a, b):
    """sum((a - b)^2) over two equally shaped 2-D float32 arrays, accumulated in float64."""
    n, m = a.shape
    total = 0.0
    for i in range(n):
        ar = a[i]
        br = b[i]
        for j in range(m):
            d = np.float64(ar[j] - br[j])
            total += d * d
    return total


@nb.njit(cache=True, fastmath=True, error_model="numpy", boundscheck=False)
def _free_energy_fast(x, hidden_bias, visible_term, out):
    """Monitoring version of _free_energy_from_input (float32 x), ~10x faster, abs error
    <~ 3e-7 per hidden unit: sum_j softplus(a_j) = sum_j max(a_j, 0) + log prod_j (1 + e^-|a_j|)
    with the vectorised float32 exp and one log per block of 512 factors (each factor is in
    (1, 2], so a block's float64 product cannot overflow).
    """
    n, m = x.shape
    for i in range(n):
        row = x[i]
        linear = 0.0
        log_total = 0.0
        for start in range(0, m, 512):
            product = 1.0
            for j in range(start, min(start + 512, m)):
                a = row[j] + hidden_bias[j]
                linear += max(np.float64(a), 0.0)
                product *= 1.0 + np.float64(_exp_f32(-abs(a)))
            log_total += math.log(product)
        out[i] = -visible_term[i] - linear - log_total


@nb.njit(cache=True, fastmath=True, error_model="numpy", boundscheck=False)
def _weight_statistics(w):
    """(sqrt(sum w^2), mean |w|) of a flat float32 array, accumulated in float64."""
    squares = 0.0
    absolute = 0.0
    for i in range(w.size):
        x = np.float64(w[i])
        squares += x * x
        absolute += abs(x)
    return math.sqrt(squares), absolute / w.size


@nb.njit(cache=True, error_model="numpy", boundscheck=False)
def _free_energy_from_input(x, hidden_bias, visible_term, out):
    """out[i] = -visible_term[i] - sum_j softplus(x[i, j] + c_j), x = v W, in float64."""
    n, m = x.shape
    for i in range(n):
        total = 0.0
        for j in range(m):
            a = np.float64(x[i, j]) + np.float64(hidden_bias[j])
            total += max(a, 0.0) + math.log1p(math.exp(-abs(a)))
        out[i] = -visible_term[i] - total


# --------------------------------------------------------------------------------------------
# small numpy helpers
# --------------------------------------------------------------------------------------------


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)), stable for any x (float64)."""
    x = np.asarray(x, dtype=np.float64)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), stable for any x, float64 reference implementation."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _rng(seed: Any) -> np.random.Generator:
    """A Generator from an int / SeedSequence / Generator / None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.Generator(np.random.PCG64(seed))


def _seed_sequence(random_state: Any) -> np.random.SeedSequence:
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise IsingRGError(f"random_state must be a non-negative integer, got {random_state}")
        return np.random.SeedSequence(int(random_state))
    raise IsingRGError(f"random_state must be an integer seed, got {random_state!r}")


def check_unit_interval(X: Any, name: str = "X", n_features: int | None = None) -> np.ndarray:
    """Validate a 2-D finite array with values in [0, 1]; return it as C-ordered float32.

    Raises
    ------
    IsingRGError
        One-line message naming the problem (shape, non-finite entries, range, columns).
    """
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists etc.
        raise IsingRGError(f"{name} is not a numeric array ({exc})") from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise IsingRGError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise IsingRGError(f"{name} must be 2-D (n_samples, n_features), got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise IsingRGError(f"{name} is empty (shape {arr.shape})")
    if n_features is not None and arr.shape[1] != n_features:
        raise IsingRGError(
            f"{name} has {arr.shape[1]} features but the model has {n_features} visible units"
        )
    arr = np.ascontiguousarray(arr, dtype=_F32)
    if not np.isfinite(arr).all():
        raise IsingRGError(f"{name} contains NaN or infinite values")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0.0 or hi > 1.0:
        raise IsingRGError(f"{name} values must lie in [0, 1], found range [{lo:g}, {hi:g}]")
    return arr


# --------------------------------------------------------------------------------------------
# the training loop
# --------------------------------------------------------------------------------------------


class _CDTrainer:
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
        u = self.rng.random((self.M, X.shape[1]), dtype=_F32)
        self.v_neg[...] = u < X[rows]

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

        _gather_rows(X, rows, v_pos, self.sum_v_pos)
        np.matmul(v_pos, W, out=h_pos)
        if self.persistent:
            _hidden_step(h_pos, c, self.pos_scale, self.sum_h_pos)
            np.matmul(v_neg, W, out=h_neg)
            _hidden_step_sample(h_neg, c, one, self.sum_scratch, h_sample, s0h, s1h)
        else:  # rbm.m: binary hidden states drive the reconstruction
            _hidden_step_sample(h_pos, c, self.pos_scale, self.sum_h_pos, h_sample, s0h, s1h)

        error = 0.0
        for step in range(self.k):
            last = step == self.k - 1
            np.matmul(h_sample, WT, out=v_neg)
            if self.persistent or not last or self.sample_final_visible:
                with_error = last and not self.persistent
                error = _visible_step_sample(v_neg, b, v_pos, with_error, self.sum_v_neg, s0v, s1v)
            else:  # rbm.m: the reconstruction is the visible probabilities
                error = _visible_step_error(v_neg, b, v_pos, self.sum_v_neg)
            np.matmul(v_neg, W, out=h_neg)
            if last:  # negative statistics; scale and sign folded into the sigmoid
                _hidden_step(h_neg, c, self.neg_scale, self.sum_h_neg)
            else:
                _hidden_step_sample(h_neg, c, one, self.sum_scratch, h_sample, s0h, s1h)

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
        _apply_updates(
            self._W_flat, self._inc_W_flat, self._grad_W_flat, self.b, self.inc_b, self.c,
            self.inc_c, self.sums, self.scales, momentum, self.l1_step, self.l2_step,
        )  # fmt: skip


# --------------------------------------------------------------------------------------------
# the estimator
# --------------------------------------------------------------------------------------------


def _sigmoid_of_product(X: np.ndarray, W: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """sigmoid(X W + bias) in float32, in row chunks that keep the buffers in cache."""
    out = np.empty((X.shape[0], W.shape[1]), _F32)
    for s in range(0, X.shape[0], _CHUNK_ROWS):
        block = out[s : s + _CHUNK_ROWS]
        np.matmul(X[s : s + _CHUNK_ROWS], W, out=block)
        _sigmoid_rows(block, bias, _F32(1.0))
    return out


class BernoulliRBM:
    """Restricted Boltzmann machine with {0,1} visible and hidden units (float32).

    scikit-learn conventions by duck typing: ``__init__`` only stores hyper-parameters,
    ``fit`` validates them and returns ``self``, fitted attributes end in ``_``.

    Parameters
    ----------
    n_hidden : int
        Number of hidden units.
    learning_rate : float
        Step size for weights and biases (rbm.m: epsilonw = epsilonvb = epsilonhb = 0.1).
    momentum_schedule : (float, float, int)
        ``(initial, final, n_initial_epochs)``: momentum ``initial`` for the first
        ``n_initial_epochs`` epochs, then ``final``. rbm.m: (0.5, 0.9, 5).
    batch_size : int
        Minibatch size B. Each epoch uses floor(n_samples / B) minibatches of exactly B
        samples drawn from a fresh seeded permutation; the n_samples mod B left-over samples
        change from epoch to epoch.
    n_epochs : int
        Passes over the training data (the paper: 200).
    cd_k : int
        Gibbs steps in the negative phase (CD-k / PCD-k).
    persistent : bool
        Persistent CD (Tieleman 2008): the negative chains continue from one minibatch to the
        next instead of restarting at the data.
    n_persistent_chains : int or None
        Number of persistent chains M (default: batch_size). PCD only.
    negative_visible : {'probabilities', 'samples'}
        CD only. What the last Gibbs step keeps as the negative visible vector:
        'probabilities' = P(v|h), as rbm.m does (less noise, but P(h|P(v|h)) is a mean-field
        value, so even CD-infinity is slightly biased); 'samples' = a binary sample, which
        makes CD-k with k -> infinity an unbiased estimator of the log-likelihood gradient.
        Intermediate steps (k > 1) always sample both layers. PCD negative statistics always
        use the binary chain states.
    l1 : float
        L1 weight penalty; its gradient ``l1 * sign(W)`` enters the momentum update (see the
        module docstring). The paper: 2e-4.
    l2 : float
        L2 weight penalty (rbm.m's weightcost, 2e-4 there); gradient ``l2 * W``.
    init : {'paper', 'guide'}
        'paper' (rbm.m): W ~ 0.1 N(0,1), biases 0. 'guide' (Hinton's practical guide, 2010):
        W ~ 0.01 N(0,1), visible bias = logit(training mean clipped to [1e-3, 1 - 1e-3]),
        hidden bias 0.
    n_monitor : int
        Size of the fixed, seeded subset of training samples on which the per-epoch free
        energy (and hidden-unit health) is monitored; the cost is ~ n_monitor / n_samples of
        an epoch's GEMM work.
    random_state : int, numpy.random.SeedSequence or None
        Seed for initialisation, minibatch shuffling and Gibbs sampling (independent streams
        spawned from one SeedSequence). Same seed, data and thread count: bit-identical result.

    Attributes
    ----------
    weights_ : ndarray, shape (n_visible, n_hidden), float32
    visible_bias_ : ndarray, shape (n_visible,), float32
    hidden_bias_ : ndarray, shape (n_hidden,), float32
    history_ : dict of str -> ndarray, shape (n_epochs,), float64
        Per epoch: ``reconstruction_error`` (mean over samples and visible units of
        (v - v_neg)^2 over the epoch's minibatches, as rbm.m's errsum, with weights changing
        during the epoch; for PCD, the mean-field reconstruction error on the monitoring
        subset instead), ``free_energy_train`` (mean F on the monitoring subset),
        ``free_energy_validation`` (mean F on X_val, NaN without it), ``free_energy_gap``
        (validation minus train; grows when the model overfits), ``learning_rate``,
        ``momentum``, ``weight_norm`` (Frobenius), ``weight_abs_mean``,
        ``hidden_dead_fraction`` (hidden units with mean P(h=1|v) < 0.01 or > 0.99 on the
        monitoring subset), ``epoch_seconds`` (wall time, training plus monitoring).
    n_features_in_ : int
    n_iter_ : int
        Epochs completed.
    """

    def __init__(
        self,
        n_hidden: int,
        *,
        learning_rate: float = 0.1,
        momentum_schedule: tuple[float, float, int] = (0.5, 0.9, 5),
        batch_size: int = 100,
        n_epochs: int = 200,
        cd_k: int = 1,
        persistent: bool = False,
        n_persistent_chains: int | None = None,
        negative_visible: str = "probabilities",
        l1: float = 0.0,
        l2: float = 0.0,
        init: str = "paper",
        n_monitor: int = 1000,
        random_state: Any = 0,
    ) -> None:
        self.n_hidden = n_hidden
        self.learning_rate = learning_rate
        self.momentum_schedule = momentum_schedule
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.cd_k = cd_k
        self.persistent = persistent
        self.n_persistent_chains = n_persistent_chains
        self.negative_visible = negative_visible
        self.l1 = l1
        self.l2 = l2
        self.init = init
        self.n_monitor = n_monitor
        self.random_state = random_state

    # -- scikit-learn style plumbing --------------------------------------------------------

    _PARAM_NAMES = (
        "n_hidden", "learning_rate", "momentum_schedule", "batch_size", "n_epochs", "cd_k",
        "persistent", "n_persistent_chains", "negative_visible", "l1", "l2", "init",
        "n_monitor", "random_state",
    )  # fmt: skip

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyper-parameters as a dict (scikit-learn convention)."""
        return {name: getattr(self, name) for name in self._PARAM_NAMES}

    def set_params(self, **params: Any) -> BernoulliRBM:
        """Set hyper-parameters (scikit-learn convention); unknown names raise IsingRGError."""
        for name, value in params.items():
            if name not in self._PARAM_NAMES:
                raise IsingRGError(f"unknown BernoulliRBM parameter {name!r}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        return f"BernoulliRBM(n_hidden={self.n_hidden!r}, n_epochs={self.n_epochs!r})"

    def _check_hyperparameters(self, n_samples: int) -> tuple[float, float, int]:
        def integer(name: str, minimum: int) -> int:
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool):
                raise IsingRGError(f"{name} must be an integer, got {value!r}")
            if value < minimum:
                raise IsingRGError(f"{name} must be >= {minimum}, got {value}")
            return int(value)

        def real(name: str) -> float:
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise IsingRGError(f"{name} must be a finite number, got {value!r}")
            return float(value)

        integer("n_hidden", 1)
        integer("n_epochs", 1)
        integer("cd_k", 1)
        integer("n_monitor", 1)
        batch = integer("batch_size", 1)
        if batch > n_samples:
            raise IsingRGError(
                f"batch_size {batch} is larger than the {n_samples} training samples"
            )
        if real("learning_rate") <= 0:
            raise IsingRGError(f"learning_rate must be > 0, got {self.learning_rate}")
        for name in ("l1", "l2"):
            if real(name) < 0:
                raise IsingRGError(f"{name} must be >= 0, got {getattr(self, name)}")
        try:
            m0, m1, switch = self.momentum_schedule
        except (TypeError, ValueError):
            raise IsingRGError(
                "momentum_schedule must be (initial, final, n_initial_epochs), got "
                f"{self.momentum_schedule!r}"
            ) from None
        for m in (m0, m1):
            if not isinstance(m, numbers.Real) or not 0.0 <= m < 1.0:
                raise IsingRGError(f"momentum must be in [0, 1), got {m!r}")
        if not isinstance(switch, numbers.Integral) or switch < 0:
            raise IsingRGError(f"n_initial_epochs must be an integer >= 0, got {switch!r}")
        if self.init not in ("paper", "guide"):
            raise IsingRGError(f"init must be 'paper' or 'guide', got {self.init!r}")
        if self.negative_visible not in ("probabilities", "samples"):
            raise IsingRGError(
                f"negative_visible must be 'probabilities' or 'samples', got "
                f"{self.negative_visible!r}"
            )
        if not isinstance(self.persistent, bool | np.bool_):
            raise IsingRGError(f"persistent must be True or False, got {self.persistent!r}")
        if self.n_persistent_chains is not None:
            integer("n_persistent_chains", 1)
        return float(m0), float(m1), int(switch)

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise IsingRGError("this BernoulliRBM is not fitted yet; call fit() first")

    def _params(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self._check_fitted()
        return self.weights_, self.visible_bias_, self.hidden_bias_

    @property
    def n_visible(self) -> int:
        """Number of visible units of the fitted model."""
        return int(self._params()[0].shape[0])

    # -- training ----------------------------------------------------------------------------

    def _initial_parameters(
        self, X: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n_visible = X.shape[1]
        scale = 0.1 if self.init == "paper" else 0.01
        W = rng.standard_normal((n_visible, self.n_hidden), dtype=_F32)
        W *= _F32(scale)
        c = np.zeros(self.n_hidden, _F32)
        if self.init == "paper":
            b = np.zeros(n_visible, _F32)
        else:
            p = np.clip(X.mean(axis=0, dtype=np.float64), 1e-3, 1.0 - 1e-3)
            b = np.log(p / (1.0 - p)).astype(_F32)
        return W, b, c

    def fit(
        self,
        X: Any,
        X_val: Any = None,
        callback: Callable[[int, int, dict[str, float]], None] | None = None,
    ) -> BernoulliRBM:
        """Train by CD-k (or PCD-k) with momentum; see the class and module docstrings.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_visible), values in [0, 1]
            Training data: binary {0,1} or probabilities (a lower layer's P(h=1|v)).
        X_val : array-like, shape (n_val, n_visible), optional
            Held-out data for the free-energy gap in ``history_``.
        callback : callable, optional
            ``callback(epoch, n_epochs, metrics)`` after every epoch (epoch counts from 1;
            metrics: this epoch's ``history_`` values). Exceptions it raises, including
            KeyboardInterrupt, propagate; the estimator is then left unfitted.

        Returns
        -------
        self
        """
        X = check_unit_interval(X, "X")
        n_samples, n_visible = X.shape
        m0, m1, switch = self._check_hyperparameters(n_samples)
        if X_val is not None:
            X_val = check_unit_interval(X_val, "X_val", n_features=n_visible)

        streams = _seed_sequence(self.random_state).spawn(4)
        rng_init, rng_shuffle, rng_gibbs, rng_monitor = (_rng(s) for s in streams)
        W, b, c = self._initial_parameters(X, rng_init)
        n_chains = self.n_persistent_chains if self.n_persistent_chains else self.batch_size
        trainer = _CDTrainer(
            W, b, c, self.batch_size, cd_k=int(self.cd_k), persistent=bool(self.persistent),
            n_chains=int(n_chains), negative_visible=self.negative_visible,
            learning_rate=float(self.learning_rate), l1=float(self.l1), l2=float(self.l2),
            rng=rng_gibbs,
        )  # fmt: skip
        if self.persistent:
            trainer.init_chains(X)
        # binary data (the first layer) is gathered from a uint8 copy: 4x less memory traffic
        X_train = X.astype(np.uint8) if _is_binary(X) else X

        monitor_rows = np.sort(rng_monitor.permutation(n_samples)[: min(self.n_monitor, n_samples)])
        X_monitor = X[monitor_rows]
        n_batches = n_samples // self.batch_size
        history = {key: np.full(self.n_epochs, np.nan) for key in HISTORY_KEYS}

        with np.errstate(over="ignore", under="ignore"):
            for epoch in range(self.n_epochs):
                start = time.perf_counter()
                momentum = _F32(m0 if epoch < switch else m1)
                order = rng_shuffle.permutation(n_samples)
                error = 0.0
                for batch in range(n_batches):
                    rows = order[batch * self.batch_size : (batch + 1) * self.batch_size]
                    error += trainer.gradient(X_train, rows)
                    trainer.apply(momentum)

                if not (np.isfinite(W).all() and np.isfinite(b).all() and np.isfinite(c).all()):
                    raise IsingRGError(
                        f"training diverged at epoch {epoch + 1} (non-finite weights); "
                        "lower the learning rate"
                    )
                metrics = self._epoch_metrics(W, b, c, X_monitor, X_val)
                if not self.persistent:
                    metrics["reconstruction_error"] = error / (
                        n_batches * self.batch_size * n_visible
                    )
                metrics["learning_rate"] = float(self.learning_rate)
                metrics["momentum"] = float(m0 if epoch < switch else m1)
                metrics["epoch_seconds"] = time.perf_counter() - start
                for key, value in metrics.items():
                    history[key][epoch] = value
                if callback is not None:
                    callback(epoch + 1, self.n_epochs, dict(metrics))

        self.weights_, self.visible_bias_, self.hidden_bias_ = W, b, c
        self.history_ = history
        self.n_features_in_ = n_visible
        self.n_iter_ = self.n_epochs
        return self

    def _epoch_metrics(
        self,
        W: np.ndarray,
        b: np.ndarray,
        c: np.ndarray,
        X_monitor: np.ndarray,
        X_val: np.ndarray | None,
    ) -> dict[str, float]:
        """Cheap per-epoch monitoring: float32 GEMMs on the monitoring subset and X_val."""
        x = X_monitor @ W  # (n_monitor, n_hidden) float32
        f_train = np.empty(X_monitor.shape[0])
        _free_energy_fast(x, c, (X_monitor @ b).astype(np.float64), f_train)
        _sigmoid_rows(x, c, _F32(1.0))
        mean_activation = x.mean(axis=0, dtype=np.float64)
        norm, abs_mean = _weight_statistics(W.reshape(-1))
        metrics = {
            "free_energy_train": float(f_train.mean()),
            "weight_norm": float(norm),
            "weight_abs_mean": float(abs_mean),
            "hidden_dead_fraction": float(
                np.mean((mean_activation < 0.01) | (mean_activation > 0.99))
            ),
        }
        if self.persistent:
            v = x @ W.T
            _sigmoid_rows(v, b, _F32(1.0))
            metrics["reconstruction_error"] = _sum_squared_difference(X_monitor, v) / v.size
        if X_val is not None:
            f_val = np.empty(X_val.shape[0])
            for s in range(0, X_val.shape[0], _CHUNK_ROWS):
                block = X_val[s : s + _CHUNK_ROWS]
                visible_term = (block @ b).astype(np.float64)
                _free_energy_fast(block @ W, c, visible_term, f_val[s : s + _CHUNK_ROWS])
            metrics["free_energy_validation"] = float(f_val.mean())
            metrics["free_energy_gap"] = metrics["free_energy_validation"] - float(f_train.mean())
        return metrics

    def _cd_gradient(self, X: Any, seed: Any = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The training loop's gradient estimate for the current parameters (for tests).

        Runs exactly the code of one minibatch update with lr = 1 on all of X as one batch,
        without applying it. Returns float64 copies of (dW, db, dc), each an estimate of
        d<log p(v)>_X / d(W, b, c) (the rows of X are the chains' starting points for CD).
        """
        W, b, c = (np.array(a, _F32) for a in self._params())
        X = check_unit_interval(X, "X", n_features=W.shape[0])
        n = X.shape[0]
        chains = self.n_persistent_chains if self.n_persistent_chains else n
        trainer = _CDTrainer(
            W, b, c, n, cd_k=int(self.cd_k), persistent=bool(self.persistent),
            n_chains=int(chains), negative_visible=self.negative_visible, learning_rate=1.0,
            l1=0.0, l2=0.0, rng=_rng(seed),
        )  # fmt: skip
        if self.persistent:
            trainer.init_chains(X)
        trainer.gradient(X, np.arange(n))
        grad_b, grad_c = trainer.bias_gradients()
        return trainer.grad_W.astype(np.float64), grad_b, grad_c

    # -- inference ---------------------------------------------------------------------------

    def _check_input(self, X: Any, name: str = "X") -> np.ndarray:
        return check_unit_interval(X, name, n_features=self.n_visible)

    def _hidden_probabilities(self, V: np.ndarray) -> np.ndarray:
        W, _, c = self._params()
        return _sigmoid_of_product(V, W, c)

    def _visible_probabilities(self, H: np.ndarray) -> np.ndarray:
        W, b, _ = self._params()
        return _sigmoid_of_product(H, W.T, b)

    def transform(self, X: Any) -> np.ndarray:
        """Hidden probabilities P(h_j = 1 | v) = sigmoid(c + v W).

        Parameters
        ----------
        X : array-like, shape (n_samples, n_visible), values in [0, 1]

        Returns
        -------
        ndarray, shape (n_samples, n_hidden), float32
        """
        return self._hidden_probabilities(self._check_input(X))

    def propagate_down(self, H: Any) -> np.ndarray:
        """Visible probabilities P(v_i = 1 | h) = sigmoid(b + W h), shape (n, n_visible)."""
        H = check_unit_interval(H, "H", n_features=self._params()[0].shape[1])
        return self._visible_probabilities(H)

    def reconstruct(self, X: Any) -> np.ndarray:
        """Mean-field reconstruction P(v = 1 | h = P(h = 1 | v)): up and down with probabilities.

        Deterministic (no sampling), unlike the stochastic reconstruction of CD training, which
        drives the down pass with a binary sample of h.

        Returns
        -------
        ndarray, shape (n_samples, n_visible), float32 probabilities
        """
        return self._visible_probabilities(self.transform(X))

    def free_energy(self, X: Any) -> np.ndarray:
        """Free energy F(v) = -b.v - sum_j softplus(c_j + (v W)_j), computed in float64.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_visible), values in [0, 1]

        Returns
        -------
        ndarray, shape (n_samples,), float64 (dimensionless)
        """
        V = self._check_input(X)
        W, b, c = (a.astype(np.float64) for a in self._params())
        out = np.empty(V.shape[0])
        for s in range(0, V.shape[0], _CHUNK_ROWS):
            block = V[s : s + _CHUNK_ROWS].astype(np.float64)
            _free_energy_from_input(block @ W, c, block @ b, out[s : s + _CHUNK_ROWS])
        return out

    def log_likelihood(self, X: Any, log_z: float) -> np.ndarray:
        """log p(v) = -F(v) - log Z per sample, float64 shape (n_samples,).

        ``log_z`` from :func:`ising_rg.rbm.partition.exact_log_partition` or AIS.
        """
        return -self.free_energy(X) - float(log_z)

    def pseudo_log_likelihood(self, X: Any) -> np.ndarray:
        """Exact pseudo-log-likelihood sum_i log P(v_i | v_{-i}) over *all* visible sites.

        Uses P(v_i | v_{-i}) = sigmoid(F(v with v_i flipped) - F(v)) with the flipped free
        energy from an incremental update of the hidden input, vectorised over sites and
        hidden units (float64). Cost n_samples * n_visible * n_hidden softplus evaluations.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_visible), binary {0, 1}

        Returns
        -------
        ndarray, shape (n_samples,), float64 (nats per configuration)
        """
        V = self._check_input(X)
        if not np.all((V == 0) | (V == 1)):
            raise IsingRGError("pseudo_log_likelihood needs binary {0,1} data")
        W, b, c = (a.astype(np.float64) for a in self._params())
        n_visible, n_hidden = W.shape
        rows_per_chunk = max(1, int(4e6 // (n_visible * n_hidden)))
        out = np.empty(V.shape[0])
        for s in range(0, V.shape[0], rows_per_chunk):
            v = V[s : s + rows_per_chunk].astype(np.float64)
            x = v @ W + c  # (n, n_hidden)
            flip = 1.0 - 2.0 * v  # +1 turns a 0 on, -1 turns a 1 off; (n, n_visible)
            x_flip = x[:, None, :] + flip[:, :, None] * W[None, :, :]
            delta_f = -b * flip - (softplus(x_flip) - softplus(x)[:, None, :]).sum(axis=2)
            out[s : s + rows_per_chunk] = -softplus(-delta_f).sum(axis=1)  # log sigmoid
        return out

    def gibbs(self, v: Any, k: int = 1, rng: Any = None) -> np.ndarray:
        """k steps of block Gibbs sampling v -> h -> v, both layers sampled.

        Parameters
        ----------
        v : array-like, shape (n, n_visible), values in [0, 1] (starting states; probabilities
            are fine, only P(h|v) is taken from them)
        k : int >= 1
        rng : numpy Generator, int seed or None

        Returns
        -------
        ndarray, shape (n, n_visible), float32 binary {0, 1}
        """
        V = self._check_input(v, "v")
        if not isinstance(k, numbers.Integral) or k < 1:
            raise IsingRGError(f"k must be an integer >= 1, got {k!r}")
        rng = _rng(rng)
        with np.errstate(over="ignore", under="ignore"):
            for _ in range(int(k)):
                H = self._hidden_probabilities(V)
                H = (rng.random(H.shape, dtype=_F32) < H).astype(_F32)
                V = self._visible_probabilities(H)
                V = (rng.random(V.shape, dtype=_F32) < V).astype(_F32)
        return V

    def sample(self, n_samples: int, n_steps: int = 1000, seed: Any = 0) -> np.ndarray:
        """Draw binary visible samples: n_steps of Gibbs from uniform random {0,1} states.

        Returns
        -------
        ndarray, shape (n_samples, n_visible), float32 binary
        """
        if not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise IsingRGError(f"n_samples must be an integer >= 1, got {n_samples!r}")
        rng = _rng(seed)
        v0 = (rng.random((int(n_samples), self.n_visible)) < 0.5).astype(_F32)
        return self.gibbs(v0, n_steps, rng)


# --------------------------------------------------------------------------------------------
# performance measurement (used by ``ising-rg bench``)
# --------------------------------------------------------------------------------------------


def gemm_flops_per_s(
    n_visible: int = 1600, n_hidden: int = 400, n_rows: int = 4000, repeats: int = 5
) -> float:
    """Best float32 np.matmul rate (FLOP/s) of (n_rows, n_visible) @ (n_visible, n_hidden).

    A large GEMM with the RBM's own inner dimensions: the rate the training GEMMs would reach
    if minibatches did not limit BLAS blocking. FLOPs counted as 2 M K N.
    """
    rng = np.random.default_rng(12345)
    a = rng.random((n_rows, n_visible), dtype=_F32)
    w = rng.random((n_visible, n_hidden), dtype=_F32)
    out = np.empty((n_rows, n_hidden), _F32)
    np.matmul(a, w, out=out)  # warm up threads and caches
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, w, out=out)
        best = min(best, time.perf_counter() - start)
    return 2.0 * n_rows * n_visible * n_hidden / best


def gemm_floor_seconds(
    n_samples: int, n_visible: int, n_hidden: int, flops_per_s: float | None = None
) -> float:
    """Lower bound for one CD-1 epoch: 10 N n_visible n_hidden FLOPs at the GEMM rate.

    Three forward GEMMs (v W, h W^T, v_neg W: 2 N nv nh each) and the fused weight-gradient
    GEMM (K = 2B: 4 N nv nh). ``flops_per_s`` defaults to :func:`gemm_flops_per_s`.
    """
    if flops_per_s is None:
        flops_per_s = gemm_flops_per_s(n_visible, n_hidden)
    return 10.0 * n_samples * n_visible * n_hidden / flops_per_s


def benchmark_epoch(
    n_samples: int = 20000,
    n_visible: int = 1600,
    n_hidden: int = 400,
    batch_size: int = 100,
    seed: int = 0,
    n_epochs: int = 1,
) -> dict[str, float]:
    """Time CD-1 training epochs against the GEMM floor, both measured in this call.

    Data: uniform random {0,1}. The GEMM rate is the best of repetitions before and after the
    training (the larger rate gives the stricter floor).

    Returns
    -------
    dict with ``epoch_seconds`` (fastest epoch, training plus per-epoch monitoring),
    ``gemm_floor_seconds``, ``gemm_flops_per_s``, ``ratio`` (epoch / floor),
    ``fit_seconds`` (whole fit call, including input validation and setup).
    """
    rng = np.random.default_rng(seed)
    X = (rng.random((n_samples, n_visible), dtype=_F32) < 0.5).astype(_F32)
    # compile the numba kernels outside the timed region
    BernoulliRBM(4, n_epochs=1, batch_size=2, n_monitor=4, random_state=0).fit(X[:4, :8])
    rate = gemm_flops_per_s(n_visible, n_hidden)
    rbm = BernoulliRBM(n_hidden, n_epochs=n_epochs, batch_size=batch_size, random_state=seed)
    start = time.perf_counter()
    rbm.fit(X)
    fit_seconds = time.perf_counter() - start
    rate = max(rate, gemm_flops_per_s(n_visible, n_hidden))
    floor = gemm_floor_seconds(n_samples, n_visible, n_hidden, rate)
    epoch = float(np.min(rbm.history_["epoch_seconds"]))
    return {
        "epoch_seconds": epoch,
        "gemm_floor_seconds": floor,
        "gemm_flops_per_s": rate,
        "ratio": epoch / floor,
        "fit_seconds": fit_seconds,
    }

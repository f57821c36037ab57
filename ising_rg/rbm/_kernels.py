"""numba kernels of the RBM: float32 exp and sigmoid, the CD/PCD minibatch steps, monitoring.

Used by :mod:`ising_rg.rbm.trainer` (training) and :mod:`ising_rg.rbm.rbm` (inference). All
kernels are serial on purpose: OpenBLAS's worker threads own (and spin on) the two cores
between the GEMMs of a minibatch, and a prange kernel would fight them. Uniforms come from
per-column xoroshiro64** streams (:func:`ising_rg.sampling.rng.next_uint32_narrow`).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from ising_rg.sampling.rng import next_uint32_narrow

__all__ = [
    "apply_updates",
    "free_energy_fast",
    "free_energy_from_input",
    "gather_rows",
    "hidden_step",
    "hidden_step_sample",
    "is_binary",
    "sigmoid_rows",
    "sum_squared_difference",
    "visible_step_error",
    "visible_step_sample",
    "weight_statistics",
]

_F32 = np.float32


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


_UNIT_24 = np.float32(2.0**-24)


@nb.njit(inline="always")
def _uniform_f32(s0, s1, lane):
    """Next uniform in [0, 1) (24 bits) from xoroshiro64** stream ``lane`` (states s0, s1).

    One explicit stream per column (the generator of :mod:`ising_rg.sampling.rng`, 32-bit
    integer operations only), so a row of draws vectorises across lanes, ~10x cheaper than
    Generator.random + a comparison pass at minibatch sizes.
    """
    bits, s0[lane], s1[lane] = next_uint32_narrow(s0[lane], s1[lane])
    return np.float32(np.int32(bits >> np.uint32(8))) * _UNIT_24


@nb.njit(cache=True, fastmath=True, error_model="numpy", boundscheck=False)
def sigmoid_rows(z, bias, scale):
    """In place z[i, j] <- scale * sigmoid(z[i, j] + bias[j]); z (n, m) float32 C-order."""
    n, m = z.shape
    for i in range(n):
        row = z[i]
        for j in range(m):
            row[j] = scale * _sigmoid_f32(row[j] + bias[j])


@nb.njit(cache=True, fastmath=True, error_model="numpy", boundscheck=False)
def hidden_step(z, bias, scale, column_sum):
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
def hidden_step_sample(z, bias, scale, column_sum, sample, s0, s1):
    """As hidden_step, and sample[i, j] <- 1.0 if u < P else 0.0 (rbm.m: ``probs > rand``)."""
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


@nb.njit(inline="always")
def _sigmoid_row_error(row, bias, target_row, error):
    """row <- sigmoid(row + bias); returns error + sum_j (target_row - row)^2, in order."""
    for j in range(row.size):
        p = _sigmoid_f32(row[j] + bias[j])
        d = target_row[j] - p
        error += d * d
        row[j] = p
    return error


@nb.njit(cache=True, fastmath=True, error_model="numpy", boundscheck=False)
def visible_step_error(z, bias, target, column_sum):
    """z <- P(v=1|h) from z = h W^T; column_sum <- sum_i P; returns sum (target - P)^2."""
    n, m = z.shape
    column_sum[:] = 0.0
    error = _F32(0.0)
    for i in range(n):
        row = z[i]
        error = _sigmoid_row_error(row, bias, target[i], error)
        for j in range(m):
            column_sum[j] += row[j]
    return error


@nb.njit(cache=True, fastmath=True, error_model="numpy", boundscheck=False)
def visible_step_sample(z, bias, target, with_error, column_sum, s0, s1):
    """z <- binary sample of P(v=1|h); column_sum <- sum of the samples.

    Returns sum (target - P)^2 if ``with_error`` (target then has >= n rows), else 0.
    """
    n, m = z.shape
    column_sum[:] = 0.0
    error = _F32(0.0)
    for i in range(n):
        row = z[i]
        if with_error:
            error = _sigmoid_row_error(row, bias, target[i], error)
        else:
            for j in range(m):
                row[j] = _sigmoid_f32(row[j] + bias[j])
        for j in range(m):
            x = _F32(1.0) if _uniform_f32(s0, s1, j) < row[j] else _F32(0.0)
            row[j] = x
            column_sum[j] += x
    return error


@nb.njit(cache=True, error_model="numpy", boundscheck=False)
def gather_rows(X, rows, out, column_sum):
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
def apply_updates(W, inc_W, grad_W, b, inc_b, c, inc_c, sums, scales, momentum, l1_step, l2_step):
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
def is_binary(X):
    """True if every entry of the 2-D array X is exactly 0 or 1 (stops at the first other)."""
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            x = X[i, j]
            if x != 0 and x != 1:
                return False
    return True


@nb.njit(cache=True, fastmath=True, error_model="numpy", boundscheck=False)
def sum_squared_difference(a, b):
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
def free_energy_fast(x, hidden_bias, visible_term, out):
    """Monitoring version of free_energy_from_input (float32 x), ~10x faster, abs error
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
def weight_statistics(w):
    """(sqrt(sum w^2), mean |w|) of a flat float32 array, accumulated in float64."""
    squares = 0.0
    absolute = 0.0
    for i in range(w.size):
        x = np.float64(w[i])
        squares += x * x
        absolute += abs(x)
    return math.sqrt(squares), absolute / w.size


@nb.njit(cache=True, error_model="numpy", boundscheck=False)
def free_energy_from_input(x, hidden_bias, visible_term, out):
    """out[i] = -visible_term[i] - sum_j softplus(x[i, j] + c_j), x = v W, in float64."""
    n, m = x.shape
    for i in range(n):
        total = 0.0
        for j in range(m):
            a = np.float64(x[i, j]) + np.float64(hidden_bias[j])
            total += max(a, 0.0) + math.log1p(math.exp(-abs(a)))
        out[i] = -visible_term[i] - total

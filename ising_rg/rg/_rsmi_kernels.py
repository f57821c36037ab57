"""numba kernel of RSMI training and evaluation: per-configuration sums over its blocks.

One pass over the blocks of each configuration computes the Barber-Agakov objective's terms and
every gradient term (:mod:`ising_rg.rg.rsmi` derives them). Configurations are spread over
threads with ``prange``, each writing its own row of sums, and the rows are added up afterwards
in a fixed order, so the result does not depend on the number of threads. No random numbers are
drawn here. :func:`block_sums_serial` is the same code compiled without threads, for batches too
small to repay waking the thread pool (each row is computed by the same arithmetic either way).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

__all__ = ["N_SCALARS", "block_sums", "block_sums_serial"]

#: Leading scalar columns of :func:`block_sums`' output (see there).
N_SCALARS = 4


@nb.njit(inline="always")
def _sigmoid_softplus(x):
    """(sigmoid(x), ln(1 + e^x)) from one exp and one log1p, without overflow."""
    z = math.exp(-abs(x))
    sigmoid = 1.0 / (1.0 + z) if x >= 0.0 else z / (1.0 + z)
    return sigmoid, max(x, 0.0) + math.log1p(z)


@nb.njit(cache=True, boundscheck=False)
def _fill_padded(s, size, pad, width, ext):
    """The torus ``s`` (L*L,) on a (width x width) grid, site (r, c) at (r + pad, c + pad), the
    margins filled with periodic images (so no neighbour lookup needs a modulo)."""
    for r in range(width):
        source = ((r - pad) % size) * size
        for c in range(width):
            ext[r * width + c] = s[source + (c - pad) % size]


def _block_sums(spins, configs, size, pad, width, block_corners, block_offsets,
               environment_offsets, filter_weights, filter_bias, hard, decoder_weights,
               decoder_bias, out):
    """Per configuration, sums over its blocks of the bound's terms and gradient terms.

    With block spins s_V (n_v of them), environment spins s_E (n_e), a = Lambda . s_V + bias,
    p = P(H = +1 | V) = sigmoid(a) (``hard``: 1, 1/2, 0 for a > 0, = 0, < 0), the decoder's
    log-odds u = w . s_E + c and q = sigmoid(u):

    ========================  ==========================================
    ``out[i, 0]``             sum p
    ``out[i, 1]``             sum (p u - softplus(u))   (= sum_h p(h) ln q(h))
    ``out[i, 2]``             sum (p - q)
    ``out[i, 3]``             sum H_b(p) (nats)
    ``out[i, 4 + k]``         sum u p (1 - p) s_V[k]              k < n_v
    ``out[i, 4 + n_v + k]``   sum p (1 - p) s_V[k]                k < n_v
    ``out[i, 4 + 2 n_v + k]`` sum a p (1 - p) s_V[k]              k < n_v
    ``out[i, 4 + 3 n_v + j]`` sum (p - q) s_E[j]                  j < n_e
    ========================  ==========================================

    Parameters
    ----------
    spins : int8 (n, L*L), values +-1
    configs : int64 (m,), rows of ``spins`` to use
    size, pad, width : int
        L, and the padded grid (side ``width``, the torus at offset ``pad``) of
        :func:`_fill_padded`.
    block_corners : int64 (n_blocks,), flat padded index of each block's top-left corner
    block_offsets : int64 (n_v,); environment_offsets : int64 (n_e,)
        Flat padded offsets of the block's and the environment's sites from the corner.
    filter_weights : float64 (n_v,); filter_bias : float; hard : bool
    decoder_weights : float64 (n_e,); decoder_bias : float
    out : float64 (m, 4 + 3 n_v + n_e), overwritten
    """
    n_v = block_offsets.shape[0]
    n_e = environment_offsets.shape[0]
    for i in nb.prange(configs.shape[0]):
        ext = np.empty(width * width)
        _fill_padded(spins[configs[i]], size, pad, width, ext)
        row = out[i]
        row[:] = 0.0
        for corner in block_corners:
            a = filter_bias
            for k in range(n_v):
                a += filter_weights[k] * ext[corner + block_offsets[k]]
            u = decoder_bias
            for j in range(n_e):
                u += decoder_weights[j] * ext[corner + environment_offsets[j]]
            if hard:
                p = 1.0 if a > 0.0 else (0.0 if a < 0.0 else 0.5)
                entropy = 0.6931471805599453 if a == 0.0 else 0.0
            else:
                p, softplus_a = _sigmoid_softplus(a)
                entropy = softplus_a - a * p  # H_b(sigmoid(a))
            q, softplus_u = _sigmoid_softplus(u)
            d = p - q
            slope = p * (1.0 - p)
            row[0] += p
            row[1] += p * u - softplus_u
            row[2] += d
            row[3] += entropy
            for k in range(n_v):
                sv = ext[corner + block_offsets[k]]
                row[N_SCALARS + k] += u * slope * sv
                row[N_SCALARS + n_v + k] += slope * sv
                row[N_SCALARS + 2 * n_v + k] += a * slope * sv
            base = N_SCALARS + 3 * n_v
            for j in range(n_e):
                row[base + j] += d * ext[corner + environment_offsets[j]]


block_sums = nb.njit(parallel=True, cache=True, boundscheck=False)(_block_sums)
block_sums_serial = nb.njit(cache=True, boundscheck=False)(_block_sums)

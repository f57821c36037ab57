"""The RBM's activation functions in numpy: softplus and sigmoid, stable for any argument.

``softplus`` and ``sigmoid`` are the float64 references (free energies, log-likelihood bounds,
log Z); ``sigmoid_of_product`` is the float32 sigmoid(X W + bias) of inference, computed in
row chunks with the numba kernel of :mod:`ising_rg.rbm._kernels`.
"""

from __future__ import annotations

import numpy as np

from ising_rg.rbm._kernels import sigmoid_rows
from ising_rg.rbm.trainer import CHUNK_ROWS

__all__ = ["sigmoid", "sigmoid_of_product", "softplus"]


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)), stable for any x (float64)."""
    x = np.asarray(x, dtype=np.float64)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), stable for any x, float64 reference implementation."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_of_product(X: np.ndarray, W: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """sigmoid(X W + bias), shape (n_rows, W.shape[1]), float32, in row chunks that keep the
    buffers in cache."""
    out = np.empty((X.shape[0], W.shape[1]), np.float32)
    for s in range(0, X.shape[0], CHUNK_ROWS):
        block = out[s : s + CHUNK_ROWS]
        np.matmul(X[s : s + CHUNK_ROWS], W, out=block)
        sigmoid_rows(block, bias, np.float32(1.0))
    return out

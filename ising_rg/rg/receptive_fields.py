"""Receptive fields of the units of a deep belief network, as fields on the L x L lattice.

Two definitions, side by side:

* **weight product** (the paper's, Mehta & Schwab App. B): r(1) = W(1), r(l) = r(l-1) W(l).
  Linear: it ignores the sigmoids and the biases, so it is what the weights say, not
  necessarily what the unit responds to.
* **activation-weighted average** (a data-driven spike-triggered average):
  ``f_a(x) = sum_n P(h_a=1|v_n) v_n(x) / sum_n P(h_a=1|v_n) - <v(x)>``, the mean visible
  configuration seen by unit a, minus the mean configuration. Includes the nonlinearity and the
  data's own correlations (so it is broadened by the correlation length). In {0,1} units; the
  same field in spin units is 2 f_a.

The DBN is duck-typed: ``dbn.rbms_`` is a list of RBMs with ``weights_`` (n_in, n_out),
``visible_bias_``, ``hidden_bias_`` and ``transform(X) = P(h=1|v)``; layer l's activations are
the chain ``rbms_[l-1].transform(... rbms_[0].transform(X))`` of hidden *probabilities*, which is
what greedy training feeds each layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ising_rg.errors import IsingRGError


def lattice_size(n_visible: int) -> int:
    """L such that L * L == n_visible (IsingRGError if n_visible is not a square)."""
    size = int(round(np.sqrt(n_visible)))
    if size * size != n_visible:
        raise IsingRGError(f"{n_visible} visible units is not a square L x L lattice")
    return size


def spins_to_visible(spins: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Spins (n, L, L) in {-1, +1} -> visible units v = (s + 1) / 2, shape (n, L*L), row-major."""
    s = np.asarray(spins)
    if s.ndim != 3:
        raise IsingRGError(f"spins must be shaped (n, L, L), got {s.shape}")
    return ((s.reshape(s.shape[0], -1).astype(dtype) + 1) * 0.5).astype(dtype, copy=False)


def weight_product_fields(weight_matrices: Sequence[np.ndarray], size: int) -> list[np.ndarray]:
    """The paper's receptive fields r(l) = W(1) W(2) ... W(l), reshaped onto the lattice.

    Parameters
    ----------
    weight_matrices : sequence of ndarray, shapes (L*L, n_1), (n_1, n_2), ...
    size : int
        L.

    Returns
    -------
    list of float64 arrays; entry l - 1 is shaped (n_l, L, L): unit a's field is column a of
    r(l) laid out row-major (site index i = row * L + col).
    """
    fields = []
    product = None
    for index, weights in enumerate(weight_matrices, start=1):
        w = np.asarray(weights, dtype=np.float64)
        if product is None:
            if w.shape[0] != size * size:
                raise IsingRGError(f"layer 1 has {w.shape[0]} inputs, expected {size * size}")
            product = w
        else:
            if w.shape[0] != product.shape[1]:
                raise IsingRGError(
                    f"layer {index} has {w.shape[0]} inputs but layer {index - 1} has "
                    f"{product.shape[1]} units"
                )
            product = product @ w
        fields.append(np.ascontiguousarray(product.T).reshape(-1, size, size))
    return fields


def receptive_fields(dbn) -> list[np.ndarray]:
    """Weight-product receptive fields of every layer of ``dbn`` (see weight_product_fields).

    Returns
    -------
    list of float64 arrays, entry l - 1 shaped (n_l, L, L).
    """
    weights = [rbm.weights_ for rbm in dbn.rbms_]
    return weight_product_fields(weights, lattice_size(np.shape(weights[0])[0]))


def layer_activations(dbn, visible: np.ndarray, depth: int | None = None) -> list[np.ndarray]:
    """Hidden probabilities P(h=1|v) of layers 1..depth, propagated up the stack.

    Parameters
    ----------
    visible : ndarray, shape (n, L*L), values in [0, 1]
    depth : int, optional
        Number of layers (default: all).

    Returns
    -------
    list of arrays; entry l - 1 is shaped (n, n_l).
    """
    rbms = dbn.rbms_ if depth is None else dbn.rbms_[:depth]
    activations = []
    x = visible
    for rbm in rbms:
        x = np.asarray(rbm.transform(x))
        activations.append(x)
    return activations


def activation_weighted_fields(
    visible: np.ndarray, activations: np.ndarray, size: int
) -> np.ndarray:
    """Activation-weighted mean visible field minus the mean visible field, per unit.

    ``f_a = (X^T H)[:, a] / sum_n H[n, a] - mean_n X[n]``, computed with one matrix product
    (float32 GEMM, float64 division). A unit that never fires (sum H = 0) gets a zero field.

    Parameters
    ----------
    visible : ndarray, shape (n, L*L), values in [0, 1] (X)
    activations : ndarray, shape (n, n_units), P(h_a = 1 | v_n) (H)
    size : int
        L.

    Returns
    -------
    float64 array, shape (n_units, L, L), in {0,1}-unit (v) units.
    """
    x = np.asarray(visible, dtype=np.float32)
    h = np.asarray(activations, dtype=np.float32)
    if x.ndim != 2 or h.ndim != 2 or x.shape[0] != h.shape[0] or x.shape[1] != size * size:
        raise IsingRGError(
            f"visible {x.shape} and activations {h.shape} do not match a {size}x{size} lattice"
        )
    weighted_sum = (h.T @ x).astype(np.float64)  # (n_units, L*L)
    total = h.sum(axis=0, dtype=np.float64)[:, np.newaxis]
    mean_visible = x.mean(axis=0, dtype=np.float64)[np.newaxis, :]
    safe_total = np.where(total > 0, total, 1.0)
    fields = np.where(total > 0, weighted_sum / safe_total - mean_visible, 0.0)
    return fields.reshape(-1, size, size)


def activation_weighted_receptive_fields(dbn, spins: np.ndarray) -> list[np.ndarray]:
    """Activation-weighted fields of every layer of ``dbn`` over the configurations ``spins``.

    Parameters
    ----------
    spins : ndarray, shape (n, L, L), values in {-1, +1}

    Returns
    -------
    list of float64 arrays, entry l - 1 shaped (n_l, L, L).
    """
    x = spins_to_visible(spins)
    size = int(np.shape(spins)[-1])
    return [activation_weighted_fields(x, h, size) for h in layer_activations(dbn, x)]

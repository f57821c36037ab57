"""Receptive fields of the units of a deep belief network, as fields on the L x L lattice.

Three definitions, side by side:

* **weight product** (the paper's, Mehta & Schwab App. B): r(1) = W(1), r(l) = r(l-1) W(l).
  Linear: it ignores the sigmoids and the biases, so it is what the weights say, not
  necessarily what the unit responds to. Given the live units of each layer, the products
  run over live units only: a dead unit (``ising_rg.rbm.trainer.dead_units``) passes nothing on,
  whatever its weights (its output is constant), so its weights are dropped from the fields of
  the layers above.
* **mean Jacobian** ``J_a(x) = <dh_a / dv_x>`` over the data: the average linear response of
  unit a to its inputs, the chain rule through every sigmoid, per sample, then averaged
  (``mean_jacobian_fields``). Layer 1: <h_a (1 - h_a)> W(1)[:, a]. The local, data-weighted
  counterpart of the weight product (dead lower-layer units are excluded from its chain too).
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
from ising_rg.spins import lattice_size, spins_to_visible  # noqa: F401 (re-exported)


def _check_layers(weight_matrices: Sequence[np.ndarray], size: int,
                  live: Sequence[np.ndarray] | None) -> list[np.ndarray]:
    """The weight matrices as float64, checked to chain from L*L inputs; and the live masks."""
    weights = [np.asarray(w, dtype=np.float64) for w in weight_matrices]
    for index, w in enumerate(weights, start=1):
        n_in = size * size if index == 1 else weights[index - 2].shape[1]
        if w.ndim != 2 or w.shape[0] != n_in:
            raise IsingRGError(
                f"layer {index} has {w.shape[0] if w.ndim else 0} inputs, expected {n_in} "
                f"({'the L x L lattice' if index == 1 else f'the units of layer {index - 1}'})"
            )
    if live is not None:
        if len(live) < len(weights) - 1:
            raise IsingRGError(f"need live masks of at least {len(weights) - 1} layers")
        for index, (mask, w) in enumerate(zip(live, weights, strict=False), start=1):
            if np.shape(mask) != (w.shape[1],):
                raise IsingRGError(f"live mask of layer {index} must be shaped ({w.shape[1]},)")
    return weights


def weight_product_fields(weight_matrices: Sequence[np.ndarray], size: int,
                          live: Sequence[np.ndarray] | None = None) -> list[np.ndarray]:
    """The paper's receptive fields r(l) = W(1) W(2) ... W(l), reshaped onto the lattice.

    Parameters
    ----------
    weight_matrices : sequence of ndarray, shapes (L*L, n_1), (n_1, n_2), ...
    size : int
        L.
    live : sequence of bool arrays, shapes (n_1,), (n_2,), ..., optional
        Live units of each layer (at least the layers below the top). The product then runs
        over live units only, r(l) = W(1) P(1) W(2) P(2) ... W(l) with P(k) = diag(live_k):
        a dead unit's weights do not reach the layers above. A layer's own dead units keep
        their fields (exclude them from statistics yourself).

    Returns
    -------
    list of float64 arrays; entry l - 1 is shaped (n_l, L, L): unit a's field is column a of
    r(l) laid out row-major (site index i = row * L + col).
    """
    weights = _check_layers(weight_matrices, size, live)
    fields = []
    product = None
    for index, w in enumerate(weights):
        if product is not None and live is not None:
            product = product * np.asarray(live[index - 1], dtype=bool)[np.newaxis, :]
        product = w if product is None else product @ w
        fields.append(np.ascontiguousarray(product.T).reshape(-1, size, size))
    return fields


def mean_jacobian_fields(weight_matrices: Sequence[np.ndarray], activations: Sequence[np.ndarray],
                         size: int, live: Sequence[np.ndarray] | None = None,
                         chunk: int = 16) -> list[np.ndarray]:
    """The data-averaged Jacobian <dh_a / dv_x> of every layer, reshaped onto the lattice.

    Each layer is h(l) = sigmoid(h(l-1) W(l) + c(l)) of the layer below's probabilities (the
    DBN's up pass, h(0) = v), so per sample

        dh(l) / dv = D(l) W(l)^T D(l-1) W(l-1)^T ... D(1) W(1)^T,   D(k) = diag(h(k) (1 - h(k))),

    averaged over the samples. Layer 1 is <D(1)> W(1)^T; for deeper layers the product
    A(l) = D(l) W(l)^T ... D(1) (n_l x n_1) is formed per sample in chunks of ``chunk`` samples
    and averaged, then multiplied by W(1)^T once (cost ~ n_samples * n_l * n_(l-1) * n_1 per
    layer: 5000 samples of a 1600-400-100-25 network, about 5e9 multiply-adds for layer 3,
    3 s on one core of the development machine).

    Parameters
    ----------
    weight_matrices : sequence of ndarray, shapes (L*L, n_1), (n_1, n_2), ...
    activations : sequence of ndarray, shapes (n, n_1), (n, n_2), ...
        P(h = 1 | layer below) of each layer over the same n samples (``layer_activations``);
        the derivative of the logistic sigmoid is read off them as h (1 - h).
    size : int
        L.
    live : sequence of bool arrays, shapes (n_1,), (n_2,), ..., optional
        Live units per layer: a dead unit of layer k contributes nothing to the Jacobians of
        layers above k (its derivative is set to 0 there); its own field is kept.
    chunk : int
        Samples per chunk (memory ~ chunk * n_2 * n_1 floats).

    Returns
    -------
    list of float64 arrays; entry l - 1 is shaped (n_l, L, L), in units of P(h = 1) per unit
    of v (v in {0, 1}).
    """
    weights = _check_layers(weight_matrices, size, live)
    if len(activations) < len(weights):
        raise IsingRGError(f"need the activations of {len(weights)} layers, got {len(activations)}")
    slopes = []
    for index, (h, w) in enumerate(zip(activations, weights, strict=False)):
        h = np.asarray(h, dtype=np.float64)
        if h.ndim != 2 or h.shape[1] != w.shape[1] or h.shape[0] != np.shape(activations[0])[0]:
            raise IsingRGError(
                f"activations of layer {index + 1} must be shaped (n, {w.shape[1]}), got {h.shape}")
        slopes.append(h * (1.0 - h))
    n_samples = slopes[0].shape[0]
    if n_samples == 0:
        raise IsingRGError("need at least one sample for the mean Jacobian")
    # What a unit passes on to the layers above: 1 if live, 0 if dead.
    passes = [np.ones(w.shape[1]) if live is None else np.asarray(live[k], dtype=np.float64)
              for k, w in enumerate(weights[:-1])]
    first_t = weights[0].T  # (n_1, L*L)
    sums = [np.zeros((w.shape[1], weights[0].shape[1])) for w in weights[1:]]
    step = max(1, int(chunk))
    for start in range(0, n_samples if len(weights) > 1 else 0, step):
        rows = slice(start, start + step)
        # A(2) = D(2) W(2)^T D(1) with layer 1's dead units removed, shape (c, n_2, n_1).
        product = (slopes[1][rows][:, :, np.newaxis] * weights[1].T[np.newaxis]
                   * (slopes[0][rows] * passes[0])[:, np.newaxis, :])
        sums[0] += product.sum(axis=0)
        for index in range(2, len(weights)):
            # A(l+1) = D(l+1) W(l+1)^T P(l) A(l), P(l) removing layer l's dead units.
            below = product * passes[index - 1][np.newaxis, :, np.newaxis]
            product = slopes[index][rows][:, :, np.newaxis] * np.matmul(
                weights[index].T[np.newaxis], below)
            sums[index - 1] += product.sum(axis=0)
    jacobians = [slopes[0].mean(axis=0)[:, np.newaxis] * first_t]
    jacobians += [(total / n_samples) @ first_t for total in sums]
    return [np.ascontiguousarray(j).reshape(-1, size, size) for j in jacobians]


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

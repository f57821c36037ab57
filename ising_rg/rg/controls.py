"""Controls for the claim "the DBN learns block-spin RG".

* **Site permutation.** A fully connected RBM has no notion of which sites are neighbours: its
  training is equivariant under any fixed relabelling of the visible units. Train on data whose
  columns were permuted by a fixed random permutation, map the learned first-layer weights back
  to the original lattice, and the fields must be exactly as local as without the permutation
  (up to training noise). If they are, locality comes from the *data's* correlations, not from
  any lattice structure in the architecture; fields measured in the permuted coordinates, in
  contrast, look non-local, which calibrates the locality metrics.
* **Untrained network.** The same architecture with its initial random weights: the chance
  level of every metric of ``analyze``.

Permutation convention (one throughout): ``perm`` is an int array of length n_sites;
permuted column k holds original site ``perm[k]``, i.e. ``X_perm = X[:, perm]``. A quantity
indexed by permuted coordinate k (a weight row, a receptive-field pixel) belongs to original
site perm[k], so ``original = permuted[..., inverse_permutation(perm)]``.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ising_rg.errors import IsingRGError
from ising_rg.rbm.dbn import DBN
from ising_rg.rbm.rbm import (
    HISTORY_KEYS,
    BernoulliRBM,
    _rng,
    _seed_sequence,
    check_unit_interval,
)

__all__ = [
    "inverse_permutation",
    "permute_visible",
    "permuted_dbn_in_original_coordinates",
    "site_permutation",
    "unpermute_fields",
    "untrained_dbn",
]


def site_permutation(n_sites: int, seed: int = 0) -> np.ndarray:
    """A fixed random permutation of the sites (seeded, PCG64).

    Returns
    -------
    int64 array, shape (n_sites,): permuted column k holds original site perm[k].
    """
    if isinstance(n_sites, bool) or not isinstance(n_sites, numbers.Integral) or n_sites < 1:
        raise IsingRGError(f"n_sites must be an integer >= 1, got {n_sites!r}")
    return np.random.default_rng(seed).permutation(int(n_sites)).astype(np.int64)


def _check_permutation(perm: Any, n_sites: int | None = None) -> np.ndarray:
    p = np.asarray(perm)
    if p.ndim != 1 or not np.issubdtype(p.dtype, np.integer):
        raise IsingRGError(f"a permutation must be a 1-D integer array, got {p.dtype} {p.shape}")
    if n_sites is not None and p.size != n_sites:
        raise IsingRGError(f"the permutation has {p.size} entries, expected {n_sites}")
    if not np.array_equal(np.sort(p), np.arange(p.size)):
        raise IsingRGError("not a permutation of 0..n-1")
    return p.astype(np.int64)


def inverse_permutation(perm: Any) -> np.ndarray:
    """inv with inv[perm[k]] = k, so that ``X[:, perm][:, inv] == X``; int64 (n_sites,)."""
    p = _check_permutation(perm)
    inverse = np.empty_like(p)
    inverse[p] = np.arange(p.size)
    return inverse


def permute_visible(X: Any, perm: Any) -> np.ndarray:
    """Relabel the sites: ``X[..., perm]`` (new column k holds original site perm[k]).

    Parameters
    ----------
    X : array-like, shape (..., n_sites)
        Visible configurations (or any per-site array, last axis = sites).
    perm : int array, shape (n_sites,)

    Returns
    -------
    ndarray, same shape and dtype as X (a copy).
    """
    x = np.asarray(X)
    p = _check_permutation(perm, x.shape[-1] if x.ndim else None)
    return x[..., p]


def unpermute_fields(fields: Any, perm: Any, size: int) -> np.ndarray:
    """Map receptive fields measured in permuted coordinates back onto the original lattice.

    Parameters
    ----------
    fields : array-like, shape (n_units, L*L) or (n_units, L, L)
        Fields over the *permuted* sites (an image is the permuted site vector laid out
        row-major, as ``weight_product_fields`` does for a model trained on permuted data).
    perm : int array, shape (L*L,)
    size : int
        L.

    Returns
    -------
    float64 array, shape (n_units, L, L): pixel (r, c) is the field at original site r*L + c.
    """
    f = np.asarray(fields, dtype=np.float64)
    n_sites = size * size
    if f.ndim == 3 and f.shape[1:] == (size, size):
        f = f.reshape(f.shape[0], n_sites)
    if f.ndim != 2 or f.shape[1] != n_sites:
        raise IsingRGError(
            f"fields must be shaped (n_units, {n_sites}) or (n_units, {size}, {size}), "
            f"got {np.shape(fields)}"
        )
    inverse = inverse_permutation(_check_permutation(perm, n_sites))
    return f[:, inverse].reshape(-1, size, size)


def permuted_dbn_in_original_coordinates(dbn: Any, perm: Any) -> Any:
    """A copy of a DBN trained on permuted data whose first layer acts on original coordinates.

    Layer 1's weight rows and visible biases are re-indexed, W_orig = W[inv], b_orig = b[inv]
    (inv = ``inverse_permutation(perm)``), so that X W_orig = X[:, perm] W for every X. Then
    ``analyze(copy, spins)`` measures the fields on the original lattice, and
    ``copy.transform(X) == dbn.transform(permute_visible(X, perm))`` up to the floating-point
    summation order of the GEMM (bit-identical when the sums are exact). Reconstructions and
    samples of the copy come out in original coordinates too. ``dbn`` is not modified.

    Parameters
    ----------
    dbn : DBN (or duck-typed: ``rbms_`` with ``weights_`` (n_sites, n_1), ``visible_bias_``)
    perm : int array, shape (n_sites,), the permutation applied to the training data

    Returns
    -------
    a deep copy of ``dbn`` of the same type.
    """
    rbms = getattr(dbn, "rbms_", None)
    if not rbms:
        raise IsingRGError("the model has no trained layers")
    n_sites = int(np.shape(rbms[0].weights_)[0])
    inverse = inverse_permutation(_check_permutation(perm, n_sites))
    out = copy.deepcopy(dbn)
    first = out.rbms_[0]
    first.weights_ = np.ascontiguousarray(np.asarray(first.weights_)[inverse])
    first.visible_bias_ = np.ascontiguousarray(np.asarray(first.visible_bias_)[inverse])
    return out


def untrained_dbn(
    n_visible: int,
    hidden: Sequence[int] = (400, 100, 25),
    init: str = "paper",
    seed: int = 0,
    data: Any = None,
    **rbm_kwargs: Any,
) -> DBN:
    """A DBN with initialised but untrained layers: the chance-level network for ``analyze``.

    The layers are real :class:`BernoulliRBM` objects with the attributes ``fit`` sets
    (``weights_``, ``visible_bias_``, ``hidden_bias_``, ``n_features_in_``, ``n_iter_ = 0``,
    ``history_`` = every history key mapped to an empty float64 array), inside a real
    :class:`DBN` (``rbms_``, ``n_layers_``, ``n_features_in_``, ``layer_seeds_``, empty
    ``validation_indices_`` / ``train_indices_``). Seeds follow ``DBN.fit`` exactly, so with
    ``init='paper'`` the weights are bit-identical to those ``DBN(hidden, random_state=seed)``
    starts training from (paper init does not depend on the data).

    Parameters
    ----------
    n_visible : int
        L*L.
    hidden : sequence of int
        Layer sizes, bottom first.
    init : {'paper', 'guide'}
        'paper': W = 0.1 N(0,1), zero biases. 'guide': W = 0.01 N(0,1), visible biases
        logit(mean of each layer's input over ``data``; the data propagated up the untrained
        layers as probabilities for the higher layers), hidden biases 0.
    seed : int
        Master seed, as ``DBN(random_state=seed)``.
    data : array-like, shape (n_samples, n_visible), values in [0, 1]; only for init='guide'.
    **rbm_kwargs
        Other BernoulliRBM hyper-parameters to record on the layers (no effect on the weights).

    Returns
    -------
    DBN
    """
    if isinstance(n_visible, bool) or not isinstance(n_visible, numbers.Integral) or n_visible < 1:
        raise IsingRGError(f"n_visible must be an integer >= 1, got {n_visible!r}")
    if init not in ("paper", "guide"):
        raise IsingRGError(f"init must be 'paper' or 'guide', got {init!r}")
    clash = sorted({"init", "random_state", "n_hidden"} & set(rbm_kwargs))
    if clash:
        raise IsingRGError(f"pass {', '.join(clash)} as untrained_dbn arguments, not RBM kwargs")
    dbn = DBN(hidden, random_state=seed, init=init, **rbm_kwargs)
    sizes = dbn._check_parameters()
    if init == "guide":
        if data is None:
            raise IsingRGError("init='guide' needs data (its visible biases are data means)")
        layer_input = check_unit_interval(data, "data", n_features=int(n_visible))
    else:
        layer_input = np.empty((0, int(n_visible)), np.float32)  # only its width is used

    # the same streams as DBN.fit: spawn(2 + n_layers), layer seeds from the last n_layers
    _, _, *layer_streams = _seed_sequence(seed).spawn(2 + len(sizes))
    layer_seeds = [int(s.generate_state(1, dtype=np.uint64)[0] >> 1) for s in layer_streams]
    rbms = []
    for index, (n_hidden, layer_seed) in enumerate(zip(sizes, layer_seeds, strict=True)):
        rbm = BernoulliRBM(n_hidden, random_state=layer_seed, init=init, **rbm_kwargs)
        # BernoulliRBM.fit: streams = spawn(4) of the layer seed, the first initialises
        rng_init = _rng(_seed_sequence(layer_seed).spawn(4)[0])
        W, b, c = rbm._initial_parameters(layer_input, rng_init)
        rbm.weights_, rbm.visible_bias_, rbm.hidden_bias_ = W, b, c
        rbm.n_features_in_ = int(W.shape[0])
        rbm.n_iter_ = 0
        rbm.history_ = {key: np.zeros(0, dtype=np.float64) for key in HISTORY_KEYS}
        rbms.append(rbm)
        if init == "guide" and index + 1 < len(sizes):
            layer_input = rbm.transform(layer_input)
        else:
            layer_input = np.empty((0, n_hidden), np.float32)
    dbn.rbms_ = rbms
    dbn.n_layers_ = len(rbms)
    dbn.n_features_in_ = int(n_visible)
    dbn.layer_seeds_ = layer_seeds
    dbn.validation_indices_ = np.zeros(0, dtype=np.int64)
    dbn.train_indices_ = np.zeros(0, dtype=np.int64)
    return dbn

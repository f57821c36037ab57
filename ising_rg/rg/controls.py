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
from collections.abc import Sequence
from typing import Any

import numpy as np

from ising_rg import paper
from ising_rg.checks import check_integer
from ising_rg.errors import IsingRGError, NotFittedError
from ising_rg.rbm.dbn import DBN
from ising_rg.rbm.rbm import BernoulliRBM
from ising_rg.seeding import as_generator
from ising_rg.settings import Recipe

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
    n_sites = check_integer(n_sites, "n_sites", 1)
    return as_generator(seed).permutation(n_sites).astype(np.int64)


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


def permuted_dbn_in_original_coordinates(dbn: DBN, perm: Any) -> DBN:
    """A copy of a DBN trained on permuted data whose first layer acts on original coordinates.

    Layer 1's weight rows and visible biases are re-indexed, W_orig = W[inv], b_orig = b[inv]
    (inv = ``inverse_permutation(perm)``), so that X W_orig = X[:, perm] W for every X. Then
    ``analyze(copy, spins)`` measures the fields on the original lattice, and
    ``copy.transform(X) == dbn.transform(permute_visible(X, perm))`` up to the floating-point
    summation order of the GEMM (bit-identical when the sums are exact). Reconstructions and
    samples of the copy come out in original coordinates too. ``dbn`` is not modified.

    Parameters
    ----------
    dbn : fitted DBN
    perm : int array, shape (n_sites,), the permutation applied to the training data

    Returns
    -------
    DBN: the re-indexed first layer, deep copies of the other layers, the same
    hyper-parameters, layer seeds and validation/training rows.
    """
    rbms = getattr(dbn, "rbms_", None)
    if not rbms:
        raise NotFittedError("the model has no trained layers")
    first = rbms[0]
    inverse = inverse_permutation(_check_permutation(perm, first.n_visible))
    reindexed = BernoulliRBM.from_parameters(
        first.weights_[inverse],
        first.visible_bias_[inverse],
        first.hidden_bias_,
        history=first.history_,
        **first.get_params(),
    )
    return DBN.from_rbms(
        [reindexed, *copy.deepcopy(rbms[1:])],
        layer_seeds=dbn.layer_seeds_,
        validation_indices=dbn.validation_indices_,
        train_indices=dbn.train_indices_,
        **dbn.get_params(),
    )


def untrained_dbn(
    n_visible: int,
    hidden: Sequence[int] = paper.HIDDEN,
    init: str = paper.INIT,
    seed: int = 0,
    data: Any = None,
) -> DBN:
    """A DBN with initialised but untrained layers: the chance-level network for ``analyze``.

    ``DBN(hidden, recipe=Recipe(init=init), random_state=seed).initialize(n_visible, data)``:
    real :class:`BernoulliRBM` layers with every fitted attribute (``n_iter_ = 0``, each
    history key mapped to an empty array) inside a real :class:`DBN` (empty
    ``validation_indices_`` / ``train_indices_``). Seeds follow ``DBN.fit`` (one seeding rule,
    in the DBN), so with ``init='paper'`` the weights are bit-identical to those
    ``DBN(hidden, random_state=seed)`` starts training from (paper init does not depend on the
    data).

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

    Returns
    -------
    DBN
    """
    n_visible = check_integer(n_visible, "n_visible", 1)
    return DBN(hidden, recipe=Recipe(init=init), random_state=seed).initialize(n_visible, data)

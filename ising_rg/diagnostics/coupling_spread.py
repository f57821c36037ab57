"""The nearest-neighbour couplings of an RBM's marginal as a distribution over bonds and
contexts, and the Ising test (one coupling fits all).

A mean coupling can hide a non-Ising Hamiltonian: the paper recipe's L = 16 network has a
mean K_nn of 1.04 K from per-bond couplings between 0.005 and 0.72 that change with the
context. ``coupling_distribution`` reports the whole distribution of K_b(x)
(``ising_rg.diagnostics.couplings``: the exact pairwise coupling of bond b in context x) and
tests whether one coupling fits them all.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ising_rg.diagnostics.couplings import (
    _check_lattice_inputs,
    _PairCouplingKernel,
    _shifted_sites,
)
from ising_rg.io.jsonfile import to_json
from ising_rg.seeding import as_generator

__all__ = ["QUANTILES", "coupling_distribution"]


#: The quantiles of a coupling distribution reported (``coupling_distribution``).
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _summary(values: np.ndarray) -> dict[str, Any]:
    """Mean, spread (std), extremes and ``QUANTILES`` of a set of couplings."""
    return {"mean": float(values.mean()), "std": float(values.std()),
            "min": float(values.min()), "max": float(values.max()),
            "quantiles": {f"{q:g}": float(v) for q, v in zip(
                QUANTILES, np.quantile(values, QUANTILES), strict=True)}}


def coupling_distribution(rbm: Any, visible_data: Any, size: int, n_contexts: int = 50,
                          seed: int = 0, true_coupling: float | None = None) -> dict[str, Any]:
    """The nearest-neighbour couplings K_b(x) of every bond b in every data context x: their
    distribution, not only their mean, and the Ising test.

    The Ising model has one coupling K on every bond in every context; an RBM marginal
    generally does not (module docstring). Reported: the distribution over all (b, x), over
    bonds of the context means (``by_bond``: a model that is not translation invariant), and
    over contexts of the bond means (``by_context``: a marginal that is not pairwise), each
    with mean, std, extremes and quantiles.

    **Ising test**: one coupling fits all bonds and contexts within errors: the spread of
    K_b(x) over all (b, x) is at most 3 of its jackknife errors (over contexts) above 0, up to
    a floating-point floor of 1e-6 |K|. The exact Ising RBM passes (its spread is float32
    rounding); an RBM with 2K on half the bonds and 0 on the rest has mean K but fails.

    Parameters
    ----------
    rbm : duck-typed RBM (``weights_`` (L*L, n_hidden), ``hidden_bias_``), the first layer
    visible_data : array-like (n_samples, L*L), binary: the contexts are drawn from them
    size : int, L
    n_contexts : int, contexts used (uniformly without replacement, seeded)
    seed : int
    true_coupling : float, optional, K of the data (for ``ratio_to_true`` of the mean)

    Returns
    -------
    dict (JSON-ready): ``all``, ``by_bond``, ``by_context`` (summaries), ``ratio_to_true``,
    ``ising_test`` {"passes", "spread", "spread_error", "relative_spread"}, ``settings``.
    """
    weights, data, size = _check_lattice_inputs(rbm, visible_data, size, 1, n_contexts)
    rng = as_generator(seed)
    n_used = min(int(n_contexts), data.shape[0])
    rows = np.sort(rng.choice(data.shape[0], size=n_used, replace=False))
    kernel = _PairCouplingKernel(weights, rbm.hidden_bias_, data[rows])
    samples = np.concatenate([kernel(_shifted_sites(size, d)) for d in ((0, 1), (1, 0))],
                             axis=1)  # (n_contexts, 2 L^2): every bond in every context
    spread = float(samples.std())
    if n_used > 1:
        replicates = np.array([np.delete(samples, i, axis=0).std() for i in range(n_used)])
        spread_error = float(np.sqrt((n_used - 1) * np.mean((replicates - spread) ** 2)))
    else:
        spread_error = float("nan")
    mean = float(samples.mean())
    floor = 1e-6 * abs(mean)
    passes = bool(spread <= floor or (math.isfinite(spread_error)
                                      and spread <= 3.0 * spread_error + floor))
    return to_json({
        "all": _summary(samples.ravel()),
        "by_bond": _summary(samples.mean(axis=0)),
        "by_context": _summary(samples.mean(axis=1)),
        "ratio_to_true": None if not true_coupling else mean / float(true_coupling),
        "ising_test": {"passes": passes, "spread": spread, "spread_error": spread_error,
                       "relative_spread": spread / abs(mean) if mean else None},
        "settings": {"size": size, "n_contexts": n_used, "seed": int(seed),
                     "n_bonds": int(samples.shape[1])},
    })

"""An RBM at inverse temperature beta: block Gibbs steps and free energies, row by row.

The RBM at inverse temperature beta has the energy beta E(v, h), i.e. every parameter scaled by
beta, and the visible marginal p_beta(v) proportional to exp(-F_beta(v)) with

    F_beta(v) = -beta b.v - sum_j softplus(beta (c_j + (v W)_j)).

beta = 1 is the RBM itself, beta = 0 the uniform distribution. Annealed importance sampling
(:mod:`ising_rg.rbm.mixture_ais`) adds a product "base" field (1 - beta) a to the visible units;
parallel tempering (:mod:`ising_rg.rbm.tempering`) runs one replica per beta. Both go through
:class:`ScaledRBM`, which holds the parameters once (float32 weights for the matrix products,
float64 biases and accumulations) and takes one beta per row, so a whole ladder of replicas or
a batch of AIS runs is one pair of matrix products per step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ising_rg.rbm.partition import rbm_parameters
from ising_rg.rbm.rbm import softplus
from ising_rg.seeding import bernoulli

__all__ = ["ScaledRBM", "magnetization"]


def magnetization(v: np.ndarray) -> np.ndarray:
    """Mean spin m = mean(2 v - 1) of each row of binary states (n, n_visible), float64 (n,)."""
    return 2.0 * np.asarray(v, dtype=np.float64).mean(axis=1) - 1.0


class ScaledRBM:
    """Parameters of one RBM prepared for Gibbs sampling and free energies at any beta.

    Parameters
    ----------
    model : fitted BernoulliRBM, (W, b, c) tuple or dict (``rbm_parameters``)

    Attributes
    ----------
    weights : float32 (n_visible, n_hidden), C-ordered; ``weights_t`` its transpose
    visible_bias : float64 (n_visible,); ``hidden_bias`` float64 (n_hidden,)
    n_visible, n_hidden : int
    """

    def __init__(self, model: Any) -> None:
        W, b, c = rbm_parameters(model)
        self.weights = np.ascontiguousarray(W, dtype=np.float32)
        self.weights_t = np.ascontiguousarray(self.weights.T)
        self.visible_bias = b
        self.hidden_bias = c
        self.n_visible, self.n_hidden = W.shape

    def hidden_input(self, v: np.ndarray) -> np.ndarray:
        """c + v W, float64 (n, n_hidden), for binary states v (n, n_visible) float32."""
        return (v @ self.weights).astype(np.float64) + self.hidden_bias

    def neg_free_energy(self, v: np.ndarray, x: np.ndarray, beta: Any = 1.0) -> np.ndarray:
        """-F_beta(v) = beta b.v + sum_j softplus(beta x_j), float64 (n,).

        Parameters
        ----------
        v : (n, n_visible) binary states; x : (n, n_hidden) their ``hidden_input``
        beta : float or (n,) array, one inverse temperature per row
        """
        beta = np.asarray(beta, dtype=np.float64)
        column = beta[:, None] if beta.ndim else beta
        return beta * (v @ self.visible_bias) + softplus(column * x).sum(axis=1)

    def gibbs_step(self, x: np.ndarray, beta: Any, rng: np.random.Generator,
                   base_field: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One block Gibbs step h ~ p_beta(h | v), v ~ p_beta(v | h) from the hidden input x.

        Parameters
        ----------
        x : float64 (n, n_hidden), ``hidden_input`` of the current states
        beta : float or (n,) array
        rng : numpy Generator
        base_field : float64 (n, n_visible), optional
            (1 - beta) a, a product base's logits, added to the visible field (AIS).

        Returns
        -------
        (v, x, p) : the new binary states, float32 (n, n_visible), their hidden input and the
            probabilities P(v = 1 | h) they were drawn from, float64 (n, n_visible)
        """
        beta = np.asarray(beta, dtype=np.float64)
        column = beta[:, None] if beta.ndim else beta
        with np.errstate(over="ignore"):
            h = bernoulli(1.0 / (1.0 + np.exp(-column * x)), rng)
            field = column * ((h @ self.weights_t).astype(np.float64) + self.visible_bias)
            if base_field is not None:
                field += base_field
            p = 1.0 / (1.0 + np.exp(-field))
            v = bernoulli(p, rng)
        return v, self.hidden_input(v), p

"""An RBM whose visible marginal is exactly the L x L periodic Ising model (a known answer).

Construction (one hidden unit per bond). Spins s = 2v - 1, visible index i = row*L + col; every
site owns its right and its down bond, so there are 2N bonds (N = L^2), and every site belongs
to exactly 4 of them. Hidden unit k (bond (i, j)) has weight w to v_i and to v_j and hidden bias
-w. Summing h_k out gives the factor

    1 + exp(w (v_i + v_j - 1)) = 1 + exp(w (s_i + s_j) / 2)
                               = 2 e^K exp(K s_i s_j + (w/4) (s_i + s_j))

(check the three cases s_i + s_j = 2, 0, -2) provided cosh(w/2) = e^{2K}, i.e.

    w = 2 arccosh(e^{2K}).

The 4 bonds of a site leave a field w s_i; the visible bias b_i = -2w turns into
b_i v_i = -w s_i - w and cancels it. Hence

    -F(v) = K sum_<ij> s_i s_j + 2N (K + ln 2) - N w,
    ln Z_RBM = ln Z_Ising(K) + 2N (K + ln 2) - N w,

with ln Z_Ising from Kaufman's finite-torus solution
(:func:`ising_rg.exact.log_partition_function`). For L = 2 the right and the left neighbour of
a site coincide: each neighbouring pair is joined by two bonds, hence by two hidden units,
exactly as Kaufman's solution counts them, so the relation holds for every L >= 2.

Precision: the fitted estimator stores float32 parameters. The weight is the float32 nearest
to w, and b = -2w, c = -w are exact float32 multiples of it, so the field still cancels exactly
and the float32 model is the Ising model at K* = ln cosh(w32/2) / 2, with
|K* - K| <= |w32 - w| / 4 <= 2^-26 w. Its ln Z differs from the float64 closed form by at most
2N |w32 - w| <= 2^-23 N w (3.5e-7 N at K = 0.408).
"""

from __future__ import annotations

import math

import numpy as np

from ising_rg.checks import check_integer, check_number
from ising_rg.exact import K_MAX, K_MIN, log_partition_function
from ising_rg.rbm.rbm import BernoulliRBM

__all__ = ["ising_bond_sites", "ising_rbm", "ising_rbm_log_partition", "ising_rbm_weight"]


def _check_size(size: int) -> int:
    return check_integer(size, "size", minimum=2)


def _check_coupling(coupling: float) -> float:
    return check_number(coupling, "coupling", minimum=K_MIN, maximum=K_MAX)


def ising_rbm_weight(coupling: float) -> float:
    """w = 2 arccosh(e^{2K}) in float64 (dimensionless), the weight of the Ising RBM.

    Written as 2 log1p(y + sqrt(y (2 + y))) with y = e^{2K} - 1 (expm1), accurate for small K.
    """
    y = math.expm1(2.0 * _check_coupling(coupling))
    return 2.0 * math.log1p(y + math.sqrt(y * (2.0 + y)))


def ising_bond_sites(size: int) -> np.ndarray:
    """The 2N bonds of the L x L torus as visible-index pairs, int64 shape (2N, 2).

    Row k < N is the right bond of site k, row N + k its down bond (site index row*L + col).
    This is also the hidden-unit order of :func:`ising_rbm`.
    """
    size = _check_size(size)
    sites = np.arange(size * size)
    rows, cols = np.divmod(sites, size)
    right = rows * size + (cols + 1) % size
    down = ((rows + 1) % size) * size + cols
    return np.concatenate([np.stack([sites, right], 1), np.stack([sites, down], 1)])


def ising_rbm(size: int, coupling: float) -> BernoulliRBM:
    """The fitted RBM whose visible marginal is the L x L periodic Ising model at coupling K.

    Parameters
    ----------
    size : int
        L >= 2 (the lattice has N = L^2 sites; periodic in both directions).
    coupling : float
        K = J / k_B T > 0, in [1e-4, 100] (the range of :mod:`ising_rg.exact`).

    Returns
    -------
    BernoulliRBM
        n_visible = N (site i = row*L + col, v = (s + 1)/2), n_hidden = 2N (bond order of
        :func:`ising_bond_sites`). float32 parameters: ``weights_`` (N, 2N) with w on the two
        sites of each bond and 0 elsewhere, ``hidden_bias_`` (2N,) = -w, ``visible_bias_``
        (N,) = -2w; w = float32(2 arccosh(e^{2K})). Energies in units of the machine's k_B T.
        Its log Z is :func:`ising_rbm_log_partition` (to float32 rounding, module docstring).
    """
    size, coupling = _check_size(size), _check_coupling(coupling)
    n_sites = size * size
    w = np.float32(ising_rbm_weight(coupling))
    bonds = ising_bond_sites(size)
    weights = np.zeros((n_sites, 2 * n_sites), np.float32)
    units = np.arange(2 * n_sites)
    weights[bonds[:, 0], units] = w
    weights[bonds[:, 1], units] = w  # bonds[:, 1] != bonds[:, 0] for every L >= 2
    visible_bias = np.full(n_sites, -2 * w, np.float32)  # 4 bonds per site: field 4 w/4 cancels
    hidden_bias = np.full(2 * n_sites, -w, np.float32)
    return BernoulliRBM.from_parameters(weights, visible_bias, hidden_bias)


def ising_rbm_log_partition(size: int, coupling: float) -> float:
    """Closed-form ln Z of :func:`ising_rbm`: ln Z_Ising(K) + 2N (K + ln 2) - N w (nats).

    Parameters
    ----------
    size : int, L >= 2
    coupling : float, K in [1e-4, 100]

    Returns
    -------
    float
        ln Z_RBM = ln sum_{v,h} exp(-E(v, h)) with w = 2 arccosh(e^{2K}) in float64; the
        float32 model of :func:`ising_rbm` has ln Z within 2N |w32 - w| of it.
    """
    size, coupling = _check_size(size), _check_coupling(coupling)
    n_sites = size * size
    w = ising_rbm_weight(coupling)
    log_z_ising = float(log_partition_function(coupling, size))
    return log_z_ising + 2.0 * n_sites * (coupling + math.log(2.0)) - n_sites * w

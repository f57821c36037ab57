"""RBMs with planted modes and exact log Z, shared by the partition-function and sampler tests.

See tests/test_log_partition.py for what they are built to resemble.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ising_rg.rbm import BernoulliRBM, exact_log_partition


def planted_dominant(lead: float = 50.0, n_visible: int = 1600, n_hidden: int = 10,
                     seed: int = 0) -> tuple[BernoulliRBM, float]:
    """(the RBM, its exact log Z); see the module docstring."""
    rng = np.random.default_rng(seed)
    W = np.zeros((n_visible, n_hidden), np.float32)
    W[:, 1:] = 0.15 * rng.standard_normal((n_visible, n_hidden - 1))
    W[:, 0] = -6.0
    b = (0.3 * rng.standard_normal(n_visible)).astype(np.float32)
    c = np.zeros(n_hidden, np.float32)
    rest_w, rest_b = W[:, 1:].astype(np.float64), b.astype(np.float64)
    log_z_off = exact_log_partition((rest_w, rest_b, np.zeros(n_hidden - 1)))
    log_z_on = exact_log_partition((rest_w, rest_b - 6.0, np.zeros(n_hidden - 1)))
    c[0] = log_z_off + lead - log_z_on
    rbm = BernoulliRBM.from_parameters(W, b, c)
    exact = float(np.logaddexp(log_z_off, float(c[0]) + log_z_on))
    assert exact == pytest.approx(exact_log_partition(rbm), abs=1e-9)
    return rbm, exact


def planted_data(rbm: BernoulliRBM, n: int = 400, seed: int = 1) -> np.ndarray:
    """Data from the broad mode: independent units at the visible biases' rates."""
    p = 1.0 / (1.0 + np.exp(-rbm.visible_bias_.astype(np.float64)))
    return (np.random.default_rng(seed).random((n, p.size)) < p).astype(np.float32)


def two_modes(up_share: float = 0.3, n: int = 400, a: float = 3.0
              ) -> tuple[BernoulliRBM, float, float]:
    """(the RBM, exact log Z, exact weight of the up mode k > n/2); module docstring."""
    offset = 20.0
    W = np.stack([np.full(n, a), np.full(n, -a)], axis=1).astype(np.float32)
    c = np.array([-a * n / 2 + offset + math.log(up_share),
                  a * n / 2 + offset + math.log(1 - up_share)], np.float32)
    rbm = BernoulliRBM.from_parameters(W, np.zeros(n, np.float32), c)
    k = np.arange(n + 1)
    c64 = c.astype(np.float64)
    log_binomial = np.array([math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1)
                             for j in k])
    log_weight = (log_binomial + np.logaddexp(0, c64[0] + float(W[0, 0]) * k)
                  + np.logaddexp(0, c64[1] + float(W[0, 1]) * k))
    log_z = float(np.logaddexp.reduce(log_weight))
    up = float(np.exp(np.logaddexp.reduce(log_weight[k > n / 2]) - log_z))
    assert log_z == pytest.approx(exact_log_partition(rbm), abs=1e-9)
    return rbm, log_z, up

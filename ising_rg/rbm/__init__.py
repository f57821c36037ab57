"""Restricted Boltzmann machines, their greedy stack (DBN) and their partition functions.

The code knows nothing about Ising lattices: it takes float arrays (n_samples, n_visible)
with values in {0, 1} (or probabilities in [0, 1]).
"""

from ising_rg.rbm.dbn import DBN
from ising_rg.rbm.ising import ising_rbm, ising_rbm_log_partition
from ising_rg.rbm.partition import (
    ais_log_partition,
    average_log_likelihood,
    exact_log_partition,
)
from ising_rg.rbm.rbm import (
    BernoulliRBM,
    benchmark_epoch,
    gemm_floor_seconds,
    gemm_flops_per_s,
)

__all__ = [
    "DBN",
    "BernoulliRBM",
    "ais_log_partition",
    "average_log_likelihood",
    "benchmark_epoch",
    "exact_log_partition",
    "gemm_floor_seconds",
    "gemm_flops_per_s",
    "ising_rbm",
    "ising_rbm_log_partition",
]

"""Restricted Boltzmann machines, their greedy stack (DBN) and their partition functions.

The code knows nothing about Ising lattices: it takes float arrays (n_samples, n_visible)
with values in {0, 1} (or probabilities in [0, 1]).

Modules: :mod:`~ising_rg.rbm.rbm` (the estimator), :mod:`~ising_rg.rbm.dbn` (the stack),
:mod:`~ising_rg.rbm.trainer` (CD/PCD training), :mod:`~ising_rg.rbm.parameters` (input checks),
:mod:`~ising_rg.rbm.activations` (softplus, sigmoid), :mod:`~ising_rg.rbm.partition` (exact log Z,
single-base AIS), :mod:`~ising_rg.rbm.log_partition` (the checked log Z: exact, or mixture AIS
over the modes found by :mod:`~ising_rg.rbm.modes`, :mod:`~ising_rg.rbm.mixture_ais`),
:mod:`~ising_rg.rbm.tempering` (parallel tempering; :mod:`~ising_rg.rbm.scaled` is the RBM at
inverse temperature beta), :mod:`~ising_rg.rbm.ising` (the RBM whose marginal is the Ising model,
a known answer for every estimator), and the numba kernels in ``_kernels`` and ``_enumerate``.
The training settings are :class:`ising_rg.settings.Recipe`. Model files are read and written by
:mod:`ising_rg.io.models`; the training benchmark is :func:`ising_rg.bench.benchmark_epoch`.
"""

from ising_rg.rbm.dbn import DBN
from ising_rg.rbm.ising import ising_rbm, ising_rbm_log_partition
from ising_rg.rbm.log_partition import PartitionEstimate, log_partition
from ising_rg.rbm.partition import (
    ais_estimate,
    ais_log_partition,
    average_log_likelihood,
    exact_log_partition,
)
from ising_rg.rbm.rbm import BernoulliRBM
from ising_rg.rbm.tempering import TemperingResult, parallel_tempering

__all__ = [
    "DBN",
    "BernoulliRBM",
    "PartitionEstimate",
    "TemperingResult",
    "ais_estimate",
    "ais_log_partition",
    "average_log_likelihood",
    "exact_log_partition",
    "ising_rbm",
    "ising_rbm_log_partition",
    "log_partition",
    "parallel_tempering",
]

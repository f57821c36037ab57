"""Restricted Boltzmann machines, their greedy stack (DBN) and their partition functions.

The code knows nothing about Ising lattices: it takes float arrays (n_samples, n_visible)
with values in {0, 1} (or probabilities in [0, 1]).

Modules: :mod:`~ising_rg.rbm.rbm` (the estimator), :mod:`~ising_rg.rbm.dbn` (the stack),
:mod:`~ising_rg.rbm.trainer` (CD/PCD training), :mod:`~ising_rg.rbm.parameters` (input checks),
:mod:`~ising_rg.rbm.activations` (softplus, sigmoid),
:mod:`~ising_rg.rbm.partition` (log Z), :mod:`~ising_rg.rbm.ising` (the RBM whose marginal is the
Ising model, a known answer for every estimator), and the numba kernels in ``_kernels`` and
``_enumerate``. The training settings are :class:`ising_rg.settings.Recipe`. Model files are read
and written by :mod:`ising_rg.io.models`; the training benchmark is
:func:`ising_rg.bench.benchmark_epoch`.
"""

from ising_rg.rbm.dbn import DBN
from ising_rg.rbm.ising import ising_rbm, ising_rbm_log_partition
from ising_rg.rbm.partition import (
    ais_estimate,
    ais_log_partition,
    average_log_likelihood,
    exact_log_partition,
)
from ising_rg.rbm.rbm import BernoulliRBM

__all__ = [
    "DBN",
    "BernoulliRBM",
    "ais_estimate",
    "ais_log_partition",
    "average_log_likelihood",
    "exact_log_partition",
    "ising_rbm",
    "ising_rbm_log_partition",
]

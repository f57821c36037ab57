"""Restricted Boltzmann machines, their greedy stack (DBN) and partition functions."""

from ising_rg.rbm.rbm import BernoulliRBM, benchmark_epoch, gemm_floor_seconds, gemm_flops_per_s

__all__ = ["BernoulliRBM", "benchmark_epoch", "gemm_floor_seconds", "gemm_flops_per_s"]

"""Benchmark helpers: the figures they report are consistent with each other."""

from __future__ import annotations

import numpy as np
import pytest

from ising_rg.bench import benchmark_epoch, gemm_floor_seconds, naive_metropolis_sweeps


def test_benchmark_helpers_report_consistent_numbers():
    result = benchmark_epoch(n_samples=400, n_visible=64, n_hidden=16, batch_size=20)
    assert set(result) >= {"epoch_seconds", "gemm_floor_seconds", "gemm_flops_per_s"}
    assert result["epoch_seconds"] > 0 and result["gemm_flops_per_s"] > 0
    floor = gemm_floor_seconds(400, 64, 16, result["gemm_flops_per_s"])
    assert floor == pytest.approx(result["gemm_floor_seconds"])
    assert floor == pytest.approx(10 * 400 * 64 * 16 / result["gemm_flops_per_s"])


def test_naive_metropolis_kernel_visits_every_site_once_per_sweep():
    """At K = 0 every proposed flip is accepted (u < exp(0) = 1), so one sweep of a
    checkerboard that visits each site exactly once negates the lattice."""
    spins = np.where(np.random.default_rng(0).random((10, 10)) < 0.5, -1, 1).astype(np.int8)
    start = spins.copy()
    naive_metropolis_sweeps(spins, 0.0, 1)
    assert np.array_equal(spins, -start)
    naive_metropolis_sweeps(spins, 0.0, 3)
    assert np.array_equal(spins, start)

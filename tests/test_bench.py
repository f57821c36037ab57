"""Benchmark helpers: the figures they report are consistent with each other."""

from __future__ import annotations

import numpy as np
import pytest

from ising_rg.bench import (
    benchmark_epoch,
    gemm_floor_seconds,
    naive_metropolis_sweeps,
    time_to_quality,
)


def test_benchmark_helpers_report_consistent_numbers():
    result = benchmark_epoch(n_samples=400, n_visible=64, n_hidden=16, batch_size=20)
    assert set(result) >= {"epoch_seconds", "gemm_floor_seconds", "gemm_flops_per_s"}
    assert result["epoch_seconds"] > 0 and result["gemm_flops_per_s"] > 0
    floor = gemm_floor_seconds(400, 64, 16, result["gemm_flops_per_s"])
    assert floor == pytest.approx(result["gemm_floor_seconds"])
    assert floor == pytest.approx(10 * 400 * 64 * 16 / result["gemm_flops_per_s"])
    # the epoch's parts add up to it, and the fastest epoch is no slower than the first
    parts = result["minibatch_gemm_seconds"] + result["monitoring_seconds"]
    assert result["other_seconds"] == pytest.approx(result["epoch_seconds"] - parts)
    assert result["epoch_seconds"] <= result["first_epoch_seconds"]


def test_naive_metropolis_kernel_visits_every_site_once_per_sweep():
    """At K = 0 every proposed flip is accepted (u < exp(0) = 1), so one sweep of a
    checkerboard that visits each site exactly once negates the lattice."""
    spins = np.where(np.random.default_rng(0).random((10, 10)) < 0.5, -1, 1).astype(np.int8)
    start = spins.copy()
    naive_metropolis_sweeps(spins, 0.0, 1)
    assert np.array_equal(spins, -start)
    naive_metropolis_sweeps(spins, 0.0, 3)
    assert np.array_equal(spins, start)


def test_time_to_quality_reports_each_recipe_reached_or_not():
    """A tiny run: a threshold above any gap is reached at the first check; one below zero
    never is (the gap estimates KL / N >= 0, within its error)."""
    common = dict(recipes=("paper", "density"), size=4, n_samples=400, n_test=400, n_hidden=4,
                  n_epochs=4, check_every=2, ais_runs=20, ais_betas=200)
    easy = time_to_quality(threshold=100.0, **common)
    hard = time_to_quality(threshold=-1.0, **common)
    for name in ("paper", "density"):
        assert easy[name]["result"] == "reached" and easy[name]["epochs"] == 2
        assert easy[name]["seconds"] > 0
        assert hard[name]["result"] == "not reached in 4 epochs"
        assert hard[name]["epochs"] is None and hard[name]["seconds"] is None
        assert hard[name]["gap_per_spin"] > -3 * hard[name]["gap_error"]
    assert easy["threshold_gap_per_spin"] == 100.0

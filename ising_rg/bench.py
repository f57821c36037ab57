"""The benchmarks behind ``ising-rg bench``: throughput figures and same-run ratios.

Every figure is the best of a few repetitions after a warm-up (numba compilation excluded);
ratios are between kernels timed in the same process, one after the other, so that they hold
on a shared, noisy machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ising_rg import exact
from ising_rg.sampling import metropolis, wolff
from ising_rg.sampling.rng import new_streams
from ising_rg.sampling.sampler import sample


def _best_seconds(run: Callable[[], object], repeats: int = 3) -> float:
    run()  # warm-up: compilation and caches
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def bench_metropolis(size: int, coupling: float | None = None,
                     target_flips: float = 3e7) -> dict[str, float | str]:
    """Spin-flip attempts per ns of the vectorized kernel and of the straightforward one.

    At L >= 128 the row-parallel kernel is used (enough rows to share); below, the serial one
    (one small lattice does not amortize a thread fork per half-sweep; many chains run in
    parallel instead).
    """
    coupling = exact.critical_coupling() if coupling is None else coupling
    n_sweeps = max(1, int(target_flips / size**2))
    rng = np.random.default_rng(0)
    spins = np.where(rng.random((size, size)) < 0.5, -1, 1).astype(np.int8)
    black = np.empty((size, size // 2 + 2), dtype=np.int8)
    white = np.empty_like(black)
    metropolis.split_lattice(spins, black, white)
    s0, s1 = new_streams(0, (2, size, size // 2), np.uint32)
    thresholds = metropolis.acceptance_thresholds(coupling)
    kernel = metropolis.sweeps_parallel if size >= 128 else metropolis.sweeps_serial
    fast = _best_seconds(lambda: kernel(black, white, s0, s1, thresholds, n_sweeps))
    naive_sweeps = max(1, n_sweeps // 8)
    naive = _best_seconds(lambda: metropolis.naive_sweeps_parallel(spins, coupling, naive_sweeps))
    flips_per_ns = size**2 * n_sweeps / fast / 1e9
    naive_flips_per_ns = size**2 * naive_sweeps / naive / 1e9
    return {
        "flips_per_ns": flips_per_ns,
        "naive_flips_per_ns": naive_flips_per_ns,
        "speedup": flips_per_ns / naive_flips_per_ns,
        "kernel": "row-parallel" if size >= 128 else "serial",
    }


def bench_wolff(size: int = 40, coupling: float | None = None,
                n_steps: int = 100_000) -> dict[str, float]:
    """Wolff cluster steps per second (one chain, at T_c by default)."""
    coupling = exact.critical_coupling() if coupling is None else coupling
    spins = np.ones((size, size), dtype=np.int8)
    state = np.array(new_streams(0, 2)[0])
    stack = np.empty(size * size, dtype=np.int64)
    p_add = wolff.add_probability(coupling)
    wolff.cluster_steps(spins, p_add, state, stack, 10_000)  # thermalize
    flipped = [0]

    def run():
        flipped[0] = wolff.cluster_steps(spins, p_add, state, stack, n_steps)

    seconds = _best_seconds(run)
    return {"cluster_steps_per_s": n_steps / seconds,
            "mean_cluster_size": flipped[0] / n_steps}


def bench_paper_dataset() -> float:
    """Wall seconds for the paper's data set: 20,000 samples, L = 40, K = 0.408, auto spacing."""
    sample(size=40, coupling=0.408, n_samples=200, seed=1)  # compile, outside the timing
    start = time.perf_counter()
    sample(size=40, coupling=0.408, n_samples=20000, seed=0)
    return time.perf_counter() - start


def run_benchmarks(parts: tuple[str, ...] = ("metropolis", "wolff", "dataset", "rbm")) -> dict:
    """All benchmark figures as one JSON-serialisable dict."""
    results: dict = {}
    if "metropolis" in parts:
        results["metropolis"] = {str(size): bench_metropolis(size) for size in (64, 256)}
    if "wolff" in parts:
        results["wolff"] = {"40": bench_wolff(40)}
    if "dataset" in parts:
        results["paper_dataset_seconds"] = bench_paper_dataset()
    if "rbm" in parts:
        try:
            from ising_rg.rbm.rbm import benchmark_epoch
        except ImportError:  # the trainer is not installed in this build
            pass
        else:
            results["rbm"] = benchmark_epoch()
    return results

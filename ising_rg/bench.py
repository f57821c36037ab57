"""The benchmarks behind ``ising-rg bench``: throughput figures and same-run ratios.

Every figure is the best of a few repetitions after a warm-up (numba compilation excluded);
ratios are between kernels timed in the same process, one after the other, so that they hold
on a shared, noisy machine. Benchmark-only code lives here: the straightforward Metropolis
kernel the fast one is compared with, and the GEMM floor of an RBM training epoch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numba as nb
import numpy as np

from ising_rg import exact, paper
from ising_rg.rbm.rbm import BernoulliRBM
from ising_rg.sampling import metropolis, wolff
from ising_rg.sampling.rng import new_streams
from ising_rg.sampling.sampler import SampleOptions, random_start, sample
from ising_rg.seeding import as_generator, bernoulli

__all__ = [
    "bench_metropolis",
    "bench_paper_dataset",
    "bench_wolff",
    "benchmark_epoch",
    "gemm_floor_seconds",
    "gemm_flops_per_s",
    "naive_metropolis_sweeps",
    "run_benchmarks",
]


def _best_seconds(run: Callable[[], object], repeats: int = 3) -> float:
    run()  # warm-up: compilation and caches
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


@nb.njit(cache=True, parallel=True)
def naive_metropolis_sweeps(spins, coupling, n_sweeps):
    """The straightforward Metropolis kernel, the benchmark's baseline (never used for data).

    Checkerboard over the full (L, L) int8 array, ``prange`` over rows, one
    ``np.random.random()`` and one ``exp`` per site, modulo indexing. Not reproducible across
    thread counts (numba's global generator is per thread).
    """
    n_rows = spins.shape[0]
    for _ in range(n_sweeps):
        for colour in range(2):
            for r in nb.prange(n_rows):
                for c in range((r + colour) % 2, n_rows, 2):
                    h = (spins[(r - 1) % n_rows, c] + spins[(r + 1) % n_rows, c]
                         + spins[r, (c - 1) % n_rows] + spins[r, (c + 1) % n_rows])
                    delta = 2.0 * spins[r, c] * h
                    if delta <= 0.0 or np.random.random() < np.exp(-coupling * delta):  # noqa: NPY002
                        spins[r, c] = -spins[r, c]


def bench_metropolis(size: int, coupling: float | None = None,
                     target_flips: float = 3e7) -> dict[str, float | str]:
    """Spin-flip attempts per ns of the vectorized kernel and of the straightforward one.

    At L >= 128 the row-parallel kernel is used (enough rows to share); below, the serial one
    (one small lattice does not amortize a thread fork per half-sweep; many chains run in
    parallel instead).
    """
    coupling = exact.critical_coupling() if coupling is None else coupling
    n_sweeps = max(1, int(target_flips / size**2))
    spins = random_start(size, as_generator(0))
    black = np.empty((size, size // 2 + 2), dtype=np.int8)
    white = np.empty_like(black)
    metropolis.split_lattice(spins, black, white)
    s0, s1 = new_streams(0, (2, size, size // 2), np.uint32)
    thresholds = metropolis.acceptance_thresholds(coupling)
    kernel = metropolis.sweeps_parallel if size >= 128 else metropolis.sweeps_serial
    fast = _best_seconds(lambda: kernel(black, white, s0, s1, thresholds, n_sweeps))
    naive_sweeps = max(1, n_sweeps // 8)
    naive = _best_seconds(lambda: naive_metropolis_sweeps(spins, coupling, naive_sweeps))
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
    """Wall seconds for the paper's data set (``SampleOptions()``: :mod:`ising_rg.paper`'s L,
    K and number of samples), auto spacing."""
    sample(SampleOptions(n_samples=200, seed=1))  # compile, outside the timing
    start = time.perf_counter()
    sample(SampleOptions(seed=0))
    return time.perf_counter() - start


def gemm_flops_per_s(
    n_visible: int = paper.SIZE**2, n_hidden: int = paper.HIDDEN[0], n_rows: int = 4000,
    repeats: int = 5,
) -> float:
    """Best float32 np.matmul rate (FLOP/s) of (n_rows, n_visible) @ (n_visible, n_hidden).

    A large GEMM with the RBM's own inner dimensions: the rate the training GEMMs would reach
    if minibatches did not limit BLAS blocking. FLOPs counted as 2 M K N.
    """
    rng = as_generator(12345)
    a = rng.random((n_rows, n_visible), dtype=np.float32)
    w = rng.random((n_visible, n_hidden), dtype=np.float32)
    out = np.empty((n_rows, n_hidden), np.float32)
    np.matmul(a, w, out=out)  # warm up threads and caches
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, w, out=out)
        best = min(best, time.perf_counter() - start)
    return 2.0 * n_rows * n_visible * n_hidden / best


def gemm_floor_seconds(
    n_samples: int, n_visible: int, n_hidden: int, flops_per_s: float | None = None
) -> float:
    """Lower bound for one CD-1 epoch: 10 N n_visible n_hidden FLOPs at the GEMM rate.

    Three forward GEMMs (v W, h W^T, v_neg W: 2 N nv nh each) and the fused weight-gradient
    GEMM (K = 2B: 4 N nv nh). ``flops_per_s`` defaults to :func:`gemm_flops_per_s`.
    """
    if flops_per_s is None:
        flops_per_s = gemm_flops_per_s(n_visible, n_hidden)
    return 10.0 * n_samples * n_visible * n_hidden / flops_per_s


def benchmark_epoch(
    n_samples: int = paper.N_SAMPLES,
    n_visible: int = paper.SIZE**2,
    n_hidden: int = paper.HIDDEN[0],
    batch_size: int = paper.BATCH_SIZE,
    seed: int = 0,
    n_epochs: int = 1,
) -> dict[str, float]:
    """Time CD-1 training epochs against the GEMM floor, both measured in this call.

    Data: uniform random {0,1}. The GEMM rate is the best of repetitions before and after the
    training (the larger rate gives the stricter floor).

    Returns
    -------
    dict with ``epoch_seconds`` (fastest epoch, training plus per-epoch monitoring),
    ``gemm_floor_seconds``, ``gemm_flops_per_s``, ``ratio`` (epoch / floor),
    ``fit_seconds`` (whole fit call, including input validation and setup).
    """
    X = bernoulli(0.5, as_generator(seed), uniform_dtype=np.float32, shape=(n_samples, n_visible))
    # compile the numba kernels outside the timed region
    BernoulliRBM(4, n_epochs=1, batch_size=2, n_monitor=4, random_state=0).fit(X[:4, :8])
    rate = gemm_flops_per_s(n_visible, n_hidden)
    rbm = BernoulliRBM(n_hidden, n_epochs=n_epochs, batch_size=batch_size, random_state=seed)
    start = time.perf_counter()
    rbm.fit(X)
    fit_seconds = time.perf_counter() - start
    rate = max(rate, gemm_flops_per_s(n_visible, n_hidden))
    floor = gemm_floor_seconds(n_samples, n_visible, n_hidden, rate)
    epoch = float(np.min(rbm.history_["epoch_seconds"]))
    return {
        "epoch_seconds": epoch,
        "gemm_floor_seconds": floor,
        "gemm_flops_per_s": rate,
        "ratio": epoch / floor,
        "fit_seconds": fit_seconds,
    }


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
        results["rbm"] = benchmark_epoch()
    return results

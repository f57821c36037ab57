"""The benchmarks behind ``ising-rg bench``: throughput figures and same-run ratios.

Every figure is the best of a few repetitions after a warm-up (numba compilation excluded);
ratios are between kernels timed in the same process, one after the other, so that they hold
on a shared, noisy machine. Benchmark-only code lives here: the straightforward Metropolis
kernel the fast one is compared with, and the GEMM floor of an RBM training epoch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numba as nb
import numpy as np

from ising_rg import exact, paper
from ising_rg.rbm.rbm import BernoulliRBM
from ising_rg.rbm.trainer import epoch_metrics
from ising_rg.sampling import metropolis, wolff
from ising_rg.sampling.chains import random_start
from ising_rg.sampling.rng import new_streams
from ising_rg.sampling.sampler import SampleSet, sample
from ising_rg.seeding import as_generator, bernoulli, seed_sequence
from ising_rg.settings import Recipe, SampleOptions

__all__ = [
    "bench_metropolis",
    "bench_paper_dataset",
    "bench_wolff",
    "benchmark_epoch",
    "gemm_floor_seconds",
    "gemm_flops_per_s",
    "minibatch_gemm_seconds",
    "naive_metropolis_sweeps",
    "run_benchmarks",
    "time_to_quality",
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
    sample(SampleOptions(samples=200, seed=1))  # compile, outside the timing
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


def minibatch_gemm_seconds(
    n_samples: int, n_visible: int, n_hidden: int, batch_size: int, repeats: int = 3
) -> float:
    """Best seconds of one epoch's GEMMs alone, at the trainer's own minibatch shapes.

    Per minibatch of B rows: v W, h W^T and v_neg W ((B, n_visible) x (n_visible, n_hidden)
    and back) and the fused weight gradient [v; v_neg]^T [h; -h_neg] (K = 2B), on float32
    buffers laid out as in :class:`ising_rg.rbm.trainer.CDTrainer`. Against
    :func:`gemm_floor_seconds` (the same FLOPs at the rate of one large GEMM) it measures
    what small GEMMs cost (BLAS blocking and thread start-up per call at B = 100); against
    the epoch, what the elementwise kernels and the monitoring add.
    """
    rng = as_generator(7)
    W = rng.standard_normal((n_visible, n_hidden), dtype=np.float32)
    stack_v = rng.random((2 * batch_size, n_visible), dtype=np.float32)
    stack_h = rng.random((2 * batch_size, n_hidden), dtype=np.float32)
    v_pos, v_neg = stack_v[:batch_size], stack_v[batch_size:]
    h_pos, h_neg = stack_h[:batch_size], stack_h[batch_size:]
    grad = np.empty_like(W)

    def epoch() -> None:
        for _ in range(n_samples // batch_size):
            np.matmul(v_pos, W, out=h_pos)
            np.matmul(h_pos, W.T, out=v_neg)
            np.matmul(v_neg, W, out=h_neg)
            np.matmul(stack_v.T, stack_h, out=grad)

    return _best_seconds(epoch, repeats)


def benchmark_epoch(
    n_samples: int = paper.N_SAMPLES,
    n_visible: int = paper.SIZE**2,
    n_hidden: int = paper.HIDDEN[0],
    batch_size: int = paper.BATCH_SIZE,
    seed: int = 0,
    n_epochs: int = 4,
) -> dict[str, float]:
    """Time CD-1 training epochs (the paper recipe) against the GEMM floor, both measured in
    this call, and split the epoch into its parts.

    Data: uniform random {0,1}. The epoch is the fastest of ``n_epochs`` (the first one also
    pays for first-touch page faults of the trainer's buffers and the BLAS threads' start;
    on a shared machine any epoch may lose the cores for a while). The GEMM rate is the best
    of repetitions before and after the training (the larger rate gives the stricter floor).

    Returns
    -------
    dict with ``epoch_seconds`` (fastest epoch, training plus per-epoch monitoring),
    ``first_epoch_seconds``, ``gemm_floor_seconds``, ``gemm_flops_per_s``, ``ratio``
    (epoch / floor), ``minibatch_gemm_seconds`` (:func:`minibatch_gemm_seconds`: the
    epoch's GEMMs alone at batch size), ``monitoring_seconds`` (the per-epoch monitoring
    pass, :func:`ising_rg.rbm.trainer.epoch_metrics`, best of 3), ``other_seconds`` (epoch
    less the two: the elementwise kernels, gathers and updates), ``fit_seconds`` (whole fit
    call, including input validation and setup).
    """
    X = bernoulli(0.5, as_generator(seed), uniform_dtype=np.float32, shape=(n_samples, n_visible))
    # compile the numba kernels outside the timed region
    BernoulliRBM(4, epochs=1, batch_size=2, n_monitor=4, random_state=0).fit(X[:4, :8])
    rate = gemm_flops_per_s(n_visible, n_hidden)
    rbm = BernoulliRBM(n_hidden, epochs=n_epochs, batch_size=batch_size, random_state=seed)
    start = time.perf_counter()
    rbm.fit(X)
    fit_seconds = time.perf_counter() - start
    rate = max(rate, gemm_flops_per_s(n_visible, n_hidden))
    floor = gemm_floor_seconds(n_samples, n_visible, n_hidden, rate)
    seconds = rbm.history_["epoch_seconds"]
    epoch = float(np.min(seconds))
    gemms = minibatch_gemm_seconds(n_samples, n_visible, n_hidden, batch_size)
    parameters = (rbm.weights_, rbm.visible_bias_, rbm.hidden_bias_)
    X_monitor = X[: min(rbm.n_monitor, n_samples)]
    monitoring = _best_seconds(lambda: epoch_metrics(parameters, X_monitor, None, False))
    return {
        "epoch_seconds": epoch,
        "first_epoch_seconds": float(seconds[0]),
        "gemm_floor_seconds": floor,
        "gemm_flops_per_s": rate,
        "ratio": epoch / floor,
        "minibatch_gemm_seconds": gemms,
        "monitoring_seconds": monitoring,
        "other_seconds": epoch - gemms - monitoring,
        "fit_seconds": fit_seconds,
    }


class _Reached(Exception):
    """Stops a time-to-quality run at the first check below the threshold."""


def _ising_log_probabilities(samples: SampleSet) -> np.ndarray:
    """Exact log p(s) = -K N e(s) - ln Z of each configuration (Kaufman's ln Z), (n,)."""
    n_sites = samples.size**2
    return (-samples.coupling * n_sites * samples.energy
            - float(exact.log_partition_function(samples.coupling, samples.size)))


def time_to_quality(
    recipes: Sequence[str] = ("paper", "density"),
    *,
    size: int = 16,
    coupling: float = paper.COUPLING,
    n_samples: int = 5000,
    n_test: int = 2000,
    n_hidden: int = 64,
    n_epochs: int = 100,
    check_every: int = 5,
    threshold: float = 0.05,
    ais_runs: int = 100,
    ais_betas: int = 3000,
    seed: int = 0,
) -> dict[str, Any]:
    """Seconds of training each recipe needs to bring one RBM within ``threshold`` nats per
    spin of the Ising distribution, all recipes in the same run.

    Data: Wolff samples of the L x L torus at K, ``n_samples`` for training (seed ``seed``)
    and ``n_test`` held out (seed ``seed + 1``: other chains). Each recipe
    (:meth:`ising_rg.settings.Recipe.named` with ``epochs=n_epochs``) trains one RBM of
    ``n_hidden`` units; every ``check_every`` epochs the run pauses (the pause is not timed)
    to measure the log-likelihood gap per spin on the held-out samples,

        gap = mean over test s of [log p_Ising(s) - log p_RBM(s)] / L^2  (an estimate of
        KL(Ising || RBM) / L^2),

    with Kaufman's exact ln Z and the RBM's log Z from AIS (``ais_runs`` x ``ais_betas``,
    base rates of the training data; enumeration is out of reach at 2^n_hidden states). The
    first check below ``threshold`` stops the run. Seconds are the sum of the epochs' wall
    times as the estimator records them (training plus its per-epoch monitoring). A recipe
    whose learning rate decays (density) decays it over ``n_epochs``: its time is that of a
    run planned for ``n_epochs`` epochs, stopped early.

    Returns
    -------
    dict: the settings, and per recipe ``epochs`` and ``seconds`` at the first check below
    the threshold (None if none), ``result`` ("reached" or "not reached in N epochs"),
    ``gap_per_spin`` at that (or the last) check and its ``gap_error`` (AIS standard error
    and the test samples' standard error, combined, per spin).
    """
    X, X_test, log_p_ising = _quality_data(size, coupling, n_samples, n_test, seed)
    results: dict[str, Any] = {
        "size": size, "coupling": coupling, "n_samples": n_samples, "n_test": n_test,
        "n_hidden": n_hidden, "n_epochs": n_epochs, "check_every": check_every,
        "threshold_gap_per_spin": threshold,
    }
    for name in recipes:
        results[name] = _recipe_time_to_quality(
            Recipe.named(name, epochs=n_epochs), X, X_test, log_p_ising, n_hidden=n_hidden,
            check_every=check_every, threshold=threshold, ais_runs=ais_runs,
            ais_betas=ais_betas, seed=seed)
    return results


def _quality_data(size: int, coupling: float, n_samples: int, n_test: int,
                  seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``time_to_quality``'s data as visible rows (n, L*L): ``n_samples`` Wolff samples of
    the L x L torus at K for training (seed ``seed``), ``n_test`` held out (seed ``seed + 1``),
    and the exact log p_Ising of the held-out rows (n_test,)."""
    from ising_rg.spins import spins_to_visible

    train_set = sample(SampleOptions(size=size, coupling=coupling, samples=n_samples,
                                     seed=seed))
    test_set = sample(SampleOptions(size=size, coupling=coupling, samples=n_test,
                                    seed=seed + 1))
    X, X_test = spins_to_visible(train_set.spins), spins_to_visible(test_set.spins)
    return X, X_test, _ising_log_probabilities(test_set)


def _gap_per_spin(parameters: tuple[np.ndarray, np.ndarray, np.ndarray], X: np.ndarray,
                  X_test: np.ndarray, log_p_ising: np.ndarray, ais_runs: int, ais_betas: int,
                  seed: int) -> tuple[float, float]:
    """The RBM's log-likelihood gap per spin on the held-out rows, mean of log p_Ising -
    log p_RBM over them / L^2 (log Z by AIS from the training data's base rates), and its
    error: the AIS and the held-out rows' standard errors combined, per spin."""
    from ising_rg.rbm.partition import ais_log_partition

    n_sites = X.shape[1]
    log_z, log_z_error = ais_log_partition(parameters, n_runs=ais_runs, n_betas=ais_betas,
                                           data=X, seed=seed, dtype=np.float32)
    model = BernoulliRBM.from_parameters(*parameters)
    excess = log_p_ising - model.log_likelihood(X_test, log_z)
    sampling_error = float(excess.std(ddof=1)) / math.sqrt(excess.size)
    return float(excess.mean()) / n_sites, math.hypot(log_z_error, sampling_error) / n_sites


def _recipe_time_to_quality(recipe: Recipe, X: np.ndarray, X_test: np.ndarray,
                            log_p_ising: np.ndarray, *, n_hidden: int, check_every: int,
                            threshold: float, ais_runs: int, ais_betas: int,
                            seed: int) -> dict[str, Any]:
    """Train one RBM with ``recipe``, measuring its gap per spin (``_gap_per_spin``) every
    ``check_every`` epochs and at the last, until the first gap below ``threshold``;
    ``time_to_quality``'s entry of the recipe."""
    from ising_rg.rbm.trainer import train_cd

    # compile this recipe's numba kernels outside the timed epochs
    tiny = recipe.replace(epochs=1, batch_size=2).layer_settings()
    BernoulliRBM(4, **tiny, n_monitor=4).fit(X[:4, :8])
    rbm = BernoulliRBM(n_hidden, random_state=seed, **recipe.layer_settings())
    rbm.initialize(X.shape[1], X)
    parameters = tuple(np.array(a) for a in (rbm.weights_, rbm.visible_bias_,
                                             rbm.hidden_bias_))
    generators = [as_generator(s) for s in seed_sequence(seed).spawn(3)]
    state = {"seconds": 0.0, "epochs": None, "gap": math.nan, "error": math.nan}

    def check(epoch: int, total: int, metrics: dict) -> None:
        state["seconds"] += metrics["epoch_seconds"]
        if epoch % check_every and epoch != total:
            return
        state["gap"], state["error"] = _gap_per_spin(parameters, X, X_test, log_p_ising,
                                                     ais_runs, ais_betas, seed)
        if state["gap"] < threshold:
            state["epochs"] = epoch
            raise _Reached

    try:
        train_cd(recipe, rbm.n_monitor, parameters, X, None, generators, check)
    except _Reached:
        pass
    reached = state["epochs"] is not None
    return {
        "epochs": state["epochs"],
        "seconds": state["seconds"] if reached else None,
        "result": "reached" if reached else f"not reached in {recipe.epochs} epochs",
        "gap_per_spin": state["gap"],
        "gap_error": state["error"],
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
        results["rbm"] = {**benchmark_epoch(), "time_to_quality": time_to_quality()}
    return results

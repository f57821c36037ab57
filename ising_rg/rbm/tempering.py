"""Parallel tempering for an RBM: replicas at several inverse temperatures carry states between
modes that a single Gibbs chain cannot leave.

A chain of block Gibbs steps in a trained RBM can stay for ever in the basin it started in (the
paper-recipe network at L = 40: chains from the data never reach the all-down mode that holds
all but e^-416 of the weight, chains from all-down never leave it). Replica exchange (Swendsen &
Wang 1986; Geyer 1991; Hukushima & Nemoto 1996) runs K replicas of the RBM at inverse
temperatures beta_min = beta_0 < ... < beta_K-1 = 1 (the RBM at beta has energy beta E(v, h):
every parameter scaled, :mod:`ising_rg.rbm.scaled`); hot replicas cross barriers, and swaps of
neighbouring replicas' states, accepted with probability
min(1, exp(-F_k(v_k+1) - F_k+1(v_k) + F_k(v_k) + F_k+1(v_k+1))) (F_beta the marginal free
energy at beta, h summed out), bring what they found down to beta = 1 without changing any
replica's equilibrium.

Choices (Syed, Bouchard-Cote, Deligiannidis & Doucet, "Non-reversible parallel tempering",
JRSS B 84, 321 (2022)):

* swaps by the deterministic even-odd scheme: even pairs on even sweeps, odd pairs on odd
  ones. A state then travels the ladder ballistically, round trips in O(K) sweeps instead of
  the O(K^2) of random pair choices.
* the ladder: tuned in rounds of sweeps (``tune_sweeps``); after each round the rungs move to
  equal steps of the cumulative rejection (the "communication barrier" Lambda), so every pair
  rejects about equally; after the first round the number of rungs becomes 2 Lambda + 2 (their
  optimum) within [``MIN_RUNGS``, ``MAX_RUNGS``], unless ``n_rungs`` fixes it. The ladder is
  frozen after tuning; tuning sweeps are discarded. Reported: the rungs, each pair's swap
  acceptance (mean of min(1, e^a)), Lambda, the predicted round-trip rate 1 / (2 + 2 sum
  r / (1 - r)) and the hot-to-cold trips each chain made.
* beta_min = 0 by default: the uniform distribution, sampled exactly by one Gibbs step, so the
  hot end has no barrier at all.

What it cannot do: a mode separated from the rest by a first-order transition along beta
(a jump in energy between neighbouring rungs that no spacing bridges) stays unvisited, and
the chains from different starts then disagree: R-hat says so, and ``modes`` lists where each
start's chains sit. :func:`ising_rg.rbm.log_partition.log_partition` measures such modes'
weights by mixture AIS instead.

Chains: ``n_chains_per_start`` independent ladders per start kind (all-up, all-down, data rows,
fair coin flips); every replica of a ladder starts at that ladder's start. Recorded per sweep,
for each ladder's beta = 1 replica: F(v) (nats), the magnetization m = mean(2 v - 1) and |m|,
and whatever ``measure`` adds (:mod:`ising_rg.diagnostics.state_measures`: E/N and m of the states
as spins of an L x L torus, or of a DBN's down-pass configurations). Convergence (Vehtari et al.
2021, :mod:`ising_rg.estimators.rank_diagnostics`): after tuning, the chains run in blocks of
``block_sweeps``; after each block the second half of the sweeps so far (the first half is warm-
up) is judged: rank-normalized split R-hat < 1.01 and bulk ESS >= 400 for E/N (when measured),
|m|, F and the signed m (without m, chains that sit in mirror-image modes, equal in |m|, E and
F, would pass while the modes' weights are still unknown). The run stops at the first block that
passes (``stopped`` = 'converged') or at ``max_sweeps`` ('budget'). Stopping at the first pass
favours blocks whose ESS came out high by chance; the errors quoted are those of the stopping
block.

Modes: the window's states split by the sign of m; each sign's weight (the fraction of draws,
with the standard error sqrt(p (1 - p) / ESS) of the indicator), mean m, |m|, E/N and F. A
network whose equilibrium is ordered shows weight ~1 at |m| ~ 1.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ising_rg.checks import check_integer, check_number, check_unit_interval
from ising_rg.errors import IsingRGError
from ising_rg.estimators.rank_diagnostics import (
    ESS_MINIMUM,
    RANK_RHAT_THRESHOLD,
    diagnose,
    effective_sample_size,
)
from ising_rg.rbm._ladder import Ladder
from ising_rg.rbm.mixture_ais import share_error
from ising_rg.rbm.modes import START_KINDS, cluster_chains, start_states
from ising_rg.rbm.scaled import ScaledRBM, magnetization
from ising_rg.seeding import as_generator, seed_stream

__all__ = ["Measure", "TemperingResult", "equilibrium_modes", "parallel_tempering"]

#: ``measure(v, rng) -> {name: float64 (n,)}`` of the beta = 1 states v (n, n_visible);
#: e.g. :func:`ising_rg.diagnostics.state_measures.lattice_measure`.
Measure = Callable[[np.ndarray, np.random.Generator], dict[str, np.ndarray]]

MIN_RUNGS = 8
MAX_RUNGS = 64
INITIAL_RUNGS = 16
TUNE_SWEEPS = (100, 200, 400)
BLOCK_SWEEPS = 500
MAX_SWEEPS = 20000
N_CHAINS_PER_START = 2
#: Observables the convergence rule judges (E/N only when measured).
JUDGED = ("energy_per_spin", "abs_magnetization", "magnetization", "free_energy")
_STARTS, _SWEEPS, _MEASURE = 1, 2, 3

@dataclass(frozen=True)
class TemperingResult:
    """What :func:`parallel_tempering` found (module docstring).

    Attributes
    ----------
    converged : bool; stopped : 'converged' or 'budget'
    rhat, bulk_ess : {observable: float} of the final window
    series : {observable: float64 (n_chains, n_draws)}, the final window, beta = 1 replicas
    kinds : tuple of str, each chain's start kind
    by_start : {kind: {observable: {'mean', 'error'}}} over the window
    modes : tuple of dicts (sign, weight, weight_error, magnetization, abs_magnetization,
        free_energy and energy_per_spin when measured), one per sign of m present; weight
        and weight_error are None unless ``converged`` (see :func:`equilibrium_modes`)
    chain_modes : tuple of dicts, the chains grouped by ``cluster_chains`` on their window
        means of m, F (and E/N): ``chains`` (indices), ``kinds``, and the group's means. One
        group when the chains agree; several when some sit in modes the others never visit.
    betas : float64 (K,); swap_acceptance : float64 (K - 1,); barrier : Lambda
    round_trip_rate : predicted hot-to-cold trips per sweep and chain
    hot_to_cold : int64 (n_chains,), trips made after tuning
    n_sweeps, tune_sweeps, max_sweeps, block_sweeps : int
    history : list of {sweeps, converged, rhat, bulk_ess} per block
    final_states : float32 (n_chains, n_visible), the beta = 1 states at the end
    seconds : float
    """

    converged: bool
    stopped: str
    rhat: dict[str, float]
    bulk_ess: dict[str, float]
    series: dict[str, np.ndarray]
    kinds: tuple[str, ...]
    by_start: dict[str, dict[str, dict[str, float]]]
    modes: tuple[dict[str, float], ...]
    chain_modes: tuple[dict[str, Any], ...]
    betas: np.ndarray
    swap_acceptance: np.ndarray
    barrier: float
    round_trip_rate: float
    hot_to_cold: np.ndarray
    n_sweeps: int
    tune_sweeps: int
    max_sweeps: int
    block_sweeps: int
    history: list[dict[str, Any]]
    final_states: np.ndarray
    seconds: float

    def to_dict(self, with_series: bool = False) -> dict[str, Any]:
        """JSON-ready dict; the series and final states only if ``with_series``."""
        out = asdict(self)
        for key in ("betas", "swap_acceptance", "hot_to_cold"):
            out[key] = out[key].tolist()
        out["modes"] = [dict(m) for m in self.modes]
        out["chain_modes"] = [dict(m) for m in self.chain_modes]
        out["kinds"] = list(self.kinds)
        out.pop("final_states")
        if with_series:
            out["series"] = {k: v.tolist() for k, v in self.series.items()}
        else:
            out.pop("series")
        return out


def _mean_error(x: np.ndarray) -> dict[str, float]:
    """Mean of (chains, draws) and its standard error sd / sqrt(ESS)."""
    ess = effective_sample_size(x) if x.shape[1] >= 4 else float(x.size)
    return {"mean": float(x.mean()), "error": float(x.std(ddof=1) / np.sqrt(ess))}


def _modes(series: dict[str, np.ndarray], converged: bool) -> tuple[dict[str, float], ...]:
    """Draws split by the sign of m; weights None unless the chains converged."""
    m = series["magnetization"]
    modes = []
    for sign in (-1, 1):
        indicator = np.where(m * sign > 0, 1.0, np.where(m == 0, 0.5, 0.0))
        weight = float(indicator.mean())
        if weight == 0.0:
            continue
        ess = effective_sample_size(indicator)
        mode = {"sign": sign, "weight": weight if converged else None,
                "weight_error": float(np.sqrt(weight * (1 - weight) / ess)) if converged
                else None}
        mask = m * sign >= 0
        for name, values in series.items():
            mode[name] = float(values[mask].mean())
        modes.append(mode)
    return tuple(modes)


def _chain_modes(series: dict[str, np.ndarray], kinds: tuple[str, ...]
                 ) -> tuple[dict[str, Any], ...]:
    names = [n for n in ("magnetization", "free_energy", "energy_per_spin") if n in series]
    means = np.stack([series[n].mean(axis=1) for n in names], axis=1)
    spreads = np.stack([series[n].std(axis=1) for n in names], axis=1)
    labels = cluster_chains(means, spreads)
    groups = []
    for label in range(int(labels.max()) + 1):
        chains = np.flatnonzero(labels == label)
        group: dict[str, Any] = {"chains": chains.tolist(),
                                 "kinds": sorted({kinds[i] for i in chains})}
        for name, values in series.items():
            group[name] = float(values[chains].mean())
        groups.append(group)
    return tuple(groups)


class _Recorder:
    """Per-sweep observables of every chain's beta = 1 replica, grown block by block."""

    def __init__(self, ladder: Ladder, measure: Measure | None, rng: np.random.Generator):
        self.ladder, self.measure, self.rng = ladder, measure, rng
        self.columns: list[dict[str, np.ndarray]] = []

    def record(self) -> None:
        v, x = self.ladder.cold()
        values = {"free_energy": -self.ladder.rbm.neg_free_energy(v, x)}
        m = magnetization(v)
        if self.measure is not None:
            values.update({k: np.asarray(a, dtype=np.float64)
                           for k, a in self.measure(v, self.rng).items()})
            m = values.get("magnetization", m)
        values["magnetization"] = m
        values["abs_magnetization"] = np.abs(m)
        self.columns.append(values)

    def window(self) -> dict[str, np.ndarray]:
        """The second half of the recorded sweeps, {name: (n_chains, n_draws)}."""
        first = len(self.columns) // 2
        names = self.columns[0].keys()
        return {n: np.stack([c[n] for c in self.columns[first:]], axis=1) for n in names}


def _extra_starts(extra: Mapping[str, Any] | None, n_visible: int) -> dict[str, np.ndarray]:
    out = {}
    for name, states in (extra or {}).items():
        if name in START_KINDS:
            raise IsingRGError(f"extra start names must differ from {START_KINDS}, got {name!r}")
        v = check_unit_interval(states, f"extra start {name!r}", n_features=n_visible)
        if not np.all((v == 0) | (v == 1)):
            raise IsingRGError(f"extra start {name!r} must hold binary {{0, 1}} states")
        out[str(name)] = np.asarray(v, dtype=np.float32)
    return out


def _check(options: dict[str, Any]) -> tuple[int, ...]:
    check_integer(options["seed"], "seed", 0)
    check_integer(options["n_chains_per_start"], "n_chains_per_start", 1)
    check_number(options["beta_min"], "beta_min", minimum=0, below=1)
    if options["n_rungs"] is not None:
        check_integer(options["n_rungs"], "n_rungs", 2, 1024)
    block = check_integer(options["block_sweeps"], "block_sweeps", 8)
    check_integer(options["max_sweeps"], "max_sweeps", block)
    tune = tuple(check_integer(t, "tune_sweeps", 1) for t in options["tune_sweeps"])
    for kind in options["starts"]:
        if kind not in START_KINDS:
            raise IsingRGError(f"start kinds must be among {START_KINDS}, got {kind!r}")
    if "data" in options["starts"] and options["data"] is None:
        raise IsingRGError("the 'data' start needs data")
    return tune


def _tune(ladder: Ladder, rng: np.random.Generator, rounds: Sequence[int],
          n_rungs: int | None) -> int:
    """Tuning rounds (module docstring); returns the sweeps spent."""
    for index, n_sweeps in enumerate(rounds):
        for _ in range(n_sweeps):
            ladder.sweep(rng)
        size = None
        if index == 0 and n_rungs is None:
            size = min(max(ladder.recommended_rungs(), MIN_RUNGS), MAX_RUNGS)
        ladder.retune(size)
    return int(sum(rounds))


def _run_blocks(ladder: Ladder, recorder: _Recorder, rng: np.random.Generator, block: int,
                max_sweeps: int, rule: dict[str, float]
                ) -> tuple[dict[str, np.ndarray], dict[str, Any], list[dict[str, Any]]]:
    """Blocks of sweeps until the window passes the rule or the budget is spent."""
    history: list[dict[str, Any]] = []
    while True:
        for _ in range(block):
            ladder.sweep(rng)
            recorder.record()
        window = recorder.window()
        verdict = diagnose({k: window[k] for k in JUDGED if k in window}, **rule)
        history.append({"sweeps": len(recorder.columns), **verdict})
        if verdict["converged"] or len(recorder.columns) + block > max_sweeps:
            return window, verdict, history


def parallel_tempering(
    model: Any,
    data: Any = None,
    *,
    measure: Measure | None = None,
    seed: int = 0,
    starts: Sequence[str] = START_KINDS,
    n_chains_per_start: int = N_CHAINS_PER_START,
    extra_starts: Mapping[str, Any] | None = None,
    beta_min: float = 0.0,
    n_rungs: int | None = None,
    tune_sweeps: Sequence[int] = TUNE_SWEEPS,
    block_sweeps: int = BLOCK_SWEEPS,
    max_sweeps: int = MAX_SWEEPS,
    rhat_threshold: float = RANK_RHAT_THRESHOLD,
    ess_minimum: float = ESS_MINIMUM,
) -> TemperingResult:
    """Sample an RBM by non-reversible parallel tempering until converged (module docstring).

    Parameters
    ----------
    model : fitted BernoulliRBM, (W, b, c) or dict (a DBN's top RBM for a DBN)
    data : array-like (n, n_visible) in [0, 1], optional; rows for the 'data' starts
        (for a DBN: the data sampled up to the top RBM's visible layer)
    measure : callable(v, rng) -> {name: (n_chains,)}, optional
        E/N and m of the states as spins (:mod:`ising_rg.diagnostics.state_measures`); its
        'magnetization', if any, defines the modes (default: m of the RBM's own units)
    seed : int >= 0
    starts : start kinds, a subset of ('up', 'down', 'data', 'random')
    n_chains_per_start : int >= 1, independent ladders per start kind
    extra_starts : {name: binary states (n, n_visible)}, optional; one more ladder per row,
        of kind ``name`` (e.g. equilibrium states resampled from mixture AIS,
        ``PartitionEstimate.equilibrium_states``)
    beta_min : float in [0, 1), the hottest rung
    n_rungs : int or None; None: 2 Lambda + 2 after the first tuning round
    tune_sweeps : sweeps of each tuning round
    block_sweeps : int >= 8, sweeps between convergence checks
    max_sweeps : int >= block_sweeps, the budget after tuning
    rhat_threshold, ess_minimum : the convergence rule (1.01, 400)

    Returns
    -------
    TemperingResult
    """
    started = time.perf_counter()
    tune = _check(locals())
    rbm = ScaledRBM(model)
    start_rng = as_generator(seed_stream(seed, _STARTS))
    groups = {k: start_states(k, n_chains_per_start, rbm.n_visible, start_rng, data)
              for k in starts}
    groups.update(_extra_starts(extra_starts, rbm.n_visible))
    v0 = np.concatenate(list(groups.values()))
    kinds = tuple(k for k, states in groups.items() for _ in range(states.shape[0]))
    betas = np.linspace(beta_min, 1.0, n_rungs or INITIAL_RUNGS)
    ladder = Ladder(rbm, betas, v0)
    rng = as_generator(seed_stream(seed, _SWEEPS))
    spent = _tune(ladder, rng, tune, n_rungs)
    ladder.hot_to_cold[:] = 0
    recorder = _Recorder(ladder, measure, as_generator(seed_stream(seed, _MEASURE)))
    window, verdict, history = _run_blocks(ladder, recorder, rng, block_sweeps, max_sweeps,
                                           {"rhat_threshold": rhat_threshold,
                                            "ess_minimum": ess_minimum})
    by_start = {kind: {name: _mean_error(values[[i for i, k in enumerate(kinds) if k == kind]])
                       for name, values in window.items()} for kind in groups}
    return TemperingResult(
        converged=verdict["converged"], stopped="converged" if verdict["converged"] else "budget",
        rhat=verdict["rhat"], bulk_ess=verdict["bulk_ess"], series=window, kinds=kinds,
        by_start=by_start, modes=_modes(window, verdict["converged"]),
        chain_modes=_chain_modes(window, kinds), betas=ladder.betas.copy(),
        swap_acceptance=1.0 - ladder.rejection(), barrier=ladder.barrier(),
        round_trip_rate=ladder.round_trip_rate(), hot_to_cold=ladder.hot_to_cold.copy(),
        n_sweeps=len(recorder.columns), tune_sweeps=spent, max_sweeps=int(max_sweeps),
        block_sweeps=int(block_sweeps), history=history, final_states=ladder.cold()[0].copy(),
        seconds=time.perf_counter() - started)


def equilibrium_modes(result: TemperingResult, estimate: Any) -> dict[str, Any]:
    """The equilibrium's modes and weights, from the sampler or, if it did not converge, from
    the mixture-AIS shares of :func:`ising_rg.rbm.log_partition.log_partition`.

    Converged chains: the sign modes and their weights as measured (``source`` 'parallel
    tempering'). Otherwise each chain mode (``chain_modes``) gets the summed share of the
    kept AIS bases whose runs ended nearest to its mean m (bases the pilot dropped hold less
    than e^-30 of the weight and count as 0; ``source`` 'mixture AIS'). A network whose
    equilibrium is ordered then shows weight ~1 on a chain mode with |m| ~ 1, even though no
    chain from the data ever reached it.

    Parameters
    ----------
    result : TemperingResult
    estimate : PartitionEstimate of the same RBM (its ``bases``), used when not converged

    Returns
    -------
    dict: ``source``, ``modes`` (list of dicts: the sampler's mode entries, each with
    ``weight``; for 'mixture AIS' also ``bases``, the names of the AIS bases assigned to it,
    and ``weight_error``, the delta-method error of their summed share).
    Without AIS shares (log Z enumerated exactly) a single chain mode, which every start
    reached, has weight 1, and several have weight None: they are not weighed.
    """
    if result.converged:
        return {"source": "parallel tempering", "modes": [dict(m) for m in result.modes]}
    shared = [base for base in estimate.bases if base.kept and base.share is not None]
    if not shared:  # log Z enumerated exactly: no AIS bases, no shares
        if len(result.chain_modes) == 1:  # every start, all-up and all-down too, ended here
            return {"source": "the only mode every start reached",
                    "modes": [dict(result.chain_modes[0], weight=1.0, bases=[])]}
        return {"source": "none (log Z enumerated exactly: no AIS shares)",
                "modes": [dict(m, weight=None, bases=[]) for m in result.chain_modes]}
    modes = [dict(m, weight=0.0, bases=[]) for m in result.chain_modes]
    variance = [0.0] * len(modes)  # the summed relative variance of each mode's bases
    centres = np.array([m["magnetization"] for m in modes])
    for base in shared:
        nearest = int(np.argmin(np.abs(centres - base.end_magnetization)))
        modes[nearest]["weight"] += base.share
        modes[nearest]["bases"].append(base.name)
        variance[nearest] += base.relative_variance or 0.0
    for mode, mine in zip(modes, variance, strict=True):
        mode["weight_error"] = share_error(mode["weight"], mine, sum(variance))
    return {"source": "mixture AIS", "modes": modes}

"""log Z of an RBM that cannot silently miss a mode: exact, or mixture AIS plus a hard check.

:func:`log_partition` is the package's one entry point for the partition function of an RBM:

1. **Exact** when the smaller layer has at most ``max_exact_units`` units
   (:func:`ising_rg.rbm.partition.exact_log_partition`, Gray-code enumeration).
2. Otherwise **look for the modes**: block Gibbs chains from all-up, all-down, data and random
   starts (:func:`ising_rg.rbm.modes.explore`), grouped into modes
   (:func:`ising_rg.rbm.modes.cluster_chains`); each mode's chains give a product base centred
   on the basin they settled in; the data's base rate
   (uniform without data) is one more, and ``extra_states`` (e.g. parallel-tempering samples)
   give one per sign of their mean spin.
3. **Pilot**: one short mixture AIS over all bases (:mod:`ising_rg.rbm.mixture_ais`) measures
   each base's share of Z. Bases whose pilot contribution is more than ``prune_margin`` nats
   below the largest are dropped: their basins hold less than about e^-margin of the weight.
   (The pilot, like any AIS, is low in expectation; on the paper-recipe network at L = 40 a
   chain-fitted base's pilot at 500 temperatures is within ~5 nats of its converged value,
   far less than the 30-nat margin. The pilot values are reported.)
4. **Estimate**: mixture AIS over the kept bases, ``n_seeds`` independent seeds of ``n_runs``
   runs each, pooled stratified estimate; error = the larger of the delta-method error and the
   seeds' scatter (standard error of their mean), as
   :func:`ising_rg.rbm.partition.ais_estimate` does. ``n_betas=None`` lets the pilot choose
   the number of temperatures: the variance s^2 of ln w falls as 1 / n_betas, and for
   log-normal weights the mean of N weights has the relative standard error
   sqrt((e^(s^2) - 1) / N) (its log is low by about half its square). The final run gets
   enough temperatures for a predicted error of ``TARGET_ERROR`` nats in every base holding
   >= 1 % of the pilot's weight, N being that base's runs over all seeds, within
   [``MIN_BETAS``, ``MAX_BETAS``].
5. **Check**: Z >= exp(-F(v)) for every binary state v, so ln Z >= max -F(v) over the states
   visited (:func:`visited_bound`: all-up, all-down, the data rows, ``extra_states``; here also
   every state of the exploration chains and the AIS end states). The estimate fails the check
   (``bound_ok`` False) when it is more than ``BOUND_TOLERANCE`` errors below that bound: it has
   then missed a mode and must not be reported as a number. :func:`check_estimate` applies the
   same check to an estimate made elsewhere.

What is left: a mode that no start leads to, that no extra state lies in, and whose states all
have -F below the estimate, is invisible to every sampler and to this check alike. Everything
in nats.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from ising_rg.checks import check_integer, check_number, check_unit_interval
from ising_rg.errors import IsingRGError
from ising_rg.rbm.mixture_ais import mixture_ais, summarize_runs
from ising_rg.rbm.modes import P_CLIP, Base, FreeEnergyBound, exact_neg_free_energy, explore
from ising_rg.rbm.partition import ais_beta_schedule, exact_log_partition
from ising_rg.rbm.scaled import ScaledRBM, magnetization
from ising_rg.seeding import as_generator, bernoulli, seed_stream

__all__ = ["BaseReport", "PartitionEstimate", "check_estimate", "log_partition",
           "visited_bound"]

#: Defaults (docs/partition.md, "Calibration").
N_RUNS = 100
N_SEEDS = 2
MIN_BETAS = 1000
MAX_BETAS = 10000
TARGET_ERROR = 0.05
PILOT_RUNS_PER_BASE = 8
PILOT_BETAS = 500
PRUNE_MARGIN = 30.0
EXPLORE_CHAINS = 8
EXPLORE_STEPS = 400
#: Smaller layers of at most this many units are enumerated (2^25 states: seconds at 100 x 25).
MAX_EXACT_UNITS = 25
#: The estimate may fall this many errors below the bound before the check fails.
BOUND_TOLERANCE = 3.0
#: AIS end states kept, resampled by weight, as equilibrium states.
N_EQUILIBRIUM = 64
#: A pilot share at or above this lets a base set the number of temperatures.
_SHARE_THAT_COUNTS = 0.01
# spawn keys of the random streams under ``seed``
_EXPLORE, _PILOT, _FINAL, _DATA, _RESAMPLE = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class BaseReport:
    """One base of the mixture and what it found (nats).

    ``log_contribution``, ``share`` (of the final estimate) with its ``share_error`` (delta
    method over the pooled runs, :func:`ising_rg.rbm.mixture_ais.share_error`),
    ``relative_variance`` (the base's term of the squared relative error of Z, which a mode
    made of several bases sums for its weight's error), ``effective_sample_size`` and
    ``end_magnetization`` (mean spin of the base's runs at beta = 1) are None for a base the
    pilot dropped; ``pilot_log_contribution`` is always there.
    """

    name: str
    mean_magnetization: float
    n_chains: int
    pilot_log_contribution: float
    kept: bool
    log_contribution: float | None
    share: float | None
    n_runs: int
    effective_sample_size: float | None
    end_magnetization: float | None
    share_error: float | None = None
    relative_variance: float | None = None


@dataclass(frozen=True)
class PartitionEstimate:
    """ln Z of one RBM with its error, how it was obtained, and the hard check (nats).

    Attributes
    ----------
    log_z, error : the estimate and its standard error (0 when exact)
    method : 'exact' or 'mixture AIS'
    within_error, seed_error : the two error estimates (AIS; 0 when exact)
    estimates : per-seed estimates (AIS; empty when exact)
    bound : max -F(v) over every visited state, a strict lower bound on ln Z
    bound_source : where that state came from
    bound_ok : log_z >= bound - BOUND_TOLERANCE * error
    bases : per-base reports (AIS; empty when exact)
    n_runs : final AIS runs per seed (0 when exact)
    n_betas : temperatures of the final AIS (0 when exact)
    n_seeds : final AIS seeds (0 when exact)
    seconds : wall time
    equilibrium_states : float32 (N_EQUILIBRIUM, n_visible), AIS end states resampled in
        proportion to their weights (systematic resampling): approximately equilibrium
        states, each mode represented by its weight (empty when exact). Starts for
        :func:`ising_rg.rbm.tempering.parallel_tempering` (``extra_starts``); not in to_dict.
    """

    log_z: float
    error: float
    method: str
    within_error: float
    seed_error: float
    estimates: tuple[float, ...]
    bound: float
    bound_source: str
    bound_ok: bool
    bases: tuple[BaseReport, ...]
    n_runs: int
    n_betas: int
    n_seeds: int
    seconds: float
    equilibrium_states: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32),
                                           repr=False)

    @property
    def bound_margin(self) -> float:
        """log_z - bound: negative means the estimate has missed weight."""
        return self.log_z - self.bound

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field plus ``bound_margin``."""
        out = {f.name: getattr(self, f.name) for f in fields(self)
               if f.name not in ("equilibrium_states", "bases")}
        out["estimates"] = list(self.estimates)
        out["bases"] = [asdict(b) for b in self.bases]
        out["bound_margin"] = self.bound_margin
        return out


def _binary_data(rbm: ScaledRBM, data: Any, rng: np.random.Generator
                 ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(checked data, binary rows: the data, or a seeded Bernoulli draw of probabilities)."""
    if data is None:
        return None, None
    X = check_unit_interval(data, "data", n_features=rbm.n_visible)
    return X, X if np.all((X == 0) | (X == 1)) else bernoulli(X, rng)


def _extra(rbm: ScaledRBM, extra_states: Any) -> np.ndarray | None:
    if extra_states is None:
        return None
    extra = check_unit_interval(extra_states, "extra_states", n_features=rbm.n_visible)
    if not np.all((extra == 0) | (extra == 1)):
        raise IsingRGError("extra_states must be binary {0, 1} states")
    return extra


def _bound(rbm: ScaledRBM, binary_data: np.ndarray | None,
           extra: np.ndarray | None) -> FreeEnergyBound:
    bound = FreeEnergyBound()
    for name, value in (("all-down", 0.0), ("all-up", 1.0)):
        bound.update(exact_neg_free_energy(rbm, np.full((1, rbm.n_visible), value)), name)
    if binary_data is not None:
        bound.update(exact_neg_free_energy(rbm, binary_data), "data row")
    if extra is not None:
        bound.update(exact_neg_free_energy(rbm, extra), "extra state")
    return bound


def visited_bound(model: Any, data: Any = None, *, extra_states: Any = None,
                  seed: int = 0) -> FreeEnergyBound:
    """max -F(v) over all-up, all-down, the data rows and ``extra_states``: ln Z >= its value.

    Data in (0, 1) (a layer's probabilities) are bounded through one seeded Bernoulli draw.
    """
    rbm = ScaledRBM(model)
    _, binary = _binary_data(rbm, data, as_generator(seed_stream(check_integer(
        seed, "seed", 0), _DATA)))
    return _bound(rbm, binary, _extra(rbm, extra_states))


def check_estimate(log_z: float, error: float, bound: FreeEnergyBound | float) -> bool:
    """True when ``log_z`` is at most ``BOUND_TOLERANCE`` errors below the bound (ln Z >=)."""
    value = bound.value if isinstance(bound, FreeEnergyBound) else float(bound)
    return bool(log_z >= value - BOUND_TOLERANCE * max(float(error), 0.0))


def _extra_bases(extra: np.ndarray | None) -> list[Base]:
    if extra is None:
        return []
    signs = magnetization(extra) < 0
    return [Base(f"extra {label}", np.clip(extra[mask].mean(axis=0, dtype=np.float64),
                                           P_CLIP, 1 - P_CLIP), int(mask.sum()))
            for mask, label in ((signs, "m<0"), (~signs, "m>0")) if mask.any()]


def _chosen_betas(pilot: dict, pilot_betas: int, runs_per_base: int) -> int:
    """Temperatures for a predicted error of TARGET_ERROR in every base that matters: the ln w
    variance s^2 with sqrt((e^(s^2) - 1) / N) = TARGET_ERROR, scaled from the pilot's as
    1 / n_betas (module docstring)."""
    counts = pilot["share"] >= _SHARE_THAT_COUNTS
    variance = float(np.max(pilot["log_weight_variance"][counts]))
    allowed = math.log1p(TARGET_ERROR**2 * runs_per_base)
    wanted = math.ceil(pilot_betas * variance / allowed)
    return int(min(max(wanted, MIN_BETAS), MAX_BETAS))


def _final(rbm: ScaledRBM, bases: list[Base], n_runs: int, n_betas: int, n_seeds: int,
           seed: int) -> tuple[dict, list]:
    """Final mixture AIS over ``bases``: pooled summary with per-seed estimates, the batches."""
    runs_per_base = max(2, -(-n_runs // len(bases)))
    betas = ais_beta_schedule(n_betas)
    batches = [mixture_ais(rbm, bases, runs_per_base, betas,
                           as_generator(seed_stream(seed, _FINAL, k))) for k in range(n_seeds)]
    summary = summarize_runs(batches)
    per_seed = [summarize_runs([batch])["log_z"] for batch in batches]
    summary["seed_error"] = float(np.std(per_seed, ddof=1) / math.sqrt(n_seeds))
    summary["estimates"] = tuple(float(e) for e in per_seed)
    summary["runs_per_base"] = runs_per_base
    return summary, batches


def _resample(batches: list, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` end states drawn by systematic resampling with probabilities proportional to
    pi_m w_r / R_m (each run's share of the stratified estimate)."""
    log_w = np.concatenate([b.log_weights for b in batches])
    strata = np.concatenate([b.strata for b in batches])
    counts = np.bincount(strata)
    log_share = log_w + batches[0].log_pi[strata] - np.log(counts[strata])
    share = np.exp(log_share - log_share.max())
    cumulative = np.cumsum(share / share.sum())
    positions = (rng.random() + np.arange(n)) / n
    rows = np.minimum(np.searchsorted(cumulative, positions), cumulative.size - 1)
    return np.concatenate([b.end_states for b in batches])[rows]


def _reports(bases: list[Base], pilot: dict, kept: list[int], final: dict
             ) -> tuple[BaseReport, ...]:
    reports = []
    for i, base in enumerate(bases):
        j = kept.index(i) if i in kept else None

        def value(key: str, j: int | None = j) -> float | None:
            return None if j is None else float(final[key][j])

        reports.append(BaseReport(
            name=base.name, mean_magnetization=base.mean_magnetization, n_chains=base.n_chains,
            pilot_log_contribution=float(pilot["log_contribution"][i]), kept=j is not None,
            log_contribution=value("log_contribution"), share=value("share"),
            n_runs=0 if j is None else int(final["n_runs"][j]),
            effective_sample_size=value("effective_sample_size"),
            end_magnetization=value("end_magnetization"), share_error=value("share_error"),
            relative_variance=value("relative_variance")))
    return tuple(reports)


def _check_options(options: dict[str, Any]) -> None:
    check_integer(options["seed"], "seed", 0)
    check_integer(options["n_runs"], "n_runs", 2)
    if options["n_betas"] is not None:
        check_integer(options["n_betas"], "n_betas", 3)
    check_integer(options["n_seeds"], "n_seeds", 2)
    check_integer(options["pilot_runs_per_base"], "pilot_runs_per_base", 2)
    check_integer(options["pilot_betas"], "pilot_betas", 3)
    check_number(options["prune_margin"], "prune_margin", above=0)
    check_integer(options["explore_chains"], "explore_chains", 1)
    check_integer(options["explore_steps"], "explore_steps", 2)
    check_integer(options["max_exact_units"], "max_exact_units", 0, 40)


def log_partition(
    model: Any,
    data: Any = None,
    *,
    seed: int = 0,
    n_runs: int = N_RUNS,
    n_betas: int | None = None,
    n_seeds: int = N_SEEDS,
    pilot_runs_per_base: int = PILOT_RUNS_PER_BASE,
    pilot_betas: int = PILOT_BETAS,
    prune_margin: float = PRUNE_MARGIN,
    explore_chains: int = EXPLORE_CHAINS,
    explore_steps: int = EXPLORE_STEPS,
    max_exact_units: int = MAX_EXACT_UNITS,
    extra_states: Any = None,
) -> PartitionEstimate:
    """ln Z of an RBM, exact or by mixture AIS, checked against max -F(v) (module docstring).

    Parameters
    ----------
    model : fitted BernoulliRBM, (W, b, c) tuple or dict
    data : array-like (n, n_visible) in [0, 1], optional
        The training data: its base rate is a base, its rows start exploration chains and
        enter the bound (binarised with a seeded draw if they are probabilities).
    seed : int >= 0, root of every random stream
    n_runs : int >= 2, AIS runs per seed, shared evenly by the kept bases (>= 2 each)
    n_betas : int >= 3 or None, temperatures of the final AIS
        (:func:`~ising_rg.rbm.partition.ais_beta_schedule`); None: chosen by the pilot
    n_seeds : int >= 2, independent final AIS batches
    pilot_runs_per_base, pilot_betas : the pilot's size
    prune_margin : float > 0, nats below the largest pilot contribution at which a base drops
    explore_chains, explore_steps : chains per start kind and their Gibbs steps
    max_exact_units : int in [0, 40], enumerate when the smaller layer is at most this
    extra_states : array-like (n, n_visible) binary, optional
        More visited states (e.g. parallel-tempering samples): bases and bound.

    Returns
    -------
    PartitionEstimate
    """
    started = time.perf_counter()
    _check_options(locals())
    rbm = ScaledRBM(model)
    X, binary = _binary_data(rbm, data, as_generator(seed_stream(seed, _DATA)))
    extra = _extra(rbm, extra_states)
    bound = _bound(rbm, binary, extra)
    if min(rbm.n_visible, rbm.n_hidden) <= max_exact_units:
        log_z = exact_log_partition(model, max_units=max(max_exact_units, 1))
        return PartitionEstimate(log_z, 0.0, "exact", 0.0, 0.0, (), bound.value, bound.source,
                                 check_estimate(log_z, 0.0, bound), (), 0, 0, 0,
                                 time.perf_counter() - started)
    found = explore(rbm, binary, n_chains=explore_chains, n_steps=explore_steps,
                    seed=seed_stream(seed, _EXPLORE))
    bound.update(np.array([found.bound.value]), found.bound.source)
    first = (Base("uniform", np.full(rbm.n_visible, 0.5)) if X is None else Base(
        "data rate", np.clip(X.mean(axis=0, dtype=np.float64), P_CLIP, 1 - P_CLIP)))
    bases = [first, *found.bases, *_extra_bases(extra)]
    pilot = summarize_runs([mixture_ais(rbm, bases, pilot_runs_per_base,
                                        ais_beta_schedule(pilot_betas),
                                        as_generator(seed_stream(seed, _PILOT)))])
    largest = float(np.max(pilot["log_contribution"]))
    kept = [i for i, c in enumerate(pilot["log_contribution"]) if c >= largest - prune_margin]
    if n_betas is None:
        runs = max(2, -(-n_runs // len(kept))) * n_seeds  # per base, all seeds: as _final's
        n_betas = _chosen_betas(pilot, pilot_betas, runs)
    final, batches = _final(rbm, [bases[i] for i in kept], n_runs, n_betas, n_seeds, seed)
    for batch in batches:
        bound.update(exact_neg_free_energy(rbm, batch.end_states), "AIS end state")
    error = max(final["error"], final["seed_error"])
    return PartitionEstimate(
        log_z=final["log_z"], error=error, method="mixture AIS", within_error=final["error"],
        seed_error=final["seed_error"], estimates=final["estimates"], bound=bound.value,
        bound_source=bound.source, bound_ok=check_estimate(final["log_z"], error, bound),
        bases=_reports(bases, pilot, kept, final), n_runs=final["runs_per_base"] * len(kept),
        n_betas=int(n_betas), n_seeds=int(n_seeds), seconds=time.perf_counter() - started,
        equilibrium_states=_resample(batches, N_EQUILIBRIUM,
                                     as_generator(seed_stream(seed, _RESAMPLE))))

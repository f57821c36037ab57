"""The RBM flow: iterate v -> h -> v with one RBM and read the temperature of what it produces.

Iso, Shiba & Yokoo (J. Phys. Soc. Jpn. 87, 2018) train an RBM on Monte Carlo configurations of
many temperatures, reconstruct configurations through it again and again, and read the
temperature of each generation: if the RBM did RG, the flow would run away from T_c; they found
it runs *towards* T_c. Here one RBM is iterated:

* ``stochastic=True``: h ~ P(h|v), then v ~ P(v|h), binary at every step. This is block Gibbs
  sampling, so the end point is the RBM's own equilibrium distribution p(v), whatever the
  start, once the chains have mixed.
* ``stochastic=False``: the mean-field map v <- P(v = 1 | h = P(h = 1 | v)) on probabilities
  (deterministic). To measure, each step's probabilities are binarised by an independent
  Bernoulli draw (a separate random stream, so measuring does not change the flow); a
  configuration drawn from the product distribution P(v|h) is what the probabilities stand for.

``rbm_flow`` runs several groups of independent starts at once (Monte Carlo configurations,
e.g. from several temperatures, and random ones) and, if asked, runs until they agree: the
split R-hat (``ising_rg.estimators.convergence.split_rhat``) of E/N and of |m| over all chains,
on the second half of the steps run so far, below 1.05. ``flow_temperatures`` then reads the
end point's temperature from E, |m| and C separately (``ising_rg.diagnostics.thermometry``) and says
whether it is an Ising state at all. ``flow_fixed_point`` is the older summary of separate
fixed-length runs (E-temperature only). Both are in ``ising_rg.diagnostics.flow_readout`` and
re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ising_rg.diagnostics.flow_readout import flow_fixed_point, flow_temperatures
from ising_rg.diagnostics.thermometry import effective_temperature
from ising_rg.errors import IsingRGError
from ising_rg.estimators.convergence import (
    RHAT_THRESHOLD,
    rhat_converged,
    window_rhat,
    window_start,
)
from ising_rg.sampling.observables import energy_per_spin, magnetization_per_spin

__all__ = [
    "effective_temperature",
    "flow_fixed_point",
    "flow_temperatures",
    "rbm_flow",
    "window_start",
]

_STRING_STARTS = ("up", "down", "random")


def _energies(v: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Energy per spin and |m| per chain of binary visible states (n, L*L)."""
    spins = (2 * v.astype(np.int8) - 1).reshape(-1, size, size)
    return energy_per_spin(spins), np.abs(magnetization_per_spin(spins))


def _bernoulli(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return (rng.random(p.shape, dtype=np.float32) < p).astype(np.float32)


def _check_count(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise IsingRGError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_size(size: Any) -> int:
    return _check_count(size, "size", 2)


def _start_states(spec: Any, n_chains: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Visible states (n, L*L) float32 in {0, 1} for one start specification."""
    n_visible = size * size
    if isinstance(spec, str):
        shape = (_check_count(n_chains, "n_chains"), n_visible)
        if spec == "up":
            return np.ones(shape, np.float32)
        if spec == "down":
            return np.zeros(shape, np.float32)
        if spec == "random":
            return _bernoulli(np.full(shape, 0.5, np.float32), rng)
        raise IsingRGError(f"start must be 'up', 'down', 'random' or an array, got {spec!r}")
    v = np.asarray(spec)
    if v.ndim == 3 and v.shape[1:] == (size, size) and v.shape[0] >= 1:
        if not np.all((v == 1) | (v == -1)):
            raise IsingRGError("a start array of spins (n, L, L) must hold values in {-1, +1}")
        return ((v.reshape(-1, n_visible) + 1) // 2).astype(np.float32)
    if v.ndim != 2 or v.shape[1] != n_visible or v.shape[0] < 1:
        raise IsingRGError(
            f"start must be shaped (n_chains, {n_visible}) (visible units) or "
            f"(n_chains, {size}, {size}) (spins), got {v.shape}"
        )
    if not np.all((v == 0) | (v == 1)):
        raise IsingRGError("a start array must hold binary {0, 1} configurations")
    return v.astype(np.float32)  # a copy


def _window_rhat(energy: np.ndarray, abs_m: np.ndarray) -> dict[str, float]:
    """Split R-hat of E/N and |m| over all chains on the second half of the steps so far."""
    return window_rhat({"energy_per_spin": energy, "abs_magnetization": abs_m})


def rbm_flow(
    rbm: Any,
    size: int,
    n_chains: int = 200,
    n_steps: int = 50,
    start: str | np.ndarray | Mapping[str, str | np.ndarray] = "up",
    seed: int = 0,
    stochastic: bool = True,
    check_every: int | None = None,
    rhat_threshold: float = RHAT_THRESHOLD,
) -> dict[str, Any]:
    """Iterate v -> h -> v with one RBM from one or several starts; measure E, |m|, C per step.

    Parameters
    ----------
    rbm : BernoulliRBM, fitted, with L*L visible units (``transform``, ``propagate_down``)
    size : int, L
    n_chains : int
        Chains of each string start ('up', 'down', 'random'); an array start has one chain
        per row.
    n_steps : int >= 1
        Flow steps (the largest number with ``check_every``); step t applies the map t
        times, step 0 is the start.
    start : {'up', 'down', 'random'}, array, or mapping {name: one of those}
        All spins up (v = 1), all down, independent fair coin flips (seeded), given
        configurations as visible units (n, L*L) in {0, 1} or as spins (n, L, L) in {-1, +1}
        (e.g. Monte Carlo samples), or several such groups of starts run together as one set
        of chains (e.g. {"T=1.5": spins, "T=3.0": spins, "random": "random"}).
    seed : int, root of the random streams (flow, measurement binarisation, random starts)
    stochastic : bool
        True: sample h and v at every step (block Gibbs). False: mean-field probabilities,
        binarised only for measuring (module docstring).
    check_every : int or None
        If given, every ``check_every`` steps compute the split R-hat of E/N and |m| over all
        chains on the second half of the steps so far, and stop as soon as both are below
        ``rhat_threshold``. Checking draws no random numbers, so a run that stops at step t is
        the first t steps of a longer run. None: run exactly ``n_steps`` steps.
    rhat_threshold : float, the convergence threshold on both R-hats (default 1.05)

    Returns
    -------
    dict
        ``step``: int array (T + 1,), T the number of steps run;
        ``energy_per_spin``, ``energy_per_spin_error``: float64 (T + 1,), mean over all chains
            of E/N (units of J) and its standard error (chains are independent);
        ``abs_magnetization``, ``abs_magnetization_error``: the same for |m|;
        ``energy_fluctuation``: float64 (T + 1,), N var(E/N) over chains (J^2; ddof 1), which
            for an Ising state at T is T^2 C/N; meaningful once the chains agree;
        ``energy_per_spin_chains``, ``abs_magnetization_chains``: float64 (T + 1, n_total);
        ``by_start``: {name: {``chains``: [first, stop) column range, ``energy_per_spin``,
            ``abs_magnetization``: (T + 1,) means over that group}};
        ``rhat``: {``energy_per_spin``, ``abs_magnetization``}: split R-hat over all chains on
            steps ceil(T/2) .. T (NaN if fewer than 4 steps there);
        ``converged``: bool, both R-hats below the threshold;
        ``rhat_history``: list of {``step``, ``energy_per_spin``, ``abs_magnetization``}, one
            per check;
        ``final_spins``: int8 (n_total, L, L), the measured configurations of the last step;
        ``settings``: size, n_chains (total), n_steps (run), max_steps, start (the string,
            'array', or the list of group names), seed, stochastic, check_every,
            rhat_threshold.
    """
    size, max_steps, check_every = _check_flow_settings(rbm, size, n_steps, check_every,
                                                        rhat_threshold)
    flow_seed, measure_seed, start_seed = np.random.SeedSequence(seed).spawn(3)
    start_rng = np.random.default_rng(start_seed)  # consumed by the groups in order
    names, start_name, v, bounds = _flow_starts(start, n_chains, size, start_rng)
    energy, abs_m, measured, history = _iterate(
        rbm, v, size, max_steps, stochastic, check_every, rhat_threshold,
        np.random.default_rng(flow_seed), np.random.default_rng(measure_seed))
    return {
        **_flow_measurements(energy, abs_m, measured, history, names, bounds, size,
                             rhat_threshold),
        "settings": {"size": size, "n_chains": int(v.shape[0]),
                     "n_steps": int(energy.shape[0] - 1), "max_steps": int(max_steps),
                     "start": start_name, "seed": int(seed), "stochastic": bool(stochastic),
                     "check_every": check_every, "rhat_threshold": float(rhat_threshold)},
    }


def _check_flow_settings(rbm: Any, size: Any, n_steps: Any, check_every: Any,
                         rhat_threshold: float) -> tuple[int, int, int | None]:
    """``rbm_flow``'s L (matching the RBM's visible units), step budget and check interval,
    checked; IsingRGError for a bad one or for ``rhat_threshold`` <= 1."""
    size = _check_size(size)
    n_visible = int(np.shape(rbm.weights_)[0])
    if n_visible != size * size:
        raise IsingRGError(
            f"the RBM has {n_visible} visible units, expected {size * size} for a "
            f"{size}x{size} lattice"
        )
    max_steps = _check_count(n_steps, "n_steps")
    if check_every is not None:
        check_every = _check_count(check_every, "check_every")
    if not rhat_threshold > 1.0:
        raise IsingRGError(f"rhat_threshold must be > 1, got {rhat_threshold!r}")
    return size, max_steps, check_every


def _flow_measurements(energy: np.ndarray, abs_m: np.ndarray, measured: np.ndarray,
                       history: list[dict[str, float]], names: list[str], bounds: np.ndarray,
                       size: int, rhat_threshold: float) -> dict[str, Any]:
    """``rbm_flow``'s result but its settings, from E/N and |m| per step and chain
    (T + 1, n) each, the last step's measured visible states (n, L*L), the R-hat checks and
    the start groups' names and column bounds."""
    rhat = _window_rhat(energy, abs_m)
    return {
        "step": np.arange(energy.shape[0]),
        **_chain_statistics(energy, abs_m, size),
        "energy_per_spin_chains": energy,
        "abs_magnetization_chains": abs_m,
        "by_start": {
            name: {
                "chains": [int(lo), int(hi)],
                "energy_per_spin": energy[:, lo:hi].mean(axis=1),
                "abs_magnetization": abs_m[:, lo:hi].mean(axis=1),
            }
            for name, lo, hi in zip(names, bounds[:-1], bounds[1:], strict=True)
        },
        "rhat": rhat,
        "converged": rhat_converged(rhat, rhat_threshold),
        "rhat_history": history,
        "final_spins": (2 * measured.astype(np.int8) - 1).reshape(-1, size, size),
    }


def _flow_starts(start: Any, n_chains: int, size: int, rng: np.random.Generator
                 ) -> tuple[list[str], str | list[str], np.ndarray, np.ndarray]:
    """The groups of starts of ``rbm_flow``: their names, the ``start`` setting (the string,
    'array' or the list of names), the visible states (n_total, L*L) float32 of all groups in
    order and the groups' column bounds (n_groups + 1,)."""
    if isinstance(start, Mapping):
        if not start:
            raise IsingRGError("no starts given")
        specs = {str(name): spec for name, spec in start.items()}
        start_name: str | list[str] = list(specs)
    else:
        start_name = start if isinstance(start, str) else "array"
        specs = {start_name: start}
    groups = [_start_states(spec, n_chains, size, rng) for spec in specs.values()]
    bounds = np.cumsum([0] + [len(g) for g in groups])
    return list(specs), start_name, np.concatenate(groups), bounds


def _iterate(rbm: Any, v: np.ndarray, size: int, max_steps: int, stochastic: bool,
             check_every: int | None, rhat_threshold: float, flow_rng: np.random.Generator,
             measure_rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, float]]]:
    """The flow's steps from visible states ``v`` (n, L*L): E/N and |m| per step and chain,
    (T + 1, n) each, the measured states of the last step and the R-hat checks (``rbm_flow``'s
    ``check_every``: stop at the first check where both R-hats are below the threshold)."""
    energy = np.empty((max_steps + 1, v.shape[0]))
    abs_m = np.empty((max_steps + 1, v.shape[0]))
    measured = v
    energy[0], abs_m[0] = _energies(measured, size)
    history: list[dict[str, float]] = []
    n_run = max_steps
    with np.errstate(over="ignore", under="ignore"):
        for step in range(1, max_steps + 1):
            h = rbm.transform(v)
            if stochastic:
                h = _bernoulli(h, flow_rng)
            v = rbm.propagate_down(h)
            if stochastic:
                v = _bernoulli(v, flow_rng)
                measured = v
            else:
                measured = _bernoulli(v, measure_rng)
            energy[step], abs_m[step] = _energies(measured, size)
            if check_every is not None and step % check_every == 0:
                rhat = _window_rhat(energy[: step + 1], abs_m[: step + 1])
                history.append({"step": step, **rhat})
                if rhat_converged(rhat, rhat_threshold):
                    n_run = step
                    break
    return energy[: n_run + 1], abs_m[: n_run + 1], measured, history


def _chain_statistics(energy: np.ndarray, abs_m: np.ndarray, size: int) -> dict[str, np.ndarray]:
    """Per step, over the independent chains: the means of E/N and |m| and their standard
    errors, and N var(E/N) (ddof 1); NaN errors and fluctuation for a single chain."""
    n_rows, n = energy.shape

    def stderr(values: np.ndarray) -> np.ndarray:
        if n < 2:
            return np.full(values.shape[0], np.nan)
        return values.std(axis=1, ddof=1) / math.sqrt(n)

    return {
        "energy_per_spin": energy.mean(axis=1),
        "energy_per_spin_error": stderr(energy),
        "abs_magnetization": abs_m.mean(axis=1),
        "abs_magnetization_error": stderr(abs_m),
        "energy_fluctuation": (size * size * energy.var(axis=1, ddof=1) if n >= 2
                               else np.full(n_rows, np.nan)),
    }

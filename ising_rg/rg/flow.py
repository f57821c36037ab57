"""The RBM flow: iterate v -> h -> v with one RBM and watch the temperature of the configurations.

Iso, Shiba & Yokoo (J. Phys. Soc. Jpn. 87, 2018) repeatedly reconstruct Ising configurations
through an RBM trained on them, and read the temperature of each generation off its
thermodynamics: if the RBM did RG, the flow would run away from T_c; they found it runs
*towards* T_c. Here the first layer of the DBN is iterated:

* ``stochastic=True``: h ~ P(h|v), then v ~ P(v|h), binary at every step. This is block Gibbs
  sampling, so the "fixed point" is the RBM's own equilibrium distribution p(v), whatever the
  start (if the chain mixes).
* ``stochastic=False``: the mean-field map v <- P(v = 1 | h = P(h = 1 | v)) on probabilities
  (deterministic). To measure, each step's probabilities are binarised by an independent
  Bernoulli draw (a separate random stream, so measuring does not change the flow); a
  configuration drawn from the product distribution P(v|h) is what the probabilities stand for.

The effective temperature of a generation is the T at which the *exact* L x L energy per spin
equals the generation's mean energy (``effective_temperature``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ising_rg import exact
from ising_rg.errors import IsingRGError
from ising_rg.sampling.observables import energy_per_spin, magnetization_per_spin

__all__ = ["effective_temperature", "flow_fixed_point", "rbm_flow"]

# Couplings bracketing the range handled by exact.temperature_from_energy (T in [0.05, 1000]),
# taken slightly inside it; energies outside use the asymptotic forms below.
_K_HIGH_T = 1.1e-3
_K_LOW_T = 19.0
_FLOW_STREAM, _MEASURE_STREAM, _START_STREAM = range(3)


def _energies(v: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Energy per spin and |m| per chain of binary visible states (n, L*L)."""
    spins = (2 * v.astype(np.int8) - 1).reshape(-1, size, size)
    return energy_per_spin(spins), np.abs(magnetization_per_spin(spins))


def _bernoulli(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return (rng.random(p.shape, dtype=np.float32) < p).astype(np.float32)


def _check_size(size: Any) -> int:
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 2:
        raise IsingRGError(f"size must be an integer >= 2, got {size!r}")
    return int(size)


def rbm_flow(
    rbm: Any,
    size: int,
    n_chains: int = 200,
    n_steps: int = 50,
    start: str | np.ndarray = "up",
    seed: int = 0,
    stochastic: bool = True,
) -> dict[str, Any]:
    """Iterate v -> h -> v with one RBM from a fixed start and measure E and |m| per step.

    Parameters
    ----------
    rbm : BernoulliRBM
        Fitted, with L*L visible units (``transform``, ``propagate_down``, ``weights_``).
    size : int
        L.
    n_chains : int
        Independent chains (ignored when ``start`` is an array: one chain per row).
    n_steps : int >= 1
        Flow steps; step t applies the map t times (step 0 is the start).
    start : {'up', 'down', 'random'} or array, shape (n, L*L), values in {0, 1}
        All spins up (v = 1), all down, independent fair coin flips (seeded), or given
        configurations (e.g. Monte Carlo data as visible units).
    seed : int
        Root of the random streams (flow, measurement binarisation, random start); the same
        seed and inputs give identical results.
    stochastic : bool
        True: sample h and v at every step (block Gibbs). False: mean-field probabilities,
        binarised only for measuring (module docstring).

    Returns
    -------
    dict
        ``step``: int array (n_steps + 1,);
        ``energy_per_spin``, ``energy_per_spin_error``: float64 (n_steps + 1,), mean over chains
            of E/N (units of J) and its standard error (chains are independent);
        ``abs_magnetization``, ``abs_magnetization_error``: the same for |m|;
        ``energy_per_spin_chains``, ``abs_magnetization_chains``: float64 (n_steps + 1, n_chains);
        ``final_spins``: int8 (n_chains, L, L), the measured configurations of the last step;
        ``settings``: size, n_chains, n_steps, start ('array' for a given start), seed,
            stochastic.
    """
    size = _check_size(size)
    n_visible = int(np.shape(rbm.weights_)[0])
    if n_visible != size * size:
        raise IsingRGError(
            f"the RBM has {n_visible} visible units, expected {size * size} for a "
            f"{size}x{size} lattice"
        )
    if isinstance(n_steps, bool) or not isinstance(n_steps, int | np.integer) or n_steps < 1:
        raise IsingRGError(f"n_steps must be an integer >= 1, got {n_steps!r}")
    flow_seed, measure_seed, start_seed = np.random.SeedSequence(seed).spawn(3)
    flow_rng = np.random.default_rng(flow_seed)
    measure_rng = np.random.default_rng(measure_seed)

    if isinstance(start, str):
        if isinstance(n_chains, bool) or not isinstance(n_chains, int | np.integer) or n_chains < 1:
            raise IsingRGError(f"n_chains must be an integer >= 1, got {n_chains!r}")
        shape = (int(n_chains), n_visible)
        if start == "up":
            v = np.ones(shape, np.float32)
        elif start == "down":
            v = np.zeros(shape, np.float32)
        elif start == "random":
            v = _bernoulli(np.full(shape, 0.5, np.float32), np.random.default_rng(start_seed))
        else:
            raise IsingRGError(f"start must be 'up', 'down', 'random' or an array, got {start!r}")
        start_name = start
    else:
        v = np.asarray(start, dtype=np.float32)
        if v.ndim != 2 or v.shape[1] != n_visible or v.shape[0] < 1:
            raise IsingRGError(f"start must be shaped (n_chains, {n_visible}), got {v.shape}")
        if not np.all((v == 0) | (v == 1)):
            raise IsingRGError("a start array must hold binary {0, 1} configurations")
        v = v.copy()
        start_name = "array"

    n = v.shape[0]
    energy = np.empty((n_steps + 1, n))
    abs_m = np.empty((n_steps + 1, n))
    measured = v
    energy[0], abs_m[0] = _energies(measured, size)
    with np.errstate(over="ignore", under="ignore"):
        for step in range(1, n_steps + 1):
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

    def stderr(values: np.ndarray) -> np.ndarray:
        if n < 2:
            return np.full(values.shape[0], np.nan)
        return values.std(axis=1, ddof=1) / math.sqrt(n)

    return {
        "step": np.arange(n_steps + 1),
        "energy_per_spin": energy.mean(axis=1),
        "energy_per_spin_error": stderr(energy),
        "abs_magnetization": abs_m.mean(axis=1),
        "abs_magnetization_error": stderr(abs_m),
        "energy_per_spin_chains": energy,
        "abs_magnetization_chains": abs_m,
        "final_spins": (2 * measured.astype(np.int8) - 1).reshape(n, size, size),
        "settings": {
            "size": size,
            "n_chains": int(n),
            "n_steps": int(n_steps),
            "start": start_name,
            "seed": int(seed),
            "stochastic": bool(stochastic),
        },
    }


def effective_temperature(energy_per_spin: Any, size: int) -> float | np.ndarray:
    """Temperature at which the exact L x L Ising energy per spin equals the given energy.

    Inverts the exact finite-lattice <E>/N(T) (Kaufman; ``exact.temperature_from_energy``) for
    energies corresponding to T in about [0.053, 909]; outside:

    * E >= 0 (no ferromagnetic order at all, e.g. independent spins, or anti-aligned): inf;
    * -2 tanh(0.0011) <= E < 0 (T > ~909): the high-temperature series E/N = -2 tanh K - O(t^3),
      T = 1 / artanh(-E/2), relative error < 3e-6;
    * E <= E(K = 19) (T < 0.053, i.e. E within ~1e-66 of -2; all spins aligned): 0;
    * E < -2 (impossible for a configuration) or non-finite: NaN.

    Parameters
    ----------
    energy_per_spin : float or array-like
        Energy per spin in units of J.
    size : int
        L (the finite-lattice curve is used; L = 40 differs from Onsager near T_c).

    Returns
    -------
    float or float64 array of the same shape, in units of J / k_B.
    """
    size = _check_size(size)
    e = np.asarray(energy_per_spin, dtype=np.float64)
    out = np.full(e.shape, np.nan)
    e_low, e_high = (float(v) for v in exact.energy_per_spin(np.array([_K_LOW_T, _K_HIGH_T]), size))
    finite = np.isfinite(e)
    inside = finite & (e > e_low) & (e < e_high)
    if np.any(inside):
        out[inside] = exact.temperature_from_energy(e[inside], size)
    high = finite & (e >= e_high) & (e < 0)
    out[high] = 1.0 / np.arctanh(-0.5 * e[high])
    out[finite & (e >= 0)] = np.inf
    out[finite & (e <= e_low) & (e >= -2.0)] = 0.0
    return float(out) if out.ndim == 0 else out


def _tail_summary(result: Mapping[str, Any], size: int, tail_fraction: float) -> dict[str, Any]:
    energy = np.asarray(result["energy_per_spin_chains"], dtype=np.float64)
    abs_m = np.asarray(result["abs_magnetization_chains"], dtype=np.float64)
    n_steps = energy.shape[0] - 1
    n_tail = max(1, int(round(tail_fraction * n_steps)))
    n_chains = energy.shape[1]

    def mean_error(series: np.ndarray) -> tuple[float, float]:
        # time average per chain over the tail, then mean and standard error over the
        # independent chains (steps within a chain are correlated)
        per_chain = series[-n_tail:].mean(axis=0)
        error = per_chain.std(ddof=1) / math.sqrt(n_chains) if n_chains > 1 else math.nan
        return float(per_chain.mean()), float(error)

    e_mean, e_error = mean_error(energy)
    m_mean, m_error = mean_error(abs_m)
    half = max(1, n_tail // 2)
    drift = float(energy[-half:].mean() - energy[-n_tail:-half].mean()) if n_tail >= 2 else 0.0
    t_eff = effective_temperature(e_mean, size)
    band = effective_temperature(np.array([e_mean - e_error, e_mean + e_error]), size)
    return {
        "n_tail_steps": int(n_tail),
        "energy_per_spin": e_mean,
        "energy_per_spin_error": e_error,
        "abs_magnetization": m_mean,
        "abs_magnetization_error": m_error,
        "energy_drift_in_tail": drift,
        "effective_temperature": t_eff,
        "effective_temperature_range": [float(band[0]), float(band[1])],
    }


def flow_fixed_point(
    result: Mapping[str, Any],
    size: int,
    tail_fraction: float = 0.2,
    n_sigma: float = 3.0,
) -> dict[str, Any]:
    """Where the flow ends: tail means of E and |m|, effective temperature, agreement of starts.

    Parameters
    ----------
    result : dict
        One ``rbm_flow`` result, or a mapping ``{start_name: rbm_flow result}`` for several
        starts (e.g. {"up": ..., "random": ...}).
    size : int
        L.
    tail_fraction : float in (0, 1]
        The fixed point is the mean over the last ``round(tail_fraction * n_steps)`` steps
        (at least 1): per-chain time averages, then mean and standard error over chains.
    n_sigma : float
        Two starts converged if their tail energies agree within n_sigma combined standard
        errors.

    Returns
    -------
    dict
        For one result: ``energy_per_spin`` (+ ``_error``), ``abs_magnetization`` (+ ``_error``),
        ``energy_drift_in_tail`` (mean E over the second half of the tail minus the first half;
        far from 0 means the flow has not settled), ``effective_temperature`` (J / k_B,
        ``effective_temperature``; inf for E >= 0), ``effective_temperature_range`` (T at
        E -+ error), ``n_tail_steps``.
        For several: ``starts`` {name: the above}, ``max_energy_difference`` (largest |E_a - E_b|
        over pairs of starts), its ``max_energy_difference_sigma`` (in combined standard errors)
        and ``converged`` (bool: every pair within n_sigma).
    """
    size = _check_size(size)
    if not 0 < tail_fraction <= 1:
        raise IsingRGError(f"tail_fraction must be in (0, 1], got {tail_fraction!r}")
    if "energy_per_spin_chains" in result:
        return _tail_summary(result, size, tail_fraction)
    if not result:
        raise IsingRGError("no flow results given")
    summaries = {str(name): _tail_summary(r, size, tail_fraction) for name, r in result.items()}
    names = list(summaries)
    worst_difference, worst_sigma, converged = 0.0, 0.0, True
    for a_index, a in enumerate(names):
        for b in names[a_index + 1 :]:
            sa, sb = summaries[a], summaries[b]
            difference = abs(sa["energy_per_spin"] - sb["energy_per_spin"])
            combined = math.hypot(sa["energy_per_spin_error"], sb["energy_per_spin_error"])
            if difference > 1e-12:
                sigma = difference / combined if combined > 0 else math.inf
            else:
                sigma = 0.0  # identical (e.g. deterministic flows reaching the same state)
            worst_difference = max(worst_difference, difference)
            worst_sigma = max(worst_sigma, sigma) if not math.isnan(sigma) else math.nan
            converged = converged and bool(sigma <= n_sigma)
    return {
        "starts": summaries,
        "max_energy_difference": float(worst_difference),
        "max_energy_difference_sigma": float(worst_sigma),
        "converged": bool(converged),
        "n_sigma": float(n_sigma),
    }

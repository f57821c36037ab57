"""The end point of an RBM flow (``ising_rg.diagnostics.rbm_flow.rbm_flow``), read as a temperature.

``flow_temperatures`` reads the window of steps its R-hat judged from E, |m| and C separately
(``ising_rg.diagnostics.thermometry.ising_state``) and says whether it is an Ising state at all;
``flow_fixed_point`` is the older summary of separate fixed-length runs (tail means and the
E-temperature only).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ising_rg.checks import check_integer
from ising_rg.diagnostics.thermometry import (
    AbsMagnetizationCalibration,
    abs_magnetization_calibration,
    effective_temperature,
    ising_state,
)
from ising_rg.errors import IsingRGError
from ising_rg.estimators.convergence import split_rhat, window_start

__all__ = ["flow_fixed_point", "flow_temperatures"]


def _chain_average(series: np.ndarray) -> tuple[float, float]:
    """Mean of per-chain time averages of (n_steps, n_chains) and its standard error.

    Steps within a chain are correlated, chains are independent: the error is the spread of
    the chains' averages over sqrt(n_chains) (NaN for one chain).
    """
    per_chain = series.mean(axis=0)
    n_chains = per_chain.size
    error = per_chain.std(ddof=1) / math.sqrt(n_chains) if n_chains > 1 else math.nan
    return float(per_chain.mean()), float(error)


def _window_statistics(result: Mapping[str, Any], size: int,
                       first: int | None = None) -> dict[str, Any]:
    """Means and errors of E/N, |m| and N var(E/N) over the judged window (independent chains),
    from step ``first`` on (default: the second half, the window R-hat judged)."""
    energy = np.asarray(result["energy_per_spin_chains"], dtype=np.float64)
    abs_m = np.asarray(result["abs_magnetization_chains"], dtype=np.float64)
    first = window_start(energy.shape[0] - 1) if first is None else first
    energy, abs_m = energy[first:], abs_m[first:]
    n_window, n_chains = energy.shape

    # N var(E/N) pooled over the window and the chains; jackknife leaving out one chain at a
    # time, from per-chain sums of the deviations (O(n_chains), no refits).
    deviation = energy - energy.mean()
    sums, squares = deviation.sum(axis=0), (deviation**2).sum(axis=0)
    total = n_chains * n_window
    n_sites = size * size
    fluctuation = n_sites * (squares.sum() / total - (sums.sum() / total) ** 2)
    if n_chains > 1:
        rest = total - n_window
        leave_out = n_sites * ((squares.sum() - squares) / rest
                               - ((sums.sum() - sums) / rest) ** 2)
        fluctuation_error = math.sqrt(
            (n_chains - 1) / n_chains * np.sum((leave_out - leave_out.mean()) ** 2))
    else:
        fluctuation_error = math.nan
    return {
        "window": [int(first), int(first + n_window - 1)],
        "energy_per_spin": dict(zip(("mean", "error"), _chain_average(energy), strict=True)),
        "abs_magnetization": dict(zip(("mean", "error"), _chain_average(abs_m), strict=True)),
        "energy_fluctuation": {"mean": float(fluctuation), "error": float(fluctuation_error)},
    }


def flow_temperatures(
    result: Mapping[str, Any],
    size: int,
    calibration: AbsMagnetizationCalibration | None = None,
    calibration_seed: int = 0,
    n_sigma: float = 3.0,
) -> dict[str, Any]:
    """The temperature of a flow's end point from E, |m| and C, and whether it is an Ising state.

    The end point is the window of steps ceil(T/2) .. T of an ``rbm_flow`` result (the same
    window its R-hat judged), over all chains: E/N and |m| as the mean of per-chain time
    averages with their standard error over chains, N var(E/N) pooled over the window with a
    leave-one-chain-out jackknife error. The three are read by ``thermometry.ising_state``.

    Parameters
    ----------
    result : dict
        An ``rbm_flow`` result, ideally run with ``check_every`` until converged.
    size : int
        L.
    calibration : AbsMagnetizationCalibration, optional
        The |m| table at this L; default ``abs_magnetization_calibration(size,
        calibration_seed)`` (computed once per process).
    calibration_seed : int
        Seed of the default table.
    n_sigma : float
        Agreement threshold of the verdict.

    Returns
    -------
    dict
        ``window``: [first, last] step; ``energy_per_spin``, ``abs_magnetization``,
        ``energy_fluctuation``: {mean, error}; ``rhat``, ``converged``, ``n_steps`` from the
        flow; and every key of ``thermometry.ising_state`` (``temperature_from_energy``,
        ``temperature_from_abs_magnetization``, ``temperature_from_specific_heat``,
        ``specific_heat``, ``best_temperature``, ``z_at_best``, ``max_abs_z``,
        ``ising_state``, ``verdict``, ``n_sigma``). If the flow did not converge,
        ``ising_state`` is None and ``verdict`` says "not converged": the numbers then
        describe no stationary state.
    """
    size = check_integer(size, "size", 2)
    if calibration is None:
        calibration = abs_magnetization_calibration(size, calibration_seed)
    stats = _window_statistics(result, size)
    state = ising_state(
        *((stats[name]["mean"], stats[name]["error"])
          for name in ("energy_per_spin", "abs_magnetization", "energy_fluctuation")),
        size=size, calibration=calibration, n_sigma=n_sigma,
    )
    rhat = dict(result["rhat"])
    converged = bool(result["converged"])
    n_steps = int(np.shape(result["energy_per_spin_chains"])[0] - 1)
    if not converged:
        state["ising_state"] = None
        state["verdict"] = (
            f"not converged: split R-hat E {rhat['energy_per_spin']:.3f}, "
            f"|m| {rhat['abs_magnetization']:.3f} after {n_steps} steps (threshold "
            f"{result['settings']['rhat_threshold']:g}); no temperature is read"
        )
    return {**stats, "rhat": rhat, "converged": converged, "n_steps": n_steps, **state}


def _tail_summary(result: Mapping[str, Any], size: int, tail_fraction: float) -> dict[str, Any]:
    energy = np.asarray(result["energy_per_spin_chains"], dtype=np.float64)
    abs_m = np.asarray(result["abs_magnetization_chains"], dtype=np.float64)
    n_steps = energy.shape[0] - 1
    n_tail = max(1, int(round(tail_fraction * n_steps)))
    e_mean, e_error = _chain_average(energy[-n_tail:])
    m_mean, m_error = _chain_average(abs_m[-n_tail:])
    rhat = _tail_rhat([energy[-n_tail:]], [abs_m[-n_tail:]])
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
        "rhat": rhat,
    }


def _tail_rhat(energy_tails: list[np.ndarray], abs_m_tails: list[np.ndarray]) -> dict[str, float]:
    """Split R-hat over the chains of every tail (n_tail, n_chains), cut to the shortest tail."""
    n_tail = min(tail.shape[0] for tail in energy_tails)
    if n_tail < 4:
        return {"energy_per_spin": math.nan, "abs_magnetization": math.nan}
    return {
        name: split_rhat(np.concatenate([tail[-n_tail:] for tail in tails], axis=1).T)
        for name, tails in (("energy_per_spin", energy_tails), ("abs_magnetization", abs_m_tails))
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
        E -+ error), ``n_tail_steps``, ``rhat`` ({energy_per_spin, abs_magnetization}: split
        R-hat over the chains on the tail; NaN for tails shorter than 4 steps).
        For several: ``starts`` {name: the above}, ``rhat`` (split R-hat over the tails of all
        starts together, cut to the shortest tail), ``max_energy_difference`` (largest
        |E_a - E_b| over pairs of starts), its ``max_energy_difference_sigma`` (in combined
        standard errors) and ``converged`` (bool: every pair within n_sigma; the older test,
        on E only; ``rhat`` below 1.05 is the stricter one).
    """
    size = check_integer(size, "size", 2)
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
    tails = [
        tuple(np.asarray(run[key], dtype=np.float64)[-summary["n_tail_steps"] :]
              for key in ("energy_per_spin_chains", "abs_magnetization_chains"))
        for run, summary in zip(result.values(), summaries.values(), strict=True)
    ]
    return {
        "starts": summaries,
        "rhat": _tail_rhat([tail[0] for tail in tails], [tail[1] for tail in tails]),
        "max_energy_difference": float(worst_difference),
        "max_energy_difference_sigma": float(worst_sigma),
        "converged": bool(converged),
        "n_sigma": float(n_sigma),
    }


def equilibrium_temperatures(equilibrium: Mapping[str, Any], size: int,
                             calibration: AbsMagnetizationCalibration | None = None,
                             calibration_seed: int = 0, n_sigma: float = 3.0) -> dict[str, Any]:
    """The temperature of an RBM's equilibrium, the end point of its flow, from E, |m| and C.

    Iterating v -> h -> v with one RBM is Gibbs sampling of it: the flow ends at the RBM's
    equilibrium, which ``ising_rg.diagnostics.equilibrium.rbm_equilibrium`` finds and weighs
    even where no chain from the data gets there. Its ensemble (the converged chains, or the
    chains of a mode holding nearly all the weight) is read as ``flow_temperatures`` reads a
    flow's window (every draw of the ensemble; the sampler's tuning is its warm-up). A network
    whose equilibrium is ordered reads T near 0.

    Parameters
    ----------
    equilibrium : ``rbm_equilibrium``'s result (with its ``ensemble``)
    size : int, L
    calibration, calibration_seed, n_sigma : as in ``flow_temperatures``

    Returns
    -------
    dict: ``modes``, ``ensemble_from``, ``converged``, ``rhat`` and, when there is an
    ensemble, ``energy_per_spin``, ``abs_magnetization``, ``energy_fluctuation`` and every
    key of ``thermometry.ising_state``; without one, ``ising_state`` None and a ``verdict``
    that says why.
    """
    size = check_integer(size, "size", 2)
    out = {"modes": equilibrium["modes"], "ensemble_from": equilibrium["ensemble_from"],
           "converged": bool(equilibrium["converged"]), "rhat": dict(equilibrium["rhat"]),
           "n_steps": int(equilibrium["n_sweeps"])}
    ensemble = equilibrium.get("ensemble")
    if ensemble is None:
        return {**out, "ising_state": None,
                "verdict": f"no single equilibrium: {equilibrium['ensemble_from']}"}
    if calibration is None:
        calibration = abs_magnetization_calibration(size, calibration_seed)
    series = {"energy_per_spin_chains": np.asarray(ensemble["energy_per_spin"]).T,
              "abs_magnetization_chains": np.abs(np.asarray(ensemble["magnetization"])).T}
    stats = _window_statistics(series, size, first=0)  # every draw of the ensemble
    stats.pop("window")
    state = ising_state(
        *((stats[name]["mean"], stats[name]["error"])
          for name in ("energy_per_spin", "abs_magnetization", "energy_fluctuation")),
        size=size, calibration=calibration, n_sigma=n_sigma,
    )
    return {**out, **stats, **state}

"""The equilibrium of an RBM: its modes with their weights, and what it samples there.

A trained RBM can put almost all its weight on a mode that chains started from the data never
visit (the paper recipe's first RBM at L = 40: the all-down state, e^417 times the weight of
the basin the data's chains stay in), so a Gibbs chain's end point is not the model's
equilibrium, and split R-hat cannot see a mode no chain visits. ``rbm_equilibrium`` looks for
the modes and weighs them (docs/partition.md):

1. ``log_partition`` (``ising_rg.rbm.log_partition``): chains from all-up, all-down, data and
   random starts find the modes; mixture AIS over bases fitted to them weighs each (its
   shares), with the hard check ln Z >= max -F over every visited state; it also resamples
   approximately equilibrium states in proportion to their weights.
2. ``parallel_tempering`` (``ising_rg.rbm.tempering``) from the same four kinds of start and
   from some of those equilibrium states, until rank-normalized split R-hat < 1.01 and bulk
   ESS >= 400 on E/N, m, |m| and F, or the sweep budget.
3. ``equilibrium_modes``: converged chains weigh the modes themselves; otherwise (a
   first-order jump that no ladder crosses) the AIS shares weigh the chain modes.

The equilibrium ensemble is then the chains of the converged run, or those of the mode that
holds at least ``DOMINANT_WEIGHT`` of the weight; if no mode does, there is no single
equilibrium ensemble to measure, and the result says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ising_rg.diagnostics.state_measures import Measure
from ising_rg.rbm.log_partition import log_partition
from ising_rg.rbm.tempering import equilibrium_modes, parallel_tempering
from ising_rg.sampling.observables import thermodynamics
from ising_rg.seeding import seed_stream

__all__ = ["AIS_STARTS", "DOMINANT_WEIGHT", "rbm_equilibrium"]

#: A mode holding at least this share of the weight is the equilibrium ensemble by itself.
DOMINANT_WEIGHT = 0.99
#: Equilibrium states of the mixture AIS that start parallel-tempering ladders of their own.
AIS_STARTS = 8
#: Fewest sweeps between convergence checks (and so the smallest budget): the judged window,
#: the second half of the sweeps, then holds enough draws per split chain for rank R-hat.
MIN_BLOCK = 100


def _ensemble_chains(result, modes: dict[str, Any]) -> tuple[np.ndarray | None, str]:
    """The chains whose draws are the equilibrium ensemble, and how they were chosen."""
    n_chains = len(result.kinds)
    if result.converged:
        return np.arange(n_chains), "all chains (converged)"
    heaviest = max(modes["modes"], key=lambda mode: mode.get("weight") or 0.0)
    weight = heaviest.get("weight") or 0.0
    if weight >= DOMINANT_WEIGHT and heaviest.get("chains"):
        return (np.asarray(heaviest["chains"], dtype=np.int64),
                f"the chains of the mode holding {weight:.6g} of the weight ({modes['source']})")
    if heaviest.get("weight") is None:
        return None, (f"{len(modes['modes'])} modes, not weighed ({modes['source']}): no "
                      "single equilibrium ensemble")
    return None, (f"no mode holds {DOMINANT_WEIGHT:g} of the weight (largest {weight:.3g}, "
                  f"{modes['source']}): no single equilibrium ensemble")


def rbm_equilibrium(rbm: Any, data: np.ndarray, measure: Measure, coupling: float,
                    n_sites: int, *, seed: int = 0, max_sweeps: int = 2000) -> dict[str, Any]:
    """The modes, weights and equilibrium thermodynamics of an RBM (module docstring).

    Parameters
    ----------
    rbm : fitted BernoulliRBM (a DBN's top RBM for what the DBN generates)
    data : array-like (n, n_visible), the data at the RBM's visible layer (starts and a base)
    measure : ``ising_rg.diagnostics.state_measures`` measure of the RBM's states as spins
        (E/N and m of an L x L torus: the RBM's own visible layer, or a DBN's down pass)
    coupling : float, K of the data (for C and chi of the ensemble)
    n_sites : int, N = L^2
    seed : int
    max_sweeps : int, the parallel-tempering sweep budget after tuning (at least ``MIN_BLOCK``)

    Returns
    -------
    dict (JSON-ready but for ``ensemble``): ``converged``, ``stopped``, ``n_sweeps``,
    ``rhat``, ``bulk_ess``, ``sampler`` (ladder, swap acceptance, barrier, seconds),
    ``by_start``, ``modes`` (``equilibrium_modes``), ``ensemble_from`` (which chains, or why
    none), ``thermodynamics`` (``thermodynamics`` of the ensemble's E/N and m, or None),
    ``log_z`` (the checked estimate's dict), ``ensemble`` ({"energy_per_spin", "magnetization"}
    float64 arrays (n_chains, n_draws), or None).
    """
    estimate = log_partition(rbm, data, seed=int(seed_stream(seed, 0).generate_state(1)[0]))
    states = estimate.equilibrium_states
    extra = {"ais": states[:AIS_STARTS]} if len(states) else None
    block = max(MIN_BLOCK, min(500, int(max_sweeps)))
    result = parallel_tempering(
        rbm, data, measure=measure, seed=int(seed_stream(seed, 1).generate_state(1)[0]),
        extra_starts=extra, max_sweeps=max(block, int(max_sweeps)), block_sweeps=block)
    modes = equilibrium_modes(result, estimate)
    chains, ensemble_from = _ensemble_chains(result, modes)
    ensemble = thermo = None
    if chains is not None:
        ensemble = {name: np.asarray(result.series[name])[chains]
                    for name in ("energy_per_spin", "magnetization")}
        thermo = thermodynamics(ensemble["energy_per_spin"].ravel(),
                                ensemble["magnetization"].ravel(), coupling, n_sites)
    summary = result.to_dict()
    return {
        "converged": result.converged,
        "stopped": result.stopped,
        "n_sweeps": result.n_sweeps,
        "rhat": result.rhat,
        "bulk_ess": result.bulk_ess,
        # no wall times: the same seed gives the same file, bit for bit
        "sampler": {key: summary[key] for key in (
            "betas", "swap_acceptance", "barrier", "round_trip_rate", "tune_sweeps",
            "max_sweeps", "block_sweeps")},
        "by_start": result.by_start,
        "modes": modes,
        "ensemble_from": ensemble_from,
        "thermodynamics": thermo,
        "log_z": {k: v for k, v in estimate.to_dict().items() if k != "seconds"},
        "ensemble": ensemble,
    }

"""The extra measurements a study job runs beside the analysis (``analysis.extras``):

* ``couplings``: the first RBM's effective couplings by displacement
  (``couplings_by_displacement``);
* ``flow``: the first RBM's flow v -> h -> v, its path from every training temperature and its
  end point, the RBM's equilibrium (``_flow``);
* ``free_energy``: the variational bound per depth against the exact Ising log-likelihood, on
  the rows training did not see (``free_energy_by_depth``);
* ``rsmi``: an RSMI filter trained on the job's data (shared by every job on the same data
  set: ``<root>/filters/``), the information each block rule keeps about its environment
  beside the DBN's first-layer units (``environment_comparison``), and the filter's units
  scored like a layer (``rsmi_reference``);
* ``mcrg``: the RG measured as RG on the job's data: coarse couplings per level and y_t, y_h
  of majority rule, decimation, the job's network (when its layers are the block lattices)
  and, with ``rsmi``, the RSMI filter (``mcrg_results``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ising_rg.errors import IsingRGError
from ising_rg.experiments.jobs import Job, data_key
from ising_rg.io.jsonfile import to_json

__all__ = ["FLOW_CHAINS", "FLOW_CHECK_EVERY", "FLOW_MAX_STEPS", "extra_measurements"]

#: The RBM flow's chains per start group (Monte Carlo configurations of each training
#: temperature, and random spins), R-hat check interval and step budget (``rbm_flow``), also
#: the equilibrium sampler's sweep budget.
FLOW_CHAINS = 100
FLOW_CHECK_EVERY = 50
FLOW_MAX_STEPS = 2000
#: Data configurations per training temperature that start the equilibrium sampler's chains
#: and its AIS base (the flow's end point).
FLOW_EQUILIBRIUM_ROWS = 2000


def _flow(job: Job, first, parts: list) -> dict[str, Any]:
    """The first RBM's flow (v -> h -> v) and where it ends.

    The path: chains from Monte Carlo configurations of every training temperature and from
    random spins, run together until split R-hat < 1.05 over all chains or
    ``FLOW_MAX_STEPS`` (``rbm_flow``; ``chains_end``: the chains' window read as a
    temperature). The end point: iterating v -> h -> v is Gibbs sampling of the RBM, so the
    flow ends at its equilibrium, which chains from the data may never reach: it is found and
    weighed (``rbm_equilibrium``: modes by mixture AIS, parallel tempering from all-up,
    all-down, data and random starts) and read as a temperature from E, |m| and C
    (``equilibrium_temperatures``; an ordered equilibrium reads T near 0)."""
    from ising_rg.diagnostics import rbm_flow as flow
    from ising_rg.diagnostics.equilibrium import rbm_equilibrium
    from ising_rg.diagnostics.flow_readout import equilibrium_temperatures
    from ising_rg.diagnostics.state_measures import lattice_measure
    from ising_rg.spins import spins_to_visible

    starts: dict[str, Any] = {f"K={part.coupling:g}": part.spins[:FLOW_CHAINS]
                              for part in parts}
    starts["random"] = "random"
    run = flow.rbm_flow(first, job.size, n_chains=FLOW_CHAINS, n_steps=FLOW_MAX_STEPS,
                        start=starts, seed=job.train_seed, check_every=FLOW_CHECK_EVERY)
    data = np.concatenate([spins_to_visible(part.spins[:FLOW_EQUILIBRIUM_ROWS])
                           for part in parts])
    equilibrium = rbm_equilibrium(first, data, lattice_measure(job.size), job.coupling,
                                  job.size**2, seed=job.train_seed,
                                  max_sweeps=FLOW_MAX_STEPS)
    return {
        "settings": run["settings"],
        "step": run["step"],
        "energy_per_spin": run["energy_per_spin"],
        "abs_magnetization": run["abs_magnetization"],
        "by_start": run["by_start"],
        "rhat_history": run["rhat_history"],
        "chains_end": flow.flow_temperatures(run, job.size),
        "end_point": to_json({**equilibrium_temperatures(equilibrium, job.size),
                              "log_z": equilibrium["log_z"],
                              "sampler": equilibrium["sampler"]}),
    }


def _rsmi_filter(job: Job, spins: np.ndarray, root: str, block_size: int = 2):
    """The RSMI filter of b x b blocks of the job's measured data set, trained once per data
    set and kept in ``<root>/filters/<data key>_b<b>.h5`` (every job on the same data shares
    it)."""
    from ising_rg.io.filters import load_filter, save_filter
    from ising_rg.rg.rsmi import RSMIFilter

    options = next(o for o in job.data_options() if o.coupling == job.coupling)
    path = Path(root) / "filters" / f"{data_key(options)}_b{block_size}.h5"
    if path.is_file():
        return load_filter(path, block_size=block_size)
    model = RSMIFilter(block_size=block_size, random_state=job.data_seed).fit(spins)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the data set's file key stands for its SHA-256 (a second writer writes the same bytes)
    save_filter(model, path, data_sha256=_data_sha256(root, options), overwrite=True)
    return model


def _data_sha256(root: str, options) -> str:
    from ising_rg.experiments.jobs import data_path
    from ising_rg.io.models import file_sha256

    return file_sha256(data_path(root, options))


def _rsmi(job: Job, network, spins: np.ndarray, rsmi_filter, wide_filter) -> dict[str, Any]:
    """The RSMI control (``ising_rg.rg.rsmi_comparison.rsmi_control``) on the job's data."""
    from ising_rg.rg.rsmi_comparison import rsmi_control

    return to_json(rsmi_control(spins, rsmi_filter, network, job.coupling, seed=job.train_seed,
                                wide_filter=wide_filter))


def _mcrg(job: Job, network, spins: np.ndarray, rsmi_filter) -> dict[str, Any]:
    """Majority rule, decimation, the network (if its layers are the block lattices) and the
    RSMI filter (if trained) through the MCRG measurements on the job's data."""
    from ising_rg.pipeline import mcrg_coarse_grainers
    from ising_rg.rg.mcrg_output import mcrg_results

    coarse_grainers = mcrg_coarse_grainers(spins, (), seed=job.train_seed)
    note = None
    try:
        coarse_grainers += mcrg_coarse_grainers(spins, [("dbn", network)],
                                                seed=job.train_seed)[2:]
    except IsingRGError as error:  # e.g. layers that are not the block lattices
        note = str(error)
    if rsmi_filter is not None:
        coarse_grainers.append(rsmi_filter)
    result = mcrg_results(spins, coarse_grainers, seed=job.train_seed, coupling=job.coupling)
    result["dbn_note"] = note
    return to_json(result)


def extra_measurements(job: Job, network, parts: list, measured: int, held_out: np.ndarray,
                       root: str) -> dict[str, Any]:
    """The job's extra measurements (module docstring), as it asks.

    ``parts`` are the job's data sets (one per training temperature), ``measured`` the index
    of the one at the job's coupling; ``held_out`` its rows training did not see.
    """
    from ising_rg.diagnostics import couplings
    from ising_rg.rbm import bound
    from ising_rg.spins import spins_to_visible

    spins = parts[measured].spins
    visible = spins_to_visible(spins)
    out: dict[str, Any] = {}
    first = network.rbms_[0]
    if "couplings" in job.extras:
        out["couplings"] = couplings.couplings_by_displacement(
            first, visible, job.size, max_distance=min(4, job.size // 2 - 1),
            true_coupling=job.coupling, seed=job.train_seed)
    if "flow" in job.extras:
        out["flow"] = _flow(job, first, parts)
    if "free_energy" in job.extras:
        # scored on rows training did not see (a bound on training rows mixes in overfitting)
        out["free_energy"] = bound.free_energy_by_depth(network, visible[held_out],
                                                        job.coupling, seed=job.train_seed)
    rsmi_filter = _rsmi_filter(job, spins, root) if "rsmi" in job.extras else None
    if rsmi_filter is not None:
        try:  # the 4 x 4 filter is shown, not measured: a lattice too small for it is noted
            wide, wide_note = _rsmi_filter(job, spins, root, 4), None
        except IsingRGError as error:
            wide, wide_note = None, str(error)
        out["rsmi"] = {**_rsmi(job, network, spins, rsmi_filter, wide), "filter_4_note": wide_note}
    if "mcrg" in job.extras:
        out["mcrg"] = _mcrg(job, network, spins, rsmi_filter)
    return out

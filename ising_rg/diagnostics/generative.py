"""What the DBN generates and reconstructs, and whether its generating chains converged.

* ``generative_chains``: Gibbs chains in the DBN's top RBM from independent starts (data
  sampled up, and random), each state sent down the directed layers by ancestral sampling
  (``DBN.sample_down``, binary at every layer), run until the split R-hat of E/N and |m| of
  the visible configurations is below 1.05 or the step budget is spent; ``converged``
  travels with the numbers.
* ``generative_quality``: E, |m|, C, chi and U4 of those configurations against the Monte
  Carlo data and exact values.
* ``reconstruction_quality``: the same for data configurations sent up to each layer and back
  down (mean field, binarised).
* ``reconstruction_bound``: one-step stochastic reconstructions through the first RBM, what
  the DBN would generate if its upper layers modelled the first layer's hidden states
  perfectly (the bound on its generative quality).

The DBN is duck-typed as in ``ising_rg.rg.analysis``. Seeds are ``numpy.random.SeedSequence``
objects or integers handed in by the caller, so every random choice has its own stream.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ising_rg.checks import check_integer
from ising_rg.errors import IsingRGError
from ising_rg.estimators.convergence import RHAT_THRESHOLD, rhat_converged, window_rhat
from ising_rg.sampling.observables import (
    energy_per_spin,
    magnetization_per_spin,
    thermodynamics,
)
from ising_rg.seeding import as_generator, bernoulli
from ising_rg.spins import spins_to_visible

__all__ = [
    "THERMO_NAMES",
    "generative_chains",
    "generative_quality",
    "reconstruction_bound",
    "reconstruction_quality",
]

THERMO_NAMES = (
    "energy_per_spin",
    "abs_magnetization",
    "specific_heat",
    "susceptibility",
    "binder_cumulant",
)
#: Measurements of the generative chains over the step budget (deeper DBNs; a one-layer DBN,
#: whose chain state is the visible layer itself, is measured at every step).
GENERATIVE_MEASUREMENTS = 100
#: R-hat is checked every this many measurements, from MIN_MEASUREMENTS on.
CHECK_EVERY = 10
MIN_MEASUREMENTS = 20


def _binarize(probabilities: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Sample v ~ Bernoulli(p) per unit and return spins (n, L, L) int8 (binary p unchanged)."""
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1, size, size)
    if np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise IsingRGError("the model returned visible probabilities outside [0, 1]")
    return 2 * bernoulli(p, rng, dtype=np.int8) - 1


def _thermo(spins: np.ndarray, coupling: float) -> dict[str, dict[str, float]]:
    n_sites = spins.shape[1] * spins.shape[2]
    return thermodynamics(energy_per_spin(spins), magnetization_per_spin(spins), coupling, n_sites)


def _measurement_interval(n_layers: int, max_steps: int) -> int:
    if n_layers == 1:
        return 1
    return max(1, max_steps // GENERATIVE_MEASUREMENTS)


def generative_chains(
    dbn,
    data_visible: np.ndarray,
    size: int,
    *,
    n_chains: int,
    max_steps: int,
    seed: Any = 0,
    measure_seed: Any = 1,
    thin: int | None = None,
    rhat_threshold: float = RHAT_THRESHOLD,
) -> dict[str, Any]:
    """Gibbs chains in the DBN's top RBM from independent starts, measured on the visible layer.

    Half the chains (rounded up) start from data configurations (evenly spaced rows) sampled
    up to the top RBM's visible layer (``DBN.sample_up``), the others from uniform random
    {0, 1} states there. Every ``thin`` Gibbs steps each chain's state is sent down the
    directed layers (``DBN.sample_down``, binary at every layer), binarised, and its E/N
    and |m| recorded. Every ``CHECK_EVERY`` measurements (from ``MIN_MEASUREMENTS`` on) the
    split R-hat of E/N and of |m| over all chains, on the second half of the measurements so
    far (``window_rhat``), is computed; the chains stop when both are below
    ``rhat_threshold`` or after ``max_steps`` steps. Checking draws no random numbers.

    Parameters
    ----------
    dbn : fitted DBN (``rbms_``, ``sample_up``, ``sample_down``) over L*L visible units
    data_visible : ndarray, shape (n, L*L), {0, 1}: the data the first chains start from
    size : int, L
    n_chains : int >= 2
    max_steps : int >= 0, the step budget (Gibbs steps in the top RBM)
    seed, measure_seed : streams of the chains (starts, Gibbs, downward pass) and of the
        measurement binarisation
    thin : Gibbs steps between measurements; default 1 for a one-layer DBN (its chain state
        is a visible configuration), else ``max_steps // GENERATIVE_MEASUREMENTS``
    rhat_threshold : float > 1

    Returns
    -------
    dict: ``energy_per_spin``, ``magnetization`` (float64, the window's measurements pooled
    chain by chain, each chain's in time order: the series for ``thermodynamics``);
    ``rhat`` {``energy_per_spin``, ``abs_magnetization``} (NaN if the window is shorter than
    4 measurements), ``converged``; ``by_start`` {``data``, ``random``}: window means of
    E/N and |m| of each kind of start; ``rhat_history`` (one entry per check);
    ``n_chains``, ``n_steps`` (run), ``max_steps``, ``thin``, ``n_measured``
    (measurements in the window, per chain).
    """
    n_chains = check_integer(n_chains, "n_chains", 2)
    max_steps = check_integer(max_steps, "max_steps", 0)
    if not rhat_threshold > 1.0:
        raise IsingRGError(f"rhat_threshold must be > 1, got {rhat_threshold!r}")
    thin = (_measurement_interval(len(dbn.rbms_), max_steps) if thin is None
            else check_integer(thin, "thin", 1))
    rng = as_generator(seed)
    n_data = (n_chains + 1) // 2
    v_top = _starting_states(dbn, data_visible, n_chains, n_data, rng)
    energy, magnetization, history = _run_chains(
        dbn, v_top, size, max_steps // thin, thin, rhat_threshold, rng,
        as_generator(measure_seed))
    n_measured = energy.shape[0] - 1
    rhat = _chain_rhat(energy, magnetization)
    window = slice((n_measured + 1) // 2, n_measured + 1)  # as window_rhat's
    e_window, m_window = energy[window], magnetization[window]
    return {
        "energy_per_spin": e_window.T.ravel(),
        "magnetization": m_window.T.ravel(),
        "rhat": rhat,
        "converged": rhat_converged(rhat, rhat_threshold),
        "by_start": _means_by_start(e_window, m_window, n_data),
        "rhat_history": history,
        "n_chains": n_chains,
        "n_steps": n_measured * thin,
        "max_steps": max_steps,
        "thin": thin,
        "n_measured": int(e_window.shape[0]),
    }


def _starting_states(dbn, data_visible: np.ndarray, n_chains: int, n_data: int,
                     rng: np.random.Generator) -> np.ndarray:
    """The chains' states (n_chains, n_top_visible) in the top RBM: ``n_data`` evenly spaced
    data rows sampled up the DBN, then uniform random {0, 1} states."""
    rows = np.round(np.linspace(0, len(data_visible) - 1, n_data)).astype(np.int64)
    return np.concatenate([
        dbn.sample_up(data_visible[rows], len(dbn.rbms_) - 1, rng),
        bernoulli(0.5, rng, shape=(n_chains - n_data, dbn.rbms_[-1].n_visible)),
    ])


def _run_chains(dbn, v_top: np.ndarray, size: int, max_measurements: int, thin: int,
                rhat_threshold: float, rng: np.random.Generator,
                measure_rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray, list[dict[str, float]]]:
    """Run the top RBM's chains ``thin`` Gibbs steps at a time, measuring E/N and m of each
    state sent down, until the R-hat check passes or ``max_measurements`` are taken.

    Returns E/N and m, (n_measured + 1, n_chains) float64 each (row 0: the starting states),
    and the R-hat checks, one dict per check.
    """
    top = dbn.rbms_[-1]
    energy = np.empty((max_measurements + 1, v_top.shape[0]))
    magnetization = np.empty_like(energy)

    def measure(index: int, state: np.ndarray) -> None:
        spins = _binarize(dbn.sample_down(state, rng), size, measure_rng)
        energy[index] = energy_per_spin(spins)
        magnetization[index] = magnetization_per_spin(spins)

    measure(0, v_top)
    history = []
    n_measured = max_measurements
    for index in range(1, max_measurements + 1):
        v_top = top.gibbs(v_top, thin, rng)
        measure(index, v_top)
        if index >= MIN_MEASUREMENTS and index % CHECK_EVERY == 0:
            rhat = _chain_rhat(energy[: index + 1], magnetization[: index + 1])
            history.append({"step": index * thin, **rhat})
            if rhat_converged(rhat, rhat_threshold):
                n_measured = index
                break
    return energy[: n_measured + 1], magnetization[: n_measured + 1], history


def _means_by_start(e_window: np.ndarray, m_window: np.ndarray,
                    n_data: int) -> dict[str, dict[str, float]]:
    """Window means of E/N and |m| over the data-started chains (the first ``n_data``
    columns) and over the random-started ones (a kind with no chain is left out)."""
    return {
        name: {"energy_per_spin": float(e_window[:, part].mean()),
               "abs_magnetization": float(np.abs(m_window[:, part]).mean())}
        for name, part in (("data", slice(0, n_data)), ("random", slice(n_data, None)))
        if e_window[:, part].size
    }


def _chain_rhat(energy: np.ndarray, magnetization: np.ndarray) -> dict[str, float]:
    return window_rhat({"energy_per_spin": energy, "abs_magnetization": np.abs(magnetization)})


def generative_quality(
    dbn,
    spins: np.ndarray,
    coupling: float,
    *,
    n_generative: int,
    n_gibbs: int,
    exact: dict[str, float] | None,
    sample_seed: np.random.SeedSequence,
    binarize_seed: np.random.SeedSequence,
) -> dict[str, Any]:
    """The DBN's own samples (ancestral, binarised) against the Monte Carlo data and exact values.

    Parameters
    ----------
    dbn : trained DBN (``rbms_``, ``sample_up``, ``sample_down``)
    spins : ndarray, shape (n, L, L), {-1, +1}, the Monte Carlo data in sampling order
    coupling : float, K of the data (for C and chi)
    n_generative : int, chains (``generative_chains``; half start from data, half random)
    n_gibbs : int, the step budget of the chains
    exact : dict of exact per-spin values by name (missing names give None), or None
    sample_seed, binarize_seed : streams of the chains and of the binarisation

    Returns
    -------
    dict: per name in ``THERMO_NAMES`` {"dbn", "monte_carlo", "exact"} (each a {"mean",
    "error"} dict or a float), measured on the chains' window (the second half of their
    measurements, every chain's pooled; errors by blocking, which treats each chain's
    stretch as correlated); ``converged`` (both split R-hats below 1.05: the numbers mean
    nothing without it), ``rhat``, ``by_start``, ``rhat_history``, ``n_chains``,
    ``n_gibbs`` (steps run), ``max_gibbs`` (the budget), ``thin``, ``n_samples`` (pooled
    configurations).
    """
    size = spins.shape[-1]
    monte_carlo = _thermo(spins, coupling)
    chains = generative_chains(
        dbn, spins_to_visible(spins), size, n_chains=n_generative, max_steps=n_gibbs,
        seed=sample_seed, measure_seed=binarize_seed)
    n_sites = size * size
    dbn_thermo = thermodynamics(chains["energy_per_spin"], chains["magnetization"], coupling,
                                n_sites)
    exact = exact or {}
    generative: dict[str, Any] = {
        name: {
            "dbn": dbn_thermo[name],
            "monte_carlo": monte_carlo[name],
            "exact": exact.get(name),
        }
        for name in THERMO_NAMES
    }
    generative.update(
        converged=chains["converged"],
        rhat=chains["rhat"],
        by_start=chains["by_start"],
        rhat_history=chains["rhat_history"],
        n_chains=chains["n_chains"],
        n_gibbs=chains["n_steps"],
        max_gibbs=chains["max_steps"],
        thin=chains["thin"],
        n_samples=int(chains["energy_per_spin"].size),
    )
    return generative


def reconstruction_quality(
    dbn, originals: np.ndarray, coupling: float, binarize_seeds: list[np.random.SeedSequence]
) -> dict[str, dict[str, Any]]:
    """Data -> layer depth -> back down, binarised, for every depth.

    Parameters
    ----------
    dbn : trained DBN with ``reconstruct(X, depth)`` and ``rbms_``
    originals : ndarray, shape (n, L, L), {-1, +1}, the data configurations to reconstruct
    coupling : float, K of the data
    binarize_seeds : one stream per depth (depth 1 first)

    Returns
    -------
    dict keyed by depth ("1", "2", ...): the thermodynamics of the reconstructions (as
    ``thermodynamics``), ``spin_agreement`` with the originals, ``mean_abs_error`` of the
    probabilities, ``n_samples``.
    """
    size = originals.shape[-1]
    original_visible = spins_to_visible(originals)
    reconstructions = {}
    for depth in range(1, len(dbn.rbms_) + 1):
        probabilities = np.asarray(dbn.reconstruct(original_visible, depth), dtype=np.float64)
        recon_spins = _binarize(probabilities, size, as_generator(binarize_seeds[depth - 1]))
        reconstructions[str(depth)] = {
            **_thermo(recon_spins, coupling),
            "spin_agreement": float(np.mean(recon_spins == originals)),
            "mean_abs_error": float(np.mean(np.abs(probabilities - original_visible))),
            "n_samples": int(recon_spins.shape[0]),
        }
    return reconstructions


def reconstruction_bound(rbm, visible: np.ndarray, coupling: float, size: int,
                         seed: Any = 0) -> dict[str, dict[str, float]]:
    """Thermodynamics of one-step stochastic reconstructions through the first RBM.

    h ~ P(h | v) and v' ~ P(v' | h), binary, for each data row v. If the layers above modelled
    the distribution of h (the data sampled up) exactly, the DBN would generate exactly these
    v': their E/N, |m|, C, chi are the best the DBN can generate with this first layer.

    Parameters
    ----------
    rbm : the first RBM (``transform``, ``propagate_down``)
    visible : ndarray, shape (n, L*L), {0, 1}, data rows (in sampling order)
    coupling : float, K (for C and chi)
    size : int, L
    seed : int, SeedSequence or Generator

    Returns
    -------
    dict: ``thermodynamics``'s entries of the reconstructions
    """
    rng = as_generator(seed)
    hidden = bernoulli(rbm.transform(visible), rng, uniform_dtype=np.float32)
    return _thermo(_binarize(rbm.propagate_down(hidden), size, rng), coupling)

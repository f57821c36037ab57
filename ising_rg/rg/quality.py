"""How good a model the DBN is: its generated and reconstructed configurations, its training.

* ``generative_quality``: E, |m|, C, chi and U4 of configurations the DBN generates (ancestral
  sampling, ``DBN.sample_down``), from Gibbs chains in the top RBM run from independent starts
  (data sampled up, and random) until their split R-hat on E/N and |m| is below 1.05 or the
  step budget is spent (``generative_chains``), against the Monte Carlo data and exact values.
  ``converged`` travels with the numbers.
* ``reconstruction_quality``: the same for data configurations sent up to each layer and back
  down (mean field, binarised); ``reconstruction_bound``: one-step stochastic reconstructions
  through the first RBM, what the DBN would generate if its upper layers modelled the first
  layer's hidden states perfectly (the bound on its generative quality).
* ``training_health``: per layer the final training metrics and the log-likelihood of the
  layer's own RBM (log Z exact, or by AIS when asked for).
* ``quality_block``: the first RBM as a model of the Ising distribution (log-likelihood per
  spin and its gap to the exact Ising value, exact KL on small lattices, effective couplings)
  beside the generative thermodynamics.

The DBN is duck-typed as in ``ising_rg.rg.analysis``. Seeds are ``numpy.random.SeedSequence``
objects or integers handed in by the caller, so every random choice has its own stream.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ising_rg import exact as exact_values
from ising_rg.checks import check_integer
from ising_rg.errors import IsingRGError
from ising_rg.exact_enumeration import MAX_ENUMERATION_SIZE, enumerate_torus
from ising_rg.io.jsonfile import to_json
from ising_rg.rbm.partition import AIS_BETAS, AIS_RUNS, AIS_SEEDS, ais_estimate, exact_log_partition
from ising_rg.rg.couplings import coupling_row_sum, couplings_by_displacement
from ising_rg.rg.receptive_fields import spins_to_visible
from ising_rg.sampling.convergence import RHAT_THRESHOLD, rhat_converged, window_rhat
from ising_rg.sampling.observables import (
    energy_per_spin,
    magnetization_per_spin,
    thermodynamics,
)
from ising_rg.seeding import as_generator, bernoulli, seed_stream

THERMO_NAMES = (
    "energy_per_spin",
    "abs_magnetization",
    "specific_heat",
    "susceptibility",
    "binder_cumulant",
)
EXACT_MAX_UNITS = 25  # enumerate 2^25 states at most (~2 s for 100 x 25); AIS above
#: Measurements of the generative chains over the step budget (deeper DBNs; a one-layer DBN,
#: whose chain state is the visible layer itself, is measured at every step).
GENERATIVE_MEASUREMENTS = 100
#: R-hat is checked every this many measurements, from MIN_MEASUREMENTS on.
CHECK_EVERY = 10
MIN_MEASUREMENTS = 20
COUPLING_CONTEXTS = 20  # data configurations the quality block's couplings average over
# The training-health stream; the analysis uses streams 0-6 of the same root seed.
_TRAINING_STREAM = 7
# The quality block's streams (rows, AIS, couplings, reconstructions) under key (8, k).
_QUALITY_STREAM = 8
_ROWS, _AIS, _COUPLINGS, _RECONSTRUCTION = range(4)


def _binarize(probabilities: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Sample v ~ Bernoulli(p) per unit and return spins (n, L, L) int8 (binary p unchanged)."""
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1, size, size)
    if np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise IsingRGError("the model returned visible probabilities outside [0, 1]")
    return 2 * bernoulli(p, rng, dtype=np.int8) - 1


def _thermo(spins: np.ndarray, coupling: float) -> dict[str, dict[str, float]]:
    n_sites = spins.shape[1] * spins.shape[2]
    return thermodynamics(energy_per_spin(spins), magnetization_per_spin(spins), coupling, n_sites)


def _int_seed(seed: Any) -> int:
    """An integer seed from a SeedSequence (its first state word) or an int."""
    if isinstance(seed, np.random.SeedSequence):
        return int(seed.generate_state(1)[0])
    return int(seed)


# ------------------------------------------------------------------------ generative chains
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
    measure_rng = as_generator(measure_seed)
    top = dbn.rbms_[-1]
    n_data = (n_chains + 1) // 2
    rows = np.round(np.linspace(0, len(data_visible) - 1, n_data)).astype(np.int64)
    v_top = np.concatenate([
        dbn.sample_up(data_visible[rows], len(dbn.rbms_) - 1, rng),
        bernoulli(0.5, rng, shape=(n_chains - n_data, top.n_visible)),
    ])
    max_measurements = max_steps // thin
    energy = np.empty((max_measurements + 1, n_chains))
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
    energy, magnetization = energy[: n_measured + 1], magnetization[: n_measured + 1]
    rhat = _chain_rhat(energy, magnetization)
    window = slice((n_measured + 1) // 2, n_measured + 1)  # as window_rhat's
    e_window, m_window = energy[window], magnetization[window]
    by_start = {
        name: {"energy_per_spin": float(e_window[:, part].mean()),
               "abs_magnetization": float(np.abs(m_window[:, part]).mean())}
        for name, part in (("data", slice(0, n_data)), ("random", slice(n_data, None)))
        if e_window[:, part].size
    }
    return {
        "energy_per_spin": e_window.T.ravel(),
        "magnetization": m_window.T.ravel(),
        "rhat": rhat,
        "converged": rhat_converged(rhat, rhat_threshold),
        "by_start": by_start,
        "rhat_history": history,
        "n_chains": n_chains,
        "n_steps": n_measured * thin,
        "max_steps": max_steps,
        "thin": thin,
        "n_measured": int(e_window.shape[0]),
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


# -------------------------------------------------------------------------- log-likelihood
def _last(history: dict, name: str) -> float | None:
    """The final value of a training-history series (None if absent)."""
    values = np.asarray(history.get(name, []), dtype=float)
    return float(values[-1]) if values.size else None


def log_partition(rbm, train_inputs: np.ndarray, seed: Any, *, likelihood: bool,
                  ais: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """log Z of one RBM: exact by enumeration when the smaller layer has at most
    ``EXACT_MAX_UNITS`` units, else by AIS (``ais_estimate``, base rates from
    ``train_inputs``; ``ais`` overrides its n_runs, n_betas, n_seeds) if ``likelihood``,
    else None (not computed).

    Returns
    -------
    dict (nats): ``log_z``, ``error`` (0 for exact), ``method`` ("exact" or "AIS (...)"),
    and for AIS ``within_error``, ``seed_error``, ``estimates``, ``estimate_errors``,
    ``effective_sample_size``, ``n_runs``, ``n_betas``, ``n_seeds``; or None.
    """
    if min(rbm.weights_.shape) <= EXACT_MAX_UNITS:
        return {"log_z": float(exact_log_partition(rbm)), "error": 0.0, "method": "exact"}
    if not likelihood:
        return None
    options = {"n_runs": AIS_RUNS, "n_betas": AIS_BETAS, "n_seeds": AIS_SEEDS, **(ais or {})}
    estimate = ais_estimate(rbm, data=train_inputs, seed=_int_seed(seed), **options)
    estimate["method"] = (f"AIS ({options['n_seeds']} seeds x {options['n_runs']} runs, "
                          f"{options['n_betas']} temperatures)")
    return estimate


def _scored_rows(dbn, n_samples: int, n_rows: int,
                 rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Row indices scored per split: up to n_rows training rows (random, sorted) and the
    first n_rows held-out rows (``validation_indices_``; empty if none)."""
    validation = np.asarray(getattr(dbn, "validation_indices_", np.array([], dtype=int)),
                            dtype=np.int64)
    train = np.setdiff1d(np.arange(n_samples), validation)
    chosen = rng.choice(train, size=min(n_rows, train.size), replace=False)
    return {"train": np.sort(chosen), "validation": validation[:n_rows]}


def training_health(dbn, visible: np.ndarray, *, seed: int = 0, n_rows: int = 2000,
                    likelihood: bool = True,
                    log_partitions: dict[int, dict | None] | None = None) -> list[dict[str, Any]]:
    """Per layer: final training metrics and the log-likelihood of the layer's own RBM.

    Layer l's RBM is scored on its own input: the data for layer 1, and for l > 1 a seeded
    binary sample of P(h | v) propagated up (the log-likelihood of probabilities is not
    defined). log Z as in ``log_partition`` (exact for small layers; AIS only if
    ``likelihood``). AIS underestimates log Z in expectation, so its log-likelihoods are
    optimistic. Training and held-out rows are scored separately: their difference is the
    overfitting the free-energy gap monitors.

    Parameters
    ----------
    dbn : fitted DBN (``rbms_``, each with ``weights_``, ``transform``, ``history_``; and
        ``validation_indices_``, the held-out rows, if any)
    visible : ndarray, shape (n_samples, L*L), the training data in {0, 1}
    seed : int, root of the row choice and binarisation (stream 7) and of AIS (seed + layer)
    n_rows : int, rows scored per split at most
    likelihood : bool, run AIS where enumeration is impossible
    log_partitions : {layer: ``log_partition`` result}, already known (e.g. layer 1's from
        ``quality_block``): used instead of computing them again

    Returns
    -------
    list of dicts (JSON-ready: None where a value is absent or not finite), one per layer:
    ``reconstruction_error``, ``free_energy_gap``, ``dead_fraction`` (final epoch), ``log_z``,
    ``log_z_error``, ``log_z_method`` (None when not computed), ``log_z_seed_error`` (AIS:
    the scatter over seeds, already inside log_z_error), ``log_likelihood_train``,
    ``log_likelihood_validation`` (nats per configuration).
    """
    rng = as_generator(seed_stream(seed, _TRAINING_STREAM))
    rows = _scored_rows(dbn, len(visible), n_rows, rng)
    inputs = {name: visible[idx] for name, idx in rows.items()}
    known = log_partitions or {}
    out = []
    for layer, rbm in enumerate(dbn.rbms_, start=1):
        history = getattr(rbm, "history_", {})
        entry: dict[str, Any] = {
            "layer": layer,
            "reconstruction_error": _last(history, "reconstruction_error"),
            "free_energy_gap": _last(history, "free_energy_gap"),
            "dead_fraction": _last(history, "hidden_dead_fraction"),
        }
        result = (known[layer] if layer in known
                  else log_partition(rbm, inputs["train"], seed + layer, likelihood=likelihood))
        entry.update(log_z=None, log_z_error=None, log_z_method=None, log_z_seed_error=None)
        if result is not None:
            entry.update(log_z=result["log_z"], log_z_error=result["error"],
                         log_z_method=result["method"],
                         log_z_seed_error=result.get("seed_error"))
        for name, x in inputs.items():
            entry[f"log_likelihood_{name}"] = (
                float(np.mean(rbm.log_likelihood(x, result["log_z"])))
                if len(x) and result is not None else None)
        out.append(entry)
        # Binary samples of this layer's hidden units are the next layer's input.
        inputs = {name: bernoulli(rbm.transform(x), rng) for name, x in inputs.items()}
    return to_json(out)


def ising_log_likelihood_per_spin(coupling: float, size: int) -> float:
    """The Ising model's average log-likelihood of its own samples per spin (nats):
    -K <E>/N - ln Z / N from Kaufman's finite-torus solution (minus the entropy per spin)."""
    n_sites = size * size
    return float(-coupling * exact_values.energy_per_spin(coupling, size)
                 - exact_values.log_partition_function(coupling, size) / n_sites)


def _ising_log_p(visible: np.ndarray, coupling: float, size: int) -> np.ndarray:
    """ln p_Ising(v) = -K E(v) - ln Z (Kaufman) per row of binary visible units (n, L*L)."""
    spins = (2 * np.asarray(visible, dtype=np.int8) - 1).reshape(-1, size, size)
    total_energy = energy_per_spin(spins) * size * size
    return -coupling * total_energy - float(exact_values.log_partition_function(coupling, size))


def _mean_with_error(values: np.ndarray, extra_error: float, scale: float) -> dict[str, float]:
    """{"mean", "error"} of values / scale: the standard error of the mean over rows combined
    in quadrature with a common error (log Z's), both divided by scale."""
    sampling = float(values.std(ddof=1) / math.sqrt(values.size)) if values.size > 1 else 0.0
    return {"mean": float(values.mean() / scale),
            "error": math.hypot(sampling, extra_error) / scale}


def exact_kl_divergence(rbm, coupling: float, size: int) -> dict[str, float]:
    """KL(Ising || RBM marginal) by enumeration of all 2^(L^2) states (L <= 4), in nats.

    sum_s p_I(s) [ln p_I(s) - ln p_RBM(v(s))], with ln p_RBM = -F(v) - ln Z (both exact).

    Returns
    -------
    dict: ``nats`` (the divergence), ``per_spin`` (over N = L^2).
    """
    if size > MAX_ENUMERATION_SIZE:
        raise IsingRGError(f"exact KL needs L <= {MAX_ENUMERATION_SIZE}, got {size}")
    n_sites = size * size
    energy, _ = enumerate_torus(size)  # state j: bit i set <=> s_i = +1 <=> v_i = 1
    log_p_ising = -coupling * energy - float(exact_values.log_partition_function(coupling, size))
    states = np.arange(energy.size, dtype=np.int64)
    visible = ((states[:, None] >> np.arange(n_sites)) & 1).astype(np.float32)
    log_p_model = -rbm.free_energy(visible) - exact_log_partition(rbm)
    divergence = float(np.sum(np.exp(log_p_ising) * (log_p_ising - log_p_model)))
    return {"nats": divergence, "per_spin": divergence / n_sites}


def _first_rbm_likelihood(rbm, inputs: dict[str, np.ndarray], log_z: dict | None,
                          coupling: float, size: int) -> dict[str, Any]:
    """Log-likelihood per spin of each split and its paired gap to the Ising model's."""
    n_sites = size * size
    out: dict[str, Any] = {"log_likelihood_per_spin": {}, "gap_per_spin": {}}
    for name, x in inputs.items():
        if log_z is None or not len(x):
            out["log_likelihood_per_spin"][name] = out["gap_per_spin"][name] = None
            continue
        log_p = rbm.log_likelihood(x, log_z["log_z"])
        out["log_likelihood_per_spin"][name] = _mean_with_error(log_p, log_z["error"], n_sites)
        # paired: the same rows under both models (smaller error than the difference of means)
        out["gap_per_spin"][name] = _mean_with_error(
            log_p - _ising_log_p(x, coupling, size), log_z["error"], n_sites)
    return out


def _quality_couplings(rbm, visible: np.ndarray, size: int, coupling: float,
                       seed: int) -> dict[str, Any]:
    """K_eff at nearest and next-nearest neighbours (ratios to K) and sum_j K_ij against 4K."""
    by_displacement = couplings_by_displacement(
        rbm, visible, size, max_distance=math.sqrt(2.0), n_contexts=COUPLING_CONTEXTS,
        seed=seed, true_coupling=coupling)
    out: dict[str, Any] = {"true_coupling": float(coupling)}
    for key in ("nearest_neighbour", "next_nearest_neighbour"):
        entry = by_displacement[key]
        out[key] = {"mean": entry["mean"], "stderr": entry["stderr"],
                    "ratio_to_true": entry["mean"] / coupling,
                    "ratio_to_true_error": entry["stderr"] / coupling}
    out["row_sum"] = coupling_row_sum(rbm, visible, size, n_contexts=COUPLING_CONTEXTS,
                                      seed=seed, true_coupling=coupling)
    return out


def quality_block(
    dbn,
    spins: np.ndarray,
    coupling: float,
    *,
    generative: dict[str, Any],
    seed: int = 0,
    likelihood: bool = False,
    ais: Mapping[str, Any] | None = None,
    n_rows: int = 2000,
) -> dict[str, Any]:
    """How well the network learned the Ising distribution, in one block of metrics.json.

    The first RBM (whose visible marginal is the model of the data the DBN is built on):
    its average log-likelihood per spin on training and held-out rows, and its gap to the
    Ising model's on the same rows (paired: mean of [ln p_RBM(v) - ln p_Ising(v)] / N, whose
    expectation over Ising samples is -KL(Ising || RBM) / N), with log Z exact for small
    layers and from AIS (``ais_estimate``) only if ``likelihood``; the exact KL where the
    lattice can be enumerated (L <= 4); its effective couplings. Then the thermodynamics of
    the DBN's converged ancestral samples (from ``generative``) beside the one-step
    reconstruction bound, the Monte Carlo data and exact values.

    AIS underestimates log Z in expectation: log-likelihoods from it are optimistic (too
    high) and gaps too small, by about the bias.

    Parameters
    ----------
    dbn : fitted DBN (duck-typed; ``rbms_``, ``validation_indices_``)
    spins : ndarray, shape (n, L, L), {-1, +1}: the data the network was trained on
    coupling : float, K of the data
    generative : ``generative_quality``'s result for this network
    seed : int, root of the block's random streams (key 8)
    likelihood : bool, run AIS when log Z cannot be enumerated
    ais : optional overrides of ``ais_estimate``'s n_runs, n_betas, n_seeds
    n_rows : int, rows scored per split at most

    Returns
    -------
    dict (JSON-ready): ``log_z`` (``log_partition``'s dict or None), ``log_likelihood_per_spin``
    and ``gap_per_spin`` ({``train``, ``validation``} -> {"mean", "error"} or None; nats per
    spin, the error combining the rows' standard error and log Z's), ``ising_log_likelihood_
    per_spin`` (exact), ``exact_kl`` ({``nats``, ``per_spin``} or None), ``couplings``
    (``nearest_neighbour``, ``next_nearest_neighbour``: mean, stderr, ratio_to_true (+ error);
    ``row_sum``: ``coupling_row_sum``), ``thermodynamics`` (per name in THERMO_NAMES:
    ``dbn``, ``reconstruction_bound``, ``monte_carlo``, ``exact``), ``converged``, ``rhat``.
    """
    size = spins.shape[-1]
    visible = spins_to_visible(spins)
    first = dbn.rbms_[0]
    rows = _scored_rows(dbn, len(visible), n_rows,
                        as_generator(seed_stream(seed, _QUALITY_STREAM, _ROWS)))
    inputs = {name: visible[idx] for name, idx in rows.items()}
    log_z = log_partition(first, inputs["train"], seed_stream(seed, _QUALITY_STREAM, _AIS),
                          likelihood=likelihood, ais=ais)
    recon = reconstruction_bound(first, inputs["train"], coupling, size,
                                 seed_stream(seed, _QUALITY_STREAM, _RECONSTRUCTION))
    thermo = {
        name: {"dbn": generative[name]["dbn"], "reconstruction_bound": recon[name],
               "monte_carlo": generative[name]["monte_carlo"],
               "exact": generative[name]["exact"]}
        for name in THERMO_NAMES
    }
    couplings_seed = _int_seed(seed_stream(seed, _QUALITY_STREAM, _COUPLINGS)) % 2**32
    return to_json({
        "model": "first RBM (log-likelihood, KL, couplings); DBN samples (thermodynamics)",
        "log_z": log_z,
        **_first_rbm_likelihood(first, inputs, log_z, coupling, size),
        "ising_log_likelihood_per_spin": ising_log_likelihood_per_spin(coupling, size),
        "exact_kl": (exact_kl_divergence(first, coupling, size)
                     if size <= MAX_ENUMERATION_SIZE else None),
        "couplings": _quality_couplings(first, visible, size, coupling, couplings_seed),
        "thermodynamics": thermo,
        "converged": generative["converged"],
        "rhat": generative["rhat"],
    })

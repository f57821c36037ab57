"""How well the network learned the Ising distribution, and how its training ended.

* ``quality_block``: the first RBM as a model of the Ising distribution (log-likelihood per
  spin and its gap to the exact Ising value, exact KL on small lattices, nearest- and
  next-nearest-neighbour effective couplings and their sum against 4K) beside the
  thermodynamics of the DBN's ancestral samples (``ising_rg.diagnostics.generative``) and the
  first RBM's one-step reconstruction bound.
* ``training_health``: per layer the final training metrics and the log-likelihood of the
  layer's own RBM (log Z exact, or by AIS when asked for).
* ``log_partition``: log Z of one RBM, exact by enumeration for small layers, else by
  mixture AIS over the modes chains find from all-up, all-down, data and random starts, with
  the hard check ln Z >= max -F over every visited state (``bound_ok``; docs/partition.md).
  AIS underestimates log Z in expectation, so a log-likelihood from it is optimistic (too
  high) by about its error; one that misses a mode would be far too high, which the check
  catches.

The DBN is duck-typed as in ``ising_rg.rg.analysis``. Seeds are ``numpy.random.SeedSequence``
objects or integers handed in by the caller, so every random choice has its own stream.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ising_rg import exact as exact_values
from ising_rg.diagnostics.coupling_spread import coupling_distribution
from ising_rg.diagnostics.couplings import coupling_row_sum, couplings_by_displacement
from ising_rg.diagnostics.generative import THERMO_NAMES, reconstruction_bound
from ising_rg.errors import IsingRGError
from ising_rg.exact.enumeration import MAX_ENUMERATION_SIZE, enumerate_torus
from ising_rg.io.jsonfile import to_json
from ising_rg.rbm.log_partition import log_partition as checked_log_partition
from ising_rg.rbm.partition import exact_log_partition
from ising_rg.sampling.observables import energy_per_spin
from ising_rg.seeding import as_generator, bernoulli, seed_stream
from ising_rg.spins import spins_to_visible

__all__ = [
    "exact_kl_divergence",
    "ising_log_likelihood_per_spin",
    "log_partition",
    "quality_block",
    "training_health",
]

EXACT_MAX_UNITS = 25  # enumerate 2^25 states at most (~2 s for 100 x 25); AIS above
COUPLING_CONTEXTS = 20  # data configurations the quality block's couplings average over
# The training-health stream; the analysis uses streams 0-6 of the same root seed.
_TRAINING_STREAM = 7
# The quality block's streams (rows, AIS, couplings, reconstructions) under key (8, k).
_QUALITY_STREAM = 8
_ROWS, _AIS, _COUPLINGS, _RECONSTRUCTION = range(4)


def _int_seed(seed: Any) -> int:
    """An integer seed from a SeedSequence (its first state word) or an int."""
    if isinstance(seed, np.random.SeedSequence):
        return int(seed.generate_state(1)[0])
    return int(seed)



def _last(history: dict, name: str) -> float | None:
    """The final value of a training-history series (None if absent)."""
    values = np.asarray(history.get(name, []), dtype=float)
    return float(values[-1]) if values.size else None


def log_partition(rbm, train_inputs: np.ndarray, seed: Any, *, likelihood: bool,
                  ais: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """log Z of one RBM, checked (``ising_rg.rbm.log_partition.log_partition``): exact by
    enumeration when the smaller layer has at most ``EXACT_MAX_UNITS`` units, else, if
    ``likelihood``, by mixture AIS over the modes that chains from all-up, all-down, the data
    (``train_inputs``) and random starts find, with the hard check ln Z >= max -F(v) over
    every state visited (``bound``, ``bound_ok``); None (not computed) otherwise. ``ais``
    overrides its n_runs, n_betas, n_seeds.

    Returns
    -------
    dict (nats): ``PartitionEstimate.to_dict()``: ``log_z``, ``error`` (0 for exact),
    ``method``, ``bound``, ``bound_source``, ``bound_ok``, ``bound_margin``, per-base reports
    and the AIS settings; or None.
    """
    if min(rbm.weights_.shape) > EXACT_MAX_UNITS and not likelihood:
        return None
    estimate = checked_log_partition(rbm, train_inputs, seed=_int_seed(seed),
                                     max_exact_units=EXACT_MAX_UNITS, **(ais or {}))
    # no wall time: the same seed gives the same file, bit for bit
    return {key: value for key, value in estimate.to_dict().items() if key != "seconds"}


def _scored_rows(dbn, n_samples: int, n_rows: int, rng: np.random.Generator,
                 held_out: Any = None) -> dict[str, np.ndarray]:
    """Row indices scored per split: up to n_rows training rows (random, sorted) and the
    first n_rows held-out rows (``held_out``, by default ``validation_indices_``; empty if
    none). Held-out indices outside the data mean the model was trained on other rows."""
    if held_out is None:
        held_out = getattr(dbn, "validation_indices_", np.array([], dtype=np.int64))
    validation = np.asarray(held_out, dtype=np.int64).ravel()
    if validation.size and (validation.min() < 0 or validation.max() >= n_samples):
        raise IsingRGError(
            f"held-out row {int(validation.max())} is outside the {n_samples} data rows: the "
            "model was trained on other data (pass the held-out rows of these data)")
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
        entry.update(log_z=None, log_z_error=None, log_z_method=None, log_z_seed_error=None,
                     log_z_bound=None, log_z_bound_ok=None)
        if result is not None:
            entry.update(log_z=result["log_z"], log_z_error=result["error"],
                         log_z_method=result["method"],
                         log_z_seed_error=result.get("seed_error"),
                         log_z_bound=result.get("bound"), log_z_bound_ok=result.get("bound_ok"))
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
        # a log Z below the hard bound has missed weight: no likelihood is computed from it
        if log_z is None or not log_z.get("bound_ok", True) or not len(x):
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
    out["nearest_neighbour_distribution"] = coupling_distribution(
        rbm, visible, size, n_contexts=COUPLING_CONTEXTS, seed=seed, true_coupling=coupling)
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
    held_out: Any = None,
) -> dict[str, Any]:
    """How well the network learned the Ising distribution, in one block of metrics.json.

    The first RBM (whose visible marginal is the model of the data the DBN is built on):
    its average log-likelihood per spin on training and held-out rows, and its gap to the
    Ising model's on the same rows (paired: mean of [ln p_RBM(v) - ln p_Ising(v)] / N, whose
    expectation over Ising samples is -KL(Ising || RBM) / N), with log Z exact for small
    layers and from mixture AIS (``log_partition``) only if ``likelihood``; the exact KL where the
    lattice can be enumerated (L <= 4); its effective couplings. Then the thermodynamics of
    the DBN's equilibrium samples (from ``generative``) beside the one-step
    reconstruction bound, the Monte Carlo data and exact values.

    Parameters
    ----------
    dbn : fitted DBN (duck-typed; ``rbms_``, ``validation_indices_``)
    spins : ndarray, shape (n, L, L), {-1, +1}: the data the network was trained on
    coupling : float, K of the data
    generative : ``generative_quality``'s result for this network
    seed : int, root of the block's random streams (key 8)
    likelihood : bool, run AIS when log Z cannot be enumerated
    ais : optional overrides of ``log_partition``'s n_runs, n_betas, n_seeds
    n_rows : int, rows scored per split at most
    held_out : array of int, optional: the rows of ``spins`` that training did not see
        (default ``dbn.validation_indices_``, right when ``spins`` are the training data;
        a network trained on a mixture of data sets passes the held-out rows of this one)

    Returns
    -------
    dict (JSON-ready): ``log_z`` (``log_partition``'s dict or None), ``log_likelihood_per_spin``
    and ``gap_per_spin`` ({``train``, ``validation``} -> {"mean", "error"} or None; nats per
    spin, the error combining the rows' standard error and log Z's; None when log Z fails
    its bound check), ``ising_log_likelihood_
    per_spin`` (exact), ``exact_kl`` ({``nats``, ``per_spin``} or None), ``couplings``
    (``nearest_neighbour``, ``next_nearest_neighbour``: mean, stderr, ratio_to_true (+ error);
    ``row_sum``: ``coupling_row_sum``), ``thermodynamics`` (per name in THERMO_NAMES:
    ``dbn``, ``reconstruction_bound``, ``monte_carlo``, ``exact``), ``converged``, ``rhat``,
    ``ensemble_from``.
    """
    size = spins.shape[-1]
    visible = spins_to_visible(spins)
    first = dbn.rbms_[0]
    rows = _scored_rows(dbn, len(visible), n_rows,
                        as_generator(seed_stream(seed, _QUALITY_STREAM, _ROWS)), held_out)
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
        "ensemble_from": generative["ensemble_from"],
    })

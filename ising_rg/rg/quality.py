"""How good a model the DBN is: its generated and reconstructed configurations, its training.

``generative_quality``: E, |m|, C, chi and U4 of configurations sampled from the DBN (binarised)
against the Monte Carlo data and exact values. ``reconstruction_quality``: the same for data
configurations sent up to each layer and back down. ``training_health``: per layer the final
training metrics and the log-likelihood of the layer's own RBM (log Z exact or by AIS).

The DBN is duck-typed as in ``ising_rg.rg.analysis``. Seeds are ``numpy.random.SeedSequence``
objects handed in by the caller, so every random choice has its own stream.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ising_rg.errors import IsingRGError
from ising_rg.io.jsonfile import to_json
from ising_rg.rbm.partition import ais_log_partition, average_log_likelihood, exact_log_partition
from ising_rg.rg.receptive_fields import spins_to_visible
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
AIS_RUNS = 32
AIS_BETAS = 3000
# The training-health stream; the analysis uses streams 0-6 of the same root seed.
_TRAINING_STREAM = 7


def _binarize(probabilities: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Sample v ~ Bernoulli(p) per unit and return spins (n, L, L) int8 (binary p unchanged)."""
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1, size, size)
    if np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise IsingRGError("the model returned visible probabilities outside [0, 1]")
    return 2 * bernoulli(p, rng, dtype=np.int8) - 1


def _thermo(spins: np.ndarray, coupling: float) -> dict[str, dict[str, float]]:
    n_sites = spins.shape[1] * spins.shape[2]
    return thermodynamics(energy_per_spin(spins), magnetization_per_spin(spins), coupling, n_sites)


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
    """The DBN's own samples, binarised, against the Monte Carlo data and exact values.

    Parameters
    ----------
    dbn : trained DBN with ``sample(n_samples=, n_gibbs=, seed=)``
    spins : ndarray, shape (n, L, L), {-1, +1}, the Monte Carlo data in sampling order
    coupling : float, K of the data (for C and chi)
    n_generative, n_gibbs : DBN samples drawn, Gibbs steps in the top RBM
    exact : dict of exact per-spin values by name (missing names give None), or None
    sample_seed, binarize_seed : streams of the DBN's sampler and of the binarisation

    Returns
    -------
    dict: per name in ``THERMO_NAMES`` {"dbn", "monte_carlo", "exact"} (each a {"mean",
    "error"} dict or a float), ``n_samples`` and ``n_gibbs``.
    """
    size = spins.shape[-1]
    monte_carlo = _thermo(spins, coupling)
    dbn_seed = int(sample_seed.generate_state(1)[0])
    generated = dbn.sample(n_samples=n_generative, n_gibbs=n_gibbs, seed=dbn_seed)
    generated_spins = _binarize(generated, size, as_generator(binarize_seed))
    dbn_thermo = _thermo(generated_spins, coupling)
    exact = exact or {}
    generative: dict[str, Any] = {
        name: {
            "dbn": dbn_thermo[name],
            "monte_carlo": monte_carlo[name],
            "exact": exact.get(name),
        }
        for name in THERMO_NAMES
    }
    generative["n_samples"] = int(generated_spins.shape[0])
    generative["n_gibbs"] = int(n_gibbs)
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


def _last(history: dict, name: str) -> float | None:
    """The final value of a training-history series (None if absent)."""
    values = np.asarray(history.get(name, []), dtype=float)
    return float(values[-1]) if values.size else None


def _log_partition(rbm, train_inputs: np.ndarray, seed: int) -> tuple[float, float, str]:
    """log Z of one RBM, its standard error and how it was obtained (exact or AIS)."""
    n_visible, n_hidden = rbm.weights_.shape
    if min(n_visible, n_hidden) <= EXACT_MAX_UNITS:
        return exact_log_partition(rbm), 0.0, "exact"
    log_z, log_z_error = ais_log_partition(
        rbm, n_runs=AIS_RUNS, n_betas=AIS_BETAS, data=train_inputs, seed=seed,
        dtype=np.float32)
    return log_z, log_z_error, f"AIS ({AIS_RUNS} runs, {AIS_BETAS} temperatures)"


def training_health(dbn, visible: np.ndarray, *, seed: int = 0,
                    n_rows: int = 2000) -> list[dict[str, Any]]:
    """Per layer: final training metrics and the log-likelihood of the layer's own RBM.

    Layer l's RBM is scored on its own input: the data for layer 1, and for l > 1 a seeded
    binary sample of P(h | v) propagated up (the log-likelihood of probabilities is not
    defined). log Z is exact by enumeration when the smaller layer has at most
    ``EXACT_MAX_UNITS`` units, else from AIS (base-rate start) with its standard error.
    Training and held-out rows are scored separately: their difference is the
    overfitting the free-energy gap monitors.

    Parameters
    ----------
    dbn : fitted DBN (``rbms_``, each with ``weights_``, ``transform``, ``history_``; and
        ``validation_indices_``, the held-out rows, if any)
    visible : ndarray, shape (n_samples, L*L), the training data in {0, 1}
    seed : int, root of the row choice and binarisation (stream 7) and of AIS (seed + layer)
    n_rows : int, rows scored per split at most

    Returns
    -------
    list of dicts (JSON-ready: None where a value is absent or not finite), one per layer:
    ``reconstruction_error``, ``free_energy_gap``, ``dead_fraction`` (final epoch), ``log_z``,
    ``log_z_error``, ``log_z_method``, ``log_likelihood_train``, ``log_likelihood_validation``
    (nats per configuration).
    """
    rng = as_generator(seed_stream(seed, _TRAINING_STREAM))
    validation = np.asarray(getattr(dbn, "validation_indices_", np.array([], dtype=int)))
    train = np.setdiff1d(np.arange(len(visible)), validation)
    rows = {"train": rng.choice(train, size=min(n_rows, train.size), replace=False),
            "validation": validation[:n_rows]}
    inputs = {name: visible[idx] for name, idx in rows.items()}
    out = []
    for layer, rbm in enumerate(dbn.rbms_, start=1):
        history = getattr(rbm, "history_", {})
        entry: dict[str, Any] = {
            "layer": layer,
            "reconstruction_error": _last(history, "reconstruction_error"),
            "free_energy_gap": _last(history, "free_energy_gap"),
            "dead_fraction": _last(history, "hidden_dead_fraction"),
        }
        log_z, log_z_error, method = _log_partition(rbm, inputs["train"], seed + layer)
        entry.update(log_z=float(log_z), log_z_error=float(log_z_error), log_z_method=method)
        for name, x in inputs.items():
            entry[f"log_likelihood_{name}"] = (
                float(average_log_likelihood(rbm, x, log_z)) if len(x) else None)
        out.append(entry)
        # Binary samples of this layer's hidden units are the next layer's input.
        inputs = {name: bernoulli(rbm.transform(x), rng) for name, x in inputs.items()}
    return to_json(out)

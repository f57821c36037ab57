"""Everything ``ising-rg analyze`` computes from a trained DBN and its data, in one call.

The metrics come from ``analysis.analyze``; this module adds the exact references, the arrays
behind the figures (receptive fields, an example configuration with its reconstructions and
block spins, training histories), the sampler validation scan and the 1D decimation flows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ising_rg import exact
from ising_rg.rbm.partition import ais_log_partition, average_log_likelihood, exact_log_partition
from ising_rg.rg.analysis import analyze, receptive_field_arrays
from ising_rg.rg.blockspin import majority_block_spins
from ising_rg.rg.decimation1d import decimate_ring_by_enumeration, decimation_flow
from ising_rg.rg.receptive_fields import spins_to_visible
from ising_rg.sampling.sampler import SampleSet
from ising_rg.sampling.validation import temperature_scan


def decimation_summary(ring_size: int = 12) -> dict[str, Any]:
    """The 1D decimation map, checked by exact enumeration of a ring, and its flows."""
    grid = np.linspace(0.0, 2.0, 201)
    checked = np.array([0.25, 0.5, 0.75, 1.0, 1.25, 1.5])
    enumerated = [decimate_ring_by_enumeration(k, ring_size).coupling for k in checked]
    return {
        "ring_size": ring_size,
        "map_coupling": grid.tolist(),
        "map_decimated": [float(np.arctanh(np.tanh(k) ** 2)) for k in grid],
        "enumeration_coupling": checked.tolist(),
        "enumeration_decimated": [float(k) for k in enumerated],
        "max_enumeration_error": float(np.max(np.abs(
            np.array(enumerated) - np.arctanh(np.tanh(checked) ** 2)))),
        "flows": [decimation_flow(k0, 6).tolist() for k0 in (0.5, 1.0, 2.0, 3.0)],
    }


EXACT_MAX_UNITS = 25  # enumerate 2^25 states at most (~2 s for 100 x 25); AIS above
AIS_RUNS = 32
AIS_BETAS = 3000


def training_health(dbn, visible: np.ndarray, *, seed: int = 0,
                    n_rows: int = 2000) -> list[dict[str, Any]]:
    """Per layer: final training metrics and the log-likelihood of the layer's own RBM.

    Layer l's RBM is scored on its own input: the data for layer 1, and for l > 1 a seeded
    binary sample of P(h | v) propagated up (the log-likelihood of probabilities is not
    defined). log Z is exact by enumeration when the smaller layer has at most
    ``EXACT_MAX_UNITS`` units, else from AIS (base-rate start) with its standard error.
    Training and held-out rows are scored separately: their difference is the
    overfitting the free-energy gap monitors.

    Returns
    -------
    list of dicts, one per layer: ``reconstruction_error``, ``free_energy_gap``,
    ``dead_fraction`` (final epoch), ``log_z``, ``log_z_error``, ``log_z_method``,
    ``log_likelihood_train``, ``log_likelihood_validation`` (nats per configuration).
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    validation = np.asarray(getattr(dbn, "validation_indices_", np.array([], dtype=int)))
    train = np.setdiff1d(np.arange(len(visible)), validation)
    rows = {"train": rng.choice(train, size=min(n_rows, train.size), replace=False),
            "validation": validation[:n_rows]}
    inputs = {name: visible[idx] for name, idx in rows.items()}
    out = []
    for layer, rbm in enumerate(dbn.rbms_, start=1):
        history = getattr(rbm, "history_", {})

        def last(name, history=history):
            values = np.asarray(history.get(name, []), dtype=float)
            return float(values[-1]) if values.size and np.isfinite(values[-1]) else None

        entry: dict[str, Any] = {
            "layer": layer,
            "reconstruction_error": last("reconstruction_error"),
            "free_energy_gap": last("free_energy_gap"),
            "dead_fraction": last("hidden_dead_fraction"),
        }
        n_visible, n_hidden = rbm.weights_.shape
        if min(n_visible, n_hidden) <= EXACT_MAX_UNITS:
            log_z, log_z_error, method = exact_log_partition(rbm), 0.0, "exact"
        else:
            log_z, log_z_error = ais_log_partition(
                rbm, n_runs=AIS_RUNS, n_betas=AIS_BETAS, data=inputs["train"],
                seed=seed + layer, dtype=np.float32)
            method = f"AIS ({AIS_RUNS} runs, {AIS_BETAS} temperatures)"
        entry.update(log_z=float(log_z), log_z_error=float(log_z_error), log_z_method=method)
        for name, x in inputs.items():
            entry[f"log_likelihood_{name}"] = (
                float(average_log_likelihood(rbm, x, log_z)) if len(x) else None)
        out.append(entry)
        # Binary samples of this layer's hidden units are the next layer's input.
        inputs = {name: (rng.random((len(x), n_hidden)) < rbm.transform(x)).astype(np.float32)
                  for name, x in inputs.items()}
    return out


def run_analysis(dbn, samples: SampleSet, *, seed: int = 0, n_generative: int = 2000,
                 n_gibbs: int = 1000, validation_samples: int = 2000,
                 validation_size: int | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """Metrics (JSON-ready) and arrays (for arrays.h5) of a trained DBN on its data.

    Parameters
    ----------
    dbn : fitted DBN whose visible layer is the L x L lattice of ``samples``
    samples : SampleSet, the Monte Carlo data
    seed : int, root of every random choice in the analysis
    n_generative, n_gibbs : DBN samples drawn and Gibbs steps in the top RBM
    validation_samples : samples per temperature in the sampler validation scan (0: skip)
    validation_size : lattice size of the validation scan (default: the data's L)
    """
    size, coupling = samples.size, samples.coupling
    reference = {
        "energy_per_spin": float(exact.energy_per_spin(coupling, size)),
        "specific_heat": float(exact.specific_heat_per_spin(coupling, size)),
    }
    fields = receptive_field_arrays(dbn, samples.spins)
    metrics = analyze(dbn, samples.spins, coupling, seed=seed, n_generative=n_generative,
                      exact=reference, n_gibbs=n_gibbs, fields=fields)
    arrays: dict[str, np.ndarray] = {}
    for layer, (product, weighted, live) in enumerate(zip(
            fields["weight_product"], fields["activation_weighted"], fields["live"],
            strict=True), start=1):
        arrays[f"fields/weight_product/{layer}"] = product.astype(np.float32)
        arrays[f"fields/activation_weighted/{layer}"] = weighted.astype(np.float32)
        arrays[f"fields/live/{layer}"] = np.asarray(live, dtype=bool)
    example = samples.spins[len(samples.spins) // 2]
    arrays["example/spins"] = example
    visible = spins_to_visible(example[None])
    for depth in range(1, len(dbn.rbms_) + 1):
        recon = np.asarray(dbn.reconstruct(visible, depth), dtype=np.float32)
        arrays[f"example/reconstruction/{depth}"] = recon.reshape(size, size)
    b = 2
    while b <= size // 2 and size % b == 0 and b <= 8:
        arrays[f"example/block_spins/{b}"] = majority_block_spins(example[None], b, seed=seed)[0]
        b *= 2
    for layer, rbm in enumerate(dbn.rbms_, start=1):
        for name, values in getattr(rbm, "history_", {}).items():
            values = np.asarray(values)
            if values.ndim == 1 and np.issubdtype(values.dtype, np.number):
                arrays[f"history/{layer}/{name}"] = values.astype(np.float64)
    metrics["training"] = {
        "layers": training_health(dbn, spins_to_visible(samples.spins), seed=seed),
        # The true model's average log-likelihood of its own samples, -N s (s the entropy per
        # spin) = -K E - ln Z on average: the ceiling for layer 1's log_likelihood.
        "ising_log_likelihood": float(
            -coupling * size**2 * exact.energy_per_spin(coupling, size)
            - exact.log_partition_function(coupling, size)),
    }
    metrics["exact"] = exact.exact_summary(coupling, size)
    if validation_samples:
        metrics["validation"] = temperature_scan(validation_size or size,
                                                 n_samples=validation_samples, seed=seed)
    metrics["decimation"] = decimation_summary()
    return metrics, arrays

"""Everything ``ising-rg analyze`` computes from a trained DBN and its data, in one call.

The metrics come from ``analysis.analyze``; this module adds the exact references, the arrays
behind the figures (receptive fields, an example configuration with its reconstructions and
block spins, training histories), the sampler validation scan and the 1D decimation flows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ising_rg import exact
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
    metrics = analyze(dbn, samples.spins, coupling, seed=seed, n_generative=n_generative,
                      exact=reference, n_gibbs=n_gibbs)
    fields = receptive_field_arrays(dbn, samples.spins)
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
    metrics["exact"] = exact.exact_summary(coupling, size)
    if validation_samples:
        metrics["validation"] = temperature_scan(validation_size or size,
                                                 n_samples=validation_samples, seed=seed)
    metrics["decimation"] = decimation_summary()
    return metrics, arrays

"""Renormalization-group analysis: block spins, receptive fields, their metrics, 1D decimation."""

from ising_rg.rg.analysis import analyze, receptive_field_arrays
from ising_rg.rg.block_correlation import block_spin_correlation, block_spin_correlation_chance
from ising_rg.rg.decimation1d import (
    decimate_ring_by_enumeration,
    decimated_coupling,
    decimation_flow,
    rbm_decimation_discrepancy,
)
from ising_rg.rg.kadanoff import (
    block_spin_hierarchy,
    coarse_grained_observables,
    majority_block_spins,
    window_majority_spins,
)
from ising_rg.rg.receptive_fields import activation_weighted_receptive_fields, receptive_fields
from ising_rg.rg.shape import (
    centroid_coverage,
    locality,
    locality_chance,
    participation_ratio,
    periodic_centroid,
    radius_of_gyration,
)

__all__ = [
    "activation_weighted_receptive_fields",
    "analyze",
    "block_spin_correlation",
    "block_spin_correlation_chance",
    "block_spin_hierarchy",
    "centroid_coverage",
    "coarse_grained_observables",
    "decimate_ring_by_enumeration",
    "decimated_coupling",
    "decimation_flow",
    "locality",
    "locality_chance",
    "majority_block_spins",
    "participation_ratio",
    "periodic_centroid",
    "radius_of_gyration",
    "rbm_decimation_discrepancy",
    "receptive_field_arrays",
    "receptive_fields",
    "window_majority_spins",
]

"""Ideal Kadanoff units: their fields and activations, and every metric of the analysis run on
them through the network's code path (``ising_rg.rg.analysis.kadanoff_reference``) against
the answers known for uniform blocks and for a block-spin map (xi_h = xi)."""

import math

import numpy as np
import pytest

from ising_rg import exact as ex
from ising_rg.errors import IsingRGError
from ising_rg.estimators.correlation_length import wall_correlation_length
from ising_rg.rg.analysis import FIELD_KINDS, kadanoff_reference
from ising_rg.rg.kadanoff import block_fields, kadanoff_units, window_block_spins
from ising_rg.sampling.sampler import sample
from ising_rg.settings import SampleOptions
from tests.conftest import random_spins

HALF_WEIGHT_RADIUS = {2: math.sqrt(2) / 2, 4: math.sqrt(10) / 2,
                      8: (math.sqrt(34) + math.sqrt(50)) / 4}


def test_block_fields_tile_the_lattice():
    fields = block_fields(8, 4, amplitude=2.0)
    assert fields.shape == (4, 8, 8)
    np.testing.assert_array_equal(fields.sum(axis=0), 2.0)  # every site in exactly one block
    np.testing.assert_array_equal(fields[1][:4, 4:], 2.0)  # unit I * 2 + J on block (I, J)
    assert fields[1].sum() == 2.0 * 16
    with pytest.raises(IsingRGError):
        block_fields(8, 3)


def test_kadanoff_activations_on_hand_made_configurations():
    spins = np.ones((3, 4, 4), dtype=np.int8)
    spins[1, :2, :2] = -1  # block (0, 0) all down
    spins[2, 0, :2] = -1  # block (0, 0) tied: majority by the seeded coin
    average = kadanoff_units(spins, 2, "average")
    np.testing.assert_allclose(average.activations[:, 0], [1.0, 0.0, 0.5])
    np.testing.assert_allclose(average.activations[:, 1:], 1.0)
    majority = kadanoff_units(spins, 2, "majority", seed=7)
    coins = window_block_spins(spins, 2, "majority", seed=7)
    assert majority.activations[2, 0] == 0.5 * (1 + coins[2, 0, 0])
    np.testing.assert_allclose(majority.activations[:2, 0], [1.0, 0.0])
    np.testing.assert_array_equal(majority.fields, block_fields(4, 2))
    with pytest.raises(IsingRGError):
        kadanoff_units(spins, 2, "median")


@pytest.mark.parametrize("block_size", [2, 4, 8])
def test_reference_path_reproduces_the_uniform_block_answers(block_size):
    spins = random_spins(300, 16, seed=block_size)
    levels = {kind: 1e-3 for kind in FIELD_KINDS}
    reference = kadanoff_reference(spins, block_size, 0.3, seed=1, levels=levels)
    for rule in ("majority", "average"):
        for kind in ("weight_product", "jacobian"):
            metrics = reference[rule] if kind == "weight_product" else reference[rule][kind]
            assert math.sqrt(metrics["participation_ratio"]["mean"]) == pytest.approx(block_size)
            assert metrics["radius_of_gyration"]["mean"] == pytest.approx(
                math.sqrt((block_size**2 - 1) / 6))
            assert metrics["locality"]["mean"] == pytest.approx(1.0)
            assert metrics["half_weight_radius"]["mean"] == pytest.approx(
                HALF_WEIGHT_RADIUS[block_size])
            assert metrics["sites_above_noise"]["mean"] == block_size**2
            coverage = metrics["coverage"]
            assert coverage["occupied_block_fraction"] == 1.0
            assert coverage["nearest_neighbour_distance"]["mean"] == pytest.approx(block_size)
    # Independent spins: the activation-weighted field of an ideal unit is its own block, plus
    # sampling noise elsewhere.
    weighted = reference["average"]["activation_weighted"]
    assert weighted["locality"]["mean"] > weighted["locality"]["chance"] + 0.2
    # The majority unit is exactly the block spin the correlation compares with.
    assert reference["majority"]["block_spin_correlation"]["mean"] == pytest.approx(1.0)
    assert kadanoff_reference(spins, 3, 0.3) is None  # no aligned tiling of 16 by 3


def test_reference_amplitude_follows_the_network_field_strength():
    spins = random_spins(100, 8, seed=0)
    levels = {kind: 0.5 for kind in FIELD_KINDS}
    strong = kadanoff_reference(spins, 2, 0.3, levels=levels, field_norms={
        "weight_product": 4 * 1.0, "jacobian": 4 * 1.0})
    weak = kadanoff_reference(spins, 2, 0.3, levels=levels, field_norms={
        "weight_product": 4 * 0.25, "jacobian": 4 * 0.25})
    assert strong["average"]["sites_above_noise"]["mean"] == 4  # 1.0 > 0.5 at every block site
    assert weak["average"]["jacobian"]["sites_above_noise"]["mean"] == 0  # 0.25 < 0.5
    assert weak["average"]["participation_ratio"] == strong["average"]["participation_ratio"]


def test_ideal_units_keep_the_correlation_length():
    # xi = 2.91 on a 16 x 16 torus (below L/4); a coarse lattice of 8 x 8 sites measures it,
    # one of 4 x 4 has a single effective mass beyond the same-block pair: no plateau over
    # three separations, so no number, and a note that says why.
    coupling = 0.36
    spins = sample(SampleOptions(16, coupling, 4000, "metropolis", seed=3)).spins
    spins_xi = wall_correlation_length(spins)
    assert abs(spins_xi.mean - ex.onsager_correlation_length(coupling)) < 4 * spins_xi.error
    reference = kadanoff_reference(spins, 2, coupling, seed=2)
    for rule in ("majority", "average"):
        entry = reference[rule]["correlation_length"]
        assert entry["exact"] == pytest.approx(ex.onsager_correlation_length(coupling))
        combined = math.hypot(entry["error"], spins_xi.error)
        assert abs(entry["mean"] - spins_xi.mean) < 4 * combined, rule
        assert entry["error"] < 0.1 * entry["mean"]  # a measurement, not a shrug
        assert entry["method"] == "wall_to_wall_through_kernels"
        assert entry["effective_mass"]["separation"][0] == 2.0
    for rule, entry in kadanoff_reference(spins, 4, coupling, seed=2).items():
        entry = entry["correlation_length"]
        assert entry["mean"] is None or math.isnan(entry["mean"]), rule
        assert "no plateau" in entry["note"] and len(entry["effective_mass"]["xi"]) == 1

"""RSMIFilter: the trained filter's known shape, seeds, coarse spins, bad input."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from ising_rg.errors import IsingRGError, NotFittedError
from ising_rg.exact import critical_coupling
from ising_rg.rg.rsmi import RSMIFilter, coarse_spins
from ising_rg.rg.rsmi_bound import CoarseRule
from ising_rg.sampling.sampler import sample
from ising_rg.settings import SampleOptions
from tests.conftest import random_spins

K_C = critical_coupling()


@pytest.fixture(scope="module")
def mc_data():
    """Wolff configurations of the 32 x 32 torus at K = 0.408 and at K_c (2000 each)."""
    return {k: sample(SampleOptions(size=32, coupling=k, samples=2000, seed=11)).spins
            for k in (0.408, K_C)}


def _relative_spread(weights):
    w = np.ravel(weights)
    return (w.max() - w.min()) / abs(w.mean())


@pytest.mark.parametrize("coupling", [0.408, K_C], ids=["K=0.408", "K_c"])
def test_trained_2x2_filter_is_the_uniform_block(mc_data, coupling):
    """The published result (Koch-Janusz & Ringel 2018): four weights of one sign within 15 %
    of each other. Measured spreads, 5 data and training seeds each, L = 32, 2000
    configurations: 2.2-5.2 % at K = 0.408, 1.4-6.6 % at K_c (docs/rsmi.md)."""
    model = RSMIFilter(block_size=2, random_state=3).fit(mc_data[coupling])
    w = model.filter_
    assert w.shape == (2, 2)
    assert np.all(np.sign(w) == np.sign(w.mean()))
    assert _relative_spread(w) < 0.15
    assert abs(w.mean()) > 1.0  # a real filter, not a start that never moved (0.1 scale)
    # What the filter keeps is a large share of what majority rule keeps (0.22-0.23 bits at
    # K = 0.408, 0.52-0.54 at K_c on these data), within the bound's error.
    assert model.mutual_information_ > (0.2 if coupling == 0.408 else 0.5)
    assert model.mutual_information_ <= model.entropy_ <= 1.0
    history = model.history_
    assert history["validation_bits"].shape == history["train_bits"].shape == (15,)
    assert history["filters"].shape == (15, 4)


def test_trained_4x4_filter_weights_the_boundary(mc_data):
    """b = 4: the environment lies beyond the buffer, so only the block's boundary spins speak
    to it: interior weights near 0, edges of one sign, corners (two outside bonds) about twice
    the edges (one outside bond)."""
    model = RSMIFilter(block_size=4, random_state=5).fit(mc_data[0.408])
    w = model.filter_ * np.sign(model.filter_.mean())
    corners = w[[0, 0, 3, 3], [0, 3, 0, 3]]
    edges = np.concatenate([w[0, 1:3], w[3, 1:3], w[1:3, 0], w[1:3, 3]])
    interior = w[1:3, 1:3]
    assert np.all(corners > 0) and np.all(edges > 0)
    assert np.abs(interior).mean() < 0.3 * edges.mean()
    assert 1.5 < corners.mean() / edges.mean() < 3.5
    assert model.mutual_information_ > 0.1


def test_same_seed_same_bits_on_any_number_of_threads(mc_data):
    spins = mc_data[K_C][:1200]
    params = dict(epochs=3, random_state=8)
    original = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = RSMIFilter(**params).fit(spins)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = RSMIFilter(**params).fit(spins)
    finally:
        numba.set_num_threads(original)
    for name in ("filter_", "decoder_weights_"):
        assert np.array_equal(getattr(one, name), getattr(two, name))
    assert one.decoder_bias_ == two.decoder_bias_
    assert one.mutual_information_ == two.mutual_information_
    for key in one.history_:
        assert np.array_equal(one.history_[key], two.history_[key])
    other = RSMIFilter(epochs=3, random_state=9).fit(spins)
    assert not np.array_equal(other.filter_, one.filter_)


def test_coarse_spins_follow_the_filter_probabilities():
    """Each of the 16 block patterns gets H = +1 with frequency sigmoid(Lambda . s_V), within
    4 binomial standard errors."""
    weights = np.array([[0.5, -1.0], [2.0, 0.0]])
    spins = random_spins(3000, 8, seed=4)
    h = coarse_spins(spins, CoarseRule.filter(weights), np.random.default_rng(2))
    assert h.shape == (3000, 4, 4) and h.dtype == np.int8
    assert set(np.unique(h)) <= {-1, 1}
    blocks = spins.reshape(3000, 4, 2, 4, 2).transpose(0, 1, 3, 2, 4).reshape(-1, 4)
    pattern = ((blocks > 0) * (1 << np.arange(4))).sum(axis=1)
    up = (h.ravel() > 0)
    for code in range(16):
        chosen = pattern == code
        s = 2 * ((code >> np.arange(4)) & 1) - 1
        p = 1.0 / (1.0 + np.exp(-(weights.ravel() @ s)))
        count = int(chosen.sum())
        assert count > 1000
        assert abs(up[chosen].mean() - p) < 4 * np.sqrt(p * (1 - p) / count)


def test_transform_and_coarse_grain_are_seeded(mc_data):
    model = RSMIFilter(epochs=1, random_state=1).fit(mc_data[0.408][:300])
    spins = mc_data[0.408][:50]
    a = model.transform(spins, np.random.default_rng(5))
    b = model.coarse_grain(spins, level=2, rng=np.random.default_rng(5))
    assert a.shape == (50, 16, 16) and a.dtype == np.int8
    assert np.array_equal(a, b)
    assert np.array_equal(model.transform(spins, 7), model.transform(spins, 7))
    assert not np.array_equal(model.transform(spins, 7), model.transform(spins, 8))
    # Iterated: the same filter on the coarse lattice.
    assert model.coarse_grain(a, 1, np.random.default_rng(0)).shape == (50, 8, 8)
    assert model.name == "rsmi" and model.block_size == 2


def test_a_huge_filter_is_majority_rule_off_ties():
    spins = random_spins(200, 8, seed=3)
    big = coarse_spins(spins, CoarseRule.filter(50.0 * np.ones((2, 2))), 0)
    sums = spins.reshape(200, 4, 2, 4, 2).sum(axis=(2, 4))
    decided = sums != 0
    assert np.array_equal(big[decided], np.sign(sums[decided]).astype(np.int8))


def test_fitted_attributes_and_parameters(mc_data):
    model = RSMIFilter(epochs=2, random_state=0).fit(mc_data[0.408][:400])
    assert model.get_params()["block_size"] == 2
    assert model.lattice_size_ == 32
    assert model.environment_offsets_.shape == (64, 2)  # (2 + 2*4)^2 - (2 + 2*2)^2
    assert model.decoder_weights_.shape == (64,)
    assert model.train_indices_.size + model.validation_indices_.size == 400
    assert not set(model.train_indices_) & set(model.validation_indices_)
    assert 0.0 < model.block_information_ <= model.entropy_
    assert model.set_params(epochs=4) is model and model.epochs == 4
    with pytest.raises(IsingRGError, match="no parameter"):
        model.set_params(n_epochs=3)


@pytest.mark.parametrize("params,size,message", [
    (dict(block_size=5), 8, "block size 5 is larger than half the lattice"),
    (dict(block_size=2, buffer=3), 8, "buffer 3 around a 2 x 2 block leaves no environment"),
    (dict(block_size=3), 8, "not divisible by block size 3"),
    (dict(compression=-0.1), 8, "compression must be a number >= 0"),
    (dict(learning_rate=0.0), 8, "learning_rate must be a positive number"),
    (dict(validation_fraction=1.0), 8, "validation_fraction must be a number > 0 and < 1"),
    (dict(epochs=0), 8, "epochs must be an integer >= 1"),
])
def test_bad_input_gets_a_one_line_error(params, size, message):
    with pytest.raises(IsingRGError, match=message) as info:
        RSMIFilter(**params).fit(random_spins(20, size, seed=0))
    assert "\n" not in str(info.value)


def test_bad_spins_and_unfitted_use():
    with pytest.raises(IsingRGError, match="values in"):
        RSMIFilter().fit(np.zeros((10, 8, 8), dtype=np.int8))
    with pytest.raises(IsingRGError, match=r"shaped \(n, L, L\)"):
        RSMIFilter().fit(random_spins(1, 8, seed=0)[0])
    with pytest.raises(IsingRGError, match="cannot hold out"):
        RSMIFilter().fit(random_spins(1, 8, seed=0))
    with pytest.raises(NotFittedError):
        RSMIFilter().transform(random_spins(2, 8, seed=0))
    assert not hasattr(RSMIFilter(), "rule_")

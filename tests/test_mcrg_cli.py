"""``ising-rg mcrg``: mcrg.json for majority rule, decimation and a network whose layers are the
block lattices; bad input (a model for another L, a layer that is not a block lattice, an L
that b = 2 does not divide) is one line, before any output."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from ising_rg import cli
from ising_rg.io.models import save_dbn
from ising_rg.io.samples import write_samples
from ising_rg.rbm import DBN
from ising_rg.rg.majority_network import majority_rule_network
from ising_rg.sampling.sampler import SampleSet, sample
from ising_rg.settings import SampleOptions
from tests.conftest import assert_one_line_error

SHA = "0" * 64


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("mcrg")
    data = write_samples(sample(SampleOptions(16, 0.42, 400, seed=4)), root / "data16.h5")
    small = write_samples(sample(SampleOptions(8, 0.42, 100, seed=4)), root / "data8.h5")
    network, _, _ = majority_rule_network(16, seed=1)
    save_dbn(network, root / "majority16.h5", data_sha256=SHA, hyperparameters={}, seed=0)
    untrained = DBN((64, 20), random_state=0).initialize(256)
    save_dbn(untrained, root / "not_blocks.h5", data_sha256=SHA, hyperparameters={}, seed=0)
    spins = np.where(np.random.default_rng(0).random((50, 9, 9)) < 0.5, -1, 1).astype(np.int8)
    odd = SampleSet(spins=spins, energy=np.zeros(50), magnetization=np.zeros(50), size=9,
                    coupling=0.4, algorithm="wolff", seed=0, thermalization_sweeps=0.0,
                    spacing_sweeps=1.0, tau_int_energy=0.5, tau_int_abs_magnetization=0.5)
    odd = write_samples(odd, root / "data9.h5")
    return {"data": data, "small": small, "network": root / "majority16.h5",
            "not_blocks": root / "not_blocks.h5", "odd": odd}


def _mcrg(*args):
    return CliRunner().invoke(cli.main, ["mcrg", *map(str, args)])


def test_mcrg_writes_every_coarse_grainer_and_level(files, tmp_path):
    result = _mcrg("--data", files["data"], "--model", files["network"], "--out", tmp_path)
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "mcrg.json").read_text())
    assert list(written["coarse_grainers"]) == ["majority", "decimation", "dbn"]
    for name, entry in written["coarse_grainers"].items():
        levels = entry["levels"]
        assert [level["size"] for level in levels] == [16, 8, 4][: len(levels)], name
        assert levels[0]["y_t"] is None and levels[1]["y_t"]["mean"] is not None
        assert set(levels[0]["couplings"]) >= {"nn", "nnn", "plaquette", "field"}
    # level 0 is the data for every coarse-grainer
    first = [entry["levels"][0]["couplings"] for entry in written["coarse_grainers"].values()]
    assert first[0] == first[1] == first[2]
    assert written["provenance"]["models"] == {"dbn": str(files["network"])}
    assert "y_t" in result.output and "wrote" in result.output


@pytest.mark.parametrize("case, words", [
    ("another_size", "has 256 visible units but the data are 8x8"),
    ("not_blocks", "layer 1 has 64 units, not the 8x8 = 64"),
    ("odd", "lattice size 9 is not divisible by the block size b = 2"),
])
def test_bad_input_is_one_line_before_any_output(files, tmp_path, case, words):
    args = {"another_size": ("--data", files["small"], "--model", files["network"]),
            "not_blocks": ("--data", files["data"], "--model", files["not_blocks"]),
            "odd": ("--data", files["odd"])}[case]
    result = _mcrg(*args, "--out", tmp_path / "out")
    if case == "not_blocks":
        words = "layer 2 has 20 units"
    assert_one_line_error(result, words)
    assert not (tmp_path / "out").exists()

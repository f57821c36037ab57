"""``ising-rg rsmi``: a filter file with provenance, the filter signed to follow its block, and
``mcrg --filter`` measuring it; bad input (a block larger than L/2, a buffer that leaves no
environment, a filter for another block size where one is required) is one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from ising_rg import cli
from ising_rg.errors import IsingRGError
from ising_rg.io.filters import load_filter, read_filter_metadata
from ising_rg.io.models import file_sha256
from ising_rg.io.samples import write_samples
from ising_rg.sampling.sampler import sample
from ising_rg.settings import SampleOptions
from tests.conftest import assert_one_line_error


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("rsmi")
    return write_samples(sample(SampleOptions(16, 0.42, 600, seed=5)), root / "data.h5")


def _invoke(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args])


def test_rsmi_writes_a_filter_that_follows_its_block(data, tmp_path):
    out = tmp_path / "filter.h5"
    result = _invoke("rsmi", "--data", data, "--block", "2", "--epochs", "3", "--out", out)
    assert result.exit_code == 0, result.output
    model = load_filter(out, block_size=2)
    assert model.filter_.shape == (2, 2) and model.filter_.sum() > 0
    assert read_filter_metadata(out)["data_sha256"] == file_sha256(data)
    assert "I(H;E) >=" in result.output and "bits" in result.output
    again = _invoke("rsmi", "--data", data, "--out", out)
    assert_one_line_error(again, "already exists")
    measured = _invoke("mcrg", "--data", data, "--filter", out, "--out", tmp_path / "mcrg")
    assert measured.exit_code == 0, measured.output
    written = json.loads((tmp_path / "mcrg" / "mcrg.json").read_text())
    assert list(written["coarse_grainers"]) == ["majority", "decimation", "rsmi"]
    levels = written["coarse_grainers"]["rsmi"]["levels"]
    assert [level["size"] for level in levels] == [16, 8, 4]


@pytest.mark.parametrize("args, words", [
    (("--block", "9"), "block"),
    (("--block", "2", "--buffer", "7"), "environment"),
])
def test_bad_geometry_is_one_line_before_any_output(data, tmp_path, args, words):
    out = tmp_path / "f.h5"
    result = _invoke("rsmi", "--data", data, *args, "--out", out)
    assert_one_line_error(result, words)
    assert not out.exists()


def test_a_filter_for_another_block_size_is_refused(data, tmp_path):
    out = tmp_path / "f4.h5"
    assert _invoke("rsmi", "--data", data, "--block", "4", "--epochs", "1",
                   "--out", out).exit_code == 0
    with pytest.raises(IsingRGError, match="is a filter for 4 x 4 blocks, not 2 x 2"):
        load_filter(out, block_size=2)
    assert np.shape(load_filter(out).filter_) == (4, 4)

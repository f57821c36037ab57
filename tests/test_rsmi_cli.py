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


def test_analyze_measures_the_filter_beside_the_network(data, tmp_path):
    """``analyze --filter``: the control of docs/rsmi.md in metrics.json, the same numbers the
    library gives, its summary printed; a filter that does not fit the data is one line."""
    from ising_rg.formatting import format_measurement
    from ising_rg.io.models import load_dbn
    from ising_rg.io.samples import read_samples
    from ising_rg.rg.rsmi_comparison import rsmi_control

    rsmi, model = tmp_path / "rsmi.h5", tmp_path / "dbn.h5"
    assert _invoke("rsmi", "--data", data, "--epochs", "3", "--out", rsmi).exit_code == 0
    assert _invoke("train", "--data", data, "--hidden", "16,4", "--epochs", "2",
                   "--batch-size", "20", "--quiet", "--out", model).exit_code == 0
    analyze = ("analyze", "--model", model, "--data", data, "--generative-samples", "10",
               "--gibbs-steps", "8", "--no-likelihood", "--quiet", "--filter", rsmi)
    result = _invoke(*analyze, "--out", tmp_path / "results")
    assert result.exit_code == 0, result.output
    assert "RSMI control (b = 2), I(H;E) in bits: decimation" in result.output
    assert "first-layer units in their best windows (8, mean)" in result.output
    written = json.loads((tmp_path / "results" / "metrics.json").read_text())
    assert written["provenance"]["filter"] == str(rsmi)
    control = written["rsmi"]
    majority = control["environment"]["rules"]["majority"]  # with its error, as every summary
    assert f"majority {format_measurement(majority['bits'], majority['error'])}," in result.output
    expected = rsmi_control(read_samples(data).spins, load_filter(rsmi), load_dbn(model), 0.42)
    assert control["filter"] == expected["filter"]
    for name in ("decimation", "majority", "rsmi"):
        assert control["environment"]["rules"][name]["bits"] == pytest.approx(
            expected["environment"]["rules"][name]["bits"], rel=1e-12)
    assert control["reference"]["locality"]["mean"] == pytest.approx(
        expected["reference"]["locality"]["mean"], rel=1e-12)
    # a filter (from L = 32) whose buffer leaves no environment on this lattice: refused
    # before any work
    large = write_samples(sample(SampleOptions(32, 0.42, 40, seed=1)), tmp_path / "large.h5")
    wide = tmp_path / "wide.h5"
    assert _invoke("rsmi", "--data", large, "--buffer", "7", "--epochs", "1",
                   "--out", wide).exit_code == 0
    refused = _invoke(*analyze, "--filter", wide, "--out", tmp_path / "no")
    assert_one_line_error(refused, "environment")
    assert not (tmp_path / "no").exists()


def test_the_filters_chance_level_takes_the_analysis_draws(data, tmp_path):
    """``rsmi_control`` scores the filter's units with the chance draws it is given (as
    ``analyze`` scores the network's layers with ``AnalysisOptions.chance_draws``), not a
    fixed number: its reference is ``rsmi_reference``'s with the same draws, and fewer draws
    give another chance level."""
    from ising_rg.io.jsonfile import to_json
    from ising_rg.io.samples import read_samples
    from ising_rg.rg.rsmi_comparison import RSMI_ROWS, rsmi_control, rsmi_reference
    from ising_rg.spins import analysis_subset

    rsmi = tmp_path / "rsmi.h5"
    assert _invoke("rsmi", "--data", data, "--epochs", "1", "--out", rsmi).exit_code == 0
    spins, model = read_samples(data).spins, load_filter(rsmi)
    rows = spins[analysis_subset(len(spins), RSMI_ROWS)]
    two = to_json(rsmi_control(spins, model, None, 0.42, seed=3, chance_draws=2)["reference"])
    assert two == to_json(rsmi_reference(rows, model, 0.42, seed=3, chance_draws=2))
    assert two != to_json(rsmi_control(spins, model, None, 0.42, seed=3)["reference"])
    with pytest.raises(IsingRGError, match="chance_draws must be an integer >= 1"):
        rsmi_control(spins, model, None, 0.42, chance_draws=0)

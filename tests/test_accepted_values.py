"""Every value a command accepts works through every later stage, or is refused up front:
a model that held no rows out (trained with --validation-fraction 0, or a file without
/validation_indices) is trained with its progress shown, analyzed and drawn, its held-out
quantities null with the reason; too few validation samples for an error bar are refused
before any sampling. And what the help and the errors say: no meaningless bounds, every
preset described, a truncated file named as such."""

from __future__ import annotations

import json
import re

import h5py
import pytest
from click.testing import CliRunner

from ising_rg.cli import main
from ising_rg.errors import IsingRGError
from ising_rg.io.models import load_dbn, save_dbn
from ising_rg.io.samples import write_samples
from ising_rg.pipeline import NO_HELD_OUT, run_validate
from ising_rg.rbm import DBN
from ising_rg.sampling.sampler import sample
from ising_rg.settings import VALIDATION_MIN_SAMPLES, SampleOptions
from tests.conftest import ANALYZE_FIGURE_FILES, assert_one_line_error


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _ok(*args) -> str:
    result = _invoke(*args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("values")
    return write_samples(sample(SampleOptions(8, 0.4, 300, seed=4)), root / "data.h5")


ANALYZE = ("--generative-samples", "10", "--gibbs-steps", "8", "--quiet")


def _assert_held_out_null(results) -> None:
    metrics = json.loads((results / "metrics.json").read_text())
    assert metrics["held_out"] == {"rows": 0, "note": NO_HELD_OUT}
    for layer in metrics["training"]["layers"]:
        assert layer["log_likelihood_validation"] is None
        assert layer["log_likelihood_train"] is not None  # the training rows are scored
    assert metrics["quality"]["log_likelihood_per_spin"]["validation"] is None


def test_a_model_trained_without_held_out_rows_goes_through_every_stage(data, tmp_path):
    model, results = tmp_path / "m.h5", tmp_path / "results"
    # the progress bar (not --quiet) has no free-energy gap to show: it shows the rest
    log = _ok("train", "--data", data, "--hidden", "16,4", "--epochs", "2",
              "--batch-size", "20", "--validation-fraction", "0", "--out", model)
    assert "layer 1/2 (64->16)" in log and "wrote" in log
    assert load_dbn(model).validation_indices_.size == 0
    _ok("analyze", "--model", model, "--data", data, "--out", results, *ANALYZE)
    _assert_held_out_null(results)
    drawn = _ok("figures", "--results", results, "--out", tmp_path / "f")
    assert f"wrote {ANALYZE_FIGURE_FILES} files" in drawn
    # a model with held-out rows records how many
    _ok("train", "--data", data, "--hidden", "4", "--epochs", "1", "--batch-size", "20",
        "--quiet", "--out", tmp_path / "held.h5")
    _ok("analyze", "--model", tmp_path / "held.h5", "--data", data, "--out", tmp_path / "r2",
        *ANALYZE)
    held = json.loads((tmp_path / "r2" / "metrics.json").read_text())["held_out"]
    assert held == {"rows": 30, "note": None}  # a tenth of 300


def test_a_model_file_without_validation_indices_is_analyzed(data, tmp_path):
    """A DBN built from RBMs and saved with save_dbn; /validation_indices is optional."""
    trained = tmp_path / "trained.h5"
    _ok("train", "--data", data, "--hidden", "16,4", "--epochs", "1", "--batch-size", "20",
        "--quiet", "--out", trained)
    model = tmp_path / "built.h5"
    save_dbn(DBN.from_rbms(load_dbn(trained).rbms_), model, data_sha256="0" * 64,
             hyperparameters={}, seed=0)
    with h5py.File(model, "a") as f:
        if "validation_indices" in f:
            del f["validation_indices"]
    _ok("analyze", "--model", model, "--data", data, "--out", tmp_path / "results", *ANALYZE)
    _assert_held_out_null(tmp_path / "results")


def test_too_few_validation_samples_for_an_error_bar_are_refused_up_front(tmp_path):
    result = _invoke("validate", "--size", "4", "--samples", "1", "--out", tmp_path)
    assert_one_line_error(result, "Invalid value for '--samples'", exit_code=2)
    with pytest.raises(IsingRGError, match="too few for an error bar: at least 32"):
        run_validate(tmp_path, size=4, n_samples=VALIDATION_MIN_SAMPLES - 1)
    assert list(tmp_path.iterdir()) == []
    # the fewest accepted give error bars figures draw, and a summary line
    log = _ok("validate", "--size", "4", "--samples", str(VALIDATION_MIN_SAMPLES), "--out",
              tmp_path)
    scan = json.loads((tmp_path / "validation.json").read_text())["sampler"]
    assert all(error is not None for error in scan["energy_error"] + scan["specific_heat_error"])
    summary = log.strip().splitlines()[-1]
    assert re.fullmatch(r"wrote .*validation\.json: <E>/N within 2 error bars of exact at "
                        r"\d+/13 temperatures \(largest .*\); C/N within .*; 1D decimation "
                        r"off exact enumeration by at most .*", summary), summary
    assert "wrote 4 files" in _ok("figures", "--results", tmp_path, "--out", tmp_path / "f")
    # an output in the way is one line, before the progress bar's
    result = _invoke("validate", "--size", "4", "--samples", "32", "--out", tmp_path)
    assert_one_line_error(result, "validation.json already exists")


# ------------------------------------------------------------------------ what help says
def _help(command: str) -> str:
    return _ok(command, "--help")


def test_help_states_no_bound_nobody_reaches_and_no_range_twice():
    for name in main.commands:
        text = " ".join(_help(name).split())
        assert "2147483647" not in text and "9223372036854775807" not in text, name
    sample_help = " ".join(_help("sample").split())
    assert sample_help.count("0.0001") == 1  # the coupling's range, once
    assert "x>=1" in sample_help and "[default: 20000; x>=1]" in sample_help


def test_every_preset_and_the_guide_initialisation_are_described():
    from ising_rg.experiments.presets import preset_names

    text = " ".join(_help("experiment").split())
    preset = text.split("--preset [")[1].split("--print-preset")[0]
    for name in preset_names():
        assert re.search(rf"\b{name} \(", preset), name  # each name with its description
    init = " ".join(_help("train").split()).split("--init [paper|guide]")[1].split("--")[0]
    assert "0.01 N(0,1)" in init and "logit of the data means" in init
    assert "--chains" not in _help("train")


def test_counts_beyond_the_hidden_bound_are_still_usage_errors(tmp_path):
    result = _invoke("sample", "--samples", str(2**31), "--out", tmp_path / "x.h5")
    assert_one_line_error(result, "2147483648 is larger than 2147483647", exit_code=2)
    result = _invoke("validate", "--seed", str(2**63), "--out", tmp_path)
    assert_one_line_error(result, "Invalid value for '--seed'", exit_code=2)


def test_a_truncated_file_is_named_as_such_without_hdf5_internals(data, tmp_path):
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(data.read_bytes()[:2000])
    size = data.stat().st_size
    for command in (("train", "--data", truncated, "--out", tmp_path / "m.h5"),
                    ("analyze", "--model", truncated, "--data", data, "--out", tmp_path / "r")):
        line = assert_one_line_error(_invoke(*command), f"{truncated} is truncated: 2,000 of "
                                                        f"its {size:,} bytes are there")
        assert "sblock" not in line and "eof" not in line

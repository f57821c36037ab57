"""The whole pipeline through the CLI on a small lattice: sample -> train -> analyze -> figures."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from ising_rg.cli import main
from ising_rg.io.models import load_dbn
from ising_rg.io.samples import read_samples


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    data, model = root / "data.h5", root / "model.h5"
    results, figures = root / "results", root / "figures"
    _run("sample", "--size", "16", "--samples", "1200", "--seed", "1", "--quiet",
         "--out", str(data))
    _run("train", "--data", str(data), "--hidden", "64,16,4", "--epochs", "4", "--quiet",
         "--out", str(model))
    _run("analyze", "--model", str(model), "--data", str(data), "--out", str(results),
         "--generative-samples", "100", "--gibbs-steps", "20", "--validation-samples", "200")
    _run("figures", "--results", str(results), "--out", str(figures))
    return {"data": data, "model": model, "results": results, "figures": figures}


def test_metrics_schema(pipeline):
    metrics = json.loads((pipeline["results"] / "metrics.json").read_text())
    assert [layer["index"] for layer in metrics["layers"]] == [1, 2, 3]
    assert [layer["n_units"] for layer in metrics["layers"]] == [64, 16, 4]
    assert [layer["block_size"] for layer in metrics["layers"]] == [2, 4, 8]
    for layer in metrics["layers"]:
        for key in ("participation_ratio", "radius_of_gyration"):
            assert set(layer[key]) >= {"mean", "std"}
        for key in ("locality", "block_spin_correlation"):
            assert set(layer[key]) >= {"mean", "chance"}
        assert 0.0 <= layer["dead_fraction"] <= 1.0
    for name in ("energy_per_spin", "abs_magnetization", "specific_heat", "susceptibility"):
        assert set(metrics["generative"][name]) >= {"dbn", "monte_carlo", "exact"}
    assert metrics["generative"]["energy_per_spin"]["exact"] is not None
    assert metrics["provenance"]["trained_on_this_data"] is True
    assert metrics["decimation"]["max_enumeration_error"] < 1e-10
    assert len(metrics["validation"]["temperature"]) == 13
    training = metrics["training"]["layers"]
    assert [entry["log_z_method"] == "exact" for entry in training] == [False, True, True]
    for entry in training:
        assert entry["log_likelihood_train"] < 0 and entry["log_likelihood_validation"] < 0
    # No model of the data beats the data's own distribution by more than noise.
    assert training[0]["log_likelihood_train"] < metrics["training"]["ising_log_likelihood"] + 5


def test_model_file_layout_and_reload(pipeline):
    with h5py.File(pipeline["model"]) as f:
        assert f.attrs["format"] == "ising_rg.dbn"
        assert f["layers/1/weights"].shape == (256, 64)
        assert f["layers/1/weights"].dtype == np.float32
        assert f["layers/3/hidden_bias"].shape == (4,)
        assert "reconstruction_error" in f["layers/2/history"]
        assert len(f.attrs["data_sha256"]) == 64
    dbn = load_dbn(pipeline["model"])
    spins = read_samples(pipeline["data"]).spins[:10]
    visible = ((spins.reshape(10, -1) + 1) // 2).astype(np.float32)
    assert dbn.transform(visible).shape == (10, 4)


def test_every_figure_is_written(pipeline):
    names = {p.name for p in pipeline["figures"].iterdir()}
    for figure in ("receptive_fields", "field_sizes", "coarse_graining", "sampler_validation",
                   "training_curves", "decimation_flow"):
        assert f"{figure}.png" in names and f"{figure}.pdf" in names
    assert not [n for n in names if n.endswith(".tmp")]


def test_results_and_figures_are_not_overwritten(pipeline):
    before = (pipeline["results"] / "metrics.json").read_bytes()
    for args in (["analyze", "--model", str(pipeline["model"]), "--data", str(pipeline["data"]),
                  "--out", str(pipeline["results"])],
                 ["figures", "--results", str(pipeline["results"]),
                  "--out", str(pipeline["figures"])]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and "already exists" in result.output
    assert (pipeline["results"] / "metrics.json").read_bytes() == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--hidden", "64,x"], "comma-separated"),
        (["--hidden", "64,0"], "positive"),
        (["--epochs", "0"], "at least 1"),
        (["--learning-rate", "-1"], "learning"),
        (["--batch-size", "0"], "batch"),
        (["--validation-fraction", "1.5"], "validation"),
        (["--momentum", "0.5"], "momentum"),
    ],
)
def test_train_bad_options(pipeline, tmp_path, extra, message):
    out = tmp_path / "m.h5"
    result = CliRunner().invoke(main, ["train", "--data", str(pipeline["data"]), "--quiet",
                                       "--epochs", "1", "--out", str(out), *extra])
    assert result.exit_code != 0
    assert result.output.startswith("Error:") and len(result.output.strip().splitlines()) == 1
    assert message in result.output.lower() or message in result.output
    assert not out.exists()


def test_train_rejects_foreign_and_broken_data(tmp_path):
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["spins"] = np.zeros((10, 4, 4), dtype=np.int8)
    text = tmp_path / "text.h5"
    text.write_text("not hdf5")
    for path, message in ((tmp_path / "missing.h5", "does not exist"),
                          (foreign, "not an ising_rg sample file"),
                          (text, "not an HDF5 file")):
        result = CliRunner().invoke(main, ["train", "--data", str(path), "--quiet",
                                           "--out", str(tmp_path / "m.h5")])
        assert result.exit_code == 1 and message in result.output, result.output
        assert "Traceback" not in result.output


def test_analyze_rejects_mismatched_sizes(pipeline, tmp_path):
    other = tmp_path / "other.h5"
    _run("sample", "--size", "8", "--samples", "50", "--quiet", "--out", str(other))
    result = CliRunner().invoke(main, ["analyze", "--model", str(pipeline["model"]),
                                       "--data", str(other), "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and "visible units" in result.output
    result = CliRunner().invoke(main, ["analyze", "--model", str(pipeline["data"]),
                                       "--data", str(other), "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and result.output.startswith("Error:")


def test_figures_without_results_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["figures", "--results", str(tmp_path / "none"),
                                       "--out", str(tmp_path / "f")])
    assert result.exit_code == 1 and "run `ising-rg analyze` first" in result.output

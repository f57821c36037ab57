"""The whole pipeline through the CLI on a small lattice: sample -> train -> analyze, validate,
figures (first without validate's output, then with it)."""

from __future__ import annotations

import json
import shutil

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from ising_rg.cli import main
from ising_rg.io.models import load_dbn
from ising_rg.io.samples import read_samples

FIGURES_OF_ANALYZE = ("receptive_fields", "first_layer_fields", "field_sizes", "effective_masses",
                      "coarse_graining", "training_curves")
FIGURES_OF_VALIDATE = ("sampler_validation", "decimation_flow")


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
    analyze_log = _run("analyze", "--model", str(model), "--data", str(data), "--out",
                       str(results), "--generative-samples", "100", "--gibbs-steps", "20")
    # Before validate: figures draws what the analysis alone allows and names the rest.
    partial = root / "figures_without_validation"
    partial_log = _run("figures", "--results", str(results), "--out", str(partial))
    _run("validate", "--size", "16", "--samples", "200", "--out", str(results))
    _run("figures", "--results", str(results), "--out", str(figures))
    return {"data": data, "model": model, "results": results, "figures": figures,
            "partial": partial, "partial_log": partial_log, "analyze_log": analyze_log}


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
    assert "validation" not in metrics and "decimation" not in metrics  # `validate` does them
    training = metrics["training"]["layers"]
    assert [entry["log_z_method"] == "exact" for entry in training] == [False, True, True]
    for entry in training:
        assert entry["log_likelihood_train"] < 0 and entry["log_likelihood_validation"] < 0
    # No model of the data beats the data's own distribution by more than noise.
    assert training[0]["log_likelihood_train"] < metrics["training"]["ising_log_likelihood"] + 5


def test_analyze_shows_its_stages_and_a_formatted_table(pipeline):
    """Stage lines while it works, then one row per layer with rounded numbers."""
    log = pipeline["analyze_log"].splitlines()
    for stage in ("receptive fields", "layer metrics", "generative sampling",
                  "training health (log Z)"):
        assert f"analyze: {stage} ..." in log
        assert any(line.startswith(f"analyze: {stage} done (") for line in log)
    header = next(i for i, line in enumerate(log) if line.startswith("layer "))
    assert log[header].split()[:6] == ["layer", "b", "units", "dead", "sqrt(PR)", "R_g"]
    metrics = json.loads((pipeline["results"] / "metrics.json").read_text())
    for row, layer in zip(log[header + 1: header + 4], metrics["layers"], strict=True):
        cells = row.split()
        assert cells[:3] == [str(layer["index"]), str(layer["block_size"]),
                             str(layer["n_units"])]
        assert cells[3] == f"{100 * layer['dead_fraction']:.0f}%"
        assert float(cells[5]) == pytest.approx(layer["radius_of_gyration"]["mean"], rel=5e-3)
        # every number to 3 significant digits, not the float's 17
        digits = [c.strip("()%").replace(".", "").lstrip("0") for c in cells[4:]]
        assert all(len(d) <= 3 for d in digits), row


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


def test_validation_file(pipeline):
    validation = json.loads((pipeline["results"] / "validation.json").read_text())
    assert validation["settings"] == {"size": 16, "n_samples": 200, "seed": 0}
    scan = validation["sampler"]
    assert len(scan["temperature"]) == 13 and scan["size"] == [16]
    # The Monte Carlo points agree with Kaufman's exact values within their error bars.
    pulls = ((np.array(scan["energy"]) - np.array(scan["energy_exact"]))
             / np.array(scan["energy_error"]))
    assert np.all(np.abs(pulls) < 5)
    assert validation["decimation"]["max_enumeration_error"] < 1e-10


def test_every_figure_is_written(pipeline):
    names = {p.name for p in pipeline["figures"].iterdir()}
    for figure in FIGURES_OF_ANALYZE + FIGURES_OF_VALIDATE:
        assert f"{figure}.png" in names and f"{figure}.pdf" in names
    assert not [n for n in names if n.endswith(".tmp")]


def test_figures_without_validation_draw_the_rest_and_say_so(pipeline):
    names = {p.name for p in pipeline["partial"].iterdir()}
    assert names == {f"{figure}.{ext}" for figure in FIGURES_OF_ANALYZE for ext in ("png", "pdf")}
    for figure in FIGURES_OF_VALIDATE:
        assert f"skipped {figure}:" in pipeline["partial_log"]
    assert "validation.json not found (run `ising-rg validate`)" in pipeline["partial_log"]
    assert f"wrote {2 * len(FIGURES_OF_ANALYZE)} files" in pipeline["partial_log"]


def test_figures_from_validation_alone(pipeline, tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    shutil.copy(pipeline["results"] / "validation.json", results)
    log = _run("figures", "--results", str(results), "--out", str(tmp_path / "f"))
    assert {p.name for p in (tmp_path / "f").iterdir()} == {
        f"{figure}.{ext}" for figure in FIGURES_OF_VALIDATE for ext in ("png", "pdf")}
    assert "skipped receptive_fields:" in log and "run `ising-rg analyze`" in log


def test_figures_write_all_or_nothing(pipeline, tmp_path, monkeypatch):
    from ising_rg import figures

    def broken(arrays):
        raise RuntimeError("drawing failed")

    # A figure that draws, then one that fails: neither is written, no temporary file is left.
    monkeypatch.setattr(figures, "FIGURES", {"field_sizes": figures.FIGURES["field_sizes"],
                                             "training_curves": (broken, ("arrays",))})
    with pytest.raises(RuntimeError):
        figures.make_figures(pipeline["results"], tmp_path / "f")
    assert list((tmp_path / "f").iterdir()) == []


def test_validate_refuses_to_overwrite_and_bad_options(pipeline, tmp_path):
    before = (pipeline["results"] / "validation.json").read_bytes()
    result = CliRunner().invoke(main, ["validate", "--size", "16", "--samples", "40",
                                       "--out", str(pipeline["results"])])
    assert result.exit_code == 1 and "already exists" in result.output
    assert (pipeline["results"] / "validation.json").read_bytes() == before
    for option, value in (("--size", "7"), ("--samples", "0"), ("--seed", "-1")):
        result = CliRunner().invoke(main, ["validate", option, value, "--out", str(tmp_path)])
        assert result.exit_code == 2, result.output
        assert result.output.startswith(f"Error: Invalid value for '{option}'"), result.output
        assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "validation.json").exists()


def test_results_and_figures_are_not_overwritten(pipeline):
    before = (pipeline["results"] / "metrics.json").read_bytes()
    for args in (["analyze", "--model", str(pipeline["model"]), "--data", str(pipeline["data"]),
                  "--out", str(pipeline["results"])],
                 ["figures", "--results", str(pipeline["results"]),
                  "--out", str(pipeline["figures"])],
                 ["validate", "--out", str(pipeline["results"])]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and "already exists" in result.output
    assert (pipeline["results"] / "metrics.json").read_bytes() == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--hidden", "64,x"], "Invalid value for '--hidden': '64,x' is not a comma-separated"),
        (["--hidden", "64,0"], "Invalid value for '--hidden': '64,0' is not a comma-separated"),
        (["--epochs", "0"], "Invalid value for '--epochs': 0 is not in the range 1<=x"),
        (["--learning-rate", "-1"], "Invalid value for '--learning-rate'"),
        (["--learning-rate", "inf"], "Invalid value for '--learning-rate': 'inf' is not"),
        (["--batch-size", "0"], "Invalid value for '--batch-size': 0 is not in the range x>=1"),
        (["--cd-k", "0"], "Invalid value for '--cd-k'"),
        (["--persistent-chains", "0"], "Invalid value for '--persistent-chains'"),
        (["--l1", "-1e-4"], "Invalid value for '--l1'"),
        (["--validation-fraction", "1.5"], "Invalid value for '--validation-fraction'"),
        (["--validation-fraction", "1"], "Invalid value for '--validation-fraction'"),
        (["--momentum", "0.5"], "Invalid value for '--momentum': '0.5' is not initial,final"),
        (["--momentum", "0.5,1.2,5"], "Invalid value for '--momentum'"),
        (["--init", "zeros"], "Invalid value for '--init'"),
        (["--seed", "x"], "Invalid value for '--seed'"),
    ],
)
def test_train_bad_options(pipeline, tmp_path, extra, message):
    out = tmp_path / "m.h5"
    result = CliRunner().invoke(main, ["train", "--data", str(pipeline["data"]), "--quiet",
                                       "--epochs", "1", "--out", str(out), *extra])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {message}"), result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_train_data_dependent_errors_name_the_options(pipeline, tmp_path):
    """What only the data can decide is the library's check, in the option's name."""
    out = tmp_path / "m.h5"
    result = CliRunner().invoke(main, ["train", "--data", str(pipeline["data"]), "--quiet",
                                       "--epochs", "1", "--batch-size", "5000", "--out",
                                       str(out)])
    assert result.exit_code == 1
    assert result.output == ("Error: batch_size 5000 is larger than the 1080 training "
                             "samples\n")
    assert not out.exists()


def test_train_rejects_foreign_and_broken_data(tmp_path):
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["spins"] = np.zeros((10, 4, 4), dtype=np.int8)
    text = tmp_path / "text.h5"
    text.write_text("not hdf5")
    for path, message, code in ((tmp_path / "missing.h5", "does not exist", 2),
                                (foreign, "not an ising_rg sample file", 1),
                                (text, "not an HDF5 file", 1)):
        result = CliRunner().invoke(main, ["train", "--data", str(path), "--quiet",
                                           "--out", str(tmp_path / "m.h5")])
        assert result.exit_code == code and message in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1


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

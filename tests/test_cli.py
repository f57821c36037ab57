"""The command line as a user meets it: help in pipeline order, option types, one rule for
output folders, inputs checked before outputs and before long work, the bench output, the
recipe options as the recipe's settings, and one real subprocess run of every command from an
empty folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ising_rg import cli
from ising_rg.cli import COMMAND_ORDER, main
from ising_rg.figures import FIGURES
from ising_rg.io.samples import write_samples
from ising_rg.pipeline import run_train, stage
from ising_rg.sampling.sampler import sample
from ising_rg.settings import Recipe, SampleOptions
from tests.conftest import ANALYZE_FIGURE_FILES, assert_one_line_error

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    data = write_samples(sample(SampleOptions(8, 0.4, 200, seed=1)), root / "data.h5")
    model = root / "model.h5"
    run_train(data, model, (16, 4), Recipe(epochs=2, batch_size=20))
    return {"data": data, "model": model}


def _invoke(*args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


# --------------------------------------------------------------------------------- help
def test_commands_are_listed_in_pipeline_order_with_whole_short_help():
    assert COMMAND_ORDER == ("sample", "exact", "validate", "train", "analyze", "rsmi", "mcrg",
                             "figures", "experiment", "bench")
    result = _invoke("--help", terminal_width=80)
    listing = result.output.split("Commands:")[1].splitlines()[1:]
    assert [line.split()[0] for line in listing if line.strip()] == list(COMMAND_ORDER)
    assert not [line for line in listing if "..." in line]
    for name in COMMAND_ORDER:
        command = main.commands[name]
        assert command.short_help and command.get_short_help_str(limit=60) == command.short_help


def test_every_option_of_every_command_has_help():
    for name, command in main.commands.items():
        for param in command.params:
            if isinstance(param, click.Option) and "--help" not in param.opts:
                assert param.help, f"{name} {param.opts[0]} has no help"


def test_usage_errors_are_one_line_with_a_pointer_to_help():
    for args, message in ((["smaple"], "No such command 'smaple'"),
                          (["--bogus"], "No such option '--bogus'"),
                          (["train"], "Missing option '--data'"),
                          (["train", "--bogus"], "No such option '--bogus'")):
        line = assert_one_line_error(_invoke(*args), message, exit_code=2)
        assert line.endswith("--help')")


# ------------------------------------------------------------------------ output folders
def test_every_command_creates_the_parent_folders_of_its_outputs(files, tmp_path, monkeypatch):
    """Run in an empty folder: default and nested outputs whose folders do not exist yet."""
    monkeypatch.chdir(tmp_path)
    assert _invoke("sample", "--size", "8", "--samples", "50", "--quiet").exit_code == 0
    assert Path("data/ising_L8_K0.408.h5").is_file()
    assert _invoke("train", "--data", files["data"], "--hidden", "4", "--epochs", "1",
                   "--batch-size", "20", "--quiet", "--out", "a/b/m.h5").exit_code == 0
    assert Path("a/b/m.h5").is_file()
    result = _invoke("analyze", "--model", files["model"], "--data", files["data"],
                     "--out", "c/d/results", "--generative-samples", "10",
                     "--gibbs-steps", "8", "--quiet")
    assert result.exit_code == 0, result.output
    assert {p.name for p in Path("c/d/results").iterdir()} == {"metrics.json", "arrays.h5"}
    assert _invoke("validate", "--size", "4", "--samples", "32", "--out", "e/f").exit_code == 0
    assert Path("e/f/validation.json").is_file()
    assert _invoke("figures", "--results", "c/d/results", "--out", "g/h").exit_code == 0
    assert len(list(Path("g/h").iterdir())) == ANALYZE_FIGURE_FILES
    assert sorted(p.name for p in Path(".").glob("**/.*.tmp")) == []


def test_an_output_folder_that_is_a_file_is_named(files, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    result = _invoke("train", "--data", files["data"], "--out", blocker / "m.h5")
    assert_one_line_error(result, f"output folder {blocker} is a file")
    result = _invoke("sample", "--size", "8", "--samples", "5", "--out", blocker / "x" / "s.h5")
    assert_one_line_error(result, f"output folder {blocker} is a file")
    assert blocker.read_text() == "a file"


# ------------------------------------------------------------- inputs first, work last
def test_train_names_the_missing_input_before_the_output(tmp_path):
    taken = tmp_path / "taken.h5"
    taken.write_bytes(b"keep")
    for args in (["--data", tmp_path / "nothere.h5", "--out", taken],
                 ["--out", taken, "--data", tmp_path / "nothere.h5"]):
        assert_one_line_error(_invoke("train", *args), "'--data': File", exit_code=2)
    broken = tmp_path / "broken.h5"
    broken.write_text("not hdf5")
    assert_one_line_error(_invoke("train", "--data", broken, "--out", taken), "not an HDF5")
    assert taken.read_bytes() == b"keep"


def test_analyze_checks_the_results_folder_before_it_computes(files, tmp_path, monkeypatch):
    from ising_rg import pipeline

    def must_not_run(*args, **kwargs):
        raise AssertionError("the analysis started although its output was in the way")

    monkeypatch.setattr(pipeline, "analyze_model", must_not_run)
    results = tmp_path / "results"
    results.mkdir()
    (results / "arrays.h5").write_bytes(b"old")
    result = _invoke("analyze", "--model", files["model"], "--data", files["data"],
                     "--out", results)
    assert_one_line_error(result, "arrays.h5 already exists (use --overwrite")
    taken = tmp_path / "file"
    taken.write_text("x")
    result = _invoke("analyze", "--model", files["model"], "--data", files["data"],
                     "--out", taken)
    assert_one_line_error(result, "is a file", exit_code=2)
    # a damaged input is named before the output in the way
    result = _invoke("analyze", "--model", files["data"], "--data", files["data"],
                     "--out", results)
    assert_one_line_error(result, "not an ising_rg model file")


def test_sample_checks_its_options_before_its_output(tmp_path):
    taken = tmp_path / "taken.h5"
    taken.write_bytes(b"keep")
    result = _invoke("sample", "--size", "8", "--spacing", "3", "--thermalization", "0",
                     "--samples", "1", "--chains", "2", "--out", taken)
    assert_one_line_error(result, "already exists")
    assert taken.read_bytes() == b"keep"


def test_data_dependent_training_errors_come_before_the_first_epoch(files, tmp_path,
                                                                     monkeypatch):
    result = _invoke("train", "--data", files["data"], "--validation-fraction", "0.5",
                     "--batch-size", "150", "--quiet", "--out", tmp_path / "m.h5")
    assert_one_line_error(result, "batch_size 150 is larger than the 100 training samples")
    assert not (tmp_path / "m.h5").exists()


# ------------------------------------------------------------------- chains and bench
def test_persistent_chains_need_persistent_cd(files, tmp_path):
    common = ["train", "--data", files["data"], "--hidden", "4", "--epochs", "1",
              "--batch-size", "20", "--quiet"]
    pcd = _invoke(*common, "--persistent", "--persistent-chains", "7", "--out",
                  tmp_path / "pcd.h5")
    assert pcd.exit_code == 0, pcd.output
    from ising_rg.io.models import load_dbn

    recipe = load_dbn(tmp_path / "pcd.h5").get_params()["recipe"]
    assert (recipe.persistent, recipe.persistent_chains) == (True, 7)
    without_pcd = _invoke(*common, "--persistent-chains", "7", "--out", tmp_path / "cd.h5")
    assert_one_line_error(without_pcd, "persistent_chains needs persistent")
    assert not (tmp_path / "cd.h5").exists()


def test_bench_prints_a_table_or_json(monkeypatch):
    import ising_rg.bench as bench

    figures = {"metropolis": {"64": {"flips_per_ns": 1.234567, "kernel": "serial"}},
               "paper_dataset_seconds": 12.3456}
    monkeypatch.setattr(bench, "run_benchmarks", lambda parts: figures)
    table = _invoke("bench")
    assert table.exit_code == 0
    assert table.stdout.splitlines() == ["metropolis 64 flips_per_ns  1.235",
                                         "metropolis 64 kernel        serial",
                                         "paper_dataset_seconds       12.35"]
    as_json = _invoke("bench", "--json")
    assert json.loads(as_json.stdout) == figures


def test_stage_reports_start_steps_and_end():
    calls = []
    with stage(lambda *report: calls.append(report), "AIS", 3) as step:
        step(1)
        step(2)
    assert calls == [("AIS", 0, 3), ("AIS", 1, 3), ("AIS", 2, 3), ("AIS", 3, 3)]
    with stage(None, "silent") as step:  # no callback: nothing to call
        step(1)


def test_stage_lines_print_start_and_end_and_bar_steps(capsys):
    lines = cli.StageLines(quiet=False)
    lines("AIS", 0, 2)
    lines("AIS", 1, 2)
    lines("AIS", 2, 2)
    err = capsys.readouterr().err
    assert err.startswith("analyze: AIS ...\n") and "analyze: AIS done (" in err
    quiet = cli.StageLines(quiet=True)
    quiet("AIS", 0, 1)
    quiet("AIS", 1, 1)
    assert capsys.readouterr().err == ""


# ------------------------------------------------------- one real run of each command
@pytest.mark.slow
def test_every_command_runs_as_a_subprocess_from_an_empty_folder(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY)}

    def run(*args):
        return subprocess.run([sys.executable, "-c", "from ising_rg.cli import main; "
                               "main(prog_name='ising-rg')", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)

    steps = [("sample", "--size", "8", "--samples", "200", "--quiet"),
             ("exact", "--size", "8"),
             ("validate", "--size", "4", "--samples", "32"),
             ("train", "--data", "data/ising_L8_K0.408.h5", "--hidden", "16,4", "--epochs",
              "2", "--batch-size", "20", "--quiet"),
             ("analyze", "--model", "models/dbn.h5", "--data", "data/ising_L8_K0.408.h5",
              "--generative-samples", "10", "--gibbs-steps", "8"),
             ("figures",),
             ("experiment", "--help")]
    for args in steps:
        done = run(*args)
        assert done.returncode == 0, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert json.loads(run("exact", "--size", "8").stdout)["size"] == 8
    assert len(list((tmp_path / "figures").iterdir())) == 2 * len(FIGURES)
    # bench is not run here (benchmarks are not tests); its errors are one line all the same
    done = run("bench", "--only", "everything")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("Error: Invalid value for '--only'")
    done = run("train", "--data", "data/ising_L8_K0.408.h5", "--quiet")
    assert done.returncode == 1 and done.stderr == (
        "Error: output models/dbn.h5 already exists (use --overwrite to replace it)\n")


def test_an_output_that_is_not_a_regular_file_is_never_replaced(tmp_path):
    pipe = tmp_path / "pipe.h5"
    os.mkfifo(pipe)
    result = _invoke("sample", "--size", "8", "--samples", "5", "--quiet", "--overwrite",
                     "--out", pipe)
    assert_one_line_error(result, f"output {pipe} exists and is not a regular file")
    assert pipe.is_fifo()


@pytest.mark.parametrize(
    ("args", "option"),
    [(["sample", "--coupling", "1e300"], "--coupling"),  # beyond the exact solution's range
     (["sample", "--temperature", "1e-3"], "--temperature"),
     (["sample", "--thermalization", "10000000000"], "--thermalization"),
     (["sample", "--chains", "100000"], "--chains"),
     (["exact", "--size", "1000000000"], "--size"),
     (["sample", "--samples", str(10**23)], "--samples"),  # numpy cannot even try these
     (["validate", "--samples", str(2**31)], "--samples"),
     (["train", "--hidden", f"4,{10**23}"], "--hidden"),
     (["train", "--epochs", str(10**7)], "--epochs"),
     (["analyze", "--generative-samples", str(10**23)], "--generative-samples")],
)
def test_sizes_beyond_what_a_run_can_finish_are_usage_errors(tmp_path, args, option):
    result = _invoke(*args, "--out", tmp_path / "x.h5") if args[0] == "sample" else \
        _invoke(*args)  # the other commands stop at the bad value, before their inputs
    assert_one_line_error(result, f"Invalid value for '{option}'", exit_code=2)


def test_memory_and_file_system_errors_are_one_line(files, tmp_path, monkeypatch):
    from ising_rg import pipeline

    def too_big(*args, **kwargs):
        raise MemoryError("Unable to allocate 5.68 PiB")

    monkeypatch.setattr(pipeline, "sample", too_big)
    result = _invoke("sample", "--size", "8", "--samples", "5", "--quiet",
                     "--out", tmp_path / "x.h5")
    assert_one_line_error(result, "not enough memory for the sizes asked for (Unable to")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "x.h5"))

    monkeypatch.setattr(pipeline, "sample", full_disk)
    result = _invoke("sample", "--size", "8", "--samples", "5", "--quiet",
                     "--out", tmp_path / "x.h5")
    assert_one_line_error(result, "No space left on device")
    assert not (tmp_path / "x.h5").exists()


def test_analyze_on_a_smaller_sample_file_than_the_training_data_is_refused(files, tmp_path):
    small = write_samples(sample(SampleOptions(8, 0.4, 20, seed=2)), tmp_path / "small.h5")
    result = _invoke("analyze", "--model", files["model"], "--data", small,
                     "--out", tmp_path / "r")
    assert_one_line_error(result, "has 20 samples: analyze it on the sample file it was")
    assert not (tmp_path / "r").exists()


def test_a_diverging_training_run_is_one_line(files, tmp_path):
    """numpy's overflow warnings on the way do not break the one-line rule."""
    result = _invoke("train", "--data", files["data"], "--hidden", "4", "--epochs", "2",
                     "--batch-size", "20", "--l2", "1e30", "--quiet", "--out", tmp_path / "m.h5")
    assert_one_line_error(result, "training diverged at epoch 1")
    assert not (tmp_path / "m.h5").exists()

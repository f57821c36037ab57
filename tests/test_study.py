"""Studies from TOML files: the schema and its one-line errors, grids, seeds and keys, the
presets, the results table and ``ising-rg experiment --spec/--summary/--print-preset``."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ising_rg import paper
from ising_rg.cli import main
from ising_rg.errors import IsingRGError
from ising_rg.experiments import spec, table
from ising_rg.experiments.jobs import Job
from ising_rg.experiments.runner import build_jobs
from ising_rg.formatting import format_measurement
from ising_rg.settings import RECIPES, Recipe

REPO = Path(__file__).resolve().parents[1]


def parse(text: str) -> spec.Study:
    return spec.parse_study(spec.tomllib.loads(text), "study.toml")


def jobs_of(text: str, **kwargs) -> list[Job]:
    return spec.build_study_jobs(parse(text), **kwargs)


GROUP = '[[groups]]\nname = "a"\n'


# -- the presets --------------------------------------------------------------------------------
def test_default_preset_is_the_reports_study():
    """The report's study: 23 jobs, in this order, with these settings (the paper's 200
    epochs with 5 seeds; replicate 0 also at 400; two seeds for the controls that train, three
    for the untrained one; one per sweep coupling; the flow group on five temperatures; the
    density recipe beside it; the critical groups at L = 32 and the MCRG reference at L = 64)
    and the seeds of SeedSequence(0).spawn(5)."""
    coupling_c = 0.4406867935097715  # ln(1 + sqrt 2) / 2, as the preset writes it
    paper_extras = ("couplings", "flow", "rsmi", "mcrg")
    rg_extras = ("rsmi", "mcrg")
    density_l1 = RECIPES["density"].l1
    expected = [("paper", "paper", 0.408, r, 200, 2e-4, paper_extras) for r in range(5)]
    expected += [("convergence", "paper", 0.408, 0, 400, 2e-4, ("couplings",))]
    expected += [("l1_zero", "paper", 0.408, r, 200, 0.0, ("couplings",)) for r in range(2)]
    for variant, n in (("permuted", 2), ("untrained", 3)):
        expected += [(variant, variant, 0.408, r, 200, 2e-4, ("couplings",)) for r in range(n)]
    for coupling in (0.2, 0.3, 0.44, 0.5):
        expected += [("sweep", "paper", coupling, 0, 200, 2e-4, rg_extras)]
    expected += [("flow", "paper", 0.408, 0, 200, 2e-4, ("flow",))]
    expected += [("density", "paper", 0.408, r, 200, density_l1, ("couplings",) + rg_extras)
                 for r in range(2)]
    expected += [("critical", "paper", coupling_c, 0, 200, l1, rg_extras)
                 for l1 in (2e-4, density_l1)]
    expected += [("mcrg_reference", "untrained", coupling_c, 0, 200, 2e-4, rg_extras)]
    jobs = build_jobs("default")
    assert [(j.group, j.variant, j.coupling, j.replicate, j.epochs, j.l1, j.extras)
            for j in jobs] == expected
    seeds = []
    for child in np.random.SeedSequence(0).spawn(5):
        data, train = child.spawn(2)
        seeds.append((int(data.generate_state(1, np.uint32)[0]),
                      int(train.generate_state(1, np.uint32)[0])))
    sizes = {"critical": (32, paper.N_SAMPLES, (256, 64, 16)),
             "mcrg_reference": (64, 5000, (1024, 256, 64))}
    for job in jobs:
        assert (job.data_seed, job.train_seed) == seeds[job.replicate]
        mixture = (0.286, 0.357, 0.408, 0.455, 0.556) if job.group == "flow" else None
        n_samples = paper.N_SAMPLES // 5 if mixture else paper.N_SAMPLES  # per temperature
        assert (job.size, job.samples, job.hidden) == sizes.get(
            job.group, (paper.SIZE, n_samples, paper.HIDDEN))
        assert (job.generative_samples, job.gibbs_steps, job.mixture) == (1000, 2000, mixture)
        recipe = "density" if job.l1 == density_l1 else "paper"
        assert job.recipe == Recipe.named(recipe, epochs=job.epochs, l1=job.l1)
        assert job.settings["likelihood"] == (job.group in ("paper", "density", "critical"))
    assert len({job.key for job in jobs}) == len(jobs)


@pytest.mark.parametrize("name", ["default", "tiny"])
def test_print_preset_parses_back_to_the_same_jobs(name, tmp_path):
    result = CliRunner().invoke(main, ["experiment", "--print-preset", name])
    assert result.exit_code == 0, result.output
    copy = tmp_path / "copy.toml"
    copy.write_text(result.output)
    assert spec.build_study_jobs(spec.read_study(copy)) == build_jobs(name)


def test_unknown_preset_is_an_error():
    with pytest.raises(IsingRGError, match="unknown preset 'enormous'; choose one of default"):
        build_jobs("enormous")


# -- grids, defaults, seeds, keys -------------------------------------------------------------
def test_a_list_is_a_grid_axis_and_a_list_of_lists_for_list_settings():
    jobs = jobs_of(GROUP + 'replicates = [0, 2]\n'
                   'data = { size = 8, samples = 200, temperature = [2.0, 2.5] }\n'
                   'network = { hidden = [[8], [16, 4]] }\n'
                   'recipe = { momentum = [0.5, 0.8, 3] }\n')
    assert len(jobs) == 8
    assert {(j.coupling, j.hidden, j.replicate) for j in jobs} == {
        (k, h, r) for k in (0.5, 0.4) for h in ((8,), (16, 4)) for r in (0, 2)}
    assert all(j.settings["momentum"] == (0.5, 0.8, 3) for j in jobs)
    assert {j.point for j in jobs} == {f"a@{k} [hidden={h}]" for k in ("0.500", "0.400")
                                       for h in ("8", "16-4")}
    # Replicate 2's seeds do not depend on how many replicates the study has.
    assert {(j.data_seed, j.train_seed) for j in jobs if j.replicate == 2} == {
        spec.replicate_seeds(0, 3)[2]}


def test_defaults_fill_what_a_group_leaves_and_the_named_recipe_the_rest():
    a, b = jobs_of('seed = 3\n[defaults]\n'
                   'data = { size = 8, samples = 200, coupling = 0.3 }\n'
                   'recipe = { epochs = 7, l1 = 0.001 }\n'
                   + GROUP + '[[groups]]\nname = "b"\n'
                   'data = { temperature = 2.5 }\nrecipe = { l1 = 0.0 }\n')
    assert (a.size, a.coupling, a.epochs, a.l1) == (8, 0.3, 7, 0.001)
    assert (b.size, b.coupling, b.epochs, b.l1, b.samples) == (8, 0.4, 7, 0.0, 200)
    assert b.settings["learning_rate"] == paper.LEARNING_RATE
    assert b.settings["recipe"] == "paper"
    assert (a.data_seed, a.train_seed) == spec.replicate_seeds(3, 1)[0]
    (again,) = spec.build_study_jobs(parse(GROUP), root_seed=5)  # --seed overrides `seed`
    assert (again.data_seed, again.train_seed) == spec.replicate_seeds(5, 1)[0]


def test_a_mixture_of_temperatures_is_one_data_set_measured_at_one():
    (job,) = jobs_of('[[groups]]\nname = "flow"\ndata = { size = 8, samples = 100, '
                     'temperature = { mixture = [2.0, 3.0, 2.5], measure_at = 2.5 } }\n')
    assert job.coupling == 0.4 and job.mixture == (1 / 3, 0.4, 0.5)
    options = job.data_options()
    assert [o.coupling for o in options] == [1 / 3, 0.4, 0.5]
    assert {(o.seed, o.samples, o.size) for o in options} == {(job.data_seed, 100, 8)}
    assert job.point == "flow@0.400"


BASE = GROUP + 'replicates = 2\ndata = { size = 8, samples = 200 }\nrecipe = { epochs = 3 }\n'


def test_jobs_are_keyed_by_their_settings_not_by_their_group():
    jobs = jobs_of(BASE)
    assert [j.key for j in jobs_of(BASE.replace('"a"', '"renamed"'))] == [j.key for j in jobs]
    edited = jobs_of(BASE.replace("epochs = 3", "epochs = 4"))
    assert not {j.key for j in jobs} & {j.key for j in edited}
    assert jobs[0].key != jobs[1].key  # replicates differ by their seeds
    # The untrained control does not depend on training options it never uses.
    untrained = BASE + 'variant = "untrained"\n'
    assert ([j.key for j in jobs_of(untrained)]
            == [j.key for j in jobs_of(untrained.replace("epochs = 3", "epochs = 4"))])
    # The key is the hash of the canonical JSON: independent of the settings' order.
    job = jobs[0]
    text = json.dumps(job.key_settings(), sort_keys=True, separators=(",", ":"))
    assert job.key == hashlib.sha256(text.encode()).hexdigest()[:16]
    shuffled = Job(job.group, job.replicate, dict(reversed(job.settings.items())), job.label)
    assert shuffled.key == job.key
    assert Job.from_dict(json.loads(json.dumps(job.to_dict()))) == job


def test_every_recipe_option_reaches_training():
    (job,) = jobs_of(GROUP + "recipe = { persistent = true, persistent_chains = 7 }")
    passed = job.recipe.to_dict()
    assert set(passed) == set(spec.RECIPE)
    for key in spec.RECIPE:
        assert passed[key] == job.settings[spec.RECIPE[key].setting or key], key


# -- one-line errors, before anything runs ----------------------------------------------------
ERRORS = [
    (GROUP + "recipe = { learnin_rate = 0.1 }",
     "study.toml: groups[0].recipe.learnin_rate is not a known key (did you mean "
     "learning_rate?)"),
    ("sede = 1\n" + GROUP, "study.toml: sede is not a known key (did you mean seed?)"),
    (GROUP + '[[groups]]\nname = "b"\n[[groups]]\nname = "c"\nrecipe = { learning_rate = -1 }',
     "study.toml: groups[2].recipe.learning_rate must be a positive number, got -1"),
    (GROUP + "recipe = { learning_rate = [0.1, 0] }",
     "groups[0].recipe.learning_rate[1] must be a positive number, got 0"),
    (GROUP + 'recipe = { epochs = "5" }',
     "groups[0].recipe.epochs must be an integer >= 1, got '5'"),
    (GROUP + 'data = { algorithm = "heatbath" }',
     "groups[0].data.algorithm must be 'wolff' or 'metropolis', got 'heatbath'"),
    (GROUP + "data = { size = 7 }", "groups[0].data.size must be an even integer >= 4, got 7"),
    (GROUP + "data = { coupling = 0.3, temperature = 3.0 }",
     "groups[0].data gives both coupling and temperature"),
    (GROUP + "data = { temperature = { mixture = [2.0, 2.5], measure_at = 2.2 } }",
     "groups[0].data.temperature.measure_at must be one of the mixture's temperatures"),
    (GROUP + "data = { coupling = { mixture = [0.3] , measure_at = 0.3 } }",
     "groups[0].data.coupling.mixture must list two or more different couplings"),
    (GROUP + "data = { coupling = [] }", "groups[0].data.coupling is an empty list"),
    (GROUP + "data = { coupling = [0.3, 0.3] }",
     "groups[0].data.coupling repeats the value 0.3"),
    (GROUP + "data = { coupling = [0.3001, 0.3002] }",
     "groups[0].data has two couplings that agree to 3 decimals"),
    (GROUP + 'variant = "l1_zero"',
     "groups[0].variant must be 'paper', 'permuted', 'untrained' or 'ising_rbm', got 'l1_zero'"),
    (GROUP * 2, "groups[1].name 'a' is already the name of groups[0]"),
    ("seed = 0", "groups must be a list of one or more tables"),
    ("groups = [1]", "groups[0] must be a table, got 1"),
    ('[[groups]]\nname = "a b"', "groups[0].name must be a name of letters"),
    (GROUP + "data = { samples = 50 }",
     "groups[0].recipe.batch_size 100 is larger than the 45 training samples"),
    (GROUP + "recipe = { persistent_chains = 10 }",
     "groups[0].recipe.persistent_chains needs recipe.persistent = true"),
    (GROUP + "recipe = { momentum = [0.5, 1.0, 5] }",
     "groups[0].recipe.momentum must be a number >= 0 and < 1, got 1.0"),
    (GROUP + 'analysis = { extras = ["flow", "magic"] }',
     "groups[0].analysis.extras must be 'couplings', 'flow', 'free_energy', 'rsmi' or "
     "'mcrg', got 'magic'"),
    (GROUP + "replicates = 0", "groups[0].replicates (a count, or a list of indices) must be "
                               "an integer >= 1, got 0"),
    ("[defaults]\ndata = { samples = 0 }\n" + GROUP,
     "defaults.data.samples must be an integer >= 1, got 0"),
    ('[defaults]\nname = "x"\n' + GROUP, "defaults.name is not a known key"),
    (GROUP + "recipe = { persistent = 1 }",
     "groups[0].recipe.persistent must be true or false, got 1"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_a_bad_study_is_one_line_naming_the_key(text, message):
    with pytest.raises(IsingRGError) as error:
        jobs_of(text)
    assert message in str(error.value)
    assert str(error.value).startswith("study.toml: ") and "\n" not in str(error.value)


def test_too_many_jobs_is_refused_before_any_is_built():
    text = GROUP + "replicates = 3\ndata = { coupling = [0.2, 0.3, 0.4, 0.5] }"
    assert len(jobs_of(text, max_jobs=12)) == 12
    with pytest.raises(IsingRGError, match=re.escape(
            "study.toml: the study has 12 jobs, more than --max-jobs 11 (groups[0] 'a' has 12)")):
        jobs_of(text, max_jobs=11)


def test_a_file_that_is_not_toml(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text("[[groups]\nname = 'a'\n")
    with pytest.raises(IsingRGError, match=r"study.toml: not valid TOML: .*line 1"):
        spec.read_study(path)


def _invoke(*args: str):
    return CliRunner().invoke(main, ["experiment", *args])


@pytest.mark.parametrize(("text", "extra", "message"), [
    (GROUP + "recipe = { learnin_rate = 0.1 }", (),
     "groups[0].recipe.learnin_rate is not a known key"),
    (GROUP + "recipe = { learning_rate = -1 }", (),
     "groups[0].recipe.learning_rate must be a positive number, got -1"),
    (GROUP + "replicates = 3", ("--max-jobs", "2"),
     "the study has 3 jobs, more than --max-jobs 2"),
    (GROUP, ("--report", "r.md"), "--report needs a group named 'paper' with the point "
     "paper@0.408"),
    ('[[groups]]\nname = "paper"\ndata = { coupling = 0.44 }\n', ("--report", "r.md"),
     "this study's paper points: paper@0.440"),
    (GROUP, ("--preset", "tiny"), "give --spec or --preset, not both"),
])
def test_the_command_refuses_a_bad_study_before_running(tmp_path, text, extra, message):
    path = tmp_path / "study.toml"
    path.write_text(text)
    out = tmp_path / "runs"
    result = _invoke("--spec", str(path), "--out", str(out), *extra)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert message in result.output
    assert not out.exists()


def test_summary_without_a_table_is_an_error(tmp_path):
    result = _invoke("--summary", "--out", str(tmp_path / "none"))
    assert result.exit_code == 1
    assert "results.csv does not exist: run `ising-rg experiment` first" in result.output


@pytest.mark.parametrize("document", ["README.md", "docs/experiments.md"])
def test_the_documented_example_study_is_valid(document):
    text = (REPO / document).read_text()
    example = re.search(r"```toml\n(.*?)```", text, flags=re.DOTALL).group(1)
    jobs = jobs_of(example)
    assert len(jobs) == 12 and len({job.point for job in jobs}) == 4


def test_every_key_and_setting_column_is_documented():
    text = (REPO / "docs" / "experiments.md").read_text()
    keys = [*spec.STUDY_KEYS, *spec.GROUP_KEYS, *(k for t in spec.TABLES.values() for k in t)]
    for name in (*keys, *table.setting_columns(), "layer"):
        assert f"`{name}`" in text, name


# -- the table --------------------------------------------------------------------------------
def test_mean_and_standard_error_skip_missing_values():
    mean, error, n = table.mean_and_error([1.0, None, 2.0, 4.0, float("nan")])
    assert (mean, n) == (7 / 3, 3)
    assert error == pytest.approx(np.std([1, 2, 4], ddof=1) / np.sqrt(3))
    assert table.mean_and_error([None]) == (None, None, 0)


# -- end to end -------------------------------------------------------------------------------
STUDY = """\
seed = 2
[defaults]
data = { size = 8, samples = 200 }
network = { hidden = [8, 4] }
analysis = { generative_samples = 10, gibbs_steps = 8, extras = [] }
[[groups]]
name = "epochs"
replicates = 2
recipe = { epochs = [1, 2] }
"""


def _typed(value, reference):
    """A CSV cell read back, compared with the value in result.json (same type, same value)."""
    if reference is None:
        return value is None
    if isinstance(reference, bool):
        return value is reference
    if isinstance(reference, float):
        return isinstance(value, float) and value == reference
    return value == reference and type(value) is type(reference)


@pytest.fixture(scope="module")
def study_run(tmp_path_factory):
    """The 10-line study run by the installed command in a real subprocess."""
    folder = tmp_path_factory.mktemp("study")
    (folder / "study.toml").write_text(STUDY)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    process = subprocess.run(
        [sys.executable, "-c", "from ising_rg.cli import main; main()", "experiment",
         "--spec", "study.toml", "--out", "runs", "--workers", "1"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=1200)
    assert process.returncode == 0, process.stderr
    return folder, process.stderr


@pytest.mark.slow
def test_a_study_file_runs_and_tabulates(study_run):
    folder, stderr = study_run
    runs = folder / "runs"
    assert "wrote runs/aggregate.json and runs/results.csv (4 jobs)" in stderr
    assert len(re.findall(r"^\[\d/4\] ran epochs K=0.408 \[epochs=[12]\] seed [01] ", stderr,
                          flags=re.MULTILINE)) == 4
    assert len(list((runs / "jobs").iterdir())) == 4
    assert len(list((runs / "data").glob("*.h5"))) == 2  # one data set per replicate
    # The table, read with the csv module: one row per job and layer, typed as in result.json.
    with open(runs / "results.csv", newline="") as handle:
        rows = [{k: table._value(v) for k, v in row.items()} for row in csv.DictReader(handle)]
    assert len(rows) == 4 * 2
    for row in rows:
        result = json.loads((runs / "jobs" / row["key"] / "result.json").read_text())
        job = result["job"]
        for name in ("replicate", "coupling", "samples", "epochs", "learning_rate", "l1",
                     "persistent", "persistent_chains", "data_seed", "train_seed"):
            assert _typed(row[name], job[name]), (name, row[name], job[name])
        assert row["hidden"] == [8, 4] and row["extras"] == [] and row["mixture"] is None
        assert row["temperature"] == 1 / job["coupling"]
        assert row["point"] == f"epochs@0.408 [epochs={job['epochs']}]"
        layer = row["layer"]
        assert isinstance(layer, int) and layer in (1, 2)
        for name in ("locality", "block_spin_correlation", "dead_fraction"):
            assert _typed(row[name], result["summary"][f"layer{layer}.{name}"]), name
        assert _typed(row["generative_energy_per_spin_dbn"],
                      result["summary"]["generative.energy_per_spin.dbn"])
    assert table.read_table(runs / "results.csv") == rows


@pytest.mark.slow
def test_an_edited_study_reruns_only_what_changed_and_summarizes(study_run):
    folder, _ = study_run
    runs = folder / "runs"
    before = {path.name for path in (runs / "jobs").iterdir()}
    edited = STUDY.replace("epochs = [1, 2]", "epochs = [1, 3]") + (
        '[[groups]]\nname = "again"\nreplicates = [0]\nrecipe = { epochs = 1 }\n'
        '[[groups]]\nname = "mix"\nreplicates = [0]\nrecipe = { epochs = 1 }\n'
        'data = { coupling = { mixture = [0.5, 0.408], measure_at = 0.408 } }\n')
    (folder / "edited.toml").write_text(edited)
    args = ["experiment", "--spec", str(folder / "edited.toml"), "--out", str(runs),
            "--workers", "1"]
    # The folder holds the first study's tables: replaced only with --overwrite, and that is
    # checked before any job runs (no file changes).
    files = {path: path.read_bytes() for path in runs.rglob("*") if path.is_file()}
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1
    assert "holds the tables of another study" in refused.output
    assert "use --overwrite" in refused.output and "[1/" not in refused.output
    assert {path: path.read_bytes() for path in runs.rglob("*") if path.is_file()} == files
    result = CliRunner().invoke(main, [*args, "--overwrite"])
    assert result.exit_code == 0, result.output
    states = re.findall(r"^\[\d/(\d)\] (ran|reused) (\w+) K=([\d.]+)(?: \[epochs=(\d)\])?",
                        result.output, flags=re.MULTILINE)
    # 6 jobs listed, 5 different ("again" is epochs = 1, replicate 0): the 2 unchanged reused.
    assert {total for total, *_ in states} == {"5"}
    assert sorted((state, group, epochs) for _, state, group, _, epochs in states) == [
        ("ran", "epochs", "3"), ("ran", "epochs", "3"), ("ran", "mix", ""),
        ("reused", "epochs", "1"), ("reused", "epochs", "1")]
    after = {path.name for path in (runs / "jobs").iterdir()}
    assert before < after and len(after - before) == 3
    # The mixture shares replicate 0's data set at K = 0.408 and adds one at K = 0.5.
    assert len(list((runs / "data").glob("*.h5"))) == 3
    aggregate = json.loads((runs / "aggregate.json").read_text())
    assert len(aggregate["jobs"]) == 6
    (mix,) = [e for e in aggregate["jobs"] if e["job"]["group"] == "mix"]
    metrics = json.loads((runs / "jobs" / mix["name"] / "metrics.json").read_text())
    assert metrics["data"]["coupling"] == 0.408 == mix["job"]["coupling"]
    assert mix["job"]["mixture"] == [0.408, 0.5]
    # --summary: grouped by grid point and layer, mean ± standard error over the replicates.
    summary = CliRunner().invoke(main, ["experiment", "--summary", "--out", str(runs)])
    assert summary.exit_code == 0, summary.output
    lines = summary.output.splitlines()
    assert lines[0].split() == ["point", "layer", "n", *table.SUMMARY_METRICS]
    assert len(lines) == 1 + 4 * 2  # (epochs 1, epochs 3, again, mix) x 2 layers
    results = [json.loads((runs / "jobs" / e["name"] / "result.json").read_text())
               for e in aggregate["jobs"] if e["job"]["group"] == "epochs"
               and e["job"]["epochs"] == 3]
    values = np.array([r["summary"]["layer1.locality"] for r in results])
    expected = format_measurement(values.mean(), values.std(ddof=1) / math.sqrt(2))
    (row,) = [line for line in lines if line.startswith("epochs@0.408 [epochs=3]  1 ")]
    assert re.split(r"\s{2,}", row)[:4] == ["epochs@0.408 [epochs=3]", "1", "2", expected]
    unknown = CliRunner().invoke(main, ["experiment", "--summary", "--out", str(runs),
                                        "--metric", "localty"])
    assert unknown.exit_code == 1 and "no column 'localty' in the results table" in unknown.output

"""The experiment runner on the tiny preset: jobs, seeds, resumption, aggregation, Dask."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from ising_rg.errors import IsingRGError
from ising_rg.experiments.aggregate import aggregate
from ising_rg.experiments.extras import FLOW_CHECK_EVERY, FLOW_MAX_STEPS
from ising_rg.experiments.jobs import Job, data_key
from ising_rg.experiments.report import write_report
from ising_rg.experiments.runner import (
    build_jobs,
    load_results,
    local_executor,
    replicate_seeds,
    run_experiment,
    run_jobs,
)


def test_seeds_come_from_one_root_and_pair_the_controls():
    assert replicate_seeds(0, 3) == replicate_seeds(0, 3)
    assert replicate_seeds(0, 5)[:3] == replicate_seeds(0, 3)  # independent of the count
    assert replicate_seeds(0, 3) != replicate_seeds(1, 3)
    jobs = build_jobs("tiny", root_seed=4)
    by_replicate = {}
    for job in jobs:
        by_replicate.setdefault(job.replicate, set()).add((job.data_seed, job.train_seed))
    assert all(len(seeds) == 1 for seeds in by_replicate.values())
    assert len({job.name for job in jobs}) == len(jobs)
    with pytest.raises(IsingRGError):
        build_jobs("enormous")


def test_job_spec_round_trip():
    job = build_jobs("tiny")[0]
    assert Job.from_dict(json.loads(json.dumps(job.to_dict()))) == job


def test_aggregate_mean_and_spread():
    results = [
        {"job": {"group": "paper", "variant": "paper", "coupling": 0.408, "epochs": 3},
         "summary": {"x": value, "y": None}, "seconds": {"train": 1.0}}
        for value in (1.0, 2.0, 4.0)
    ]
    out = aggregate(results)["groups"]["paper@0.408"]
    assert out["n"] == 3
    assert out["metrics"]["x"]["mean"] == pytest.approx(7 / 3)
    assert out["metrics"]["x"]["std"] == pytest.approx(np.std([1, 2, 4], ddof=1))
    assert out["metrics"]["y"] == {"mean": None, "std": None, "sem": None, "n": 0}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The tiny preset run once, on two workers: (its folder, its aggregate)."""
    root = tmp_path_factory.mktemp("tiny") / "a"
    return root, run_experiment("tiny", root, workers=2)


@pytest.mark.slow
def test_tiny_experiment_runs_resumes_and_is_scheduling_independent(tiny_run, tmp_path):
    root, first = tiny_run
    results = load_results(root)
    assert len(results) == len(build_jobs("tiny")) == len(first["jobs"])
    paper = first["groups"]["paper@0.408"]
    assert paper["n"] == 2 and paper["metrics"]["layer1.locality"]["n"] == 2
    assert "permuted@0.408" in first["groups"] and "sweep@0.200" in first["groups"]
    # A second run reuses every finished job and aggregates to the same numbers.
    seen = []
    again = run_experiment("tiny", root, workers=1,
                           progress=lambda done, total, result: seen.append(result["computed"]))
    assert seen and not any(seen)
    assert again["groups"] == first["groups"]
    # One job run elsewhere, alone, on a one-worker pool, gives the same result bit for bit.
    job = build_jobs("tiny")[3]
    with local_executor(1) as pool:
        (alone,) = run_jobs([job], tmp_path / "b", pool)
    stored = json.loads((root / "jobs" / job.key / "result.json").read_text())
    assert alone["summary"] == stored["summary"]
    # Each data set was sampled once, into the shared data folder, for all its jobs; each
    # trained network was stored once (the untrained control is not stored).
    jobs = build_jobs("tiny")
    data_sets = {data_key(options) for job in jobs for options in job.data_options()}
    assert len(list((root / "data").glob("*.h5"))) == len(data_sets)
    networks = {job.model_key for job in jobs if job.variant != "untrained"}
    assert {path.stem for path in (root / "models").glob("*.h5")} == networks


def test_a_changed_analysis_measures_the_same_network_without_training_it(tmp_path):
    job = build_jobs("tiny")[0]
    other = Job(job.group, job.replicate, {**job.settings, "generative_samples": 20})
    assert other.key != job.key and other.model_key == job.model_key
    with local_executor(1) as pool:
        first, second = run_jobs([job, other], tmp_path, pool)
    (model,) = (tmp_path / "models").glob("*.h5")
    assert model.stem == job.model_key
    assert second["seconds"]["train"] < first["seconds"]["train"] / 3
    fields = [key for key in first["summary"] if key.startswith("layer")]
    assert fields and all(first["summary"][k] == second["summary"][k] for k in fields)


def test_flow_of_the_mixture_network_starts_from_every_temperature(tiny_run):
    root, _ = tiny_run
    (result,) = [r for r in load_results(root) if r["job"]["group"] == "flow"]
    flow = result["extras"]["flow"]
    mixture = result["job"]["mixture"]
    assert set(flow["by_start"]) == {f"K={k:g}" for k in mixture} | {"random"}
    end = flow["end_point"]
    steps = end["n_steps"]
    # stopped by the R-hat check (a multiple of its interval) or by the budget
    assert steps % FLOW_CHECK_EVERY == 0 or steps == FLOW_MAX_STEPS
    assert end["converged"] == (max(end["rhat"].values()) < 1.05)
    assert isinstance(end["verdict"], str) and end["verdict"]


# The report's questions, in order: the sections every report has, whatever the numbers.
REPORT_HEADINGS = (
    "# Does the deep belief network do RG? Measurements and controls",
    "## 1. The paper's point, K = 0.408, with error bars",
    "## 2. Controls: L1 = 0, site-permuted data, untrained network",
    "## 3. Coupling sweep: does receptive-field size track the correlation length?",
    "## 4. Learned couplings",
    "## 5. The RBM flow",
    "## 6. Hidden-layer correlations",
    "## 7. The RG measured as RG: Monte Carlo renormalization group",
    "## 8. RSMI, the positive control",
    "## Cost",
)


def test_report_of_the_tiny_preset(tiny_run, tmp_path):
    root, aggregate = tiny_run
    path = write_report(aggregate, load_results(root, aggregate["jobs"]),
                        tmp_path / "reports" / "report.md")
    assert path.is_file()
    text = path.read_text()
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == list(REPORT_HEADINGS)
    # It names the command that made it (not `make report`, which runs the default preset).
    assert "Generated by `ising-rg experiment --preset tiny` (root seed 0): " in text
    assert "make report" not in text.split("\n\n")[1]
    # The convergence series is replicate 0 of the paper recipe only (not the L1 = 0 control,
    # which is the paper variant with another recipe value).
    assert "trained for 2, 4, 8 epochs per layer" in text
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert "figures/locality_controls.png" in figures and "figures/sweep_sizes.png" in figures
    for figure in figures:
        assert (path.parent / figure).is_file(), figure
    # Every table row has as many cells as its header; no value is left unformatted.
    for table in re.findall(r"(?:^\|.*\|\n)+", text, flags=re.MULTILINE):
        widths = {row.count("|") for row in table.splitlines()}
        assert len(widths) == 1, table
    assert "nan" not in text.lower().replace("n/a", "")


def test_report_numbers_are_rounded_by_their_errors_and_prose_follows_the_settings(
        tiny_run, tmp_path):
    root, aggregate = tiny_run
    results = load_results(root, aggregate["jobs"])
    text = write_report(aggregate, results, tmp_path / "report.md").read_text()
    pairs = re.findall(r"(-?\d+(?:\.(\d+))?) ± (\d+(?:\.(\d+))?)(?![\d.)])", text)
    assert pairs
    for mean, mean_decimals, error, error_decimals in pairs:
        # the same last decimal, and the error to 2 significant digits
        assert len(mean_decimals) == len(error_decimals), (mean, error)
        assert len(error.replace(".", "").lstrip("0")) == 2, (mean, error)
    # prose numbers are the settings the jobs used, not literals
    n_seeds = aggregate["groups"]["paper@0.408"]["n"]
    epochs = aggregate["settings"]["epochs"]
    assert f"the spread over the {n_seeds} seeds at {epochs} epochs" in text
    size = aggregate["settings"]["size"]
    assert f"three ways from the L = {size} Ising model" in text


@pytest.mark.slow
def test_dask_scheduler_on_loopback(tmp_path):
    distributed = pytest.importorskip("distributed")
    from ising_rg.experiments.runner import dask_executor

    jobs = build_jobs("tiny")[:2]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1")
        with dask_executor(cluster.scheduler_address) as executor:
            results = run_jobs(jobs, tmp_path, executor)
    assert [r["job"] for r in results] == [job.to_dict() for job in jobs]
    assert all(r["computed"] for r in results)


def test_unreachable_scheduler_is_a_clear_error():
    pytest.importorskip("distributed")
    from ising_rg.experiments.runner import dask_executor

    with pytest.raises(IsingRGError, match="cannot reach"), dask_executor("tcp://127.0.0.1:9"):
        pass


def test_experiment_refuses_an_existing_report_before_running(tmp_path):
    from click.testing import CliRunner

    from ising_rg.cli import main

    report = tmp_path / "report.md"
    report.write_text("keep")
    result = CliRunner().invoke(main, ["experiment", "--preset", "tiny", "--out",
                                       str(tmp_path / "runs"), "--report", str(report)])
    assert result.exit_code == 1 and "already exists" in result.output
    assert report.read_text() == "keep"
    assert not (tmp_path / "runs").exists()


CAPACITY_STUDY = """
seed = 3
[defaults]
data = { size = 4, coupling = 0.408, samples = 400 }
recipe = { name = ["paper", "density"], epochs = 3 }
analysis = { generative_samples = 20, gibbs_steps = 8, extras = ["free_energy"] }

[[groups]]
name = "capacity_L4"
replicates = 2
network = { hidden = [[4, 2], [16, 4]] }

[[groups]]
name = "exact_L4"
variant = "ising_rbm"
recipe = { name = "paper" }
"""


def test_capacity_study_measures_the_exact_ising_rbm_as_its_reference(tmp_path):
    """The exact Ising RBM run through the study: its free energy at depth 1 is the Ising
    model's (Delta F_1 = 0 within its error; log Z by enumeration), and the study's report
    renders its own sections."""
    study = tmp_path / "study.toml"
    study.write_text(CAPACITY_STUDY)
    from ising_rg.experiments import spec

    jobs = spec.build_study_jobs(spec.parse_study(spec.tomllib.loads(CAPACITY_STUDY), "s"))
    with local_executor(2) as pool:
        results = run_jobs(jobs, tmp_path / "run", pool)
    (exact_result,) = [r for r in results if r["job"]["variant"] == "ising_rbm"]
    (depth,) = exact_result["extras"]["free_energy"]["layers"]
    assert abs(depth["delta_f_per_spin"]["mean"]) <= 4 * depth["delta_f_per_spin"]["error"]
    trained = [r for r in results if r["job"]["variant"] == "paper"]
    assert len(trained) == 8 and all(len(r["extras"]["free_energy"]["layers"]) == 2
                                     for r in trained)
    agg = aggregate(results)
    text = write_report(agg | {"preset": "study", "root_seed": 3, "settings": {}}, results,
                        tmp_path / "report.md").read_text()
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## 1. Quality of the distribution against RG-likeness",
                        "## 2. The free energy across layers", "## Cost"]
    assert "exact Ising RBM (32 bond units)" in text

"""Training recipes by name: resolution (an override wins, None is "not given", unknown names
are one-line errors), one resolution for `ising-rg train --recipe` and the studies' `recipe.name`,
and the recipe recorded in the model file and read back."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from ising_rg import cli, paper
from ising_rg.errors import IsingRGError
from ising_rg.experiments import spec
from ising_rg.experiments.jobs import Job
from ising_rg.io.models import load_dbn, read_model_metadata
from ising_rg.io.samples import write_samples
from ising_rg.pipeline import run_train
from ising_rg.rbm import DBN, BernoulliRBM
from ising_rg.sampling.sampler import sample
from ising_rg.settings import RECIPES, Recipe, SampleOptions
from tests.conftest import assert_one_line_error

DENSITY_CHANGES = {"name": "density", "negative_visible": "samples", "learning_rate": 0.03,
                   "learning_rate_decay": "linear", "l1": 2e-3}


def test_paper_recipe_is_the_library_defaults():
    defaults = BernoulliRBM(7).get_params()
    paper_recipe = Recipe.named("paper")
    assert paper_recipe == Recipe() == RECIPES["paper"]
    assert (paper_recipe.propagate, paper_recipe.validation_fraction) == (paper.PROPAGATE, 0.1)
    assert paper_recipe.layer_settings() == {key: defaults[key] for key in Recipe.LAYER_SETTINGS}
    assert DBN().get_params()["recipe"] == "paper"


def test_density_recipe_is_the_paper_recipe_with_four_changes():
    density, base = RECIPES["density"].to_dict(), RECIPES["paper"].to_dict()
    changed = {key: value for key, value in density.items() if value != base[key]}
    assert changed == DENSITY_CHANGES


def test_an_override_wins_and_none_means_not_given():
    recipe = Recipe.named("density", learning_rate=0.5, epochs=7, l1=None, cd_k=None)
    assert (recipe.learning_rate, recipe.epochs) == (0.5, 7)
    assert (recipe.l1, recipe.cd_k) == (2e-3, paper.CD_K)
    assert recipe.name == "density"
    assert RECIPES["density"].learning_rate == 0.03  # the table itself is not touched


@pytest.mark.parametrize("name, overrides, message", [
    ("fast", {}, "unknown recipe 'fast'; known: paper, density"),
    (None, {}, "unknown recipe None"),
    ("paper", {"n_epochs": 3}, "unknown Recipe setting(s): n_epochs; known: name, epochs"),
    ("paper", {"epochs": 0}, "epochs must be an integer >= 1, got 0"),
    ("paper", {"momentum": (0.5, 1.5, 5)}, "momentum must be a number >= 0 and < 1"),
    ("paper", {"persistent_chains": 4}, "persistent_chains needs persistent"),
])
def test_unknown_names_and_bad_values_are_one_line_errors(name, overrides, message):
    with pytest.raises(IsingRGError) as error:
        Recipe.named(name, **overrides)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_the_cli_and_the_studies_know_the_same_recipes():
    assert cli.RECIPE_NAMES == tuple(RECIPES)
    for name in RECIPES:
        study = spec.study_recipe(name)
        assert set(study) == set(spec.RECIPE) - {"name"}
        assert study["epochs"] == RECIPES[name].epochs
    # The study table's defaults are the paper recipe's.
    assert {key: option.default for key, option in spec.RECIPE.items() if key != "name"} == (
        spec.study_recipe("paper"))


def test_a_study_names_the_density_recipe_and_its_own_values_override_it():
    text = ('[[groups]]\nname = "a"\ndata = { size = 8, samples = 200 }\n'
            'recipe = { name = "density", epochs = 3, l1 = 1e-3 }\n')
    (job,) = spec.build_study_jobs(spec.parse_study(spec.tomllib.loads(text), "study.toml"))
    recipe = job.recipe
    assert job.settings["recipe"] == recipe.name == "density"
    assert (recipe.epochs, recipe.l1) == (3, 1e-3)
    for key in ("negative_visible", "learning_rate", "learning_rate_decay"):
        assert getattr(recipe, key) == DENSITY_CHANGES[key], key
    bad = text.replace('"density"', '"fast"')
    with pytest.raises(IsingRGError, match="recipe.name must be 'paper' or 'density'"):
        spec.parse_study(spec.tomllib.loads(bad), "study.toml")


def test_a_setting_added_later_keeps_the_keys_of_finished_jobs():
    text = '[[groups]]\nname = "a"\ndata = { size = 8, samples = 200 }\n'
    (job,) = spec.build_study_jobs(spec.parse_study(spec.tomllib.loads(text), "study.toml"))
    assert job.settings["learning_rate_decay"] == "none"
    before = {k: v for k, v in job.settings.items() if k != "learning_rate_decay"}
    assert Job(job.group, job.replicate, before).key == job.key
    linear = Job(job.group, job.replicate, dict(job.settings, learning_rate_decay="linear"))
    assert linear.key != job.key


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    root = tmp_path_factory.mktemp("recipes")
    return write_samples(sample(SampleOptions(8, 0.4, 200, seed=2)), root / "data.h5")


def test_the_resolved_recipe_is_recorded_in_the_model_file_and_read_back(data_file, tmp_path):
    model = tmp_path / "model.h5"
    run_train(data_file, model, (6,), Recipe.named("density", epochs=4, batch_size=20, l2=1e-4))
    hyper = read_model_metadata(model)["hyperparameters"]
    expected = Recipe.named("density", epochs=4, batch_size=20, l2=1e-4)
    assert Recipe.from_dict(hyper["recipe"]) == expected
    assert load_dbn(model).get_params()["recipe"] == expected
    (rbm,) = load_dbn(model).rbms_
    assert (rbm.learning_rate_decay, rbm.negative_visible, rbm.l1, rbm.l2) == (
        "linear", "samples", 2e-3, 1e-4)
    np.testing.assert_allclose(rbm.history_["learning_rate"], [0.03, 0.0225, 0.015, 0.0075])


def test_train_recipe_density_round_trip_on_the_command_line(data_file, tmp_path):
    model = tmp_path / "density.h5"
    args = ["train", "--data", str(data_file), "--hidden", "6", "--epochs", "2",
            "--batch-size", "20", "--quiet", "--out", str(model)]
    result = CliRunner().invoke(cli.main, [*args, "--recipe", "density", "--l1", "0"])
    assert result.exit_code == 0, result.output
    assert "recipe density" in result.output
    hyper = json.loads(json.dumps(read_model_metadata(model)["hyperparameters"]))["recipe"]
    assert (hyper["name"], hyper["learning_rate"], hyper["learning_rate_decay"]) == (
        "density", 0.03, "linear")
    assert (hyper["negative_visible"], hyper["l1"], hyper["epochs"]) == ("samples", 0.0, 2)
    (rbm,) = load_dbn(model).rbms_
    np.testing.assert_allclose(rbm.history_["learning_rate"], [0.03, 0.015])

    # no --recipe: the paper's, every value recorded
    paper_model = tmp_path / "paper.h5"
    result = CliRunner().invoke(cli.main, [*args[:-1], str(paper_model)])
    assert result.exit_code == 0, result.output
    hyper = read_model_metadata(paper_model)["hyperparameters"]["recipe"]
    assert hyper["name"] == "paper" and set(Recipe.names()) == set(hyper)
    assert (hyper["learning_rate"], hyper["learning_rate_decay"], hyper["l1"]) == (
        paper.LEARNING_RATE, "none", paper.L1)

    result = CliRunner().invoke(cli.main, [*args, "--recipe", "fast"])
    assert_one_line_error(result, "'fast' is not one of 'paper', 'density'", exit_code=2)


def test_train_help_shows_the_paper_values():
    text = " ".join(CliRunner().invoke(cli.main, ["train", "--help"]).output.split())
    for option, value in (("--epochs", "200"), ("--learning-rate", "0.1"), ("--l1", "0.0002"),
                          ("--momentum", "0.5,0.9,5"), ("--negative-visible", "probabilities"),
                          ("--learning-rate-decay", "none")):
        entry = text.split(f" {option} ", 1)[1].split(" --", 1)[0]
        assert f"paper: {value}]" in entry, (option, entry)

"""One vocabulary, one default: every setting followed from the command line and from a study
file to the trained model's file; every default defined once (ising_rg/settings.py, with the
paper's numbers from ising_rg/paper.py)."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import ising_rg
from ising_rg import cli
from ising_rg.experiments import schema
from ising_rg.io.models import load_dbn, read_model_metadata
from ising_rg.io.samples import write_samples
from ising_rg.sampling.sampler import sample
from ising_rg.settings import RECIPES, AnalysisOptions, Recipe, SampleOptions

PACKAGE = Path(ising_rg.__file__).parent

#: A value other than the paper's for every recipe setting: the test fails when a setting is
#: added without being followed here.
CHANGED = {
    "name": "density", "epochs": 2, "learning_rate": 0.05, "learning_rate_decay": "linear",
    "momentum": (0.4, 0.8, 1), "batch_size": 20, "cd_k": 2, "persistent": True,
    "persistent_chains": 7, "negative_visible": "samples", "l1": 1e-3, "l2": 1e-4,
    "init": "guide", "propagate": "samples", "validation_fraction": 0.2,
}


def test_every_recipe_setting_has_a_changed_value_here():
    assert set(CHANGED) == set(Recipe.names())
    paper = RECIPES["paper"]
    assert all(getattr(paper, key) != value for key, value in CHANGED.items())


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    root = tmp_path_factory.mktemp("settings")
    return write_samples(sample(SampleOptions(8, 0.4, 200, seed=2)), root / "data.h5")


def _option_values(changed: dict) -> list[str]:
    """The train command's arguments that set ``changed`` (option = setting, '_' -> '-')."""
    args = []
    for key, value in changed.items():
        option = "--recipe" if key == "name" else "--" + key.replace("_", "-")
        if value is True:
            args.append(option)
        else:
            args += [option, ",".join(map(str, value)) if isinstance(value, tuple) else str(value)]
    return args


def _assert_model_has(path: Path, expected: Recipe) -> None:
    """The model file records every setting (``dbn_params`` and, under the command, in
    ``hyperparameters``), and the loaded network trains its layers with them."""
    stored = read_model_metadata(path)["dbn_params"]["recipe"]
    assert Recipe.from_dict(stored) == expected
    dbn = load_dbn(path)
    assert dbn.get_params()["recipe"] == expected
    for rbm in dbn.rbms_:
        assert {key: getattr(rbm, key) for key in Recipe.LAYER_SETTINGS} == (
            expected.layer_settings())


def test_every_setting_goes_from_the_command_line_to_the_model_file(data_file, tmp_path):
    model = tmp_path / "model.h5"
    result = CliRunner().invoke(cli.main, ["train", "--data", str(data_file), "--hidden", "6,3",
                                           "--quiet", "--out", str(model),
                                           *_option_values(CHANGED)])
    assert result.exit_code == 0, result.output
    expected = Recipe(**CHANGED)
    _assert_model_has(model, expected)
    hyper = read_model_metadata(model)["hyperparameters"]
    assert Recipe.from_dict(hyper["recipe"]) == expected


def test_every_setting_goes_from_a_study_file_to_the_model_file(tmp_path):
    recipe = ", ".join(f"{key} = {json.dumps(list(value) if isinstance(value, tuple) else value)}"
                       for key, value in CHANGED.items())
    study = tmp_path / "study.toml"
    study.write_text(
        '[[groups]]\nname = "a"\ndata = { size = 8, samples = 200 }\n'
        "network = { hidden = [6, 3] }\n"
        f"recipe = {{ {recipe} }}\n"
        "analysis = { generative_samples = 10, gibbs_steps = 8, likelihood = false }\n")
    result = CliRunner().invoke(cli.main, ["experiment", "--spec", str(study), "--out",
                                           str(tmp_path / "runs"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    (model,) = (tmp_path / "runs" / "models").glob("*.h5")
    _assert_model_has(model, Recipe(**CHANGED))


def test_the_study_tables_are_the_settings():
    """The study's recipe, data and analysis keys are the settings' names, with their
    defaults (the same objects' fields, read once)."""
    for table, settings_class, own in ((schema.RECIPE, Recipe, set()),
                                       (schema.DATA, SampleOptions, {"temperature"}),
                                       (schema.ANALYSIS, AnalysisOptions, set())):
        defaults = {f.name: f.default for f in dataclasses.fields(settings_class)}
        for key, option in table.items():
            if key in own:
                continue
            assert key in defaults, key
            if key != "coupling":
                assert option.default == defaults[key], key


def test_the_command_line_defaults_are_the_settings():
    options = {p.name: p for command in ("sample", "analyze", "train")
               for p in cli.main.commands[command].params}
    for settings_class in (SampleOptions, AnalysisOptions):
        for field in dataclasses.fields(settings_class):
            if field.name in options and field.name != "coupling":
                assert options[field.name].default == field.default, field.name
    for name in Recipe.names():  # a recipe option not given keeps the recipe's value
        key = "recipe" if name == "name" else name
        assert options[key].default in (None, "paper"), name


#: Parameters that share a setting's name but are another quantity.
OTHER_MEANINGS = {
    # the lattice spacing of a coarse field (units of the spins' spacing), not the sampler's
    # sweeps between samples
    ("correlation_length.py", "spacing"), ("effective_mass.py", "spacing"),
}


def _setting_names() -> set[str]:
    names = set()
    for settings_class in (SampleOptions, Recipe, AnalysisOptions):
        names |= set(settings_class.names())
    return names - {"seed", "name"}  # seeds default to 0 everywhere by design


def _literal(node: ast.AST | None) -> bool:
    """A default written as a literal (a number, a string, a tuple of them), not a name."""
    if isinstance(node, ast.Constant):
        return node.value is not None and not isinstance(node.value, bool)
    return isinstance(node, ast.Tuple) and all(_literal(e) for e in node.elts)


def test_no_default_is_defined_twice():
    """Outside ising_rg/settings.py and ising_rg/paper.py, no function parameter and no
    command-line option named after a setting has a literal default: each default is
    defined once and referred to elsewhere."""
    names = _setting_names()
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in ("settings.py", "paper.py") or path.name == "bench.py":
            continue  # bench.py: benchmark sizes, not the settings' defaults
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                arguments = node.args
                positional = arguments.posonlyargs + arguments.args
                pairs = list(zip(positional[len(positional) - len(arguments.defaults):],
                                 arguments.defaults, strict=True))
                pairs += list(zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True))
                offences += [f"{path.name}:{node.lineno} {node.name}({arg.arg}=...)"
                             for arg, default in pairs
                             if arg.arg in names and _literal(default)
                             and (path.name, arg.arg) not in OTHER_MEANINGS]
            if (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "option"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                option = str(node.args[0].value).lstrip("-").replace("-", "_")
                default = next((k.value for k in node.keywords if k.arg == "default"), None)
                if option in names and _literal(default):
                    offences.append(f"{path.name}:{node.lineno} --{option} default")
    assert not offences, offences

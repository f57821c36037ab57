"""Every attribute and dataset of every file the package reads, damaged one at a time: removed,
of the wrong type, of the wrong shape, NaN, out of range. Each damage must give a one-line
IsingRGError naming the attribute or dataset, through the library and through the CLI (exit
status 1, one line ``Error: ...``, no traceback), leaving the damaged file as it was and no
output behind. So must files that are not HDF5, empty, folders or unreadable."""

from __future__ import annotations

import json
import shutil

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from ising_rg.cli import main
from ising_rg.errors import IsingRGError
from ising_rg.io.models import load_dbn, read_model_metadata
from ising_rg.io.results import read_available
from ising_rg.io.samples import read_samples, write_samples
from ising_rg.pipeline import run_analyze, run_train, run_validate
from ising_rg.sampling.sampler import sample
from ising_rg.settings import AnalysisOptions, Recipe, SampleOptions
from tests.conftest import assert_one_line_error

N_SAMPLES, SIZE = 200, 8


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A sample file, a model trained on it, and a results folder (analyze and validate)."""
    root = tmp_path_factory.mktemp("good")
    data = write_samples(sample(SampleOptions(SIZE, 0.4, N_SAMPLES, "wolff", seed=3)),
                         root / "data.h5")
    model = root / "model.h5"
    run_train(data, model, (16, 4), Recipe(epochs=2, batch_size=20), seed=1)
    results = root / "results"
    run_analyze(model, data, results, AnalysisOptions(generative_samples=20, gibbs_steps=8))
    run_validate(results, size=4, n_samples=40)
    return {"data": data, "model": model, "results": results}


def _damaged(source, folder, edit):
    """A copy of ``source`` in ``folder`` with ``edit(h5py.File)`` applied."""
    folder.mkdir(exist_ok=True)
    path = folder / source.name
    shutil.copy(source, path)
    with h5py.File(path, "r+") as f:
        edit(f)
    return path


def _set(name, value):
    return lambda f: f.attrs.__setitem__(name, value)


def _delete(name):
    return lambda f: f.attrs.__delitem__(name) if name in f.attrs else f.__delitem__(name)


def _replace(name, data):
    def edit(f):
        del f[name]
        f[name] = data
    return edit


def _group(name):
    def edit(f):
        del f[name]
        f.create_group(name)
    return edit


def _write(name, index, value):
    return lambda f: f[name].__setitem__(index, value)


def _attribute_damage(kinds: dict[str, str]) -> list[tuple[str, object, str]]:
    """(case id, edit, word the message must contain) for every attribute: removed, an array,
    the wrong type, NaN and (numbers) out of range."""
    cases = []
    for name, kind in kinds.items():
        word = "format" if name == "format" else f"'{name}'"
        cases += [(f"{name}-removed", _delete(name), word),
                  (f"{name}-array", _set(name, np.array([1.0, 2.0])), word),
                  (f"{name}-nan", _set(name, np.nan), word)]
        if kind in ("integer", "number"):
            cases += [(f"{name}-text", _set(name, "x"), word),
                      (f"{name}-negative", _set(name, -1), word)]
        else:
            cases.append((f"{name}-number", _set(name, 3), word))
        if kind == "integer":
            cases.append((f"{name}-fraction", _set(name, 2.5), word))
        if kind in ("json", "json-list"):
            cases += [(f"{name}-not-json", _set(name, "{not json"), word),
                      (f"{name}-other-json", _set(name, "[1]" if kind == "json" else "{}"),
                       word)]
    return cases


SAMPLE_ATTRIBUTES = {
    "format": "text", "format_version": "integer", "size": "integer", "coupling": "number",
    "temperature": "number", "algorithm": "text", "seed": "integer",
    "thermalization_sweeps": "number", "spacing_sweeps": "number", "tau_int_energy": "number",
    "tau_int_abs_magnetization": "number", "package_version": "text", "created": "text",
    "options": "json",
}
SAMPLE_DAMAGE = _attribute_damage(SAMPLE_ATTRIBUTES) + [
    ("format-other", _set("format", "ising_rg.dbn"), "not an ising_rg sample file"),
    ("format_version-2", _set("format_version", 2), "format version 2"),
    ("size-other", _set("size", 10), "'size'"),
    ("temperature-not-inverse-coupling", _set("temperature", 3.0), "'temperature'"),
    ("algorithm-unknown", _set("algorithm", "glauber"), "'algorithm'"),
    ("options-not-json-bytes", _set("options", np.bytes_(b"\xff\xfe")), "'options'"),
]
for _name, _n in (("energy", N_SAMPLES), ("magnetization", N_SAMPLES)):
    SAMPLE_DAMAGE += [
        (f"{_name}-removed", _delete(_name), f"/{_name}"),
        (f"{_name}-group", _group(_name), f"/{_name}"),
        (f"{_name}-float32", _replace(_name, np.zeros(_n, np.float32)), f"/{_name}"),
        (f"{_name}-text", _replace(_name, np.array(["a"] * 3, dtype="S1")), f"/{_name}"),
        (f"{_name}-short", _replace(_name, np.zeros(_n - 1)), f"/{_name}"),
        (f"{_name}-2d", _replace(_name, np.zeros((_n, 1))), f"/{_name}"),
        (f"{_name}-nan", _write(_name, 5, np.nan), f"/{_name}"),
        (f"{_name}-inf", _write(_name, 5, -np.inf), f"/{_name}"),
        (f"{_name}-beyond-bounds", _write(_name, 5, 2.5), f"/{_name}"),
    ]
SAMPLE_DAMAGE += [
    ("spins-removed", _delete("spins"), "/spins"),
    ("spins-group", _group("spins"), "/spins"),
    ("spins-float", _replace("spins", np.ones((N_SAMPLES, SIZE, SIZE))), "/spins"),
    ("spins-not-square", _replace("spins", np.ones((N_SAMPLES, SIZE, SIZE + 2), np.int8)),
     "/spins"),
    ("spins-flat", _replace("spins", np.ones((N_SAMPLES, SIZE * SIZE), np.int8)), "/spins"),
    ("spins-empty", _replace("spins", np.ones((0, SIZE, SIZE), np.int8)), "/spins"),
    ("spins-other-L", _replace("spins", np.ones((N_SAMPLES, 4, 4), np.int8)), "'size'"),
    ("spins-zero", _write("spins", (3, 2, 1), 0), "/spins"),
    ("spins-two", _write("spins", (3, 2, 1), 2), "/spins"),
]

MODEL_ATTRIBUTES = {
    "format": "text", "format_version": "integer", "hyperparameters": "json",
    "dbn_params": "json", "data_sha256": "text", "seed": "integer",
    "package_version": "text", "created": "text", "n_layers": "integer",
    "layer_sizes": "json-list",
}


def _params(**change):
    """Change keys of ``dbn_params`` (those of its recipe under ``recipe_<key>``); "DROP"
    removes one."""
    def edit(f):
        params = json.loads(f.attrs["dbn_params"])
        for key, value in change.items():
            table, key = ((params["recipe"], key[7:]) if key.startswith("recipe_")
                          else (params, key))
            table[key] = value
            if value == "DROP":
                del table[key]
        f.attrs["dbn_params"] = json.dumps(params)
    return edit


MODEL_DAMAGE = _attribute_damage(MODEL_ATTRIBUTES) + [
    ("format-other", _set("format", "ising_rg.samples"), "not an ising_rg model file"),
    ("data_sha256-short", _set("data_sha256", "abc"), "'data_sha256'"),
    ("n_layers-3", _set("n_layers", 3), "'n_layers'"),
    ("n_layers-1", _set("n_layers", 1), "'n_layers'"),
    ("layer_sizes-mismatch", _set("layer_sizes", "[64, 17, 4]"), "/layers/1/weights"),
    ("layer_sizes-text", _set("layer_sizes", '[64, "16", 4]'), "'layer_sizes'"),
    ("dbn_params-no-recipe", _params(recipe="DROP"), "'dbn_params'"),
    ("dbn_params-recipe-not-table", _params(recipe=3), "'dbn_params'"),
    ("dbn_params-hidden", _params(hidden=[16, 5]), "'dbn_params'"),
    ("dbn_params-learning-rate", _params(recipe_learning_rate=-1), "'dbn_params'"),
    ("dbn_params-momentum", _params(recipe_momentum=[0.5]), "'dbn_params'"),
    ("dbn_params-unknown", _params(temperature=1), "'dbn_params'"),
    ("dbn_params-unknown-setting", _params(recipe_temperature=1), "'dbn_params'"),
    ("dbn_params-propagate", _params(recipe_propagate="mean"), "'dbn_params'"),
    ("dbn_params-seed", _params(random_state=-4), "'dbn_params'"),
    ("layers-removed", _delete("layers"), "/layers"),
    ("layers-dataset", _replace("layers", np.zeros(3)), "/layers"),
    ("layer-2-removed", _delete("layers/2"), "/layers"),
    ("layer-3-extra", lambda f: f.copy("layers/2", "layers/3"), "/layers"),
    ("layer-1-dataset", _replace("layers/1", np.zeros(3)), "/layers/1"),
    ("history-removed", _delete("layers/1/history"), "/layers/1/history"),
    ("history-float32", _replace("layers/2/history/reconstruction_error", np.zeros(2, "f4")),
     "/layers/2/history/reconstruction_error"),
    ("history-2d", _replace("layers/1/history/momentum", np.zeros((2, 2))),
     "/layers/1/history/momentum"),
    ("history-lengths", _replace("layers/1/history/momentum", np.zeros(3)),
     "/layers/1/history"),
    ("validation_indices-float", _replace("validation_indices", np.zeros(20)),
     "/validation_indices"),
    ("validation_indices-negative", _write("validation_indices", 0, -1), "/validation_indices"),
    ("validation_indices-repeated", lambda f: f["validation_indices"].__setitem__(
        1, f["validation_indices"][0]), "/validation_indices"),
    ("validation_indices-2d", _replace("validation_indices", np.zeros((2, 2), np.int64)),
     "/validation_indices"),
]
for _layer, (_n_in, _n_out) in (("1", (64, 16)), ("2", (16, 4))):
    for _name, _shape in (("weights", (_n_in, _n_out)), ("visible_bias", (_n_in,)),
                          ("hidden_bias", (_n_out,))):
        _key = f"layers/{_layer}/{_name}"
        _index = (0,) * len(_shape)
        MODEL_DAMAGE += [
            (f"{_key}-removed", _delete(_key), f"/{_key}"),
            (f"{_key}-group", _group(_key), f"/{_key}"),
            (f"{_key}-float64", _replace(_key, np.zeros(_shape)), f"/{_key}"),
            (f"{_key}-shape", _replace(_key, np.zeros((*_shape, 2), np.float32)), f"/{_key}"),
            (f"{_key}-length", _replace(_key, np.zeros(_shape[0] + 1, np.float32)), f"/{_key}"),
            (f"{_key}-nan", _write(_key, _index, np.nan), f"/{_key}"),
            (f"{_key}-inf", _write(_key, _index, np.inf), f"/{_key}"),
        ]


def _ids(cases):
    return [case[0] for case in cases]


def _assert_library_error(read, path, word):
    with pytest.raises(IsingRGError) as info:
        read(path)
    message = str(info.value)
    assert "\n" not in message and word in message and path.name in message, message


def _assert_cli_error(args, path, word, output):
    """The command fails in one line naming the damage; the damaged file is unchanged and
    neither the output nor a temporary file is left behind."""
    before = path.read_bytes()
    result = CliRunner().invoke(main, args)
    assert_one_line_error(result, word)
    assert path.read_bytes() == before
    assert not output.exists()
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


@pytest.mark.parametrize(("case", "edit", "word"), SAMPLE_DAMAGE, ids=_ids(SAMPLE_DAMAGE))
def test_damaged_sample_file(good, tmp_path, case, edit, word):
    path = _damaged(good["data"], tmp_path / "in", edit)
    _assert_library_error(read_samples, path, word)
    out = tmp_path / "out" / "model.h5"
    _assert_cli_error(["train", "--data", str(path), "--hidden", "4", "--epochs", "1",
                       "--quiet", "--out", str(out)], path, word, out.parent)


@pytest.mark.parametrize(("case", "edit", "word"), MODEL_DAMAGE, ids=_ids(MODEL_DAMAGE))
def test_damaged_model_file(good, tmp_path, case, edit, word):
    path = _damaged(good["model"], tmp_path / "in", edit)
    _assert_library_error(load_dbn, path, word)
    out = tmp_path / "results"
    _assert_cli_error(["analyze", "--model", str(path), "--data", str(good["data"]),
                       "--out", str(out)], path, word, out)


MODEL_ATTRIBUTE_DAMAGE = [case for case in MODEL_DAMAGE
                          if case[0].split("-")[0] in MODEL_ATTRIBUTES and "dbn_params-" not in
                          case[0] and "layer_sizes-mismatch" != case[0]]


@pytest.mark.parametrize(("case", "edit", "word"), MODEL_ATTRIBUTE_DAMAGE,
                         ids=_ids(MODEL_ATTRIBUTE_DAMAGE))
def test_model_metadata_reader_checks_every_attribute(good, tmp_path, case, edit, word):
    path = _damaged(good["model"], tmp_path, edit)
    _assert_library_error(read_model_metadata, path, word)


def test_history_may_hold_nan(good, tmp_path):
    """NaN in a training history is a quantity not measured that epoch (e.g. the held-out free
    energy without a validation split), not damage."""
    path = _damaged(good["model"], tmp_path, _write("layers/1/history/momentum", 0, np.nan))
    assert np.isnan(load_dbn(path).rbms_[0].history_["momentum"][0])


# --------------------------------------------------------------- files that are not files
def _not_files(tmp_path, good):
    text = tmp_path / "text.h5"
    text.write_text("just text\n")
    empty = tmp_path / "empty.h5"
    empty.touch()
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(good["data"].read_bytes()[:4000])
    folder = tmp_path / "folder.h5"
    folder.mkdir()
    return {"text": (text, "not an HDF5 file"), "empty": (empty, "is empty"),
            "truncated": (truncated, "truncated.h5"), "folder": (folder, "is a directory"),
            "missing": (tmp_path / "missing.h5", "does not exist")}


@pytest.mark.parametrize("kind", ["text", "empty", "truncated", "folder", "missing"])
@pytest.mark.parametrize("read", [read_samples, load_dbn, read_model_metadata])
def test_readers_refuse_what_is_not_a_file_of_theirs(good, tmp_path, kind, read):
    path, word = _not_files(tmp_path, good)[kind]
    with pytest.raises(IsingRGError, match=word) as info:
        read(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("kind", ["text", "empty", "truncated", "folder", "missing"])
def test_cli_refuses_what_is_not_a_file(good, tmp_path, kind):
    path, word = _not_files(tmp_path, good)[kind]
    # click checks existence and kind (exit 2); the readers the contents (exit 1).
    code = 2 if kind in ("folder", "missing") else 1
    word = {"folder": "is a directory", "missing": "does not exist"}.get(kind, word)
    for args in (["train", "--data", str(path), "--out", str(tmp_path / "m.h5")],
                 ["analyze", "--model", str(path), "--data", str(good["data"]),
                  "--out", str(tmp_path / "r")],
                 ["analyze", "--model", str(good["model"]), "--data", str(path),
                  "--out", str(tmp_path / "r")]):
        assert_one_line_error(CliRunner().invoke(main, args), word, code)
    assert not (tmp_path / "m.h5").exists() and not (tmp_path / "r").exists()


def test_unreadable_files_are_named(good, tmp_path, monkeypatch):
    """A file the user may not read (simulated: the tests may run as root, who reads all)."""
    import ising_rg.io.hdf5 as hdf5

    def refuse(path, mode="r"):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(hdf5, "open", refuse, raising=False)
    for read in (read_samples, load_dbn):
        with pytest.raises(IsingRGError, match="cannot read .*: Permission denied"):
            read(good["data"])
    result = CliRunner().invoke(main, ["train", "--data", str(good["data"]),
                                       "--out", str(tmp_path / "m.h5")])
    assert_one_line_error(result, "Permission denied")


# ----------------------------------------------------------------------- results folder
def _json_edit(name, change):
    def edit(folder):
        path = folder / name
        value = json.loads(path.read_text())
        path.write_text(change(value) if callable(change) else change)
    return edit


def _nested(keys, value):
    def change(document):
        target = document
        for key in keys[:-1]:
            target = target[key]
        if value == "DROP":
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
        return json.dumps(document)
    return change


def _arrays_edit(edit):
    def apply(folder):
        with h5py.File(folder / "arrays.h5", "r+") as f:
            edit(f)
    return apply


RESULTS_DAMAGE = [
    ("metrics-not-json", _json_edit("metrics.json", "{"), "not valid JSON"),
    ("metrics-empty", _json_edit("metrics.json", ""), "is empty"),
    ("metrics-list", _json_edit("metrics.json", "[1, 2]"), "must be a JSON object"),
    ("metrics-no-layers", _json_edit("metrics.json", _nested(["layers"], "DROP")), "layers"),
    ("metrics-layers-empty", _json_edit("metrics.json", _nested(["layers"], [])), "layers"),
    ("metrics-index-text", _json_edit("metrics.json", _nested(["layers", 0, "index"], "1")),
     "layers[0].index"),
    ("metrics-index-order", _json_edit("metrics.json", _nested(["layers", 0, "index"], 2)),
     "numbered"),
    ("metrics-block-null", _json_edit("metrics.json",
                                      _nested(["layers", 1, "block_size"], None)),
     "layers[1].block_size"),
    ("metrics-locality-text", _json_edit("metrics.json",
                                         _nested(["layers", 0, "locality", "mean"], "x")),
     "layers[0].locality.mean"),
    ("metrics-nan-token", _json_edit("metrics.json", lambda m: json.dumps(m).replace(
        '"dead_fraction": 0.0', '"dead_fraction": NaN', 1)), "dead_fraction"),
    ("metrics-no-pr", _json_edit("metrics.json",
                                 _nested(["layers", 1, "participation_ratio"], "DROP")),
     "participation_ratio"),
    ("validation-no-sampler", _json_edit("validation.json", _nested(["sampler"], "DROP")),
     "sampler"),
    ("validation-short", _json_edit("validation.json",
                                    _nested(["sampler", "energy_error"], [0.1])), "differ"),
    ("validation-flows", _json_edit("validation.json", _nested(["decimation", "flows"], [])),
     "decimation.flows"),
    ("validation-text", _json_edit("validation.json",
                                   _nested(["decimation", "ring_size"], "12")),
     "decimation.ring_size"),
    ("arrays-no-format", _arrays_edit(_delete("format")), "not an ising_rg results file"),
    ("arrays-version", _arrays_edit(_set("format_version", 7)), "version 7"),
    ("arrays-not-hdf5", lambda folder: (folder / "arrays.h5").write_text("x"),
     "not an HDF5 file"),
    ("arrays-no-spins", _arrays_edit(_delete("example/spins")), "/example/spins"),
    ("arrays-spins-1d", _arrays_edit(_replace("example/spins", np.ones(3, np.int8))),
     "/example/spins"),
    ("arrays-no-layer-2", _arrays_edit(_delete("fields/weight_product/2")),
     "/fields/activation_weighted"),
    ("arrays-field-shape", _arrays_edit(_replace("fields/weight_product/1",
                                                 np.zeros((16, 4, 4), np.float32))),
     "/fields/weight_product/1"),
    ("arrays-live-text", _arrays_edit(_replace("fields/live/1", np.zeros(16, np.float32))),
     "/fields/live/1"),
    ("arrays-bad-number", _arrays_edit(lambda f: f.move("example/reconstruction/1",
                                                        "example/reconstruction/one")),
     "numbered"),
    ("arrays-no-recon-history", _arrays_edit(_delete("history/1/reconstruction_error")),
     "reconstruction_error"),
    ("arrays-history-layer", _arrays_edit(lambda f: f.move("history/2", "history/two")),
     "numbered"),
    ("arrays-fewer-layers", _arrays_edit(lambda f: [f.__delitem__(f"fields/{group}/2") for group
                                                    in ("weight_product",
                                                        "activation_weighted", "live")]),
     "different runs"),
]


@pytest.mark.parametrize(("case", "edit", "word"), RESULTS_DAMAGE, ids=_ids(RESULTS_DAMAGE))
def test_damaged_results_folder(good, tmp_path, case, edit, word):
    folder = tmp_path / "results"
    shutil.copytree(good["results"], folder)
    edit(folder)
    with pytest.raises(IsingRGError) as info:
        read_available(folder)
    assert word in str(info.value) and "\n" not in str(info.value), str(info.value)
    out = tmp_path / "figures"
    result = CliRunner().invoke(main, ["figures", "--results", str(folder), "--out", str(out)])
    assert_one_line_error(result, word)
    assert not out.exists()


def test_good_results_folder_reads(good):
    found = read_available(good["results"])
    assert all(found[key] is not None for key in ("metrics", "arrays", "validation"))

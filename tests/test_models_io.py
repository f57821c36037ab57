"""Model files: round trip, atomic writes, and one-line errors for bad files."""

from __future__ import annotations

import hashlib
import json

import h5py
import numpy as np
import pytest

from ising_rg import __version__
from ising_rg.errors import IsingRGError, NotFittedError
from ising_rg.io.models import FORMAT, file_sha256, load_dbn, read_model_metadata, save_dbn
from ising_rg.rbm import DBN, BernoulliRBM
from ising_rg.settings import Recipe
from tests.conftest import assert_refuses_missing_and_foreign


@pytest.fixture(scope="module")
def data():
    return (np.random.default_rng(0).random((300, 25)) < 0.4).astype(np.float32)


@pytest.fixture(scope="module")
def dbn(data):
    return DBN((12, 6, 3), random_state=4, recipe=Recipe(epochs=2, batch_size=30)).fit(data)


@pytest.fixture
def saved(dbn, tmp_path):
    path = tmp_path / "model.h5"
    save_dbn(dbn, path, data_sha256="ab" * 32, hyperparameters={"epochs": 2, "l1": 2e-4}, seed=4)
    return path


def test_round_trip_reproduces_transform_bit_for_bit(dbn, data, saved):
    loaded = load_dbn(saved)
    assert loaded.n_layers_ == 3
    for depth in (1, 2, 3):
        assert np.array_equal(loaded.transform(data, depth), dbn.transform(data, depth))
        assert np.array_equal(loaded.reconstruct(data, depth), dbn.reconstruct(data, depth))
    for a, b in zip(dbn.rbms_, loaded.rbms_, strict=True):
        assert a.weights_.dtype == b.weights_.dtype == np.float32
        assert set(a.history_) == set(b.history_)
        for key in a.history_:
            np.testing.assert_array_equal(a.history_[key], b.history_[key])
    assert np.array_equal(loaded.validation_indices_, dbn.validation_indices_)
    assert loaded.get_params() == dbn.get_params()


def test_layout_and_metadata_follow_the_spec(saved):
    with h5py.File(saved, "r") as f:
        assert f.attrs["format"] == FORMAT and int(f.attrs["format_version"]) == 2
        assert sorted(f["layers"].keys()) == ["1", "2", "3"]
        assert f["layers/1/weights"].shape == (25, 12) and f["layers/1/weights"].dtype == "f4"
        assert f["layers/2/visible_bias"].shape == (12,)
        assert f["layers/3/hidden_bias"].shape == (3,)
        assert "reconstruction_error" in f["layers/1/history"]
        assert json.loads(f.attrs["hyperparameters"]) == {"epochs": 2, "l1": 2e-4}
    meta = read_model_metadata(saved)
    assert meta["data_sha256"] == "ab" * 32 and meta["seed"] == 4
    assert meta["package_version"] == __version__ and "created" in meta
    assert meta["layer_shapes"] == [(25, 12), (12, 6), (6, 3)]


def test_existing_file_is_not_overwritten_without_permission(dbn, saved):
    before = saved.read_bytes()
    with pytest.raises(IsingRGError, match="exists") as info:
        save_dbn(dbn, saved, data_sha256="x", hyperparameters={}, seed=0)
    assert "\n" not in str(info.value)
    assert saved.read_bytes() == before
    save_dbn(dbn, saved, data_sha256="0f" * 32, hyperparameters={}, seed=0, overwrite=True)
    assert read_model_metadata(saved)["data_sha256"] == "0f" * 32
    assert sorted(p.name for p in saved.parent.iterdir()) == ["model.h5"]  # no temp files


def test_loaded_model_equals_the_one_built_from_its_parameters(dbn, data, saved):
    """load_dbn is the public constructors applied to the file's arrays: the same model bit for
    bit as from_parameters/from_rbms on the trained network's own parameters."""
    layers = [
        BernoulliRBM.from_parameters(r.weights_, r.visible_bias_, r.hidden_bias_,
                                     history=r.history_, **r.get_params())
        for r in dbn.rbms_
    ]
    built = DBN.from_rbms(layers, validation_indices=dbn.validation_indices_, **dbn.get_params())
    loaded = load_dbn(saved)
    assert loaded.get_params() == built.get_params()
    for a, b in zip(loaded.rbms_, built.rbms_, strict=True):
        for name in ("weights_", "visible_bias_", "hidden_bias_"):
            assert np.array_equal(getattr(a, name), getattr(b, name))
        assert a.n_iter_ == b.n_iter_ == 2
    assert np.array_equal(loaded.transform(data), built.transform(data))
    assert np.array_equal(loaded.validation_indices_, built.validation_indices_)


def test_estimators_have_no_file_methods():
    """I/O lives in ``io/`` only (that ``ising_rg.rbm`` imports neither ``io`` nor the CLI is
    tests/test_imports.py's)."""
    assert not hasattr(DBN, "save") and not hasattr(DBN, "load")


def test_unfitted_or_unserialisable_models_are_refused(dbn, tmp_path):
    with pytest.raises(NotFittedError, match="unfitted"):
        save_dbn(DBN((3,)), tmp_path / "a.h5", data_sha256="", hyperparameters={}, seed=0)
    with pytest.raises(IsingRGError, match="JSON"):
        save_dbn(dbn, tmp_path / "b.h5", data_sha256="ab" * 32, hyperparameters={"f": object()},
                 seed=0)
    with pytest.raises(IsingRGError, match="data_sha256 must be 64 lowercase hexadecimal"):
        save_dbn(dbn, tmp_path / "c.h5", data_sha256="", hyperparameters={}, seed=0)
    assert list(tmp_path.iterdir()) == []


def test_file_sha256(tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(b"ising" * 100_000)
    assert file_sha256(path) == hashlib.sha256(b"ising" * 100_000).hexdigest()
    with pytest.raises(IsingRGError, match="does not exist"):
        file_sha256(tmp_path / "missing.bin")


def _edit(path, action):
    with h5py.File(path, "r+") as f:
        action(f)


def _replace(f, name, data):
    del f[name]
    f[name] = data


BAD_FILES = {
    "missing layer": lambda f: f.__delitem__("layers/2"),
    "wrong version": lambda f: f.attrs.__setitem__("format_version", 3),
    "foreign format": lambda f: f.attrs.__setitem__("format", "something.else"),
    "shape chain": lambda f: _replace(f, "layers/2/weights", np.zeros((5, 6), np.float32)),
    "bias shape": lambda f: _replace(f, "layers/1/hidden_bias", np.zeros(7, np.float32)),
    "dtype": lambda f: _replace(f, "layers/1/weights", np.zeros((25, 12), np.float64)),
    "nan": lambda f: _replace(f, "layers/3/weights", np.full((6, 3), np.nan, np.float32)),
    "no weights": lambda f: f.__delitem__("layers/1/weights"),
}


@pytest.mark.parametrize("problem", sorted(BAD_FILES))
def test_corrupt_model_files_raise_one_line_errors(saved, problem):
    _edit(saved, BAD_FILES[problem])
    with pytest.raises(IsingRGError) as info:
        load_dbn(saved)
    assert "\n" not in str(info.value) and str(saved) in str(info.value)


def test_missing_non_hdf5_and_foreign_hdf5_files(tmp_path):
    foreign = assert_refuses_missing_and_foreign(load_dbn, tmp_path, "model")
    with pytest.raises(IsingRGError, match="not an ising_rg model file"):
        read_model_metadata(foreign)

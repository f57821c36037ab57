"""RSMI filter files: round trip, provenance, refusals, damaged and foreign files."""

from __future__ import annotations

import shutil

import h5py
import numpy as np
import pytest

from ising_rg import __version__
from ising_rg.errors import IsingRGError, NotFittedError
from ising_rg.io.filters import FORMAT, load_filter, read_filter_metadata, save_filter
from ising_rg.rg.rsmi import RSMIFilter
from tests.conftest import assert_refuses_missing_and_foreign, random_spins

SHA = "ab" * 32


@pytest.fixture(scope="module")
def fitted():
    return RSMIFilter(epochs=2, random_state=4).fit(random_spins(60, 12, seed=1))


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    return save_filter(fitted, tmp_path_factory.mktemp("filters") / "filter.h5",
                       data_sha256=SHA)


def test_round_trip_is_exact(fitted, saved):
    loaded = load_filter(saved, block_size=2)
    for name in ("filter_", "decoder_weights_", "environment_offsets_", "train_indices_",
                 "validation_indices_"):
        assert np.array_equal(getattr(loaded, name), getattr(fitted, name)), name
    for name in ("decoder_bias_", "lattice_size_", "mutual_information_",
                 "mutual_information_error_", "entropy_", "block_information_"):
        assert getattr(loaded, name) == getattr(fitted, name), name
    assert loaded.get_params() == fitted.get_params()
    for key, values in fitted.history_.items():
        assert np.array_equal(loaded.history_[key], values)
    spins = random_spins(5, 12, seed=2)
    assert np.array_equal(loaded.transform(spins, 3), fitted.transform(spins, 3))


def test_provenance(saved):
    meta = read_filter_metadata(saved)
    assert meta["format"] == FORMAT and meta["format_version"] == 1
    assert meta["data_sha256"] == SHA and meta["seed"] == 4
    assert meta["package_version"] == __version__ and meta["created"].endswith("+00:00")
    assert (meta["block_size"], meta["buffer"], meta["environment"], meta["lattice_size"]) == (
        2, 2, 2, 12)
    assert meta["hyperparameters"]["compression"] == 0.1


def test_existing_file_is_kept_unless_overwrite(fitted, saved, tmp_path):
    path = tmp_path / "f.h5"
    shutil.copy(saved, path)
    before = path.read_bytes()
    with pytest.raises(IsingRGError, match="already exists"):
        save_filter(fitted, path, data_sha256=SHA)
    assert path.read_bytes() == before
    save_filter(fitted, path, data_sha256=SHA, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["f.h5"]  # no temporary file left


def test_refusals_before_writing(fitted, tmp_path):
    with pytest.raises(NotFittedError):
        save_filter(RSMIFilter(), tmp_path / "a.h5", data_sha256=SHA)
    with pytest.raises(IsingRGError, match="SHA-256"):
        save_filter(fitted, tmp_path / "a.h5", data_sha256="abc")
    assert not list(tmp_path.iterdir())


def test_a_filter_for_another_block_size_is_refused(saved):
    with pytest.raises(IsingRGError, match=r"is a filter for 2 x 2 blocks, not 4 x 4") as info:
        load_filter(saved, block_size=4)
    assert "\n" not in str(info.value)


def test_missing_text_and_foreign_files(tmp_path):
    assert_refuses_missing_and_foreign(load_filter, tmp_path, "filter")


def _damaged(saved, tmp_path, edit):
    path = tmp_path / "damaged.h5"
    shutil.copy(saved, path)
    with h5py.File(path, "r+") as f:
        edit(f)
    return path


def _replace(name, data):
    def edit(f):
        del f[name]
        f[name] = data
    return edit


DAMAGE = [
    (lambda f: f.attrs.__setitem__("format_version", 2), "format version 2"),
    (lambda f: f.attrs.__setitem__("format", "ising_rg.dbn"), "not an ising_rg filter file"),
    (lambda f: f.attrs.__delitem__("block_size"), "attribute 'block_size' is missing"),
    (lambda f: f.attrs.__setitem__("buffer", -1), "attribute 'buffer' must be an integer >= 0"),
    (lambda f: f.attrs.__setitem__("seed", "x"), "attribute 'seed' must be an integer"),
    (lambda f: f.attrs.__setitem__("data_sha256", "nope"), "SHA-256"),
    (lambda f: f.attrs.__setitem__("hyperparameters", "{"), "not valid JSON"),
    (lambda f: f.attrs.__setitem__("mutual_information_bits", 3.0), "must be a number <= 1"),
    (lambda f: f.attrs.__setitem__("environment", 1), r"attribute 'environment' \(1\) is not"),
    (lambda f: f.attrs.__setitem__("hyperparameters", '{"block_size": 2, "n_epochs": 3}'),
     "unexpected keyword"),
    (lambda f: f.attrs.__setitem__("lattice_size", 4), "leaves no environment"),
    (lambda f: f.__delitem__("filter"), "dataset /filter is missing"),
    (_replace("filter", np.ones((2, 2), np.float32)), "must be float64"),
    (_replace("filter", np.ones((3, 3))), r"must have shape \(2, 2\)"),
    (_replace("filter", np.full((2, 2), np.nan)), "NaN or infinite"),
    (lambda f: f.__delitem__("decoder"), "group /decoder is missing"),
    (_replace("decoder/weights", np.ones(5)), "environment_offsets must have shape"),
    (_replace("decoder/environment_offsets", np.zeros((64, 2), np.int64)), "is not the"),
    (_replace("history/train_bits", np.ones(7)), "differ in length"),
]


@pytest.mark.parametrize("edit,message", DAMAGE)
def test_damaged_files_get_one_line_errors(saved, tmp_path, edit, message):
    path = _damaged(saved, tmp_path, edit)
    before = path.read_bytes()
    with pytest.raises(IsingRGError, match=message) as info:
        load_filter(path)
    assert "\n" not in str(info.value)
    assert path.read_bytes() == before

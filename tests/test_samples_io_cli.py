"""Sample files and the sampling CLI: round trip, determinism, and one-line errors."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from ising_rg import exact
from ising_rg.cli import main
from ising_rg.errors import IsingRGError
from ising_rg.io.samples import read_samples, write_samples
from ising_rg.sampling.sampler import SampleOptions, sample
from tests.conftest import assert_refuses_missing_and_foreign


@pytest.fixture(scope="module")
def small_samples():
    return sample(SampleOptions(8, 0.4, 300, "wolff", seed=2))


def test_round_trip(tmp_path, small_samples):
    path = write_samples(small_samples, tmp_path / "s.h5")
    back = read_samples(path)
    assert np.array_equal(back.spins, small_samples.spins)
    assert back.spins.dtype == np.int8
    assert np.array_equal(back.energy, small_samples.energy)
    assert np.array_equal(back.magnetization, small_samples.magnetization)
    assert back.coupling == small_samples.coupling
    assert back.tau_int_energy == small_samples.tau_int_energy
    with h5py.File(path) as f:
        assert f.attrs["format"] == "ising_rg.samples"
        assert f["spins"].compression == "gzip"
        assert f.attrs["temperature"] == pytest.approx(1 / 0.4)
        assert json.loads(f.attrs["options"])["algorithm"] == "wolff"
    assert not list(tmp_path.glob(".*tmp"))


def test_existing_output_is_not_overwritten(tmp_path, small_samples):
    path = tmp_path / "s.h5"
    path.write_bytes(b"precious")
    with pytest.raises(IsingRGError, match="already exists"):
        write_samples(small_samples, path)
    assert path.read_bytes() == b"precious"
    write_samples(small_samples, path, overwrite=True)
    assert read_samples(path).n_samples == 300


def _corrupt(path, small_samples, tmp_path, edit):
    write_samples(small_samples, path)
    with h5py.File(path, "a") as f:
        edit(f)
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.attrs.__setitem__("format", "something.else"), "not an ising_rg sample"),
        (lambda f: f.attrs.__setitem__("format_version", 99), "version 99"),
        (lambda f: f["spins"].__setitem__((0, 0, 0), 0), "only -1 and \\+1"),
        (lambda f: f["energy"].__setitem__(0, np.nan), "non-finite"),
        (lambda f: f.__delitem__("magnetization"), "missing magnetization"),
        (lambda f: f.attrs.__setitem__("size", 9), "size attribute"),
    ],
)
def test_reader_explains_what_is_wrong(tmp_path, small_samples, edit, message):
    path = _corrupt(tmp_path / "bad.h5", small_samples, tmp_path, edit)
    with pytest.raises(IsingRGError, match=message):
        read_samples(path)


def test_reader_rejects_missing_and_foreign_files(tmp_path):
    assert_refuses_missing_and_foreign(read_samples, tmp_path, "sample")


def test_cli_sample_writes_file_and_same_seed_is_identical(tmp_path):
    runner = CliRunner()
    paths = [tmp_path / "a.h5", tmp_path / "b.h5"]
    for path in paths:
        result = runner.invoke(main, ["sample", "--size", "8", "--samples", "200",
                                      "--temperature", "2.5", "--quiet", "--out", str(path)])
        assert result.exit_code == 0, result.output
    a, b = read_samples(paths[0]), read_samples(paths[1])
    assert np.array_equal(a.spins, b.spins)
    assert a.coupling == pytest.approx(0.4)
    with h5py.File(paths[0]) as fa, h5py.File(paths[1]) as fb:
        for key in fa.attrs:
            if key != "created":
                assert np.all(fa.attrs[key] == fb.attrs[key]), key


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size", "7"], "even integer"),
        (["--size", "2"], "size must be an integer >= 4"),
        (["--coupling", "-0.3"], "positive"),
        (["--coupling", "0.4", "--temperature", "2.5"], "not both"),
        (["--temperature", "0"], "positive"),
        (["--samples", "0"], "n_samples must be an integer >= 1"),
        (["--spacing", "often"], "auto"),
        (["--seed", "-1"], "seed"),
    ],
)
def test_cli_bad_input_gives_one_line_error(tmp_path, args, message):
    out = tmp_path / "never.h5"
    result = CliRunner().invoke(main, ["sample", "--quiet", "--out", str(out), *args])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.output
    assert message.split("\\")[0] in lines[0] or message in lines[0]
    assert not out.exists()
    assert "Traceback" not in result.output


def test_cli_refuses_existing_output_and_leaves_it_intact(tmp_path):
    out = tmp_path / "keep.h5"
    out.write_bytes(b"do not touch")
    result = CliRunner().invoke(main, ["sample", "--size", "8", "--samples", "10", "--quiet",
                                       "--out", str(out)])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert out.read_bytes() == b"do not touch"


def test_cli_exact_prints_json():
    result = CliRunner().invoke(main, ["exact", "--size", "16", "--temperature", "2.0"])
    assert result.exit_code == 0
    values = json.loads(result.output)
    assert values["energy_per_spin"] == pytest.approx(exact.energy_per_spin(0.5, 16))
    bad = CliRunner().invoke(main, ["exact", "--size", "1"])
    assert bad.exit_code == 1 and bad.output.startswith("Error:")


def test_bench_metropolis_reports_both_kernels():
    from ising_rg.bench import bench_metropolis

    result = bench_metropolis(16, target_flips=2e5)
    assert result["flips_per_ns"] > 0 and result["naive_flips_per_ns"] > 0

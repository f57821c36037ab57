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
from ising_rg.sampling.sampler import sample
from ising_rg.settings import SampleOptions
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
        (["--size", "7"], "Invalid value for '--size': 7 is odd"),
        (["--size", "2"], "Invalid value for '--size': 2 is not in the range x>=4"),
        (["--size", "forty"], "Invalid value for '--size'"),
        (["--coupling", "-0.3"], "Invalid value for '--coupling': -0.3 is not in the range 0.0001"),
        (["--coupling", "nan"], "Invalid value for '--coupling': 'nan' is not a finite"),
        (["--temperature", "0"], "Invalid value for '--temperature'"),
        (["--samples", "0"], "Invalid value for '--samples': 0 is not in the range x>=1"),
        (["--chains", "0"], "Invalid value for '--chains'"),
        (["--spacing", "often"], "Invalid value for '--spacing': 'often' is neither 'auto'"),
        (["--spacing", "0"], "Invalid value for '--spacing': 0 is not in the range 1<=x"),
        (["--thermalization", "-1"], "Invalid value for '--thermalization'"),
        (["--seed", "-1"], "Invalid value for '--seed'"),
        (["--algorithm", "glauber"], "Invalid value for '--algorithm'"),
    ],
)
def test_cli_bad_options_give_one_line_usage_errors(tmp_path, args, message):
    out = tmp_path / "never.h5"
    result = CliRunner().invoke(main, ["sample", "--quiet", "--out", str(out), *args])
    assert result.exit_code == 2
    assert result.output.splitlines() == [result.output.strip()], result.output
    assert result.output.startswith(f"Error: {message}"), result.output
    assert result.output.rstrip().endswith("sample --help')")
    assert not out.exists()


def test_cli_coupling_and_temperature_together_is_an_error(tmp_path):
    result = CliRunner().invoke(main, ["sample", "--coupling", "0.4", "--temperature", "2.5",
                                       "--out", str(tmp_path / "x.h5")])
    assert result.exit_code == 1
    assert result.output == "Error: give either --coupling or --temperature, not both\n"


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
    assert bad.exit_code == 2 and bad.output.startswith("Error: Invalid value for '--size'")
    bad = CliRunner().invoke(main, ["exact", "--temperature", "20000"])
    assert bad.exit_code == 2 and bad.output.startswith("Error: Invalid value for '--temp")


def test_bench_metropolis_reports_both_kernels():
    from ising_rg.bench import bench_metropolis

    result = bench_metropolis(16, target_flips=2e5)
    assert result["flips_per_ns"] > 0 and result["naive_flips_per_ns"] > 0

"""Output files as other programs' are: their mode follows the user's umask (group and others
may read them under umask 022; nobody else under 077), whether new or replaced with
--overwrite, for every command that writes (data, models, results, figures, studies)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from ising_rg.cli import main
from ising_rg.io.atomic import atomic_output, default_file_mode, remove_temporary_files


@pytest.fixture
def umask():
    """Set the process's umask for the test (restored afterwards)."""
    previous = os.umask(0o022)
    try:
        yield lambda mask: os.umask(mask)
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _run(*args) -> None:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output


def _outputs(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


STUDY = """\
seed = 1
[[groups]]
name = "modes"
data = { size = 8, samples = 200 }
network = { hidden = [4] }
recipe = { epochs = 1 }
analysis = { generative_samples = 4, gibbs_steps = 8, extras = [] }
"""


def test_every_command_writes_files_the_umask_allows_others_to_read(umask, tmp_path):
    umask(0o022)
    data, model = tmp_path / "data.h5", tmp_path / "models" / "dbn.h5"
    results, figures = tmp_path / "results", tmp_path / "figures"
    _run("sample", "--size", "8", "--samples", "200", "--quiet", "--out", data)
    _run("train", "--data", data, "--hidden", "4", "--epochs", "1", "--batch-size", "20",
         "--quiet", "--out", model)
    _run("analyze", "--model", model, "--data", data, "--out", results,
         "--generative-samples", "4", "--gibbs-steps", "8", "--no-likelihood", "--quiet")
    _run("validate", "--size", "4", "--samples", "32", "--out", results)
    _run("figures", "--results", results, "--out", figures)
    (tmp_path / "study.toml").write_text(STUDY)
    _run("experiment", "--spec", tmp_path / "study.toml", "--out", tmp_path / "runs",
         "--workers", "1")
    written = _outputs(tmp_path)
    assert len(written) > 20
    assert {path.name: oct(_mode(path)) for path in written} == {
        path.name: oct(0o644) for path in written if path.name != "study.toml"} | {
        "study.toml": oct(_mode(tmp_path / "study.toml"))}
    # --overwrite gives the replaced file the mode of a new one, neither the old one's nor
    # a tighter one; and the mode follows the umask, whatever it is.
    os.chmod(data, 0o600)
    umask(0o027)
    _run("sample", "--size", "8", "--samples", "20", "--quiet", "--out", data, "--overwrite")
    assert _mode(data) == 0o640
    umask(0o077)
    _run("figures", "--results", results, "--out", figures, "--overwrite")
    assert {_mode(path) for path in _outputs(figures)} == {0o600}


def test_the_default_mode_is_read_from_the_umask(umask):
    for mask, mode in ((0o022, 0o644), (0o002, 0o664), (0o077, 0o600), (0o000, 0o666)):
        umask(mask)
        assert default_file_mode() == mode


def test_a_killed_writer_s_temporary_files_are_found_by_its_pid(tmp_path):
    """What the experiment's pool removes after killing a worker: that pid's temporary
    files, and nobody else's (nor a file whose own name contains the number)."""
    (tmp_path / "a").mkdir()
    mine = [tmp_path / "a" / ".result.json.4242.abcd_123.tmp", tmp_path / ".x.h5.4242.zzzzzzzz.tmp"]
    others = [tmp_path / "a" / ".result.json.14242.abcd_123.tmp",
              tmp_path / ".run.4242.csv.777.abcdefgh.tmp", tmp_path / "4242.tmp"]
    for path in mine + others:
        path.write_text("partial")
    assert sorted(remove_temporary_files(tmp_path, 4242)) == sorted(mine)
    assert [path.exists() for path in mine + others] == [False] * 2 + [True] * 3
    # and the name atomic_output gives its temporary file carries the writer's pid
    with pytest.raises(KeyboardInterrupt), atomic_output(tmp_path / "out.txt") as tmp:
        assert f".{os.getpid()}." in tmp.name
        assert remove_temporary_files(tmp_path, os.getpid()) == [tmp]
        raise KeyboardInterrupt
    assert list(tmp_path.glob("out.txt*")) == []

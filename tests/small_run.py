"""A small analysis through the command line, for tests that need real output files: L = 8,
300 Wolff samples, a 64-16-4 DBN trained 3 epochs, analysed."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from ising_rg.cli import main


def run_commands(*commands: tuple) -> None:
    """Run each ``ising-rg`` command (a tuple of arguments); each must succeed."""
    for args in commands:
        result = CliRunner().invoke(main, [str(a) for a in args])
        assert result.exit_code == 0, result.output


def small_analysis(root: Path, results: Path, *analyze_options: str) -> None:
    """Sample, train and analyse into ``results`` (data and model kept in ``root``)."""
    run_commands(
        ("sample", "--size", "8", "--samples", "300", "--seed", "3", "--quiet",
         "--out", root / "data.h5"),
        ("train", "--data", root / "data.h5", "--hidden", "16,4", "--epochs", "3",
         "--batch-size", "20", "--quiet", "--out", root / "model.h5"),
        ("analyze", "--model", root / "model.h5", "--data", root / "data.h5", "--out", results,
         "--quiet", *analyze_options))

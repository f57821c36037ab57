"""Shared helpers for the test suite."""

from __future__ import annotations

import math

import h5py
import numpy as np
import pytest

from ising_rg.errors import IsingRGError
from ising_rg.figures import FIGURES

# files `figures` writes from `analyze` results alone (PNG and PDF of each figure not drawn from
# `validate`'s results)
ANALYZE_FIGURE_FILES = 2 * sum("validation" not in inputs for _, inputs in FIGURES.values())


def chi_square_z(observed: np.ndarray, expected: np.ndarray, min_expected: float = 5.0) -> float:
    """Goodness of fit of counts as a standard-normal z (Wilson-Hilferty transform of chi^2).

    Bins expected to hold fewer than ``min_expected`` counts are pooled into one, so the
    chi-square approximation holds. z < 4 passes at the 3e-5 level.
    """
    observed = np.asarray(observed, dtype=float)
    expected = np.asarray(expected, dtype=float)
    small = expected < min_expected
    if small.any():
        observed = np.append(observed[~small], observed[small].sum())
        expected = np.append(expected[~small], expected[small].sum())
    keep = expected > 0
    chi2 = float(np.sum((observed[keep] - expected[keep]) ** 2 / expected[keep]))
    dof = int(keep.sum()) - 1
    return ((chi2 / dof) ** (1 / 3) - (1 - 2 / (9 * dof))) / math.sqrt(2 / (9 * dof))


def assert_refuses_missing_and_foreign(read, tmp_path, kind: str):
    """``read(path)`` refuses a missing file, a text file and an HDF5 file of another kind, each
    with an IsingRGError naming the problem. Returns the foreign HDF5 file."""
    with pytest.raises(IsingRGError, match="does not exist"):
        read(tmp_path / "missing.h5")
    text = tmp_path / "text.h5"
    text.write_text("not HDF5\n")
    with pytest.raises(IsingRGError, match="not an HDF5 file"):
        read(text)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["spins"] = np.zeros((2, 4, 4), np.int8)
    with pytest.raises(IsingRGError, match=f"not an ising_rg {kind} file"):
        read(foreign)
    return foreign


def random_spins(n: int, size: int, seed: int) -> np.ndarray:
    """Independent uniformly random spins, int8 shaped (n, size, size)."""
    return np.random.default_rng(seed).choice(
        np.array([-1, 1], dtype=np.int8), size=(n, size, size)
    )


def assert_one_line_error(result, contains: str = "", exit_code: int = 1) -> str:
    """A CliRunner result is a clean failure: ``exit_code``, exactly one line ``Error: ...``
    containing ``contains``, no traceback (the exception is click's exit). Returns the line."""
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert contains in lines[0], lines[0]
    return lines[0]


def pytest_collection_modifyitems(config, items):
    """Files holding a slow test first (stable order otherwise): with the suite spread over
    workers file by file (`make test`), the longest files start at once instead of last."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)

"""Atomic output: write to a temporary name in the same folder, then rename into place.

An interrupted run (exception, Ctrl-C, kill) never leaves a half-written file under the
final name, and an existing file is never replaced unless ``overwrite`` is given.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ising_rg.errors import IsingRGError


def check_output_path(path: str | os.PathLike, overwrite: bool) -> Path:
    """Validate an output path before any work is done.

    Raises
    ------
    IsingRGError
        If the file exists and ``overwrite`` is false, or its folder is missing.
    """
    path = Path(path)
    if path.is_dir():
        raise IsingRGError(f"output {path} is a directory, expected a file name")
    if path.exists() and not overwrite:
        raise IsingRGError(f"output {path} already exists (use --overwrite to replace it)")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise IsingRGError(f"output folder {parent} does not exist")
    return path


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` on success.

    On any exception (including KeyboardInterrupt) the temporary file is removed and
    ``path`` is left exactly as it was.
    """
    path = check_output_path(path, overwrite)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if path.exists() and not overwrite:  # appeared while we worked
            raise IsingRGError(f"output {path} already exists (use --overwrite to replace it)")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()

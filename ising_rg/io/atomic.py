"""Atomic output: write to a temporary name in the same folder, then rename into place.

An interrupted run (exception, Ctrl-C, kill) never leaves a half-written file under the
final name, and an existing file is never replaced unless ``overwrite`` is given. Output
paths are checked before any work (``check_output_path``) and their missing parent folders
are created when the file is written (the one rule of every command).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ising_rg.errors import IsingRGError


def check_output_path(path: str | os.PathLike, overwrite: bool) -> Path:
    """Validate an output file's path before any work is done; create nothing.

    Missing parent folders are fine (``atomic_output`` creates them when it writes), as long
    as the nearest existing one is a folder we may write to.

    Raises
    ------
    IsingRGError
        If ``path`` is a folder or another non-regular file (a device, a pipe), exists and
        ``overwrite`` is false, or cannot be created.
    """
    path = Path(path)
    if path.is_dir():
        raise IsingRGError(f"output {path} is a directory, expected a file name")
    if path.exists() and not path.is_file():  # a device or pipe is never replaced
        raise IsingRGError(f"output {path} exists and is not a regular file")
    if path.exists() and not overwrite:
        raise IsingRGError(f"output {path} already exists (use --overwrite to replace it)")
    check_output_folder(path.parent)
    return path


def check_output_folder(folder: str | os.PathLike) -> Path:
    """``folder`` as a Path, if it is a folder we may write to or could be created (its
    nearest existing ancestor is a writable folder); create nothing.

    Raises
    ------
    IsingRGError
        "output folder x is a file" or "cannot write to folder x: permission denied".
    """
    folder = Path(folder) if str(folder) else Path(".")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise IsingRGError(f"output folder {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise IsingRGError(f"cannot write to folder {existing}: permission denied")
    return folder


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` on success.

    On any exception (including KeyboardInterrupt) the temporary file is removed and
    ``path`` is left exactly as it was.
    """
    path = check_output_path(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
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

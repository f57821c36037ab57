"""Atomic output: write to a temporary name in the same folder, then rename into place.

An interrupted run (exception, Ctrl-C, kill) never leaves a half-written file under the
final name, and an existing file is never replaced unless ``overwrite`` is given. Output
paths are checked before any work (``check_output_path``) and their missing parent folders
are created when the file is written (the one rule of every command).

A file gets the mode any program's new file gets, 0o666 less the user's umask (a replaced
file too: ``--overwrite`` neither keeps nor tightens the old mode), although the temporary
file is created 0o600. Temporary names are ``.<name>.<pid>.<random>.tmp``: a process that
kills a writer (the experiment's worker pool on Ctrl-C) removes that writer's leftovers by
its pid (``remove_temporary_files``).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ising_rg.errors import IsingRGError

__all__ = ["atomic_output", "check_output_folder", "check_output_path", "default_file_mode",
           "remove_temporary_files", "write_unless_unchanged"]


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
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                                    dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if path.exists() and not overwrite:  # appeared while we worked
            raise IsingRGError(f"output {path} already exists (use --overwrite to replace it)")
        # mkstemp made it 0o600 (and a writer may have replaced it): the mode of a new file
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_unless_unchanged(path: str | os.PathLike, text: str, overwrite: bool) -> bool:
    """Write ``text`` (UTF-8, byte for byte) to ``path`` atomically, unless the file holds
    exactly that already: then leave it untouched (its time stamps too). Returns whether it
    was written.

    Raises
    ------
    IsingRGError
        If ``path`` holds something else and ``overwrite`` is false.
    """
    path = Path(path)
    data = text.encode("utf-8")
    if path.is_file() and path.read_bytes() == data:
        return False
    with atomic_output(path, overwrite) as tmp:
        tmp.write_bytes(data)
    return True


def default_file_mode() -> int:
    """The mode a program's new file gets: 0o666 less the process's umask."""
    return 0o666 & ~_umask()


def _umask() -> int:
    # Linux states it (>= 4.7); elsewhere it can only be read by setting it and setting it
    # back, which a thread creating a file at that moment would see.
    with contextlib.suppress(OSError, ValueError, StopIteration):
        status = Path("/proc/self/status").read_text().splitlines()
        return int(next(line for line in status if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def remove_temporary_files(folder: str | os.PathLike, pid: int) -> list[Path]:
    """Remove the temporary files that process ``pid`` left anywhere under ``folder`` (it was
    killed while writing); return them. Only that process's names are touched, so the
    writers of other processes in the same folder are not disturbed."""
    # mkstemp's random part: 8 characters of [a-z0-9_]
    name = re.compile(rf"^\..+\.{int(pid)}\.[a-z0-9_]{{8}}\.tmp$")
    removed = []
    for tmp in Path(folder).glob(f"**/.*.{int(pid)}.*.tmp"):
        if name.match(tmp.name):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
                removed.append(tmp)
    return removed

"""Sample files (``docs/formats.md``): HDF5 with spins, per-spin energy and magnetization.

Layout::

    /spins          int8 (n, L, L) in {-1, +1}, chunked, gzip
    /energy         float64 (n,), energy per spin
    /magnetization  float64 (n,), magnetization per spin
    root attributes: format="ising_rg.samples", format_version, size, coupling, temperature,
                     algorithm, seed, thermalization_sweeps, spacing_sweeps, tau_int_energy,
                     tau_int_abs_magnetization, package_version, created, options (JSON)
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import h5py
import numpy as np

from ising_rg import __version__
from ising_rg.errors import IsingRGError
from ising_rg.io.atomic import atomic_output
from ising_rg.sampling.sampler import SampleSet

SAMPLE_FORMAT = "ising_rg.samples"
SAMPLE_FORMAT_VERSION = 1
_REQUIRED_ATTRS = ("size", "coupling", "algorithm", "seed", "thermalization_sweeps",
                   "spacing_sweeps", "tau_int_energy", "tau_int_abs_magnetization")


def write_samples(samples: SampleSet, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write a SampleSet atomically; refuses to replace an existing file unless ``overwrite``."""
    path = Path(path)
    with atomic_output(path, overwrite) as tmp, h5py.File(tmp, "w") as f:
        n, size, _ = samples.spins.shape
        f.create_dataset("spins", data=samples.spins.astype(np.int8, copy=False),
                         chunks=(min(n, 256), size, size), compression="gzip",
                         compression_opts=4, shuffle=True)
        f.create_dataset("energy", data=np.asarray(samples.energy, dtype=np.float64))
        f.create_dataset("magnetization",
                         data=np.asarray(samples.magnetization, dtype=np.float64))
        attrs = f.attrs
        attrs["format"] = SAMPLE_FORMAT
        attrs["format_version"] = SAMPLE_FORMAT_VERSION
        attrs["size"] = samples.size
        attrs["coupling"] = samples.coupling
        attrs["temperature"] = samples.temperature
        attrs["algorithm"] = samples.algorithm
        attrs["seed"] = samples.seed
        attrs["thermalization_sweeps"] = samples.thermalization_sweeps
        attrs["spacing_sweeps"] = samples.spacing_sweeps
        attrs["tau_int_energy"] = samples.tau_int_energy
        attrs["tau_int_abs_magnetization"] = samples.tau_int_abs_magnetization
        attrs["package_version"] = __version__
        attrs["created"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        attrs["options"] = json.dumps(samples.options, sort_keys=True)
    return path


def _open(path: Path) -> h5py.File:
    if not path.exists():
        raise IsingRGError(f"sample file {path} does not exist")
    if path.is_dir():
        raise IsingRGError(f"{path} is a directory, not a sample file")
    try:
        return h5py.File(path, "r")
    except OSError:
        raise IsingRGError(f"{path} is not an HDF5 file") from None


def read_samples(path: str | os.PathLike, spins: bool = True) -> SampleSet:
    """Read and validate a sample file.

    Checks the format tag and version, the presence, dtype and shape of every dataset, that
    spins are all +-1 and energies finite and consistent with the spins' lattice size.

    Raises
    ------
    IsingRGError
        With a one-line message naming the first problem found.
    """
    path = Path(path)
    with _open(path) as f:
        fmt = f.attrs.get("format")
        if isinstance(fmt, bytes):
            fmt = fmt.decode()
        if fmt != SAMPLE_FORMAT:
            raise IsingRGError(f"{path} is not an ising_rg sample file (format={fmt!r})")
        version = int(f.attrs.get("format_version", -1))
        if version != SAMPLE_FORMAT_VERSION:
            raise IsingRGError(
                f"{path} has sample format version {version}; this ising_rg reads version "
                f"{SAMPLE_FORMAT_VERSION}"
            )
        missing = [a for a in _REQUIRED_ATTRS if a not in f.attrs]
        missing += [d for d in ("spins", "energy", "magnetization") if d not in f]
        if missing:
            raise IsingRGError(f"{path} is missing {', '.join(missing)}")
        dset = f["spins"]
        if dset.ndim != 3 or dset.shape[1] != dset.shape[2] or dset.shape[0] < 1:
            raise IsingRGError(f"{path}: /spins must have shape (n, L, L), got {dset.shape}")
        if dset.dtype != np.int8:
            raise IsingRGError(f"{path}: /spins must be int8, got {dset.dtype}")
        n, size, _ = dset.shape
        if int(f.attrs["size"]) != size:
            raise IsingRGError(f"{path}: size attribute {f.attrs['size']} != lattice size {size}")
        energy = np.asarray(f["energy"])
        magnetization = np.asarray(f["magnetization"])
        for name, arr in (("energy", energy), ("magnetization", magnetization)):
            if arr.shape != (n,) or arr.dtype != np.float64:
                raise IsingRGError(f"{path}: /{name} must be float64 of shape ({n},)")
            if not np.all(np.isfinite(arr)):
                raise IsingRGError(f"{path}: /{name} contains non-finite values")
        coupling = float(f.attrs["coupling"])
        if not (np.isfinite(coupling) and coupling > 0):
            raise IsingRGError(f"{path}: coupling attribute must be positive, got {coupling}")
        data = np.asarray(dset) if spins else np.empty((0, size, size), dtype=np.int8)
        if spins and not np.all(np.abs(data) == 1):
            raise IsingRGError(f"{path}: /spins must contain only -1 and +1")
        options = json.loads(f.attrs.get("options", "{}"))
        attrs = {k: f.attrs[k] for k in _REQUIRED_ATTRS}
    return SampleSet(
        spins=data, energy=energy, magnetization=magnetization, size=size, coupling=coupling,
        algorithm=str(attrs["algorithm"]), seed=int(attrs["seed"]),
        thermalization_sweeps=float(attrs["thermalization_sweeps"]),
        spacing_sweeps=float(attrs["spacing_sweeps"]),
        tau_int_energy=float(attrs["tau_int_energy"]),
        tau_int_abs_magnetization=float(attrs["tau_int_abs_magnetization"]), options=options,
    )

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
from ising_rg.io.hdf5 import (
    check_format,
    dataset,
    integer_attribute,
    json_attribute,
    number_attribute,
    open_hdf5,
    reading,
    text_attribute,
)
from ising_rg.sampling.sampler import SampleSet
from ising_rg.settings import ALGORITHMS

SAMPLE_FORMAT = "ising_rg.samples"
SAMPLE_FORMAT_VERSION = 1
WHAT = "sample file"  # how messages call the file


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


def read_samples(path: str | os.PathLike, spins: bool = True) -> SampleSet:
    """Read and validate a sample file.

    Every attribute and dataset of the format is checked: present, of its type (integers,
    finite numbers in range, text, JSON), the datasets of their dtype and shape, the lattice
    size equal to the ``size`` attribute, ``temperature`` = 1 / ``coupling``, spins all +-1
    (when ``spins``), energies and magnetizations finite and within their bounds (|E/N| <= 2,
    |m| <= 1).

    Parameters
    ----------
    path : sample file written by ``write_samples``
    spins : bool
        Read the configurations; if false, ``spins`` is an empty (0, L, L) array.

    Raises
    ------
    IsingRGError
        With a one-line message naming the file and the first problem found.
    """
    path = Path(path)
    with open_hdf5(path, WHAT) as f, reading(path, WHAT):
        return _read(f, path, spins)


def _read(f, path: Path, read_spins: bool) -> SampleSet:
    check_format(f, path, WHAT, SAMPLE_FORMAT, SAMPLE_FORMAT_VERSION)
    size = integer_attribute(f, "size", path, 2)
    coupling = number_attribute(f, "coupling", path, above=0)
    temperature = number_attribute(f, "temperature", path, above=0)
    if abs(temperature * coupling - 1) > 1e-9:
        raise IsingRGError(f"{path}: attribute 'temperature' ({temperature:g}) is not "
                           f"1 / coupling ({1 / coupling:g})")
    algorithm = text_attribute(f, "algorithm", path, ALGORITHMS)
    seed = integer_attribute(f, "seed", path, 0)
    sweeps = {"thermalization_sweeps": number_attribute(f, "thermalization_sweeps", path,
                                                        minimum=0)}
    for name in ("spacing_sweeps", "tau_int_energy", "tau_int_abs_magnetization"):
        sweeps[name] = number_attribute(f, name, path, above=0)
    for name in ("package_version", "created"):
        text_attribute(f, name, path)
    options = json_attribute(f, "options", path, dict)

    spins = dataset(f, "spins", path, np.int8, ("n", "L", "L"))
    n, side, _ = spins.shape
    if n < 1:
        raise IsingRGError(f"{path}: dataset /spins holds no configurations")
    if side != size:
        raise IsingRGError(f"{path}: attribute 'size' ({size}) is not the lattice size of "
                           f"/spins ({side})")
    series = {}
    for name, bound in (("energy", 2.0), ("magnetization", 1.0)):
        values = dataset(f, name, path, np.float64, (n,))[()]
        if not np.isfinite(values).all():
            raise IsingRGError(f"{path}: dataset /{name} contains NaN or infinite values")
        if np.abs(values).max() > bound * (1 + 1e-12):
            raise IsingRGError(f"{path}: dataset /{name} has values beyond +-{bound:g} per spin")
        series[name] = values
    if read_spins:
        data = spins[()]
        if not np.all(np.abs(data) == 1):
            raise IsingRGError(f"{path}: dataset /spins must contain only -1 and +1")
    else:
        data = np.empty((0, size, size), dtype=np.int8)
    return SampleSet(spins=data, energy=series["energy"], magnetization=series["magnetization"],
                     size=size, coupling=coupling, algorithm=algorithm, seed=seed,
                     options=options, **sweeps)

"""The ``ising-rg`` command line: a thin click layer over the library.

Every command turns an ``IsingRGError`` into a one-line ``Error: ...`` and exit status 1.
"""

from __future__ import annotations

import json
import sys

import click

from ising_rg import __version__
from ising_rg.errors import IsingRGError


class _Group(click.Group):
    """A click group that reports library errors in one line instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except IsingRGError as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="ising-rg")
def main() -> None:
    """Does a deep belief network learn Kadanoff block-spin RG? (Mehta & Schwab, 2014)"""


def _coupling_options(func):
    func = click.option("--temperature", type=float, default=None,
                        help="T in units of J/k_B (K = 1/T); exclusive with --coupling.")(func)
    func = click.option("--coupling", type=float, default=None,
                        help="K = J/k_B T [default: 0.408, the paper's].")(func)
    return func


def _coupling(coupling: float | None, temperature: float | None) -> float:
    from ising_rg.sampling.sampler import resolve_coupling

    if coupling is None and temperature is None:
        coupling = 0.408
    return resolve_coupling(coupling, temperature)


def _sweeps_or_auto(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        number = int(value)
    except ValueError:
        raise IsingRGError(f"expected 'auto' or a whole number of sweeps, got {value!r}") from None
    if number < 0:
        raise IsingRGError(f"number of sweeps must be non-negative, got {number}")
    return number


@main.command()
@click.option("--size", type=int, default=40, show_default=True, help="Lattice size L (even).")
@_coupling_options
@click.option("--samples", "n_samples", type=int, default=20000, show_default=True)
@click.option("--algorithm", type=click.Choice(["wolff", "metropolis"]), default="wolff",
              show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--thermalization", default="auto", show_default=True,
              help="Sweeps (sweep equivalents for Wolff), or auto (20 tau_int, >= 1000).")
@click.option("--spacing", default="auto", show_default=True,
              help="Sweeps between stored samples, or auto (2 tau_int of the slower of E, |m|).")
@click.option("--chains", "n_chains", type=int, default=8, show_default=True,
              help="Independent chains run in parallel (results do not depend on threads).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Output HDF5 file [default: data/ising_L{size}_K{coupling}.h5].")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def sample(size, coupling, temperature, n_samples, algorithm, seed, thermalization, spacing,
           n_chains, out_path, overwrite, quiet):
    """Sample equilibrium configurations (numba Metropolis or Wolff) into an HDF5 file."""
    from ising_rg import exact
    from ising_rg.io.atomic import check_output_path
    from ising_rg.io.samples import write_samples
    from ising_rg.sampling.observables import thermodynamics
    from ising_rg.sampling.sampler import sample as draw
    from ising_rg.sampling.sampler import validate_options

    coupling = _coupling(coupling, temperature)
    if out_path is None:
        out_path = f"data/ising_L{size}_K{coupling:g}.h5"
    check_output_path(out_path, overwrite)  # fail before minutes of sampling, not after
    thermalization = _sweeps_or_auto(thermalization)
    spacing = _sweeps_or_auto(spacing)
    validate_options(size, coupling, n_samples, algorithm, seed, n_chains, thermalization, spacing)
    bar = None
    if not quiet:
        bar = click.progressbar(length=n_samples, label=f"sampling L={size} K={coupling:g}",
                                file=sys.stderr)
        bar.__enter__()

    def progress(done, total):
        bar.update(min(done, n_samples) - bar.pos)

    try:
        samples = draw(size=size, coupling=coupling, n_samples=n_samples, algorithm=algorithm,
                       seed=seed, thermalization=thermalization, spacing=spacing,
                       n_chains=n_chains, progress=progress if bar else None)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    write_samples(samples, out_path, overwrite=overwrite)
    stats = thermodynamics(samples.energy, samples.magnetization, coupling, size * size)
    e_exact = float(exact.energy_per_spin(coupling, size))
    e = stats["energy_per_spin"]
    click.echo(
        f"wrote {out_path}: {samples.n_samples} samples, tau_int(E)={samples.tau_int_energy:.3g}"
        f" tau_int(|m|)={samples.tau_int_abs_magnetization:.3g} sweeps, spacing "
        f"{samples.spacing_sweeps:.3g} sweeps; <E>/N = {e['mean']:.5f} +- {e['error']:.5f} "
        f"(exact {e_exact:.5f})",
        err=True,
    )


@main.command()
@click.option("--size", type=int, default=40, show_default=True, help="Lattice size L.")
@_coupling_options
def exact(size, coupling, temperature):
    """Exact finite-lattice (Kaufman) and infinite-lattice (Onsager) values, JSON on stdout."""
    from ising_rg.exact import exact_summary

    click.echo(json.dumps(exact_summary(_coupling(coupling, temperature), size), indent=2))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the default).")
@click.option("--only", type=click.Choice(["metropolis", "wolff", "dataset", "rbm"]),
              multiple=True, help="Run only these parts (repeatable).")
def bench(as_json, only):
    """Performance figures, measured side by side in one run (JSON on stdout)."""
    from ising_rg.bench import run_benchmarks

    parts = tuple(only) if only else ("metropolis", "wolff", "dataset", "rbm")
    click.echo(json.dumps(run_benchmarks(parts), indent=2))

"""The ``ising-rg`` command line: a thin click layer (parse, call, print) over the library;
the stages themselves are ``ising_rg.pipeline``. Defaults are the paper's (``ising_rg.paper``);
every command and option is described in ``docs/cli.md``.

Every command turns an ``IsingRGError`` into a one-line ``Error: ...`` and exit status 1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ising_rg import __version__, paper
from ising_rg.errors import IsingRGError
from ising_rg.experiments import MAX_JOBS


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
                        help=f"K = J/k_B T [default: {paper.COUPLING:g}, the paper's].")(func)
    return func


def _coupling(coupling: float | None, temperature: float | None) -> float:
    from ising_rg.sampling.sampler import resolve_coupling

    if coupling is None and temperature is None:
        coupling = paper.COUPLING
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
@click.option("--size", type=int, default=paper.SIZE, show_default=True,
              help="Lattice size L (even).")
@_coupling_options
@click.option("--samples", "n_samples", type=int, default=paper.N_SAMPLES, show_default=True)
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
    from ising_rg.pipeline import check_sampling, energy_check, sample_data
    from ising_rg.sampling.sampler import SampleOptions

    coupling = _coupling(coupling, temperature)
    if out_path is None:
        out_path = f"data/ising_L{size}_K{coupling:g}.h5"
    options = SampleOptions(size=size, coupling=coupling, n_samples=n_samples,
                            algorithm=algorithm, seed=seed,
                            thermalization=_sweeps_or_auto(thermalization),
                            spacing=_sweeps_or_auto(spacing), n_chains=n_chains)
    check_sampling(options, out_path, overwrite)  # fail before minutes of sampling, not after
    bar = None
    if not quiet:
        bar = click.progressbar(length=n_samples, label=f"sampling L={size} K={coupling:g}",
                                file=sys.stderr)
        bar.__enter__()

    def progress(done, total):
        bar.update(min(done, n_samples) - bar.pos)

    try:
        samples = sample_data(options, out_path, overwrite=overwrite,
                              progress=progress if bar else None)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    e = energy_check(samples)
    click.echo(
        f"wrote {out_path}: {samples.n_samples} samples, tau_int(E)={samples.tau_int_energy:.3g}"
        f" tau_int(|m|)={samples.tau_int_abs_magnetization:.3g} sweeps, spacing "
        f"{samples.spacing_sweeps:.3g} sweeps; <E>/N = {e['mean']:.5f} +- {e['error']:.5f} "
        f"(exact {e['exact']:.5f})",
        err=True,
    )


@main.command()
@click.option("--size", type=int, default=paper.SIZE, show_default=True, help="Lattice size L.")
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


def _numbers(value: str, option: str, types: tuple[type, ...], what: str) -> tuple:
    """A comma-separated option value parsed into ``types`` (one per entry; the last repeats)."""
    parts = value.split(",")
    try:
        return tuple(types[min(i, len(types) - 1)](part) for i, part in enumerate(parts))
    except ValueError:
        raise IsingRGError(f"{option} must be {what}, got {value!r}") from None


def _joined(values: tuple) -> str:
    """The comma-separated form of a tuple default (``_numbers`` reads it back)."""
    return ",".join(str(v) for v in values)


@main.command()
@click.option("--data", "data_path", type=click.Path(dir_okay=False), required=True,
              help="Sample file written by `ising-rg sample`.")
@click.option("--hidden", default=_joined(paper.HIDDEN), show_default=True,
              help="Hidden layer sizes, bottom to top.")
@click.option("--epochs", type=int, default=paper.N_EPOCHS, show_default=True,
              help="Epochs per layer.")
@click.option("--learning-rate", type=float, default=paper.LEARNING_RATE, show_default=True)
@click.option("--momentum", default=_joined(paper.MOMENTUM_SCHEDULE), show_default=True,
              help="initial,final,epochs-at-initial momentum.")
@click.option("--batch-size", type=int, default=paper.BATCH_SIZE, show_default=True)
@click.option("--cd-k", type=int, default=paper.CD_K, show_default=True,
              help="Gibbs steps (CD-k).")
@click.option("--pcd", is_flag=True, help="Persistent contrastive divergence.")
@click.option("--chains", "n_chains", type=int, default=None,
              help="Persistent chains for --pcd [default: batch size].")
@click.option("--l1", type=float, default=paper.L1, show_default=True,
              help="L1 weight penalty.")
@click.option("--l2", type=float, default=paper.L2, show_default=True,
              help="L2 weight penalty.")
@click.option("--init", type=click.Choice(["paper", "guide"]), default=paper.INIT,
              show_default=True, help="paper: W=0.1 N(0,1); guide: Hinton's practical guide.")
@click.option("--propagate", type=click.Choice(["probabilities", "samples"]),
              default=paper.PROPAGATE, show_default=True,
              help="What each layer passes up as the next layer's data.")
@click.option("--validation-fraction", type=float, default=0.1, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default="models/dbn.h5",
              show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train(data_path, hidden, epochs, learning_rate, momentum, batch_size, cd_k, pcd, n_chains,
          l1, l2, init, propagate, validation_fraction, seed, out_path, overwrite, quiet):
    """Train a deep belief network (stacked RBMs) on a sample file; defaults: the paper's recipe."""
    from ising_rg.checks import check_integer, check_number
    from ising_rg.pipeline import run_train

    sizes = _numbers(hidden, "--hidden", (int,), "comma-separated integers")
    for size in sizes:
        check_integer(size, "--hidden sizes", 1)
    schedule = _numbers(momentum, "--momentum", (float, float, int), "initial,final,epochs")
    if len(schedule) != 3:
        raise IsingRGError(f"--momentum must be initial,final,epochs, got {momentum!r}")
    # Checked here, before the data are read; the estimators check the rest.
    check_integer(epochs, "--epochs", 1)
    check_number(validation_fraction, "--validation-fraction", minimum=0, below=1)
    check_integer(seed, "--seed", 0)
    bars: dict[int, object] = {}

    def progress(layer, widths, epoch, n_epochs, metrics):
        if quiet:
            return
        if layer not in bars:
            for bar in bars.values():
                bar.__exit__(None, None, None)
            bars[layer] = click.progressbar(
                length=n_epochs, file=sys.stderr,
                label=f"layer {layer}/{len(sizes)} ({widths[layer - 1]}->{widths[layer]})",
                item_show_func=lambda text: text)
            bars[layer].__enter__()
        bars[layer].update(1, f"recon {metrics['reconstruction_error']:.4f} "
                              f"F-gap {metrics['free_energy_gap']:+.3f}")

    try:
        dbn = run_train(data_path, out_path, sizes, seed=seed, propagate=propagate,
                        validation_fraction=validation_fraction, overwrite=overwrite,
                        progress=progress, n_epochs=epochs, learning_rate=learning_rate,
                        momentum_schedule=schedule, batch_size=batch_size, cd_k=cd_k,
                        persistent=pcd, n_persistent_chains=n_chains, l1=l1, l2=l2, init=init)
    finally:
        for bar in bars.values():
            bar.__exit__(None, None, None)
    top = dbn.rbms_[-1].history_
    click.echo(f"wrote {out_path}: layers {dbn.n_features_in_}-{'-'.join(map(str, sizes))}, "
               f"final top-layer reconstruction error {top['reconstruction_error'][-1]:.4f}",
               err=True)


@main.command()
@click.option("--model", "model_path", type=click.Path(dir_okay=False), required=True,
              help="Model file written by `ising-rg train`.")
@click.option("--data", "data_path", type=click.Path(dir_okay=False), required=True,
              help="The sample file the model was trained on (or another at the same L).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="results",
              show_default=True, help="Folder for metrics.json and arrays.h5.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--generative-samples", type=int, default=2000, show_default=True,
              help="Gibbs chains of the generative checks (half from data, half random).")
@click.option("--gibbs-steps", type=int, default=1000, show_default=True,
              help="Step budget of those chains (they stop once split R-hat < 1.05).")
@click.option("--likelihood/--no-likelihood", default=True, show_default=True,
              help="Log-likelihoods by AIS where log Z cannot be enumerated (minutes at L = 40).")
@click.option("--overwrite", is_flag=True, help="Replace existing results.")
def analyze(model_path, data_path, out_dir, seed, generative_samples, gibbs_steps, likelihood,
            overwrite):
    """Measure the RG claim: receptive fields vs block spins, generative checks, controls.

    The sampler's validation and the 1D decimation need no model: `ising-rg validate`.
    """
    from ising_rg.checks import check_integer
    from ising_rg.pipeline import run_analyze

    check_integer(generative_samples, "--generative-samples", 2)
    check_integer(gibbs_steps, "--gibbs-steps", 0)
    check_integer(seed, "--seed", 0)
    metrics = run_analyze(model_path, data_path, out_dir, seed=seed,
                          n_generative=generative_samples, n_gibbs=gibbs_steps,
                          overwrite=overwrite, likelihood=likelihood)
    for layer in metrics["layers"]:
        pr = layer["participation_ratio"]["mean"]
        loc = layer["locality"]
        click.echo(f"layer {layer['index']}: b={layer['block_size']} dead "
                   f"{layer['dead_fraction']:.0%}, PR {pr if pr is None else round(pr, 1)}, "
                   f"locality {loc['mean']} (chance {loc['chance']})", err=True)
    click.echo(f"wrote {out_dir}/metrics.json and {out_dir}/arrays.h5", err=True)


@main.command()
@click.option("--size", type=int, default=paper.SIZE, show_default=True,
              help="Lattice size L of the sampler scan (even).")
@click.option("--samples", "n_samples", type=int, default=2000, show_default=True,
              help="Monte Carlo samples per temperature.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Temperature i of the scan uses seed + i.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="results",
              show_default=True, help="Folder for validation.json (the results folder).")
@click.option("--overwrite", is_flag=True, help="Replace an existing validation.json.")
def validate(size, n_samples, seed, out_dir, overwrite):
    """Check the instruments that need no model: write OUT/validation.json.

    \b
    sampler     Wolff <E>/N and C/N at 13 temperatures from T = 1.8 to 3.0 on the L x L
                torus, with error bars, beside Kaufman's exact finite-lattice values
    decimation  the 1D chain: K' = atanh(tanh(K)^2) against exact enumeration of a ring of
                12 spins, and the flow of K under repeated decimation
    settings    the options above

    `ising-rg figures` draws the sampler-validation and decimation figures from it.
    """
    from ising_rg.pipeline import run_validate

    path = run_validate(out_dir, size=size, n_samples=n_samples, seed=seed, overwrite=overwrite)
    click.echo(f"wrote {path}", err=True)


@main.command()
@click.option("--results", "results_dir", type=click.Path(file_okay=False), default="results",
              show_default=True, help="Folder written by `ising-rg analyze` and `validate`.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="figures",
              show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace existing figures.")
def figures(results_dir, out_dir, overwrite):
    """Draw every figure (PNG and PDF) whose inputs are in the results folder; never trains.

    Figures whose input file is absent are skipped and named on stderr: the sampler
    validation and decimation need validation.json (`ising-rg validate`), the others
    metrics.json and arrays.h5 (`ising-rg analyze`).
    """
    from ising_rg.figures import make_figures

    written, skipped = make_figures(results_dir, out_dir, overwrite=overwrite)
    for name, reason in skipped.items():
        click.echo(f"skipped {name}: {reason}", err=True)
    click.echo(f"wrote {len(written)} files to {out_dir}", err=True)


def _preset_names() -> list[str]:
    from ising_rg.experiments.presets import preset_names

    return preset_names()


@main.command()
@click.option("--spec", "spec_path", type=click.Path(exists=True, dir_okay=False),
              default=None, help="Your own study: a TOML file (docs/experiments.md).")
@click.option("--preset", type=click.Choice(_preset_names()), default=None,
              help="A built-in study: default (the report's, the paper's scale; used when "
                   "neither --spec nor --preset is given) or tiny (seconds per job).")
@click.option("--print-preset", type=click.Choice(_preset_names()), default=None,
              help="Print a built-in study's TOML (to copy and edit) and exit.")
@click.option("--out", "root", type=click.Path(file_okay=False), default="runs",
              show_default=True,
              help="Folder of the jobs, data sets and tables; finished jobs are not recomputed.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Local worker processes, one BLAS and one numba thread each.")
@click.option("--scheduler", default=None,
              help="Dask scheduler address (tcp://host:port) instead of local workers.")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Root seed [default: the study's seed, 0 in the presets].")
@click.option("--max-jobs", type=click.IntRange(min=1), default=MAX_JOBS, show_default=True,
              help="Refuse a study with more jobs than this, before running any.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the markdown report here (e.g. reports/rg_report.md).")
@click.option("--overwrite", is_flag=True, help="Replace an existing report.")
@click.option("--summary", is_flag=True,
              help="Print OUT/results.csv grouped by grid point and layer (mean ± standard "
                   "error over replicates); runs nothing unless --spec or --preset is given.")
@click.option("--metric", "metrics", multiple=True,
              help="A column of results.csv for --summary (repeatable) [default: locality, "
                   "block_spin_correlation, radius_of_gyration, dead_fraction].")
def experiment(spec_path, preset, print_preset, root, workers, scheduler, seed, max_jobs,
               report_path, overwrite, summary, metrics):
    """Run a study (controls, sweeps, seeds: a preset or your TOML) and tabulate it."""
    import time

    from ising_rg.experiments import spec, table
    from ising_rg.experiments.report import write_report
    from ising_rg.experiments.runner import load_results, run_experiment
    from ising_rg.io.atomic import check_output_path

    if print_preset:
        from ising_rg.experiments.presets import preset_text

        click.echo(preset_text(print_preset), nl=False)
        return
    if spec_path and preset:
        raise IsingRGError("give --spec or --preset, not both")
    if spec_path or preset or not summary:
        study = spec.read_study(spec_path) if spec_path else spec.load_preset(preset or "default")
        spec.build_study_jobs(study, seed, max_jobs)  # every check before any work
        if report_path:
            if "paper" not in [group.name for group in study.groups]:
                raise IsingRGError("--report needs a group named 'paper': the report reads "
                                   "the groups of the default preset")
            # Checked before hours of jobs; the folder of the report is created if missing.
            Path(report_path).parent.mkdir(parents=True, exist_ok=True)
            check_output_path(report_path, overwrite)
        start = time.perf_counter()

        def data_progress(done, total, options, result):
            click.echo(f"[data {done}/{total}] sampled L={options['size']} "
                       f"K={options['coupling']:g}, {options['n_samples']} samples, seed "
                       f"{options['seed']} ({result['seconds']:.0f} s)", err=True)

        def progress(done, total, result):
            job = result["job"]
            state = "ran" if result.get("computed") else "reused"
            label = f" [{job['label']}]" if job.get("label") else ""
            click.echo(f"[{done}/{total}] {state} {job['group']} K={job['coupling']:g}{label} "
                       f"seed {job['replicate']} ({sum(result['seconds'].values()):.0f} s, "
                       f"{time.perf_counter() - start:.0f} s elapsed)", err=True)

        aggregate = run_experiment(study, root, workers=workers, scheduler=scheduler,
                                   root_seed=seed, max_jobs=max_jobs, progress=progress,
                                   data_progress=data_progress)
        click.echo(f"wrote {root}/aggregate.json and {root}/{table.TABLE_NAME} "
                   f"({len(aggregate['jobs'])} jobs)", err=True)
        if report_path:
            write_report(aggregate, load_results(root, aggregate["jobs"]), report_path)
            click.echo(f"wrote {report_path}", err=True)
    if summary:
        rows = table.read_table(Path(root) / table.TABLE_NAME)
        for line in table.summary_lines(rows, metrics or table.SUMMARY_METRICS):
            click.echo(line)

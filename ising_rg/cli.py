"""The ``ising-rg`` command line: a thin click layer (parse, call, print) over the library;
the stages themselves are ``ising_rg.pipeline``. Defaults are the paper's (``ising_rg.paper``);
every command and option is described in ``docs/cli.md``.

Every error is one line on stderr: a bad command line (click's checks of the option types,
ranges and input paths) is ``Error: ... (see 'ising-rg CMD --help')`` with exit status 2; an
``IsingRGError`` from the library (a damaged file, an output in the way, ...) or an operating
system error is ``Error: ...`` with exit status 1. An option is the setting of the same name
(``--batch-size`` is ``Recipe.batch_size``, ``ising_rg.settings``), so a message naming a
setting names the option.
"""

from __future__ import annotations

import json
import signal
import threading
import warnings
from pathlib import Path

import click

from ising_rg import __version__, paper
from ising_rg.cli_output import (
    JobLines,
    ProgressBar,
    StageLines,
    bench_table,
    data_set_line,
    epoch_status,
    layer_table,
    rsmi_control_lines,
    validation_line,
)
from ising_rg.cli_rg import mcrg, rsmi
from ising_rg.cli_types import (
    INPUT_FILE,
    MAX_CHAINS,
    MAX_EPOCHS,
    MAX_EXACT_SIZE,
    OUTPUT_FILE,
    OUTPUT_FOLDER,
    RECIPE_NAMES,
    SEED,
    EvenSize,
    Momentum,
    Number,
    Sizes,
    SweepsOrAuto,
    command_coupling,
    count,
    coupling_options,
    default_of,
    joined,
    positive,
    recipe_help,
)
from ising_rg.errors import IsingRGError, one_line
from ising_rg.experiments import MAX_JOBS
from ising_rg.settings import (
    ALGORITHMS,
    VALIDATION_MIN_SAMPLES,
    VALIDATION_SAMPLES,
    AnalysisOptions,
    SampleOptions,
)

# The exit status after Ctrl-C: 128 + SIGINT, as a shell reports a process SIGINT ended;
# after SIGTERM (a scheduler's or `kill`'s stop), 128 + SIGTERM.
INTERRUPTED = 128 + signal.SIGINT
TERMINATED = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, taken as Ctrl-C is: the same clean stop (workers killed, no partial output),
    another exit status."""


def _terminate(signum, frame) -> None:
    raise Terminated


# The order of `ising-rg --help`: the pipeline's.
COMMAND_ORDER = ("sample", "exact", "validate", "train", "analyze", "rsmi", "mcrg", "figures",
                 "experiment", "bench")

class _UsageError(click.UsageError):
    """A bad command line, reported in one line with a pointer to the command's help."""

    def show(self, file=None) -> None:
        hint = f" (see '{self.ctx.command_path} --help')" if self.ctx is not None else ""
        click.echo(f"Error: {one_line(self.format_message(), 400)}{hint}", err=True)


def _one_line_usage(error: click.UsageError) -> click.UsageError:
    if isinstance(error, _UsageError | click.exceptions.NoArgsIsHelpError):
        return error
    return _UsageError(error.format_message(), error.ctx)


class _Group(click.Group):
    """The ``ising-rg`` group: commands listed in pipeline order, every error in one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        rest = sorted(set(self.commands) - set(COMMAND_ORDER))
        return [name for name in COMMAND_ORDER if name in self.commands] + rest

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as error:
            raise _one_line_usage(error) from None

    def invoke(self, ctx: click.Context):
        # SIGTERM is handled like Ctrl-C while a command runs (signals: main thread only)
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.getsignal(signal.SIGTERM)
        if in_main_thread:
            signal.signal(signal.SIGTERM, _terminate)
        try:
            with warnings.catch_warnings():
                # numpy's floating-point warnings (a diverging training run, ...) would break
                # the one-line rule; what matters is raised as an error.
                warnings.simplefilter("ignore", RuntimeWarning)
                return super().invoke(ctx)
        except click.UsageError as error:
            raise _one_line_usage(error) from None
        except KeyboardInterrupt as interrupt:  # Ctrl-C; outputs are atomic: none half-written
            terminated = isinstance(interrupt, Terminated)
            note = f": {interrupt}" if str(interrupt) else ""
            click.echo(f"{'Terminated' if terminated else 'Aborted'}{note}", err=True)
            raise click.exceptions.Exit(TERMINATED if terminated else INTERRUPTED) from None
        except IsingRGError as error:
            raise click.ClickException(one_line(error, 1000)) from None
        except OSError as error:  # the file system's refusals: full disk, permissions, ...
            where = f" {error.filename}" if error.filename else ""
            raise click.ClickException(
                f"cannot access{where}: {error.strerror or one_line(error)}") from None
        except MemoryError as error:  # sizes this machine cannot hold
            raise click.ClickException(
                f"not enough memory for the sizes asked for ({one_line(error)})") from None
        finally:
            if in_main_thread:
                signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="ising-rg")
def main() -> None:
    """Does a deep belief network learn Kadanoff block-spin RG? (Mehta & Schwab, 2014)

    The pipeline: sample -> train -> analyze -> figures (validate checks the instruments,
    experiment runs the report's controls). Every command's options: ising-rg COMMAND --help.
    """


# ---------------------------------------------------------------------------- commands
@main.command(short_help="Monte Carlo samples of the 2D Ising model.")
@click.option("--size", type=EvenSize(), default=default_of(SampleOptions, "size"),
              show_default=True, help="Lattice size L (even, >= 4).")
@coupling_options
@click.option("--samples", type=count(1), default=default_of(SampleOptions, "samples"),
              show_default=True, help="Configurations to store.")
@click.option("--algorithm", type=click.Choice(ALGORITHMS),
              default=default_of(SampleOptions, "algorithm"), show_default=True,
              help="Single-cluster Wolff or checkerboard Metropolis.")
@click.option("--seed", type=SEED, default=default_of(SampleOptions, "seed"), show_default=True,
              help="Root seed.")
@click.option("--thermalization", type=SweepsOrAuto(0),
              default=default_of(SampleOptions, "thermalization"), show_default=True,
              help="Sweeps (sweep equivalents for Wolff), or auto (20 tau_int, >= 1000).")
@click.option("--spacing", type=SweepsOrAuto(1), default=default_of(SampleOptions, "spacing"),
              show_default=True,
              help="Sweeps between stored samples, or auto (2 tau_int of the slower of E, |m|).")
@click.option("--chains", type=click.IntRange(1, MAX_CHAINS),
              default=default_of(SampleOptions, "chains"), show_default=True,
              help="Independent Monte Carlo chains run in parallel (the result depends on "
                   f"their number, not on the threads; at most {MAX_CHAINS}).")
@click.option("--out", "out_path", type=OUTPUT_FILE, default=None,
              help="Output HDF5 file [default: data/ising_L{size}_K{coupling}.h5].")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def sample(coupling, temperature, out_path, overwrite, quiet, **settings):
    """Sample equilibrium configurations (numba Wolff or Metropolis) into an HDF5 file."""
    from ising_rg.io.atomic import check_output_path
    from ising_rg.pipeline import energy_check, sample_data

    options = SampleOptions(coupling=command_coupling(coupling, temperature), **settings)
    if out_path is None:
        out_path = f"data/ising_L{options.size}_K{options.coupling:g}.h5"
    check_output_path(out_path, overwrite)  # before minutes of sampling, not after
    with ProgressBar(options.samples, f"sampling L={options.size} K={options.coupling:g}",
                     "samples", hidden=quiet) as bar:
        samples = sample_data(options, out_path, overwrite=overwrite,
                              progress=lambda done, total: bar.update(done))
    e = energy_check(samples)
    click.echo(
        f"wrote {out_path}: {samples.n_samples} samples, tau_int(E)={samples.tau_int_energy:.3g}"
        f" tau_int(|m|)={samples.tau_int_abs_magnetization:.3g} sweeps, spacing "
        f"{samples.spacing_sweeps:.3g} sweeps; <E>/N = {e['mean']:.5f} +- {e['error']:.5f} "
        f"(exact {e['exact']:.5f})",
        err=True,
    )


@main.command(short_help="Exact values at (L, K), JSON on stdout.")
@click.option("--size", type=click.IntRange(2, MAX_EXACT_SIZE), default=paper.SIZE,
              show_default=True, help=f"Lattice size L (2 to {MAX_EXACT_SIZE}).")
@coupling_options
def exact(size, coupling, temperature):
    """Exact finite-lattice (Kaufman) and infinite-lattice (Onsager) values, JSON on stdout."""
    from ising_rg.exact import exact_summary

    click.echo(json.dumps(exact_summary(command_coupling(coupling, temperature), size), indent=2))


@main.command(short_help="Check the sampler and the 1D decimation (no model).")
@click.option("--size", type=EvenSize(), default=paper.SIZE, show_default=True,
              help="Lattice size L of the sampler scan (even, >= 4).")
@click.option("--samples", "n_samples", type=count(VALIDATION_MIN_SAMPLES),
              default=VALIDATION_SAMPLES, show_default=True,
              help=f"Monte Carlo samples per temperature (at least {VALIDATION_MIN_SAMPLES}, "
                   "enough for an error bar).")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Temperature i of the scan uses seed + i.")
@click.option("--out", "out_dir", type=OUTPUT_FOLDER, default="results",
              show_default=True, help="Folder for validation.json (the results folder).")
@click.option("--overwrite", is_flag=True, help="Replace an existing validation.json.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def validate(size, n_samples, seed, out_dir, overwrite, quiet):
    """Check the instruments that need no model: write OUT/validation.json.

    \b
    sampler     Wolff <E>/N and C/N at 13 temperatures from T = 1.8 to 3.0 on the L x L
                torus, with error bars, beside Kaufman's exact finite-lattice values
    decimation  the 1D chain: K' = atanh(tanh(K)^2) against exact enumeration of a ring of
                12 spins, and the flow of K under repeated decimation
    settings    the options above

    `ising-rg figures` draws the sampler-validation and decimation figures from it.
    """
    from ising_rg.io.results import check_validation_output
    from ising_rg.pipeline import check_validation_samples, run_validate

    check_validation_samples(n_samples)  # before the bar's first line: an error is one line
    check_validation_output(out_dir, overwrite)
    with ProgressBar(1, f"sampler scan L={size}", "temperatures", hidden=quiet) as bar:
        path = run_validate(out_dir, size=size, n_samples=n_samples, seed=seed,
                            overwrite=overwrite,
                            progress=lambda done, total: bar.update(done, total=total))
    click.echo(f"wrote {path}: {validation_line(json.loads(path.read_text()))}", err=True)


@main.command(short_help="Train a deep belief network on a sample file.")
@click.option("--data", "data_path", type=INPUT_FILE, required=True,
              help="Sample file written by `ising-rg sample`.")
@click.option("--recipe", type=click.Choice(RECIPE_NAMES), default="paper", show_default=True,
              help="Named training recipe: paper (Mehta & Schwab's) or density (learns the "
                   "Ising distribution: sampled negatives, learning rate 0.03 decaying "
                   "linearly, L1 2e-3; docs/recipes.md). The options below override its "
                   "values.")
@click.option("--hidden", type=Sizes(), default=joined(paper.HIDDEN), show_default=True,
              help="Hidden layer sizes, bottom to top.")
@click.option("--epochs", type=click.IntRange(1, MAX_EPOCHS), default=None,
              help=recipe_help("epochs"))
@click.option("--learning-rate", type=positive(), default=None,
              help=recipe_help("learning_rate"))
@click.option("--learning-rate-decay", type=click.Choice(["none", "linear"]), default=None,
              help=recipe_help("learning_rate_decay"))
@click.option("--momentum", type=Momentum(), default=None, help=recipe_help("momentum"))
@click.option("--batch-size", type=count(1), default=None, help=recipe_help("batch_size"))
@click.option("--cd-k", type=count(1), default=None, help=recipe_help("cd_k"))
@click.option("--negative-visible", type=click.Choice(["probabilities", "samples"]),
              default=None, help=recipe_help("negative_visible"))
@click.option("--persistent", is_flag=True, default=None, help=recipe_help("persistent"))
@click.option("--persistent-chains", type=count(1), default=None,
              help=recipe_help("persistent_chains"))
@click.option("--l1", type=Number(min=0), default=None, help=recipe_help("l1"))
@click.option("--l2", type=Number(min=0), default=None, help=recipe_help("l2"))
@click.option("--init", type=click.Choice(["paper", "guide"]), default=None,
              help=recipe_help("init"))
@click.option("--propagate", type=click.Choice(["probabilities", "samples"]), default=None,
              help=recipe_help("propagate"))
@click.option("--validation-fraction", type=Number(min=0, max=1, max_open=True), default=None,
              help=recipe_help("validation_fraction"))
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Master seed (the split and every layer's seed derive from it).")
@click.option("--out", "out_path", type=OUTPUT_FILE, default="models/dbn.h5",
              show_default=True, help="Output model file.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train(data_path, recipe, hidden, seed, out_path, overwrite, quiet, **settings):
    """Train a deep belief network (stacked RBMs) on a sample file with a named recipe (default:
    the paper's); every option given overrides the recipe's value, and the model file records
    the recipe's name and every value used."""
    from ising_rg.pipeline import run_train
    from ising_rg.settings import Recipe

    recipe = Recipe.named(recipe, **settings)  # an option not given (None) keeps the recipe's
    bars: dict[int, ProgressBar] = {}

    def progress(layer, widths, epoch, n_epochs, metrics):
        if quiet:
            return
        if layer not in bars:
            for bar in bars.values():
                bar.__exit__(None, None, None)
            bars[layer] = ProgressBar(
                n_epochs, f"layer {layer}/{len(hidden)} ({widths[layer - 1]}->{widths[layer]})",
                "epochs").__enter__()
        bars[layer].update(epoch, epoch_status(metrics))

    try:
        dbn = run_train(data_path, out_path, hidden, recipe, seed=seed, overwrite=overwrite,
                        progress=progress)
    finally:
        for bar in bars.values():
            bar.__exit__(None, None, None)
    top = dbn.rbms_[-1].history_
    click.echo(f"wrote {out_path}: layers {dbn.n_features_in_}-{'-'.join(map(str, hidden))}, "
               f"recipe {recipe.name}, final top-layer reconstruction error "
               f"{top['reconstruction_error'][-1]:.4f}", err=True)


@main.command(short_help="Measure the RG claim on a trained model.")
@click.option("--model", "model_path", type=INPUT_FILE, required=True,
              help="Model file written by `ising-rg train`.")
@click.option("--data", "data_path", type=INPUT_FILE, required=True,
              help="The sample file the model was trained on (or another at the same L).")
@click.option("--out", "out_dir", type=OUTPUT_FOLDER, default="results",
              show_default=True, help="Folder for metrics.json and arrays.h5.")
@click.option("--seed", type=SEED, default=default_of(AnalysisOptions, "seed"),
              show_default=True, help="Root of every random stream of the analysis.")
@click.option("--generative-samples", type=count(2),
              default=default_of(AnalysisOptions, "generative_samples"), show_default=True,
              help="Data configurations reconstructed through each depth.")
@click.option("--gibbs-steps", type=count(8), default=default_of(AnalysisOptions, "gibbs_steps"),
              show_default=True,
              help="Sweep budget of the parallel tempering that samples what the DBN "
                   "generates (it stops once rank R-hat < 1.01 and bulk ESS >= 400).")
@click.option("--likelihood/--no-likelihood", default=default_of(AnalysisOptions, "likelihood"),
              show_default=True,
              help="Log-likelihoods by AIS where log Z cannot be enumerated (minutes at L = 40).")
@click.option("--filter", "filter_path", type=INPUT_FILE,
              help="RSMI filter file written by `ising-rg rsmi`: the control beside the network "
                   "(I(H;E) of the filter, majority, decimation and first-layer units; "
                   "docs/rsmi.md).")
@click.option("--overwrite", is_flag=True, help="Replace existing results.")
@click.option("--quiet", is_flag=True, help="No stage lines (the summary table is printed).")
def analyze(model_path, data_path, out_dir, filter_path, overwrite, quiet, **settings):
    """Measure the RG claim: receptive fields vs block spins, generative checks, controls.

    Prints a summary table per layer (on stderr). The sampler's validation and the 1D
    decimation need no model: `ising-rg validate`.
    """
    from ising_rg.pipeline import run_analyze

    options = AnalysisOptions(**settings)
    progress = StageLines(quiet)
    try:
        metrics = run_analyze(model_path, data_path, out_dir, options, filter_path=filter_path,
                              overwrite=overwrite, progress=progress)
    finally:
        progress.close()
    for line in layer_table(metrics) + rsmi_control_lines(metrics):
        click.echo(line, err=True)
    click.echo(f"wrote {Path(out_dir) / 'metrics.json'} and {Path(out_dir) / 'arrays.h5'}",
               err=True)


@main.command(short_help="Draw the figures from a results folder.")
@click.option("--results", "results_dir", type=click.Path(file_okay=False), default="results",
              show_default=True, help="Folder written by `ising-rg analyze` and `validate`.")
@click.option("--out", "out_dir", type=OUTPUT_FOLDER, default="figures",
              show_default=True, help="Folder for the figures (PNG and PDF).")
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


@main.command(short_help="Performance figures, timed side by side.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object on stdout instead of the table.")
@click.option("--only", type=click.Choice(["metropolis", "wolff", "dataset", "rbm"]),
              multiple=True, help="Run only these parts (repeatable).")
def bench(as_json, only):
    """Performance figures, measured side by side in one run: a table, or JSON with --json."""
    from ising_rg.bench import run_benchmarks

    parts = tuple(only) if only else ("metropolis", "wolff", "dataset", "rbm")
    results = run_benchmarks(parts)
    if as_json:
        click.echo(json.dumps(results, indent=2))
    else:
        for line in bench_table(results):
            click.echo(line)


def _preset_names() -> list[str]:
    from ising_rg.experiments.presets import preset_names

    return preset_names()


@main.command(short_help="Run a study (a preset or your TOML) and tabulate it.")
@click.option("--spec", "spec_path", type=click.Path(exists=True, dir_okay=False),
              default=None, help="Your own study: a TOML file (docs/experiments.md).")
@click.option("--preset", type=click.Choice(_preset_names()), default=None,
              help="A built-in study: default (the report's controls, sweep and seeds at "
                   "the paper's scale, 23 jobs, about 1 hour on 2 cores; used when neither "
                   "--spec nor --preset is given), capacity (the recipe and capacity study, 44 "
                   "jobs, about 2 h 45 min) or tiny (the default's study at seconds per job).")
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
@click.option("--overwrite", is_flag=True,
              help="Replace an existing report, and tables (aggregate.json, results.csv) of "
                   "another study in --out; finished jobs are reused either way.")
@click.option("--summary", is_flag=True,
              help="Print OUT/results.csv grouped by grid point and layer (mean ± standard "
                   "error over replicates); runs nothing unless --spec or --preset is given.")
@click.option("--metric", "metrics", multiple=True,
              help="A column of results.csv for --summary (repeatable) [default: locality, "
                   "block_spin_correlation, radius_of_gyration, dead_fraction].")
def experiment(spec_path, preset, print_preset, root, workers, scheduler, seed, max_jobs,
               report_path, overwrite, summary, metrics):
    """Run a study (controls, sweeps, seeds: a preset or your TOML) and tabulate it."""
    from ising_rg.experiments import spec, table
    from ising_rg.experiments.report import check_report_output, write_report
    from ising_rg.experiments.runner import load_results, run_experiment

    if print_preset:
        from ising_rg.experiments.presets import preset_text

        click.echo(preset_text(print_preset), nl=False)
        return
    if spec_path and preset:
        raise IsingRGError("give --spec or --preset, not both")
    if spec_path or preset or not summary:
        study = spec.read_study(spec_path) if spec_path else spec.load_preset(preset or "default")
        jobs = spec.build_study_jobs(study, seed, max_jobs)  # every check before any work
        if report_path:
            check_report_output(jobs, report_path, overwrite)
        tables = Path(root) / "aggregate.json"
        before = tables.stat().st_mtime_ns if tables.is_file() else None
        try:
            aggregate = run_experiment(study, root, workers=workers, scheduler=scheduler,
                                       root_seed=seed, max_jobs=max_jobs, progress=JobLines(),
                                       data_progress=data_set_line, overwrite=overwrite)
        except KeyboardInterrupt as interrupt:  # the workers are stopped: say what is kept
            raise type(interrupt)(f"the finished jobs are kept in {root}; the same command "
                                  "resumes") from None
        kept = before == tables.stat().st_mtime_ns  # the same study again: left as they were
        click.echo(f"{'kept' if kept else 'wrote'} {root}/aggregate.json and {root}/"
                   f"{table.TABLE_NAME} ({len(aggregate['jobs'])} jobs"
                   f"{', unchanged' if kept else ''})", err=True)
        if report_path:
            write_report(aggregate, load_results(root, aggregate["jobs"]), report_path)
            click.echo(f"wrote {report_path}", err=True)
    if summary:
        rows = table.read_table(Path(root) / table.TABLE_NAME)
        for line in table.summary_lines(rows, metrics or table.SUMMARY_METRICS):
            click.echo(line)


# The RG measured as RG (ising_rg.cli_rg), in the pipeline's order of ``ising-rg --help``.
main.add_command(rsmi)
main.add_command(mcrg)

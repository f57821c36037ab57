"""sample -> train -> analyze, and validate: the one path the CLI and the experiments both take.

Each stage is a function that takes options and returns its result:

* ``sample_data``: Monte Carlo samples (``SampleOptions``, default the paper's data set),
  written to a file if given one;
* ``train_dbn``: a DBN fitted to visible data; ``save_model`` writes it with its provenance;
* ``measure_network``: the RG metrics of a network on spin data (against ``exact.exact_reference``);
  ``analyze_model`` adds the arrays behind the figures, training health and exact values;
* ``validation_summary``: the sampler's temperature scan against Kaufman's exact solution and
  the 1D decimation, which depend on neither a model nor data.

``run_train``, ``run_analyze`` and ``run_validate`` are the file-to-file forms behind the
``ising-rg`` commands of the same names (``sample_data`` serves both). Experiment jobs call the
in-memory stages, because they transform data and networks in between (the controls).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ising_rg import exact, paper
from ising_rg.diagnostics.generative import generative_quality, reconstruction_quality
from ising_rg.diagnostics.quality import quality_block, training_health
from ising_rg.errors import IsingRGError
from ising_rg.io.atomic import check_output_path
from ising_rg.io.filters import load_filter, save_filter
from ising_rg.io.jsonfile import to_json
from ising_rg.io.models import file_sha256, load_dbn, read_model_metadata, save_dbn
from ising_rg.io.results import (
    ARRAYS_NAME,
    MCRG_NAME,
    METRICS_NAME,
    check_results_output,
    check_validation_output,
    write_mcrg,
    write_results,
    write_validation,
)
from ising_rg.io.samples import read_samples, write_samples
from ising_rg.rbm.dbn import DBN
from ising_rg.rg.analysis import FIELD_KINDS, analyze, receptive_field_arrays
from ising_rg.rg.baselines import untrained_counterpart
from ising_rg.rg.coarse_grain import DBNCoarseGrainer, Decimation, Majority
from ising_rg.rg.decimation1d import decimation_summary
from ising_rg.rg.kadanoff import majority_block_spins
from ising_rg.rg.mcrg_output import mcrg_results
from ising_rg.rg.rsmi import RSMIFilter
from ising_rg.rg.rsmi_comparison import rsmi_control
from ising_rg.rg.unit_metrics import STREAM_BINARIZE_RECON, STREAM_DBN_SAMPLE
from ising_rg.sampling.observables import thermodynamics
from ising_rg.sampling.sampler import SampleSet, sample
from ising_rg.sampling.validation import temperature_scan
from ising_rg.seeding import seed_stream
from ising_rg.settings import (
    VALIDATION_MIN_SAMPLES,
    VALIDATION_SAMPLES,
    AnalysisOptions,
    Recipe,
    SampleOptions,
)
from ising_rg.spins import analysis_subset, spins_to_visible

#: The analysis' defaults (``AnalysisOptions()``), what every entry point measures unless told.
DEFAULT_ANALYSIS = AnalysisOptions()

# progress(layer, widths, epoch, n_epochs, metrics): widths are the layer sizes, visible first.
TrainProgress = Callable[[int, tuple[int, ...], int, int, dict], None]

# progress(stage, done, total): ``done`` of the ``total`` steps of the named stage are
# finished. Every stage reports (stage, 0, total) when it starts and (stage, total, total)
# when it ends, and may report steps in between (``stage`` below does all three).
Progress = Callable[[str, int, int], None]


@contextlib.contextmanager
def stage(progress: Progress | None, name: str, total: int = 1) -> Iterator[Callable[[int], None]]:
    """Report a stage of long work to ``progress`` (if given): its start on entry, its end on
    a normal exit; the yielded ``step(done)`` reports progress within it.

    Example::

        with stage(progress, "AIS", n_layers) as step:
            for layer in range(n_layers):
                ...
                step(layer + 1)
    """
    def step(done: int) -> None:
        if progress is not None:
            progress(name, done, total)

    step(0)
    yield step
    step(total)


# ----------------------------------------------------------------------------------- sample
def sample_data(options: SampleOptions, out_path: str | os.PathLike | None = None, *,
                overwrite: bool = False,
                progress: Callable[[int, int], None] | None = None) -> SampleSet:
    """Draw the samples (and write them to ``out_path`` if given; the output path is checked
    before sampling, the options when they were made)."""
    if out_path is not None:
        check_output_path(out_path, overwrite)
    samples = sample(options, progress)
    if out_path is not None:
        write_samples(samples, out_path, overwrite=overwrite)
    return samples


def energy_check(samples: SampleSet) -> dict[str, float]:
    """<E>/N of the samples with its error bar, beside the exact value: {"mean", "error",
    "exact"} (per spin, units of J)."""
    stats = thermodynamics(samples.energy, samples.magnetization, samples.coupling,
                           samples.size**2)
    energy = stats["energy_per_spin"]
    return {"mean": energy["mean"], "error": energy["error"],
            "exact": float(exact.energy_per_spin(samples.coupling, samples.size))}


# ------------------------------------------------------------------------------------ train
def train_dbn(visible: np.ndarray, hidden: Sequence[int] = paper.HIDDEN,
              recipe: Recipe | str = "paper", *, seed: int = 0,
              callback: Callable[[int, int, int, dict], None] | None = None) -> DBN:
    """A DBN with layers ``hidden`` fitted greedily to ``visible`` (n_samples, n_visible) with
    ``recipe`` (a :class:`~ising_rg.settings.Recipe` or a built-in recipe's name) and master
    seed ``seed``; ``callback`` is ``DBN.fit``'s."""
    return DBN(hidden, recipe=recipe, random_state=seed).fit(visible, callback=callback)


def save_model(dbn: DBN, out_path: str | os.PathLike, *, data_path: str | os.PathLike,
               hyperparameters: dict[str, Any], seed: int, overwrite: bool = False) -> None:
    """Write the model file, recording the training data's SHA-256 and the hyper-parameters."""
    save_dbn(dbn, out_path, data_sha256=file_sha256(data_path), hyperparameters=hyperparameters,
             seed=seed, overwrite=overwrite)


def stored_or_trained(path: str | os.PathLike, visible: np.ndarray, hidden: Sequence[int],
                      recipe: Recipe, *, seed: int, data_path: str | os.PathLike,
                      hyperparameters: dict[str, Any]) -> DBN:
    """The network stored at ``path`` if it is there, else trained on ``visible`` and stored
    there (atomically, recording ``data_path``'s SHA-256 and ``hyperparameters``): a store of
    trained networks keyed by the file name, as the experiment jobs keep them. A second writer
    of the same path (the same settings listed twice) writes the same bytes."""
    if Path(path).is_file():
        return load_dbn(path)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    dbn = train_dbn(visible, hidden, recipe, seed=seed)
    save_model(dbn, path, data_path=data_path, hyperparameters=hyperparameters, seed=seed,
               overwrite=True)
    return dbn


def run_train(data_path: str | os.PathLike, out_path: str | os.PathLike,
              hidden: Sequence[int] = paper.HIDDEN, recipe: Recipe | str = "paper", *,
              seed: int = 0, overwrite: bool = False,
              progress: TrainProgress | None = None) -> DBN:
    """Train on a sample file and write the model file (``ising-rg train``).

    ``recipe`` is a :class:`~ising_rg.settings.Recipe` or a built-in recipe's name; the model
    file records all its settings in ``hyperparameters["recipe"]`` (and in ``dbn_params``).
    The sample file is read and checked first, then the output path; ``progress`` gets the
    layer sizes beside ``DBN.fit``'s callback arguments (``TrainProgress``).
    """
    recipe = recipe if isinstance(recipe, Recipe) else Recipe.named(recipe)
    visible = spins_to_visible(read_samples(data_path).spins)
    check_output_path(out_path, overwrite)
    widths = (int(visible.shape[1]), *hidden)
    callback = None
    if progress is not None:
        def callback(layer, epoch, n_epochs, metrics):
            progress(layer, widths, epoch, n_epochs, metrics)
    dbn = train_dbn(visible, hidden, recipe, seed=seed, callback=callback)
    hyperparameters = {"recipe": recipe.to_dict(), "hidden": list(hidden),
                       "data": str(data_path), "n_visible": widths[0]}
    save_model(dbn, out_path, data_path=data_path, hyperparameters=hyperparameters, seed=seed,
               overwrite=overwrite)
    return dbn


# ---------------------------------------------------------------------------------- analyze
def generative_block(network, spins: np.ndarray, coupling: float,
                     options: AnalysisOptions) -> dict[str, Any]:
    """What the network generates at equilibrium (its top RBM sampled by parallel tempering,
    each state sent down) and reconstructs (data up to each depth and back), against the Monte
    Carlo data and Kaufman's exact values (``ising_rg.diagnostics.generative``)."""
    seed, size = options.seed, np.shape(spins)[-1]
    generative = generative_quality(
        network, spins, coupling, max_sweeps=options.gibbs_steps,
        exact=exact.exact_reference(coupling, size),
        seed=int(seed_stream(seed, STREAM_DBN_SAMPLE).generate_state(1)[0]))
    # Reconstructions: data -> layer depth -> back down, from evenly spaced data configurations.
    depths = range(1, len(network.rbms_) + 1)
    generative["reconstructions"] = reconstruction_quality(
        network, spins[analysis_subset(len(spins), options.generative_samples)], coupling,
        [seed_stream(seed, STREAM_BINARIZE_RECON, depth) for depth in depths])
    return generative


def measure_layers(network, spins: np.ndarray, coupling: float,
                   options: AnalysisOptions = DEFAULT_ANALYSIS, *,
                   progress: Progress | None = None) -> tuple[dict, dict[str, Any]]:
    """The RG metrics of a network's layers (``analyze``: fields, locality, block spins,
    correlation lengths, each beside its chance level, the Kadanoff reference and the untrained
    network's noise levels) and the receptive-field arrays; no generative or quality block."""
    with stage(progress, "receptive fields"):
        fields = receptive_field_arrays(network, spins, n_analysis=options.analysis_samples)
        untrained = untrained_counterpart(network, spins_to_visible(fields["spins"]))
    with stage(progress, "layer metrics"):
        rg_metrics = analyze(network, spins, coupling, options, fields=fields,
                             untrained=untrained)
    return rg_metrics, fields


def measure_network(network, spins: np.ndarray, coupling: float,
                    options: AnalysisOptions = DEFAULT_ANALYSIS, *,
                    held_out: np.ndarray | None = None,
                    progress: Progress | None = None) -> tuple[dict, dict[str, Any]]:
    """The RG metrics of a network on spin data, and the receptive-field arrays behind them.

    Parameters
    ----------
    network : fitted DBN whose visible layer is the L x L lattice of ``spins``
    spins : ndarray, shape (n, L, L), {-1, +1}, in sampling order
    coupling : float, K of the data
    options : :class:`~ising_rg.settings.AnalysisOptions` (seed, budgets, likelihood by AIS)
    held_out : rows of ``spins`` training did not see, for the quality block (default the
        network's ``validation_indices_``: right when ``spins`` are its training data)
    progress : ``Progress``, optional; told about each stage (``stage``)

    Returns
    -------
    (metrics, fields): ``analyze``'s layers, the ``generative`` block (``generative_block``),
    ``analyze``'s data and settings, with noise levels from the network's untrained
    counterpart (``untrained_counterpart``: the same architecture, recipe and seed at zero
    epochs), and the ``quality`` block; and ``receptive_field_arrays(network, spins)``.
    """
    rg_metrics, fields = measure_layers(network, spins, coupling, options, progress=progress)
    with stage(progress, "generative sampling"):
        generative = generative_block(network, spins, coupling, options)
    metrics = to_json({"layers": rg_metrics["layers"], "generative": generative,
                       "data": rg_metrics["data"], "settings": rg_metrics["settings"]})
    with stage(progress, "quality (log-likelihood, couplings)"):
        metrics["quality"] = quality_block(network, spins, coupling,
                                           generative=metrics["generative"], seed=options.seed,
                                           likelihood=options.likelihood, held_out=held_out)
    rows = getattr(network, "validation_indices_", ()) if held_out is None else held_out
    metrics["held_out"] = held_out_block(np.size(rows))
    return metrics, fields


#: Why the held-out quantities of metrics.json are null when no row was held out.
NO_HELD_OUT = ("no rows held out (trained with validation_fraction 0, or a model file without "
               "/validation_indices): the held-out log-likelihoods and free-energy gap are null")


def held_out_block(n_rows: int) -> dict[str, Any]:
    """metrics.json's ``held_out``: the number of data rows training did not see, and why the
    held-out quantities are null when there are none (``note``, else None)."""
    return {"rows": int(n_rows), "note": None if n_rows else NO_HELD_OUT}


def figure_arrays(dbn, samples: SampleSet, fields: dict[str, Any],
                  seed: int = 0) -> dict[str, np.ndarray]:
    """The arrays behind the figures, keyed by their path in arrays.h5 (``io.results``):
    receptive fields of every kind (``FIELD_KINDS``), an example configuration with its
    reconstructions and majority block spins, and the training histories."""
    size = samples.size
    arrays: dict[str, np.ndarray] = {}
    for layer, live in enumerate(fields["live"], start=1):
        for kind in FIELD_KINDS:
            arrays[f"fields/{kind}/{layer}"] = fields[kind][layer - 1].astype(np.float32)
        arrays[f"fields/live/{layer}"] = np.asarray(live, dtype=bool)
    example = samples.spins[len(samples.spins) // 2]
    arrays["example/spins"] = example
    visible = spins_to_visible(example[None])
    for depth in range(1, len(dbn.rbms_) + 1):
        recon = np.asarray(dbn.reconstruct(visible, depth), dtype=np.float32)
        arrays[f"example/reconstruction/{depth}"] = recon.reshape(size, size)
    b = 2
    while b <= size // 2 and size % b == 0 and b <= 8:
        arrays[f"example/block_spins/{b}"] = majority_block_spins(example[None], b, seed=seed)[0]
        b *= 2
    for layer, rbm in enumerate(dbn.rbms_, start=1):
        for name, values in getattr(rbm, "history_", {}).items():
            values = np.asarray(values)
            if values.ndim == 1 and np.issubdtype(values.dtype, np.number):
                arrays[f"history/{layer}/{name}"] = values.astype(np.float64)
    return arrays


def analyze_model(dbn, samples: SampleSet, options: AnalysisOptions = DEFAULT_ANALYSIS, *,
                  progress: Progress | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """Metrics (JSON-ready) and arrays (for arrays.h5) of a trained DBN on its data.

    ``measure_network``'s metrics plus ``training`` (per-layer training health and the Ising
    model's own log-likelihood, layer 1's ceiling) and ``exact`` (``exact.exact_summary``);
    the arrays are ``figure_arrays``. Parameters as in ``measure_network``; the options'
    ``likelihood`` also runs AIS for every layer whose log Z cannot be enumerated (layer 1's is
    shared with the quality block); ``progress`` is told about each stage.
    """
    size, coupling = samples.size, samples.coupling
    metrics, fields = measure_network(dbn, samples.spins, coupling, options, progress=progress)
    with stage(progress, "figure arrays"):
        arrays = figure_arrays(dbn, samples, fields, options.seed)
    with stage(progress, "training health (log Z)"):
        health = training_health(dbn, spins_to_visible(samples.spins), seed=options.seed,
                                 likelihood=options.likelihood,
                                 log_partitions={1: metrics["quality"]["log_z"]})
    metrics["training"] = {
        "layers": health,
        # The true model's average log-likelihood of its own samples, -N s (s the entropy per
        # spin) = -K E - ln Z on average: the ceiling for layer 1's log_likelihood.
        "ising_log_likelihood": float(
            -coupling * size**2 * exact.energy_per_spin(coupling, size)
            - exact.log_partition_function(coupling, size)),
    }
    metrics["exact"] = exact.exact_summary(coupling, size)
    return metrics, arrays


def run_analyze(model_path: str | os.PathLike, data_path: str | os.PathLike,
                out_dir: str | os.PathLike, options: AnalysisOptions = DEFAULT_ANALYSIS, *,
                filter_path: str | os.PathLike | None = None, overwrite: bool = False,
                progress: Progress | None = None) -> dict:
    """Analyze a model file on a sample file; write metrics.json and arrays.h5 into ``out_dir``
    (``ising-rg analyze``). Returns the metrics, with their ``provenance``.

    With ``filter_path`` (an RSMI filter file, ``ising-rg rsmi``) the metrics gain ``rsmi``:
    the RSMI control beside the network (``ising_rg.rg.rsmi_comparison.rsmi_control``).
    Every input file is read and checked first, then the output folder, and only then does
    the analysis start; ``progress`` is told about each of its stages."""
    dbn = load_dbn(model_path)
    samples = read_samples(data_path)
    rsmi_filter = None if filter_path is None else load_filter(filter_path)
    if rsmi_filter is not None:
        rsmi_filter.geometry(samples.size)  # its block and buffer fit the data's lattice
    if dbn.n_features_in_ != samples.size**2:
        raise IsingRGError(
            f"model {model_path} has {dbn.n_features_in_} visible units but the data are "
            f"{samples.size}x{samples.size} = {samples.size**2} spins")
    held_out = np.asarray(getattr(dbn, "validation_indices_", []))
    if held_out.size and held_out.max() >= samples.n_samples:
        # The training-health split reads these rows of the data.
        raise IsingRGError(
            f"model {model_path} holds out row {int(held_out.max())} of its training data, but "
            f"{data_path} has {samples.n_samples} samples: analyze it on the sample file it "
            "was trained on (or a larger one)")
    metadata = read_model_metadata(model_path)
    check_results_output(out_dir, (METRICS_NAME, ARRAYS_NAME), overwrite)
    metrics, arrays = analyze_model(dbn, samples, options, progress=progress)
    if rsmi_filter is not None:
        with stage(progress, "RSMI control"):
            metrics["rsmi"] = to_json(rsmi_control(samples.spins, rsmi_filter, dbn,
                                                   samples.coupling, seed=options.seed,
                                                   chance_draws=options.chance_draws))
    data_sha = file_sha256(data_path)
    metrics["provenance"] = {
        "model": str(model_path), "data": str(data_path), "data_sha256": data_sha,
        "trained_on_this_data": metadata.get("data_sha256") == data_sha,
        "hyperparameters": metadata.get("hyperparameters"), "seed": options.seed,
        "filter": None if filter_path is None else str(filter_path),
    }
    write_results(out_dir, metrics, arrays, overwrite=overwrite)
    return metrics


# ------------------------------------------------------------------------------------- rsmi
def run_rsmi(data_path: str | os.PathLike, out_path: str | os.PathLike, model: RSMIFilter, *,
             overwrite: bool = False) -> RSMIFilter:
    """Train an RSMI filter (``ising_rg.rg.rsmi.RSMIFilter``, its settings as given) on a
    sample file and write it (``ising-rg rsmi``); the data and the geometry (block, buffer,
    environment on the data's lattice) are checked first, then the output."""
    samples = read_samples(data_path)
    model.geometry(samples.size)  # a block or buffer that does not fit: before any work
    check_output_path(out_path, overwrite)
    model.fit(samples.spins)
    save_filter(model, out_path, data_sha256=file_sha256(data_path), overwrite=overwrite)
    return model


# ------------------------------------------------------------------------------------- mcrg
def mcrg_coarse_grainers(spins: np.ndarray, networks: Sequence[tuple[str, Any]] = (), *,
                         seed: int = 0) -> list:
    """Majority rule (``majority``) and decimation (``decimation``), b = 2, and every network
    of ``networks`` ((name, fitted DBN) pairs) as a stochastic RG map placed on the block
    lattices (``ising_rg.rg.coarse_grain.DBNCoarseGrainer``), in that order."""
    coarse_grainers: list = [Majority(2), Decimation(2)]
    size = np.shape(spins)[-1]
    for name, network in networks:
        n_visible = int(np.shape(network.rbms_[0].weights_)[0])
        if n_visible != size * size:
            raise IsingRGError(f"{name} has {n_visible} visible units but the data are "
                               f"{size}x{size} = {size * size} spins")
        coarse_grainers.append(DBNCoarseGrainer(network, spins, seed, name=name))
    return coarse_grainers


def run_mcrg(data_path: str | os.PathLike, out_dir: str | os.PathLike, *,
             model_paths: Sequence[str | os.PathLike] = (),
             filter_paths: Sequence[str | os.PathLike] = (), seed: int = 0,
             overwrite: bool = False) -> dict:
    """The RG measured as RG on a sample file (``ising-rg mcrg``): the coarse couplings per
    level and y_t, y_h per step of majority rule, decimation, each model's layers and each
    RSMI filter (applied at every level), through ``ising_rg.rg.mcrg_output.mcrg_results``,
    written to ``out_dir/mcrg.json``.

    Every input is read and checked first (a model for another L, a layer that is not a
    block lattice, an L the block size does not divide), then the output; returns the
    result with its ``provenance``.
    """
    samples = read_samples(data_path)
    names = [f"dbn:{Path(path).stem}" if len(model_paths) > 1 else "dbn"
             for path in model_paths]
    networks = [(name, load_dbn(path)) for name, path in zip(names, model_paths, strict=True)]
    coarse_grainers = mcrg_coarse_grainers(samples.spins, networks, seed=seed)
    filter_names = [f"rsmi:{Path(path).stem}" if len(filter_paths) > 1 else "rsmi"
                    for path in filter_paths]
    for name, path in zip(filter_names, filter_paths, strict=True):
        rsmi_filter = load_filter(path)
        rsmi_filter.name = name
        coarse_grainers.append(rsmi_filter)
    check_results_output(out_dir, (MCRG_NAME,), overwrite)
    result = mcrg_results(samples.spins, coarse_grainers, seed=seed,
                          coupling=samples.coupling)
    result["provenance"] = {"data": str(data_path), "data_sha256": file_sha256(data_path),
                            "models": {name: str(path) for name, path
                                       in zip(names, model_paths, strict=True)},
                            "filters": {name: str(path) for name, path
                                        in zip(filter_names, filter_paths, strict=True)}}
    write_mcrg(out_dir, result, overwrite=overwrite)
    return result


# --------------------------------------------------------------------------------- validate
def validation_summary(size: int = paper.SIZE, n_samples: int = VALIDATION_SAMPLES,
                       seed: int = 0,
                       progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """The instruments' checks that need no model or data (JSON-ready).

    Returns
    -------
    dict: ``settings`` (the arguments), ``sampler`` (``temperature_scan``: Wolff <E>/N and
    C/N at 13 temperatures on the L x L torus, temperature i seeded ``seed + i``, against
    Kaufman's exact values; ``progress(done, total)`` after each) and ``decimation``
    (``decimation_summary``: the 1D chain).
    """
    check_validation_samples(n_samples)
    return {
        "settings": {"size": size, "n_samples": n_samples, "seed": seed},
        "sampler": temperature_scan(size, n_samples=n_samples, seed=seed, progress=progress),
        "decimation": decimation_summary(),
    }


def check_validation_samples(n_samples: int) -> int:
    """``n_samples`` if it is at least ``VALIDATION_MIN_SAMPLES``, enough for an error bar
    (fewer give null or meaningless ones, which ``figures`` would refuse); else IsingRGError
    naming ``--samples``."""
    from ising_rg.checks import check_integer

    if check_integer(n_samples, "--samples", 1) < VALIDATION_MIN_SAMPLES:
        raise IsingRGError(f"--samples {n_samples} is too few for an error bar: at least "
                           f"{VALIDATION_MIN_SAMPLES} configurations per temperature")
    return n_samples


def run_validate(out_dir: str | os.PathLike, *, size: int = paper.SIZE,
                 n_samples: int = VALIDATION_SAMPLES, seed: int = 0, overwrite: bool = False,
                 progress: Callable[[int, int], None] | None = None) -> Path:
    """Write ``validation_summary`` to ``out_dir/validation.json`` (``ising-rg validate``);
    options and output are checked before the scan runs. Returns the file's path."""
    SampleOptions(size, 1.0, n_samples, seed=seed)  # checks the options
    check_validation_samples(n_samples)
    check_validation_output(out_dir, overwrite)
    return write_validation(out_dir, validation_summary(size, n_samples, seed, progress),
                            overwrite)

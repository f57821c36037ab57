"""The figures: one function per figure, reading the results folder, never training.

Each figure needs some of the folder's files (``FIGURES``): metrics.json and arrays.h5 from
``ising-rg analyze``, validation.json from ``ising-rg validate``. ``make_figures`` draws every
figure whose inputs exist and names the others with the reason. Every figure states what it
shows in a caption line under its title: L, K, the network, the recipe and its epochs (from
metrics.json's ``data`` and ``provenance``; ``caption``), or the validation's settings.

Colour maps are colour-blind safe: a diverging map centred at zero for weights (``RdBu_r``),
``cividis`` for sequential data, and the Okabe-Ito palette for lines. Each figure is written
as PNG (200 dpi) and PDF; the set is written under temporary names and renamed into place only
once every figure has been drawn.
"""

from __future__ import annotations

import contextlib
import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from ising_rg.errors import IsingRGError  # noqa: E402
from ising_rg.io.atomic import atomic_output, check_output_path  # noqa: E402
from ising_rg.io.results import (  # noqa: E402
    ARRAYS_NAME,
    METRICS_NAME,
    VALIDATION_NAME,
    read_available,
)

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
WEIGHT_CMAP = "RdBu_r"
SPIN_CMAP = "cividis"
FORMATS = ("png", "pdf")


def _numbered(arrays: dict, prefix: str) -> list[str]:
    """Keys ``prefix/<n>`` of ``arrays`` in increasing n."""
    return sorted((k for k in arrays if k.startswith(f"{prefix}/")),
                  key=lambda k: int(k.rsplit("/", 1)[1]))


def _layers(arrays: dict, group: str) -> list[np.ndarray]:
    return [arrays[k] for k in _numbered(arrays, f"fields/{group}")]


def caption(metrics: dict) -> str:
    """What a figure from ``metrics`` shows, in one line: L, K, samples, the network, the
    recipe and its epochs per layer, and the model file (those last from ``provenance``, the
    record ``ising-rg analyze`` keeps; "recipe not recorded" without it)."""
    data = metrics.get("data") or {}
    size, coupling = data.get("size"), data.get("coupling")
    widths = "-".join(str(n) for n in [size * size if size else "?",
                                        *(layer["n_units"] for layer in metrics["layers"])])
    provenance = metrics.get("provenance") or {}
    recipe = ((provenance.get("hyperparameters") or {}).get("recipe")) or {}
    trained = (f"recipe {recipe['name']}, {recipe['epochs']} epochs per layer"
               if "name" in recipe and "epochs" in recipe else "recipe not recorded")
    model = f"; model {provenance['model']}" if provenance.get("model") else ""
    return (f"L = {size}, K = {coupling:g} (T = {1 / coupling:.4g}), "
            f"{data.get('n_samples')} samples; network {widths}, {trained}{model}"
            if size and coupling else f"network {widths}, {trained}{model}")


def _titled(fig: plt.Figure, title: str, line: str) -> plt.Figure:
    """The figure's title, with the caption line under it, both wrapped to the figure's
    width."""
    width = max(60, int(fig.get_figwidth() * 11))  # characters of 10 pt text per line
    fig.suptitle("\n".join(textwrap.fill(text, width) for text in (title, line)), fontsize=10)
    return fig


def _field_grid(ax_grid, fields: np.ndarray, live: np.ndarray | None) -> None:
    """Draw fields in a grid, each with its own symmetric colour scale centred at 0; dead
    units (``live`` False) faded, in dotted grey frames."""
    for ax, index in zip(ax_grid.flat, range(ax_grid.size), strict=True):
        ax.set_xticks([])
        ax.set_yticks([])
        if index >= len(fields):
            ax.set_visible(False)
            continue
        field = fields[index]
        scale = np.abs(field).max() or 1.0
        dead = live is not None and not live[index]
        ax.imshow(field, cmap=WEIGHT_CMAP, vmin=-scale, vmax=scale, interpolation="nearest",
                  alpha=0.35 if dead else 1.0)
        if dead:
            for spine in ax.spines.values():
                spine.set_edgecolor("0.4")
                spine.set_linestyle(":")
                spine.set_linewidth(1.5)


def receptive_fields(metrics: dict, arrays: dict) -> plt.Figure:
    """The paper's figure: receptive fields r(l) = W(1)...W(l) of the two top layers."""
    fields = _layers(arrays, "weight_product")
    live = _layers(arrays, "live")
    shown = list(range(max(0, len(fields) - 2), len(fields)))
    fig = plt.figure(figsize=(11, 5.6), layout="constrained")
    subfigs = fig.subfigures(1, len(shown), width_ratios=[1.0] * len(shown))
    for subfig, layer in zip(np.atleast_1d(subfigs), shown, strict=True):
        n_units = len(fields[layer])
        side = int(np.ceil(np.sqrt(min(n_units, 100))))
        axes = subfig.subplots(side, side, gridspec_kw={"wspace": 0.05, "hspace": 0.05})
        _field_grid(np.atleast_2d(axes), fields[layer][: side * side], live[layer])
        info = metrics["layers"][layer]
        subfig.suptitle(
            f"layer {layer + 1}: {n_units} units (Kadanoff b = {info['block_size']})\n"
            f"dead {100 * (info.get('dead_fraction') or 0):.0f}% (dotted frames)", fontsize=10)
    return _titled(fig, "Receptive fields r(l) = W(1)...W(l), each on its own scale centred "
                        "at 0 (red +, blue -)", caption(metrics))


def first_layer_fields(metrics: dict, arrays: dict) -> plt.Figure:
    """Layer 1's fields, W(1) per hidden unit on the lattice, with its dead units marked
    (faded, dotted frames): where the paper's recipe loses half its first layer."""
    fields, live = _layers(arrays, "weight_product")[0], _layers(arrays, "live")[0]
    shown = min(len(fields), 100)
    side = int(np.ceil(np.sqrt(shown)))
    fig, axes = plt.subplots(side, side, figsize=(8, 8.6), layout="constrained",
                             gridspec_kw={"wspace": 0.05, "hspace": 0.05}, squeeze=False)
    _field_grid(axes, fields[:shown], live)
    info = metrics["layers"][0]
    n_dead = int(np.sum(~np.asarray(live, dtype=bool)))
    low, high = (metrics.get("settings") or {}).get("dead_activation_bounds", (0.01, 0.99))
    which = f"units 1-{shown} of {len(fields)}" if shown < len(fields) else f"all {shown} units"
    return _titled(
        fig, f"Layer 1 (Kadanoff b = {info['block_size']}): W(1) of {which}; dead units "
             f"(mean activation < {low:g} or > {high:g}) faded in dotted frames: {n_dead} of "
             f"{len(fields)} ({100 * n_dead / len(fields):.0f}%)", caption(metrics))


def _mean_std(entry: dict | None) -> tuple[float, float]:
    if not entry:
        return np.nan, np.nan
    mean, std = entry.get("mean"), entry.get("std", entry.get("error"))
    return (np.nan if mean is None else mean), (0.0 if std is None else std)


# Field kinds as drawn: (key in a layer's metrics, None for the top level), marker, colour, label.
_KINDS = ((None, "o", OKABE_ITO[0], "weight product r(l)"),
          ("activation_weighted", "s", OKABE_ITO[1], "activation-weighted <v|h>-<v>"),
          ("jacobian", "^", OKABE_ITO[2], "mean Jacobian <dh/dv>"))
# Panels of field_sizes: (metric, transform of the mean, y label, title).
_SIZE_PANELS = (
    ("participation_ratio", np.sqrt, "sqrt(participation ratio)  [lattice spacings]",
     "size: PR of the squared weights"),
    ("radius_of_gyration", None, "radius of gyration  [lattice spacings]",
     "extent about the periodic centroid"),
    ("half_weight_radius", None, "half-weight radius  [lattice spacings]",
     "radius holding half the squared weight"),
    ("sites_above_noise", np.sqrt, "sqrt(sites above noise)  [lattice spacings]",
     "sites above the untrained network's noise"),
    ("locality", None, "weight fraction in best b x b window", "locality (dotted: chance)"),
    ("correlation_length", None, "xi of the units  [lattice spacings]",
     "correlation length (grey: spins, black: exact)"),
)


def _series(layers: list[dict], kind: str | None, metric: str,
            transform=None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread (std over units, or the error of a correlation length) per layer, of
    one metric of one field kind; NaN where absent. ``transform`` maps the mean (the spread
    goes through its derivative, numerically)."""
    values = np.array([_mean_std((layer if kind is None else layer.get(kind, {})).get(metric))
                       for layer in layers], dtype=float).reshape(-1, 2)
    mean, spread = values[:, 0], values[:, 1]
    if transform is not None:
        step = 1e-6 * np.maximum(np.abs(mean), 1e-12)
        slope = (transform(mean + step) - transform(mean)) / step
        with np.errstate(invalid="ignore"):
            mean, spread = transform(mean), np.abs(slope) * spread
    return mean, np.nan_to_num(spread, nan=0.0, posinf=0.0)


def field_sizes(metrics: dict) -> plt.Figure:
    """Receptive-field size, locality and correlation length per layer, for the three kinds of
    field, beside what ideal Kadanoff units score on the same data (reference lines)."""
    layers = metrics["layers"]
    index = np.array([layer["index"] for layer in layers])
    fig, axes = plt.subplots(2, 3, figsize=(14, 8), layout="constrained")
    for ax, (metric, transform, ylabel, title) in zip(axes.flat, _SIZE_PANELS, strict=True):
        for offset, (kind, marker, colour, label) in enumerate(_KINDS):
            mean, spread = _series(layers, kind, metric, transform)
            ax.errorbar(index + 0.06 * (offset - 1), mean, spread, marker=marker, color=colour,
                        capsize=3, label=label)
            for rule, style in (("average", "--"), ("majority", ":")):
                references = [(layer.get("kadanoff_reference") or {}).get(rule) or {}
                              for layer in layers]
                ideal, _ = _series(references, kind, metric, transform)
                ax.plot(index, ideal, style, color=colour, lw=1, alpha=0.8)
            if metric == "locality":
                chance = [((layer if kind is None else layer.get(kind, {})).get("locality")
                           or {}).get("chance") for layer in layers]
                ax.plot(index, [np.nan if c is None else c for c in chance], marker=marker,
                        color=colour, ls="none", alpha=0.4, mfc="none")
        if metric == "correlation_length":
            ax.set_title(_correlation_panel(ax, metrics), fontsize=10)
        else:
            ax.set_title(title, fontsize=10)
        ax.set_xlabel("layer l (Kadanoff block b = 2^l)")
        ax.set_xticks(index)
        ax.set_ylabel(ylabel)
    axes[0, 0].set_yscale("log", base=2)
    handles = [plt.Line2D([], [], marker=m, color=c, label=label) for _, m, c, label in _KINDS]
    handles += [plt.Line2D([], [], ls=style, color="0.3", label=f"ideal Kadanoff unit, {rule}")
                for style, rule in (("--", "block average"), (":", "majority rule"))]
    fig.legend(handles=handles, loc="outside lower center", ncol=5, fontsize=8)
    return _titled(fig, "Receptive fields per layer against block-spin RG (mean +- std over "
                        "live units; lines: ideal Kadanoff units on the same data, in each "
                        "kind's colour)", caption(metrics))


def _correlation_panel(ax, metrics: dict) -> str:
    """The references of the correlation-length panel: the data's xi (grey line, its error
    band) and the infinite lattice's exact xi, drawn as the reference only where the lattice
    does not limit the data's (``finite_size_limited``; else named in the panel, not drawn
    as "exact"); each layer without a value named with its reason. Returns the title."""
    data = (metrics.get("data") or {}).get("correlation_length") or {}
    xi, error = _mean_std(data)
    if np.isfinite(xi):
        ax.axhspan(xi - error, xi + error, color="0.85", zorder=0)
        ax.axhline(xi, color="0.5", lw=1)
    notes = []
    exact = data.get("exact")
    size = (metrics.get("data") or {}).get("size")
    if exact is not None and data.get("finite_size_limited"):
        notes.append(f"infinite-lattice xi = {exact:.3g} not drawn: L = {size} limits the "
                     "data's xi")
    elif exact is not None:
        ax.axhline(exact, color="k", lw=1)
    for layer in metrics["layers"]:
        entry = layer.get("correlation_length") or {}
        if entry.get("mean") is None:
            reason = entry.get("note") or "not measured"
            notes.append(f"layer {layer['index']}: no value ({reason})")
    if notes:
        ax.text(0.02, 0.02, "\n".join(textwrap.fill(note, 48) for note in notes),
                transform=ax.transAxes, fontsize=6.5, va="bottom", color="0.25")
    drawn = "black: exact, infinite lattice" if exact is not None and not data.get(
        "finite_size_limited") else "no exact reference at this L"
    return f"correlation length (grey: spins; {drawn})"


def effective_masses(metrics: dict) -> plt.Figure:
    """Per layer, the correlation length read at each separation through the units' kernels
    (the effective-mass curve of ``correlation_length``), its plateau and value if it has one,
    beside ideal Kadanoff majority units' curve and the spins' xi."""
    layers = metrics["layers"]
    data = (metrics.get("data") or {}).get("correlation_length") or {}
    fig, axes = plt.subplots(1, len(layers), figsize=(4.6 * len(layers), 4),
                             layout="constrained", squeeze=False)
    for ax, layer in zip(axes[0], layers, strict=True):
        entry = layer.get("correlation_length") or {}
        ideal = ((layer.get("kadanoff_reference") or {}).get("majority") or {}).get(
            "correlation_length") or {}
        for curve_of, style, label in ((entry, "o-", "layer's units"),
                                       (ideal, "s:", "Kadanoff majority units")):
            curve = curve_of.get("effective_mass") or {}
            if curve.get("separation"):
                ax.errorbar(curve["separation"], _finite(curve["xi"]),
                            _finite(curve.get("xi_error")), fmt=style, capsize=3, ms=4,
                            label=label, color="C0" if style == "o-" else "0.4")
        if entry.get("plateau_reached") and entry.get("mean") is not None:
            first, last = entry["plateau"]
            ax.axvspan(first, last, color="C0", alpha=0.12, label="plateau")
            ax.axhline(entry["mean"], color="C0", lw=1)
        if data.get("mean") is not None:
            ax.axhline(data["mean"], color="0.5", ls="--", lw=1, label="spins' xi")
        verdict = (f"xi = {entry['mean']:.3g} ± {entry['error']:.2g}"
                   if entry.get("mean") is not None else
                   "no value: " + textwrap.fill(entry.get("note") or "not measured", 40))
        ax.set_title(f"layer {layer['index']} (b = {layer['block_size']}): {verdict}",
                     fontsize=9)
        ax.set_xlabel("separation r  [lattice spacings]")
        ax.set_ylabel("xi read at r  [lattice spacings]")
        ax.legend(fontsize=7)
    return _titled(fig, "Correlation length of the activations, read through the units' "
                        "kernels separation by separation (no plateau, no value)",
                   caption(metrics))


def _finite(values) -> np.ndarray | None:
    """A list with None as NaN (JSON nulls of a curve)."""
    return None if values is None else np.array([np.nan if v is None else v for v in values],
                                                dtype=float)


def coarse_graining(metrics: dict, arrays: dict) -> plt.Figure:
    """One configuration, its reconstructions from each depth, and its block spins."""
    spins = arrays["example/spins"]
    recon = _numbered(arrays, "example/reconstruction")
    blocks = _numbered(arrays, "example/block_spins")
    n_cols = 1 + max(len(recon), len(blocks))
    fig, axes = plt.subplots(2, n_cols, figsize=(2.6 * n_cols, 5.6), layout="constrained")
    for row in axes:
        row[0].imshow(spins, cmap=SPIN_CMAP, vmin=-1, vmax=1, interpolation="nearest")
        row[0].set_title("Monte Carlo\nconfiguration", fontsize=9)
    for col, key in enumerate(recon, start=1):
        depth = int(key.rsplit("/", 1)[1])
        image = axes[0, col].imshow(2 * arrays[key] - 1, cmap=SPIN_CMAP, vmin=-1, vmax=1,
                                    interpolation="nearest")
        axes[0, col].set_title(f"reconstruction\nfrom layer {depth}", fontsize=9)
    for col, key in enumerate(blocks, start=1):
        b = int(key.rsplit("/", 1)[1])
        axes[1, col].imshow(arrays[key], cmap=SPIN_CMAP, vmin=-1, vmax=1,
                            interpolation="nearest")
        axes[1, col].set_title(f"majority block spins\nb = {b}", fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        if not ax.images:
            ax.set_visible(False)
    if recon:
        fig.colorbar(image, ax=axes[0, -1], shrink=0.8, label="2 P(v=1) - 1")
    return _titled(fig, "Top: up to layer l and back down (mean field). Bottom: Kadanoff "
                        "blocking. Spins -1 (dark) to +1 (light)", caption(metrics))


def sampler_validation(validation: dict) -> plt.Figure:
    """Monte Carlo against the exact finite-lattice energy and specific heat."""
    scan = validation["sampler"]
    size = scan["size"][0]
    t = np.array(scan["temperature"])
    fig, axes = plt.subplots(2, 2, figsize=(10, 6), layout="constrained",
                             gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    for col, (name, label) in enumerate((("energy", "<E>/N  [J]"),
                                         ("specific_heat", "C/N  [k_B]"))):
        ax, res = axes[0, col], axes[1, col]
        ax.plot(scan["curve_temperature"], scan[f"curve_{name}"], color="k", lw=1,
                label=f"exact, L = {size} (Kaufman)")
        ax.errorbar(t, scan[name], scan[f"{name}_error"], fmt="o", ms=4, capsize=2,
                    color=OKABE_ITO[1], label="Monte Carlo (Wolff)")
        ax.axvline(2 / np.log(1 + np.sqrt(2)), color="0.5", ls=":", label="T_c (Onsager)")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
        pull = (np.array(scan[name]) - np.array(scan[f"{name}_exact"])) / np.array(
            scan[f"{name}_error"])
        res.axhspan(-2, 2, color="0.9")
        res.plot(t, pull, "o", ms=4, color=OKABE_ITO[1])
        res.axhline(0, color="k", lw=0.8)
        res.set_ylabel("(MC - exact) / error")
        res.set_xlabel("temperature T  [J / k_B]")
    settings = validation.get("settings") or {}
    return _titled(fig, f"Sampler validation on the {size} x {size} torus",
                   f"L = {size}, {settings.get('n_samples')} Wolff samples per temperature, "
                   f"seed {settings.get('seed')} (temperature i: seed + i); error bars: one "
                   "standard error")


def training_curves(metrics: dict, arrays: dict) -> plt.Figure:
    """Per layer: reconstruction error, and the free-energy gap of held-out over training rows
    (nats per configuration; absent, and said so, when no rows were held out)."""
    layers = sorted({int(k.split("/")[1]) for k in arrays if k.startswith("history/")})
    if not layers:
        raise IsingRGError("arrays.h5 has no training history")
    fig, axes = plt.subplots(2, len(layers), figsize=(max(4.2 * len(layers), 8), 6.4),
                             layout="constrained", squeeze=False)
    for col, layer in enumerate(layers):
        def series(name, layer=layer):
            return arrays.get(f"history/{layer}/{name}")
        recon = series("reconstruction_error")
        epochs = np.arange(1, len(recon) + 1)
        axes[0, col].plot(epochs, recon, color=OKABE_ITO[0])
        axes[0, col].set_title(f"layer {layer}", fontsize=10)
        axes[0, col].set_ylabel("reconstruction error\n(mean squared, per unit)")
        axes[0, col].set_xlabel("epoch")
        gap = series("free_energy_gap")
        if gap is not None and np.isfinite(gap).any():
            axes[1, col].plot(epochs, gap, color=OKABE_ITO[1])
        else:
            axes[1, col].text(0.5, 0.5, "no rows held out:\nno free-energy gap",
                              transform=axes[1, col].transAxes, ha="center", va="center")
            axes[1, col].set_xlim(epochs[0], max(epochs[-1], 2))
            axes[1, col].set_yticks([])
        axes[1, col].axhline(0, color="k", lw=0.8)
        axes[1, col].set_ylabel("F(held out) - F(training)\n[nats per configuration]")
        axes[1, col].set_xlabel("epoch")
        for ax in axes[:, col]:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return _titled(fig, "Training health: a growing held-out-minus-training free-energy gap "
                        "means overfitting", caption(metrics))


def decimation_flow(validation: dict) -> plt.Figure:
    """The 1D Ising decimation: the map tanh K' = tanh(K)^2 and its flow to K = 0."""
    dec = validation["decimation"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
    k = np.array(dec["map_coupling"])
    axes[0].plot(k, dec["map_decimated"], color=OKABE_ITO[0], label="K' = atanh(tanh(K)^2)")
    axes[0].plot(k, k, "k:", label="K' = K")
    axes[0].plot(dec["enumeration_coupling"], dec["enumeration_decimated"], "o",
                 color=OKABE_ITO[1], label=f"enumeration, ring of {dec['ring_size']}")
    axes[0].set_xlabel("K")
    axes[0].set_ylabel("K'")
    axes[0].legend(fontsize=8)
    axes[0].set_title("one decimation step (the hand-built RBM)", fontsize=10)
    for i, flow in enumerate(dec["flows"]):
        # The chain's correlation length xi = -1 / ln tanh K halves at every step: RG in one line.
        xi = -1.0 / np.log(np.tanh(np.array(flow)))
        axes[1].plot(range(len(flow)), xi, "o-", color=OKABE_ITO[i % 7],
                     label=f"K0 = {flow[0]:g}")
    axes[1].set_yscale("log", base=2)
    axes[1].set_xlabel("decimation step n (layer)")
    axes[1].set_ylabel("xi_n = -1 / ln tanh K_n  [coarse spacings]")
    axes[1].set_title("each layer halves xi: the flow runs to K = 0", fontsize=10)
    axes[1].legend(fontsize=8)
    return _titled(fig, "1D Ising chain: decimation as a layered network",
                   f"exact map against enumeration of a ring of {dec['ring_size']} spins; "
                   "K = J / k_B T, lengths in lattice spacings of each level")


# name -> (drawing function, the inputs it takes in order: keys of ``read_available``)
FIGURES: dict[str, tuple[Callable[..., plt.Figure], tuple[str, ...]]] = {
    "receptive_fields": (receptive_fields, ("metrics", "arrays")),
    "first_layer_fields": (first_layer_fields, ("metrics", "arrays")),
    "field_sizes": (field_sizes, ("metrics",)),
    "effective_masses": (effective_masses, ("metrics",)),
    "coarse_graining": (coarse_graining, ("metrics", "arrays")),
    "sampler_validation": (sampler_validation, ("validation",)),
    "training_curves": (training_curves, ("metrics", "arrays")),
    "decimation_flow": (decimation_flow, ("validation",)),
}
_SOURCES = {"metrics": (METRICS_NAME, "analyze"), "arrays": (ARRAYS_NAME, "analyze"),
            "validation": (VALIDATION_NAME, "validate")}


def make_figures(results_dir: str | os.PathLike, out_dir: str | os.PathLike,
                 overwrite: bool = False) -> tuple[list[Path], dict[str, str]]:
    """Draw every figure whose inputs are in ``results_dir`` into ``out_dir`` (PNG and PDF).

    Returns
    -------
    (written, skipped): the files written, and {figure name: why it was skipped} for the
    figures whose input files are absent.

    Raises
    ------
    IsingRGError
        If no figure can be drawn, an input file is broken, or an output exists and
        ``overwrite`` is false (checked before anything is drawn). Nothing is written then,
        nor when drawing any figure fails.
    """
    inputs = read_available(results_dir)
    drawable: dict[str, tuple[str, ...]] = {}
    skipped: dict[str, str] = {}
    for name, (_, needs) in FIGURES.items():
        missing = [key for key in needs if inputs[key] is None]
        if missing:
            file, command = _SOURCES[missing[0]]
            skipped[name] = f"{Path(results_dir) / file} not found (run `ising-rg {command}`)"
        else:
            drawable[name] = needs
    if not drawable:
        raise IsingRGError(f"nothing to draw in {results_dir}: run `ising-rg analyze` first "
                           "(and `ising-rg validate` for the sampler and decimation figures)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = [out_dir / f"{name}.{ext}" for name in drawable for ext in FORMATS]
    for target in targets:
        check_output_path(target, overwrite)
    # Every file goes to a temporary name first; all are renamed when the stack closes
    # normally, none if any figure fails.
    with contextlib.ExitStack() as stack:
        for name, needs in drawable.items():
            fig = FIGURES[name][0](*(inputs[key] for key in needs))
            try:
                for ext in FORMATS:
                    tmp = stack.enter_context(atomic_output(out_dir / f"{name}.{ext}", overwrite))
                    fig.savefig(tmp, format=ext, dpi=200)
            finally:
                plt.close(fig)
    return targets, skipped

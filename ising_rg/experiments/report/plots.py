"""The report's figures, one function each: drawn from the aggregate or the jobs' results,
saved as PNG (150 dpi) in the report's figure folder; each returns the file name (None when
its data are absent)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ising_rg import exact, paper  # noqa: E402
from ising_rg.experiments.report.common import (  # noqa: E402
    L1_ZERO_KEY,
    PAPER_KEY,
    PERMUTED_KEY,
    UNTRAINED_KEY,
    layer_indices,
    metric,
    sci,
    sweep_rows,
)
from ising_rg.figures import OKABE_ITO  # noqa: E402
from ising_rg.io.atomic import atomic_output  # noqa: E402


def save_figure(fig: plt.Figure, path: Path) -> str:
    """Write ``fig`` as PNG to ``path`` (atomically, replacing), close it; the file's name."""
    with atomic_output(path, overwrite=True) as tmp:
        fig.savefig(tmp, format="png", dpi=150)
    plt.close(fig)
    return path.name


def locality_figure(agg: dict, out: Path) -> str:
    """Locality per layer at the paper's coupling for the paper recipe and every control."""
    fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    layers = layer_indices(agg, PAPER_KEY)
    series = [
        (PAPER_KEY, "layer{}.locality", f"paper recipe (L1 = {sci(paper.L1)})"),
        (L1_ZERO_KEY, "layer{}.locality", "L1 = 0"),
        (PERMUTED_KEY, "layer{}.locality", "site-permuted, mapped back"),
        (PERMUTED_KEY, "layer{}.permuted_coordinates.locality", "site-permuted, as trained"),
        (UNTRAINED_KEY, "layer{}.locality", "untrained network"),
        (PAPER_KEY, "layer{}.locality_chance", "shuffled-field chance (paper)"),
    ]
    for i, (key, pattern, label) in enumerate(series):
        values = np.array([metric(agg, key, pattern.format(layer))[:2] for layer in layers])
        if not np.isfinite(values[:, 0]).any():
            continue
        offset = (i - len(series) / 2) * 0.04
        ax.errorbar(np.array(layers) + offset, values[:, 0], np.nan_to_num(values[:, 1]),
                    marker="o", capsize=3, color=OKABE_ITO[i % 7], label=label,
                    linestyle=":" if "chance" in label else "-")
    ax.set_xticks(layers)
    ax.set_xlabel("layer l (Kadanoff block b = 2^l)")
    ax.set_ylabel("weight fraction in best b x b window")
    ax.set_title(f"Locality of receptive fields r(l) at K = {paper.COUPLING:g} "
                 "(mean ± sem over seeds)", fontsize=10)
    ax.legend(fontsize=7)
    return save_figure(fig, out / "locality_controls.png")


def sweep_figure(agg: dict, out: Path) -> str:
    """Half-weight radius per layer against the data's xi and against K, across the sweep,
    beside the uniform 2^l x 2^l block's (dashed)."""
    rows = sweep_rows(agg)
    layers = layer_indices(agg, PAPER_KEY)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    xi = np.array([metric(agg, key, "data.correlation_length")[:2] for _, key in rows])
    couplings = np.array([k for k, _ in rows])
    for i, layer in enumerate(layers):
        size = np.array([metric(agg, key, f"layer{layer}.half_weight_radius")[:2]
                         for _, key in rows])
        order = np.argsort(xi[:, 0])  # a curve in xi, not in K
        axes[0].errorbar(xi[order, 0], size[order, 0], np.nan_to_num(size[order, 1]),
                         np.nan_to_num(xi[order, 1]), marker="o", capsize=3,
                         color=OKABE_ITO[i], label=f"layer {layer}")
        block = metric(agg, PAPER_KEY, f"layer{layer}.kadanoff_majority.half_weight_radius")[0]
        for ax in axes:
            ax.axhline(block, color=OKABE_ITO[i], ls="--", lw=0.8)
        axes[1].errorbar(couplings, size[:, 0], np.nan_to_num(size[:, 1]), marker="o",
                         capsize=3, color=OKABE_ITO[i], label=f"layer {layer}")
    for k, (x, _) in zip(couplings, xi, strict=True):
        axes[0].annotate(f"K={k:g}", (x, 0), textcoords="offset points", xytext=(0, 4),
                         fontsize=7, ha="center", xycoords=("data", "axes fraction"))
    axes[0].set_xscale("log")
    axes[0].set_xlabel("data correlation length xi(K) (wall-to-wall)  [lattice spacings]")
    axes[0].set_ylabel("half-weight radius  [lattice spacings]")
    axes[0].set_title("size vs xi; dashed: uniform 2^l x 2^l block", fontsize=10)
    axes[0].legend(fontsize=8)
    axes[1].axvline(exact.critical_coupling(), color="0.5", ls=":", label="K_c")
    axes[1].set_xlabel("coupling K")
    axes[1].set_ylabel("half-weight radius  [lattice spacings]")
    axes[1].set_title("size across both phases", fontsize=10)
    axes[1].legend(fontsize=8)
    return save_figure(fig, out / "sweep_sizes.png")


def _paper_extras(results: list[dict], name: str) -> list[dict]:
    """The extra measurement ``name`` of every paper-group job that has it, in job order."""
    return [r["extras"][name] for r in results
            if r["job"]["group"] == "paper" and name in r.get("extras", {})]


def couplings_figure(results: list[dict], out: Path, true_k: float) -> str | None:
    """Effective coupling against distance, one curve per paper seed, beside the true K."""
    curves = _paper_extras(results, "couplings")
    if not curves:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
    for i, curve in enumerate(curves):
        rows = sorted(curve["shells"], key=lambda row: row["distance"])
        d = np.array([row["distance"] for row in rows])
        k = np.array([row["mean"] for row in rows], dtype=float)
        e = np.array([row.get("stderr") or 0.0 for row in rows], dtype=float)
        ax.errorbar(d + 0.03 * i, k, e, fmt="o", ms=4, capsize=2, color=OKABE_ITO[i % 7],
                    label=f"seed {i}")
    ax.axhline(true_k, color="k", ls="--", lw=1, label=f"true nearest-neighbour K = {true_k}")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("distance between sites  [lattice spacings]")
    ax.set_ylabel("effective coupling K_eff (second difference of -F)")
    ax.set_title("Couplings in the first RBM's visible marginal", fontsize=10)
    ax.legend(fontsize=7)
    return save_figure(fig, out / "learned_couplings.png")


def flow_figure(results: list[dict], out: Path, size: int) -> str | None:
    """<E>/N and <|m|> along the RBM flow, one curve per group of starts, for replicate 0 of
    the flow group (trained on several temperatures) and of the paper group; exact E at the
    training temperature and at T_c for scale."""
    runs = [(r["job"]["group"], r["extras"]["flow"]) for r in results
            if r["job"]["replicate"] == 0 and r["job"]["group"] in ("flow", "paper")
            and "flow" in r.get("extras", {})]
    if not runs:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    colour = 0
    for group, flow in sorted(runs, key=lambda item: item[0]):
        steps = np.asarray(flow["step"])
        for start, curves in flow["by_start"].items():
            style = "--" if group == "paper" else "-"
            label = f"{group}: from {start}"
            axes[0].plot(steps, curves["energy_per_spin"], style, color=OKABE_ITO[colour % 7],
                         label=label, lw=1)
            axes[1].plot(steps, curves["abs_magnetization"], style,
                         color=OKABE_ITO[colour % 7], lw=1)
            colour += 1
    for coupling, label, colour_name in ((paper.COUPLING, "training T", "k"),
                                         (exact.critical_coupling(), "T_c", "0.5")):
        axes[0].axhline(float(exact.energy_per_spin(coupling, size)), color=colour_name,
                        ls=":", label=f"exact E at {label}")
    for ax, name in zip(axes, ("<E>/N", "<|m|>"), strict=True):
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlim(left=0)
        ax.set_xlabel("v -> h -> v step")
        ax.set_ylabel(name)
    axes[0].legend(fontsize=6, ncol=2)
    fig.suptitle("The RBM flow by start (replicate 0; solid: trained on five temperatures, "
                 "dashed: on K = 0.408 only)", fontsize=10)
    return save_figure(fig, out / "rbm_flow.png")


def hidden_xi_figure(agg: dict, out: Path) -> str | None:
    """Correlation length of each layer's activations against the spins', across the sweep."""
    rows = sweep_rows(agg)
    layers = layer_indices(agg, PAPER_KEY)
    limit = agg["settings"]["size"] / 2  # a length beyond L/2 means no decay seen
    fig, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
    xi = np.array([metric(agg, key, "data.correlation_length")[0] for _, key in rows])
    plotted = False
    for i, layer in enumerate(layers):
        values = np.array([metric(agg, key, f"layer{layer}.correlation_length")[:2]
                           for _, key in rows])
        for (coupling, _), x, (y, err) in zip(rows, xi, values, strict=True):
            if not (np.isfinite(x) and np.isfinite(y)):
                continue
            plotted = True
            clipped = x > limit or y > limit
            ax.errorbar(min(x, limit), min(y, limit), 0 if clipped else np.nan_to_num(err),
                        marker="o", mfc="none" if clipped else OKABE_ITO[i], capsize=3,
                        color=OKABE_ITO[i], linestyle="none")
            ax.annotate(f"{coupling:g}", (min(x, limit), min(y, limit)), fontsize=6,
                        textcoords="offset points", xytext=(4, 2), color=OKABE_ITO[i])
        ax.plot([], [], "o", color=OKABE_ITO[i], label=f"layer {layer}")
    if not plotted:
        plt.close(fig)
        return None
    line = np.linspace(0, limit, 10)
    ax.plot(line, line, "k--", lw=1, label="xi_h = xi (an RG step keeps the physical length)")
    ax.plot([], [], "o", mfc="none", color="0.4",
            label=f"open: beyond L/2 = {limit:g}, drawn at L/2 (finite-size limited)")
    ax.set_xlim(0, limit * 1.08)
    ax.set_ylim(0, limit * 1.08)
    ax.set_xlabel("correlation length of the spins (same estimator)  [lattice spacings]")
    ax.set_ylabel("correlation length of activations  [lattice spacings]")
    ax.set_title("Hidden-layer correlations, units at their centroids (labels: K)", fontsize=10)
    ax.legend(fontsize=7)
    return save_figure(fig, out / "hidden_correlations.png")

"""The figures of the report's RG sections (``rg_tests``): the coarse couplings' flow across
the coupling sweep, and the RSMI filters. Saved like every report figure (``plots``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ising_rg import exact  # noqa: E402
from ising_rg.experiments.report.common import metric  # noqa: E402
from ising_rg.experiments.report.plots import save_figure  # noqa: E402
from ising_rg.figures import OKABE_ITO  # noqa: E402

#: Coarse-grainings drawn in the flow figure: (name in the results, label).
FLOW_SERIES = (("majority", "majority rule"), ("rsmi", "RSMI filter"),
               ("decimation", "decimation"), ("dbn", "the network's layer 1"))


def coupling_flow_figure(agg: dict, rows: list[tuple[float, str]], out: Path) -> str:
    """K' (level 1, nearest-neighbour projection) against K for each coarse-graining across
    the sweep, with the identity (no flow) and K_c: an RG map's points lie below the identity
    left of K_c and above it right of K_c."""
    fig, ax = plt.subplots(figsize=(6.5, 4.8), layout="constrained")
    couplings = np.array([k for k, _ in rows])
    for i, (name, label) in enumerate(FLOW_SERIES):
        values = np.array([metric(agg, key, f"mcrg.{name}.level1.k_nn")[:2] for _, key in rows])
        if not np.isfinite(values[:, 0]).any():
            continue
        ax.errorbar(couplings + 0.002 * (i - 1.5), values[:, 0], np.nan_to_num(values[:, 1]),
                    marker="o", capsize=3, color=OKABE_ITO[i], label=label)
    line = np.array([0.0, couplings.max() * 1.1])
    ax.plot(line, line, "k--", lw=1, label="K' = K (no flow)")
    ax.axvline(exact.critical_coupling(), color="0.5", ls=":", label="K_c")
    ax.set_xlim(couplings.min() * 0.9, couplings.max() * 1.05)
    ax.set_xlabel("coupling K of the data")
    ax.set_ylabel("K' after one b = 2 step (nearest-neighbour projection)")
    ax.set_title("The flow of the coupling (mean ± sem over seeds)", fontsize=10)
    ax.legend(fontsize=7)
    return save_figure(fig, out / "coupling_flow.png")


def rsmi_filters_figure(results: list[dict], out: Path) -> str | None:
    """The 2 x 2 and 4 x 4 RSMI filters trained on the paper point's data (replicate 0)."""
    extras = next((r["extras"]["rsmi"] for r in results
                   if r["job"]["group"] == "paper" and r["job"]["replicate"] == 0
                   and "rsmi" in r.get("extras", {})), None)
    if extras is None:
        return None
    filters = [(np.asarray(extras["filter"], dtype=float), "b = 2")]
    if extras.get("filter_4") is not None:
        filters.append((np.asarray(extras["filter_4"], dtype=float), "b = 4"))
    fig, axes = plt.subplots(1, len(filters), figsize=(3.4 * len(filters), 3.2),
                             layout="constrained", squeeze=False)
    for ax, (weights, label) in zip(axes[0], filters, strict=True):
        limit = np.abs(weights).max()
        image = ax.imshow(weights, cmap="RdBu_r", vmin=-limit, vmax=limit)
        for (i, j), value in np.ndenumerate(weights):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7)
        ax.set_title(f"RSMI filter, {label}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(image, ax=ax, shrink=0.8)
    return save_figure(fig, out / "rsmi_filters.png")

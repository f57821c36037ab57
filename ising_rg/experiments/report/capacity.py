"""The recipe and capacity study's report (``--preset capacity``): each network's quality as a
model of the Ising distribution beside how Kadanoff-like its receptive fields are, and the
free energy across the layers of the DBN. Rendered when the study's groups are in the
aggregate (groups named ``capacity_*`` and ``exact_*``)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ising_rg.experiments.report.common import (  # noqa: E402
    SIGMAS,
    ReportInputs,
    differs,
    fm,
    layer_indices,
    metric,
    significant,
)
from ising_rg.experiments.report.plots import save_figure  # noqa: E402
from ising_rg.figures import OKABE_ITO  # noqa: E402

#: The quality axis: the held-out log-likelihood gap to the exact Ising model, nats per spin
#: (model minus Ising: <= 0 up to AIS's optimism; 0 for a perfect model).
GAP = "quality.gap_per_spin.validation"
#: The study's groups, by the start of their names (the report and `--report` look for them).
STUDY_GROUP_PREFIXES = ("capacity", "exact")
RECIPE_MARKERS = {"paper": "o", "density": "s"}
#: The two RG-likeness measures: the share of local units (each field against the per-unit
#: null that keeps its sparsity), relative to the ideal Kadanoff unit's, and how well the
#: activations follow the block spins (block-spin correlation) as a share of the ideal unit's
#: excess over chance; docs/metrics.md defines both.
RG_MEASURES = {"local_fraction": "local units", "block_spin_correlation": "block-spin correlation"}
#: The earlier rule's measures, whose answer the report shows beside the current one: the
#: locality share against the shuffled-site chance level in place of the local units.
EARLIER_MEASURES = {"locality": "locality", "block_spin_correlation": "block-spin correlation"}


def deficit(agg: dict, key: str) -> tuple[float, float, int]:
    """How far below the Ising log-likelihood a grid point's networks are: -gap (nats/spin)."""
    mean, sem, n = metric(agg, key, GAP)
    return -mean, sem, n


def _has_error(value: tuple[float, float, int]) -> bool:
    """A seed-averaged value with its standard error (2 or more seeds)."""
    return bool(np.isfinite(value[:2]).all())


@dataclass(frozen=True)
class Point:
    """One grid point of the study: its aggregate key and the settings that tell it apart."""

    key: str
    size: int
    recipe: str
    hidden: tuple[int, ...]
    variant: str

    @property
    def name(self) -> str:
        if self.variant == "ising_rbm":
            return f"L = {self.size}, exact Ising RBM ({2 * self.size**2} bond units)"
        return f"L = {self.size}, {self.recipe}, {'-'.join(map(str, self.hidden))}"


def study_points(inputs: ReportInputs) -> list[Point]:
    """The study's grid points, by L, variant, recipe and width, from the jobs' settings."""
    from ising_rg.experiments.aggregate import group_key

    points = {}
    for result in inputs.results:
        job = result["job"]
        if not job["group"].startswith(STUDY_GROUP_PREFIXES):
            continue
        key = group_key(job["group"], job["coupling"], job.get("label", ""))
        points[key] = Point(key, job["size"], job["recipe"], tuple(job["hidden"]),
                            job["variant"])
    return sorted(points.values(), key=lambda p: (p.size, p.variant != "ising_rbm", p.recipe,
                                                  p.hidden))


def kadanoff_share(agg: dict, key: str, layer: int,
                   name: str = "locality") -> tuple[float, float, int]:
    """How Kadanoff-like a layer is: (metric - chance) / (ideal unit's - chance), 0 at chance
    and 1 for the ideal majority unit of the layer's b, with the standard error over seeds
    (the ideal's and chance's spread neglected: they vary far less). The share of local units
    is judged against each unit's own null already: its chance is 0."""
    value = metric(agg, key, f"layer{layer}.{name}")
    if name == "local_fraction":
        ideal = metric(agg, key, f"layer{layer}.kadanoff_majority.{name}")[0]
        if not (np.isfinite(value[0]) and np.isfinite(ideal) and ideal > 0):
            return np.nan, np.nan, 0
        return value[0] / ideal, value[1] / ideal, value[2]
    chance = metric(agg, key, f"layer{layer}.{name}_chance")[0]
    ideal = metric(agg, key, f"layer{layer}.kadanoff_majority.{name}")[0]
    if not (np.isfinite(value[0]) and np.isfinite(chance) and np.isfinite(ideal)) or \
            ideal <= chance:
        return np.nan, np.nan, 0
    return (value[0] - chance) / (ideal - chance), value[1] / (ideal - chance), value[2]


def has_study(inputs: ReportInputs) -> bool:
    return bool(study_points(inputs))


def study_header(inputs: ReportInputs) -> list[str]:
    agg = inputs.aggregate
    covered = {}
    for p in study_points(inputs):
        if p.variant != "ising_rbm":
            covered.setdefault(p.size, set()).add(agg["groups"].get(p.key, {}).get("n", 0))
    scope = "; ".join(
        f"L = {size}, {'/'.join(map(str, sorted(n)))} seed{'' if n == {1} else 's'} per point"
        for size, n in sorted(covered.items()))
    return [
        "# Does a network that learns the Ising distribution do RG? Recipes and capacity\n",
        f"Generated by `ising-rg experiment` (study `{Path(str(agg['preset'])).stem}`, root "
        f"seed {agg['root_seed']}; this report covers {scope}). "
        "Every trained network's quality as a model of the data (the held-out average "
        "log-likelihood per spin against the exact Ising value; log Z by AIS from a mixture "
        "of bases that include the chains' end states from all-up, all-down, data and random "
        "starts, and checked against the bound ln Z >= max -F(v) over every visited state: "
        "docs/partition.md) beside how Kadanoff-like its receptive fields are, and the "
        "variational bound per depth of the DBN against the exact Ising log-likelihood. "
        "Numbers are mean ± standard error over seeds; the recipes: docs/recipes.md.\n",
    ]


def quality_vs_rg(inputs: ReportInputs) -> list[str]:
    """Section 1: quality against RG-likeness, every grid point, one figure, one answer."""
    agg = inputs.aggregate
    points = study_points(inputs)
    layers = sorted({layer for p in points for layer in layer_indices(agg, p.key)})
    figure = _quality_figure(agg, points, layers, inputs.figure_dir)
    lines = [
        "## 1. Quality of the distribution against RG-likeness\n",
        f"![quality against RG-likeness](figures/{figure})\n",
        "Kadanoff share of a layer by a measure, 1 for the ideal block of the layer's b = 2^l, "
        "all measured by the same code on the same data (weight-product fields). Two "
        "measures: the share of local units (each unit's field against a null that keeps its "
        "sparsity and moves its place; docs/metrics.md), relative to the ideal unit's; and "
        "the block-spin correlation (how well the layer's activations follow the block "
        "spins), (value - chance) / (ideal unit's value - chance), 0 at the network's own "
        "chance level. The log-likelihood gap is shown only where the first RBM's log Z "
        "passes its bound check.\n",
        "| network | seeds | log-likelihood gap per spin (model - Ising, nats) | K_nn / K | "
        + " | ".join(f"{label} share, layer {layer}" for label in RG_MEASURES.values()
                     for layer in layers) + " |",
        "| --- | --- | --- | --- | "
        + " | ".join("---" for _ in RG_MEASURES for _ in layers) + " |",
    ]
    for p in points:
        n = agg["groups"].get(p.key, {}).get("n", 0)
        cells = [fm(kadanoff_share(agg, p.key, layer, measure)) for measure in RG_MEASURES
                 for layer in layers]
        lines.append(f"| {p.name} | {n} | {_gap_cell(agg, p.key)} | "
                     f"{fm(metric(agg, p.key, 'quality.nearest_neighbour_ratio_to_true'))} | "
                     + " | ".join(cells) + " |")
    lines.append("")
    return lines + _quality_answer(agg, points, layers)


def _gap_cell(agg: dict, key: str) -> str:
    """The held-out gap, or the count of seeds whose log Z failed its bound check."""
    ok, _, n = metric(agg, key, "quality.log_z_bound_ok")
    if n and ok < 1:
        return f"log Z below its bound in {round((1 - ok) * n)} of {n} seeds: not computed"
    return fm(metric(agg, key, GAP))


def _quality_figure(agg: dict, points: list[Point], layers: list[int], out) -> str:
    columns = max(len(layers), 1)
    fig, axes = plt.subplots(len(RG_MEASURES), columns, figsize=(4 * columns, 7.2),
                             layout="constrained", squeeze=False)
    widths = sorted({p.hidden[0] for p in points if p.variant != "ising_rbm"})
    panels = [(ax, measure, layer) for row, measure in zip(axes, RG_MEASURES, strict=True)
              for ax, layer in zip(row, layers, strict=False)]
    for ax, measure, layer in panels:
        for p in points:
            gap = deficit(agg, p.key)
            share = kadanoff_share(agg, p.key, layer, measure)
            if not (np.isfinite(gap[0]) and np.isfinite(share[0])):
                continue
            colour = ("k" if p.variant == "ising_rbm"
                      else OKABE_ITO[widths.index(p.hidden[0]) % 7])
            ax.errorbar(gap[0], share[0], np.nan_to_num(share[1]), np.nan_to_num(gap[1]),
                        marker="*" if p.variant == "ising_rbm" else RECIPE_MARKERS.get(
                            p.recipe, "^"),
                        mfc="none" if p.size == 40 else colour, color=colour, capsize=2,
                        linestyle="none", label=p.name)
        ax.axhline(1, color="0.5", ls="--", lw=0.8)
        ax.axhline(0, color="0.7", lw=0.8)
        ax.set_xscale("symlog", linthresh=1e-3)
        ax.set_xlim(-1e-3, 1.0)  # the exact RBM sits at 0 (within AIS noise), the worst near 0.3
        ax.set_xlabel("log-likelihood deficit to Ising, -gap (nats/spin)")
        ax.set_ylabel(f"{RG_MEASURES[measure]} share, layer {layer}")
    if axes[0][0].get_legend_handles_labels()[0]:
        axes[0][0].legend(fontsize=5)
    fig.suptitle("Each network a point (mean ± sem over seeds); circles paper, squares "
                 "density, star the exact Ising RBM; open: L = 40", fontsize=9)
    return save_figure(fig, out / "quality_vs_rg.png")


def _recipe_pairs(points: list[Point]) -> dict[tuple[int, tuple[int, ...]], dict[str, Point]]:
    """The study's networks paired by L and widths, keyed by recipe: only the (L, widths)
    that have a network of both recipes (an unpaired one has nothing to be compared with)."""
    pairs: dict[tuple[int, tuple[int, ...]], dict[str, Point]] = {}
    for p in points:
        if p.variant != "ising_rbm":
            pairs.setdefault((p.size, p.hidden), {})[p.recipe] = p
    return {shape: by_recipe for shape, by_recipe in pairs.items()
            if {"paper", "density"} <= set(by_recipe)}


def _compare_recipes(agg: dict, pairs: dict, layers: list[int],
                     measures: dict[str, str]) -> tuple[list[str], list[str], int]:
    """The (pair, layer, measure) cells where the density recipe's Kadanoff share lies above
    (first list) or below (second) the paper recipe's by more than ``SIGMAS`` combined
    standard errors, and how many cells had errors to judge by."""
    more, less, cells = [], [], 0
    for (size, hidden), by_recipe in sorted(pairs.items()):
        a, b = by_recipe["paper"].key, by_recipe["density"].key
        for measure, layer in product(measures, layers):
            sa, sb = (kadanoff_share(agg, a, layer, measure),
                      kadanoff_share(agg, b, layer, measure))
            if not (_has_error(sa) and _has_error(sb)):
                continue  # a single seed has no error to judge a difference by
            cells += 1
            label = (f"L = {size}, {'-'.join(map(str, hidden))}, layer {layer}, "
                     f"{measures[measure]}")
            if differs(sb, sa):
                more.append(label)
            elif differs(sa, sb):
                less.append(label)
    return more, less, cells


def _verdict(more: list[str], less: list[str]) -> str:
    return ("more" if more and not less else "less" if less and not more
            else "mixed: more in some cells, less in others" if more and less else "neither")


def _quality_answer(agg: dict, points: list[Point], layers: list[int]) -> list[str]:
    """Density against paper recipe at the same L and width: which learns better, and are
    its fields more or less Kadanoff-like? Decided cell by cell at ``SIGMAS``; the earlier
    rule's answer (locality against a site shuffle) on the same networks beside it."""
    pairs = _recipe_pairs(points)
    better = 0
    for by_recipe in pairs.values():
        ga, gb = deficit(agg, by_recipe["paper"].key), deficit(agg, by_recipe["density"].key)
        if _has_error(ga) and _has_error(gb) and differs(ga, gb):
            better += 1
    more, less, cells = _compare_recipes(agg, pairs, layers, RG_MEASURES)
    if not cells:
        return ["No paired recipes with 2 or more seeds each in the study: no answer.\n"]
    lines = [
        f"**Answer.** Rule: compare the density recipe with the paper's at the same L and "
        f"widths, seed-averaged, by each layer's Kadanoff share in local units and in "
        f"block-spin correlation; a difference counts beyond {SIGMAS:g} combined standard "
        f"errors. The density recipe learns the distribution better (a smaller deficit, "
        f"-gap) in "
        f"{better} of {len(pairs)} pairs. Its fields are more Kadanoff-like in "
        f"{len(more)} and less in {len(less)} of {cells} (pair, layer, measure) cells"
        + (f" (more: {'; '.join(more)})" if more else "")
        + (f" (less: {'; '.join(less)})" if less else "")
        + f". So better learning of the distribution makes the fields **{_verdict(more, less)}"
        "** Kadanoff-like by this rule.\n"]
    old_more, old_less, old_cells = _compare_recipes(agg, pairs, layers, EARLIER_MEASURES)
    if old_cells:
        lines.append(
            "Beside it, the earlier rule on the same networks: the locality share against "
            "a site shuffle of each field (a null that keeps a bond-like field's two large "
            "weights, so it mistakes sparsity for locality: docs/metrics.md) in place of the "
            f"share of local units: more Kadanoff-like in {len(old_more)} and less in "
            f"{len(old_less)} of {old_cells} cells, **{_verdict(old_more, old_less)}**.\n")
    return lines


def free_energy(inputs: ReportInputs) -> list[str]:
    """Section 2: Delta F per spin by depth, and whether the layers keep the free energy."""
    agg = inputs.aggregate
    points = [p for p in study_points(inputs)
              if any(k.startswith("free_energy.") for k in
                     agg["groups"].get(p.key, {}).get("metrics", {}))]
    if not points:
        return []
    depths = sorted({int(k.split(".")[1][5:]) for p in points
                     for k in agg["groups"][p.key]["metrics"] if k.startswith("free_energy.")})
    lines = [
        "## 2. The free energy across layers\n",
        "Delta F_l per spin: the variational lower bound on log p(v) of the DBN cut at depth l "
        "(Hinton, Osindero & Teh 2006; the top RBM's log Z exact or by mixture AIS, checked "
        "against its bound: docs/partition.md), minus the exact Ising log-likelihood "
        "(Kaufman's ln Z), averaged over held-out Ising configurations (rows training did "
        "not see), in nats per spin. 0: the l-layer model holds the Ising free energy; the "
        "change from depth l - 1 to l is paired over the same rows and samples. Each depth "
        "step is an identity in the posterior samples of the layers below: it replaces RBM "
        "l's own prior over its hidden layer by RBM l + 1's model of it, so a gain says how "
        "poor that prior was, not that the deeper model is closer to an RG fixed point "
        "(ising_rg/rbm/bound.py).\n",
        "| network | " + " | ".join(f"Delta F_{d}" for d in depths)
        + " | " + " | ".join(f"change {d - 1} -> {d}" for d in depths[1:]) + " |",
        "| --- | " + " | ".join("---" for _ in depths) + " | "
        + " | ".join("---" for _ in depths[1:]) + " |",
    ]
    verdicts = {"kept": 0, "lost": 0, "gained": 0}
    changes = []
    for p in points:
        cells = [fm(metric(agg, p.key, f"free_energy.depth{d}.delta_f_per_spin"))
                 for d in depths]
        steps = []
        for d in depths[1:]:
            change = metric(agg, p.key, f"free_energy.depth{d}.change_per_spin")
            error = metric(agg, p.key, f"free_energy.depth{d}.change_per_spin_error")[0]
            # the larger of the spread over seeds and the estimate's own error
            sigma = np.nanmax([np.nan_to_num(change[1]), np.nan_to_num(error)])
            steps.append(fm((change[0], sigma, change[2])))
            if np.isfinite(change[0]):
                kind = ("kept" if abs(change[0]) <= SIGMAS * sigma else
                        "lost" if change[0] < 0 else "gained")
                verdicts[kind] += 1
                changes.append(change[0])
        lines.append(f"| {p.name} | " + " | ".join(cells) + " | " + " | ".join(steps) + " |")
    lines.append("")
    if changes:
        lines.append(
            f"**Answer.** Rule: a step from depth l - 1 to l keeps the free energy when its "
            f"change lies within {SIGMAS:g} standard errors of 0, loses it when below, gains "
            f"when above. Of {sum(verdicts.values())} steps, {verdicts['kept']} keep, "
            f"{verdicts['lost']} lose and {verdicts['gained']} gain the free energy; the "
            f"changes range from {significant(min(changes))} to {significant(max(changes))} "
            "nats per spin.\n")
    return lines


STUDY_SECTIONS = (study_header, quality_vs_rg, free_energy)

"""The report's plain answers follow their stated rules: synthetic aggregates whose answer is
known by construction (each rule on both sides of its threshold)."""

from __future__ import annotations

from pathlib import Path

from ising_rg.experiments.report.capacity import Point, _quality_answer
from ising_rg.experiments.report.common import PAPER_KEY, UNTRAINED_KEY, ReportInputs
from ising_rg.experiments.report.lengths import _hidden_answer, _sweep_answer
from ising_rg.experiments.report.sections import _paper_point_answer


def entry(mean, sem=0.0, n=3):
    return {"mean": mean, "std": sem * n**0.5, "sem": sem, "n": n}


def aggregate(groups: dict[str, dict[str, tuple]]) -> dict:
    return {"groups": {key: {"group": key.split("@")[0], "coupling": float(key.split("@")[1][:5]),
                             "n": 3, "metrics": {name: entry(*value)
                                                 for name, value in metrics.items()}}
                       for key, metrics in groups.items()}}


def test_hidden_layers_keep_reach_further_or_shorter_by_three_errors():
    agg = aggregate({PAPER_KEY: {
        "data.correlation_length": (7.4, 0.05), "data.correlation_length_exact": (7.47,),
        "layer1.correlation_length": (7.5, 0.1),   # 0.9 errors: keeps
        "layer2.correlation_length": (9.0, 0.1),   # 14 errors above: further
        "layer3.correlation_length": (5.0, 0.2)}})  # 12 errors below: shorter
    text = "\n".join(_hidden_answer(agg, [1, 2, 3]))
    assert "Layer 1: 7.50 ± 0.10: keeps the spins' xi" in text
    assert "Layer 2: 9.00 ± 0.10: reaches further than the spins" in text
    assert "Layer 3: 5.00 ± 0.20: reaches shorter" in text
    assert "the layers that reach further are: 2." in text


def _sweep(points):
    groups = {}
    for k, xi, limited, size1, size2, size3 in points:
        groups[f"sweep@{k:.3f}"] = {
            "data.correlation_length": (xi, 0.01),
            "data.correlation_length_finite_size_limited": (limited,),
            "layer1.half_weight_radius": (size1, 0.01), "layer2.half_weight_radius": (size2, 0.01),
            "layer3.half_weight_radius": (size3, 0.01)}
    rows = [(k, f"sweep@{k:.3f}") for k, *_ in points]
    return "\n".join(_sweep_answer(aggregate(groups), [1, 2, 3], rows))


def test_sweep_uses_only_resolved_correlation_lengths():
    # xi resolved at K = 0.2, 0.3, 0.408, 0.5 (factor 2.5), limited at 0.44: layer 1 grows with
    # xi by 2 > sqrt 2.5 (tracks), layer 2 by 1.1 (does not), layer 3 changes by 2 against xi.
    text = _sweep(((0.2, 0.8, 0, 1.0, 2.0, 4.0), (0.3, 1.6, 0, 1.5, 2.2, 3.0),
                   (0.408, 1.2, 0, 1.2, 2.1, 3.5), (0.44, 30.0, 1, 9.0, 9.0, 9.0),
                   (0.5, 2.0, 0, 2.0, 2.1, 2.0)))
    assert "over the 4 couplings whose xi is resolved (0.2, 0.3, 0.408, 0.5: xi changes by a " \
        "factor 2.5)" in text
    assert "Layer 1: size changes by a factor 2.0, Pearson r = 0.98 with xi: tracks xi" in text
    assert "Layer 2: size changes by a factor 1.1" in text
    assert "does not track xi; a Kadanoff block" in text
    assert "changes with K, but not with xi" in text
    assert "that no layer's size follows xi, is changed" in text


def test_sweep_with_three_resolved_points_is_undecided():
    text = _sweep(((0.2, 0.8, 0, 1.0, 2.0, 4.0), (0.3, 1.6, 0, 1.5, 2.2, 3.0),
                   (0.44, 30.0, 1, 9.0, 9.0, 9.0), (0.5, 2.0, 0, 2.0, 2.1, 2.0)))
    assert text.startswith("Undecided: 3 sweep points have a resolved correlation length")
    assert "tracks xi" not in text


def test_paper_point_local_by_the_share_of_local_units():
    paper = {"layer1.local_fraction": (0.55, 0.03),   # 0.5 + 1.7 errors: not local
             "layer2.local_fraction": (0.80, 0.05),   # 0.5 + 6 errors: local
             "layer3.local_fraction": (0.20, 0.01)}   # below one half
    for layer in (1, 2, 3):
        paper[f"layer{layer}.kadanoff_majority.local_fraction"] = (1.0, 0.0)
        paper[f"layer{layer}.locality"] = (0.5, 0.005)  # the previous rule: far above chance
        paper[f"layer{layer}.locality_chance"] = (0.1, 0.0)
        paper[f"layer{layer}.kadanoff_majority.locality"] = (1.0, 0.0)
    untrained = {f"layer{layer}.local_fraction": (0.01, 0.005) for layer in (1, 2, 3)}
    agg = aggregate({PAPER_KEY: paper, UNTRAINED_KEY: untrained})
    text = "\n".join(_paper_point_answer(ReportInputs(agg, [], Path("."))))
    assert "Layer 1 (b = 2): 0.550 ± 0.030 of its live units are local (untrained: " \
        "0.0100 ± 0.0050; an ideal Kadanoff unit: 1.00): not local." in text
    assert "Layer 2 (b = 4): 0.800 ± 0.050" in text and "1.00): local." in text
    assert "Layer 3 (b = 8): 0.200 ± 0.010" in text
    # the previous rule, beside it, calls every layer local (44 % of the ideal excess)
    assert "layer 1 local (44% of the ideal excess)" in text


def test_better_learning_more_kadanoff_like_only_when_every_significant_cell_agrees():
    def groups(density_share):
        out = {}
        for recipe, gap, share in (("paper", -0.19, 0.3), ("density", -0.04, density_share)):
            out[f"capacity_{recipe}@0.408"] = {
                "quality.gap_per_spin.validation": (gap, 0.001),
                "layer1.local_fraction": (share, 0.01),
                "layer1.kadanoff_majority.local_fraction": (1.0, 0.0)}
        return aggregate(out)

    points = [Point(f"capacity_{r}@0.408", 40, r, (400, 100, 25), "paper")
              for r in ("paper", "density")]
    # a network with no partner of the other recipe is not a pair: it is not counted
    points.append(Point("capacity_lone@0.408", 40, "paper", (1600, 400, 100), "paper"))
    more = "".join(_quality_answer(groups(0.6), points, [1]))
    assert "**more**" in more and "-gap) in 1 of 1 pairs" in more
    assert "**less**" in "".join(_quality_answer(groups(0.1), points, [1]))
    assert "**neither**" in "".join(_quality_answer(groups(0.305), points, [1]))


def test_block_spin_correlation_counts_as_a_second_measure_of_rg_likeness():
    # density has more local units than the paper recipe, but its activations follow the block
    # spins less
    out = {}
    for recipe, gap, local, block in (("paper", -0.19, 0.3, 0.8), ("density", -0.04, 0.6, 0.4)):
        metrics = {"quality.gap_per_spin.validation": (gap, 0.001)}
        metrics["layer1.local_fraction"] = (local, 0.01)
        metrics["layer1.kadanoff_majority.local_fraction"] = (1.0, 0.0)
        metrics["layer1.block_spin_correlation"] = (0.1 + 0.9 * block, 0.01)
        metrics["layer1.block_spin_correlation_chance"] = (0.1, 0.0)
        metrics["layer1.kadanoff_majority.block_spin_correlation"] = (1.0, 0.0)
        out[f"capacity_{recipe}@0.408"] = metrics
    points = [Point(f"capacity_{r}@0.408", 40, r, (400, 100, 25), "paper")
              for r in ("paper", "density")]
    text = "".join(_quality_answer(aggregate(out), points, [1]))
    assert "more Kadanoff-like in 1 and less in 1 of 2 (pair, layer, measure) cells" in text
    assert "layer 1, block-spin correlation)" in text and "**mixed" in text


def test_single_seed_pairs_give_no_answer():
    agg = aggregate({})
    for recipe, gap, share in (("paper", -0.19, 0.3), ("density", -0.04, 0.9)):
        values = {"quality.gap_per_spin.validation": gap, "layer1.local_fraction": share,
                  "layer1.kadanoff_majority.local_fraction": 1.0}
        agg["groups"][f"capacity_{recipe}@0.408"] = {
            "n": 1, "metrics": {name: {"mean": value, "std": None, "sem": None, "n": 1}
                                for name, value in values.items()}}
    points = [Point(f"capacity_{r}@0.408", 40, r, (400, 100, 25), "paper")
              for r in ("paper", "density")]
    assert "no answer" in "".join(_quality_answer(agg, points, [1]))


def test_no_likelihood_gap_where_log_z_failed_its_check():
    from ising_rg.experiments.report.capacity import _gap_cell

    agg = aggregate({"capacity_paper@0.408": {
        "quality.gap_per_spin.validation": (-0.19, 0.001, 3),
        "quality.log_z_bound_ok": (2 / 3, 0.3, 3)}})
    assert _gap_cell(agg, "capacity_paper@0.408") == (
        "log Z below its bound in 1 of 3 seeds: not computed")
    agg["groups"]["capacity_paper@0.408"]["metrics"]["quality.log_z_bound_ok"]["mean"] = 1.0
    assert _gap_cell(agg, "capacity_paper@0.408") == "-0.1900 ± 0.0010"


def test_earlier_locality_rule_answers_beside_the_share_of_local_units():
    # bond-like paper units: all local by the per-unit null (share 1, as the density recipe's),
    # but their site shuffles keep the two large weights, so their locality sits near its
    # chance level and the earlier rule scores the density recipe as more Kadanoff-like
    out = {}
    for recipe, local, locality in (("paper", 1.0, 0.70), ("density", 1.0, 0.90)):
        out[f"capacity_{recipe}@0.408"] = {
            "quality.gap_per_spin.validation": (-0.1, 0.001),
            "layer1.local_fraction": (local, 0.01),
            "layer1.kadanoff_majority.local_fraction": (1.0, 0.0),
            "layer1.locality": (locality, 0.01),
            "layer1.locality_chance": (0.68, 0.0),
            "layer1.kadanoff_majority.locality": (1.0, 0.0)}
    points = [Point(f"capacity_{r}@0.408", 40, r, (400, 100, 25), "paper")
              for r in ("paper", "density")]
    answer, earlier = _quality_answer(aggregate(out), points, [1])
    assert "more Kadanoff-like in 0 and less in 0 of 1" in answer and "**neither**" in answer
    assert earlier.startswith("Beside it, the earlier rule on the same networks")
    assert "more Kadanoff-like in 1 and less in 0 of 1 cells, **more**" in earlier


def test_a_one_seed_sweep_point_shows_its_jackknife_error():
    """The data's xi at a sweep point run with one seed has no scatter over seeds, but its job
    measured a jackknife error: the cell shows it (not "1 seed"); with several seeds the
    larger of the seeds' standard error and the jobs' error / sqrt(n) counts."""
    from ising_rg.experiments.report.lengths import _xi_cell

    agg = aggregate({})
    agg["groups"]["sweep@0.200"] = {"n": 1, "metrics": {
        "data.correlation_length": {"mean": 0.81719, "std": None, "sem": None, "n": 1},
        "data.correlation_length_error": {"mean": 0.000018, "std": None, "sem": None, "n": 1}}}
    assert _xi_cell(agg, "sweep@0.200") == "0.817190 ± 0.000018"
    agg["groups"]["paper@0.408"] = {"n": 4, "metrics": {
        "data.correlation_length": entry(7.448, 0.001, n=4),
        "data.correlation_length_error": entry(0.06, 0.0, n=4)}}
    assert _xi_cell(agg, "paper@0.408") == "7.448 ± 0.030"  # 0.06 / sqrt(4) > 0.001

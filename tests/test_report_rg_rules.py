"""The RG sections' answers (MCRG, RSMI, the flow) follow their stated rules: synthetic
aggregates whose answers are known by construction, on both sides of each threshold."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ising_rg.experiments.report.common import PAPER_KEY, ReportInputs, measured
from ising_rg.experiments.report.flow import _flow_answer
from ising_rg.experiments.report.rg_tests import (
    _coupling_flow,
    _exponent_verdict,
    _reference_verdict,
    _rsmi_answer,
)
from tests.test_report_rules import aggregate


def test_a_job_error_keeps_two_agreeing_seeds_from_looking_exact():
    agg = aggregate({"g@0.441": {"x": (1.0, 0.0001, 2), "x_error": (0.05, 0.0, 2),
                                 "y": (1.0, 0.2, 2), "y_error": (0.05, 0.0, 2)}})
    mean, error, n = measured(agg, "g@0.441", "x")
    assert (mean, n) == (1.0, 2) and error == np.float64(0.05) / np.sqrt(2)
    assert measured(agg, "g@0.441", "y")[1] == 0.2  # the seeds' scatter, when larger
    assert measured(agg, "g@0.441", "z")[2] == 0


def test_exponents_judged_with_majority_rules_own_distance_as_allowance():
    key = "critical@0.441"
    metrics = {"mcrg.majority.level1.y_t": (0.95,), "mcrg.majority.level1.y_h": (1.87,),
               # 0.80: off by 0.20 > 3 x 0.01 + 0.05 (missed); y_h 1.90: 0.025 <= 0.03 + 0.005
               "mcrg.dbn.level1.y_t": (0.80, 0.01, 2), "mcrg.dbn.level1.y_h": (1.90, 0.01, 2),
               "mcrg.rsmi.level1.y_t": (1.02, 0.01, 2), "mcrg.rsmi.level1.y_h": (1.88, 0.01, 2)}
    agg = aggregate({key: metrics})
    assert _exponent_verdict(agg, key, "dbn", [1]) == "misses y_t level 1 = 0.800"
    assert _exponent_verdict(agg, key, "rsmi", [1]) == "the Ising exponents"
    assert _exponent_verdict(agg, key, "rsmi", []) == "undecided"
    assert _exponent_verdict(agg, key, "decimation", [1]) == "undecided"


def test_the_known_answer_is_met_only_within_its_targets():
    def result(y_t, y_h):
        level = {"level": 1, "y_t": {"mean": y_t}, "y_h": {"mean": y_h}}
        return {"coarse_grainers": {"majority": {"levels": [{"level": 0}, level]}}}

    good = _reference_verdict(result(0.93, 1.80))[0]  # 7 % and 4 %
    assert "y_t = 0.930 at level 1, 7.0 % from 1 (target: 10%): met" in good
    assert "y_h = 1.80 at level 1, 4.0 % from 1.875 (target: 5%): met" in good
    assert "missed" in _reference_verdict(result(0.85, 1.80))[0]


def _flow_inputs(values: dict[float, dict[str, tuple]]) -> ReportInputs:
    groups = {("paper" if k == 0.408 else "sweep") + f"@{k:.3f}": metrics
              for k, metrics in values.items()}
    agg = aggregate(groups)
    agg["settings"] = {"size": 40}
    return ReportInputs(agg, [], Path("/nonexistent"))


def test_the_coupling_flow_needs_direction_and_repulsion(monkeypatch):
    monkeypatch.setattr("ising_rg.experiments.report.rg_tests.coupling_flow_figure",
                        lambda *args: "flow.png")
    # majority: K' < K below K_c, K' > K above, slope (0.56 - 0.35) / 0.092 = 2.3: repels.
    # the network: K' < K everywhere (it loses coupling): 2 of 3 directions, slope 0.2.
    values = {}
    for k, majority, network in ((0.3, 0.20, 0.10), (0.408, 0.35, 0.12), (0.44, 0.43, 0.12),
                                 (0.5, 0.56, 0.14)):
        values[k] = {"mcrg.majority.level1.k_nn": (majority, 0.005, 2),
                     "mcrg.dbn.level1.k_nn": (network, 0.005, 2)}
    text = "\n".join(_coupling_flow(_flow_inputs(values)))
    assert "points within 1/L = 0.025 of K_c are left out" in text
    assert "* majority rule: away from K_c at 3 of 3 couplings; slope 2.283 ± 0.077 between " \
        "K = 0.408 and 0.5: the fixed point repels." in text
    assert "* the network's layers: away from K_c at 2 of 3 couplings; slope 0.217 ± 0.077" \
        in text and "does not repel" in text


def test_rsmi_answers_only_where_there_is_information_to_keep():
    def group(majority, majority_error, difference, dropped=0.2, control=-0.001,
              control_error=0.002):
        return {"rsmi.bits.majority": (majority, 0.0, 2),
                "rsmi.bits.majority_error": (majority_error, 0.0, 2),
                "rsmi.bits.dbn_units": (majority + difference, 0.0, 2),
                "rsmi.bits.rsmi": (majority + control, 0.0, 2),
                "rsmi.difference.rsmi": (control, 0.0, 2),
                "rsmi.difference.rsmi_error": (control_error, 0.0, 2),
                "rsmi.difference.dbn_units": (difference, 0.0, 2),
                "rsmi.difference.dbn_units_error": (0.01, 0.0, 2),
                "rsmi.dbn_units_dropped_share": (dropped, 0.0, 2)}

    # RSMI 1 % below majority with a tiny paired error: within the compression term's 2 %
    # allowance (works); 3 % below: fails; a collapsed filter says why
    agg = aggregate({"sweep@0.200": group(0.002, 0.003, 0.0),
                     "paper@0.408": group(0.60, 0.01, -0.5, dropped=0.8,
                                          control=-0.006, control_error=0.0001),
                     "sweep@0.500": group(0.70, 0.01, -0.02),
                     "sweep@0.440": group(0.50, 0.01, -0.02, control=-0.015,
                                          control_error=0.0001),
                     "sweep@0.300": group(0.10, 0.01, -0.02, control=-0.1)})
    text = "\n".join(_rsmi_answer(agg))
    assert "* sweep@0.200: undecided (majority rule keeps" in text
    assert "* paper@0.408: RSMI works as the control; the network's units lose it (17 % of " \
        "majority rule's bits); their windows leave out 80 % of their weight." in text
    assert "* sweep@0.500: RSMI works as the control; the network's units keep it" in text
    assert "* sweep@0.440: RSMI fails as the control; the network's units" in text
    assert "* sweep@0.300: RSMI fails (it keeps 0 % of majority rule's bits: with this " \
        "little to keep, the compression term wins and the filter collapses) as the control" \
        in text


def test_the_flow_answer_says_ordered_undecided_or_how_many_are_ising():
    agg = aggregate({PAPER_KEY: {"flow.has_ensemble": (1.0, 0.0, 2),
                                 "flow.dominant_abs_magnetization": (0.98, 0.001, 2),
                                 "flow.ising_state": (0.5, 0.5, 2),
                                 "flow.temperature_from_energy": (1.2, 0.1, 2)},
                     "flow@0.408": {"flow.has_ensemble": (0.5, 0.5, 2),
                                    "flow.dominant_abs_magnetization": (0.3, 0.1, 2)}})
    rows = [("flow@0.408", "5 temperatures"), (PAPER_KEY, "K = 0.408 only (paper)")]
    text = "\n".join(_flow_answer(agg, rows))
    assert "trained on 5 temperatures: in 1 of 2 seeds no mode holds 0.99 of the weight" in text
    assert "trained on K = 0.408 only (paper): the flow ends at a deeply ordered state " \
        "(heaviest mode |m| = 0.9800 ± 0.0010); it is an Ising state in 1 of 2 seeds" in text
    agg["groups"][PAPER_KEY]["metrics"].pop("flow.ising_state")
    assert "is undecided" in "\n".join(_flow_answer(agg, rows[1:]))

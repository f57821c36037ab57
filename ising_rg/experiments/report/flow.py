"""Section 5 of the report: the RBM flow (v -> h -> v with the first RBM). Its path: chains
from the training data's configurations and random spins, run until their split R-hat agrees.
Its end point: the first RBM's own equilibrium, which the path may never reach (found and
weighed by ``rbm_equilibrium``: mixture AIS and parallel tempering), read as a temperature from
E, |m| and C separately (``diagnostics.flow_readout``)."""

from __future__ import annotations

import numpy as np

from ising_rg import exact, paper
from ising_rg.diagnostics.equilibrium import DOMINANT_WEIGHT
from ising_rg.estimators.convergence import RHAT_THRESHOLD
from ising_rg.experiments.aggregate import group_key
from ising_rg.experiments.extras import FLOW_CHECK_EVERY, FLOW_MAX_STEPS
from ising_rg.experiments.report.common import (
    PAPER_KEY,
    PREVIOUS_REPORT,
    ReportInputs,
    count,
    fm,
    metric,
)
from ising_rg.experiments.report.plots import flow_figure

K = paper.COUPLING
FLOW_KEY = group_key("flow", K)
#: An end point whose heaviest mode has |m| at least this is deeply ordered (the infinite
#: lattice's spontaneous magnetization reaches 0.9 near T = 2.0, well below T_c = 2.269).
ORDERED = 0.9


def _rows(inputs: ReportInputs) -> list[tuple[str, str]]:
    """The section's rows, (group key, what the network was trained on), for the groups that
    ran the flow."""
    mixture = next((r["job"].get("mixture") for r in inputs.results
                    if r["job"]["group"] == "flow"), None) or ()
    rows = ((FLOW_KEY, f"{len(mixture)} temperatures (Iso et al.)"),
            (PAPER_KEY, f"K = {K:g} only (paper)"))
    return [(key, label) for key, label in rows
            if metric(inputs.aggregate, key, "flow.path_n_steps")[2]]


def _steps(value: tuple[float, float, int]) -> str:
    """The mean number of steps over the seeds, as a whole number."""
    return "n/a" if not np.isfinite(value[0]) else str(round(value[0]))


def rbm_flow(inputs: ReportInputs) -> list[str]:
    """Section 5: where iterating the first RBM (v -> h -> v) goes from the data, where it
    ends (the RBM's equilibrium), and whether that end is an Ising state."""
    agg, size = inputs.aggregate, inputs.size
    lines = ["## 5. The RBM flow\n"]
    figure = flow_figure(inputs.results, inputs.figure_dir, size)
    if figure:
        lines.append(f"![RBM flow](figures/{figure})\n")
    lines += [
        "Each step samples h from P(h|v), then v from P(v|h) with the first RBM: block Gibbs "
        "sampling. *The path*: chains from Monte Carlo configurations of every temperature "
        "the network was trained on and from random spins, run until the split R-hat of E/N "
        f"and |m| over all chains is below {RHAT_THRESHOLD:g} (checked every "
        f"{FLOW_CHECK_EVERY} steps, up to {FLOW_MAX_STEPS}). "
        "*The end point*: block Gibbs sampling ends at the RBM's own equilibrium, which "
        "chains from the data may never reach when the RBM puts its weight on a mode they "
        "do not visit; it is found and weighed as in section 1 (mixture AIS over the modes "
        "that all-up, all-down, data and random starts find; parallel tempering from them), "
        f"and its ensemble is that of converged chains or of a mode holding at least "
        f"{DOMINANT_WEIGHT:g} of "
        f"the weight. Its temperature is read three ways from the L = {size} Ising model: "
        "from E/N and from C/N (Kaufman's exact values; C from N var(E/N) = T^2 C/N), and "
        "from |m| (a Monte Carlo table). It is an Ising state only if one temperature fits "
        "all three within 3 standard errors.\n",
        "| trained on | path converged | path steps | path E/N | path abs m | end point: "
        "an ensemble | heaviest mode: weight | its abs m |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, label in _rows(inputs):
        lines.append(
            f"| {label} | {count(agg, key, 'flow.path_converged')} | "
            f"{_steps(metric(agg, key, 'flow.path_n_steps'))} | "
            f"{fm(metric(agg, key, 'flow.path_energy_per_spin'))} | "
            f"{fm(metric(agg, key, 'flow.path_abs_magnetization'))} | "
            f"{count(agg, key, 'flow.has_ensemble')} | "
            f"{fm(metric(agg, key, 'flow.dominant_weight'))} | "
            f"{fm(metric(agg, key, 'flow.dominant_abs_magnetization'))} |")
    lines += ["", "| trained on | end E/N | end abs m | T from E | T from abs m | T from C "
              "| Ising state |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for key, label in _rows(inputs):
        cells = [fm(metric(agg, key, f"flow.{name}"))
                 for name in ("energy_per_spin", "abs_magnetization")]
        if metric(agg, key, "flow.has_ensemble")[0] == 1:
            cells += [fm(metric(agg, key, f"flow.temperature_from_{name}"))
                      for name in ("energy", "abs_magnetization", "specific_heat")]
            cells.append(count(agg, key, "flow.ising_state"))
        else:  # no temperature is read where there is no single equilibrium ensemble
            cells = ["no single ensemble"] * 5 + ["n/a"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines + _flow_answer(agg, _rows(inputs))


def _flow_answer(agg: dict, rows: list[tuple[str, str]]) -> list[str]:
    """The plain answer of section 5, and how it differs from the previous report's."""
    lines = [f"The paper's training temperature is T = {1 / K:.3f}; T_c = "
             f"{exact.critical_temperature():.3f}. Rule: the end point is *deeply ordered* "
             f"when its heaviest mode has |m| >= {ORDERED:g} (the infinite lattice reaches "
             "that near T = 2.0). An RG flow from above T_c would run to the high-temperature "
             "fixed point (m = 0, E = 0); a network whose equilibrium is ordered flows to "
             "T = 0 from every start.\n"]
    for key, label in rows:
        ensemble, _, n = metric(agg, key, "flow.has_ensemble")
        if n == 0:
            continue
        ising, _, n_decided = metric(agg, key, "flow.ising_state")
        m_heavy = metric(agg, key, "flow.dominant_abs_magnetization")
        kind = ("a deeply ordered state" if np.isfinite(m_heavy[0]) and m_heavy[0] >= ORDERED
                else "a state that is not deeply ordered")
        if ensemble < 1:
            answer = (f"in {round((1 - ensemble) * n)} of {n} seeds no mode holds "
                      f"{DOMINANT_WEIGHT:g} of "
                      "the weight: there is no single end point to read")
        elif not n_decided:
            answer = (f"the flow ends at {kind} (heaviest mode |m| = {fm(m_heavy)}); whether "
                      "it is an Ising state is undecided (its temperature lies outside the "
                      "calibrated range)")
        else:
            answer = (f"the flow ends at {kind} (heaviest mode |m| = {fm(m_heavy)}); it is an "
                      f"Ising state in {round(ising * n_decided)} of {n_decided} seeds (E alone "
                      f"would say T = {fm(metric(agg, key, 'flow.temperature_from_energy'))}; "
                      "an Ising state needs one temperature to fit E, |m| and C together)")
        lines.append(f"* **Answer**, trained on {label}: {answer}.")
    lines += [
        "",
        f"*Earlier answer, changed in kind:* {PREVIOUS_REPORT} ran the path only and found "
        "it unconverged in every seed (5 of 5 paper, 2 of 2 flow networks): no end point was "
        "read. The path's chains stay in the data's basin; the end point is the RBM's "
        "equilibrium, wherever its weight is.\n",
    ]
    return lines

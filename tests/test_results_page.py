"""docs/results.md is generated from the outputs (``ising_rg.results_page``): every number it
shows is the one in the output it reads, and a missing output is named, not filled in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ising_rg.errors import IsingRGError
from ising_rg.formatting import significant
from ising_rg.results_page import GENERATED_NOTE, render_results_page
from tests.small_run import small_analysis

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = "\n".join(f"<!-- results: {name} -->" for name in
                     ("paper", "report", "capacity", "bench")) + "\n"
REPORT = """# A report

## 1. The first question

| a table | that is not an answer |
| --- | --- |

**Answer.** Rule: the first rule.

* Layer 1: local.
* Layer 2: not local.

Prose after the answer, not copied.

## 2. The second question

* **Answer**, trained on something: it ends somewhere.

*Earlier answer, changed:* it said something else.

Beside it, the earlier rule on the same networks: the opposite.

## Cost

**Answer.** never copied from the cost table.
"""


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """A repository-like folder with a small analysis at results/paper, a report, a bench."""
    root = tmp_path_factory.mktemp("outputs")
    small_analysis(root, root / "results" / "paper", "--generative-samples", "20",
                   "--gibbs-steps", "100")
    (root / "reports").mkdir()
    (root / "reports" / "rg_report.md").write_text(REPORT)
    (root / "results" / "bench.json").write_text(json.dumps(
        {"metropolis": {"L256": {"flips_per_ns": 2.7182818}}, "note": "idle"}))
    return root


def test_every_number_is_the_outputs(outputs):
    text = render_results_page(TEMPLATE, outputs)
    assert text.startswith(GENERATED_NOTE)
    metrics = json.loads((outputs / "results" / "paper" / "metrics.json").read_text())
    rows = [line for line in text.splitlines() if line.startswith("| 1 |")
            or line.startswith("| 2 |")]
    assert len(rows) == len(metrics["layers"]) == 2
    for row, layer in zip(rows, metrics["layers"], strict=True):
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[1] == f"{layer['n_units']} ({layer['n_live']})"
        assert cells[6] == significant(layer["locality"]["local_fraction"])
        assert cells[4].startswith(significant(layer["half_weight_radius"]["mean"]))
    log_z = metrics["quality"]["log_z"]
    assert log_z["method"] == "exact" and significant(log_z["bound"], 6) in text
    assert metrics["generative"]["ensemble_from"] in text
    # the report's answers, not its tables, prose or cost
    assert "* Layer 2: not local." in text and "**1. The first question**" in text
    assert "*Earlier answer, changed:* it said something else." in text
    assert "Beside it, the earlier rule on the same networks: the opposite." in text
    assert "that is not an answer" not in text and "Prose after" not in text
    assert "never copied" not in text
    assert "| metropolis L256 flips_per_ns | 2.718 |" in text and "| note | idle |" in text


def test_missing_outputs_are_named_not_filled_in(tmp_path):
    text = render_results_page(TEMPLATE, tmp_path)
    for path, command in (("results/paper/metrics.json", "make figures"),
                          ("reports/rg_report.md", "make report"),
                          ("reports/capacity_report.md", "make study"),
                          ("results/bench.json", "make bench")):
        assert f"*Not computed in this checkout: `{command}` writes `{path}`.*" in text
    with pytest.raises(IsingRGError, match="unknown results block"):
        render_results_page("<!-- results: everything -->\n", tmp_path)


def test_the_template_names_every_block_once():
    template = (REPO / "docs" / "templates" / "results.md").read_text()
    for name in ("paper", "report", "capacity", "bench"):
        assert template.count(f"<!-- results: {name} -->") == 1

"""Numbers formatted by their errors: the report's and the CLI's one rule."""

from __future__ import annotations

import math

import pytest

from ising_rg.experiments.report import common
from ising_rg.formatting import format_measurement, significant


@pytest.mark.parametrize(
    ("mean", "error", "text"),
    [
        (-1.1518, 0.00038, "-1.15180 ± 0.00038"),  # the example
        (1, 0.0025, "1.0000 ± 0.0025"),  # ... and its other one
        (0, 0, "0 (exact)"),
        (0.25, 0.0, "0.25 (exact)"),
        (123.456, 12.3, "123 ± 12"),
        (0.5, 0.0996, "0.50 ± 0.10"),  # the error rounds up into the next decade
        (1234.5, 250, "1230 ± 250"),
        (-0.00001, 0.01, "0.000 ± 0.010"),  # no "-0.000"
        (2.5e-7, 3e-9, "(2.500 ± 0.030)e-7"),
        (1e7, 2e5, "(1.000 ± 0.020)e7"),
        (0.19559035501084393, None, "0.196"),  # no error: 3 significant digits
        (0.19559035501084393, math.nan, "0.196"),
        (3.0, -0.25, "3.00 ± 0.25"),  # the sign of an error is ignored
        (math.nan, 0.1, "n/a"),
        (None, None, "n/a"),
    ],
)
def test_format_measurement(mean, error, text):
    assert format_measurement(mean, error) == text


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [(0.19559035501084393, 3, "0.196"), (1234.5, 3, "1230"), (9.996, 3, "10.0"),
     (0.000123456, 3, "0.000123"), (1.234e-5, 3, "1.23e-5"), (2.5e6, 2, "2.5e6"), (0, 3, "0"),
     (-0.0, 3, "0"), (12.3456, 4, "12.35"), (None, 3, "n/a"), (math.inf, 3, "inf"),
     ("x", 3, "n/a"), (200, 3, "200"), (123456, 2, "123456"), (30.0, 3, "30.0")],
)
def test_significant(value, digits, text):
    assert significant(value, digits) == text


def test_the_report_uses_the_one_function():
    assert common.format_measurement is format_measurement
    assert not hasattr(common, "fmt")
    assert common.fmt_length(30.0, 1.0, 40) == "> 20 (no decay)"
    assert common.fmt_length(3.14159, 0.0123, 40) == "3.142 ± 0.012"

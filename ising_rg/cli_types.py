"""The ``ising-rg`` command line's option types and shared options (``ising_rg.cli``).

click parameter types that check what click's own do not (finite numbers, even lattice sizes,
``auto`` or a number of sweeps, comma-separated lists), the limits beyond which a value is a
usage error, and the options several commands share (coupling or temperature, the recipe's
defaults in the help). Nothing here imports numba: the CLI starts without it.
"""

from __future__ import annotations

import dataclasses
import math

import click

from ising_rg import paper
from ising_rg.settings import RECIPE_NAMES, RECIPES, Recipe, setting_help

__all__ = [
    "INPUT_FILE",
    "MAX_CHAINS",
    "MAX_COUNT",
    "MAX_EPOCHS",
    "MAX_EXACT_SIZE",
    "MAX_SWEEPS",
    "OUTPUT_FILE",
    "OUTPUT_FOLDER",
    "RECIPE_NAMES",
    "SEED",
    "EvenSize",
    "Momentum",
    "Number",
    "Sizes",
    "Count",
    "SweepsOrAuto",
    "command_coupling",
    "count",
    "default_of",
    "coupling_options",
    "joined",
    "positive",
    "recipe_help",
]


class Number(click.FloatRange):
    """A finite real number in a range (click's FloatRange lets nan and inf through)."""

    name = "number"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def positive() -> Number:
    """A finite number > 0."""
    return Number(min=0, min_open=True)


class Count(click.IntRange):
    """An integer from ``minimum`` to ``maximum``, whose help states only the lower bound: an
    upper bound nobody reaches (2^31 - 1) is noise there, but a larger value is still a usage
    error."""

    def __init__(self, minimum: int, maximum: int) -> None:
        super().__init__(min=minimum)
        self.maximum = maximum

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if number > self.maximum:
            self.fail(f"{number} is larger than {self.maximum}, the largest accepted.", param,
                      ctx)
        return number


class EvenSize(Count):
    """An even lattice size L >= 4 (the checkerboard update needs even rows)."""

    name = "even integer"

    def __init__(self) -> None:
        super().__init__(4, MAX_COUNT)

    def convert(self, value, param, ctx):
        size = super().convert(value, param, ctx)
        if size % 2:
            self.fail(f"{size} is odd; the lattice size must be even.", param, ctx)
        return size


class SweepsOrAuto(click.ParamType):
    """``auto`` or a whole number of sweeps in [minimum, MAX_SWEEPS]."""

    name = "auto|sweeps"

    def __init__(self, minimum: int) -> None:
        self.minimum = minimum

    def convert(self, value, param, ctx):
        if value == "auto" or isinstance(value, int):
            return value
        try:
            number = int(value)
        except ValueError:
            self.fail(f"{value!r} is neither 'auto' nor a whole number of sweeps.", param, ctx)
        if not self.minimum <= number <= MAX_SWEEPS:
            self.fail(f"{number} is not in the range {self.minimum}<=x<={MAX_SWEEPS}.", param,
                      ctx)
        return number


class Sizes(click.ParamType):
    """Comma-separated layer sizes, each an integer >= 1: ``400,100,25``."""

    name = "n1,n2,..."

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            sizes = tuple(int(part) for part in value.split(","))
        except ValueError:
            sizes = ()
        if not sizes or min(sizes) < 1 or max(sizes) > MAX_COUNT:
            self.fail(f"{value!r} is not a comma-separated list of integers from 1 to "
                      f"{MAX_COUNT}.", param, ctx)
        return sizes


class Momentum(click.ParamType):
    """``initial,final,epochs``: two momenta in [0, 1) and the epochs at the initial one."""

    name = "initial,final,epochs"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        parts = value.split(",")
        try:
            initial, final, epochs = float(parts[0]), float(parts[1]), int(parts[2])
            valid = len(parts) == 3 and all(0 <= m < 1 for m in (initial, final)) and epochs >= 0
        except (ValueError, IndexError):
            valid = False
        if not valid:
            self.fail(f"{value!r} is not initial,final,epochs (momenta in [0, 1), epochs >= 0; "
                      "e.g. 0.5,0.9,5).", param, ctx)
        return initial, final, epochs


def joined(values: tuple) -> str:
    """The comma-separated form of a tuple default (``Sizes`` and ``Momentum`` read it)."""
    return ",".join(str(v) for v in values)


MAX_COUNT = 2**31 - 1  # any count (samples, epochs, units, steps): larger is a usage error
SEED = Count(0, 2**63 - 1)


def count(minimum: int) -> Count:
    """A count from ``minimum`` to ``MAX_COUNT`` (the help shows the lower bound only)."""
    return Count(minimum, MAX_COUNT)


MAX_SWEEPS = 10**9  # sweeps between or before samples: beyond this, days of work
MAX_EPOCHS = 10**6  # the per-epoch history is allocated up front
MAX_CHAINS = 1024  # Monte Carlo chains (each stores at least one sample)
MAX_EXACT_SIZE = 10**6  # Kaufman's products have L terms
INPUT_FILE = click.Path(exists=True, dir_okay=False, readable=True)
OUTPUT_FILE = click.Path(dir_okay=False)
OUTPUT_FOLDER = click.Path(file_okay=False)


def coupling_options(func):
    """Add ``--coupling`` and ``--temperature`` (one setting in two units) to a command."""
    # The range of the exact solution, which sample and validate compare with.
    from ising_rg.exact import K_MAX, K_MIN

    func = click.option("--temperature", type=Number(min=1 / K_MAX, max=1 / K_MIN),
                        default=None,
                        help="T in units of J/k_B (K = 1/T); exclusive with --coupling.")(func)
    func = click.option("--coupling", type=Number(min=K_MIN, max=K_MAX), default=None,
                        help=f"K = J/k_B T [default: {paper.COUPLING:g}, the paper's].")(func)
    return func


def command_coupling(coupling: float | None, temperature: float | None) -> float:
    """The coupling K of ``--coupling`` / ``--temperature`` (the paper's when neither is given;
    both given is an ``IsingRGError``)."""
    from ising_rg.sampling.sampler import resolve_coupling

    if coupling is None and temperature is None:
        coupling = paper.COUPLING
    return resolve_coupling(coupling, temperature)


def default_of(settings_class: type, name: str):
    """The default of a setting (``ising_rg.settings``), for an option's ``default``."""
    return next(f.default for f in dataclasses.fields(settings_class) if f.name == name)


def recipe_help(name: str) -> str:
    """The help of a recipe option: the setting's help, and its value in the paper's recipe
    (an option not given keeps the chosen recipe's value)."""
    value = getattr(RECIPES["paper"], name)
    if isinstance(value, tuple):
        shown = joined(value)
    elif isinstance(value, float):
        shown = f"{value:g}"
    elif value is None:
        shown = "none"
    else:
        shown = str(value)
    text = setting_help(Recipe, name)
    return f"{text[0].upper()}{text[1:]}. [default: the recipe's; paper: {shown}]"

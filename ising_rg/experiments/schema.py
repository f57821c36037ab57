"""The study file's schema: every key of its tables, its default and its check.

One ``Option`` per key of the tables ``DATA``, ``NETWORK``, ``RECIPE`` and ``ANALYSIS`` (and the
group's ``VARIANT``); ``TABLES``, ``GROUP_KEYS`` and ``STUDY_KEYS`` list the keys a study may
use, ``SETTINGS`` the job settings they fill. The ``data``, ``recipe`` and ``analysis`` tables are
the settings of :mod:`ising_rg.settings` (``SampleOptions``, ``Recipe``, ``AnalysisOptions``)
under the same names, with the same defaults and checks, read from their fields; a study
adds only what a study has beyond them (a temperature or a mixture of couplings instead of
one coupling, the layers). Each check takes ``(value, name)`` and returns the canonical value
(tuples for lists) or raises ``IsingRGError`` naming the key. docs/experiments.md describes
the keys for users; ``ising_rg.experiments.spec`` reads a study with them and expands it into
jobs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ising_rg import paper
from ising_rg.checks import check_choice, check_integer, check_number
from ising_rg.errors import IsingRGError
from ising_rg.experiments.jobs import VARIANTS
from ising_rg.settings import AnalysisOptions, Recipe, SampleOptions

__all__ = [
    "ANALYSIS",
    "DATA",
    "GROUP_KEYS",
    "NETWORK",
    "RECIPE",
    "SETTINGS",
    "STUDY_KEYS",
    "TABLES",
    "VARIANT",
    "Option",
    "data_set_coupling",
]


@dataclass(frozen=True)
class Option:
    """One key of a study's table.

    Attributes
    ----------
    default : the value where neither the group nor ``[defaults]`` gives one
    check : ``check(value, name)`` -> the canonical value, or IsingRGError naming ``name``
        (None for the coupling and the temperature, which ``data_set_coupling`` checks)
    help : one line for the documentation
    list_valued : the value is itself a list, so a grid axis is a list of lists
    setting : the name of the job setting it fills (default: the key itself)
    """

    default: Any
    check: Callable[[Any, str], Any] | None
    help: str
    list_valued: bool = False
    setting: str | None = None


# -- checks: each returns the canonical value (tuples for lists) or raises IsingRGError --------
def _list(value: Any, name: str, what: str) -> list:
    if not isinstance(value, list):
        raise IsingRGError(f"{name} must be a list of {what}, got {value!r}")
    return value


def _layers(value: Any, name: str) -> tuple[int, ...]:
    sizes = _list(value, name, "layer sizes")
    if not sizes:
        raise IsingRGError(f"{name} must name at least one layer")
    return tuple(check_integer(size, f"{name} (every layer size)", 1) for size in sizes)


def data_set_coupling(unit: str) -> Callable[[Any, str], dict]:
    """Checks a coupling or temperature: a number, or a mixture ``{mixture = [...],
    measure_at = x}`` (several temperatures in one data set, measured at one of them)."""
    def to_coupling(value: Any, name: str) -> float:
        number = check_number(value, name, above=0)
        return number if unit == "coupling" else 1.0 / number

    def check(value: Any, name: str) -> dict:
        if not isinstance(value, dict):
            return {"coupling": to_coupling(value, name), "mixture": None}
        for key in value:
            if key not in ("mixture", "measure_at"):
                raise IsingRGError(f"{name}.{key} is not a known key; known: mixture, measure_at")
        for key in ("mixture", "measure_at"):
            if key not in value:
                raise IsingRGError(f"{name}.{key} is required for a mixture")
        members = _list(value["mixture"], f"{name}.mixture", f"{unit}s")
        if len(members) < 2 or len(set(members)) < len(members):
            raise IsingRGError(f"{name}.mixture must list two or more different {unit}s, "
                               f"got {members!r}")
        couplings = [to_coupling(m, f"{name}.mixture") for m in members]
        if value["measure_at"] not in members:
            raise IsingRGError(f"{name}.measure_at must be one of the mixture's {unit}s, "
                               f"got {value['measure_at']!r}")
        return {"coupling": couplings[members.index(value["measure_at"])],
                "mixture": tuple(sorted(couplings))}
    return check


def _options(settings_class: type, *, skip: tuple[str, ...] = (),
             list_valued: tuple[str, ...] = ()) -> dict[str, Option]:
    """The study keys of a settings class: every field but ``skip``, with its default, check
    and help."""
    return {field.name: Option(field.default, field.metadata["check"], field.metadata["help"],
                               list_valued=field.name in list_valued)
            for field in dataclasses.fields(settings_class) if field.name not in skip}


_SAMPLING = _options(SampleOptions, skip=("seed",))  # a replicate's data seed is spawned
DATA: dict[str, Option] = {
    "size": _SAMPLING["size"],
    # "coupling" and "temperature" are one setting in two units, checked by data_set_coupling.
    "coupling": Option(paper.COUPLING, None, "K = J / k_B T > 0; or {mixture, measure_at}"),
    "temperature": Option(None, None, "T = 1 / K > 0 (instead of coupling); or {mixture, "
                                      "measure_at}"),
    **{key: option for key, option in _SAMPLING.items() if key not in ("size", "coupling")},
}
DATA["samples"] = dataclasses.replace(
    DATA["samples"], help="configurations per data set (per temperature in a mixture)")
NETWORK: dict[str, Option] = {
    "hidden": Option(paper.HIDDEN, _layers, "hidden layer sizes, bottom to top",
                     list_valued=True),
}
RECIPE: dict[str, Option] = _options(Recipe, list_valued=("momentum",))
# A job's flat settings name the recipe ``recipe`` (its table's key is ``name``).
RECIPE["name"] = dataclasses.replace(RECIPE["name"], setting="recipe")
#: A replicate's analysis seed is its training seed; the subset size and chance draws are the
#: library's.
ANALYSIS: dict[str, Option] = _options(
    AnalysisOptions, skip=("seed", "analysis_samples", "chance_draws"), list_valued=("extras",))
VARIANT = Option("paper", lambda value, name: check_choice(value, name, VARIANTS),
                 "paper, permuted, untrained or ising_rbm")
TABLES: dict[str, dict[str, Option]] = {
    "data": DATA, "network": NETWORK, "recipe": RECIPE, "analysis": ANALYSIS,
}
GROUP_KEYS = ("name", "variant", "replicates", *TABLES)
STUDY_KEYS = ("seed", "defaults", "groups")

#: Every job setting, in the order of the results table's columns (the seeds are spawned).
SETTINGS = ("variant", "size", "coupling", "mixture", "samples", "algorithm",
            "thermalization", "spacing", "chains", "data_seed", "hidden",
            *(option.setting or key for key, option in RECIPE.items()), "train_seed",
            *ANALYSIS)

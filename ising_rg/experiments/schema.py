"""The study file's schema: every key of its tables, its default and its check.

One ``Option`` per key of the tables ``DATA``, ``NETWORK``, ``RECIPE`` and ``ANALYSIS`` (and the
group's ``VARIANT``); ``TABLES``, ``GROUP_KEYS`` and ``STUDY_KEYS`` list the keys a study may
use, ``SETTINGS`` the job settings they fill. Each check takes ``(value, name)`` and returns the
canonical value (tuples for lists) or raises ``IsingRGError`` naming the key. docs/experiments.md
describes the keys for users; ``ising_rg.experiments.spec`` reads a study with them and expands
it into jobs.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ising_rg import paper
from ising_rg.checks import check_choice, check_integer, check_number
from ising_rg.errors import IsingRGError
from ising_rg.experiments.jobs import EXTRAS, VARIANTS
from ising_rg.rbm.recipes import RECIPES
from ising_rg.sampling.sampler import ALGORITHMS, DEFAULT_CHAINS

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
def _integer(minimum: int) -> Callable[[Any, str], int]:
    return lambda value, name: check_integer(value, name, minimum)


def _number(**bounds: float) -> Callable[[Any, str], float]:
    return lambda value, name: check_number(value, name, **bounds)


def _choice(*choices: str) -> Callable[[Any, str], str]:
    return lambda value, name: check_choice(value, name, choices)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise IsingRGError(f"{name} must be true or false, got {value!r}")
    return value


def _even_size(value: Any, name: str) -> int:
    if check_integer(value, name, 4) % 2:  # the checkerboard sampler needs even rows
        raise IsingRGError(f"{name} must be an even integer >= 4, got {value!r}")
    return int(value)


def _sweeps(minimum: int) -> Callable[[Any, str], int | str]:
    def check(value: Any, name: str) -> int | str:
        if value == "auto":
            return value
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
            raise IsingRGError(f"{name} must be 'auto' or an integer >= {minimum}, got {value!r}")
        return int(value)
    return check


def _list(value: Any, name: str, what: str) -> list:
    if not isinstance(value, list):
        raise IsingRGError(f"{name} must be a list of {what}, got {value!r}")
    return value


def _layers(value: Any, name: str) -> tuple[int, ...]:
    sizes = _list(value, name, "layer sizes")
    if not sizes:
        raise IsingRGError(f"{name} must name at least one layer")
    return tuple(check_integer(size, f"{name} (every layer size)", 1) for size in sizes)


def _momentum(value: Any, name: str) -> tuple[float, float, int]:
    parts = _list(value, name, "[initial, final, epochs at initial]")
    if len(parts) != 3:
        raise IsingRGError(f"{name} must be [initial, final, epochs at initial], got {value!r}")
    initial, final = (check_number(m, name, minimum=0, below=1) for m in parts[:2])
    return initial, final, check_integer(parts[2], f"{name} (epochs at initial)", 0)


def _extras(value: Any, name: str) -> tuple[str, ...]:
    chosen = {check_choice(extra, name, EXTRAS) for extra in _list(value, name, "extras")}
    if len(chosen) < len(value):
        raise IsingRGError(f"{name} names an extra twice: {value!r}")
    return tuple(extra for extra in EXTRAS if extra in chosen)  # one canonical order


def _persistent_chains(value: Any, name: str) -> int:
    return check_integer(value, name, 1)


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



DATA: dict[str, Option] = {
    "size": Option(paper.SIZE, _even_size, "lattice size L (even, >= 4)"),
    # "coupling" and "temperature" are one setting in two units, checked by data_set_coupling.
    "coupling": Option(paper.COUPLING, None, "K = J / k_B T > 0; or {mixture, measure_at}"),
    "temperature": Option(None, None, "T = 1 / K > 0 (instead of coupling); or {mixture, "
                                      "measure_at}"),
    "samples": Option(paper.N_SAMPLES, _integer(1),
                      "configurations per data set (per temperature in a mixture)"),
    "algorithm": Option("wolff", _choice(*ALGORITHMS), "Monte Carlo algorithm"),
    "thermalization": Option("auto", _sweeps(0), "sweeps, or 'auto' (ising-rg sample)"),
    "spacing": Option("auto", _sweeps(1), "sweeps between samples, or 'auto'"),
    "chains": Option(DEFAULT_CHAINS, _integer(1), "independent Monte Carlo chains"),
}
NETWORK: dict[str, Option] = {
    "hidden": Option(paper.HIDDEN, _layers, "hidden layer sizes, bottom to top",
                     list_valued=True),
}
RECIPE: dict[str, Option] = {
    "name": Option("paper", _choice(*RECIPES), "named recipe whose values the others override",
                   setting="recipe"),
    "epochs": Option(paper.N_EPOCHS, _integer(1), "epochs per layer"),
    "learning_rate": Option(paper.LEARNING_RATE, _number(above=0), "learning rate"),
    "learning_rate_decay": Option(paper.LEARNING_RATE_DECAY, _choice("none", "linear"),
                                  "'none' or 'linear' (to 0 over the epochs)"),
    "momentum": Option(paper.MOMENTUM_SCHEDULE, _momentum,
                       "[initial, final, epochs at initial]", list_valued=True),
    "batch_size": Option(paper.BATCH_SIZE, _integer(1), "minibatch size"),
    "cd_k": Option(paper.CD_K, _integer(1), "Gibbs steps of CD-k"),
    "persistent": Option(False, _flag, "persistent contrastive divergence"),
    "persistent_chains": Option(None, _persistent_chains,
                                "persistent chains (PCD only; default: the batch size)"),
    "negative_visible": Option(paper.NEGATIVE_VISIBLE, _choice("probabilities", "samples"),
                               "negative phase keeps P(v | h) or a binary sample"),
    "l1": Option(paper.L1, _number(minimum=0), "L1 weight penalty"),
    "l2": Option(paper.L2, _number(minimum=0), "L2 weight penalty"),
    "init": Option(paper.INIT, _choice("paper", "guide"), "weight initialisation"),
    "propagate": Option(paper.PROPAGATE, _choice("probabilities", "samples"),
                        "what each layer passes up"),
    "validation_fraction": Option(0.1, _number(minimum=0, below=1),
                                  "fraction of the data held out from training"),
}
ANALYSIS: dict[str, Option] = {
    "generative_samples": Option(1000, _integer(2), "configurations drawn from the DBN"),
    "gibbs_steps": Option(200, _integer(0), "Gibbs steps in the top RBM per configuration"),
    "extras": Option(EXTRAS, _extras, f"extra measurements, any of {', '.join(EXTRAS)}",
                     list_valued=True),
    "likelihood": Option(False, _flag, "the first RBM's log-likelihood by AIS (quality block; "
                                       "minutes per network at L = 40)"),
}
VARIANT = Option("paper", _choice(*VARIANTS), "paper, permuted, untrained or ising_rbm")
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

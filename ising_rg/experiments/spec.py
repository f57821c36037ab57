"""Studies written in TOML: the schema, its validation, and the expansion of a study into jobs.

A study is a root seed and a list of groups; each group is a grid over the data, the network,
the training recipe, the variant (control) and the analyses, times its replicates (seeds). A
list value is a grid axis (a list of lists for settings whose value is itself a list, such as
``hidden``). Every key, its default and its check is one entry of the tables below
(``DATA``, ``NETWORK``, ``RECIPE``, ``ANALYSIS``); docs/experiments.md describes them for
users. Everything is checked before any job runs: an unknown key, a bad value or too many jobs
raise ``IsingRGError`` with one line naming the key, e.g.
``study.toml: groups[2].recipe.learning_rate must be a positive number, got -1``.

The built-in presets (``default``, ``tiny``) are TOML files shipped in ``presets/``.
"""

from __future__ import annotations

import difflib
import itertools
import math
import numbers
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ising_rg import paper
from ising_rg.checks import check_choice, check_integer, check_number
from ising_rg.errors import IsingRGError
from ising_rg.experiments import MAX_JOBS
from ising_rg.experiments.jobs import EXTRAS, TRAIN_KEYWORDS, UNTRAINED_VARIANTS, VARIANTS, Job
from ising_rg.experiments.presets import preset_text
from ising_rg.rbm.recipes import RECIPES, resolve_recipe
from ising_rg.sampling.sampler import ALGORITHMS, DEFAULT_CHAINS
from ising_rg.seeding import seed_sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # the backport, a dependency on Python 3.10 only
    import tomli as tomllib


@dataclass(frozen=True)
class Option:
    """One key of a study's table.

    Attributes
    ----------
    default : the value where neither the group nor ``[defaults]`` gives one
    check : ``check(value, name)`` -> the canonical value, or IsingRGError naming ``name``
        (None for the coupling and the temperature, which ``_data_set_k`` checks)
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


def study_recipe(name: str) -> dict[str, Any]:
    """Every recipe option of the named recipe (``ising_rg.rbm.recipes.resolve_recipe``, the
    one that ``ising-rg train --recipe`` uses), under the study's keys (``epochs``, not
    ``n_epochs``)."""
    library_names = {library: key for key, library in TRAIN_KEYWORDS.items()}
    return {library_names.get(key, key): value
            for key, value in resolve_recipe(name).items() if key != "recipe"}


DATA: dict[str, Option] = {
    "size": Option(paper.SIZE, _even_size, "lattice size L (even, >= 4)"),
    # "coupling" and "temperature" are one setting in two units, checked by _data_point.
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


# -- studies ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Axis:
    """One setting of a group: its key in the study (``data.coupling``), its values (each a
    dict of job settings: a coupling also sets the mixture), and whether it was given as a list."""

    path: str
    values: tuple[dict[str, Any], ...]
    is_grid: bool


@dataclass(frozen=True)
class Group:
    """A validated group: name, position in the study, axes, recipe options left to the
    named recipe, replicate indices."""

    name: str
    index: int
    axes: tuple[Axis, ...]
    recipe_left: tuple[str, ...]
    replicates: tuple[int, ...]

    @property
    def n_jobs(self) -> int:
        return math.prod(len(axis.values) for axis in self.axes) * len(self.replicates)


@dataclass(frozen=True)
class Study:
    """A validated study: where it came from (for messages), its root seed and its groups."""

    source: str
    seed: int
    groups: tuple[Group, ...]

    @property
    def n_jobs(self) -> int:
        return sum(group.n_jobs for group in self.groups)


def _unknown(table: Mapping, known: tuple[str, ...] | Mapping, where: str) -> None:
    """Refuse a key that is not in ``known``, suggesting the closest known one."""
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            name = f"{where}.{key}" if where else key
            raise IsingRGError(f"{name} is not a known key{hint}; known: {', '.join(known)}")


def _table(value: Any, name: str) -> dict:
    if not isinstance(value, dict):
        raise IsingRGError(f"{name} must be a table, got {value!r}")
    return value


def _values(value: Any, option: Option, name: str) -> tuple[list, bool]:
    """The values of one key and whether it is a grid axis (a list; a list of lists for a
    list-valued key)."""
    if option.list_valued:
        is_grid = isinstance(value, list) and bool(value) and all(
            isinstance(v, list) for v in value)
    else:
        is_grid = isinstance(value, list)
    if not is_grid:
        return [value], False
    if not value:
        raise IsingRGError(f"{name} is an empty list; a list is a grid axis and needs a value")
    return value, True


def _axis(path: str, value: Any, option: Option, name: str,
          to_settings: Callable[[Any, str], dict] | None = None) -> Axis:
    """Check every value of one key (grid elements named ``name[i]``)."""
    values, is_grid = _values(value, option, name)
    checked = []
    for i, item in enumerate(values):
        item_name = f"{name}[{i}]" if is_grid else name
        if to_settings is not None:
            checked.append(to_settings(item, item_name))
        else:
            checked.append({option.setting or path.split(".")[-1]: option.check(item, item_name)})
    for i, item in enumerate(checked):
        if item in checked[:i]:
            raise IsingRGError(f"{name} repeats the value {values[i]!r}")
    return Axis(path, tuple(checked), is_grid)


def _data_set_k(unit: str) -> Callable[[Any, str], dict]:
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


def parse_study(document: Any, source: str) -> Study:
    """Check a study (the TOML document as a dict) and resolve its defaults.

    Parameters
    ----------
    document : dict, e.g. ``tomllib.load``'s result
    source : how messages name the study (its file name)

    Raises
    ------
    IsingRGError
        ``"<source>: <key> ..."`` for the first unknown key or bad value.
    """
    try:
        document = _table(document, "the study")
        _unknown(document, STUDY_KEYS, "")
        seed = check_integer(document.get("seed", 0), "seed", 0, 2**63 - 1)
        defaults = _table(document.get("defaults", {}), "defaults")
        if "name" in defaults:
            raise IsingRGError("defaults.name is not a known key; a name belongs to a group")
        _unknown(defaults, GROUP_KEYS, "defaults")
        groups = document.get("groups")
        if not isinstance(groups, list) or not groups:
            raise IsingRGError("groups must be a list of one or more tables ([[groups]])")
        parsed = []
        for index, group in enumerate(groups):
            where = f"groups[{index}]"
            _unknown(_table(group, where), GROUP_KEYS, where)
            parsed.append(_parse_group(group, defaults, index))
        names = [group.name for group in parsed]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise IsingRGError(f"groups[{index}].name {name!r} is already the name of "
                                   f"groups[{names.index(name)}]")
    except IsingRGError as error:
        message = str(error)
        raise IsingRGError(message if message.startswith(f"{source}:")
                           else f"{source}: {message}") from None
    return Study(source, seed, tuple(parsed))


def _parse_group(group: dict, defaults: dict, index: int) -> Group:
    where = f"groups[{index}]"
    name = group.get("name")
    if not isinstance(name, str) or not name or not all(
            c.isalnum() or c in "_-" for c in name):
        raise IsingRGError(f"{where}.name must be a name of letters, digits, '_' or '-', "
                           f"got {name!r}")

    def pick(key: str) -> tuple[Any, str]:
        """A group-level value and the name it is reported under."""
        if key in group:
            return group[key], f"{where}.{key}"
        return defaults.get(key), f"defaults.{key}"

    variant, variant_name = pick("variant")
    axes = [_axis("variant", VARIANT.default if variant is None else variant, VARIANT,
                  variant_name)]
    recipe_left = []
    for table_name, options in TABLES.items():
        own = _table(group.get(table_name, {}), f"{where}.{table_name}")
        shared = _table(defaults.get(table_name, {}), f"defaults.{table_name}")
        for label, table in ((f"{where}.{table_name}", own),
                             (f"defaults.{table_name}", shared)):
            _unknown(table, options, label)
            if "coupling" in table and "temperature" in table:
                raise IsingRGError(f"{label} gives both coupling and temperature; give one")
        if table_name == "data":
            source_table, label = ((own, f"{where}.data")
                                   if "coupling" in own or "temperature" in own
                                   else (shared, "defaults.data"))
            unit = "temperature" if "temperature" in source_table else "coupling"
            value = source_table.get(unit, paper.COUPLING)
            axes.append(_axis("data." + unit, value, DATA[unit], f"{label}.{unit}",
                              _data_set_k(unit)))
        for key, option in options.items():
            if key in ("coupling", "temperature"):
                continue
            if key in own:
                axes.append(_axis(f"{table_name}.{key}", own[key], option,
                                  f"{where}.{table_name}.{key}"))
            elif key in shared:
                axes.append(_axis(f"{table_name}.{key}", shared[key], option,
                                  f"defaults.{table_name}.{key}"))
            elif table_name == "recipe" and key != "name":
                recipe_left.append(key)  # the named recipe's value, else the default
            else:
                axes.append(Axis(f"{table_name}.{key}",
                                 ({option.setting or key: option.default},), False))
    replicates, replicates_name = pick("replicates")
    return Group(name, index, tuple(axes), tuple(recipe_left),
                 _replicates(1 if replicates is None else replicates, replicates_name))


def _replicates(value: Any, name: str) -> tuple[int, ...]:
    """A count n (replicates 0..n-1) or a list of replicate indices."""
    if isinstance(value, list):
        indices = [check_integer(r, f"{name}[{i}]", 0) for i, r in enumerate(value)]
        if not indices or len(set(indices)) < len(indices):
            raise IsingRGError(f"{name} must list one or more different replicate indices, "
                               f"got {value!r}")
        return tuple(sorted(indices))
    return tuple(range(check_integer(value, f"{name} (a count, or a list of indices)", 1)))


def read_study(path: str | os.PathLike) -> Study:
    """Read and check a study file (TOML)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise IsingRGError(f"cannot read {path}: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise IsingRGError(f"{path}: not valid TOML: {error}") from None
    return parse_study(document, str(path))


# -- presets ----------------------------------------------------------------------------------
def load_preset(name: str) -> Study:
    """A built-in preset as a checked study."""
    return parse_study(tomllib.loads(preset_text(name)), f"preset {name}")


# -- jobs -------------------------------------------------------------------------------------
def replicate_seeds(root_seed: int, n_replicates: int) -> list[tuple[int, int]]:
    """(data seed, training seed) of each replicate, spawned from one root seed.

    ``SeedSequence(root_seed).spawn(n)``, each child spawning (data, training). Replicate r
    uses the same seeds in every group and variant, so controls are paired: the L1 = 0
    network of replicate r sees exactly the data and initial weights of the paper network of
    replicate r; and the seeds of replicate r do not depend on ``n_replicates``.
    """
    out = []
    for child in seed_sequence(root_seed).spawn(n_replicates):
        data, train = child.spawn(2)
        out.append((int(data.generate_state(1, np.uint32)[0]),
                    int(train.generate_state(1, np.uint32)[0])))
    return out


def _text(value: Any) -> str:
    """A setting's value in a label: lists joined by '-', floats in short form."""
    if isinstance(value, tuple | list):
        return "-".join(_text(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _label(group: Group, point: dict[str, Any]) -> str:
    """What tells this grid point from the group's others, beyond its coupling: e.g.
    ``"hidden=64-16, recipe.learning_rate=0.05"`` ('' for a group that varies only K)."""
    parts = []
    for axis in group.axes:
        if not axis.is_grid or len(axis.values) < 2:
            continue
        if axis.path.startswith("data.") and "coupling" in axis.values[0]:
            if any(value["mixture"] for value in axis.values):
                parts.append(f"mixture={_text(point['mixture'] or ())}")
            continue
        (setting,) = axis.values[0]
        parts.append(f"{axis.path.split('.')[-1]}={_text(point[setting])}")
    return ", ".join(parts)


def _check_point(group: Group, point: dict[str, Any]) -> None:
    """The checks that need several settings at once."""
    where = f"groups[{group.index}]"
    total = point["samples"] * (len(point["mixture"]) if point["mixture"] else 1)
    n_train = total - int(round(point["validation_fraction"] * total))
    if point["variant"] not in UNTRAINED_VARIANTS and point["batch_size"] > n_train:
        raise IsingRGError(
            f"{where}.recipe.batch_size {point['batch_size']} is larger than the {n_train} "
            f"training samples ({total} samples less the validation fraction "
            f"{point['validation_fraction']:g})")
    if point["persistent_chains"] is not None and not point["persistent"]:
        raise IsingRGError(f"{where}.recipe.persistent_chains needs recipe.persistent = true")


def build_study_jobs(study: Study, root_seed: int | None = None,
                     max_jobs: int | None = MAX_JOBS) -> list[Job]:
    """Every job of a study: for each group, each grid point, each replicate.

    Parameters
    ----------
    study : a checked study (``read_study``, ``load_preset``)
    root_seed : overrides the study's ``seed`` if given
    max_jobs : refuse a study with more jobs (None: no limit)
    """
    if max_jobs is not None and study.n_jobs > max_jobs:
        largest = max(study.groups, key=lambda group: group.n_jobs)
        raise IsingRGError(
            f"{study.source}: the study has {study.n_jobs} jobs, more than --max-jobs "
            f"{max_jobs} (groups[{largest.index}] {largest.name!r} has {largest.n_jobs})")
    root_seed = study.seed if root_seed is None else check_integer(root_seed, "seed", 0)
    n_replicates = 1 + max(r for group in study.groups for r in group.replicates)
    seeds = replicate_seeds(root_seed, n_replicates)
    jobs = []
    for group in study.groups:
        labels: dict[str, dict] = {}
        for values in itertools.product(*(axis.values for axis in group.axes)):
            point: dict[str, Any] = {}
            for value in values:
                point.update(value)
            named = study_recipe(point["recipe"])
            for key in group.recipe_left:
                point[RECIPE[key].setting or key] = named[key]
            try:
                _check_point(group, point)
            except IsingRGError as error:
                raise IsingRGError(f"{study.source}: {error}") from None
            label = _label(group, point)
            where = f"{point['coupling']:.3f}|{label}"
            if where in labels and labels[where] != point:
                raise IsingRGError(
                    f"{study.source}: groups[{group.index}].data has two couplings that agree "
                    f"to 3 decimals ({labels[where]['coupling']}, {point['coupling']}); the "
                    "aggregate keys groups by K to 3 decimals")
            labels[where] = point
            for replicate in group.replicates:
                data_seed, train_seed = seeds[replicate]
                settings = dict(point, data_seed=data_seed, train_seed=train_seed)
                jobs.append(Job(group.name, replicate,
                                {key: settings[key] for key in SETTINGS}, label))
    return jobs

"""Studies written in TOML: their validation, and the expansion of a study into jobs.

A study is a root seed and a list of groups; each group is a grid over the data, the network,
the training recipe, the variant (control) and the analyses, times its replicates (seeds). A
list value is a grid axis (a list of lists for settings whose value is itself a list, such as
``hidden``). Every key, its default and its check is one entry of the schema's tables
(``ising_rg.experiments.schema``: ``DATA``, ``NETWORK``, ``RECIPE``, ``ANALYSIS``, re-exported
here); docs/experiments.md describes them for users. Everything is checked before any job runs:
an unknown key, a bad value or too many jobs raise ``IsingRGError`` with one line naming the
key, e.g. ``study.toml: groups[2].recipe.learning_rate must be a positive number, got -1``.

The built-in presets (``default``, ``tiny``) are TOML files shipped in ``presets/``.
"""

from __future__ import annotations

import difflib
import itertools
import math
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ising_rg import paper
from ising_rg.checks import check_integer
from ising_rg.errors import IsingRGError
from ising_rg.experiments import MAX_JOBS
from ising_rg.experiments.jobs import UNTRAINED_VARIANTS, Job
from ising_rg.experiments.presets import preset_text

# The schema's names are re-exported: callers read the tables from here too.
from ising_rg.experiments.schema import (  # noqa: F401
    ANALYSIS,
    DATA,
    GROUP_KEYS,
    NETWORK,
    RECIPE,
    SETTINGS,
    STUDY_KEYS,
    TABLES,
    VARIANT,
    Option,
    data_set_coupling,
)
from ising_rg.seeding import seed_sequence
from ising_rg.settings import Recipe

if sys.version_info >= (3, 11):
    import tomllib
else:  # the backport, a dependency on Python 3.10 only
    import tomli as tomllib


def study_recipe(name: str) -> dict[str, Any]:
    """Every setting of the named recipe (``ising_rg.settings.RECIPES``, the ones ``ising-rg
    train --recipe`` uses) but its name, under the study's keys (the same names)."""
    return {key: value for key, value in Recipe.named(name).to_dict().items() if key != "name"}


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
                              data_set_coupling(unit)))
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

"""The settings of each stage, typed and frozen: what to sample, how to train, what to measure.

* :class:`SampleOptions`: the Monte Carlo data set (``ising-rg sample``, a study's ``data``);
* :class:`Recipe`: the training recipe (``ising-rg train``, a study's ``recipe``);
  :data:`RECIPES` names the built-in ones, :meth:`Recipe.named` resolves a name and overrides;
* :class:`AnalysisOptions`: what ``ising-rg analyze`` and a study's ``analysis`` measure.

One vocabulary: a setting's name is the same as library argument, as command-line option
(``_`` written ``-``: ``learning_rate`` is ``--learning-rate``), as attribute of the model file
and as key of a study file; its default is defined here, once (the paper's numbers come from
:mod:`ising_rg.paper`), and its check too. Every field carries its check and a one-line help
(``dataclasses.fields(Recipe)[i].metadata``), which the study schema
(:mod:`ising_rg.experiments.schema`) and the documentation read. Constructing a settings object
checks every value and stores it in canonical form (a tuple for a list); a bad value raises
:class:`~ising_rg.errors.IsingRGError` naming the setting.

This module imports neither numpy-heavy packages nor numba, so the command line can build its
options from it before any kernel is compiled.

Example::

    from ising_rg import DBN, Recipe
    dbn = DBN((400, 100, 25), recipe="density")                  # a named recipe
    dbn = DBN((400, 100, 25), recipe=Recipe.named("density", epochs=50))
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Mapping
from typing import Any

from ising_rg import paper
from ising_rg.checks import check_choice, check_integer, check_number
from ising_rg.errors import IsingRGError

__all__ = [
    "ALGORITHMS",
    "EXTRAS",
    "RECIPES",
    "RECIPE_NAMES",
    "AnalysisOptions",
    "RSMIOptions",
    "Recipe",
    "SampleOptions",
    "VALIDATION_MIN_SAMPLES",
    "VALIDATION_SAMPLES",
    "setting_help",
]

Check = Callable[[Any, str], Any]

#: Monte Carlo algorithms of ``ising-rg sample``.
ALGORITHMS = ("wolff", "metropolis")
#: The extra measurements a study job can run beside the analysis, in their canonical order.
EXTRAS = ("couplings", "flow", "free_energy", "rsmi", "mcrg")
#: Wolff configurations per temperature of the sampler's validation scan (``ising-rg validate
#: --samples``), enough for C/N to 3 % at L = 40.
VALIDATION_SAMPLES = 2000
#: The fewest it takes: one configuration per block of the error estimates (32 blocks), below
#: which an error bar means nothing.
VALIDATION_MIN_SAMPLES = 32
#: The names of the built-in recipes (:data:`RECIPES`).
RECIPE_NAMES = ("paper", "density")


# -- checks: each returns the canonical value or raises IsingRGError naming the setting -------
def _integer(minimum: int, maximum: int | None = None) -> Check:
    return lambda value, name: check_integer(value, name, minimum, maximum)


def _number(**bounds: float) -> Check:
    return lambda value, name: check_number(value, name, **bounds)


def _choice(*choices: str) -> Check:
    return lambda value, name: check_choice(value, name, choices)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool) and type(value).__name__ != "bool_":
        raise IsingRGError(f"{name} must be true or false, got {value!r}")
    return bool(value)


def _even_size(value: Any, name: str) -> int:
    if check_integer(value, name, 4) % 2:  # the checkerboard sampler needs even rows
        raise IsingRGError(f"{name} must be an even integer >= 4, got {value!r}")
    return int(value)


def _sweeps(minimum: int) -> Check:
    def check(value: Any, name: str) -> int | str:
        if value == "auto":
            return value
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
            raise IsingRGError(f"{name} must be 'auto' or an integer >= {minimum}, got {value!r}")
        return int(value)
    return check


def _momentum(value: Any, name: str) -> tuple[float, float, int]:
    try:
        initial, final, n_initial = value
    except (TypeError, ValueError):
        raise IsingRGError(f"{name} must be (initial, final, epochs at initial), got "
                           f"{value!r}") from None
    initial, final = (check_number(m, name, minimum=0, below=1) for m in (initial, final))
    return initial, final, check_integer(n_initial, f"{name} (epochs at initial)", 0)


def _optional_count(value: Any, name: str) -> int | None:
    return None if value is None else check_integer(value, name, 1)


def _extras(value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise IsingRGError(f"{name} must be a list of extras, got {value!r}")
    chosen = {check_choice(extra, name, EXTRAS) for extra in value}
    if len(chosen) < len(value):
        raise IsingRGError(f"{name} names an extra twice: {list(value)!r}")
    return tuple(extra for extra in EXTRAS if extra in chosen)  # one canonical order


def _setting(default: Any, check: Check, help: str) -> Any:
    """A dataclass field with its check and one-line help in the metadata."""
    return dataclasses.field(default=default, metadata={"check": check, "help": help})


class _Checked:
    """Frozen-dataclass mixin: every field checked (and made canonical) on construction."""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = field.metadata["check"](getattr(self, field.name), field.name)
            object.__setattr__(self, field.name, value)
        self._check_together()

    def _check_together(self) -> None:
        """Checks that involve several fields (none by default)."""

    def replace(self, **changes: Any):
        """A copy with some settings changed (checked); unknown names raise IsingRGError."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise IsingRGError(f"unknown {type(self).__name__} setting(s): {', '.join(unknown)};"
                               f" known: {', '.join(self.names())}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Every setting by name (tuples stay tuples; ``ising_rg.io.jsonfile.to_json`` makes
        lists of them)."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The settings' names, in their order."""
        return tuple(field.name for field in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]):
        """Settings from a mapping (a file's attribute, a study's table); unknown keys raise
        IsingRGError, missing ones take their defaults."""
        unknown = sorted(set(values) - set(cls.names()))
        if unknown:
            raise IsingRGError(f"unknown {cls.__name__} setting(s): {', '.join(unknown)}; "
                               f"known: {', '.join(cls.names())}")
        return cls(**values)


def setting_help(settings_class: type, name: str) -> str:
    """The one-line help of a setting (for the command line and the documentation)."""
    return next(f.metadata["help"] for f in dataclasses.fields(settings_class) if f.name == name)


@dataclasses.dataclass(frozen=True)
class SampleOptions(_Checked):
    """What to sample: the L x L torus at coupling K (default: the paper's data set).

    Attributes
    ----------
    size : int, L (even, >= 4)
    coupling : float, K = J / k_B T > 0
    samples : int, configurations to store
    algorithm : {"wolff", "metropolis"}
    seed : int, root seed; the same seed gives bit-identical output on any number of threads
    thermalization, spacing : int or "auto"
        Sweeps (sweep equivalents for Wolff). ``"auto"`` thermalizes for max(1000, 20 tau)
        sweeps and spaces samples by ceil(2 tau) steps, tau the larger integrated
        autocorrelation time of E and |m| from the pilot run.
    chains : int
        Independent chains run in parallel, each from the pilot's equilibrated state and
        thermalized again with its own random stream. Fixed, not the thread count, so results
        do not depend on the machine.
    """

    size: int = _setting(paper.SIZE, _even_size, "lattice size L (even, >= 4)")
    coupling: float = _setting(paper.COUPLING, _number(above=0), "K = J / k_B T > 0")
    samples: int = _setting(paper.N_SAMPLES, _integer(1), "configurations to store")
    algorithm: str = _setting("wolff", _choice(*ALGORITHMS),
                              "single-cluster Wolff or checkerboard Metropolis")
    seed: int = _setting(0, _integer(0, 2**63 - 1), "root seed")
    thermalization: int | str = _setting(
        "auto", _sweeps(0), "sweeps (sweep equivalents for Wolff), or auto (20 tau_int, >= 1000)")
    spacing: int | str = _setting(
        "auto", _sweeps(1), "sweeps between stored samples, or auto (2 tau_int of the slower "
                            "of E, |m|)")
    chains: int = _setting(8, _integer(1), "independent Monte Carlo chains run in parallel")

    @classmethod
    def unchecked(cls, *args: Any, **kwargs: Any) -> SampleOptions:
        """Options without the checks, for the sampler's oracle tests on lattices the
        command refuses (L = 2 or 3, where the kernels still work and enumeration is exact)."""
        options = object.__new__(cls)
        values = {f.name: f.default for f in dataclasses.fields(cls)}
        values.update(zip(cls.names(), args, strict=False))
        values.update(kwargs)
        for name, value in values.items():
            object.__setattr__(options, name, value)
        return options


@dataclasses.dataclass(frozen=True)
class Recipe(_Checked):
    """How to train a DBN: every training setting but the layer sizes and the seed.

    The defaults are Mehta & Schwab's recipe (:mod:`ising_rg.paper`): Hinton & Salakhutdinov's
    ``rbm.m`` (CD-1, learning rate 0.1, momentum 0.5 then 0.9, batch 100, W ~ 0.1 N(0, 1), 200
    epochs) with an L1 penalty 2e-4 in place of its L2 weight cost. :data:`RECIPES` names the
    built-in recipes; ``BernoulliRBM`` takes the fields of :attr:`LAYER_SETTINGS` as its
    hyper-parameters, ``DBN`` takes a whole recipe. docs/recipes.md gives the reasons.

    Attributes
    ----------
    name : str, the recipe's name (``paper``, ``density``; recorded in the model file)
    epochs : int, passes over the training data per layer
    learning_rate : float, step size of the weights and both biases
    learning_rate_decay : {'none', 'linear'}, 'linear': epoch e uses lr (1 - e / epochs)
    momentum : (initial, final, epochs at initial)
    batch_size : int, minibatch size
    cd_k : int, Gibbs steps of contrastive divergence
    persistent : bool, persistent contrastive divergence (PCD)
    persistent_chains : int or None, PCD's chains (None: the batch size); PCD only
    negative_visible : {'probabilities', 'samples'}, what CD's negative phase keeps
    l1, l2 : float, weight penalties
    init : {'paper', 'guide'}, weight initialisation (0.1 N(0, 1); Hinton's practical guide)
    propagate : {'probabilities', 'samples'}, what each layer passes up as the next one's data
    validation_fraction : float in [0, 1), share of the rows held out to monitor overfitting
    """

    name: str = _setting("paper", _choice(*RECIPE_NAMES),
                         "named recipe whose values the other settings override")
    epochs: int = _setting(paper.N_EPOCHS, _integer(1), "epochs per layer")
    learning_rate: float = _setting(paper.LEARNING_RATE, _number(above=0),
                                    "learning rate of the weights and both biases")
    learning_rate_decay: str = _setting(
        paper.LEARNING_RATE_DECAY, _choice("none", "linear"),
        "'none': constant; 'linear': lr (1 - epoch/epochs), down to 0")
    momentum: tuple[float, float, int] = _setting(
        paper.MOMENTUM_SCHEDULE, _momentum, "initial, final, epochs at initial momentum")
    batch_size: int = _setting(paper.BATCH_SIZE, _integer(1),
                               "minibatch size (at most the training rows)")
    cd_k: int = _setting(paper.CD_K, _integer(1), "Gibbs steps of contrastive divergence (CD-k)")
    persistent: bool = _setting(False, _flag, "persistent contrastive divergence (PCD)")
    persistent_chains: int | None = _setting(
        None, _optional_count, "persistent chains of PCD (default: the batch size)")
    negative_visible: str = _setting(
        paper.NEGATIVE_VISIBLE, _choice("probabilities", "samples"),
        "what CD's negative phase keeps: P(v | h) or a binary sample")
    l1: float = _setting(paper.L1, _number(minimum=0), "L1 weight penalty")
    l2: float = _setting(paper.L2, _number(minimum=0), "L2 weight penalty")
    init: str = _setting(paper.INIT, _choice("paper", "guide"),
                         "'paper': W = 0.1 N(0,1), zero biases; 'guide' (Hinton's practical "
                         "guide): W = 0.01 N(0,1), visible biases = logit of the data means")
    propagate: str = _setting(paper.PROPAGATE, _choice("probabilities", "samples"),
                              "what each layer passes up as the next layer's data")
    validation_fraction: float = _setting(
        # not the paper's (it holds nothing out): a tenth measures overfitting to 1e-3 nats
        0.1, _number(minimum=0, below=1), "share of the samples held out to monitor overfitting")

    #: The settings every layer's ``BernoulliRBM`` takes (its hyper-parameters but the layer
    #: size, ``n_monitor`` and the seed).
    LAYER_SETTINGS = ("epochs", "learning_rate", "learning_rate_decay", "momentum",
                      "batch_size", "cd_k", "persistent", "persistent_chains",
                      "negative_visible", "l1", "l2", "init")

    def _check_together(self) -> None:
        if self.persistent_chains is not None and not self.persistent:
            raise IsingRGError("persistent_chains needs persistent (plain CD keeps no chains)")

    @classmethod
    def named(cls, name: str = "paper", **overrides: Any) -> Recipe:
        """The built-in recipe ``name`` with ``overrides`` replacing its values.

        ``None`` means "not given" (the recipe's value stays), except for
        ``persistent_chains``, whose None is a value (the batch size) and every recipe's own.
        """
        if not isinstance(name, str) or name not in RECIPES:
            raise IsingRGError(f"unknown recipe {name!r}; known: {', '.join(RECIPES)}")
        given = {key: value for key, value in overrides.items() if value is not None}
        return RECIPES[name].replace(**given)

    def layer_settings(self) -> dict[str, Any]:
        """The ``BernoulliRBM`` keywords of every layer (:attr:`LAYER_SETTINGS`)."""
        return {name: getattr(self, name) for name in self.LAYER_SETTINGS}


#: The built-in recipes by name (docs/recipes.md).
RECIPES: dict[str, Recipe] = {}
RECIPES["paper"] = Recipe()
RECIPES["density"] = Recipe(
    name="density",
    # a binary negative visible state: CD-k without the mean-field bias of P(h | P(v | h))
    negative_visible="samples",
    # lr 0.1 under momentum 0.9 leaves about half of 400 hidden units dead at L = 40
    learning_rate=0.03,
    # the step shrinks to 0, so the parameters settle instead of jittering at the noise level
    # of the minibatch gradient
    learning_rate_decay="linear",
    # L1 >= 1e-3 cuts the overfitting of 18,000 configurations at L = 40
    l1=2e-3,
)


@dataclasses.dataclass(frozen=True)
class AnalysisOptions(_Checked):
    """What the analysis of a trained network measures, and with what budgets.

    Attributes
    ----------
    seed : int, root of every random stream of the analysis
    generative_samples : int, data configurations reconstructed through each depth
    gibbs_steps : int, sweep budget of the parallel tempering that samples what the DBN
        generates (it stops once converged)
    likelihood : bool, log-likelihoods where log Z cannot be enumerated (minutes at L = 40)
    extras : tuple of :data:`EXTRAS`, extra measurements of a study job
    analysis_samples : int or None, evenly spaced data samples of the receptive-field and
        correlation metrics (None: all)
    chance_draws : int, random blocks per unit for the block-spin chance level
    """

    seed: int = _setting(0, _integer(0, 2**63 - 1), "root of every random stream of the analysis")
    generative_samples: int = _setting(
        2000, _integer(2), "data configurations reconstructed through each depth")
    gibbs_steps: int = _setting(
        2000, _integer(8), "sweep budget of the parallel tempering that samples the DBN's "
                           "equilibrium (it stops once converged)")
    likelihood: bool = _setting(
        True, _flag, "log-likelihoods by AIS where log Z cannot be enumerated (minutes at "
                     "L = 40)")
    extras: tuple[str, ...] = _setting((), _extras,
                                       f"extra measurements, any of {', '.join(EXTRAS)}")
    analysis_samples: int | None = _setting(
        5000, lambda value, name: None if value is None else check_integer(value, name, 2),
        "evenly spaced data samples of the field and correlation metrics")
    chance_draws: int = _setting(8, _integer(1), "random blocks per unit for a chance level")


@dataclasses.dataclass(frozen=True)
class RSMIOptions(_Checked):
    """How to train an RSMI filter (``ising_rg.rg.rsmi.RSMIFilter``, ``ising-rg rsmi``).

    Attributes
    ----------
    block_size : int, b of the block whose coarse variable is trained
    buffer, environment : int or None, widths L_B and L_E (None: b)
    compression : float, weight of I(H;V) subtracted from the bound on I(H;E)
    epochs, batch_size : int, passes over the data and configurations per Adam step
    learning_rate : float, Adam's initial step (decays linearly to 0)
    init_scale : float, standard deviation of the filter's random start
    validation_fraction : float in (0, 1), configurations held out to report the bound
    """

    block_size: int = _setting(2, _integer(1), "block side b of the coarse variable")
    buffer: int | None = _setting(
        None, lambda value, name: None if value is None else check_integer(value, name, 0),
        "width L_B of the buffer between block and environment (default: b)")
    environment: int | None = _setting(
        None, lambda value, name: None if value is None else check_integer(value, name, 1),
        "width L_E of the environment ring beyond the buffer (default: b)")
    # 0.1 is above the 0.07 at which majority rule overtakes a three-spin majority in the
    # exact 4 x 4 bound (docs/rsmi.md): with the bound alone the filter breaks block ties
    compression: float = _setting(0.1, _number(minimum=0),
                                  "weight of I(H;V) subtracted from the bound on I(H;E)")
    epochs: int = _setting(15, _integer(1), "passes over the training configurations")
    batch_size: int = _setting(32, _integer(1), "configurations per Adam step")
    learning_rate: float = _setting(0.02, _number(above=0), "Adam's initial step size")
    init_scale: float = _setting(0.1, _number(above=0), "spread of the filter's random start")
    validation_fraction: float = _setting(0.2, _number(above=0, below=1),
                                          "share of the configurations held out")

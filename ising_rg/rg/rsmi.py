"""Real-space mutual information (RSMI) coarse-graining: a block filter trained for RG.

Koch-Janusz & Ringel (Nature Physics 14, 578 (2018)) train a coarse-graining rule to keep what a
block V says about its distant environment E: the coarse variable H of each b x b block is
drawn from

    P(H = +1 | V) = sigmoid(Lambda . s_V),        s_V the block's spins (+-1),

one filter Lambda shared by every block (translation invariance), chosen to maximize I(H; E).
:class:`RSMIFilter` estimates I(H; E) by the Barber-Agakov lower bound with a logistic-regression
decoder q(H | E) (:mod:`ising_rg.rg.rsmi_bound`), which is exactly differentiable in Lambda, and
climbs it by Adam on seeded minibatches; the geometry (block, buffer, environment) is
:mod:`ising_rg.rg.rsmi_geometry`.

Choices, and why
----------------
* **No bias.** The Ising model without a field is symmetric under s -> -s; with no bias the
  rule is odd, P(H = +1 | -V) = P(H = -1 | V), like a block spin, so the coarse model keeps the
  symmetry. A bias could only move P(H = +1) away from 1/2 and lower H(H), the bound's ceiling.
* **A compression term.** Maximized alone, the bound is largest for a deterministic rule
  (infinite Lambda), and there it prefers a rule *without ties*: on the paper's data
  (L = 40, K = 0.408, b = 2) training the bound alone drives the filter toward a three-spin
  majority (weights about (6.0, 1.9, 6.7, 6.0) after 15 epochs, still growing), which keeps
  more information about E than majority rule, whose ties are decided by a coin (the exact
  4 x 4 torus shows the same ordering; see ``docs/rsmi.md``). A coin decision carries no
  information about E but also none about V; the information bottleneck (Tishby, Pereira &
  Bialek 1999) prices exactly that: the filter maximizes

      bound(H; E) - compression * I(H; V),     I(H; V) = H(H) - E_V[H_b(P(H = +1 | V))],

  exact and differentiable (d H_b(sigmoid(a)) / da = -a p (1 - p)). With ``compression = 0.1``
  (a bit about V is worth a tenth of a bit about E) the trained 2 x 2 filter is the uniform
  block, of finite size, at K = 0.408 and at K_c; ``compression = 0`` is the bound alone.
  The reported ``mutual_information_`` is always the bound alone, on held-out configurations.

Iterated coarse-graining (:meth:`RSMIFilter.coarse_grain`) applies the *same* filter at every
level, H sampled from sigmoid(Lambda . s_V): the filter is trained once, on the microscopic
configurations. (Koch-Janusz & Ringel retrain at each level; near the fixed point the two
agree, and a filter trained on coarse configurations can be passed as another coarse-grainer.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ising_rg.checks import check_integer, check_number
from ising_rg.errors import IsingRGError, NotFittedError
from ising_rg.rg.rsmi_bound import (
    CoarseRule,
    Decoder,
    TrainingOptions,
    estimate_bound,
    maximize_bound,
)
from ising_rg.rg.rsmi_geometry import RSMIGeometry, rsmi_geometry
from ising_rg.seeding import as_generator, bernoulli, seed_sequence, seed_stream
from ising_rg.settings import RSMIOptions
from ising_rg.spins import as_spin_batch

__all__ = ["RSMIFilter", "check_spins", "coarse_blocks", "coarse_spins", "split_configurations"]


def check_spins(spins: Any, name: str = "spins") -> np.ndarray:
    """Spins as int8 (n, L, L) with values +-1 (IsingRGError otherwise; a single (L, L) is
    refused: RSMI needs many configurations)."""
    s = np.asarray(spins)
    if s.ndim != 3:
        raise IsingRGError(f"{name} must be shaped (n, L, L), got {s.shape}")
    return as_spin_batch(s)[0]


def split_configurations(n: int, validation_fraction: float, seed: int
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of configurations 0..n-1 into (train, held out), both sorted.

    Raises IsingRGError unless both parts get at least one configuration.
    """
    order = as_generator(seed_stream(seed, 0)).permutation(n)
    n_held = int(round(validation_fraction * n))
    if n_held < 1 or n_held >= n:
        raise IsingRGError(f"cannot hold out {validation_fraction:g} of {n} configurations "
                           "(both parts need at least one)")
    return np.sort(order[n_held:]), np.sort(order[:n_held])


def coarse_spins(spins: np.ndarray, rule: CoarseRule, rng: Any) -> np.ndarray:
    """Coarse spins H of the aligned blocks, drawn from P(H = +1 | V) of ``rule``.

    Parameters
    ----------
    spins : int8 (n, L, L), +-1, L divisible by the rule's block size b
    rule : CoarseRule
    rng : Generator, int or SeedSequence
        One uniform (float64) per block, drawn in the output's row-major order.

    Returns
    -------
    int8 array (n, L/b, L/b), values +-1.
    """
    s = check_spins(spins)
    n, size, _ = s.shape
    b = rule.block_size
    if size % b:
        raise IsingRGError(f"lattice size {size} is not divisible by block size {b}")
    p_plus = rule.probabilities(coarse_blocks(s, b))
    return (2 * bernoulli(p_plus, as_generator(rng), dtype=np.int8) - 1).astype(np.int8)



def _follow_the_block(weights: np.ndarray, decoder: Decoder) -> tuple[np.ndarray, Decoder]:
    """The filter signed so that H follows its block's magnetization (sum of Lambda >= 0).

    The bound is the same for H and -H (the decoder flips with it), so training ends with
    either sign; fixing it makes the coarse spins a block spin, whose odd operators keep their
    sign from level to level (an alternating sign would make the RG's odd eigenvalue
    negative)."""
    if np.sum(weights) >= 0:
        return weights, decoder
    return -np.asarray(weights), Decoder(-np.asarray(decoder.weights), -float(decoder.bias))

#: The defaults of every setting (``ising_rg.settings.RSMIOptions``).
_DEFAULT = RSMIOptions()

class RSMIFilter:
    """A b x b RSMI filter, trained on Ising configurations (module docstring).

    Parameters
    ----------
    block_size : int
        b; the lattice size L must be divisible by b and at least 2 b.
    buffer, environment : int or None
        L_B and L_E (:mod:`ising_rg.rg.rsmi_geometry`); None means b.
    compression : float >= 0
        Weight of I(H; V) subtracted from the bound (module docstring).
    epochs, batch_size : int
        Passes over the training configurations, and configurations per Adam step.
    learning_rate : float
        Adam's step size at the start; it decays linearly to 0 over the run.
    init_scale : float
        Standard deviation of the filter's random start (the decoder starts at 0).
    validation_fraction : float in (0, 1)
        Share of the configurations held out to report the bound.
    random_state : int
        Seeds the split (stream 0), the filter's start (stream 1) and the epochs' order of
        the configurations (stream 2).

    Attributes
    ----------
    filter_ : float64 (b, b), Lambda in spin units
    decoder_weights_ : float64 (n_env,), decoder_bias_ : float
    environment_offsets_ : int64 (n_env, 2), (row, col) of each decoder weight's site from the
        block's top-left corner
    lattice_size_ : int, L of the training data
    mutual_information_, mutual_information_error_ : float, bits
        The bound on the held-out configurations, and its blocked-jackknife error.
    entropy_ : float, H(H) in bits on the held-out configurations (the bound's ceiling)
    block_information_ : float, I(H; V) in bits on the held-out configurations
    history_ : dict of arrays: ``train_bits`` and ``validation_bits`` (epochs,),
        ``filters`` (epochs, b*b)
    train_indices_, validation_indices_ : int64 arrays, the split
    """

    name: str = "rsmi"

    def __init__(self, block_size: int = _DEFAULT.block_size,
                 buffer: int | None = _DEFAULT.buffer,
                 environment: int | None = _DEFAULT.environment,
                 compression: float = _DEFAULT.compression, epochs: int = _DEFAULT.epochs,
                 batch_size: int = _DEFAULT.batch_size,
                 learning_rate: float = _DEFAULT.learning_rate,
                 init_scale: float = _DEFAULT.init_scale,
                 validation_fraction: float = _DEFAULT.validation_fraction,
                 random_state: int = 0):
        self.block_size = block_size
        self.buffer = buffer
        self.environment = environment
        self.compression = compression
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.init_scale = init_scale
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    _PARAMS = ("block_size", "buffer", "environment", "compression", "epochs", "batch_size",
               "learning_rate", "init_scale", "validation_fraction", "random_state")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's arguments."""
        return {name: getattr(self, name) for name in self._PARAMS}

    def set_params(self, **params: Any) -> RSMIFilter:
        for name, value in params.items():
            if name not in self._PARAMS:
                raise IsingRGError(f"RSMIFilter has no parameter {name!r}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        return (f"RSMIFilter(block_size={self.block_size!r}, buffer={self.buffer!r}, "
                f"environment={self.environment!r}, compression={self.compression!r})")

    # ------------------------------------------------------------------ parameters
    def _geometry_widths(self) -> tuple[int, int, int]:
        b = check_integer(self.block_size, "block_size", 1)
        buffer = b if self.buffer is None else check_integer(self.buffer, "buffer", 0)
        environment = (b if self.environment is None
                       else check_integer(self.environment, "environment", 1))
        return b, buffer, environment

    def _training_options(self) -> TrainingOptions:
        return TrainingOptions(
            epochs=check_integer(self.epochs, "epochs", 1),
            batch_size=check_integer(self.batch_size, "batch_size", 1),
            learning_rate=check_number(self.learning_rate, "learning_rate", above=0),
            compression=check_number(self.compression, "compression", minimum=0),
            train_filter=True)

    def geometry(self, size: int) -> RSMIGeometry:
        """The block/buffer/environment geometry on the L x L torus (IsingRGError if the
        block or the buffer does not fit)."""
        b, buffer, environment = self._geometry_widths()
        return rsmi_geometry(size, b, buffer, environment)

    # ------------------------------------------------------------------ fitting
    def fit(self, spins: np.ndarray, y: Any = None) -> RSMIFilter:
        """Train the filter and its decoder on configurations (n, L, L) of +-1 spins."""
        s = check_spins(spins)
        n, size, _ = s.shape
        geometry = self.geometry(size)
        options = self._training_options()
        seed = int(seed_sequence(self.random_state).entropy)
        check_number(self.validation_fraction, "validation_fraction", above=0, below=1)
        init_scale = check_number(self.init_scale, "init_scale", above=0)
        train, held_out = split_configurations(n, self.validation_fraction, seed)
        flat = np.ascontiguousarray(s.reshape(n, -1))
        b = geometry.block_size
        start = as_generator(seed_stream(seed, 1)).normal(0.0, init_scale, (b, b))
        validation_bits: list[float] = []

        def record(epoch: int, rule: CoarseRule, decoder: Decoder) -> None:
            validation_bits.append(estimate_bound(flat, held_out, geometry, rule, decoder).bits)

        rule, decoder, history = maximize_bound(
            flat, train, geometry, CoarseRule.filter(start), options,
            as_generator(seed_stream(seed, 2)), record)
        history["validation_bits"] = np.array(validation_bits)
        weights, decoder = _follow_the_block(rule.weights, decoder)
        self._set_fitted(weights, decoder, geometry, history)
        self.train_indices_, self.validation_indices_ = train, held_out
        self._evaluate(flat, held_out, geometry)
        return self

    def _set_fitted(self, weights: np.ndarray, decoder: Decoder, geometry: RSMIGeometry,
                    history: dict[str, np.ndarray]) -> None:
        self.filter_ = np.array(weights, dtype=np.float64)
        self.decoder_weights_ = np.array(decoder.weights, dtype=np.float64)
        self.decoder_bias_ = float(decoder.bias)
        self.environment_offsets_ = geometry.environment_offsets.copy()
        self.lattice_size_ = geometry.size
        self.history_ = history

    def _evaluate(self, flat: np.ndarray, held_out: np.ndarray, geometry: RSMIGeometry) -> None:
        estimate = estimate_bound(flat, held_out, geometry, self.rule_, self.decoder_)
        self.mutual_information_ = estimate.bits
        self.mutual_information_error_ = estimate.error
        self.entropy_ = estimate.entropy_bits
        self.block_information_ = estimate.block_information_bits

    # ------------------------------------------------------------------ fitted use
    def _check_fitted(self) -> None:
        if not hasattr(self, "filter_"):
            raise NotFittedError("this RSMIFilter is not fitted yet; call fit first")

    @property
    def rule_(self) -> CoarseRule:
        """The fitted P(H = +1 | V) as a :class:`~ising_rg.rg.rsmi_bound.CoarseRule`."""
        self._check_fitted()
        return CoarseRule.filter(self.filter_)

    @property
    def decoder_(self) -> Decoder:
        self._check_fitted()
        return Decoder(self.decoder_weights_, self.decoder_bias_)

    def transform(self, spins: np.ndarray, rng: Any = 0) -> np.ndarray:
        """Coarse spins (n, L/b, L/b) int8 +-1, H drawn from sigmoid(Lambda . s_V) per block
        (seeded by ``rng``: a Generator, int or SeedSequence)."""
        self._check_fitted()
        return coarse_spins(spins, self.rule_, rng)

    def coarse_grain(self, spins: np.ndarray, level: int, rng: np.random.Generator
                     ) -> np.ndarray:
        """One RG step of iterated RSMI: the same filter at every level (module docstring).

        Parameters
        ----------
        spins : int8 (n, L, L), +-1, the configurations at level ``level`` (0: microscopic)
        level : int >= 0 (accepted for the coarse-grainer interface; the map is the same)
        rng : Generator

        Returns
        -------
        int8 (n, L/b, L/b), +-1
        """
        check_integer(level, "level", 0)
        return self.transform(spins, rng)

    @classmethod
    def from_parameters(cls, filter_weights: np.ndarray, decoder_weights: np.ndarray,
                        decoder_bias: float, lattice_size: int,
                        history: dict[str, np.ndarray] | None = None,
                        **params: Any) -> RSMIFilter:
        """A fitted RSMIFilter from stored parameters (what :mod:`ising_rg.io.filters` reads).

        ``params`` are constructor arguments; the filter must be (b, b) with b =
        ``block_size`` and the decoder must have one weight per environment site of the
        geometry on the ``lattice_size`` torus (IsingRGError otherwise).
        """
        model = cls(**params)
        geometry = model.geometry(check_integer(lattice_size, "lattice_size", 2))
        rule = CoarseRule.filter(filter_weights)
        if rule.weights.shape != (geometry.block_size,) * 2:
            raise IsingRGError(f"filter has shape {rule.weights.shape}, expected "
                               f"({geometry.block_size}, {geometry.block_size})")
        weights = np.asarray(decoder_weights, dtype=np.float64)
        if weights.shape != (geometry.n_environment,):
            raise IsingRGError(f"decoder has {weights.size} weights, expected "
                               f"{geometry.n_environment} (one per environment site)")
        model._set_fitted(rule.weights, Decoder(weights, float(decoder_bias)), geometry,
                          dict(history or {}))
        return model


def coarse_blocks(spins: np.ndarray, block_size: int) -> np.ndarray:
    """Block spins of the aligned blocks, (n, L/b, L/b, b*b), row-major within a block."""
    n, size, _ = spins.shape
    m = size // block_size
    return spins.reshape(n, m, block_size, m, block_size).transpose(0, 1, 3, 2, 4).reshape(
        n, m, m, block_size * block_size)


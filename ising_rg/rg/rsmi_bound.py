"""The Barber-Agakov bound on I(H; E) for a block coarse variable, and its maximization.

A block's coarse variable H in {-1, +1} is drawn from ``p = P(H = +1 | V)``, a function of the
block's spins s_V (:class:`CoarseRule`). For *any* decoder q(h | E) (Barber & Agakov 2003)::

    I(H; E) = H(H) - H(H | E) >= H(H) + E_{V,E} [ sum_h p(h | V) ln q(h | E) ],

with equality iff q(h | E) = p(h | E). The decoder here is logistic regression on the
environment spins, q(+1 | E) = sigmoid(u), u = w . s_E + c, so the bracket is
``p u - softplus(u)`` per block and the bound is exactly differentiable in the rule's weights
Lambda and in (w, c), with no relaxation of the binary H. Every block of every configuration is
one sample of (V, E) (translation invariance: one rule and one decoder for all blocks).

Over N block samples, with pbar the mean of p and x = p u - softplus(u)::

    bound = H_b(pbar) + mean(x)                                          (nats)
    d bound / d w  = mean((p - q) s_E),     d bound / d c = mean(p - q)
    d bound / d Lambda = mean((u + ln((1 - pbar) / pbar)) p (1 - p) s_V)

The bound never exceeds H_b(pbar) <= ln 2 (the bracket is <= 0). The maximization is Adam
(Kingma & Ba 2015) on seeded minibatches of configurations; the same seed gives the same
result bit for bit, on any number of threads (:mod:`ising_rg.rg._rsmi_kernels`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ising_rg.errors import IsingRGError
from ising_rg.rg._rsmi_kernels import N_SCALARS, block_sums, block_sums_serial
from ising_rg.rg.rsmi_geometry import RSMIGeometry
from ising_rg.sampling.observables import jackknife

__all__ = ["BoundEstimate", "CoarseRule", "Decoder", "Objective", "TrainingOptions",
           "binary_entropy", "bits", "bound_difference", "estimate_bound", "maximize_bound",
           "objective"]

LN2 = math.log(2.0)


def bits(nats: float | np.ndarray) -> float | np.ndarray:
    """Nats to bits."""
    return nats / LN2


def binary_entropy(p: float | np.ndarray) -> float | np.ndarray:
    """H_b(p) = -p ln p - (1 - p) ln(1 - p) in nats, elementwise (0 at p = 0 and 1)."""
    q = np.asarray(p, dtype=np.float64)
    out = np.zeros_like(q)
    for x in (q, 1.0 - q):
        inside = x > 0
        out[inside] -= x[inside] * np.log(x[inside])
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class CoarseRule:
    """P(H = +1 | V) of a block: sigmoid(Lambda . s_V + bias), or its deterministic limit.

    Attributes
    ----------
    weights : float64 (b, b)
        Lambda, in spin units (s = +-1), row-major over the block.
    bias : float
        Added to Lambda . s_V. RSMI's trained filters have none (see :mod:`ising_rg.rg.rsmi`).
    hard : bool
        The limit of an infinitely large filter: p = 1, 1/2, 0 for Lambda . s_V + bias > 0, = 0,
        < 0 (majority rule is the hard uniform filter with ties decided by a fair coin;
        decimation the hard filter with one non-zero weight).
    """

    weights: np.ndarray
    bias: float = 0.0
    hard: bool = False

    @property
    def block_size(self) -> int:
        return int(self.weights.shape[0])

    @classmethod
    def filter(cls, weights, bias: float = 0.0, hard: bool = False) -> CoarseRule:
        """A rule from a square filter (b, b) (IsingRGError if not square and finite)."""
        w = np.array(weights, dtype=np.float64)
        if w.ndim != 2 or w.shape[0] != w.shape[1] or w.size == 0:
            raise IsingRGError(f"a block filter must be a square (b, b) array, got shape "
                               f"{w.shape}")
        if not (np.isfinite(w).all() and math.isfinite(bias)):
            raise IsingRGError("a block filter must hold finite numbers")
        w.flags.writeable = False
        return cls(w, float(bias), bool(hard))

    @classmethod
    def majority(cls, block_size: int) -> CoarseRule:
        """Majority rule: sign of the block sum, a fair coin at a tie."""
        return cls.filter(np.ones((block_size, block_size)), hard=True)

    @classmethod
    def decimation(cls, block_size: int) -> CoarseRule:
        """Decimation: the block's top-left spin."""
        w = np.zeros((block_size, block_size))
        w[0, 0] = 1.0
        return cls.filter(w, hard=True)

    def probabilities(self, block_spins: np.ndarray) -> np.ndarray:
        """P(H = +1 | V) per block.

        Parameters
        ----------
        block_spins : array (..., b*b), values +-1, row-major over the block

        Returns
        -------
        float64 array, shape (...)
        """
        flat = self.weights.ravel()
        a = np.full(block_spins.shape[:-1], self.bias)
        for k in range(flat.size):  # a fixed summation order: the same bits on any machine
            a = a + flat[k] * block_spins[..., k]
        if self.hard:
            return np.where(a > 0, 1.0, np.where(a < 0, 0.0, 0.5))
        return 0.5 * (1.0 + np.tanh(0.5 * a))


@dataclass
class Decoder:
    """Logistic-regression decoder q(H = +1 | E) = sigmoid(weights . s_E + bias)."""

    weights: np.ndarray
    bias: float = 0.0

    @classmethod
    def zeros(cls, n_environment: int) -> Decoder:
        return cls(np.zeros(n_environment), 0.0)


@dataclass(frozen=True)
class BoundEstimate:
    """The bound on a set of configurations, in bits, with its blocked-jackknife error."""

    bits: float
    error: float
    entropy_bits: float  # H(H) alone, the bound's ceiling
    block_information_bits: float  # I(H; V) = H(H) - mean H_b(P(H = +1 | V))
    n_configurations: int
    n_blocks: int
    #: float64 (m, 2): per configuration, the means over its blocks of p and of
    #: p u - softplus(u), in the order of ``configs`` (for paired comparisons)
    terms: np.ndarray = field(repr=False, default_factory=lambda: np.empty((0, 2)))


def _bound_nats(series: tuple[np.ndarray, ...]) -> float:
    """The bound from per-configuration means (p, cross term), configurations weighted equally
    (every configuration has the same number of blocks)."""
    p_mean, cross = series
    return binary_entropy(float(p_mean.mean())) + float(cross.mean())


def bound_difference(terms: np.ndarray, reference: np.ndarray, n_groups: int = 32
                     ) -> tuple[float, float]:
    """bound(terms) - bound(reference) in bits and its paired blocked-jackknife error, for two
    rules evaluated on the same configurations (``BoundEstimate.terms`` of each)."""
    if terms.shape != reference.shape:
        raise IsingRGError("a paired difference needs both rules on the same configurations")

    def difference(series):
        return _bound_nats(series[:2]) - _bound_nats(series[2:])

    nats, error = jackknife(difference, (terms[:, 0], terms[:, 1], reference[:, 0],
                                         reference[:, 1]), n_groups)
    return float(bits(nats)), float(bits(error))


#: Multiply-adds above which a batch is spread over threads (waking them costs ~0.1-1 ms).
_PARALLEL_WORK = 1_000_000


def _padded_layout(geometry: RSMIGeometry) -> tuple[int, int, np.ndarray, np.ndarray,
                                                     np.ndarray]:
    """(pad, width, block corners, block offsets, environment offsets) of the kernel's padded
    grid: the torus at offset ``pad`` in a (width x width) grid, indices flat."""
    pad = int(max(np.abs(geometry.block_offsets).max(), np.abs(geometry.environment_offsets).max()))
    width = geometry.size + 2 * pad
    per_side = geometry.size // geometry.block_size
    corner = geometry.block_size * np.arange(per_side) + pad
    corners = (corner[:, None] * width + corner[None, :]).ravel().astype(np.int64)

    def flat(offsets: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(offsets[:, 0] * width + offsets[:, 1], dtype=np.int64)

    return pad, width, corners, flat(geometry.block_offsets), flat(geometry.environment_offsets)


def _sums(spins: np.ndarray, configs: np.ndarray, geometry: RSMIGeometry, rule: CoarseRule,
          decoder: Decoder) -> np.ndarray:
    """Per-configuration sums of :func:`block_sums`, shape (m, 4 + 3 n_v + n_e)."""
    pad, width, corners, block_offsets, env_offsets = _padded_layout(geometry)
    out = np.empty((configs.size, N_SCALARS + 3 * block_offsets.size + env_offsets.size))
    work = configs.size * corners.size * (block_offsets.size + env_offsets.size)
    kernel = block_sums if work > _PARALLEL_WORK else block_sums_serial
    kernel(spins, np.ascontiguousarray(configs, dtype=np.int64), geometry.size, pad, width,
               corners, block_offsets, env_offsets, np.ascontiguousarray(rule.weights.ravel()),
               rule.bias, rule.hard, np.ascontiguousarray(decoder.weights, dtype=np.float64),
               float(decoder.bias), out)
    return out


def _gradients(total: np.ndarray, n: int, n_v: int, compression: float
               ) -> tuple[float, np.ndarray, np.ndarray, float]:
    """(bound in nats, d objective/dLambda (n_v,), d/dw (n_e,), d/dc) from the summed rows over
    n blocks; the objective is the bound minus ``compression`` I(H; V)."""
    p_mean = total[0] / n
    bound = binary_entropy(p_mean) + total[1] / n
    # d H_b(pbar) / d pbar, clipped where a saturated rule makes pbar 0 or 1.
    p_clip = min(max(p_mean, 1e-12), 1.0 - 1e-12)
    log_odds = math.log((1.0 - p_clip) / p_clip)
    slope_u, slope, slope_a = (total[N_SCALARS + i * n_v:N_SCALARS + (i + 1) * n_v]
                               for i in range(3))
    grad_filter = (slope_u + log_odds * slope) / n
    if compression:
        # I(H; V) = H_b(pbar) - mean H_b(p), and d H_b(p) / da = -a p (1 - p).
        grad_filter = grad_filter - compression * (log_odds * slope + slope_a) / n
    grad_decoder = total[N_SCALARS + 3 * n_v:] / n
    return bound, grad_filter, grad_decoder, total[2] / n


def estimate_bound(spins: np.ndarray, configs: np.ndarray, geometry: RSMIGeometry,
                   rule: CoarseRule, decoder: Decoder, n_groups: int = 32) -> BoundEstimate:
    """The bound for a fixed rule and decoder on the configurations ``configs``.

    Parameters
    ----------
    spins : int8 (n, L*L)
    configs : int64 (m,), rows to evaluate on (held out from the decoder's training)
    n_groups : int
        Contiguous groups of configurations for the jackknife error.
    """
    rows = _sums(spins, configs, geometry, rule, decoder)
    terms = rows[:, :2] / geometry.n_blocks
    nats, error = jackknife(_bound_nats, (terms[:, 0], terms[:, 1]), n_groups)
    n = configs.size * geometry.n_blocks
    entropy = binary_entropy(rows[:, 0].sum() / n)
    block_information = entropy - rows[:, 3].sum() / n
    return BoundEstimate(float(bits(nats)), float(bits(error)), float(bits(entropy)),
                         float(bits(block_information)), int(configs.size), int(n), terms)


@dataclass(frozen=True)
class Objective:
    """The training objective on a batch and its exact gradient (nats per block sample)."""

    value: float  # bound - compression * I(H; V)
    bound: float
    block_information: float  # I(H; V)
    grad_filter: np.ndarray  # (b*b,), row-major over the block
    grad_decoder_weights: np.ndarray  # (n_env,)
    grad_decoder_bias: float


def objective(spins: np.ndarray, configs: np.ndarray, geometry: RSMIGeometry, rule: CoarseRule,
              decoder: Decoder, compression: float = 0.0) -> Objective:
    """bound(H; E) - compression * I(H; V) over every block of ``configs``, and its gradient in
    the filter and the decoder (module docstring; what :func:`maximize_bound` climbs).

    Parameters
    ----------
    spins : int8 (n, L*L); configs : int64 (m,)
    rule : CoarseRule (a hard rule's filter gradient is 0); decoder : Decoder
    compression : float >= 0
    """
    total = _sums(spins, configs, geometry, rule, decoder).sum(axis=0)
    n = configs.size * geometry.n_blocks
    bound, g_filter, g_w, g_c = _gradients(total, n, rule.weights.size, compression)
    block_information = binary_entropy(total[0] / n) - total[3] / n
    return Objective(bound - compression * block_information, bound, block_information,
                     g_filter, g_w, g_c)


@dataclass(frozen=True)
class TrainingOptions:
    """Adam on minibatches of configurations (every block of a configuration is a sample)."""

    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 0.01  # decays linearly to 0 over the run
    compression: float = 0.0  # objective = bound - compression * I(H; V)
    l2: float = 0.0  # penalty (l2 / 2) |Lambda|^2 per block sample, nats
    train_filter: bool = True


@dataclass
class _Adam:
    """Adam ascent on one parameter vector (Kingma & Ba 2015, their default betas)."""

    learning_rate: float
    size: int
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    steps: int = 0
    m: np.ndarray = field(init=False)
    v: np.ndarray = field(init=False)

    def __post_init__(self):
        self.m = np.zeros(self.size)
        self.v = np.zeros(self.size)

    def step(self, gradient: np.ndarray, fraction: float = 1.0) -> np.ndarray:
        """The increment that climbs ``gradient``, with the learning rate times ``fraction``."""
        self.steps += 1
        self.m = self.beta1 * self.m + (1 - self.beta1) * gradient
        self.v = self.beta2 * self.v + (1 - self.beta2) * gradient**2
        m_hat = self.m / (1 - self.beta1**self.steps)
        v_hat = self.v / (1 - self.beta2**self.steps)
        return fraction * self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)


def maximize_bound(spins: np.ndarray, train: np.ndarray, geometry: RSMIGeometry,
                   rule: CoarseRule, options: TrainingOptions, rng: np.random.Generator,
                   epoch_end: Callable[[int, CoarseRule, Decoder], None] | None = None,
                   ) -> tuple[CoarseRule, Decoder, dict[str, np.ndarray]]:
    """Climb the bound in the decoder (and, if ``options.train_filter``, the rule's weights).

    Parameters
    ----------
    spins : int8 (n, L*L)
    train : int64 (m,), the training configurations
    rule : CoarseRule
        The starting rule (kept as is unless ``train_filter``; a hard rule cannot be trained).
    rng : Generator
        Draws the order of the configurations in every epoch.
    epoch_end : callable, optional
        Called after each epoch with (epoch, rule, decoder).

    Returns
    -------
    (rule, decoder, history): history holds ``train_bits`` (epochs,), the mean of the
    minibatch bounds during each epoch, and ``filters`` (epochs, b*b), the weights after it.
    """
    if options.train_filter and rule.hard:
        raise IsingRGError("a hard (deterministic) rule has no gradient and cannot be trained")
    n_v, n_e = geometry.block_index.shape[1], geometry.environment_index.shape[1]
    weights = rule.weights.ravel().copy()
    decoder = Decoder.zeros(n_e)
    theta = np.concatenate([weights, decoder.weights, [decoder.bias]])
    adam = _Adam(options.learning_rate, theta.size)
    history = {"train_bits": np.empty(options.epochs),
               "filters": np.empty((options.epochs, n_v))}
    n_samples = geometry.n_blocks
    steps_per_epoch = -(-train.size // options.batch_size)
    total_steps = options.epochs * steps_per_epoch
    for epoch in range(options.epochs):
        order = rng.permutation(train)
        bounds = []
        for start in range(0, order.size, options.batch_size):
            batch = order[start:start + options.batch_size]
            current = CoarseRule(theta[:n_v].reshape(rule.weights.shape), rule.bias, rule.hard)
            decoder = Decoder(theta[n_v:-1], float(theta[-1]))
            total = _sums(spins, batch, geometry, current, decoder).sum(axis=0)
            bound, g_filter, g_w, g_c = _gradients(total, batch.size * n_samples, n_v,
                                                   options.compression)
            if options.train_filter:
                g_filter = g_filter - options.l2 * theta[:n_v]
            else:
                g_filter = np.zeros(n_v)
            fraction = 1.0 - adam.steps / total_steps
            theta = theta + adam.step(np.concatenate([g_filter, g_w, [g_c]]), fraction)
            bounds.append(bound)
        history["train_bits"][epoch] = bits(float(np.mean(bounds)))
        history["filters"][epoch] = theta[:n_v]
        rule = CoarseRule(theta[:n_v].reshape(rule.weights.shape).copy(), rule.bias, rule.hard)
        decoder = Decoder(theta[n_v:-1].copy(), float(theta[-1]))
        if epoch_end is not None:
            epoch_end(epoch, rule, decoder)
    return rule, decoder, history

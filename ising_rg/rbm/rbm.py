"""Bernoulli-Bernoulli restricted Boltzmann machine trained by contrastive divergence.

Conventions: units v in {0,1}^n_visible, h in {0,1}^n_hidden,

    E(v, h) = -b.v - c.h - v.W.h,        W shaped (n_visible, n_hidden),
    F(v)    = -b.v - sum_j softplus(c_j + (v W)_j),     p(v) = exp(-F(v)) / Z.

Energies and free energies are dimensionless (units of k_B T of the machine itself).

Training: contrastive divergence with Hinton & Salakhutdinov's ``rbm.m`` recipe (L1 in place
of its L2 weight cost), described in :mod:`ising_rg.rbm.trainer`.

Modules: :mod:`~ising_rg.rbm.trainer` (the CD/PCD training loop, its performance notes),
:mod:`~ising_rg.rbm._kernels` (numba kernels), :mod:`~ising_rg.rbm.parameters` (input checks),
:mod:`~ising_rg.rbm.activations` (softplus and sigmoid; re-exported here).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ising_rg.checks import check_integer, check_unit_interval
from ising_rg.errors import IsingRGError, NotFittedError
from ising_rg.rbm._kernels import free_energy_from_input
from ising_rg.rbm.activations import sigmoid, sigmoid_of_product, softplus
from ising_rg.rbm.parameters import check_parameter_arrays
from ising_rg.rbm.trainer import CHUNK_ROWS, HISTORY_KEYS, train_cd
from ising_rg.seeding import as_generator, bernoulli, seed_sequence
from ising_rg.settings import RECIPES, Recipe

__all__ = ["HISTORY_KEYS", "HYPERPARAMETER_NAMES", "BernoulliRBM", "sigmoid", "softplus"]

#: Constructor arguments of :class:`BernoulliRBM`, as ``get_params`` returns them.
HYPERPARAMETER_NAMES = ("n_hidden", *Recipe.LAYER_SETTINGS, "n_monitor", "random_state")
#: The paper's recipe, whose layer settings are the defaults of the hyper-parameters.
_PAPER = RECIPES["paper"]


class BernoulliRBM:
    """Restricted Boltzmann machine with {0,1} visible and hidden units (float32).

    scikit-learn conventions by duck typing: ``__init__`` only stores hyper-parameters,
    ``fit`` validates them and returns ``self``, fitted attributes end in ``_``.

    The hyper-parameters but ``n_hidden``, ``n_monitor`` and ``random_state`` are the layer
    settings of a :class:`~ising_rg.settings.Recipe`, under the same names, and default to the
    paper's recipe (:mod:`ising_rg.paper`): Hinton & Salakhutdinov's ``rbm.m`` (CD-1, learning
    rate 0.1, momentum 0.5 then 0.9, batch 100, W ~ 0.1 N(0, 1), 200 epochs) with Mehta &
    Schwab's L1 penalty 2e-4 in place of its L2 weight cost. A named recipe in one line:
    ``BernoulliRBM(400, **RECIPES["density"].layer_settings())``.

    Parameters
    ----------
    n_hidden : int
        Number of hidden units.
    learning_rate : float
        Step size for weights and biases (rbm.m: epsilonw = epsilonvb = epsilonhb = 0.1).
    learning_rate_decay : {'none', 'linear'}
        'none' (rbm.m): the same learning rate in every epoch. 'linear': epoch e (counted from
        0) uses ``learning_rate * (1 - e / epochs)``, down to ``learning_rate / epochs`` in
        the last one (Tieleman 2008 decays PCD's rate linearly to zero). A shrinking step lets
        the parameters settle instead of fluctuating at the noise level of the minibatch
        gradient (Robbins & Monro 1951). The L1/L2 steps shrink with it (they sit inside the
        update). The schedule depends on ``epochs``: the model after e epochs of a longer
        run is not the model of an e-epoch run.
    momentum : (float, float, int)
        ``(initial, final, n_initial_epochs)``: momentum ``initial`` for the first
        ``n_initial_epochs`` epochs, then ``final``. rbm.m: (0.5, 0.9, 5).
    batch_size : int
        Minibatch size B. Each epoch uses floor(n_samples / B) minibatches of exactly B
        samples drawn from a fresh seeded permutation; the n_samples mod B left-over samples
        change from epoch to epoch.
    epochs : int
        Passes over the training data (the paper: 200).
    cd_k : int
        Gibbs steps in the negative phase (CD-k / PCD-k).
    persistent : bool
        Persistent CD (Tieleman 2008): the negative chains continue from one minibatch to the
        next instead of restarting at the data.
    persistent_chains : int or None
        Number of persistent chains M (default: batch_size). PCD only.
    negative_visible : {'probabilities', 'samples'}
        CD only. What the last Gibbs step keeps as the negative visible vector:
        'probabilities' = P(v|h), as rbm.m does (less noise, but P(h|P(v|h)) is a mean-field
        value, so even CD-infinity is slightly biased); 'samples' = a binary sample, which
        makes CD-k with k -> infinity an unbiased estimator of the log-likelihood gradient.
        Intermediate steps (k > 1) always sample both layers. PCD negative statistics always
        use the binary chain states.
    l1 : float
        L1 weight penalty; its gradient ``l1 * sign(W)`` enters the momentum update (see
        :mod:`ising_rg.rbm.trainer`). The paper: 2e-4; 0 switches it off.
    l2 : float
        L2 weight penalty (rbm.m's weightcost, 2e-4 there; 0 in the paper, whose L1 replaces
        it); gradient ``l2 * W``.
    init : {'paper', 'guide'}
        'paper' (rbm.m): W ~ 0.1 N(0,1), biases 0. 'guide' (Hinton's practical guide, 2010):
        W ~ 0.01 N(0,1), visible bias = logit(training mean clipped to [1e-3, 1 - 1e-3]),
        hidden bias 0.
    n_monitor : int
        Size of the fixed, seeded subset of training samples on which the per-epoch free
        energy (and hidden-unit health) is monitored; the cost is ~ n_monitor / n_samples of
        an epoch's GEMM work.
    random_state : int, numpy.random.SeedSequence or None
        Seed for initialisation, minibatch shuffling and Gibbs sampling (independent streams
        spawned from one SeedSequence). Same seed, data and thread count: bit-identical result.

    Attributes
    ----------
    weights_ : ndarray, shape (n_visible, n_hidden), float32
    visible_bias_ : ndarray, shape (n_visible,), float32
    hidden_bias_ : ndarray, shape (n_hidden,), float32
    history_ : dict of str -> ndarray, shape (n_epochs,), float64
        Per epoch: ``reconstruction_error`` (mean over samples and visible units of
        (v - v_neg)^2 over the epoch's minibatches, as rbm.m's errsum, with weights changing
        during the epoch; for PCD, the mean-field reconstruction error on the monitoring
        subset instead), ``free_energy_train`` (mean F on the monitoring subset),
        ``free_energy_validation`` (mean F on X_val, NaN without it), ``free_energy_gap``
        (validation minus train; grows when the model overfits), ``learning_rate`` (the
        epoch's, after ``learning_rate_decay``), ``momentum``, ``weight_norm`` (Frobenius),
        ``weight_abs_mean``,
        ``hidden_dead_fraction`` (hidden units with mean P(h=1|v) < 0.01 or > 0.99 on the
        monitoring subset), ``epoch_seconds`` (wall time, training plus monitoring).
    n_features_in_ : int
    n_iter_ : int
        Epochs completed (0 for :meth:`initialize`; the history's length for
        :meth:`from_parameters`).

    Methods used before the model has parameters raise :class:`~ising_rg.errors.NotFittedError`;
    bad input raises :class:`~ising_rg.errors.IsingRGError`.
    """

    def __init__(
        self,
        n_hidden: int,
        *,
        epochs: int = _PAPER.epochs,
        learning_rate: float = _PAPER.learning_rate,
        learning_rate_decay: str = _PAPER.learning_rate_decay,
        momentum: tuple[float, float, int] = _PAPER.momentum,
        batch_size: int = _PAPER.batch_size,
        cd_k: int = _PAPER.cd_k,
        persistent: bool = _PAPER.persistent,
        persistent_chains: int | None = _PAPER.persistent_chains,
        negative_visible: str = _PAPER.negative_visible,
        l1: float = _PAPER.l1,
        l2: float = _PAPER.l2,
        init: str = _PAPER.init,
        n_monitor: int = 1000,
        random_state: Any = 0,
    ) -> None:
        self.n_hidden = n_hidden
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.learning_rate_decay = learning_rate_decay
        self.momentum = momentum
        self.batch_size = batch_size
        self.cd_k = cd_k
        self.persistent = persistent
        self.persistent_chains = persistent_chains
        self.negative_visible = negative_visible
        self.l1 = l1
        self.l2 = l2
        self.init = init
        self.n_monitor = n_monitor
        self.random_state = random_state

    # -- scikit-learn style plumbing --------------------------------------------------------

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyper-parameters as a dict (scikit-learn convention)."""
        return {name: getattr(self, name) for name in HYPERPARAMETER_NAMES}

    def set_params(self, **params: Any) -> BernoulliRBM:
        """Set hyper-parameters (scikit-learn convention); unknown names raise IsingRGError."""
        for name, value in params.items():
            if name not in HYPERPARAMETER_NAMES:
                raise IsingRGError(f"unknown BernoulliRBM parameter {name!r}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        return f"BernoulliRBM(n_hidden={self.n_hidden!r}, epochs={self.epochs!r})"

    @property
    def recipe(self) -> Recipe:
        """The layer settings as a checked :class:`~ising_rg.settings.Recipe` (its other
        settings at their defaults); IsingRGError for a bad value, and for a bad ``n_hidden``
        or ``n_monitor``."""
        check_integer(self.n_hidden, "n_hidden", 1)
        check_integer(self.n_monitor, "n_monitor", 1)
        return Recipe(**{name: getattr(self, name) for name in Recipe.LAYER_SETTINGS})

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise NotFittedError(
                "this BernoulliRBM is not fitted yet; call fit(), initialize() or "
                "BernoulliRBM.from_parameters()"
            )

    def _params(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self._check_fitted()
        return self.weights_, self.visible_bias_, self.hidden_bias_

    @property
    def n_visible(self) -> int:
        """Number of visible units of the fitted model."""
        return int(self._params()[0].shape[0])

    def _set_fitted(
        self, W: np.ndarray, b: np.ndarray, c: np.ndarray, history: Mapping[str, np.ndarray]
    ) -> None:
        """Set every fitted attribute at once (n_iter_ = the history's length)."""
        self.weights_, self.visible_bias_, self.hidden_bias_ = W, b, c
        self.history_ = dict(history)
        self.n_features_in_ = int(W.shape[0])
        self.n_iter_ = len(next(iter(self.history_.values()))) if self.history_ else 0

    # -- constructors of fitted models -------------------------------------------------------

    @classmethod
    def from_parameters(
        cls,
        weights: Any,
        visible_bias: Any,
        hidden_bias: Any,
        *,
        history: Mapping[str, Any] | None = None,
        **hyperparameters: Any,
    ) -> BernoulliRBM:
        """A fitted RBM with the given parameters (e.g. read from a model file).

        Parameters
        ----------
        weights : array-like, shape (n_visible, n_hidden)
        visible_bias : array-like, shape (n_visible,)
        hidden_bias : array-like, shape (n_hidden,)
            Finite values; stored as C-ordered float32 copies (exact for float32 input, so
            the new model computes bit for bit what the one they came from does).
        history : mapping of str -> 1-D array, optional
            Per-epoch training history (``history_``), all of one length, which becomes
            ``n_iter_``; copied as float64. Default: empty (``n_iter_ = 0``).
        **hyperparameters
            Constructor arguments (``get_params()`` of the source model is fine); validated.
            ``n_hidden``, if given, must equal ``weights.shape[1]``.

        Returns
        -------
        BernoulliRBM, fitted
        """
        W, b, c = check_parameter_arrays(weights, visible_bias, hidden_bias)
        rbm = cls(int(W.shape[1])).set_params(**hyperparameters)
        if rbm.n_hidden != W.shape[1]:
            raise IsingRGError(
                f"n_hidden={rbm.n_hidden!r} but the weights have {W.shape[1]} hidden units"
            )
        _ = rbm.recipe  # checks the hyper-parameters
        arrays = {str(k): np.array(v, dtype=np.float64) for k, v in (history or {}).items()}
        if any(v.ndim != 1 for v in arrays.values()) or len({v.size for v in arrays.values()}) > 1:
            raise IsingRGError("history must map names to 1-D arrays of one length (epochs)")
        rbm._set_fitted(W, b, c, arrays)
        return rbm

    def _generators(self) -> list[np.random.Generator]:
        """fit's four streams from ``random_state``: init, shuffle, Gibbs, monitoring subset."""
        return [as_generator(s) for s in seed_sequence(self.random_state).spawn(4)]

    def _initial_parameters(
        self, n_visible: int, X: np.ndarray | None, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scale = 0.1 if self.init == "paper" else 0.01
        W = rng.standard_normal((n_visible, self.n_hidden), dtype=np.float32)
        W *= np.float32(scale)
        c = np.zeros(self.n_hidden, np.float32)
        if self.init == "paper":
            b = np.zeros(n_visible, np.float32)
        else:
            p = np.clip(X.mean(axis=0, dtype=np.float64), 1e-3, 1.0 - 1e-3)
            b = np.log(p / (1.0 - p)).astype(np.float32)
        return W, b, c

    def initialize(self, n_visible: int, X: Any = None) -> BernoulliRBM:
        """Zero epochs of training: set the parameters ``fit`` would start from, and return self.

        The same random draws as ``fit`` with the same ``random_state`` (the first of its
        spawned streams), so the result is the chance-level network that training would start
        from. ``history_`` maps every :data:`HISTORY_KEYS` name to an empty array; ``n_iter_``
        is 0.

        Parameters
        ----------
        n_visible : int >= 1
        X : array-like, shape (n_samples, n_visible), values in [0, 1]
            Needed for ``init='guide'`` (visible biases from the data means); ignored otherwise.

        Returns
        -------
        self
        """
        _ = self.recipe  # checks the hyper-parameters
        n_visible = check_integer(n_visible, "n_visible", 1)
        if self.init == "guide":
            if X is None:
                raise IsingRGError("init='guide' needs data (its visible biases are data means)")
            X = check_unit_interval(X, "X", n_features=n_visible)
        W, b, c = self._initial_parameters(n_visible, X, self._generators()[0])
        self._set_fitted(W, b, c, {key: np.zeros(0, dtype=np.float64) for key in HISTORY_KEYS})
        return self

    # -- training ----------------------------------------------------------------------------

    def fit(
        self,
        X: Any,
        X_val: Any = None,
        callback: Callable[[int, int, dict[str, float]], None] | None = None,
    ) -> BernoulliRBM:
        """Train by CD-k (or PCD-k) with momentum; see the class and module docstrings.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_visible), values in [0, 1]
            Training data: binary {0,1} or probabilities (a lower layer's P(h=1|v)).
        X_val : array-like, shape (n_val, n_visible), optional
            Held-out data for the free-energy gap in ``history_``.
        callback : callable, optional
            ``callback(epoch, n_epochs, metrics)`` after every epoch (epoch counts from 1;
            metrics: this epoch's ``history_`` values). Exceptions it raises, including
            KeyboardInterrupt, propagate; the estimator is then left unfitted.

        Returns
        -------
        self
        """
        X = check_unit_interval(X, "X")
        n_samples, n_visible = X.shape
        recipe = self.recipe
        if recipe.batch_size > n_samples:
            raise IsingRGError(
                f"batch_size {self.batch_size} is larger than the {n_samples} training samples"
            )
        if X_val is not None:
            X_val = check_unit_interval(X_val, "X_val", n_features=n_visible)

        rng_init, *generators = self._generators()
        parameters = self._initial_parameters(n_visible, X, rng_init)
        history = train_cd(recipe, self.n_monitor, parameters, X, X_val, generators, callback)
        self._set_fitted(*parameters, history)
        return self

    # -- inference ---------------------------------------------------------------------------

    def _check_input(self, X: Any, name: str = "X", allow_empty: bool = False) -> np.ndarray:
        return check_unit_interval(X, name, n_features=self.n_visible, allow_empty=allow_empty)

    def _hidden_probabilities(self, V: np.ndarray) -> np.ndarray:
        W, _, c = self._params()
        return sigmoid_of_product(V, W, c)

    def _visible_probabilities(self, H: np.ndarray) -> np.ndarray:
        W, b, _ = self._params()
        return sigmoid_of_product(H, W.T, b)

    def transform(self, X: Any) -> np.ndarray:
        """Hidden probabilities P(h_j = 1 | v) = sigmoid(c + v W).

        Parameters
        ----------
        X : array-like, shape (n_samples, n_visible), values in [0, 1]

        Returns
        -------
        ndarray, shape (n_samples, n_hidden), float32 (no rows for no rows: a network that
        held no rows out propagates its empty held-out set)
        """
        return self._hidden_probabilities(self._check_input(X, allow_empty=True))

    def propagate_down(self, H: Any) -> np.ndarray:
        """Visible probabilities P(v_i = 1 | h) = sigmoid(b + W h), shape (n, n_visible)."""
        H = check_unit_interval(H, "H", n_features=self._params()[0].shape[1])
        return self._visible_probabilities(H)

    def reconstruct(self, X: Any) -> np.ndarray:
        """Mean-field reconstruction P(v = 1 | h = P(h = 1 | v)): up and down with probabilities.

        Deterministic (no sampling), unlike the stochastic reconstruction of CD training, which
        drives the down pass with a binary sample of h.

        Returns
        -------
        ndarray, shape (n_samples, n_visible), float32 probabilities
        """
        return self._visible_probabilities(self.transform(X))

    def free_energy(self, X: Any) -> np.ndarray:
        """Free energy F(v) = -b.v - sum_j softplus(c_j + (v W)_j), computed in float64.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_visible), values in [0, 1]

        Returns
        -------
        ndarray, shape (n_samples,), float64 (dimensionless)
        """
        V = self._check_input(X)
        W, b, c = (a.astype(np.float64) for a in self._params())
        out = np.empty(V.shape[0])
        for s in range(0, V.shape[0], CHUNK_ROWS):
            block = V[s : s + CHUNK_ROWS].astype(np.float64)
            free_energy_from_input(block @ W, c, block @ b, out[s : s + CHUNK_ROWS])
        return out

    def log_likelihood(self, X: Any, log_z: float) -> np.ndarray:
        """log p(v) = -F(v) - log Z per sample, float64 shape (n_samples,).

        ``log_z`` from :func:`ising_rg.rbm.partition.exact_log_partition` or AIS.
        """
        return -self.free_energy(X) - float(log_z)

    def pseudo_log_likelihood(self, X: Any) -> np.ndarray:
        """Exact pseudo-log-likelihood sum_i log P(v_i | v_{-i}) over *all* visible sites.

        Uses P(v_i | v_{-i}) = sigmoid(F(v with v_i flipped) - F(v)) with the flipped free
        energy from an incremental update of the hidden input, vectorised over sites and
        hidden units (float64). Cost n_samples * n_visible * n_hidden softplus evaluations.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_visible), binary {0, 1}

        Returns
        -------
        ndarray, shape (n_samples,), float64 (nats per configuration)
        """
        V = self._check_input(X)
        if not np.all((V == 0) | (V == 1)):
            raise IsingRGError("pseudo_log_likelihood needs binary {0,1} data")
        W, b, c = (a.astype(np.float64) for a in self._params())
        n_visible, n_hidden = W.shape
        rows_per_chunk = max(1, int(4e6 // (n_visible * n_hidden)))
        out = np.empty(V.shape[0])
        for s in range(0, V.shape[0], rows_per_chunk):
            v = V[s : s + rows_per_chunk].astype(np.float64)
            x = v @ W + c  # (n, n_hidden)
            flip = 1.0 - 2.0 * v  # +1 turns a 0 on, -1 turns a 1 off; (n, n_visible)
            x_flip = x[:, None, :] + flip[:, :, None] * W[None, :, :]
            delta_f = -b * flip - (softplus(x_flip) - softplus(x)[:, None, :]).sum(axis=2)
            out[s : s + rows_per_chunk] = -softplus(-delta_f).sum(axis=1)  # log sigmoid
        return out

    def gibbs(self, v: Any, k: int = 1, rng: Any = None) -> np.ndarray:
        """k steps of block Gibbs sampling v -> h -> v, both layers sampled.

        Parameters
        ----------
        v : array-like, shape (n, n_visible), values in [0, 1] (starting states; probabilities
            are fine, only P(h|v) is taken from them)
        k : int >= 1
        rng : numpy Generator, int seed or None

        Returns
        -------
        ndarray, shape (n, n_visible), float32 binary {0, 1}
        """
        V = self._check_input(v, "v")
        k = check_integer(k, "k", 1)
        rng = as_generator(rng)
        with np.errstate(over="ignore", under="ignore"):
            for _ in range(k):
                H = bernoulli(self._hidden_probabilities(V), rng, uniform_dtype=np.float32)
                V = bernoulli(self._visible_probabilities(H), rng, uniform_dtype=np.float32)
        return V

    def sample(self, n_samples: int, n_steps: int = 1000, seed: Any = 0) -> np.ndarray:
        """Draw binary visible samples: n_steps of Gibbs from uniform random {0,1} states.

        Returns
        -------
        ndarray, shape (n_samples, n_visible), float32 binary
        """
        n_samples = check_integer(n_samples, "n_samples", 1)
        rng = as_generator(seed)
        v0 = bernoulli(0.5, rng, shape=(n_samples, self.n_visible))
        return self.gibbs(v0, n_steps, rng)

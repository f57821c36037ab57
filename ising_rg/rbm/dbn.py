"""Deep belief network: a stack of BernoulliRBMs trained greedily, layer by layer.

Layer 1 is trained on the data, layer l + 1 on the hidden *probabilities* P(h_l = 1 | .) of
layer l given the data propagated up through layers 1..l (Hinton & Salakhutdinov 2006, as in
the paper), or on binary samples of them (``propagate='samples'``).

As a generative model the DBN is an RBM over its top two layers with directed layers below;
``DBN.sample`` draws from it ancestrally (binary states at every layer), ``sample_up`` and
``sample_down`` are its two halves (recognition up, generation down).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ising_rg import paper
from ising_rg.checks import check_integer, check_unit_interval
from ising_rg.errors import IsingRGError, NotFittedError
from ising_rg.rbm.rbm import BernoulliRBM
from ising_rg.seeding import as_generator, bernoulli, seed_sequence
from ising_rg.settings import Recipe

__all__ = ["DBN"]


class DBN:
    """Greedy layer-wise stack of :class:`~ising_rg.rbm.rbm.BernoulliRBM`.

    The defaults are the paper's (:mod:`ising_rg.paper`): layers 400, 100, 25, each trained on
    the hidden probabilities of the one below with the paper's recipe.

    Parameters
    ----------
    hidden : sequence of int
        Hidden layer sizes, bottom to top; the paper: (400, 100, 25) over 1600 visible units.
    recipe : :class:`~ising_rg.settings.Recipe` or str
        The training settings, or the name of a built-in recipe (``"paper"``, ``"density"``;
        :data:`~ising_rg.settings.RECIPES`). Every layer's BernoulliRBM gets its layer
        settings; ``propagate`` says what each layer passes up as the next layer's training
        data (P(h = 1 | v), the paper's and rbm.m's, or a seeded binary sample of it),
        ``validation_fraction`` what share of the rows ``fit`` holds out.
    random_state : int
        Master seed. The validation split and every layer's seed are derived from
        ``numpy.random.SeedSequence(random_state).spawn(...)``, so one integer fixes the run.

    Attributes
    ----------
    rbms_ : list of BernoulliRBM
        Trained layers, bottom first.
    n_layers_ : int
    n_features_in_ : int
        Visible units of layer 1.
    layer_seeds_ : list of int
        Seed given to each layer's RBM (empty if unknown, e.g. for a model read from a file).
    validation_indices_ : ndarray of int64
        Rows of the X given to fit held out for validation (sorted); empty if none.
    train_indices_ : ndarray of int64
        Rows used for training (sorted); empty if unknown.

    Fitted models come from :meth:`fit`, :meth:`initialize` (untrained layers) or
    :meth:`from_rbms` (given layers, e.g. read by :func:`ising_rg.io.models.load_dbn`).
    Inference before that raises :class:`~ising_rg.errors.NotFittedError`.
    """

    def __init__(
        self,
        hidden: Sequence[int] = paper.HIDDEN,
        *,
        recipe: Recipe | str = "paper",
        random_state: int = 0,
    ) -> None:
        self.hidden = tuple(hidden) if isinstance(hidden, list | tuple) else hidden
        self.recipe = recipe
        self.random_state = random_state

    # -- parameters ------------------------------------------------------------------------

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments: hidden, recipe (as given), random_state."""
        return {"hidden": list(self.hidden), "recipe": self.recipe,
                "random_state": self.random_state}

    def __repr__(self) -> str:
        return f"DBN(hidden={tuple(self.hidden)!r}, recipe={self._recipe().name!r})"

    def _recipe(self) -> Recipe:
        """``recipe`` as a Recipe (a name resolved); IsingRGError for anything else."""
        if isinstance(self.recipe, Recipe):
            return self.recipe
        if isinstance(self.recipe, str):
            return Recipe.named(self.recipe)
        raise IsingRGError(f"recipe must be a Recipe or a recipe's name, got {self.recipe!r}")

    def _check_parameters(self) -> tuple[int, ...]:
        hidden = self.hidden
        if isinstance(hidden, numbers.Integral):
            hidden = (hidden,)
        try:
            sizes = tuple(hidden)
        except TypeError:
            raise IsingRGError(
                f"hidden must be a sequence of layer sizes, got {hidden!r}"
            ) from None
        if not sizes:
            raise IsingRGError("hidden must name at least one layer")
        for size in sizes:
            check_integer(size, "every hidden layer size", 1)
        self._recipe()
        check_integer(self.random_state, "random_state", 0)
        return tuple(int(s) for s in sizes)

    def _seeds(self, n_layers: int) -> tuple[np.random.SeedSequence, np.random.SeedSequence,
                                             list[int]]:
        """The one seeding rule: ``SeedSequence(random_state).spawn(2 + n_layers)`` gives the
        validation split's and the propagation's streams, then one seed per layer (the first
        uint64 word of each remaining stream's state, shifted right by one bit)."""
        split_seed, propagate_seed, *layer_streams = seed_sequence(self.random_state).spawn(
            2 + n_layers
        )
        layer_seeds = [int(s.generate_state(1, dtype=np.uint64)[0] >> 1) for s in layer_streams]
        return split_seed, propagate_seed, layer_seeds

    def _set_fitted(
        self,
        rbms: list[BernoulliRBM],
        layer_seeds: Sequence[int],
        validation_indices: Any,
        train_indices: Any,
    ) -> None:
        """Set every fitted attribute at once."""
        self.rbms_ = list(rbms)
        self.n_layers_ = len(self.rbms_)
        self.n_features_in_ = self.rbms_[0].n_visible
        self.layer_seeds_ = [int(s) for s in layer_seeds]
        self.validation_indices_ = np.asarray(validation_indices, dtype=np.int64)
        self.train_indices_ = np.asarray(train_indices, dtype=np.int64)

    # -- constructors of fitted models -------------------------------------------------------

    @classmethod
    def from_rbms(
        cls,
        rbms: Sequence[BernoulliRBM],
        *,
        layer_seeds: Sequence[int] | None = None,
        validation_indices: Any = None,
        train_indices: Any = None,
        **params: Any,
    ) -> DBN:
        """A fitted DBN made of the given fitted layers (used as they are, not copied).

        Parameters
        ----------
        rbms : sequence of fitted BernoulliRBM, bottom first
            Layer l + 1 must have as many visible units as layer l has hidden units.
        layer_seeds, validation_indices, train_indices : optional
            Recorded as ``layer_seeds_``, ``validation_indices_``, ``train_indices_``
            (default: empty).
        **params
            DBN constructor arguments (``get_params()`` of a DBN is fine); ``hidden``, if
            given, must equal the layers' sizes.

        Returns
        -------
        DBN, fitted
        """
        rbms = list(rbms)
        if not rbms or not all(isinstance(rbm, BernoulliRBM) for rbm in rbms):
            raise IsingRGError("from_rbms needs a non-empty sequence of BernoulliRBM layers")
        n_inputs = [rbm.n_visible for rbm in rbms]  # NotFittedError for an unfitted layer
        sizes = [int(rbm.weights_.shape[1]) for rbm in rbms]
        for index in range(1, len(rbms)):
            if n_inputs[index] != sizes[index - 1]:
                raise IsingRGError(
                    f"layer {index + 1} has {n_inputs[index]} inputs but layer {index} has "
                    f"{sizes[index - 1]} outputs"
                )
        dbn = cls(params.pop("hidden", sizes), **params)
        if list(dbn._check_parameters()) != sizes:
            raise IsingRGError(f"hidden={dbn.hidden!r} does not match the layers' sizes {sizes}")
        empty = np.zeros(0, dtype=np.int64)
        dbn._set_fitted(
            rbms,
            layer_seeds if layer_seeds is not None else [],
            validation_indices if validation_indices is not None else empty,
            train_indices if train_indices is not None else empty,
        )
        return dbn

    def initialize(self, n_visible: int, X: Any = None) -> DBN:
        """Zero epochs of training: initialised, untrained layers (the chance-level network).

        Every layer is ``BernoulliRBM.initialize`` with the layer seed ``fit`` would give it
        (the same seeding rule), so with ``init='paper'`` the weights are bit-identical to those
        ``fit`` starts training from (paper init does not depend on the data). With
        ``init='guide'`` the visible biases of layer l + 1 come from X propagated up the
        untrained layers 1..l as probabilities. ``validation_indices_`` and
        ``train_indices_`` are empty.

        Parameters
        ----------
        n_visible : int >= 1
            Visible units of layer 1 (L*L).
        X : array-like, shape (n_samples, n_visible), values in [0, 1]
            Only for ``init='guide'`` (required there); ignored otherwise.

        Returns
        -------
        self
        """
        sizes = self._check_parameters()
        _, _, layer_seeds = self._seeds(len(sizes))
        recipe = self._recipe()
        guide = recipe.init == "guide"
        layer_input = X if guide else None
        rbms: list[BernoulliRBM] = []
        for n_hidden, seed in zip(sizes, layer_seeds, strict=True):
            n_in = rbms[-1].n_hidden if rbms else n_visible
            if rbms and layer_input is not None:
                layer_input = rbms[-1].transform(layer_input)
            rbm = BernoulliRBM(n_hidden, random_state=seed, **recipe.layer_settings())
            rbms.append(rbm.initialize(n_in, layer_input))
        empty = np.zeros(0, dtype=np.int64)
        self._set_fitted(rbms, layer_seeds, empty, empty)
        return self

    # -- training ----------------------------------------------------------------------------

    def fit(
        self,
        X: Any,
        callback: Callable[[int, int, int, dict[str, float]], None] | None = None,
    ) -> DBN:
        """Train the layers greedily, bottom first.

        The recipe's ``validation_fraction`` of the rows is held out (seeded split, recorded in
        ``validation_indices_``) and propagated alongside the training data to monitor each
        layer's free-energy gap.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_visible), values in [0, 1]
        callback : callable, optional
            ``callback(layer_index, epoch, n_epochs, metrics)`` after every epoch of every
            layer; layer_index and epoch count from 1, metrics is that epoch's history entry.
            Exceptions it raises (KeyboardInterrupt included) propagate unchanged; the DBN is
            then left unfitted.

        Returns
        -------
        self
        """
        sizes = self._check_parameters()
        X = check_unit_interval(X, "X")
        n_samples = X.shape[0]
        recipe = self._recipe()
        n_val = int(round(recipe.validation_fraction * n_samples))
        if n_val and n_samples - n_val < 1:
            raise IsingRGError("validation_fraction leaves no training samples")

        split_seed, propagate_seed, layer_seeds = self._seeds(len(sizes))
        order = as_generator(split_seed).permutation(n_samples)
        validation_rows = np.sort(order[:n_val])
        train_rows = np.sort(order[n_val:])
        propagate_rng = as_generator(propagate_seed)

        data = X[train_rows]
        data_val = X[validation_rows] if n_val else None
        rbms: list[BernoulliRBM] = []
        for index, (n_hidden, seed) in enumerate(zip(sizes, layer_seeds, strict=True)):
            rbm = BernoulliRBM(n_hidden, random_state=seed, **recipe.layer_settings())
            layer_callback = None
            if callback is not None:
                layer_callback = _LayerCallback(callback, index + 1)
            rbm.fit(data, X_val=data_val, callback=layer_callback)
            rbms.append(rbm)
            if index + 1 < len(sizes):
                data = _propagate(rbm, data, recipe.propagate, propagate_rng)
                if data_val is not None:
                    data_val = _propagate(rbm, data_val, recipe.propagate, propagate_rng)

        self._set_fitted(rbms, layer_seeds, validation_rows, train_rows)
        return self

    # -- inference ---------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not getattr(self, "rbms_", None):
            raise NotFittedError(
                "this DBN is not fitted yet; call fit(), initialize() or DBN.from_rbms()"
            )

    def _check_depth(self, depth: int | None) -> int:
        self._check_fitted()
        if depth is None:
            return self.n_layers_
        return check_integer(depth, "depth", 1, self.n_layers_)

    def transform(self, X: Any, depth: int | None = None) -> np.ndarray:
        """Hidden probabilities of layer ``depth`` (1-based; default the top), propagated up.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_visible), values in [0, 1]
        depth : int, optional

        Returns
        -------
        ndarray, shape (n_samples, hidden[depth - 1]), float32
        """
        depth = self._check_depth(depth)
        out = X
        for rbm in self.rbms_[:depth]:
            out = rbm.transform(out)
        return out

    def reconstruct(self, X: Any, depth: int | None = None) -> np.ndarray:
        """Mean-field reconstruction through layer ``depth``: up with probabilities to layer
        ``depth``, then down with probabilities, P(v = 1 | h) at every layer.

        Returns
        -------
        ndarray, shape (n_samples, n_visible), float32 visible probabilities
        """
        depth = self._check_depth(depth)
        return self._down(self.transform(X, depth), depth)

    def _down(self, H: np.ndarray, depth: int) -> np.ndarray:
        out = H
        for rbm in reversed(self.rbms_[:depth]):
            out = rbm.propagate_down(out)
        return out

    def sample_up(self, X: Any, depth: int, seed: Any = 0) -> np.ndarray:
        """Binary states of layer ``depth``, sampled up from X through the DBN's recognition
        model: v ~ Bernoulli(X) (a binary X is unchanged), then h_l ~ P(h_l = 1 | h_{l-1}) for
        l = 1 .. depth, binary at every layer.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_visible), values in [0, 1]
        depth : int in [0, n_layers]
            0 returns the sampled visible states.
        seed : int, SeedSequence or Generator

        Returns
        -------
        ndarray, shape (n_samples, units of layer depth), float32 {0, 1}
        """
        self._check_fitted()
        depth = check_integer(depth, "depth", 0, self.n_layers_)
        rng = as_generator(seed)
        X = check_unit_interval(X, "X", n_features=self.n_features_in_)
        state = bernoulli(X, rng, uniform_dtype=np.float32)
        for rbm in self.rbms_[:depth]:
            state = bernoulli(rbm.transform(state), rng, uniform_dtype=np.float32)
        return state

    def sample_down(self, states: Any, seed: Any = 0, mean_field: bool = False) -> np.ndarray:
        """The directed (generative) part of the DBN: from states of the top RBM's visible
        layer (layer n_layers - 1's units) down to the visible layer.

        Ancestral (default): v_{l-1} ~ P(v_{l-1} = 1 | v_l) sampled binary at every layer
        in between, and P(v = 1 | h_1) returned for the binary h_1 so drawn. ``mean_field``:
        P(v_{l-1} = 1 | v_l) passed down as probabilities (not the DBN's distribution). For a
        one-layer DBN the states are visible configurations and are returned as they are.

        Parameters
        ----------
        states : array-like, shape (n, units of layer n_layers - 1), values in [0, 1]
        seed : int, SeedSequence or Generator
        mean_field : bool

        Returns
        -------
        ndarray, shape (n, n_visible), float32 visible probabilities
        """
        self._check_fitted()
        rng = as_generator(seed)
        n_top_visible = self.rbms_[-1].n_visible
        out = check_unit_interval(states, "states", n_features=n_top_visible).astype(
            np.float32)
        lower = self.rbms_[:-1]
        for index, rbm in enumerate(reversed(lower)):
            if index > 0 and not mean_field:
                out = bernoulli(out, rng, uniform_dtype=np.float32)
            out = rbm.propagate_down(out)
        return out

    def sample(
        self,
        n_samples: int,
        n_gibbs: int = 1000,
        seed: Any = 0,
        X_init: Any = None,
        return_binary: bool = False,
        mean_field: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Generate visible configurations from the DBN's generative model.

        The DBN's distribution is p(v) = sum_{h_1..} p_top(h_{n-1}) P(h_{n-2} | h_{n-1}) ...
        P(v | h_1): an undirected top RBM over the top two layers and directed layers below.
        It is sampled ancestrally: block Gibbs sampling (both layers binary) runs in the top
        RBM for ``n_gibbs`` steps, starting from ``X_init`` sampled up (:meth:`sample_up`,
        binary at every layer) or, without X_init, from uniform random {0, 1} states; one more
        half-step h_top ~ P(h_top | v_top) gives P(v_top | h_top), and from a binary draw of
        it the lower layers are sampled down (:meth:`sample_down`), binary at every layer.

        ``mean_field=True`` is the older, approximate path (not the DBN's distribution):
        X_init goes up with probabilities and one binary sample at the top, and
        P(v_top | h_top) goes down with probabilities (P(v | h) with h the probabilities from
        above). A DBN whose upper layers are not binary-consistent with the lower ones is
        sampled differently by the two.

        Parameters
        ----------
        n_samples : int
            Number of configurations (ignored when X_init is given: one per row of X_init).
        n_gibbs : int >= 0
            Gibbs steps in the top RBM. With 0 and X_init the result is a stochastic
            reconstruction: X_init up, one sampled top hidden state, and down.
        seed : int, SeedSequence or Generator
        X_init : array-like, shape (n, n_visible), optional
        return_binary : bool
            Also return a Bernoulli sample of the visible probabilities.
        mean_field : bool
            Propagate probabilities instead of binary states (above).

        Returns
        -------
        probabilities : ndarray, shape (n, n_visible), float32: P(v = 1 | h_1) for the
            sampled h_1 (ancestral), or the mean-field visible probabilities
        samples : ndarray, shape (n, n_visible), float32 {0, 1}; only if return_binary
        """
        self._check_fitted()
        n_gibbs = check_integer(n_gibbs, "n_gibbs", 0)
        rng = as_generator(seed)
        top = self.rbms_[-1]
        below = self.n_layers_ - 1
        if X_init is not None:
            X_init = check_unit_interval(X_init, "X_init", n_features=self.n_features_in_)
            if mean_field:
                below_top = self.transform(X_init, below) if below else X_init
                v_top = bernoulli(below_top, rng, uniform_dtype=np.float32)
            else:
                v_top = self.sample_up(X_init, below, rng)
        else:
            n_samples = check_integer(n_samples, "n_samples", 1)
            v_top = bernoulli(0.5, rng, shape=(n_samples, top.n_visible))
        if n_gibbs > 0:
            v_top = top.gibbs(v_top, n_gibbs, rng)
        # the last half-step: P(v_top | h) with h sampled from the final state
        h = bernoulli(top.transform(v_top), rng, uniform_dtype=np.float32)
        v_top_probabilities = top.propagate_down(h)
        if below and not mean_field:
            v_top_probabilities = bernoulli(v_top_probabilities, rng, uniform_dtype=np.float32)
        probabilities = self.sample_down(v_top_probabilities, rng, mean_field=mean_field)
        if return_binary:
            return probabilities, bernoulli(probabilities, rng, uniform_dtype=np.float32)
        return probabilities


class _LayerCallback:
    """Adapts the DBN callback (layer, epoch, n_epochs, metrics) to one RBM's fit."""

    def __init__(self, callback: Callable[..., None], layer_index: int) -> None:
        self.callback = callback
        self.layer_index = layer_index

    def __call__(self, epoch: int, n_epochs: int, metrics: dict[str, float]) -> None:
        self.callback(self.layer_index, epoch, n_epochs, metrics)


def _propagate(rbm: BernoulliRBM, data: np.ndarray, propagate: str,
               rng: np.random.Generator) -> np.ndarray:
    """What a layer passes up: P(h = 1 | data) ('probabilities') or a binary sample of it."""
    probabilities = rbm.transform(data)
    if propagate == "samples":
        return bernoulli(probabilities, rng, uniform_dtype=np.float32)
    return probabilities

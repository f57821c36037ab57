"""Where an RBM keeps its weight: chains from several starts, the modes they settle in, and the
largest unnormalised probability any visited state has (a hard lower bound on log Z).

A trained RBM can put almost all of its weight in a mode that chains started from the data
never reach (the paper-recipe network at L = 40 puts e^416 more weight on its all-down state
than AIS from the data's base rate finds). Two things guard against that here:

* :func:`explore`: block Gibbs chains at beta = 1 from four kinds of start, all visible units
  on ("up"), all off ("down"), data rows ("data") and fair coin flips ("random"). Each chain
  settles into the basin its start leads to; the mean of P(v = 1 | h) over the second half of
  its steps, pooled over the chains of one start kind whose mean spin m = mean(2 v - 1) has the
  same sign, is a product distribution centred on that basin (:class:`Base`): the bases of the
  mixture AIS (:mod:`ising_rg.rbm.mixture_ais`).
* the bound: Z = sum_v exp(-F(v)) >= exp(-F(v)) for every binary v, so
  ln Z >= max over visited states of -F(v): the start states, every state of every chain, and
  whatever else the caller adds (data rows, AIS end states). :class:`FreeEnergyBound` keeps the
  largest and where it came from; an estimate of ln Z below it is wrong, whatever its error
  bar says.

Conventions as in :mod:`ising_rg.rbm.rbm`; -F in nats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ising_rg.checks import check_integer, check_unit_interval
from ising_rg.rbm.scaled import ScaledRBM, magnetization
from ising_rg.seeding import as_generator, bernoulli

__all__ = ["START_KINDS", "Base", "Exploration", "FreeEnergyBound", "explore",
           "exact_neg_free_energy", "start_states"]

#: The kinds of chain start, in the order their chains are laid out.
START_KINDS = ("up", "down", "data", "random")
#: Base probabilities are clipped to [P_CLIP, 1 - P_CLIP] (as the data's base rate is).
P_CLIP = 1e-3
#: Rows per block when -F is evaluated for many states (memory only; results do not depend on it).
_ROWS = 2048


@dataclass(frozen=True)
class Base:
    """A product distribution over the visible units: p(v) = prod_i p_i^v_i (1 - p_i)^(1 - v_i).

    Attributes
    ----------
    name : str
        'data rate', 'uniform' or '<start kind> m<0' / '<start kind> m>0'.
    probabilities : float64 (n_visible,), in [P_CLIP, 1 - P_CLIP]
    n_chains : int
        Chains it was fitted to (0 for 'data rate' and 'uniform').
    mean_magnetization : float
        mean(2 p - 1), the mean spin of the product distribution.
    """

    name: str
    probabilities: np.ndarray
    n_chains: int = 0

    @property
    def logits(self) -> np.ndarray:
        """log(p / (1 - p)), float64 (n_visible,)."""
        p = self.probabilities
        return np.log(p) - np.log1p(-p)

    @property
    def mean_magnetization(self) -> float:
        return float(2.0 * self.probabilities.mean() - 1.0)


@dataclass
class FreeEnergyBound:
    """The largest -F(v) over the binary states seen so far (a lower bound on ln Z), and where.

    ``value`` starts at -inf; :meth:`update` takes states with their -F values.
    """

    value: float = -np.inf
    source: str = "none"

    def update(self, neg_free_energy: np.ndarray, source: str) -> None:
        """Keep the largest of ``neg_free_energy`` (any shape) if it beats the current value."""
        values = np.asarray(neg_free_energy, dtype=np.float64)
        if values.size and float(values.max()) > self.value:
            self.value = float(values.max())
            self.source = source


@dataclass(frozen=True)
class Exploration:
    """What :func:`explore` found.

    Attributes
    ----------
    bases : tuple of Base, one per (start kind, sign of the chains' mean m) group
    bound : FreeEnergyBound over every visited state (start states included)
    end_states : float32 (n_chains, n_visible), the chains' last states
    kinds : tuple of str, the start kind of each chain
    mean_magnetization, mean_neg_free_energy : float64 (n_chains,), second-half means
    n_steps : int
    """

    bases: tuple[Base, ...]
    bound: FreeEnergyBound
    end_states: np.ndarray
    kinds: tuple[str, ...]
    mean_magnetization: np.ndarray
    mean_neg_free_energy: np.ndarray
    n_steps: int


def exact_neg_free_energy(rbm: ScaledRBM, states: np.ndarray) -> np.ndarray:
    """-F(v) in float64 throughout (float64 products), float64 (n,); for the bound."""
    W64 = rbm.weights.astype(np.float64)
    out = np.empty(states.shape[0])
    for start in range(0, states.shape[0], _ROWS):
        v = np.asarray(states[start:start + _ROWS], dtype=np.float64)
        out[start:start + _ROWS] = rbm.neg_free_energy(v, v @ W64 + rbm.hidden_bias)
    return out


def _binary_rows(data: Any, n_visible: int, rows: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """Rows of the data as binary states: values in (0, 1) are sampled (a layer's inputs)."""
    X = check_unit_interval(data, "data", n_features=n_visible)
    chosen = np.asarray(X[rows], dtype=np.float32)
    if np.all((chosen == 0) | (chosen == 1)):
        return chosen
    return bernoulli(chosen, rng)


def start_states(kind: str, n: int, n_visible: int, rng: np.random.Generator,
                 data: Any = None) -> np.ndarray:
    """``n`` start states (n, n_visible) float32 of one kind (``START_KINDS``).

    'data' takes ``n`` evenly spaced rows of ``data`` (binarised if they are probabilities).
    """
    if kind == "up":
        return np.ones((n, n_visible), np.float32)
    if kind == "down":
        return np.zeros((n, n_visible), np.float32)
    if kind == "random":
        return bernoulli(0.5, rng, shape=(n, n_visible))
    n_rows = np.shape(data)[0]
    rows = np.round(np.linspace(0, n_rows - 1, n)).astype(np.int64)
    return _binary_rows(data, n_visible, rows, rng)


def _group_bases(kinds: tuple[str, ...], signs: np.ndarray,
                 probability_sums: np.ndarray) -> tuple[Base, ...]:
    """One Base per (start kind, sign of m) group of chains, in START_KINDS order, m<0 first."""
    bases = []
    for kind in START_KINDS:
        for sign, label in ((-1, "m<0"), (1, "m>0")):
            members = [i for i, k in enumerate(kinds) if k == kind and signs[i] == sign]
            if members:
                p = probability_sums[members].mean(axis=0)
                bases.append(Base(f"{kind} {label}", np.clip(p, P_CLIP, 1 - P_CLIP),
                                  len(members)))
    return tuple(bases)


def explore(model: Any, data: Any = None, *, n_chains: int = 8, n_steps: int = 400,
            seed: Any = 0) -> Exploration:
    """Block Gibbs chains at beta = 1 from every start kind; bases and the bound (module doc).

    Parameters
    ----------
    model : fitted BernoulliRBM, (W, b, c) or dict, or a ScaledRBM
    data : array-like (n, n_visible) in [0, 1], optional
        Training data: the 'data' starts (omitted without data) and, in the bound, nothing
        else (the caller adds the data rows it wants bounded).
    n_chains : int >= 1, chains per start kind
    n_steps : int >= 2, Gibbs steps per chain; the second half is averaged for the bases
    seed : int, SeedSequence or Generator

    Returns
    -------
    Exploration
    """
    rbm = model if isinstance(model, ScaledRBM) else ScaledRBM(model)
    n_chains = check_integer(n_chains, "n_chains", 1)
    n_steps = check_integer(n_steps, "n_steps", 2)
    rng = as_generator(seed)
    kinds_used = [k for k in START_KINDS if k != "data" or data is not None]
    v = np.concatenate([start_states(k, n_chains, rbm.n_visible, rng, data)
                        for k in kinds_used])
    kinds = tuple(k for k in kinds_used for _ in range(n_chains))
    bound = FreeEnergyBound()
    for kind in kinds_used:
        rows = [i for i, k in enumerate(kinds) if k == kind]
        bound.update(exact_neg_free_energy(rbm, v[rows]), f"{kind} start")
    x = rbm.hidden_input(v)
    first_recorded = n_steps - n_steps // 2
    probability_sums = np.zeros((v.shape[0], rbm.n_visible))
    m_sum = np.zeros(v.shape[0])
    f_sum = np.zeros(v.shape[0])
    best_states, best_values = v.copy(), np.full(v.shape[0], -np.inf)
    for step in range(1, n_steps + 1):
        v, x, p = rbm.gibbs_step(x, 1.0, rng)
        neg_f = rbm.neg_free_energy(v, x)
        better = neg_f > best_values
        best_states[better], best_values[better] = v[better], neg_f[better]
        if step >= first_recorded:
            probability_sums += p
            m_sum += magnetization(v)
            f_sum += neg_f
    for kind in kinds_used:  # the best state of each chain, -F recomputed in float64
        rows = [i for i, k in enumerate(kinds) if k == kind]
        bound.update(exact_neg_free_energy(rbm, best_states[rows]), f"chain from {kind}")
    n_recorded = n_steps - first_recorded + 1
    mean_m = m_sum / n_recorded
    signs = np.where(mean_m < 0, -1, 1)
    bases = _group_bases(kinds, signs, probability_sums / n_recorded)
    return Exploration(bases, bound, v, kinds, mean_m, f_sum / n_recorded, n_steps)

"""Where an RBM keeps its weight: chains from several starts, the modes they settle in, and the
largest unnormalised probability any visited state has (a hard lower bound on log Z).

A trained RBM can put almost all of its weight in a mode that chains started from the data
never reach (the paper-recipe network at L = 40 puts e^416 more weight on its all-down state
than AIS from the data's base rate finds). Two things guard against that here:

* :func:`explore`: block Gibbs chains at beta = 1 from four kinds of start, all visible units
  on ("up"), all off ("down"), data rows ("data") and fair coin flips ("random"). Each chain
  settles into the basin its start leads to. Chains are grouped into modes by
  :func:`cluster_chains` (their second-half means of m = mean(2 v - 1) and of -F agree within
  their fluctuations); the mean of P(v = 1 | h) over the second half of the steps of a mode's
  chains is a product distribution centred on that mode (:class:`Base`): the bases of the
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

__all__ = ["START_KINDS", "Base", "Exploration", "FreeEnergyBound", "cluster_chains", "explore",
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
        'data rate', 'uniform', or for a mode of chains its start kinds and mean m, e.g.
        'down (m=-0.98)', 'up+data+random (m=+0.05)'.
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
    bases : tuple of Base, one per mode (cluster of chains)
    labels : int64 (n_chains,), each chain's mode (index into bases)
    bound : FreeEnergyBound over every visited state (start states included)
    end_states : float32 (n_chains, n_visible), the chains' last states
    kinds : tuple of str, the start kind of each chain
    mean_magnetization, mean_neg_free_energy : float64 (n_chains,), second-half means
    n_steps : int
    """

    bases: tuple[Base, ...]
    labels: np.ndarray
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


def cluster_chains(means: np.ndarray, spreads: np.ndarray) -> np.ndarray:
    """Group chains into modes: single linkage of chains whose means agree within their spread.

    Chains i and j are linked when, for every observable, |mean_i - mean_j| <= spread_i +
    spread_j, the spreads being each chain's own standard deviation over the window: two
    chains in one mode differ in their time averages by far less than the mode's fluctuations,
    two chains kept apart by a barrier differ by more (or they would cross it). Modes are the
    connected groups, numbered by their first chain.

    Parameters
    ----------
    means, spreads : float64 (n_chains, n_observables)

    Returns
    -------
    int64 (n_chains,), mode labels 0, 1, ...
    """
    means, spreads = np.atleast_2d(means), np.atleast_2d(spreads)
    n = means.shape[0]
    linked = np.all(np.abs(means[:, None] - means[None, :]) <= spreads[:, None]
                    + spreads[None, :], axis=2)
    labels = np.full(n, -1, np.int64)
    current = 0
    for first in range(n):
        if labels[first] >= 0:
            continue
        stack = [first]
        labels[first] = current
        while stack:
            i = stack.pop()
            for j in np.flatnonzero(linked[i] & (labels < 0)):
                labels[j] = current
                stack.append(int(j))
        current += 1
    return labels


def _mode_bases(kinds: tuple[str, ...], labels: np.ndarray, mean_m: np.ndarray,
                probability_sums: np.ndarray) -> tuple[Base, ...]:
    """One Base per mode: the mean P(v = 1 | h) of its chains, named by kinds and mean m."""
    bases = []
    for mode in range(int(labels.max()) + 1):
        members = np.flatnonzero(labels == mode)
        names = "+".join(k for k in START_KINDS if any(kinds[i] == k for i in members))
        p = np.clip(probability_sums[members].mean(axis=0), P_CLIP, 1 - P_CLIP)
        bases.append(Base(f"{names} (m={mean_m[members].mean():+.2f})", p, int(members.size)))
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
    sums = np.zeros((v.shape[0], 2))  # per chain: m and -F, summed over the recorded steps
    squares = np.zeros((v.shape[0], 2))
    best_states, best_values = v.copy(), np.full(v.shape[0], -np.inf)
    for step in range(1, n_steps + 1):
        v, x, p = rbm.gibbs_step(x, 1.0, rng)
        neg_f = rbm.neg_free_energy(v, x)
        better = neg_f > best_values
        best_states[better], best_values[better] = v[better], neg_f[better]
        if step >= first_recorded:
            probability_sums += p
            observed = np.stack([magnetization(v), neg_f], axis=1)
            sums += observed
            squares += observed**2
    for kind in kinds_used:  # the best state of each chain, -F recomputed in float64
        rows = [i for i, k in enumerate(kinds) if k == kind]
        bound.update(exact_neg_free_energy(rbm, best_states[rows]), f"chain from {kind}")
    n_recorded = n_steps - first_recorded + 1
    means = sums / n_recorded
    spreads = np.sqrt(np.maximum(squares / n_recorded - means**2, 0.0))
    labels = cluster_chains(means, spreads)
    bases = _mode_bases(kinds, labels, means[:, 0], probability_sums / n_recorded)
    return Exploration(bases, labels, bound, v, kinds, means[:, 0], means[:, 1], n_steps)

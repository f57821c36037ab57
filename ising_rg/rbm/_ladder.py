"""The replica ladder of parallel tempering: Gibbs sweeps, non-reversible swaps, the schedule.

Internal to :mod:`ising_rg.rbm.tempering`, which documents the method. ``Ladder`` holds
n_chains independent ladders of K replicas each, stored as rows ``chain * K + rung`` of one
state array, so one pair of matrix products moves every replica; rung K - 1 is beta = 1.
"""

from __future__ import annotations

import math

import numpy as np

from ising_rg.rbm.scaled import ScaledRBM

__all__ = ["Ladder", "respace"]


def respace(betas: np.ndarray, rejection: np.ndarray, n_rungs: int) -> np.ndarray:
    """New inverse temperatures at equal steps of the cumulative communication barrier.

    Lambda(beta) is the piecewise-linear interpolation of (beta_k, sum_{i<k} r_i), r_i the
    rejection rate of pair (i, i + 1) (Syed, Bouchard-Cote, Deligiannidis & Doucet 2022): rungs
    at Lambda^-1(k Lambda(1) / (n_rungs - 1)) make every pair's rejection about equal. The end
    points stay. A pair that never rejects still gets a sliver (1e-3 of the mean) of barrier,
    so Lambda is strictly increasing and invertible.
    """
    r = np.maximum(np.asarray(rejection, dtype=np.float64), 1e-3 * max(rejection.mean(), 1e-3))
    cumulative = np.concatenate([[0.0], np.cumsum(r)])
    targets = np.linspace(0.0, cumulative[-1], n_rungs)
    new = np.interp(targets, cumulative, betas)
    new[0], new[-1] = betas[0], betas[-1]
    return new


class Ladder:
    """n_chains ladders of replicas of one RBM (rows chain * K + rung; rung K - 1 at beta 1).

    Parameters
    ----------
    rbm : ScaledRBM
    betas : float64 (K,), increasing, last 1.0
    starts : float32 (n_chains, n_visible): every replica of a chain starts there
    """

    def __init__(self, rbm: ScaledRBM, betas: np.ndarray, starts: np.ndarray) -> None:
        self.rbm = rbm
        self.n_chains = starts.shape[0]
        self.set_betas(betas, np.repeat(starts, betas.size, axis=0))
        self.sweeps = 0

    def set_betas(self, betas: np.ndarray, states: np.ndarray) -> None:
        """New ladder with states (n_chains * K, n_visible); resets the swap statistics."""
        self.betas = np.asarray(betas, dtype=np.float64)
        self.n_rungs = self.betas.size
        self.row_betas = np.tile(self.betas, self.n_chains)
        self.v = np.ascontiguousarray(states, dtype=np.float32)
        self.x = self.rbm.hidden_input(self.v)
        # +1: last visited the hot end (on the way up), -1: the cold end, 0: neither yet
        self.direction = np.zeros((self.n_chains, self.n_rungs), np.int8)
        self.acceptance_sum = np.zeros(self.n_rungs - 1)
        self.attempts = np.zeros(self.n_rungs - 1)
        self.hot_to_cold = np.zeros(self.n_chains, np.int64)

    def states_at(self, rung_fraction: np.ndarray) -> np.ndarray:
        """Each chain's states at the rungs nearest to the given fractions of the ladder."""
        rungs = np.rint(np.asarray(rung_fraction) * (self.n_rungs - 1)).astype(np.int64)
        rows = (np.arange(self.n_chains)[:, None] * self.n_rungs + rungs[None, :]).ravel()
        return self.v[rows]

    def cold(self) -> tuple[np.ndarray, np.ndarray]:
        """(states, hidden input) of each chain's beta = 1 replica, (n_chains, ...)."""
        rows = np.arange(self.n_chains) * self.n_rungs + self.n_rungs - 1
        return self.v[rows], self.x[rows]

    def sweep(self, rng: np.random.Generator) -> None:
        """One Gibbs step of every replica, then one round of deterministic even-odd swaps."""
        self.v, self.x, _ = self.rbm.gibbs_step(self.x, self.row_betas, rng)
        self._swap(self.sweeps % 2, rng)
        self._track_machines()
        self.sweeps += 1

    def _swap(self, parity: int, rng: np.random.Generator) -> None:
        """Swap attempts between rungs (k, k + 1), k = parity, parity + 2, ... in every chain.

        Accepted with probability min(1, exp(a)), a = [-F_k(v_k+1) - F_k+1(v_k)]
        - [-F_k(v_k) - F_k+1(v_k+1)], -F_beta the marginal of :class:`ScaledRBM`.
        """
        lower = np.arange(parity, self.n_rungs - 1, 2)
        if lower.size == 0:
            return
        base = (np.arange(self.n_chains)[:, None] * self.n_rungs)
        rows_low = (base + lower[None, :]).ravel()
        rows_high = rows_low + 1
        beta_low = np.tile(self.betas[lower], self.n_chains)
        beta_high = np.tile(self.betas[lower + 1], self.n_chains)
        f = self.rbm.neg_free_energy
        v_low, x_low, v_high, x_high = (self.v[rows_low], self.x[rows_low], self.v[rows_high],
                                        self.x[rows_high])
        log_a = (f(v_high, x_high, beta_low) + f(v_low, x_low, beta_high)
                 - f(v_low, x_low, beta_low) - f(v_high, x_high, beta_high))
        probability = np.exp(np.minimum(log_a, 0.0))
        np.add.at(self.acceptance_sum, np.tile(lower, self.n_chains), probability)
        np.add.at(self.attempts, np.tile(lower, self.n_chains), 1.0)
        accept = rng.random(log_a.size) < probability
        lo, hi = rows_low[accept], rows_high[accept]
        self.v[lo], self.v[hi] = v_high[accept], v_low[accept]
        self.x[lo], self.x[hi] = x_high[accept], x_low[accept]
        chain, pair = np.divmod(np.flatnonzero(accept), lower.size)
        rung = lower[pair]
        self.direction[chain, rung], self.direction[chain, rung + 1] = (
            self.direction[chain, rung + 1], self.direction[chain, rung].copy())

    def _track_machines(self) -> None:
        """Count arrivals at the cold end of replicas that last visited the hot end."""
        arrived = self.direction[:, -1] == 1
        self.hot_to_cold += arrived
        self.direction[:, -1] = -1
        self.direction[:, 0] = 1

    def rejection(self) -> np.ndarray:
        """Mean rejection probability 1 - min(1, e^a) per pair since the last reset, (K - 1,)."""
        return 1.0 - self.acceptance_sum / np.maximum(self.attempts, 1.0)

    def barrier(self) -> float:
        """Global communication barrier Lambda ~ sum of the pairs' rejection rates."""
        return float(self.rejection().sum())

    def round_trip_rate(self) -> float:
        """Expected hot-to-cold trips per sweep and chain under the DEO scheme, 1/(2 + 2 sum
        r/(1 - r)) (Syed et al. 2022); 0 when a pair always rejects."""
        r = self.rejection()
        if np.any(r >= 1.0):
            return 0.0
        return 1.0 / (2.0 + 2.0 * float(np.sum(r / (1.0 - r))))

    def retune(self, n_rungs: int | None = None) -> None:
        """Re-space the rungs by the measured rejections (``respace``), optionally resizing.

        Each new rung takes the state of the old rung nearest in beta.
        """
        n_rungs = self.n_rungs if n_rungs is None else int(n_rungs)
        new = respace(self.betas, self.rejection(), n_rungs)
        nearest = np.abs(new[:, None] - self.betas[None, :]).argmin(axis=1)
        states = self.v.reshape(self.n_chains, self.n_rungs, -1)[:, nearest]
        self.set_betas(new, states.reshape(self.n_chains * n_rungs, -1))

    def recommended_rungs(self) -> int:
        """2 Lambda + 2 rungs (the optimum is near 2 Lambda for DEO swaps, Syed et al.)."""
        return int(math.ceil(2.0 * self.barrier())) + 2

"""Independent Monte Carlo chains of one algorithm, one small class per kernel behind one
interface (:class:`Chains`): checkerboard Metropolis (:mod:`ising_rg.sampling.metropolis`) and
single-cluster Wolff (:mod:`ising_rg.sampling.wolff`).

A chain set is seeded from one root seed: ``SeedSequence(seed).spawn(n_chains + 2)`` gives the
random start, the pilot chain's stream and one stream per chain. ``pilot`` runs one chain and
records E and |m| per step (to measure autocorrelation times); ``run`` runs every chain from a
common start, thermalizes and stores a configuration every ``spacing`` steps. A Metropolis
step is one checkerboard sweep; a Wolff step is one cluster (``sweeps_per_step`` converts).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ising_rg.sampling import metropolis, wolff
from ising_rg.sampling.rng import new_streams
from ising_rg.seeding import as_generator, bernoulli, seed_sequence

__all__ = ["CHAINS", "Chains", "MetropolisChains", "WolffChains", "random_start"]

#: Pilot result: (final spins, E/N per step, |m| per step, sweeps per step).
PilotRun = tuple[np.ndarray, np.ndarray, np.ndarray, float]
#: Stored output of every chain: (spins, E/N, m), chain-major.
ChainOutput = tuple[np.ndarray, np.ndarray, np.ndarray]


def random_start(size: int, rng: np.random.Generator) -> np.ndarray:
    """Independent uniformly random spins, int8 shaped (L, L) (-1 where a uniform u < 1/2)."""
    return 1 - 2 * bernoulli(0.5, rng, dtype=np.int8, shape=(size, size))


class Chains:
    """Independent chains of one algorithm on the L x L torus at coupling K (the interface).

    Subclasses define ``pilot`` and ``_kernel``; everything else is shared.
    """

    def __init__(self, size: int, coupling: float, n_chains: int, seed: int) -> None:
        self.size = size
        self.n_sites = size * size
        self.coupling = coupling
        seeds = seed_sequence(seed).spawn(n_chains + 2)
        self.start = random_start(size, as_generator(seeds[0]))
        self.pilot_seed = int(seeds[1].generate_state(1, np.uint64)[0])
        self.chain_seeds = [int(s.generate_state(1, np.uint64)[0]) for s in seeds[2:]]

    def pilot(self, n_thermalize_sweeps: int, n_steps: int,
              spins: np.ndarray | None = None) -> PilotRun:
        """Thermalize one chain for ``n_thermalize_sweeps``, then record ``n_steps`` steps."""
        raise NotImplementedError

    def _kernel(self, start: np.ndarray, spacing: int,
                out: ChainOutput) -> Callable[[int, int, int], None]:
        """``kernel(n_thermalize, a, b)``: advance every chain and store samples a..b-1."""
        raise NotImplementedError

    def run(self, start: np.ndarray, n_thermalize: int, spacing: int, n_per_chain: int,
            progress: Callable[[int, int], None] | None) -> ChainOutput:
        """Run every chain from ``start``; returns spins, E/N, m (chain-major, flattened)."""
        n_chains = len(self.chain_seeds)
        shape = (n_chains, n_per_chain)
        out = (np.empty(shape + (self.size, self.size), dtype=np.int8), np.empty(shape),
               np.empty(shape))
        kernel = self._kernel(start, spacing, out)
        # Chunks only so that a progress bar can move; the chains are unaffected by them.
        n_chunks = min(n_per_chain, 50) if progress is not None else 1
        edges = np.linspace(0, n_per_chain, n_chunks + 1).astype(int)
        for i in range(n_chunks):
            kernel(n_thermalize if i == 0 else 0, edges[i], edges[i + 1])
            if progress is not None:
                progress(int(edges[i + 1]) * n_chains, n_per_chain * n_chains)
        flat = (n_chains * n_per_chain,)
        spins, energy, magnetization = out
        return (spins.reshape(flat + (self.size, self.size)), energy.reshape(flat),
                magnetization.reshape(flat))


class MetropolisChains(Chains):
    """Checkerboard Metropolis: one step is one sweep of both sublattices."""

    def __init__(self, size: int, coupling: float, n_chains: int, seed: int) -> None:
        super().__init__(size, coupling, n_chains, seed)
        self.thresholds = metropolis.acceptance_thresholds(coupling)

    def _streams(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        return new_streams(seed, (2, self.size, self.size // 2), np.uint32)

    def pilot(self, n_thermalize_sweeps: int, n_steps: int,
              spins: np.ndarray | None = None) -> PilotRun:
        spins = (self.start if spins is None else spins).copy()
        energy = np.empty(n_steps, dtype=np.int64)
        magnetization = np.empty(n_steps, dtype=np.int64)
        black = np.empty((self.size, self.size // 2 + 2), dtype=np.int8)
        white = np.empty_like(black)
        metropolis.split_lattice(spins, black, white)
        s0, s1 = self._streams(self.pilot_seed)
        metropolis.sweeps_serial(black, white, s0, s1, self.thresholds, n_thermalize_sweeps)
        metropolis.record_series(black, white, s0, s1, self.thresholds, energy, magnetization)
        metropolis.join_lattice(black, white, spins)
        return spins, energy / self.n_sites, np.abs(magnetization) / self.n_sites, 1.0

    def _kernel(self, start: np.ndarray, spacing: int,
                out: ChainOutput) -> Callable[[int, int, int], None]:
        n_chains = len(self.chain_seeds)
        half = (n_chains, self.size, self.size // 2 + 2)
        black = np.empty(half, dtype=np.int8)
        white = np.empty(half, dtype=np.int8)
        s0 = np.empty((n_chains, 2, self.size, self.size // 2), dtype=np.uint32)
        s1 = np.empty_like(s0)
        for c, seed in enumerate(self.chain_seeds):
            metropolis.split_lattice(start, black[c], white[c])
            s0[c], s1[c] = self._streams(seed)
        spins_out, energy_out, magnetization_out = out

        def kernel(n_thermalize: int, a: int, b: int) -> None:
            metropolis.run_chains(black, white, s0, s1, self.thresholds, n_thermalize, spacing,
                                  spins_out[:, a:b], energy_out[:, a:b],
                                  magnetization_out[:, a:b])
        return kernel


class WolffChains(Chains):
    """Single-cluster Wolff: one step is one cluster (its mean size / N sweeps)."""

    def __init__(self, size: int, coupling: float, n_chains: int, seed: int) -> None:
        super().__init__(size, coupling, n_chains, seed)
        self.p_add = wolff.add_probability(coupling)

    def pilot(self, n_thermalize_sweeps: int, n_steps: int,
              spins: np.ndarray | None = None) -> PilotRun:
        spins = (self.start if spins is None else spins).copy()
        energy = np.empty(n_steps, dtype=np.int64)
        magnetization = np.empty(n_steps, dtype=np.int64)
        state = np.array(new_streams(self.pilot_seed, 2)[0])
        stack = np.empty(self.n_sites, dtype=np.int64)
        # Thermalize by flipped-spin count: harmless here, since nothing is stored yet.
        flipped = 0
        while flipped < n_thermalize_sweeps * self.n_sites:
            flipped += wolff.cluster_steps(spins, self.p_add, state, stack, 64)
        sizes = np.empty(n_steps, dtype=np.int64)
        wolff.record_series(spins, self.p_add, state, energy, magnetization, sizes)
        sweeps_per_step = float(sizes.mean()) / self.n_sites
        return spins, energy / self.n_sites, np.abs(magnetization) / self.n_sites, sweeps_per_step

    def _kernel(self, start: np.ndarray, spacing: int,
                out: ChainOutput) -> Callable[[int, int, int], None]:
        chains = np.repeat(start[None], len(self.chain_seeds), axis=0)
        states = np.stack([new_streams(seed, 2)[0] for seed in self.chain_seeds])
        spins_out, energy_out, magnetization_out = out

        def kernel(n_thermalize: int, a: int, b: int) -> None:
            wolff.run_chains(chains, self.p_add, states, n_thermalize, spacing, spins_out[:, a:b],
                             energy_out[:, a:b], magnetization_out[:, a:b])
        return kernel


#: The chain class of each algorithm of ``SampleOptions.algorithm``.
CHAINS: dict[str, type[Chains]] = {"metropolis": MetropolisChains, "wolff": WolffChains}

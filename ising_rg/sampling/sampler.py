"""Equilibrium sampling of the 2D Ising model: thermalization, automatic spacing, SampleSet.

``sample(SampleOptions(...))`` is the library behind ``ising-rg sample``. It runs a pilot chain
to measure the integrated autocorrelation times of E and |m| (Sokal's automatic window),
thermalizes, and then runs independent chains in parallel that store a configuration every
``spacing`` steps. The options default to the paper's data set (:mod:`ising_rg.paper`).

Units of Monte Carlo time: a Metropolis step is one checkerboard sweep (N attempted flips);
a Wolff step is one cluster. Wolff times are reported in sweep equivalents, steps times the
mean cluster size over N, but samples are always separated by a *fixed* number of cluster
steps (storing whenever enough spins have flipped would be a state-dependent rule that
biases the samples toward order).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from ising_rg import paper
from ising_rg.checks import check_choice, check_integer, check_number
from ising_rg.errors import IsingRGError
from ising_rg.sampling import metropolis, wolff
from ising_rg.sampling.observables import integrated_autocorrelation_time
from ising_rg.sampling.rng import new_streams
from ising_rg.seeding import as_generator, bernoulli, seed_sequence

ALGORITHMS = ("wolff", "metropolis")
DEFAULT_CHAINS = 8  # fixed, not the thread count, so results do not depend on the machine
PILOT_MIN_STEPS = 4096
PILOT_MAX_STEPS = 1 << 20
PILOT_LENGTH_IN_TAUS = 200  # a pilot this long gives tau_int to ~10% (Sokal's error formula)
THERMALIZATION_IN_TAUS = 20
INITIAL_THERMALIZATION_SWEEPS = 1000


@dataclass
class SampleSet:
    """Configurations and their provenance.

    Attributes
    ----------
    spins : int8 (n_samples, L, L), values in {-1, +1}; chain-major order
    energy : float64 (n_samples,), energy per spin (J = 1)
    magnetization : float64 (n_samples,), signed magnetization per spin
    size, coupling, algorithm, seed : run parameters (coupling K = J / k_B T)
    thermalization_sweeps, spacing_sweeps : float, in sweeps (sweep equivalents for Wolff)
    tau_int_energy, tau_int_abs_magnetization : float, integrated autocorrelation times, sweeps
    options : dict, every resolved option (JSON-serialisable)
    """

    spins: np.ndarray
    energy: np.ndarray
    magnetization: np.ndarray
    size: int
    coupling: float
    algorithm: str
    seed: int
    thermalization_sweeps: float
    spacing_sweeps: float
    tau_int_energy: float
    tau_int_abs_magnetization: float
    options: dict = field(default_factory=dict)

    @property
    def temperature(self) -> float:
        """T = 1 / K in units of J / k_B."""
        return 1.0 / self.coupling

    @property
    def n_samples(self) -> int:
        return int(self.spins.shape[0])


@dataclass(frozen=True)
class SampleOptions:
    """What to sample: the L x L torus at coupling K (default: the paper's data set).

    Attributes
    ----------
    size : int, L (even, >= 4)
    coupling : float, K = J / k_B T > 0
    n_samples : int, configurations to store
    algorithm : {"wolff", "metropolis"}
    seed : int, root seed; the same seed gives bit-identical output on any number of threads
    thermalization, spacing : int or "auto"
        Sweeps (sweep equivalents for Wolff). ``"auto"`` thermalizes for max(1000, 20 tau)
        sweeps and spaces samples by ceil(2 tau) steps, tau the larger integrated
        autocorrelation time of E and |m| from the pilot run.
    n_chains : int
        Independent chains run in parallel, each from the pilot's equilibrated state and
        thermalized again with its own random stream.
    """

    size: int = paper.SIZE
    coupling: float = paper.COUPLING
    n_samples: int = paper.N_SAMPLES
    algorithm: str = "wolff"
    seed: int = 0
    thermalization: int | str = "auto"
    spacing: int | str = "auto"
    n_chains: int = DEFAULT_CHAINS


def resolve_coupling(coupling: float | None, temperature: float | None) -> float:
    """K from exactly one of ``coupling`` (K = J / k_B T) or ``temperature`` (T = 1 / K)."""
    if coupling is not None and temperature is not None:
        raise IsingRGError("give either --coupling or --temperature, not both")
    if temperature is not None:
        return 1.0 / check_number(temperature, "temperature", above=0)
    if coupling is None:
        raise IsingRGError("a coupling or a temperature is required")
    return check_number(coupling, "coupling", above=0)


def check_options(options: SampleOptions) -> None:
    """Raise IsingRGError (one line) for any impossible sampling option."""
    if check_integer(options.size, "size", 4) % 2:  # the checkerboard needs even rows
        raise IsingRGError(f"size must be an even integer >= 4, got {options.size}")
    check_number(options.coupling, "coupling", above=0)
    check_integer(options.n_samples, "n_samples", 1)
    check_choice(options.algorithm, "algorithm", ALGORITHMS)
    check_integer(options.seed, "seed", 0, 2**63 - 1)
    check_integer(options.n_chains, "n_chains", 1)
    for name, minimum in (("thermalization", 0), ("spacing", 1)):
        value = getattr(options, name)
        if value != "auto":
            check_integer(value, f"{name} (sweeps, or 'auto')", minimum)


def random_start(size: int, rng: np.random.Generator) -> np.ndarray:
    """Independent uniformly random spins, int8 shaped (L, L) (-1 where a uniform u < 1/2)."""
    return 1 - 2 * bernoulli(0.5, rng, dtype=np.int8, shape=(size, size))


class _Chains:
    """The state of independent chains of one algorithm, behind one interface."""

    def __init__(self, algorithm: str, size: int, coupling: float, n_chains: int, seed: int):
        self.algorithm = algorithm
        self.size = size
        self.n_sites = size * size
        seeds = seed_sequence(seed).spawn(n_chains + 2)
        start = random_start(size, as_generator(seeds[0]))
        self.pilot_seed = int(seeds[1].generate_state(1, np.uint64)[0])
        self.chain_seeds = [int(s.generate_state(1, np.uint64)[0]) for s in seeds[2:]]
        self.start = start
        if algorithm == "metropolis":
            self.thresholds = metropolis.acceptance_thresholds(coupling)
        else:
            self.p_add = wolff.add_probability(coupling)

    def pilot(self, n_thermalize_sweeps: int, n_steps: int, spins: np.ndarray | None = None):
        """Run the pilot chain; returns (final spins, E series, |m| series, sweeps per step)."""
        spins = (self.start if spins is None else spins).copy()
        energy = np.empty(n_steps, dtype=np.int64)
        magnetization = np.empty(n_steps, dtype=np.int64)
        if self.algorithm == "metropolis":
            black, white = _split(spins)
            s0, s1 = new_streams(self.pilot_seed, (2, self.size, self.size // 2), np.uint32)
            metropolis.sweeps_serial(black, white, s0, s1, self.thresholds, n_thermalize_sweeps)
            metropolis.record_series(black, white, s0, s1, self.thresholds, energy, magnetization)
            metropolis.join_lattice(black, white, spins)
            sweeps_per_step = 1.0
        else:
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

    def run(self, start: np.ndarray, n_thermalize: int, spacing: int, n_per_chain: int,
            progress: Callable[[int, int], None] | None):
        """Run every chain from ``start``; returns spins, energy, magnetization (chain-major)."""
        n_chains = len(self.chain_seeds)
        shape = (n_chains, n_per_chain)
        spins_out = np.empty(shape + (self.size, self.size), dtype=np.int8)
        energy_out = np.empty(shape)
        magnetization_out = np.empty(shape)
        if self.algorithm == "metropolis":
            half = (n_chains, self.size, self.size // 2 + 2)
            black = np.empty(half, dtype=np.int8)
            white = np.empty(half, dtype=np.int8)
            s0 = np.empty((n_chains, 2, self.size, self.size // 2), dtype=np.uint32)
            s1 = np.empty_like(s0)
            for c, seed in enumerate(self.chain_seeds):
                metropolis.split_lattice(start, black[c], white[c])
                s0[c], s1[c] = new_streams(seed, (2, self.size, self.size // 2), np.uint32)

            def kernel(n_therm, a, b):
                metropolis.run_chains(black, white, s0, s1, self.thresholds, n_therm, spacing,
                                      spins_out[:, a:b], energy_out[:, a:b],
                                      magnetization_out[:, a:b])
        else:
            chains = np.repeat(start[None], n_chains, axis=0)
            states = np.stack([new_streams(seed, 2)[0] for seed in self.chain_seeds])

            def kernel(n_therm, a, b):
                wolff.run_chains(chains, self.p_add, states, n_therm, spacing, spins_out[:, a:b],
                                 energy_out[:, a:b], magnetization_out[:, a:b])

        # Chunks only so that a progress bar can move; the chains are unaffected by them.
        n_chunks = min(n_per_chain, 50) if progress is not None else 1
        edges = np.linspace(0, n_per_chain, n_chunks + 1).astype(int)
        for i in range(n_chunks):
            kernel(n_thermalize if i == 0 else 0, edges[i], edges[i + 1])
            if progress is not None:
                progress(int(edges[i + 1]) * n_chains, n_per_chain * n_chains)
        flat = (n_chains * n_per_chain,)
        return (spins_out.reshape(flat + (self.size, self.size)), energy_out.reshape(flat),
                magnetization_out.reshape(flat))


def _split(spins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    size = spins.shape[0]
    black = np.empty((size, size // 2 + 2), dtype=np.int8)
    white = np.empty_like(black)
    metropolis.split_lattice(spins, black, white)
    return black, white


def measure_autocorrelation(chains: _Chains, thermalize_sweeps: int):
    """Pilot run, lengthened until it spans PILOT_LENGTH_IN_TAUS of the slower observable.

    Returns the equilibrated pilot configuration, tau_int of E and |m| in steps, and the
    sweeps per step.
    """
    n_steps = PILOT_MIN_STEPS
    spins = None
    while True:
        spins, energy, abs_m, sweeps_per_step = chains.pilot(thermalize_sweeps, n_steps, spins)
        tau_energy = integrated_autocorrelation_time(energy)
        tau_abs_m = integrated_autocorrelation_time(abs_m)
        long_enough = n_steps >= PILOT_LENGTH_IN_TAUS * max(tau_energy, tau_abs_m)
        if long_enough or n_steps >= PILOT_MAX_STEPS:
            return spins, tau_energy, tau_abs_m, sweeps_per_step
        n_steps *= 2
        thermalize_sweeps = 0  # continue from the equilibrated state


def draw(options: SampleOptions, progress: Callable[[int, int], None] | None = None) -> SampleSet:
    """Draw equilibrium configurations of the L x L periodic Ising model (no validation).

    ``sample`` checks the options and calls this. Called directly (tests on tiny lattices),
    the kernels only need L >= 2, even for Metropolis.

    Parameters
    ----------
    options : SampleOptions
    progress : callable(done, total), optional

    Returns
    -------
    SampleSet
    """
    size, n_samples, n_chains = options.size, options.n_samples, options.n_chains
    thermalization, spacing = options.thermalization, options.spacing
    chains = _Chains(options.algorithm, size, options.coupling, n_chains, options.seed)
    start, tau_energy, tau_abs_m, sweeps_per_step = measure_autocorrelation(
        chains, INITIAL_THERMALIZATION_SWEEPS
    )
    tau_steps = max(tau_energy, tau_abs_m)
    if spacing == "auto":
        spacing_steps = max(1, math.ceil(2.0 * tau_steps))
    else:
        spacing_steps = max(1, math.ceil(spacing / sweeps_per_step))
    if thermalization == "auto":
        thermalize_steps = max(
            math.ceil(INITIAL_THERMALIZATION_SWEEPS / sweeps_per_step),
            math.ceil(THERMALIZATION_IN_TAUS * tau_steps),
        )
    else:
        thermalize_steps = math.ceil(thermalization / sweeps_per_step)
    n_per_chain = -(-n_samples // n_chains)
    spins, energy, magnetization = chains.run(start, thermalize_steps, spacing_steps,
                                              n_per_chain, progress)
    resolved = {
        **asdict(options), "thermalization_steps": thermalize_steps,
        "spacing_steps": spacing_steps, "sweeps_per_step": sweeps_per_step,
        "tau_int_estimator": "Sokal automatic window, c = 6, on a pilot chain",
    }
    return SampleSet(
        spins=spins[:n_samples], energy=energy[:n_samples],
        magnetization=magnetization[:n_samples], size=size, coupling=float(options.coupling),
        algorithm=options.algorithm, seed=options.seed,
        thermalization_sweeps=thermalize_steps * sweeps_per_step,
        spacing_sweeps=spacing_steps * sweeps_per_step,
        tau_int_energy=tau_energy * sweeps_per_step,
        tau_int_abs_magnetization=tau_abs_m * sweeps_per_step,
        options=resolved,
    )


def sample(options: SampleOptions | None = None,
           progress: Callable[[int, int], None] | None = None) -> SampleSet:
    """Validated ``draw`` (L even and >= 4, K > 0, ...); default options: the paper's data set."""
    options = SampleOptions() if options is None else options
    check_options(options)
    return draw(options, progress)

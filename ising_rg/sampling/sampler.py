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

from ising_rg.checks import check_number
from ising_rg.errors import IsingRGError
from ising_rg.sampling.chains import CHAINS, Chains
from ising_rg.sampling.observables import integrated_autocorrelation_time
from ising_rg.settings import SampleOptions

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


def resolve_coupling(coupling: float | None, temperature: float | None) -> float:
    """K from exactly one of ``coupling`` (K = J / k_B T) or ``temperature`` (T = 1 / K)."""
    if coupling is not None and temperature is not None:
        raise IsingRGError("give either --coupling or --temperature, not both")
    if temperature is not None:
        return 1.0 / check_number(temperature, "temperature", above=0)
    if coupling is None:
        raise IsingRGError("a coupling or a temperature is required")
    return check_number(coupling, "coupling", above=0)


def measure_autocorrelation(chains: Chains, thermalize_sweeps: int):
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

    ``sample`` checks the options and calls this. Called directly with
    ``SampleOptions.unchecked`` (tests on tiny lattices), the kernels only need L >= 2, even
    for Metropolis.

    Parameters
    ----------
    options : SampleOptions
    progress : callable(done, total), optional

    Returns
    -------
    SampleSet
    """
    size, n_samples, n_chains = options.size, options.samples, options.chains
    thermalization, spacing = options.thermalization, options.spacing
    chains = CHAINS[options.algorithm](size, options.coupling, n_chains, options.seed)
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
    """``draw`` with checked options (``SampleOptions`` checks itself: L even and >= 4, K > 0,
    ...); default options: the paper's data set."""
    options = SampleOptions() if options is None else options
    if not isinstance(options, SampleOptions):
        raise IsingRGError(f"options must be SampleOptions, got {type(options).__name__}")
    return draw(SampleOptions(**options.to_dict()), progress)

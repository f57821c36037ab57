"""Correlation length of fields on a torus from the zero-momentum (wall-to-wall) correlator.

One estimator for spins and for coarse fields of hidden units (``ising_rg.rg.hidden_correlation``).

Method (``wall_correlation_length``)
------------------------------------
1. **Wall-to-wall correlator.** For each configuration of a field phi on an L x L torus (site
   spacing a = ``spacing`` original lattice spacings) take the row sums R_y = sum_x phi(x, y)
   and the column sums; the connected correlator of walls r apart, averaged over the L walls
   and both directions, is

       C(r) = L sum_y [<R_y R_{y+r}> - <R_y><R_{y+r}>] / sum_y A_y A_{y+r},

   A_y the number of sites of wall y that carry a field (L without a ``mask``), so that
   C(r) = sum_x <phi(0, 0) phi(x, r)>_c for spins.  Summing over a wall projects onto zero
   transverse momentum: what is left decays as a sum of pure exponentials, one per state of the
   transfer matrix, without the r^(-1/2) (Ornstein-Zernike) prefactor of the point-to-point
   correlation that biases a fit at short distances.
2. **Connected part in the ordered phase.** On a finite lattice <m> = 0 by symmetry even below
   T_c (the configurations visit both signs of the magnetisation), so the plain connected
   correlator contains the spontaneous magnetisation squared.  In the ordered phase every
   configuration is therefore first *sign-aligned*: multiplied by the sign of its total
   sum_x phi(x) (+1 for a zero total), and the means <R_y> are those of the aligned fields.
   Alignment is applied only where the totals are bimodal (Binder cumulant of the totals above
   the crossing value U4* = 0.6107): for data that stay in one phase (e.g. Metropolis chains
   below T_c, or standardised activations whose mean already absorbs the magnetisation) the
   plain connected correlator is the right one, and aligning by the sign of a zero-mean
   fluctuation would bias it.  Above T_c nothing is aligned.
3. **Effective mass** (``ising_rg.estimators.effective_mass``). Each pair of neighbouring
   separations (r, r + a), r + a <= L a / 2, gives an effective decay rate mu(r) = 1 / xi_eff(r)
   (inverse original lattice spacings):

   * disordered phase, one-particle reading (``method = "wall_to_wall_cosh"``): a single
     state on the torus gives C(r) ~ cosh((r - L a/2) / xi) (the state propagates both ways
     round), so mu solves C(r) / C(r + a) = cosh((r - La/2) mu) / cosh((r + a - La/2) mu).
     Above T_c the lowest state is one particle of mass 1/xi and the next states (three
     particles) start at 3/xi, so the effective mass is on its plateau within a few xi;
   * ordered phase, two-particle reading (``method = "wall_to_wall_two_particle"``): below
     T_c the spin operator connects the vacuum to *two*-particle states, and at zero total
     momentum they form a continuum (momenta q and -q) whose threshold is reached only as
     C(r) ~ r^(-3/2) exp(-r/xi): the cosh effective mass approaches its plateau from above,
     slowly (at K = 0.5, L = 40 it reads 0.91, 0.78, 0.71, 0.67, 0.62 at r = 0..4 against the
     exact 1/xi = 0.456, and is still 14 % high at r = L/2).  The two-particle reading fits
     the measured ratio with the lattice two-particle spectrum instead:

         C(r) ~ sum_q w(q) [exp(-2 g(q) r) + exp(-2 g(q) (La - r))],
         cosh g(q) = cosh m + 1 - cos q,   w(q) = sin^2 q / sinh^4 g(q) * B(q),

     q = pi k / (La), k = 1 .. La - 1 (the periodic and antiperiodic fermion sectors of the
     two vacua), g the exact one-particle dispersion of the square-lattice Ising model (its
     form depends on the mass m alone), w the large-L lattice two-particle form factor
     [sin q / sinh g]^2 times the density of states 1/sinh^2 g, and
     B = (sinh(a g) / sinh g)^2 the weight of a state in the sum of a wall over a rows (exact
     for block-averaged fields, 1 for spins).  mu(r) = 2 m solves the ratio equation; the
     connected correlation length is xi = 1/(2m) (``ising_rg.exact.onsager_correlation_length``).
     Checked against Monte Carlo at K = 0.5, L = 40, where the predicted cosh effective mass
     agrees with the measured one within its error at every r the data resolve; finite-size
     corrections to the form factors (order exp(-m L a)) are neglected, so the reading needs
     L a >> xi.  The single-state (cosh) reading is reported beside it (``single_state``) with
     ``plateau_reached`` False, since its drift is known.
4. **Plateau and error** (``ising_rg.estimators.plateau``). The effective masses usable from
   r >= min_separation on are averaged over a window chosen from the data: the earliest start
   from which ``min_window`` of them agree within ``n_sigma`` errors (``plateau``,
   ``plateau_reached``), smoothed for the estimate itself so that xi is a smooth function of
   the data; the error is a blocked jackknife over ``n_blocks`` contiguous blocks of
   configurations of the whole chain correlator -> effective mass -> window choice ->
   plateau mean (the window chosen again by every replicate).
5. **Flags.** ``finite_size_limited`` when xi > L a / 4: the torus then holds fewer than four
   correlation lengths, the measured value is an effective length of the finite lattice and
   depends on L (near T_c, e.g. K = 0.44, T = 2.273 where the infinite-lattice xi is 364).

Separations and lengths are in original lattice spacings throughout; a coarse lattice of
spacing a = b therefore reports xi on the same scale as the spins it came from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ising_rg.errors import IsingRGError
from ising_rg.estimators.effective_mass import (
    KernelModel,
    cosh_decay_rates,
    kernel_decay_rates,
    two_particle_correlator,
    two_particle_decay_rates,
)
from ising_rg.estimators.plateau import plateau_reading
from ising_rg.sampling.observables import jackknife

__all__ = [
    "BINDER_CROSSING",
    "METHOD_KERNEL",
    "METHOD_ONE_PARTICLE",
    "METHOD_TWO_PARTICLE",
    "CorrelationLength",
    "wall_correlation_length",
    "two_particle_correlator",
]

#: Binder cumulant at the crossing of different L (periodic square lattice): the bimodality
#: threshold for sign alignment and for telling the ordered phase from the disordered one.
BINDER_CROSSING = 0.6107
METHOD_ONE_PARTICLE = "wall_to_wall_cosh"
METHOD_TWO_PARTICLE = "wall_to_wall_two_particle"
METHOD_KERNEL = "wall_to_wall_through_kernels"


@dataclass(frozen=True)
class CorrelationLength:
    """A correlation length read from a wall-to-wall correlator (module docstring).

    Attributes
    ----------
    mean, error : float
        xi and its jackknife error, original lattice spacings (``inf`` if the correlator does
        not decay at all over the torus, NaN if no separation is usable).
    method : str
        ``METHOD_ONE_PARTICLE`` or ``METHOD_TWO_PARTICLE``.
    finite_size_limited : bool
        xi > L a / 4 (L a the torus side in original lattice spacings).
    plateau_reached : bool
        A consistent window of ``min_window`` effective masses was found.
    ordered, sign_aligned : bool
        Phase used for the reading; whether configurations were sign-aligned.
    binder_cumulant : float
        1 - <T^4> / (3 <T^2>^2) of the per-configuration totals T (before alignment).
    plateau : (float, float) or None
        First and last separation r of the effective masses averaged (original spacings).
    separation : float64 (n_pairs,)
        r of each effective mass (pair (r, r + a)), original lattice spacings.
    effective_xi, effective_xi_error : float64 (n_pairs,)
        1 / mu(r) and its error (delta method from the jackknife error of mu); inf where mu = 0.
    correlator_separation, correlator, correlator_error : float64 (L//2 + 1,)
        C(r) at r = 0, a, 2a, ... with jackknife errors (field units squared per site).
    size : float
        Torus side L a in original lattice spacings.
    spacing : float
    n_samples, n_blocks : int
    single_state : dict or None
        Ordered phase only: the one-particle (cosh) reading of the same correlator,
        {"mean", "error", "plateau_reached" (always False), "effective_xi",
        "effective_xi_error"}.
    without_kernels : dict or None
        Read through kernels (``METHOD_KERNEL``) only: the same correlator read as if the
        fields were points (cosh, or two-particle when ordered), {"mean", "error",
        "plateau_reached", "effective_xi", "effective_xi_error"}: what the kernels' width does
        to a reading that ignores them.
    """

    mean: float
    error: float
    method: str
    finite_size_limited: bool
    plateau_reached: bool
    ordered: bool
    sign_aligned: bool
    binder_cumulant: float
    plateau: tuple[float, float] | None
    separation: np.ndarray
    effective_xi: np.ndarray
    effective_xi_error: np.ndarray
    correlator_separation: np.ndarray
    correlator: np.ndarray
    correlator_error: np.ndarray
    size: float
    spacing: float
    n_samples: int
    n_blocks: int
    single_state: dict[str, Any] | None = field(default=None)
    without_kernels: dict[str, Any] | None = field(default=None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (arrays as lists, non-finite numbers as None)."""
        out: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            out[name] = _jsonable(value)
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_jsonable(float(v)) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    return value


# ------------------------------------------------------------------------------- correlator
def _wall_series(
    fields: np.ndarray, mask: np.ndarray | None, align: bool | None, n_blocks: int
) -> tuple[tuple[np.ndarray, ...], np.ndarray, float, bool]:
    """Block sums of the correlator's series, the wall occupancies, U4 and alignment.

    Returns ((sums over each of ``n_blocks`` contiguous blocks of the wall products
    (n_blocks, n_r), the row sums (n_blocks, L) and the column sums (n_blocks, L), block sizes
    (n_blocks,)), occupancy products (n_r,), Binder cumulant of the totals, whether the
    configurations were aligned).  ``align`` None: align iff the totals are bimodal
    (U4 > BINDER_CROSSING).
    """
    size = fields.shape[1]
    if mask is None:
        rows = fields.sum(axis=2, dtype=np.float64)
        cols = fields.sum(axis=1, dtype=np.float64)
        row_sites = np.full(size, float(size))
        col_sites = row_sites
    else:
        masked = np.where(mask, fields, 0.0)
        rows = masked.sum(axis=2)
        cols = masked.sum(axis=1)
        row_sites = mask.sum(axis=1).astype(np.float64)
        col_sites = mask.sum(axis=0).astype(np.float64)
    totals = rows.sum(axis=1)
    second = np.mean(totals**2)
    binder = 1.0 - np.mean(totals**4) / (3.0 * second**2) if second > 0 else 0.0
    aligned = binder > BINDER_CROSSING if align is None else bool(align)
    if aligned:
        sign = np.where(totals < 0, -1.0, 1.0)[:, np.newaxis]
        rows = rows * sign
        cols = cols * sign
    shifts = np.arange(size // 2 + 1)
    products = np.stack(
        [0.5 * np.sum(rows * np.roll(rows, -s, axis=1) + cols * np.roll(cols, -s, axis=1), axis=1)
         for s in shifts],
        axis=1,
    )
    occupancy = np.array(
        [0.5 * np.sum(row_sites * np.roll(row_sites, -s) + col_sites * np.roll(col_sites, -s))
         for s in shifts]
    )
    if np.any(occupancy <= 0):
        raise IsingRGError("some separation has no pair of occupied walls; mask too sparse")
    # Every estimate is a function of means, so the jackknife only needs sums per block.
    edges = np.linspace(0, fields.shape[0], n_blocks + 1).astype(int)
    block_sums = tuple(np.add.reduceat(x, edges[:-1], axis=0) for x in (products, rows, cols))
    return block_sums + (np.diff(edges).astype(np.float64),), occupancy, float(binder), aligned


def _connected_correlator(series: tuple[np.ndarray, ...], occupancy: np.ndarray) -> np.ndarray:
    """C(r), r = 0 .. L//2 (sites), from block sums of the series (``_wall_series``)."""
    products, rows, cols, counts = series
    n = counts.sum()
    size = rows.shape[1]
    row_mean = rows.sum(axis=0) / n
    col_mean = cols.sum(axis=0) / n
    disconnected = np.array(
        [0.5 * np.sum(row_mean * np.roll(row_mean, -s) + col_mean * np.roll(col_mean, -s))
         for s in range(occupancy.size)]
    )
    return size * (products.sum(axis=0) / n - disconnected) / occupancy



# ------------------------------------------------------------------------------ entry point
def _validate(fields: ArrayLike, spacing: float, mask: ArrayLike | None, n_blocks: int,
              min_window: int, min_separation: float, n_sigma: float,
              softness: float) -> tuple[np.ndarray, np.ndarray | None]:
    """The fields as an array (n, L, L) and the mask as bool (L, L) or None, every argument of
    ``wall_correlation_length`` checked; IsingRGError for a bad one."""
    x = np.asarray(fields)
    if x.ndim != 3 or x.shape[1] != x.shape[2]:
        raise IsingRGError(f"fields must be shaped (n, L, L), got {np.shape(fields)}")
    if x.shape[1] < 4:
        raise IsingRGError(f"the lattice must be at least 4 x 4, got {x.shape[1]} x {x.shape[2]}")
    if not (isinstance(n_blocks, int | np.integer) and n_blocks >= 2):
        raise IsingRGError(f"n_blocks must be an integer >= 2, got {n_blocks!r}")
    if x.shape[0] < 2 * n_blocks:
        raise IsingRGError(
            f"need at least 2 configurations per jackknife block ({2 * n_blocks}), got {x.shape[0]}"
        )
    if not (isinstance(min_window, int | np.integer) and min_window >= 2):
        raise IsingRGError(f"min_window must be an integer >= 2, got {min_window!r}")
    if not (math.isfinite(spacing) and spacing > 0):
        raise IsingRGError(f"spacing must be a positive number, got {spacing!r}")
    if not (math.isfinite(min_separation) and min_separation >= 0):
        raise IsingRGError(f"min_separation must be >= 0, got {min_separation!r}")
    if x.dtype.kind not in "biuf":
        raise IsingRGError(f"fields must be numeric, got dtype {x.dtype}")
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        raise IsingRGError("fields contain NaN or infinite values")
    m = None if mask is None else np.asarray(mask, dtype=bool)
    if m is not None and m.shape != x.shape[1:]:
        raise IsingRGError(f"mask must be shaped {x.shape[1:]}, got {m.shape}")
    if m is not None and not m.any():
        raise IsingRGError("the mask leaves no site of the lattice")
    for name, value in (("n_sigma", n_sigma), ("softness", softness)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise IsingRGError(f"{name} must be a positive number, got {value!r}")
    return x, m


def _first_pair(min_separation: float, spacing: float, size: int) -> int:
    """Index of the first separation r = index * spacing >= min_separation of an
    effective-mass pair (r, r + spacing); IsingRGError if none is left on the torus."""
    first = int(math.ceil(min_separation / spacing - 1e-9))
    if size // 2 - first < 1:
        raise IsingRGError(
            f"min_separation {min_separation:g} leaves no pair of separations on a torus of "
            f"{size} sites of spacing {spacing:g}"
        )
    return first


def _effective_mass_reading(series: tuple[np.ndarray, ...], occupancy: np.ndarray,
                            first: int, spacing: float, is_ordered: bool,
                            options: tuple[int, int, float, float, float],
                            kernel_spectra: np.ndarray | None = None) -> dict[str, Any]:
    """Steps 3-4 of the module docstring: the effective masses of the correlator's block sums,
    read as one particle (cosh) or, in the ordered phase, as two particles, and their plateau.

    ``options``: (n_blocks, min_window, n_sigma, softness, max_relative_error). Returns the
    reading's fields of ``CorrelationLength`` (mean, error, method, plateau_reached, plateau,
    separation, effective_xi, effective_xi_error, single_state).
    """
    size = series[1].shape[1]
    total_size = size * spacing

    def cosh_rates(s: tuple[np.ndarray, ...]) -> np.ndarray:
        return cosh_decay_rates(_connected_correlator(s, occupancy), spacing, total_size)

    def two_particle_rates(s: tuple[np.ndarray, ...]) -> np.ndarray:
        return two_particle_decay_rates(_connected_correlator(s, occupancy), spacing,
                                        total_size)

    # The kernels' model is the one-particle one: in the ordered phase the point reading stays.
    kernel_spectra = None if is_ordered else kernel_spectra
    model = None if kernel_spectra is None else KernelModel(kernel_spectra, spacing)

    def kernel_rates(s: tuple[np.ndarray, ...]) -> np.ndarray:
        return kernel_decay_rates(_connected_correlator(s, occupancy), model)

    one_particle = plateau_reading(series, cosh_rates, first, *options)
    point = (plateau_reading(series, two_particle_rates, first, *options) if is_ordered
             else one_particle)
    primary = (point if kernel_spectra is None
               else plateau_reading(series, kernel_rates, first, *options))
    separation = spacing * np.arange(first, size // 2, dtype=np.float64)
    plateau = primary["plateau"]
    without_kernels = None if kernel_spectra is None else {
        key: (float(point[key]) if key in ("mean", "error") else point[key])
        for key in ("mean", "error", "plateau_reached", "effective_xi", "effective_xi_error")}
    single_state = None
    if is_ordered and kernel_spectra is None:
        single_state = {
            "mean": float(one_particle["mean"]),
            "error": float(one_particle["error"]),
            "plateau_reached": False,  # a two-particle channel: known drift (module step 3)
            "effective_xi": one_particle["effective_xi"],
            "effective_xi_error": one_particle["effective_xi_error"],
        }
    return {
        "mean": float(primary["mean"]),
        "error": float(primary["error"]),
        "method": (METHOD_KERNEL if kernel_spectra is not None
                   else METHOD_TWO_PARTICLE if is_ordered else METHOD_ONE_PARTICLE),
        "plateau_reached": bool(primary["plateau_reached"]),
        "plateau": None if plateau is None else (float(separation[plateau[0]]),
                                                 float(separation[plateau[1]])),
        "separation": separation,
        "effective_xi": primary["effective_xi"],
        "effective_xi_error": primary["effective_xi_error"],
        "single_state": single_state,
        "without_kernels": without_kernels,
    }


def wall_correlation_length(
    fields: ArrayLike,
    spacing: float = 1.0,
    *,
    ordered: bool | None = None,
    min_separation: float = 0.0,
    mask: ArrayLike | None = None,
    n_blocks: int = 32,
    min_window: int = 3,
    n_sigma: float = 3.0,
    softness: float = 0.5,
    max_relative_error: float = 0.1,
    kernel_spectra: np.ndarray | None = None,
) -> CorrelationLength:
    """Correlation length from the wall-to-wall correlator's effective mass (module docstring).

    Parameters
    ----------
    fields : array-like, shape (n, L, L)
        Real-valued fields on an L x L torus (spins in {-1, +1}, or coarse fields of hidden
        units), in sampling order (jackknife blocks are contiguous).
    spacing : float
        Site spacing a in original lattice spacings (b for a coarse lattice of b x b blocks);
        all lengths are reported in original lattice spacings.
    ordered : bool, optional
        Whether the system is in the ordered phase (K > K_c): selects the two-particle reading
        and allows sign alignment (applied only if the totals are bimodal).  None: inferred
        from the Binder cumulant of the totals (ordered if above ``BINDER_CROSSING``); pass it
        explicitly for data that stay in one phase, whose totals are not bimodal.
    min_separation : float
        Smallest separation r (original lattice spacings) of an effective-mass pair (r, r + a):
        hidden units whose receptive fields overlap correlate through shared inputs.
    mask : bool array-like, shape (L, L), optional
        Sites that carry a field (e.g. occupied bins); others are ignored, and the correlator
        is normalised by the occupancy of the walls.
    n_blocks : int, contiguous jackknife blocks (at least 2 configurations each)
    min_window : int, effective masses that must agree for a plateau (>= 2)
    n_sigma : float, the agreement tolerance in jackknife errors of the pairwise differences
    softness : float > 0
        Width of the smooth window choice, in the same errors (``ising_rg.estimators.plateau``).
    max_relative_error : float
        Effective masses with a larger relative error end the usable range.
    kernel_spectra : float64 (L//2 + 1, L a, L a), optional
        S(R, k) of fields that respond linearly to the spins through known kernels
        (``ising_rg.rg.hidden_correlation.kernel_spectra``): above T_c the effective masses
        are read through them (``kernel_decay_rates``, ``METHOD_KERNEL``; the point reading
        kept as ``without_kernels``); ignored below T_c (two particles).

    Returns
    -------
    CorrelationLength
    """
    x, m = _validate(fields, spacing, mask, n_blocks, min_window, min_separation, n_sigma,
                     softness)
    n_samples, size = x.shape[0], x.shape[1]
    total_size = size * spacing
    series, occupancy, binder, aligned = _wall_series(
        x, m, None if ordered is None or ordered else False, n_blocks
    )
    is_ordered = binder > BINDER_CROSSING if ordered is None else bool(ordered)
    first = _first_pair(min_separation, spacing, size)
    correlator, correlator_error = jackknife(
        lambda s: _connected_correlator(s, occupancy), series, n_blocks)
    reading = _effective_mass_reading(
        series, occupancy, first, spacing, is_ordered,
        (n_blocks, min_window, n_sigma, softness, max_relative_error), kernel_spectra)
    return CorrelationLength(
        **reading,
        finite_size_limited=bool(reading["mean"] > total_size / 4.0),
        ordered=is_ordered,
        sign_aligned=aligned,
        binder_cumulant=binder,
        correlator_separation=spacing * np.arange(occupancy.size, dtype=np.float64),
        correlator=np.asarray(correlator),
        correlator_error=np.asarray(correlator_error),
        size=float(total_size),
        spacing=float(spacing),
        n_samples=int(n_samples),
        n_blocks=int(n_blocks),
    )

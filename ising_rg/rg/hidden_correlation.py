"""Correlation length of a layer's hidden units, on the scale of the spins they came from.

If layer l does block-spin RG, its units are block spins: their activations, placed on a coarse
lattice of spacing b, must be correlated over the same length as the spins (in original lattice
spacings; xi / b in coarse spacings).  This module measures that length with the estimator used
for the spins, ``ising_rg.estimators.correlation_length.wall_correlation_length``, so the two
numbers are
comparable (issue 9 of the project: a fit of the point-to-point correlation at short distances
returned 4.25 for spins whose exact xi is 7.47).

Method (``hidden_correlation_length``)
--------------------------------------
1. **Sign alignment.** Each activation is multiplied by the polarity of its unit's receptive
   field (``field_polarity``: the sign of the field's sum), so a unit that responds to down
   spins counts with a minus sign and every unit reads like an up-spin block.
2. **Standardisation.** Per unit over the data: zero mean, unit variance.  Units whose
   activation standard deviation is at most ``min_std`` (dead or saturated: no correlation is
   defined) and units outside ``live`` are dropped.
3. **Binning.** Each unit is placed at its periodic receptive-field centroid
   (``ising_rg.rg.shape.periodic_centroid``) and assigned to the bin
   (floor(row / b), floor(col / b)) of an (L/b) x (L/b) coarse lattice (bin width b, bin edges
   at multiples of b, the aligned Kadanoff blocks).  A bin's field is the mean of its units'
   standardised activations; bins without a unit carry no field: they are masked out and the
   wall sums normalised by the number of occupied bins per wall (their number is reported).
4. **Estimator.** ``wall_correlation_length`` on the coarse lattice with spacing b, so xi comes
   out in original lattice spacings, using only effective-mass pairs (r, r + b) with
   r >= ``extent``: units whose receptive fields overlap correlate through shared inputs, not
   only through the physics.  Default extent: b, the size of a Kadanoff block (ideal b x b
   units in different bins share no input; this skips only the same-bin separation r = 0).
   Measured field radii are not used by default because the weak background of a trained field
   inflates them (a 2 x 2 block plus a 2 % uniform background has a radius of gyration of 6):
   pass a measured diameter as ``extent`` for fields known to be wider than b.

5. **Through the kernels** (``kernels``: each unit's mean Jacobian field, its linear response
   to the spins). A unit of width w smooths the spins' correlator over w, and read as a
   point its correlator decays too slowly until r >> w^2 / xi, which an L = 40 torus never
   reaches (Gaussian fields of width 4.5 and 6.3 read 7.9 and 9.6 for spins of xi = 7.4).
   With the kernels known, every wall of bins is the spins weighted by its units' responses,
   so the coarse correlator is modelled exactly as the spins' correlator seen through them
   (``kernel_spectra``: the spins' lattice one-particle propagator, whose wall projection is
   cosh((r - L/2)/xi)), and the effective masses are read with that model
   (``ising_rg.estimators.effective_mass.kernel_decay_rates``): the same widths then give the
   spins' xi within errors. The point reading is kept as ``without_kernels``. Above T_c only
   (the model is one particle).
6. **Local units only.** A field whose coherent weight beyond 0.4 L of its centroid exceeds
   10 % of its total (``far_coherent_share``: a sign-coherent background couples the unit to
   the whole lattice's magnetization; noise of both signs cancels) is left out and counted
   as non-local (a width-4.5 field on a 3 % background read 12.3 as a point).

Ideal Kadanoff units (block averages, or majority-rule block spins, with uniform b x b fields)
reproduce the spins' xi through this path, Gaussian fields of width up to 6.3 through their
kernels (tests/test_correlation.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ising_rg.errors import IsingRGError
from ising_rg.estimators.correlation_length import CorrelationLength, wall_correlation_length
from ising_rg.rg.shape import minimum_image, periodic_centroid

__all__ = ["HiddenCorrelationLength", "coarse_field", "far_coherent_share", "field_polarity",
           "hidden_correlation_length", "kernel_spectra"]

# Centroids exactly on a bin edge (b = 1) must not fall into the previous bin by rounding.
_EDGE_TOLERANCE = 1e-9
#: Distance from a unit's centroid, as a share of L, beyond which its field counts as far.
FAR_DISTANCE = 0.4
#: A unit is non-local when the coherent (signed) weight of its field beyond ``FAR_DISTANCE``
#: exceeds this share of its total absolute weight: Gaussian fields of width up to 6.3 at
#: L = 40 keep 4 %, a width-4.5 field on a 3 % sign-coherent background has 14 %.
NONLOCAL_SHARE = 0.1


def far_coherent_share(fields: ArrayLike) -> np.ndarray:
    """Per unit, |sum of its field beyond FAR_DISTANCE * L of its centroid| / sum |field|.

    What reaches far coherently (a background of one sign couples the unit to the whole
    lattice's magnetization) biases a correlation length; noise of both signs cancels.

    Parameters
    ----------
    fields : array-like, shape (n_units, L, L)

    Returns
    -------
    float64 (n_units,), in [0, 1]
    """
    f = np.asarray(fields, dtype=np.float64)
    size = f.shape[-1]
    centroids = periodic_centroid(f)
    grid = np.arange(size, dtype=np.float64)
    dy = minimum_image(grid[None, :, None] - centroids[:, 0, None, None], size)
    dx = minimum_image(grid[None, None, :] - centroids[:, 1, None, None], size)
    far = np.hypot(dy, dx) > FAR_DISTANCE * size
    total = np.abs(f).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.abs(np.where(far, f, 0.0).sum(axis=(1, 2))) / total
    return np.where(total > 0, share, 0.0)


def field_polarity(fields: ArrayLike) -> np.ndarray:
    """+1 or -1 per unit: the sign of the sum of its receptive field (+1 for a zero sum).

    A unit whose field is mostly negative fires for down-spin blocks; multiplying its activation
    by -1 makes all units "up-spin detectors", so their correlations are comparable in sign.

    Parameters
    ----------
    fields : array-like, shape (n_units, L, L) or (n_units, n_sites)

    Returns
    -------
    float64 array, shape (n_units,), values +-1.
    """
    f = np.asarray(fields, dtype=np.float64)
    total = f.reshape(f.shape[0], -1).sum(axis=1)
    return np.where(total < 0, -1.0, 1.0)


@dataclass(frozen=True)
class HiddenCorrelationLength:
    """Correlation length of hidden units and how they were binned.

    Attributes
    ----------
    length : CorrelationLength
        The wall-to-wall estimate on the coarse lattice (lengths in original lattice spacings).
    block_size : int
        Bin width b (coarse lattice (L/b) x (L/b)).
    extent : float
        Smallest separation used, original lattice spacings.
    n_units, n_units_used : int
        Units given; units kept (live, local and not constant).
    n_nonlocal : int
        Live units left out as non-local (``far_coherent_share``).
    n_bins, n_empty_bins, max_units_per_bin : int
        Coarse sites; those without a unit; the most units sharing one bin.
    """

    length: CorrelationLength
    block_size: int
    extent: float
    n_units: int
    n_units_used: int
    n_nonlocal: int
    n_bins: int
    n_empty_bins: int
    max_units_per_bin: int

    @property
    def mean(self) -> float:
        return self.length.mean

    @property
    def error(self) -> float:
        return self.length.error

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the estimate's fields plus ``binning``."""
        out = self.length.as_dict()
        out["binning"] = {
            "block_size": self.block_size,
            "extent": self.extent,
            "n_units": self.n_units,
            "n_units_used": self.n_units_used,
            "n_nonlocal": self.n_nonlocal,
            "n_bins": self.n_bins,
            "n_empty_bins": self.n_empty_bins,
            "max_units_per_bin": self.max_units_per_bin,
        }
        return out


def coarse_field(
    activations: ArrayLike,
    fields: ArrayLike,
    block_size: int,
    *,
    live: ArrayLike | None = None,
    min_std: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sign-aligned, standardised activations averaged per centroid bin (module steps 1-3).

    Parameters
    ----------
    activations : array-like, shape (n_samples, n_units)
        Activations (e.g. P(h = 1 | v)) over data samples, in sampling order.
    fields : array-like, shape (n_units, L, L)
        Receptive fields, on the L x L lattice of the spins.
    block_size : int
        Bin width b; L must be divisible by b.
    live : bool array-like, shape (n_units,), optional
        Units to use; units with activation standard deviation <= ``min_std`` are dropped too.
    min_std : float

    Returns
    -------
    coarse : float64 (n_samples, L/b, L/b)
        Mean standardised, aligned activation of the units in each bin (0 in empty bins).
    units_per_bin : int64 (L/b, L/b)
    used : bool (n_units,)
        Units kept.
    """
    h = np.asarray(activations, dtype=np.float64)
    f = np.asarray(fields, dtype=np.float64)
    if h.ndim != 2:
        raise IsingRGError(f"activations must be shaped (n_samples, n_units), got {h.shape}")
    n_units = h.shape[1]
    if f.ndim != 3 or f.shape[0] != n_units or f.shape[1] != f.shape[2]:
        raise IsingRGError(
            f"receptive fields must be shaped ({n_units}, L, L) to match the activations, "
            f"got {f.shape}"
        )
    size = f.shape[1]
    if isinstance(block_size, bool) or not isinstance(block_size, int | np.integer):
        raise IsingRGError(f"block size must be a positive integer, got {block_size!r}")
    if block_size < 1 or size % block_size:
        raise IsingRGError(f"block size {block_size} must be >= 1 and divide L = {size}")
    if not (np.all(np.isfinite(h)) and np.all(np.isfinite(f))):
        raise IsingRGError("activations and receptive fields must be finite")
    std = h.std(axis=0)
    used = std > min_std
    if live is not None:
        live_mask = np.asarray(live, dtype=bool)
        if live_mask.shape != (n_units,):
            raise IsingRGError(f"live must be shaped ({n_units},), got {live_mask.shape}")
        used &= live_mask
    if not used.any():
        raise IsingRGError("no live unit with a varying activation")
    n_coarse = size // block_size
    standardised = (h[:, used] - h[:, used].mean(axis=0)) / std[used]
    standardised *= field_polarity(f[used])
    index, counts = _bins(f[used], block_size)
    flat_bin = index[:, 0] * n_coarse + index[:, 1]
    assignment = np.zeros((flat_bin.size, n_coarse * n_coarse))
    assignment[np.arange(flat_bin.size), flat_bin] = 1.0 / counts.ravel()[flat_bin]
    coarse = (standardised @ assignment).reshape(-1, n_coarse, n_coarse)
    return coarse, counts, used


def _bins(fields: np.ndarray, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's bin (row, col) of the (L/b) x (L/b) coarse lattice, by its periodic
    receptive-field centroid, and the units per bin (module step 3)."""
    n_coarse = fields.shape[-1] // block_size
    centroids = periodic_centroid(fields)
    index = np.floor(centroids / block_size + _EDGE_TOLERANCE).astype(np.int64) % n_coarse
    counts = np.bincount(index[:, 0] * n_coarse + index[:, 1], minlength=n_coarse * n_coarse)
    return index, counts.reshape(n_coarse, n_coarse)


def kernel_spectra(kernels: ArrayLike, fields: ArrayLike, activations: ArrayLike,
                   block_size: int, used: ArrayLike) -> np.ndarray:
    """S(R, k): how the spins' correlator at momentum k enters the coarse field's wall-to-wall
    correlator at separation R, for units that respond linearly to the spins.

    A unit's standardised, aligned activation responds to the spins as
    ``polarity * kernel(x) / std(h)`` (its mean Jacobian field <dh/dv(x)>, the chain rule
    through every sigmoid averaged over the data; the factor 1/2 of v = (s+1)/2 cancels).
    A coarse wall (a row of bins) is then the spins weighted by K_Y(x), the sum of its units'
    responses, each divided by the units in its bin; S(R, k) sums Re[conj(K_Y(k)) K_{Y+R}(k)]
    over the walls Y and both directions, divided by the same wall occupancies as the data's
    correlator (``ising_rg.estimators.correlation_length``), so that C(R) / C(R+1) of the data
    is compared with the same ratio of sum_k S(R, k) G(k) (``kernel_decay_rates``).

    Parameters
    ----------
    kernels : array-like, shape (n_units, L, L), e.g. the mean Jacobian fields
    fields : array-like, shape (n_units, L, L), the fields that place and sign the units
    activations : array-like, shape (n_samples, n_units)
    block_size : int, b
    used : bool array-like, shape (n_units,), the units ``coarse_field`` kept

    Returns
    -------
    float64 (L/b // 2 + 1, L, L)
    """
    used = np.asarray(used, dtype=bool)
    k = np.asarray(kernels, dtype=np.float64)[used]
    f = np.asarray(fields, dtype=np.float64)[used]
    std = np.asarray(activations, dtype=np.float64)[:, used].std(axis=0)
    if k.shape != f.shape:
        raise IsingRGError(f"kernels must be shaped like the fields {f.shape}, got {k.shape}")
    size = f.shape[-1]
    n_coarse = size // block_size
    index, counts = _bins(f, block_size)
    weight = field_polarity(f) / std / counts[index[:, 0], index[:, 1]]
    transforms = np.fft.fft2(weight[:, None, None] * k)  # (n_used, L, L)
    occupied = (counts > 0).astype(np.float64)
    sites = (occupied.sum(axis=1), occupied.sum(axis=0))
    walls = []
    for coarse_axis in (0, 1):  # walls of bins: rows, then columns
        wall = np.zeros((n_coarse, size, size), dtype=complex)
        np.add.at(wall, index[:, coarse_axis], transforms)
        walls.append(wall)
    spectra = np.zeros((n_coarse // 2 + 1, size, size))
    for shift in range(n_coarse // 2 + 1):
        occupancy = 0.5 * sum(np.sum(a * np.roll(a, -shift)) for a in sites)
        cross = sum(np.sum(np.conj(w) * np.roll(w, -shift, axis=0), axis=0).real for w in walls)
        # No pair of occupied bins at this shift (sparse layers on small lattices): undefined.
        spectra[shift] = 0.5 * cross / occupancy if occupancy > 0 else np.nan
    return spectra


def hidden_correlation_length(
    activations: ArrayLike,
    fields: ArrayLike,
    block_size: int,
    *,
    kernels: ArrayLike | None = None,
    extent: float | None = None,
    live: ArrayLike | None = None,
    ordered: bool | None = None,
    min_std: float = 1e-6,
    **estimator_options: Any,
) -> HiddenCorrelationLength:
    """Correlation length of hidden units, binned by receptive-field centroid (module docstring).

    Parameters
    ----------
    activations : array-like, shape (n_samples, n_units)
        Activations over data samples, in sampling order (jackknife blocks are contiguous).
    fields : array-like, shape (n_units, L, L)
        Receptive fields on the spins' L x L lattice (polarity and centroid of each unit).
    block_size : int
        Bin width b (for layer l of a Kadanoff-like network, b = 2^l); L divisible by b.
    extent : float, optional
        Smallest separation used (original lattice spacings); default b.
    kernels : array-like, shape (n_units, L, L), optional
        Each unit's linear response to the spins (its mean Jacobian field): the effective
        masses are then read through the kernels (``kernel_spectra``; above T_c only, the
        one-particle model), so that wide fields measure the spins' xi, not their own width.
    live : bool array-like, shape (n_units,), optional
        Units to use (e.g. not ``dead_units``); non-local units (``far_coherent_share`` above
        ``NONLOCAL_SHARE``) are left out as well.
    ordered : bool, optional
        Phase of the data (K > K_c); see ``wall_correlation_length``.  Standardised
        activations of data that stay in one phase are not bimodal, so pass it for such data.
    min_std : float
        Activation standard deviation at or below which a unit is dropped.
    **estimator_options
        Passed to ``wall_correlation_length`` (``n_blocks``, ``min_window``, ``n_sigma``,
        ``max_relative_error``).

    Returns
    -------
    HiddenCorrelationLength
    """
    local = far_coherent_share(fields) <= NONLOCAL_SHARE
    keep = local if live is None else local & np.asarray(live, dtype=bool)
    if not keep.any():
        raise IsingRGError("no live local unit (every live unit reaches far coherently)")
    coarse, counts, used = coarse_field(activations, fields, block_size, live=keep,
                                        min_std=min_std)
    extent = float(block_size) if extent is None else float(extent)
    if not (math.isfinite(extent) and extent >= 0):
        raise IsingRGError(f"extent must be a finite number >= 0, got {extent!r}")
    spectra = (None if kernels is None
               else kernel_spectra(kernels, fields, activations, block_size, used))
    length = wall_correlation_length(
        coarse, float(block_size), ordered=ordered, min_separation=extent, mask=counts > 0,
        kernel_spectra=spectra, **estimator_options,
    )
    return HiddenCorrelationLength(
        length=length,
        block_size=int(block_size),
        extent=extent,
        n_units=int(used.size),
        n_units_used=int(used.sum()),
        n_nonlocal=int(np.sum(~local if live is None else ~local & np.asarray(live, bool))),
        n_bins=int(counts.size),
        n_empty_bins=int(np.sum(counts == 0)),
        max_units_per_bin=int(counts.max()),
    )

"""Correlation length of a layer's hidden units, placed at their receptive-field centroids.

If layer l does block-spin RG, its units are block spins: the correlation of two units' activations
should fall off with the distance between their blocks like the spin-spin correlation, with the
same correlation length *in original lattice spacings* (xi / b_l in block units). This module
measures that length from the activations over data.

Method (``activation_correlation_length``):

1. Connected correlation C_ab = cov(h_a, h_b) / sqrt(var h_a var h_b) over the data samples, for
   every pair of live units (units with a (near-)constant activation are excluded: C undefined).
2. Distance r_ab: periodic minimum-image distance between the units' centroids (lattice spacings).
3. Binning in r. A unit's sign is arbitrary (a unit may fire for "down" blocks), so the signed
   mean of C over a bin can cancel. With ``polarity`` (+-1 per unit, e.g. ``field_polarity`` of
   the receptive fields) the bin statistic is the mean of the aligned correlation
   polarity_a polarity_b C_ab; without it, the sign-free root-mean-square correlation
   sqrt(mean(C^2) - mean((1 - C^2)^2) / (n - 1)), the second term removing the sampling-noise
   bias of C^2 (a pair with true correlation 0 has E[C^2] = 1 / (n - 1)).
4. Correlation length: weighted least-squares fit of ln C(r) = const - r / xi over the bins with
   at least ``min_pairs`` pairs, C > ``floor`` (where ln C is not dominated by noise) and
   ``fit_min_distance <= r <= fit_max_distance``; x is each bin's mean pair distance and the
   weights n_pairs C^2 (the inverse variance of ln C if C's standard error goes as
   1 / sqrt(n_pairs)). ``fit_max_distance`` defaults to L / 4: on the torus C(r) also receives
   the periodic images, ~exp(-(L - r) / xi), which bend ln C upward as r approaches L / 2.
   Chosen over a second-moment estimator because unit positions are irregular and a sum over
   r^2 C(r) is dominated by the noisy large-r bins; the fit discards them by the floor.
   Near T_c the 2D correlation decays as r^-1/4 exp(-r/xi) (Ornstein-Zernike-like prefactors at
   large r), so the fitted xi is an effective decay length over the fit window, to compare
   with the same fit applied to spins, not a precise xi.
5. Error: delete-one-block jackknife over ``n_jackknife`` contiguous blocks of samples (contiguous
   so autocorrelation shorter than a block is handled), with the bin selection held fixed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ising_rg.errors import IsingRGError
from ising_rg.rg.shape import minimum_image

__all__ = ["activation_correlation_length", "field_polarity"]


def field_polarity(fields: Any) -> np.ndarray:
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


def _correlations(
    n: float, sums: np.ndarray, products: np.ndarray, pairs: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """Pearson correlation of the unit pairs from sample count, sums and the product matrix."""
    mean = sums / n
    covariance = products / n - np.outer(mean, mean)
    variance = np.clip(np.diag(covariance), 1e-300, None)
    a, b = pairs
    return covariance[a, b] / np.sqrt(variance[a] * variance[b])


def _bin_statistic(
    correlation: np.ndarray, bin_index: np.ndarray, n_bins: int, n_samples: int, aligned: bool
) -> np.ndarray:
    count = np.bincount(bin_index, minlength=n_bins).astype(np.float64)
    safe = np.where(count > 0, count, 1.0)
    if aligned:
        value = np.bincount(bin_index, weights=correlation, minlength=n_bins) / safe
    else:
        c2 = correlation**2
        bias = (1.0 - c2) ** 2 / max(n_samples - 1, 1)
        mean_square = np.bincount(bin_index, weights=c2 - bias, minlength=n_bins) / safe
        value = np.sqrt(np.clip(mean_square, 0.0, None))
    return np.where(count > 0, value, np.nan)


def _fit_xi(
    distance: np.ndarray, value: np.ndarray, count: np.ndarray, use: np.ndarray
) -> tuple[float, float, float]:
    """(xi, slope, intercept) of the weighted fit ln value = intercept + slope * distance."""
    if use.sum() < 2:
        return math.nan, math.nan, math.nan
    x = distance[use]
    v = value[use]
    if np.any(~(v > 0)):  # a jackknife replica may push a bin to <= 0
        return math.nan, math.nan, math.nan
    y = np.log(v)
    w = count[use] * v**2
    x_mean = np.sum(w * x) / np.sum(w)
    y_mean = np.sum(w * y) / np.sum(w)
    sxx = np.sum(w * (x - x_mean) ** 2)
    if sxx <= 0:
        return math.nan, math.nan, math.nan
    slope = float(np.sum(w * (x - x_mean) * (y - y_mean)) / sxx)
    intercept = float(y_mean - slope * x_mean)
    xi = -1.0 / slope if slope < 0 else math.inf
    return xi, slope, intercept


def activation_correlation_length(
    activations: Any,
    centroids: Any,
    size: int,
    *,
    n_bins: int | None = None,
    max_distance: float | None = None,
    live: Any = None,
    polarity: Any = None,
    floor: float = 0.05,
    min_pairs: int = 10,
    fit_min_distance: float = 0.0,
    fit_max_distance: float | None = None,
    n_jackknife: int = 10,
    min_std: float = 1e-6,
) -> dict[str, Any]:
    """Correlation of unit activations against the distance of their centroids, and its length.

    See the module docstring for the method and its choices.

    Parameters
    ----------
    activations : array-like, shape (n_samples, n_units)
        P(h = 1 | v) (or any activation) of one layer over data samples, in sampling order.
    centroids : array-like, shape (n_units, 2)
        (row, col) of each unit's receptive-field centroid (``periodic_centroid``), lattice
        spacings.
    size : int
        L (the torus is L x L).
    n_bins : int, optional
        Number of distance bins over [0, max_distance]; default ceil(max_distance) (width ~1).
    max_distance : float, optional
        Largest binned distance; default L / sqrt(2), the largest minimum-image distance.
    live : bool array-like, shape (n_units,), optional
        Units to use (e.g. ``~dead_units(mean activation)``); units whose activation standard
        deviation is <= ``min_std`` are excluded in any case.
    polarity : array-like of +-1, shape (n_units,), optional
        Unit signs for the aligned statistic (module docstring, step 3); None: rms statistic.
    floor : float
        Bins with statistic <= floor are left out of the fit.
    min_pairs : int
        Bins with fewer pairs are left out of the fit.
    fit_min_distance, fit_max_distance : float
        Fit window in lattice spacings (default [0, L / 4]).
    n_jackknife : int
        Contiguous blocks for the jackknife error (0 or 1: no error).
    min_std : float
        Activation standard deviation at or below which a unit counts as dead.

    Returns
    -------
    dict
        ``bin_edges`` float64 (n_bins + 1,); ``bin_centres``, ``mean_distance`` (mean pair
        distance per bin, NaN if empty), ``count`` (pairs per bin, int64), ``correlation``
        (the statistic: aligned mean or rms), ``signed_correlation`` (raw mean C),
        ``abs_correlation`` (mean |C|), ``fit_bins`` (bool, bins used in the fit): arrays of
        shape (n_bins,);
        ``statistic`` ('aligned' or 'rms'); ``xi`` (lattice spacings; inf if C does not decay
        over the window, NaN if fewer than 2 bins qualify) and ``xi_error`` (jackknife; NaN if
        not computed); ``fit`` {"slope", "intercept", "min_distance", "max_distance",
        "floor", "n_bins_used"}; ``n_units``, ``n_units_used``, ``n_samples``, ``n_pairs``.
    """
    h = np.asarray(activations, dtype=np.float64)
    c = np.asarray(centroids, dtype=np.float64)
    if h.ndim != 2 or h.shape[0] < 3:
        raise IsingRGError(f"activations must be shaped (n_samples >= 3, n_units), got {h.shape}")
    n_samples, n_units = h.shape
    if c.shape != (n_units, 2):
        raise IsingRGError(f"centroids must be shaped ({n_units}, 2), got {c.shape}")
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 2:
        raise IsingRGError(f"size must be an integer >= 2, got {size!r}")
    if not np.all(np.isfinite(h)):
        raise IsingRGError("activations contain NaN or infinite values")
    max_distance = size / math.sqrt(2.0) + 1e-9 if max_distance is None else float(max_distance)
    if not max_distance > 0:
        raise IsingRGError(f"max_distance must be > 0, got {max_distance!r}")
    n_bins = int(math.ceil(max_distance)) if n_bins is None else int(n_bins)
    if n_bins < 1:
        raise IsingRGError(f"n_bins must be >= 1, got {n_bins}")
    fit_max_distance = size / 4.0 if fit_max_distance is None else float(fit_max_distance)

    used = (h.std(axis=0) > min_std) & np.all(np.isfinite(c), axis=1)
    if live is not None:
        live_mask = np.asarray(live, dtype=bool)
        if live_mask.shape != (n_units,):
            raise IsingRGError(f"live must be shaped ({n_units},), got {live_mask.shape}")
        used &= live_mask
    aligned = polarity is not None
    if aligned:
        sign = np.asarray(polarity, dtype=np.float64)
        if sign.shape != (n_units,) or not np.all(np.abs(sign) == 1):
            raise IsingRGError(f"polarity must be +-1 per unit, shape ({n_units},)")
        h = h * sign
    h = h[:, used]
    positions = c[used]
    n_used = int(used.sum())

    edges = np.linspace(0.0, max_distance, n_bins + 1)
    centres = 0.5 * (edges[:-1] + edges[1:])
    pairs = np.triu_indices(n_used, k=1)
    d = minimum_image(positions[:, np.newaxis, :] - positions[np.newaxis, :, :], size)
    distance_all = np.sqrt(np.sum(d**2, axis=-1))[pairs]
    in_range = distance_all <= max_distance
    pairs = (pairs[0][in_range], pairs[1][in_range])
    distance = distance_all[in_range]
    bin_index = np.minimum(np.searchsorted(edges, distance, side="right") - 1, n_bins - 1)
    count = np.bincount(bin_index, minlength=n_bins)
    safe = np.where(count > 0, count, 1)
    mean_distance = np.where(
        count > 0, np.bincount(bin_index, weights=distance, minlength=n_bins) / safe, np.nan
    )

    # sufficient statistics per contiguous block (centred: no cancellation in Q/n - mean^2)
    h = h - h.mean(axis=0)
    n_blocks = max(1, min(int(n_jackknife), n_samples // 2)) if n_jackknife > 1 else 1
    block_edges = np.linspace(0, n_samples, n_blocks + 1).astype(int)
    block_n = np.diff(block_edges).astype(np.float64)
    block_sums = np.stack(
        [h[s:e].sum(axis=0) for s, e in zip(block_edges[:-1], block_edges[1:], strict=True)]
    )
    block_products = np.stack(
        [h[s:e].T @ h[s:e] for s, e in zip(block_edges[:-1], block_edges[1:], strict=True)]
    )
    total_sums = block_sums.sum(axis=0)
    total_products = block_products.sum(axis=0)

    correlation = _correlations(float(n_samples), total_sums, total_products, pairs)
    value = _bin_statistic(correlation, bin_index, n_bins, n_samples, aligned)
    signed = np.where(
        count > 0, np.bincount(bin_index, weights=correlation, minlength=n_bins) / safe, np.nan
    )
    absolute = np.where(
        count > 0,
        np.bincount(bin_index, weights=np.abs(correlation), minlength=n_bins) / safe,
        np.nan,
    )
    with np.errstate(invalid="ignore"):
        fit_bins = (
            (count >= min_pairs)
            & (value > floor)
            & (mean_distance >= fit_min_distance)
            & (mean_distance <= fit_max_distance)
        )
    xi, slope, intercept = _fit_xi(mean_distance, value, count.astype(np.float64), fit_bins)

    xi_error = math.nan
    if n_blocks > 1 and math.isfinite(xi):
        replicas = np.empty(n_blocks)
        for b in range(n_blocks):
            n_b = float(n_samples - block_n[b])
            corr_b = _correlations(
                n_b, total_sums - block_sums[b], total_products - block_products[b], pairs
            )
            value_b = _bin_statistic(corr_b, bin_index, n_bins, int(n_b), aligned)
            replicas[b] = _fit_xi(mean_distance, value_b, count.astype(np.float64), fit_bins)[0]
        if np.all(np.isfinite(replicas)):
            xi_error = float(math.sqrt((n_blocks - 1) * np.mean((replicas - replicas.mean()) ** 2)))
        else:
            xi_error = math.inf

    return {
        "bin_edges": edges,
        "bin_centres": centres,
        "mean_distance": mean_distance,
        "count": count.astype(np.int64),
        "correlation": value,
        "signed_correlation": signed,
        "abs_correlation": absolute,
        "fit_bins": fit_bins,
        "statistic": "aligned" if aligned else "rms",
        "xi": float(xi),
        "xi_error": float(xi_error),
        "fit": {
            "slope": float(slope),
            "intercept": float(intercept),
            "min_distance": float(fit_min_distance),
            "max_distance": float(fit_max_distance),
            "floor": float(floor),
            "n_bins_used": int(fit_bins.sum()),
        },
        "n_units": int(n_units),
        "n_units_used": n_used,
        "n_samples": int(n_samples),
        "n_pairs": int(distance.size),
    }

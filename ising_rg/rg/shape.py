"""Field-shape metrics: how large, where and how local a receptive field is.

All lattice quantities are periodic (torus of L1 x L2 sites, lengths in lattice spacings).
A receptive field r (any real field on the lattice, shape (L1, L2); a stack of them is shaped
(n_units, L1, L2)) is turned into a weight distribution

    p(x) = r(x)^2 / sum_y r(y)^2,

so every size/position metric below ignores the sign of the field (a learned unit may equally
well couple negatively to its block). An all-zero field gets the uniform p (it is "nowhere").

Layer l is compared with Kadanoff blocks of side b_l = 2^l (each layer has 4x fewer units).
Metrics should be averaged over *live* units only (``ising_rg.rbm.trainer.dead_units``). What
a unit's activation means (its correlation with the block spin under its field) is in
``ising_rg.rg.block_correlation``. Locality is judged per unit against a null that keeps the
unit's weights but not their place (``local_units``: three standard deviations above the
mean of the unit's own site shuffles).
"""

from __future__ import annotations

import numpy as np

from ising_rg.checks import check_integer
from ising_rg.errors import IsingRGError
from ising_rg.rg._locality_null import shuffled_best_windows
from ising_rg.rg.kadanoff import periodic_window_sums
from ising_rg.sampling.rng import new_streams
from ising_rg.seeding import SeedLike, as_generator

__all__ = [
    "best_window_fraction",
    "centroid_coverage",
    "half_weight_radius",
    "locality",
    "LOCALITY_SHUFFLES",
    "LOCAL_DEVIATIONS",
    "local_units",
    "locality_chance",
    "locality_null",
    "minimum_image",
    "participation_ratio",
    "periodic_centroid",
    "radius_of_gyration",
    "noise_level",
    "shuffled_fields",
    "sites_above",
    "weight_distribution",
]


# --------------------------------------------------------------------------- weight distribution
def _as_fields(fields: np.ndarray) -> np.ndarray:
    r = np.asarray(fields, dtype=np.float64)
    if r.ndim == 2:
        r = r[np.newaxis]
    if r.ndim != 3:
        raise IsingRGError(f"fields must be shaped (n_units, L, L), got {np.shape(fields)}")
    return r


def weight_distribution(fields: np.ndarray) -> np.ndarray:
    """p(x) = r(x)^2 / sum_y r(y)^2 per unit.

    Parameters
    ----------
    fields : ndarray, shape (n_units, L1, L2) (or (L1, L2))

    Returns
    -------
    float64 array, shape (n_units, L1, L2), each unit summing to 1.
    """
    r2 = _as_fields(fields) ** 2
    total = r2.sum(axis=(1, 2), keepdims=True)
    n_sites = r2.shape[1] * r2.shape[2]
    return np.where(total > 0, r2 / np.where(total > 0, total, 1.0), 1.0 / n_sites)


def participation_ratio(fields: np.ndarray) -> np.ndarray:
    """Effective number of sites a field covers: PR = 1 / sum_x p(x)^2 = (sum r^2)^2 / sum r^4.

    A uniform b x b block (any signs) gives b^2; a single site 1; a uniform field L1*L2.

    Parameters
    ----------
    fields : ndarray, shape (n_units, L1, L2)

    Returns
    -------
    float64 array, shape (n_units,), in sites.
    """
    p = weight_distribution(fields)
    return 1.0 / np.sum(p**2, axis=(1, 2))


def minimum_image(displacement: np.ndarray, size: int | np.ndarray) -> np.ndarray:
    """Map displacements on a ring of ``size`` sites into [-size/2, size/2): the one periodic
    distance of the package (fields, centroids, unit positions)."""
    return (displacement + 0.5 * size) % size - 0.5 * size


def periodic_centroid(fields: np.ndarray) -> np.ndarray:
    """Centroid of p on the torus, by the circular mean along each axis.

    For axis of length L with marginal p(x): z = sum_x p(x) exp(2 pi i x / L) and
    centroid = L arg(z) / (2 pi) mod L. A blob that wraps the boundary (sites L-1 and 0) gets
    its centroid at the boundary, not in the middle of the lattice. Ill-defined when |z| = 0
    (e.g. a uniform field); then the result is arbitrary.

    Parameters
    ----------
    fields : ndarray, shape (n_units, L1, L2)

    Returns
    -------
    float64 array, shape (n_units, 2): (row, col) in [0, L1) x [0, L2), lattice spacings.
    """
    p = weight_distribution(fields)
    out = np.empty((p.shape[0], 2))
    for column, (axis_sum, size) in enumerate(((2, p.shape[1]), (1, p.shape[2]))):
        marginal = p.sum(axis=axis_sum)  # (n_units, size)
        phase = np.exp(2j * np.pi * np.arange(size) / size)
        angle = np.angle(marginal @ phase)
        out[:, column] = (angle * size / (2 * np.pi)) % size
    return out


def radius_of_gyration(fields: np.ndarray, centroids: np.ndarray | None = None) -> np.ndarray:
    """Rg = sqrt(sum_x p(x) |d(x, c)|^2), d the minimum-image displacement from the centroid c.

    A uniform b x b block has Rg = sqrt((b^2 - 1) / 6) (variance (b^2 - 1)/12 per axis).

    Parameters
    ----------
    fields : ndarray, shape (n_units, L1, L2)
    centroids : ndarray, shape (n_units, 2), optional
        Default: ``periodic_centroid(fields)``.

    Returns
    -------
    float64 array, shape (n_units,), lattice spacings.
    """
    p = weight_distribution(fields)
    d_row, d_col = _axis_displacements(p, centroids)
    second_moment = np.einsum("ur,ur->u", p.sum(axis=2), d_row**2) + np.einsum(
        "uc,uc->u", p.sum(axis=1), d_col**2
    )
    return np.sqrt(second_moment)


def _axis_displacements(p: np.ndarray,
                        centroids: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-image row and column displacements of every site from each unit's centroid
    (default ``periodic_centroid(p)``): (n_units, L1) and (n_units, L2)."""
    c = periodic_centroid(p) if centroids is None else np.asarray(centroids, dtype=np.float64)
    n1, n2 = p.shape[1:]
    d_row = minimum_image(np.arange(n1)[np.newaxis, :] - c[:, :1], n1)
    d_col = minimum_image(np.arange(n2)[np.newaxis, :] - c[:, 1:], n2)
    return d_row, d_col


def _centroid_distances(p: np.ndarray, centroids: np.ndarray | None) -> np.ndarray:
    """Minimum-image distance of every site from each unit's centroid, (n_units, L1, L2)."""
    d_row, d_col = _axis_displacements(p, centroids)
    return np.sqrt(d_row[:, :, np.newaxis] ** 2 + d_col[:, np.newaxis, :] ** 2)


def half_weight_radius(fields: np.ndarray, centroids: np.ndarray | None = None) -> np.ndarray:
    """Radius about the periodic centroid within which half of a field's squared weight lies.

    The weighted median of the distance d(x, c) under p(x) = r(x)^2 / sum r^2: the smallest
    site distance d* with sum_{d(x) <= d*} p(x) >= 1/2; where that sum is exactly 1/2 (to
    1e-9), the midpoint between d* and the next distance that carries weight (the usual median
    convention). Robust to a weak background where the radius of gyration is not: a background
    adds weight only beyond the field and moves the median only once it holds a fair share of
    p, while the second moment weighs far sites by d^2 (a 2 x 2 block of 1 on the 40 x 40 torus
    with a uniform background of 0.02 elsewhere: half-weight radius 0.71 with or without it,
    R_g 0.71 -> 6.1; with 0.05, still 0.71 and R_g 11.6). Squared weights rather than |r|:
    with |r| the same 2 % background holds 89 % of the sum (1596 sites x 0.02 against 4 x 1)
    and the radius moves to 15. A median: it jumps between site distances (uniform blocks give
    sqrt(2)/2, sqrt(10)/2 and (sqrt(34) + sqrt(50))/4 for b = 2, 4, 8).

    Parameters
    ----------
    fields : ndarray, shape (n_units, L1, L2)
    centroids : ndarray, shape (n_units, 2), optional
        Default: ``periodic_centroid(fields)``.

    Returns
    -------
    float64 array, shape (n_units,), lattice spacings.
    """
    tolerance = 1e-9
    p = weight_distribution(fields)
    n_units = p.shape[0]
    distance = _centroid_distances(p, centroids).reshape(n_units, -1)
    weight = p.reshape(n_units, -1)
    order = np.argsort(distance, axis=1, kind="stable")
    sorted_distance = np.take_along_axis(distance, order, axis=1)
    cumulative = np.cumsum(np.take_along_axis(weight, order, axis=1), axis=1)
    first = np.argmax(cumulative >= 0.5 - tolerance, axis=1)
    radius = sorted_distance[np.arange(n_units), first]
    shell = distance <= radius[:, np.newaxis] + tolerance
    on_tie = np.sum(np.where(shell, weight, 0.0), axis=1) <= 0.5 + tolerance
    beyond = np.where(~shell & (weight > 0), distance, np.inf).min(axis=1)
    tie = on_tie & np.isfinite(beyond)
    return np.where(tie, 0.5 * (radius + np.where(tie, beyond, 0.0)), radius)


def noise_level(fields: np.ndarray) -> float:
    """The squared weight an untrained field exceeds at one site per unit, on average.

    The (1 - 1/(L1 L2)) quantile of r(x)^2 over every site of every field given: pass the
    fields of the untrained network of the same architecture, layer and kind (the same seed's
    ``DBN.initialize``), and a site of a trained field above this level carries more weight
    than the untrained network puts at one site of each unit by chance.

    Parameters
    ----------
    fields : ndarray, shape (n_units, L1, L2)

    Returns
    -------
    float, in the fields' units squared (NaN for no field).
    """
    r2 = _as_fields(fields) ** 2
    if r2.size == 0:
        return float("nan")
    n_sites = r2.shape[1] * r2.shape[2]
    return float(np.quantile(r2, 1.0 - 1.0 / n_sites))


def sites_above(fields: np.ndarray, level: float) -> np.ndarray:
    """Number of sites whose squared weight r(x)^2 exceeds ``level`` (e.g. ``noise_level``).

    A size that a weak background cannot move while it stays below the level; a uniform b x b
    block above it counts b^2 (sqrt of the count: its side in lattice spacings).

    Returns
    -------
    int64 array, shape (n_units,), sites.
    """
    r2 = _as_fields(fields) ** 2
    return np.sum(r2 > level, axis=(1, 2)).astype(np.int64)


# --------------------------------------------------------------------------------- locality
def best_window_fraction(fields: np.ndarray, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Largest fraction of a unit's squared weight inside any b x b window (periodic).

    ``locality_a = max_{(i, j)} sum_{window at (i, j)} p_a(x)``, over all L1 * L2 window
    positions (not only the aligned Kadanoff blocks). 1 for a field inside one b x b block;
    about b^2 / (L1 L2) (plus fluctuations) for a spread-out field.

    Parameters
    ----------
    fields : ndarray, shape (n_units, L1, L2)
    block_size : int
        b.

    Returns
    -------
    fraction : float64 array, shape (n_units,), in [0, 1]
    corner : int array, shape (n_units, 2), top-left (row, col) of the best window
    """
    p = weight_distribution(fields)
    sums = periodic_window_sums(p, block_size).reshape(p.shape[0], -1)
    best = np.argmax(sums, axis=1)
    corner = np.stack(np.unravel_index(best, p.shape[1:]), axis=1)
    return sums[np.arange(p.shape[0]), best], corner


def locality(fields: np.ndarray, block_size: int) -> np.ndarray:
    """Per-unit locality: ``best_window_fraction(fields, block_size)[0]``, shape (n_units,)."""
    return best_window_fraction(fields, block_size)[0]


def shuffled_fields(fields: np.ndarray, seed: SeedLike = 0) -> np.ndarray:
    """Each unit's field with its pixel positions permuted independently (seeded).

    Keeps each unit's set of weight values (hence its participation ratio) and destroys their
    arrangement: the null model for locality.

    Returns
    -------
    float64 array, same shape as ``fields``.
    """
    r = _as_fields(fields)
    flat = r.reshape(r.shape[0], -1)
    return as_generator(seed).permuted(flat, axis=1).reshape(r.shape)


def locality_chance(fields: np.ndarray, block_size: int, seed: SeedLike = 0) -> np.ndarray:
    """Locality of the shuffled fields (``shuffled_fields``), shape (n_units,): the chance level.

    Report the mean over units beside the mean locality. Note a field concentrated on a few
    isolated pixels has a high chance level too (few pixels fit in any window): that is why the
    chance level is computed per unit from its own weights.
    """
    return locality(shuffled_fields(fields, seed), block_size)


#: Site shuffles of each unit's own field in its locality null (the null's mean and standard
#: deviation from 100 draws are known to 10 % of that deviation).
LOCALITY_SHUFFLES = 100
#: A unit is local when its locality exceeds the mean of its own null by this many of the
#: null's standard deviations. The null is the largest of many window sums, Gumbel-like, so a
#: unit whose weights sit at random passes 3 deviations about 1.2 % of the time.
LOCAL_DEVIATIONS = 3.0


def locality_null(fields: np.ndarray, block_size: int, *,
                  n_shuffles: int = LOCALITY_SHUFFLES, seed: SeedLike = 0) -> np.ndarray:
    """The locality of ``n_shuffles`` independent site shuffles of each unit's own field.

    A shuffle keeps the unit's weight values (its sparsity: a bond-like unit keeps its two
    large weights) and destroys where they sit, so the distribution of its locality is what
    the unit's weights give by chance, whatever their sparsity.

    Parameters
    ----------
    fields : ndarray, shape (n_units, L, L)
    block_size : int, b
    n_shuffles : int
    seed : seed of the shuffles (one xoroshiro stream per unit: thread-count independent)

    Returns
    -------
    float64 array, shape (n_units, n_shuffles), values in [0, 1]
    """
    p = weight_distribution(fields)
    n_units, size = p.shape[0], p.shape[-1]
    if p.shape[-2] != size:
        raise IsingRGError(f"fields must be square L x L, got {p.shape[1:]}")
    check_integer(block_size, "block size", 1, size)
    n_shuffles = check_integer(n_shuffles, "n_shuffles", 1)
    out = np.empty((n_units, n_shuffles))
    if n_units:
        root = int(as_generator(seed).integers(0, 2**63 - 1))
        state0, state1 = new_streams(root, n_units)
        shuffled_best_windows(np.ascontiguousarray(p.reshape(n_units, -1)), size, int(block_size),
                              n_shuffles, state0, state1, out)
    return out


def local_units(fields: np.ndarray, block_size: int, *, n_shuffles: int = LOCALITY_SHUFFLES,
                deviations: float = LOCAL_DEVIATIONS,
                seed: SeedLike = 0) -> tuple[np.ndarray, np.ndarray]:
    """Which units are local: locality ``deviations`` standard deviations above the mean of
    their own shuffles' (``locality_null``).

    Judged per unit against a null that keeps its sparsity but not its place. A percentile of
    the null would not do for sparse units: a 2-site unit's shuffle lands its two weights in
    one 2 x 2 window with probability 8 / (L^2 - 1), 3 % at L = 16, so its own locality sits at
    the null's 97th percentile however local it is; in deviations it stands out (about 5 for
    a bond, 10 or more for a Kadanoff block). Known answers (tests/test_shape.py): planted
    2-site bond units and ideal Kadanoff blocks are all local, a field of independent random
    weights is local about 1 % of the time.

    Returns
    -------
    is_local : bool array, shape (n_units,)
    z : float64 array, shape (n_units,), (locality - null mean) / null standard deviation
    """
    null = locality_null(fields, block_size, n_shuffles=n_shuffles, seed=seed)
    if null.shape[0] == 0:
        return np.zeros(0, dtype=bool), np.zeros(0)
    spread = null.std(axis=1, ddof=1)
    excess = locality(fields, block_size) - null.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = excess / spread
    # Every shuffle the same: a uniform field (no excess: nowhere), or a compact one whose
    # shuffles never put two of its sites in one window (a 2 x 2 block on the 40 x 40 torus:
    # 5 % of the time in 100 shuffles), which beats every one of them: local.
    z = np.where(spread > 0, z, np.where(excess > 1e-12, np.inf, 0.0))
    return z > deviations, z


# ---------------------------------------------------------------------------------- coverage
def centroid_coverage(centroids: np.ndarray, size: int, block_size: int) -> dict:
    """How the unit centroids tile the L x L torus.

    Returns
    -------
    dict with
        ``occupied_block_fraction``: fraction of the (L/b)^2 aligned b x b blocks containing at
            least one centroid (None if b does not divide L);
        ``occupied_block_fraction_random``: its expectation for the same number of uniformly
            random centroids, 1 - (1 - 1/B)^n with B = (L/b)^2;
        ``nearest_neighbour_distance``: {"mean", "std"} over units of the minimum-image distance
            to the nearest other centroid (lattice spacings; NaN for fewer than 2 units);
        ``square_grid_spacing``: L / sqrt(n), the nearest-neighbour distance of n points on a
            square grid (= b when n = (L/b)^2, the ideal Kadanoff tiling);
        ``random_spacing``: L / (2 sqrt(n)), the mean nearest-neighbour distance of n Poisson
            points at the same density (for n >> 1).
    """
    c = np.asarray(centroids, dtype=np.float64).reshape(-1, 2)
    n = c.shape[0]
    out: dict = {"n_units": int(n)}
    if size % block_size == 0 and n > 0:
        n_blocks_side = size // block_size
        index = np.floor(c / block_size).astype(np.int64) % n_blocks_side
        occupied = np.unique(index[:, 0] * n_blocks_side + index[:, 1]).size
        n_blocks = n_blocks_side**2
        out["occupied_block_fraction"] = occupied / n_blocks
        out["occupied_block_fraction_random"] = 1.0 - (1.0 - 1.0 / n_blocks) ** n
    else:
        out["occupied_block_fraction"] = None
        out["occupied_block_fraction_random"] = None
    if n >= 2:
        d = minimum_image(c[:, np.newaxis, :] - c[np.newaxis, :, :], size)
        distance = np.sqrt(np.sum(d**2, axis=-1))
        np.fill_diagonal(distance, np.inf)
        nearest = distance.min(axis=1)
        out["nearest_neighbour_distance"] = {
            "mean": float(nearest.mean()),
            "std": float(nearest.std()),
        }
    else:
        out["nearest_neighbour_distance"] = {"mean": float("nan"), "std": float("nan")}
    out["square_grid_spacing"] = float(size / np.sqrt(n)) if n else float("nan")
    out["random_spacing"] = float(size / (2 * np.sqrt(n))) if n else float("nan")
    return out

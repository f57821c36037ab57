"""Measures of "the DBN learns block-spin RG": size, locality and meaning of receptive fields.

All lattice quantities are periodic (torus of L1 x L2 sites, lengths in lattice spacings).
A receptive field r (any real field on the lattice, shape (L1, L2); a stack of them is shaped
(n_units, L1, L2)) is turned into a weight distribution

    p(x) = r(x)^2 / sum_y r(y)^2,

so every size/position metric below ignores the sign of the field (a learned unit may equally
well couple negatively to its block). An all-zero field gets the uniform p (it is "nowhere").

Layer l is compared with Kadanoff blocks of side b_l = 2^l (each layer has 4x fewer units).
Metrics should be averaged over *live* units only (see ``dead_units``; SPEC section 6).
"""

from __future__ import annotations

import numpy as np

from ising_rg.errors import IsingRGError
from ising_rg.rg.blockspin import periodic_window_sums, window_majority_spins
from ising_rg.sampling.observables import jackknife

SeedLike = int | np.random.SeedSequence | None


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
    """Map displacements on a ring of ``size`` sites into [-size/2, size/2)."""
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
    c = periodic_centroid(p) if centroids is None else np.asarray(centroids, dtype=np.float64)
    n1, n2 = p.shape[1:]
    d_row = minimum_image(np.arange(n1)[np.newaxis, :] - c[:, :1], n1)  # (n_units, L1)
    d_col = minimum_image(np.arange(n2)[np.newaxis, :] - c[:, 1:], n2)  # (n_units, L2)
    second_moment = np.einsum("ur,ur->u", p.sum(axis=2), d_row**2) + np.einsum(
        "uc,uc->u", p.sum(axis=1), d_col**2
    )
    return np.sqrt(second_moment)


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
    return np.random.default_rng(seed).permuted(flat, axis=1).reshape(r.shape)


def locality_chance(fields: np.ndarray, block_size: int, seed: SeedLike = 0) -> np.ndarray:
    """Locality of the shuffled fields (``shuffled_fields``), shape (n_units,): the chance level.

    Report the mean over units beside the mean locality. Note a field concentrated on a few
    isolated pixels has a high chance level too (few pixels fit in any window): that is why the
    chance level is computed per unit from its own weights.
    """
    return locality(shuffled_fields(fields, seed), block_size)


# ------------------------------------------------------------------- block-spin correspondence
def centred_window_corners(centroids: np.ndarray, block_size: int, size: int) -> np.ndarray:
    """Top-left corners of the b x b windows centred (to the nearest site) on the centroids.

    corner = floor(c - (b - 1)/2 + 1/2) mod L per axis, so the window {corner, ..., corner+b-1}
    has its centre (corner + (b-1)/2) within 1/2 of c. Shape (n_units, 2), int.
    """
    c = np.asarray(centroids, dtype=np.float64)
    return (np.floor(c - 0.5 * (block_size - 1) + 0.5).astype(np.int64)) % size


def aligned_block_corners(centroids: np.ndarray, block_size: int, size: int) -> np.ndarray:
    """Top-left corners of the aligned Kadanoff blocks (corners at multiples of b) containing
    the centroids. Shape (n_units, 2), int."""
    c = np.asarray(centroids, dtype=np.float64)
    return (block_size * np.floor(c / block_size).astype(np.int64)) % size


def column_correlations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of matching columns of a and b (both (n_samples, k)) -> (k,).

    NaN where either column is constant (the correlation is undefined).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    norm = np.sqrt(np.sum(a * a, axis=0) * np.sum(b * b, axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, np.sum(a * b, axis=0) / np.where(norm > 0, norm, 1.0), np.nan)


def window_correlations(
    activations: np.ndarray, window_spins: np.ndarray, corners: np.ndarray
) -> np.ndarray:
    """|corr| over samples between unit a's activation and the block spin at ``corners[a]``.

    Parameters
    ----------
    activations : ndarray, shape (n_samples, n_units), P(h=1|v)
    window_spins : ndarray, shape (n_samples, L, L), block spin of the window at each corner
        (``window_majority_spins``)
    corners : int ndarray, shape (n_units, 2) or (n_units, n_draws, 2)

    Returns
    -------
    float64 array, shape (n_units,) (averaged over draws if given), NaN if undefined.
    """
    corners = np.asarray(corners)
    if corners.ndim == 2:
        corners = corners[:, np.newaxis, :]
    n_units, n_draws, _ = corners.shape
    act = np.asarray(activations)
    if act.shape[1] != n_units:
        raise IsingRGError(f"{act.shape[1]} activation columns for {n_units} units")
    corr = np.empty((n_units, n_draws))
    for draw in range(n_draws):  # one (n_samples, n_units) gather at a time bounds the memory
        spins_at = window_spins[:, corners[:, draw, 0], corners[:, draw, 1]]
        corr[:, draw] = np.abs(column_correlations(act, spins_at))
    return corr.mean(axis=1)


def window_block_spins(
    spins: np.ndarray, block_size: int, rule: str = "majority", seed: SeedLike = 0
) -> np.ndarray:
    """Block variable of the b x b window at every corner, shape (n, L, L).

    ``rule="majority"``: majority-rule spin (``window_majority_spins``, seeded ties), int8.
    ``rule="mean"``: block magnetization (window sum / b^2), float64 — the linear block spin,
    free of the tie noise of even b (for independent spins and b = 2, 3/8 of the blocks tie and
    even a unit equal to the block sum correlates only 0.75 with the majority spin).
    """
    if rule == "majority":
        return window_majority_spins(spins, block_size, seed)
    if rule == "mean":
        return periodic_window_sums(np.asarray(spins), block_size) / block_size**2
    raise IsingRGError(f"unknown block-spin rule {rule!r} (use 'majority' or 'mean')")


def block_spin_correlation(
    activations: np.ndarray,
    spins: np.ndarray,
    centroids: np.ndarray,
    block_size: int,
    *,
    seed: SeedLike = 0,
    aligned: bool = False,
    rule: str = "majority",
    window_spins: np.ndarray | None = None,
) -> np.ndarray:
    """|Pearson correlation| over data between each unit's activation and its block spin.

    The block spin is the majority-rule spin (``window_majority_spins``, seeded ties; or the
    block magnetization with ``rule="mean"``, see ``window_block_spins``) of the b x b window
    centred on the unit's receptive-field centroid (``aligned=False``, default), or of the
    aligned Kadanoff block containing the centroid (``aligned=True``). The centred window is the
    default because a network has no reason to place its units on the multiples of b; a perfect
    block-spin unit sitting on a block corner would score only ~0.5 when aligned.
    The absolute value is taken because the sign of a learned unit is arbitrary.

    Parameters
    ----------
    activations : ndarray, shape (n_samples, n_units), P(h=1|v) of the units over the data
    spins : ndarray, shape (n_samples, L, L), the same data as spins
    centroids : ndarray, shape (n_units, 2), e.g. ``periodic_centroid(receptive_fields)``
    block_size : int
        b (b_l = 2^l for layer l)
    seed : int, tie-breaking seed (ignored if window_spins is given)
    rule : "majority" or "mean" (ignored if window_spins is given)
    window_spins : ndarray, shape (n_samples, L, L), optional precomputed
        ``window_block_spins(spins, block_size, rule, seed)``

    Returns
    -------
    float64 array, shape (n_units,), in [0, 1] (NaN where a unit's activation is constant).
    """
    size = int(np.shape(spins)[-1])
    if window_spins is None:
        window_spins = window_block_spins(spins, block_size, rule, seed)
    corner_fn = aligned_block_corners if aligned else centred_window_corners
    return window_correlations(activations, window_spins, corner_fn(centroids, block_size, size))


def block_spin_correlation_chance(
    activations: np.ndarray,
    spins: np.ndarray,
    block_size: int,
    *,
    seed: SeedLike = 0,
    n_draws: int = 8,
    rule: str = "majority",
    window_spins: np.ndarray | None = None,
) -> np.ndarray:
    """Chance level of ``block_spin_correlation``: the same |corr| with each unit assigned
    ``n_draws`` b x b windows at uniformly random positions (seeded), averaged over the draws.

    A random block (rather than activations shuffled across samples, which gives ~1/sqrt(n))
    keeps the unit's activation statistics and the data's own spatial correlations, so it
    answers "is the unit tied to *its* block, more than to any block?". Random positions
    include, rarely, ones near the unit's own block; that is part of chance.

    Returns
    -------
    float64 array, shape (n_units,).
    """
    size = int(np.shape(spins)[-1])
    n_units = np.shape(activations)[1]
    if window_spins is None:
        window_spins = window_block_spins(spins, block_size, rule, seed)
    rng = np.random.default_rng(seed)
    corners = rng.integers(0, size, size=(n_units, n_draws, 2))
    return window_correlations(activations, window_spins, corners)


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


# ------------------------------------------------------------------------------- unit health
def dead_units(mean_activation: np.ndarray, low: float = 0.01, high: float = 0.99) -> np.ndarray:
    """Units whose mean activation over the data is < low or > high (always off or always on).

    Parameters
    ----------
    mean_activation : ndarray, shape (n_units,), mean over the data of P(h=1|v)

    Returns
    -------
    bool array, shape (n_units,), True for dead units.
    """
    m = np.asarray(mean_activation, dtype=np.float64)
    return (m < low) | (m > high)


# ------------------------------------------------------------------------ correlation length
def structure_factor_series(spins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-configuration structure factors at k = 0 and at the smallest nonzero wavevector.

    S(k) = |sum_x s_x exp(i k.x)|^2 / N. For k_min = 2 pi / L the two lattice directions are
    averaged.

    Parameters
    ----------
    spins : ndarray, shape (n, L, L), values in {-1, +1}

    Returns
    -------
    s_zero : float64 array, shape (n,), M^2 / N
    s_min : float64 array, shape (n,), (|M_(k_min,0)|^2 + |M_(0,k_min)|^2) / (2N)
    """
    s = np.asarray(spins)
    if s.ndim != 3 or s.shape[1] != s.shape[2]:
        raise IsingRGError(f"spins must be shaped (n, L, L), got {s.shape}")
    size = s.shape[1]
    n_sites = size * size
    column_sums = s.sum(axis=1, dtype=np.float64)  # (n, L): sum over rows, function of col
    row_sums = s.sum(axis=2, dtype=np.float64)  # (n, L): function of row
    phase = np.exp(2j * np.pi * np.arange(size) / size)
    s_zero = column_sums.sum(axis=1) ** 2 / n_sites
    s_min = (np.abs(column_sums @ phase) ** 2 + np.abs(row_sums @ phase) ** 2) / (2 * n_sites)
    return s_zero, s_min


def correlation_length(spins: np.ndarray, n_blocks: int = 32) -> tuple[float, float]:
    """Second-moment correlation length of the configurations, with a jackknife error.

    xi = sqrt(chi / F - 1) / (2 sin(pi / L)), chi = <S(0)> = <M^2>/N, F = <S(k_min)>
    (``structure_factor_series``), the standard finite-size-scaling estimator (e.g. Cooper,
    Freedman & Preston 1982; Caracciolo et al.). Uses the full (not connected) S(0) in both phases:
    above T_c it is the usual xi; below T_c <M^2> includes the spontaneous magnetization, so xi
    grows with L (xi/L large), which is the signal of order used in finite-size scaling, not the
    connected correlation length. Returns 0 when chi/F <= 1 (no correlation beyond noise, e.g.
    independent spins); error bar by blocked jackknife over the sampling order.

    Parameters
    ----------
    spins : ndarray, shape (n, L, L), values in {-1, +1}, in sampling order
    n_blocks : int, jackknife blocks

    Returns
    -------
    (xi, error) in lattice spacings.
    """
    s_zero, s_min = structure_factor_series(spins)
    size = np.shape(spins)[-1]

    def estimator(series: tuple[np.ndarray, np.ndarray]) -> float:
        chi, f = series[0].mean(), series[1].mean()
        if f <= 0:
            return float("inf")
        return float(np.sqrt(max(chi / f - 1.0, 0.0)) / (2.0 * np.sin(np.pi / size)))

    value, error = jackknife(estimator, (s_zero, s_min), n_blocks=n_blocks)
    return value, error


# --------------------------------------------------------------------------------- summaries
def mean_std(values: np.ndarray) -> dict[str, float]:
    """{"mean", "std"} of the finite entries (NaN if none)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"mean": float("nan"), "std": float("nan")}
    return {"mean": float(v.mean()), "std": float(v.std())}

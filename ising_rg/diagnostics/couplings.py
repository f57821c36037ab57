"""Pairwise Ising couplings contained in an RBM's visible marginal.

Mehta & Schwab's claim is that a trained RBM's marginal p(v) = exp(-F(v)) / Z reproduces the
Ising Boltzmann distribution, i.e. that -F(v) contains the Ising Hamiltonian
K sum_<ij> s_i s_j (plus a constant). This module measures which pairwise couplings -F really
contains.

For a {0,1} RBM (W, b, c), F(v) = -b.v - sum_k softplus(c_k + (v W)_k). In spin language
s = 2v - 1, the effective coupling of sites i, j in a context x (every other site fixed to the
configuration x) is the second difference

    K_ij(x) = (1/4) [ln p(1,1) + ln p(0,0) - ln p(1,0) - ln p(0,1)]        (v_i, v_j set)
            = (1/4) sum_k [sp(a_k + W_ik + W_jk) + sp(a_k) - sp(a_k + W_ik) - sp(a_k + W_jk)],
    a = c + x W - x_i W_i - x_j W_j   (the hidden input with both sites at v = 0),

which is exactly the coefficient of s_i s_j if ln p were a pairwise (Ising) function of s, for
every context; the visible bias b and Z cancel. An RBM marginal is not pairwise in general (its
softplus terms contain all orders), so K_ij(x) depends on x: it is the pairwise interaction
*in context x*, and its average over data contexts is the effective coupling the model acts
with on typical configurations. Units: dimensionless, like K = J / k_B T (the RBM's energies
are in units of its own k_B T); compare with the coupling of the training data.

Numerics: with u = exp(a), p = exp(W_ik), q = exp(W_jk) the summand is
``log1p(u (p - 1)(q - 1) / ((1 + u p)(1 + u q)))``, so the only transcendental per
(context, pair, hidden unit) is one log1p; exp(c + x W) and expm1(W) are computed once. All in
float64. c + x W is clipped to [-200, 200] (a hidden unit that saturated contributes
< e^-100 anyway), and |W| <= 50 is required so no intermediate overflows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ising_rg.checks import check_integer, check_number
from ising_rg.errors import IsingRGError
from ising_rg.io.jsonfile import to_json
from ising_rg.seeding import as_generator

__all__ = [
    "coupling_row_sum",
    "couplings_by_displacement",
    "lattice_displacements",
    "pair_coupling_samples",
    "pair_couplings",
]

_INPUT_CLIP = 200.0  # |c + x W| beyond this: the unit is saturated, its contribution < e^-100
_MAX_ABS_WEIGHT = 50.0  # keeps exp(a) (1 + u p)(1 + u q) below the float64 range
_CHUNK_ELEMENTS = 1 << 20  # (contexts x pairs x hidden) per chunk: ~8 MB float64 temporaries


class _PairCouplingKernel:
    """The context-dependent parts of K_ij(x), computed once for many pairs.

    Parameters
    ----------
    weights : ndarray, shape (n_visible, n_hidden)
    hidden_bias : ndarray, shape (n_hidden,)
    contexts : ndarray, shape (n_contexts, n_visible), binary {0, 1}
    """

    def __init__(self, weights: Any, hidden_bias: Any, contexts: Any) -> None:
        w = np.asarray(weights, dtype=np.float64)
        c = np.asarray(hidden_bias, dtype=np.float64)
        if w.ndim != 2 or c.shape != (w.shape[1],):
            raise IsingRGError(
                f"weights {w.shape} and hidden_bias {c.shape} do not form an RBM "
                "(need (n_visible, n_hidden) and (n_hidden,))"
            )
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(c))):
            raise IsingRGError("the RBM parameters contain NaN or infinite values")
        if np.max(np.abs(w), initial=0.0) > _MAX_ABS_WEIGHT:
            raise IsingRGError(
                f"weights beyond +-{_MAX_ABS_WEIGHT:g} are outside the float64 range of the "
                "coupling estimator"
            )
        x = np.asarray(contexts)
        if x.ndim != 2 or x.shape[1] != w.shape[0] or x.shape[0] == 0:
            raise IsingRGError(f"contexts must be shaped (n_contexts, {w.shape[0]}), got {x.shape}")
        if not np.all((x == 0) | (x == 1)):
            raise IsingRGError("contexts must be binary {0, 1} visible configurations")
        self.n_visible, self.n_hidden = w.shape
        self.x = x.astype(np.float64)
        hidden_input = np.clip(c + self.x @ w, -_INPUT_CLIP, _INPUT_CLIP)
        self.exp_input = np.exp(hidden_input)  # (n_contexts, n_hidden): exp(c + x W)
        # exp(-x_i W_i) = 1 + x_i (exp(-W_i) - 1) for binary x_i: removes site i from the input
        self.remove_site = np.expm1(-w)  # (n_visible, n_hidden)
        self.expm1_w = np.expm1(w)  # p - 1, accurate for small weights

    def __call__(self, pairs: np.ndarray) -> np.ndarray:
        """K_ij(x) for every context (rows) and pair (columns), float64 (n_contexts, n_pairs)."""
        n_contexts = self.x.shape[0]
        out = np.empty((n_contexts, pairs.shape[0]))
        chunk = max(1, _CHUNK_ELEMENTS // (n_contexts * self.n_hidden))
        for start in range(0, pairs.shape[0], chunk):
            i = pairs[start : start + chunk, 0]
            j = pairs[start : start + chunk, 1]
            x_i = self.x[:, i, np.newaxis]  # (n_contexts, m, 1)
            x_j = self.x[:, j, np.newaxis]
            # u = exp(a), a = c + x W - x_i W_i - x_j W_j: both sites set to v = 0
            u = self.exp_input[:, np.newaxis, :] * (1.0 + x_i * self.remove_site[i])
            u *= 1.0 + x_j * self.remove_site[j]
            p_minus_1 = self.expm1_w[i]  # (m, n_hidden)
            q_minus_1 = self.expm1_w[j]
            # (1 + upq)(1 + u) / ((1 + up)(1 + uq)) = 1 + u (p-1)(q-1) / ((1 + up)(1 + uq))
            denominator = (1.0 + u + u * p_minus_1) * (1.0 + u + u * q_minus_1)
            ratio_minus_1 = u * (p_minus_1 * q_minus_1) / denominator
            out[:, start : start + chunk] = 0.25 * np.log1p(ratio_minus_1).sum(axis=2)
        return out


def _check_pairs(pairs: Any, n_visible: int) -> np.ndarray:
    p = np.asarray(pairs)
    if p.ndim != 2 or p.shape[1] != 2 or not np.issubdtype(p.dtype, np.integer):
        raise IsingRGError(f"pairs must be an integer array shaped (n_pairs, 2), got {p.shape}")
    if p.size and (p.min() < 0 or p.max() >= n_visible):
        raise IsingRGError(f"pair indices must lie in [0, {n_visible})")
    if np.any(p[:, 0] == p[:, 1]):
        raise IsingRGError("a pair must join two different sites")
    return p.astype(np.int64)


def pair_coupling_samples(weights: Any, hidden_bias: Any, contexts: Any, pairs: Any) -> np.ndarray:
    """Effective coupling K_ij(x) of each pair in each context (see the module docstring).

    Parameters
    ----------
    weights : array-like, shape (n_visible, n_hidden)
        RBM weights W ({0,1} units).
    hidden_bias : array-like, shape (n_hidden,)
        c.
    contexts : array-like, shape (n_contexts, n_visible), binary {0, 1}
        Configurations fixing every site other than i and j (their own values are ignored).
    pairs : int array-like, shape (n_pairs, 2)
        Site indices (i, j), i != j (flattened row-major lattice indices for an L x L model).

    Returns
    -------
    float64 array, shape (n_contexts, n_pairs): K_ij(x), dimensionless (units of the model's
    k_B T, like K = J / k_B T).

    Notes
    -----
    Cost n_contexts * n_pairs * n_hidden log1p evaluations, in chunks of ~1e6 elements:
    50 contexts x 1600 pairs x 400 hidden units takes about 0.5 s (one core).
    """
    kernel = _PairCouplingKernel(weights, hidden_bias, contexts)
    return kernel(_check_pairs(pairs, kernel.n_visible))


def pair_couplings(
    weights: Any,
    hidden_bias: Any,
    contexts: Any,
    pairs: Any,
    *,
    return_std: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Context-averaged effective couplings of the given pairs.

    Parameters
    ----------
    weights, hidden_bias, contexts, pairs
        As in :func:`pair_coupling_samples`.
    return_std : bool
        Also return the standard deviation over contexts (ddof = 1; 0 for one context), which
        measures how far the marginal is from pairwise for that pair (0 for a pairwise model).

    Returns
    -------
    mean : float64 array, shape (n_pairs,), dimensionless
    std : float64 array, shape (n_pairs,); only if return_std
    """
    samples = pair_coupling_samples(weights, hidden_bias, contexts, pairs)
    mean = samples.mean(axis=0)
    if not return_std:
        return mean
    ddof = 1 if samples.shape[0] > 1 else 0
    return mean, samples.std(axis=0, ddof=ddof)


def lattice_displacements(max_distance: float) -> list[tuple[int, int]]:
    """Displacements (d_row, d_col) with 0 < |d| <= max_distance, one of each pair {d, -d}.

    The representative has d_row > 0, or d_row == 0 and d_col > 0. Rotations and reflections are
    *not* identified (a learned model need not be isotropic): (1, 0) and (0, 1) are both listed,
    as are (1, 1) and (1, -1). Ordered by distance, then (d_row, d_col) descending, e.g.
    (1, 0), (0, 1), (1, 1), (1, -1), (2, 0), (0, 2), ...

    Returns
    -------
    list of (int, int), in lattice spacings.
    """
    check_number(max_distance, "max_distance", above=0)
    reach = int(math.floor(max_distance))
    limit = float(max_distance) ** 2 + 1e-9
    out = [
        (dr, dc)
        for dr in range(0, reach + 1)
        for dc in range(-reach, reach + 1)
        if (dr > 0 or dc > 0) and 0 < dr * dr + dc * dc <= limit
    ]
    return sorted(out, key=lambda d: (d[0] ** 2 + d[1] ** 2, -d[0], -d[1]))


def _shifted_sites(size: int, displacement: tuple[int, int]) -> np.ndarray:
    """Pairs (i, i + d) over all L*L sites of the torus, shape (L*L, 2), row-major indices."""
    rows, cols = np.divmod(np.arange(size * size), size)
    partner = ((rows + displacement[0]) % size) * size + (cols + displacement[1]) % size
    return np.stack([np.arange(size * size), partner], axis=1)


def _mean_stderr(per_context: np.ndarray) -> tuple[float, float]:
    n = per_context.size
    error = float(per_context.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return float(per_context.mean()), error


def _check_lattice_inputs(rbm: Any, visible_data: Any, size: Any, max_distance: Any,
                          n_contexts: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """(weights, visible data, L) after checking that they describe one L x L lattice."""
    size = check_integer(size, "size", 2)
    check_number(max_distance, "max_distance", above=0, below=size / 2)
    check_integer(n_contexts, "n_contexts", 1)
    weights = np.asarray(rbm.weights_)
    if weights.ndim != 2 or weights.shape[0] != size * size:
        raise IsingRGError(
            f"the RBM has {weights.shape[0] if weights.ndim == 2 else '?'} visible units, "
            f"expected {size * size} for a {size}x{size} lattice"
        )
    data = np.asarray(visible_data)
    if data.ndim != 2 or data.shape[1] != size * size or data.shape[0] == 0:
        raise IsingRGError(
            f"visible_data must be shaped (n_samples, {size * size}), got {data.shape}"
        )
    return weights, data, size


def _displacement_entries(
    kernel: _PairCouplingKernel, size: int, max_distance: float
) -> tuple[list[dict[str, Any]], dict[tuple[int, int], list[np.ndarray]]]:
    """One entry per displacement (``couplings_by_displacement``), and each shell's members:
    the per-context site averages of its displacements."""
    n_contexts = kernel.x.shape[0]
    entries = []
    shell_members: dict[tuple[int, int], list[np.ndarray]] = {}
    for displacement in lattice_displacements(max_distance):
        samples = kernel(_shifted_sites(size, displacement))  # (n_contexts, L*L)
        per_context = samples.mean(axis=1)
        mean, stderr = _mean_stderr(per_context)
        context_std = samples.std(axis=0, ddof=1).mean() if n_contexts > 1 else float("nan")
        entries.append(
            {
                "displacement": [int(displacement[0]), int(displacement[1])],
                "distance": float(math.hypot(*displacement)),
                "mean": mean,
                "stderr": stderr,
                "context_std": context_std,
                "site_std": float(samples.mean(axis=0).std()),
            }
        )
        shell = tuple(sorted((abs(displacement[0]), abs(displacement[1]))))
        shell_members.setdefault(shell, []).append(per_context)
    return entries, shell_members


def _shell_entries(shell_members: dict[tuple[int, int], list[np.ndarray]]) -> list[dict]:
    """The displacement entries averaged over each shell of symmetry-equivalent ones."""
    shells = []
    for shell, members in shell_members.items():
        mean, stderr = _mean_stderr(np.mean(members, axis=0))  # each member covers L*L pairs
        shells.append(
            {
                "shell": [int(shell[0]), int(shell[1])],
                "distance": float(math.hypot(*shell)),
                "n_displacements": len(members),
                "mean": mean,
                "stderr": stderr,
            }
        )
    return shells


def _ratios(nearest: dict | None, next_nearest: dict | None,
            true_coupling: float | None) -> dict[str, float | None]:
    """Nearest-neighbour coupling over the true K (with its error), next-nearest over nearest."""
    ratio = ratio_error = ratio_nnn = None
    if true_coupling is not None and nearest is not None and true_coupling != 0:
        ratio = nearest["mean"] / true_coupling
        ratio_error = nearest["stderr"] / abs(true_coupling)
    if nearest is not None and next_nearest is not None and nearest["mean"] != 0:
        ratio_nnn = next_nearest["mean"] / nearest["mean"]
    return {
        "ratio_nearest_to_true": ratio,
        "ratio_nearest_to_true_error": ratio_error,
        "ratio_next_nearest_to_nearest": ratio_nnn,
    }


def couplings_by_displacement(
    rbm: Any,
    visible_data: Any,
    size: int,
    max_distance: float = 4,
    n_contexts: int = 50,
    seed: int = 0,
    true_coupling: float | None = None,
) -> dict[str, Any]:
    """Effective pairwise couplings of an RBM's marginal, by lattice displacement.

    Measures which Ising couplings the RBM's visible marginal p(v) contains (module
    docstring): if the RBM reproduces the nearest-neighbour Ising model at coupling K, the
    (1, 0) and (0, 1) couplings are K and all others 0, in every context.

    Parameters
    ----------
    rbm : BernoulliRBM (duck-typed: ``weights_`` (L*L, n_hidden), ``hidden_bias_``)
        The first layer of the DBN (its visible units are the lattice sites).
    visible_data : array-like, shape (n_samples, L*L), binary {0, 1}
        Configurations v = (s + 1) / 2 (e.g. ``spins_to_visible(spins)``); contexts are drawn
        from them.
    size : int
        L.
    max_distance : float
        Largest |d| in lattice spacings; must be < L / 2 (so d and -d are distinct pairs).
    n_contexts : int
        Number of data configurations used as contexts (uniformly without replacement,
        seeded; all if fewer).
    seed : int
        Seed of the context choice.
    true_coupling : float, optional
        K of the training data, for the ratios.

    Returns
    -------
    dict (JSON-ready)
        ``displacements``: list, one entry per displacement from :func:`lattice_displacements`:
            ``displacement`` [d_row, d_col], ``distance`` (lattice spacings), ``mean`` (K_eff
            averaged over all L*L sites and the contexts), ``stderr`` (standard error of the
            mean, from the spread over contexts of the site-averaged K: sites within one context
            are correlated, contexts are independent data samples), ``context_std`` (mean over
            sites of the spread over contexts: 0 for a pairwise marginal), ``site_std`` (spread
            over sites of the context-averaged K: 0 for a translation-invariant model);
        ``shells``: the same averaged over each class of displacements equivalent under the
            lattice's rotations and reflections, keyed by ``shell`` [min(|d|), max(|d|)]
            ([0, 1] nearest neighbours, [1, 1] diagonal, [0, 2], ...);
        ``nearest_neighbour``, ``next_nearest_neighbour``: {"mean", "stderr"} of the [0, 1]
            and [1, 1] shells (None beyond max_distance);
        ``true_coupling``, ``ratio_nearest_to_true``, ``ratio_nearest_to_true_error``,
        ``ratio_next_nearest_to_nearest`` (None when undefined);
        ``settings``: size, max_distance, n_contexts used, seed, n_hidden.
    """
    weights, data, size = _check_lattice_inputs(rbm, visible_data, size, max_distance,
                                                n_contexts)
    rng = as_generator(seed)  # int seed: PCG64, bit-reproducible
    n_used = min(int(n_contexts), data.shape[0])
    rows = np.sort(rng.choice(data.shape[0], size=n_used, replace=False))
    kernel = _PairCouplingKernel(weights, rbm.hidden_bias_, data[rows])
    entries, shell_members = _displacement_entries(kernel, size, max_distance)
    shells = _shell_entries(shell_members)
    by_shell = {tuple(s["shell"]): {"mean": s["mean"], "stderr": s["stderr"]} for s in shells}
    nearest = by_shell.get((0, 1))
    next_nearest = by_shell.get((1, 1))
    return to_json({
        "displacements": entries,
        "shells": shells,
        "nearest_neighbour": nearest,
        "next_nearest_neighbour": next_nearest,
        "true_coupling": None if true_coupling is None else float(true_coupling),
        **_ratios(nearest, next_nearest, true_coupling),
        "settings": {
            "size": size,
            "max_distance": float(max_distance),
            "n_contexts": n_used,
            "seed": int(seed),
            "n_hidden": int(weights.shape[1]),
        },
    })


def coupling_row_sum(
    rbm: Any,
    visible_data: Any,
    size: int,
    n_sites: int = 16,
    n_contexts: int = 20,
    seed: int = 0,
    true_coupling: float | None = None,
) -> dict[str, Any]:
    """sum_j K_ij over *all* other sites j: the total coupling of a site, against 4K.

    The nearest-neighbour K_eff alone cannot tell a model that lost coupling from one that
    spread it over longer distances; the row sum can: the Ising model has sum_j K_ij = 4K
    (four neighbours), whatever the range of the learned couplings.

    Parameters
    ----------
    rbm, visible_data, size : as in :func:`couplings_by_displacement`
    n_sites : int
        Sites i averaged over (uniformly without replacement, seeded; all if fewer): the
        cost is n_sites * L^2 * n_contexts * n_hidden log1p evaluations, and a
        translation-invariant model needs few.
    n_contexts : int
        Data configurations used as contexts (as in couplings_by_displacement).
    seed : int
        Seed of the site and context choices.
    true_coupling : float, optional
        K of the training data: ``expected`` is 4K and ``ratio_to_expected`` the row sum
        over it.

    Returns
    -------
    dict (JSON-ready): ``mean`` (the row sum averaged over the chosen sites and contexts,
    dimensionless), ``stderr`` (from the spread over contexts of the site-averaged sums),
    ``site_std`` (spread over sites of the context-averaged sums), ``expected`` (4K or
    None), ``ratio_to_expected`` (or None), ``settings`` (size, n_sites, n_contexts, seed).
    """
    weights, data, size = _check_lattice_inputs(rbm, visible_data, size, 1, n_contexts)
    check_integer(n_sites, "n_sites", 1)
    sites_rng, contexts_rng = (as_generator(s) for s in np.random.SeedSequence(seed).spawn(2))
    n_visible = size * size
    sites = np.sort(sites_rng.choice(n_visible, size=min(int(n_sites), n_visible),
                                     replace=False))
    n_used = min(int(n_contexts), data.shape[0])
    rows = np.sort(contexts_rng.choice(data.shape[0], size=n_used, replace=False))
    kernel = _PairCouplingKernel(weights, rbm.hidden_bias_, data[rows])
    sums = np.empty((n_used, sites.size))
    for column, site in enumerate(sites):
        partners = np.delete(np.arange(n_visible), site)
        pairs = np.stack([np.full(partners.size, site), partners], axis=1)
        sums[:, column] = kernel(pairs).sum(axis=1)
    mean, stderr = _mean_stderr(sums.mean(axis=1))
    expected = None if true_coupling is None else 4.0 * float(true_coupling)
    return to_json({
        "mean": mean,
        "stderr": stderr,
        "site_std": float(sums.mean(axis=0).std()),
        "expected": expected,
        "ratio_to_expected": None if not expected else mean / expected,
        "settings": {"size": size, "n_sites": int(sites.size), "n_contexts": n_used,
                     "seed": int(seed)},
    })

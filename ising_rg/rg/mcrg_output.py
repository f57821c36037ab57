"""The RG measured as RG, for several coarse-grainers of one data set: what ``mcrg.json`` holds.

For each coarse-grainer, the data's configurations are coarse-grained level by level
(:func:`ising_rg.rg.coarse_grain.coarse_levels`); at every level the coarse Hamiltonian's
couplings are fitted by pseudo-likelihood (:mod:`ising_rg.rg.renormalized_couplings`), and
every step n - 1 -> n is linearized by Swendsen's MCRG (:mod:`ising_rg.rg.mcrg`) for y_t and
y_h. Level 0 is the data itself, shared by every coarse-grainer (fitted once).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ising_rg.checks import check_integer
from ising_rg.errors import IsingRGError
from ising_rg.rg.coarse_grain import CoarseGrainer, coarse_levels
from ising_rg.rg.mcrg import EXACT_Y_H, EXACT_Y_T, mcrg_exponents
from ising_rg.rg.operators import (
    COUPLING_OPERATORS,
    EVEN_OPERATORS,
    ODD_OPERATORS,
    operators_by_name,
)
from ising_rg.rg.renormalized_couplings import CouplingEstimate, fit_coupling_sets
from ising_rg.seeding import seed_stream

__all__ = ["MIN_COARSE_SIZE", "available_levels", "mcrg_results"]

#: Smallest coarse lattice analysed by default: 4 x 4 still fits every operator (no term
#: holds a site twice); 2 x 2 does not.
MIN_COARSE_SIZE = 4
#: The one-parameter truncation reported beside the full fit (the flow of K' against K).
NN_PROJECTION = ("nn",)


def available_levels(coarse_grainer: CoarseGrainer, size: int,
                     min_size: int = MIN_COARSE_SIZE) -> int:
    """Most coarse-graining steps of an L-lattice that keep the lattice divisible and at least
    ``min_size`` wide (and, for a network, within its layers: ``n_levels``)."""
    b = coarse_grainer.block_size
    levels = 0
    while size % b**(levels + 1) == 0 and size // b**(levels + 1) >= min_size:
        levels += 1
    limit = getattr(coarse_grainer, "n_levels", None)
    return levels if limit is None else min(levels, int(limit))


def _coupling_entry(full: CouplingEstimate, projection: CouplingEstimate) -> dict:
    return {
        "couplings": full.as_dict(),
        "couplings_converged": full.converged,
        "nn_projection": projection.as_dict()["nn"],
        "nn_projection_converged": projection.converged,
    }


def _levels_of(coarse_grainer: CoarseGrainer, spins: np.ndarray, n_levels: int, seed: int,
               stream: int, level0: dict, options: dict) -> list[dict]:
    # coarse_levels takes an integer seed: one 32-bit word of this coarse-grainer's stream
    level_seed = int(seed_stream(seed, stream).generate_state(1)[0])
    levels = coarse_levels(coarse_grainer, spins, n_levels, level_seed)
    exponents = mcrg_exponents(levels, coarse_grainer.block_size, options["even_operators"],
                               options["odd_operators"], options["n_blocks"])
    out = [{"level": 0, "size": int(spins.shape[1]), "block_size": 1, **level0,
            "y_t": None, "y_h": None}]
    for level, exponent in zip(levels[1:], exponents, strict=True):
        full, projection = fit_coupling_sets(
            level, [options["coupling_operators"], NN_PROJECTION], options["n_blocks"])
        n = exponent["level"]
        out.append({"level": n, "size": int(level.shape[1]),
                    "block_size": int(coarse_grainer.block_size**n),
                    **_coupling_entry(full, projection),
                    "y_t": exponent["y_t"], "y_h": exponent["y_h"]})
    return out


def mcrg_results(
    spins: np.ndarray,
    coarse_grainers: Sequence[CoarseGrainer],
    *,
    n_levels: int | None = None,
    seed: int = 0,
    coupling_operators: Sequence[str] = COUPLING_OPERATORS,
    even_operators: Sequence[str] = EVEN_OPERATORS,
    odd_operators: Sequence[str] = ODD_OPERATORS,
    n_blocks: int = 32,
    coupling: float | None = None,
) -> dict:
    """Couplings per level and y_t, y_h per step for every coarse-grainer (JSON-ready).

    Parameters
    ----------
    spins : ndarray, shape (n, L, L), values in {-1, +1}, in sampling order
    coarse_grainers : sequence of CoarseGrainer with distinct names (e.g. ``Majority()``,
        ``Decimation()``, ``DBNCoarseGrainer(dbn, spins)``)
    n_levels : int, optional
        Coarse-graining steps for every coarse-grainer; default the most each allows down to
        a 4 x 4 lattice (``available_levels``).
    seed : int
        Coarse-grainer number i draws from stream (seed, i) (its levels from sub-streams).
    coupling_operators : operators of the fitted coarse Hamiltonian
    even_operators, odd_operators : operators of the MCRG, in order of importance
    n_blocks : int, jackknife blocks of contiguous configurations
    coupling : float, optional
        The data's K, recorded in the settings.

    Returns
    -------
    dict::

        {"settings": {...},
         "coarse_grainers": {name: {"block_size": b, "n_levels": N, "info": {...},
             "levels": [{"level": l, "size": L / b^l, "block_size": b^l,
                         "couplings": {name: {"mean", "error"}}, "couplings_converged",
                         "nn_projection": {"mean", "error"}, "nn_projection_converged",
                         "y_t": {"mean", "error", "by_operators": [...]} or None (level 0),
                         "y_h": {...} or None}, ...]}}}

    NaN (not converged, or an undefined exponent) stays NaN here; ``ising_rg.io.jsonfile``
    writes it as null.
    """
    names = [cg.name for cg in coarse_grainers]
    if not names or len(set(names)) != len(names):
        raise IsingRGError(f"need coarse-grainers with distinct names, got {names}")
    seed = check_integer(seed, "seed", 0)
    options = {
        "coupling_operators": [o.name for o in operators_by_name(coupling_operators)],
        "even_operators": [o.name for o in operators_by_name(even_operators)],
        "odd_operators": [o.name for o in operators_by_name(odd_operators)],
        "n_blocks": check_integer(n_blocks, "n_blocks", 2),
    }
    spins = np.asarray(spins)
    if spins.ndim != 3 or spins.shape[1] != spins.shape[2]:
        raise IsingRGError(f"spins must be shaped (n, L, L), got {spins.shape}")
    size = int(spins.shape[1])
    level0 = _coupling_entry(*fit_coupling_sets(
        spins, [options["coupling_operators"], NN_PROJECTION], options["n_blocks"]))
    results = {}
    for stream, cg in enumerate(coarse_grainers):
        levels = _n_levels(cg, size, n_levels)
        results[cg.name] = {
            "block_size": int(cg.block_size),
            "n_levels": int(levels),
            "info": getattr(cg, "info", {}),
            "levels": _levels_of(cg, spins, levels, seed, stream, level0, options),
        }
    return {"settings": _settings(spins, coupling, seed, options),
            "coarse_grainers": results}


def _n_levels(coarse_grainer: CoarseGrainer, size: int, n_levels: int | None) -> int:
    """The steps to take (given, or all the lattice allows); IsingRGError if none."""
    b = coarse_grainer.block_size
    if size % b:
        raise IsingRGError(f"lattice size {size} is not divisible by the block size b = {b} "
                           f"of {coarse_grainer.name}")
    if n_levels is not None:
        return check_integer(n_levels, "n_levels", 1)
    levels = available_levels(coarse_grainer, size)
    if levels < 1:
        raise IsingRGError(f"a {size}x{size} lattice cannot be coarse-grained by "
                           f"{coarse_grainer.name} (b = {b}) down to "
                           f"{MIN_COARSE_SIZE}x{MIN_COARSE_SIZE}")
    return levels


def _settings(spins: np.ndarray, coupling: float | None, seed: int, options: dict) -> dict:
    return {
        "n_configurations": int(spins.shape[0]),
        "size": int(spins.shape[1]),
        "coupling": coupling,
        "seed": seed,
        "jackknife_blocks": options["n_blocks"],
        "coupling_operators": options["coupling_operators"],
        "even_operators": options["even_operators"],
        "odd_operators": options["odd_operators"],
        "min_size": MIN_COARSE_SIZE,
        "exact": {"y_t": EXACT_Y_T, "y_h": EXACT_Y_H},
        "couplings_estimator": "maximum pseudo-likelihood (Newton), -H/kT = sum_a K_a S_a, "
                               "jackknife over blocks of configurations",
        "exponents_estimator": "Swendsen 1979 linearized RG, T = B^-1 A, y = ln(lambda)/ln(b); "
                               "a level's y_t, y_h are those of the step into it, all operators",
    }

"""A deep belief network built to be majority rule: the known answer for the DBN coarse-grainer.

Layer l has one unit per 2 x 2 block of layer l - 1's lattice (layer 0: the L x L visible
units), with pre-activation ``w sign_u (sum of the block's four spins)``: P(h_u = 1) is 1 when
the block's majority agrees with sign_u, 0 when it disagrees (|pre-activation| >= 2 w), and
1/2 on a tie (sum 0). So, with its units read at their sites and signs, the network *is* 2 x 2
majority rule with fair coins for ties, iterated, and every measurement of the DBN
coarse-grainer (placement, signs, couplings, MCRG exponents) must reproduce Majority's.

To give the placement something to find, the units of every layer are stored in a seeded
random order with seeded random signs: unit u of layer l sits at block site ``sites[l-1][u]``
(flat index I * m + J) with sign ``signs[l-1][u]``. In the {0,1} units of an RBM, with the
input units' spins sign_a (2 h_a - 1):

    W[a, u] = 2 w sign_u sign_a   (a in u's block),     c_u = -w sign_u sum_a sign_a,

and visible biases 0 (the coarse-graining only goes up). With the default w = 100 the
pre-activations of non-tied blocks are beyond the float32 sigmoid's floor of 8.7e-27 (see
``ising_rg.rbm``): a unit errs only when a float32 uniform draw is exactly 0 (p = 2^-24).
"""

from __future__ import annotations

import numpy as np

from ising_rg.checks import check_integer, check_number
from ising_rg.errors import IsingRGError
from ising_rg.rbm.dbn import DBN
from ising_rg.rbm.rbm import BernoulliRBM
from ising_rg.seeding import SeedLike, as_generator

__all__ = ["majority_rule_network"]


def _block_inputs(side: int) -> np.ndarray:
    """Flat input-lattice sites (side 2m) of the 2 x 2 block of every output site: (m^2, 4)."""
    rows, cols = np.divmod(np.arange(side * side), side)
    return np.stack([(2 * rows + dr) * (2 * side) + 2 * cols + dc
                     for dr in (0, 1) for dc in (0, 1)], axis=1)


def majority_rule_network(size: int, n_layers: int | None = None, strength: float = 100.0,
                          seed: SeedLike = 0) -> tuple[DBN, list[np.ndarray], list[np.ndarray]]:
    """A DBN whose layers are iterated 2 x 2 majority rule, units shuffled and signed.

    Parameters
    ----------
    size : int
        L; divisible by 2^n_layers.
    n_layers : int, optional
        Default: as many as halve L to an integer side (40: 3 layers, 1600-400-100-25).
    strength : float > 0
        w above.
    seed : int, SeedSequence or Generator
        Draws each layer's unit order and signs.

    Returns
    -------
    dbn : DBN, fitted, layer l with (L / 2^l)^2 units
    sites : list of int64 arrays, entry l - 1 shaped (n_l,): block site of each unit
    signs : list of int8 arrays, entry l - 1 shaped (n_l,): +1 or -1
    """
    size = check_integer(size, "size", 2)
    strength = check_number(strength, "strength", above=0)
    if n_layers is None:
        n_layers = 0
        while size % 2 ** (n_layers + 1) == 0:
            n_layers += 1
    n_layers = check_integer(n_layers, "n_layers", 1)
    if size % 2**n_layers:
        raise IsingRGError(f"L = {size} is not divisible by 2^{n_layers}")
    rng = as_generator(seed)
    input_site = np.arange(size * size)
    input_sign = np.ones(size * size, dtype=np.int8)
    rbms, sites, signs = [], [], []
    side_in = size
    for _ in range(n_layers):
        side = side_in // 2
        site = rng.permutation(side * side)
        sign = rng.choice(np.array([-1, 1], dtype=np.int8), size=side * side)
        unit_at_input_site = np.argsort(input_site)
        inputs = unit_at_input_site[_block_inputs(side)[site]]  # (n_units, 4) input units
        weights = np.zeros((side_in * side_in, side * side))
        units = np.arange(side * side)[:, np.newaxis]
        weights[inputs, units] = 2.0 * strength * sign[:, np.newaxis] * input_sign[inputs]
        hidden_bias = -strength * sign * input_sign[inputs].sum(axis=1)
        rbms.append(BernoulliRBM.from_parameters(weights, np.zeros(side_in * side_in),
                                                 hidden_bias))
        sites.append(site.astype(np.int64))
        signs.append(sign)
        input_site, input_sign, side_in = site, sign, side
    return DBN.from_rbms(rbms), sites, signs

"""Independent references for the RG tests: lattice operators written out by hand, and exact
samples of a 4 x 4 torus under any Hamiltonian built from them (by enumeration)."""

from __future__ import annotations

import numpy as np


def shifted(s: np.ndarray, dr: int, dc: int) -> np.ndarray:
    """s[x + (dr, dc)] for every site x, periodic: (n, L, L)."""
    return np.roll(s, (-dr, -dc), axis=(1, 2))


def reference_sums(spins: np.ndarray) -> dict[str, np.ndarray]:
    """Every operator of ising_rg.rg.operators written out by hand, per configuration."""
    s = spins.astype(np.int64)
    a, b, c, d = s, shifted(s, 0, 1), shifted(s, 1, 0), shifted(s, 1, 1)  # plaquette corners

    def total(x):
        return x.sum(axis=(1, 2))

    return {
        "nn": total(s * b + s * c),
        "nnn": total(s * d + s * shifted(s, 1, -1)),
        "plaquette": total(a * b * c * d),
        "nn3": total(s * shifted(s, 0, 2) + s * shifted(s, 2, 0)),
        "nn4": total(s * (shifted(s, 1, 2) + shifted(s, 2, 1) + shifted(s, 1, -2)
                          + shifted(s, 2, -1))),
        "nn5": total(s * (shifted(s, 2, 2) + shifted(s, 2, -2))),
        "field": total(s),
        "three_corner": total(a * b * c + a * b * d + a * c * d + b * c * d),
        "three_line": total(s * shifted(s, 0, 1) * shifted(s, 0, 2)
                            + s * shifted(s, 1, 0) * shifted(s, 2, 0)),
        "five_cross": total(s * shifted(s, 0, 1) * shifted(s, 1, 0) * shifted(s, 0, -1)
                            * shifted(s, -1, 0)),
    }


def all_states(size: int = 4) -> np.ndarray:
    """Every configuration of the size x size torus, int8 (2^(size^2), size, size)."""
    n_sites = size * size
    codes = np.arange(2**n_sites, dtype=np.int64)
    bits = (codes[:, np.newaxis] >> np.arange(n_sites)) & 1
    return (2 * bits - 1).astype(np.int8).reshape(-1, size, size)


def exact_samples(couplings: dict[str, float], n: int, seed: int, size: int = 4) -> np.ndarray:
    """Independent configurations of P(s) ~ exp(sum_a K_a S_a(s)) on the size x size torus."""
    states = all_states(size)
    sums = reference_sums(states)
    log_weight = sum(k * sums[name] for name, k in couplings.items())
    p = np.exp(log_weight - log_weight.max())
    p /= p.sum()
    index = np.random.default_rng(seed).choice(states.shape[0], size=n, p=p)
    return states[index]

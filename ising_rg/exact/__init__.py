"""Exact results for the 2D nearest-neighbour Ising model (J = 1, K = 1/T): the oracles of the
tests and the targets of the checks.

* :mod:`~ising_rg.exact.onsager`: the infinite lattice (Onsager, Yang, the exact correlation
  length, the critical point);
* :mod:`~ising_rg.exact.kaufman`: the finite L x L torus (Kaufman's exact partition function,
  <E>/N, C/N, the temperature of an energy, ``exact_summary``);
* :mod:`~ising_rg.exact.enumeration`: brute-force enumeration of tori up to 4 x 4, the oracle of
  the two above.

Every name of the first two is importable from here (``from ising_rg import exact``;
``exact.energy_per_spin(K, L)``).
"""

from ising_rg.exact.kaufman import *  # noqa: F403
from ising_rg.exact.kaufman import __all__ as _kaufman_names

__all__ = [*_kaufman_names]

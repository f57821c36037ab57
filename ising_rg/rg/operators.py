"""Translation-invariant lattice operators of a coarse Hamiltonian: their sums and local fields.

A coarse Hamiltonian is written ``-H/kT = sum_a K_a S_a(s)``. Each operator here is a sum over
every site x of the torus and over a fixed list of *terms* (the symmetry images of one shape),
of the product of the spins at x + o for the offsets o of the term:

    S_a(s) = sum_x sum_{term in a} prod_{o in term} s[x + o]        (periodic, L x L).

So ``nn`` has the terms {(0,0),(0,1)} and {(0,0),(1,0)}: S_nn = sum over the 2N bonds, and the
Ising model at coupling K is K S_nn. Even operators (an even number of spins per term) keep the
spin-flip symmetry; odd ones (``field`` = sum_i s_i, three- and five-spin products) break it.

Because a term never holds a site twice (checked: ``check_operators_fit``), S_a is linear in
every single spin, ``S_a = s_i f_a,i + (terms without s_i)``, with the *local field*
``f_a,i = dS_a / ds_i = sum over the terms holding i of the product of their other spins``. That
is what the pseudo-likelihood needs (``ising_rg.rg.renormalized_couplings``): flipping s_i
changes S_a by -2 s_i f_a,i.

Operator sums and local fields are computed with numpy on shifted copies of the configurations
(``np.roll``), in chunks of configurations, each shift computed once per chunk.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ising_rg.errors import IsingRGError

__all__ = [
    "COUPLING_OPERATORS",
    "EVEN_OPERATORS",
    "ODD_OPERATORS",
    "OPERATORS",
    "LatticeOperator",
    "check_operators_fit",
    "local_field_chunks",
    "local_fields",
    "operator_sums",
    "operators_by_name",
]

Offset = tuple[int, int]
_CHUNK_SITES = 1 << 22  # configurations x sites per chunk: a few shifted int8 copies of 4 MB


@dataclass(frozen=True)
class LatticeOperator:
    """One translation-invariant operator: S = sum_x sum_terms prod_{o in term} s[x + o].

    Attributes
    ----------
    name : str
        Its name in results (``nn``, ``plaquette``, ``field``, ...).
    terms : tuple of tuples of (row, col) offsets
        The symmetry images of the operator's shape, each listed once.
    description : str
    """

    name: str
    terms: tuple[tuple[Offset, ...], ...]
    description: str

    @property
    def parity(self) -> str:
        """'even' or 'odd': the number of spins per term (the same for every term) mod 2."""
        return "even" if len(self.terms[0]) % 2 == 0 else "odd"

    @property
    def coordination(self) -> int:
        """Number of (term, site) pairs holding a given site: |f_a,i| never exceeds it."""
        return sum(len(term) for term in self.terms)


def _pair(name: str, offsets: Sequence[Offset], description: str) -> LatticeOperator:
    return LatticeOperator(name, tuple(((0, 0), o) for o in offsets), description)


#: Every operator the package knows, in the order of importance used for the MCRG truncations.
OPERATORS: tuple[LatticeOperator, ...] = (
    _pair("nn", [(0, 1), (1, 0)], "nearest-neighbour pairs (distance 1)"),
    _pair("nnn", [(1, 1), (1, -1)], "next-nearest-neighbour pairs (diagonal, distance sqrt 2)"),
    LatticeOperator("plaquette", (((0, 0), (0, 1), (1, 0), (1, 1)),),
                    "four spins of an elementary square"),
    _pair("nn3", [(0, 2), (2, 0)], "third-neighbour pairs (distance 2)"),
    _pair("nn4", [(1, 2), (2, 1), (1, -2), (2, -1)], "fourth-neighbour pairs (distance sqrt 5)"),
    _pair("nn5", [(2, 2), (2, -2)], "fifth-neighbour pairs (distance 2 sqrt 2)"),
    LatticeOperator("field", (((0, 0),),), "single spins (conjugate to a magnetic field)"),
    LatticeOperator(
        "three_corner",
        (((0, 0), (0, 1), (1, 0)), ((0, 0), (0, 1), (1, 1)),
         ((0, 0), (1, 0), (1, 1)), ((0, 1), (1, 0), (1, 1))),
        "three spins of an elementary square (its four corners removed in turn)",
    ),
    LatticeOperator("three_line", (((0, 0), (0, 1), (0, 2)), ((0, 0), (1, 0), (2, 0))),
                    "three spins in a row (straight lines of length 2)"),
    LatticeOperator("five_cross", (((0, 0), (0, 1), (1, 0), (0, -1), (-1, 0)),),
                    "a spin and its four nearest neighbours"),
)

#: Even operators of the MCRG (y_t), in order: the first k give the k-operator truncation.
EVEN_OPERATORS = tuple(o.name for o in OPERATORS if o.parity == "even")
#: Odd operators of the MCRG (y_h), in order.
ODD_OPERATORS = tuple(o.name for o in OPERATORS if o.parity == "odd")
#: Default couplings of the coarse Hamiltonian fitted by pseudo-likelihood.
COUPLING_OPERATORS = ("nn", "nnn", "nn3", "plaquette", "field")

_BY_NAME = {o.name: o for o in OPERATORS}


def operators_by_name(names: Sequence[str | LatticeOperator]) -> list[LatticeOperator]:
    """The operators named (LatticeOperator instances pass through); IsingRGError if unknown
    or repeated."""
    out = []
    for item in names:
        if isinstance(item, LatticeOperator):
            out.append(item)
        elif item in _BY_NAME:
            out.append(_BY_NAME[item])
        else:
            raise IsingRGError(f"unknown operator {item!r}; known: {', '.join(_BY_NAME)}")
    if not out:
        raise IsingRGError("need at least one operator")
    if len({o.name for o in out}) != len(out):
        raise IsingRGError(f"operators repeated: {[o.name for o in out]}")
    return out


def check_operators_fit(operators: Sequence[LatticeOperator], size: int) -> None:
    """IsingRGError unless every term of every operator holds distinct sites on the L x L torus
    (two offsets of a term differing by a multiple of L would hold one site twice)."""
    for op in operators:
        for term in op.terms:
            for i, a in enumerate(term):
                for b in term[i + 1:]:
                    if (a[0] - b[0]) % size == 0 and (a[1] - b[1]) % size == 0:
                        raise IsingRGError(
                            f"operator {op.name!r} does not fit on a {size}x{size} lattice "
                            f"(two of its spins fall on one site)"
                        )


def _check_spins(spins: np.ndarray) -> np.ndarray:
    s = np.asarray(spins)
    if s.ndim != 3 or s.shape[1] != s.shape[2] or s.shape[1] == 0:
        raise IsingRGError(f"spins must be shaped (n, L, L), got {np.shape(spins)}")
    return s.astype(np.int8, copy=False)


class _Shifts:
    """Shifted copies s[x + o] of a chunk of configurations, each offset computed once."""

    def __init__(self, chunk: np.ndarray) -> None:
        self.chunk = chunk
        self.cache: dict[Offset, np.ndarray] = {}

    def __call__(self, offset: Offset) -> np.ndarray:
        size = self.chunk.shape[1]
        key = (offset[0] % size, offset[1] % size)
        if key not in self.cache:
            self.cache[key] = np.roll(self.chunk, (-key[0], -key[1]), axis=(1, 2))
        return self.cache[key]

    def product(self, offsets: Sequence[Offset]) -> np.ndarray:
        out = self(offsets[0]).copy()
        for offset in offsets[1:]:
            out *= self(offset)
        return out


def _chunks(spins: np.ndarray) -> Iterator[tuple[slice, _Shifts]]:
    n, size, _ = spins.shape
    step = max(1, _CHUNK_SITES // (size * size))
    for start in range(0, n, step):
        rows = slice(start, min(n, start + step))
        yield rows, _Shifts(spins[rows])


def operator_sums(spins: np.ndarray, operators: Sequence[str | LatticeOperator]) -> np.ndarray:
    """S_a(s) of every configuration: the operator summed over the lattice (extensive).

    Parameters
    ----------
    spins : ndarray, shape (n, L, L), values in {-1, +1}
    operators : sequence of operator names or LatticeOperator

    Returns
    -------
    float64 array, shape (n, n_operators); e.g. ``nn`` gives sum over the 2N bonds, -E.
    """
    s = _check_spins(spins)
    ops = operators_by_name(operators)
    check_operators_fit(ops, s.shape[1])
    out = np.empty((s.shape[0], len(ops)))
    for rows, shifts in _chunks(s):
        for column, op in enumerate(ops):
            total = np.zeros(shifts.chunk.shape[0], dtype=np.int64)
            for term in op.terms:
                total += shifts.product(term).sum(axis=(1, 2), dtype=np.int64)
            out[rows, column] = total
    return out


def _local_field_chunk(shifts: _Shifts, op: LatticeOperator) -> np.ndarray:
    field = np.zeros(shifts.chunk.shape, dtype=np.int8)
    for term in op.terms:
        for j, anchor in enumerate(term):
            others = [(o[0] - anchor[0], o[1] - anchor[1]) for m, o in enumerate(term) if m != j]
            field += shifts.product(others) if others else np.int8(1)
    return field


def local_fields(spins: np.ndarray, operator: str | LatticeOperator) -> np.ndarray:
    """f_a,i = dS_a / ds_i at every site: the sum, over the terms of the operator holding site
    i, of the product of their other spins (1 for a single-spin term).

    Parameters
    ----------
    spins : ndarray, shape (n, L, L), values in {-1, +1}
    operator : operator name or LatticeOperator

    Returns
    -------
    int8 array, shape (n, L, L); |f| <= the operator's coordination (at most 12 here).
    """
    s = _check_spins(spins)
    (op,) = operators_by_name([operator])
    check_operators_fit([op], s.shape[1])
    if op.coordination > 127:
        raise IsingRGError(f"operator {op.name!r} has too many terms for int8 local fields")
    out = np.empty(s.shape, dtype=np.int8)
    for rows, shifts in _chunks(s):
        out[rows] = _local_field_chunk(shifts, op)
    return out


def local_field_chunks(spins: np.ndarray, operators: Sequence[LatticeOperator]
                       ) -> Iterator[tuple[slice, np.ndarray, list[np.ndarray]]]:
    """Chunks of configurations with the local field of every operator on them:
    ``(rows, spins[rows], [f_a for a in operators])``, each f_a int8 shaped like spins[rows].
    Lets a caller reduce the fields as it goes, without holding them for every configuration."""
    s = _check_spins(spins)
    check_operators_fit(operators, s.shape[1])
    for rows, shifts in _chunks(s):
        yield rows, shifts.chunk, [_local_field_chunk(shifts, op) for op in operators]

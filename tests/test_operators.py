"""Lattice operators: sums against formulas written out by hand, local fields against flips."""

import numpy as np
import pytest

from ising_rg.errors import IsingRGError
from ising_rg.rg.operators import (
    COUPLING_OPERATORS,
    EVEN_OPERATORS,
    ODD_OPERATORS,
    OPERATORS,
    check_operators_fit,
    local_fields,
    operator_sums,
    operators_by_name,
)
from ising_rg.sampling.observables import energy_per_spin
from tests.conftest import random_spins
from tests.lattice_reference import reference_sums


@pytest.mark.parametrize("size", [4, 5, 8])
def test_operator_sums_match_formulas_written_out(size):
    s = random_spins(20, size, seed=size)
    names = [op.name for op in OPERATORS]
    sums = operator_sums(s, names)
    reference = reference_sums(s)
    for column, name in enumerate(names):
        np.testing.assert_array_equal(sums[:, column], reference[name], err_msg=name)
    # nn is minus the energy: E/N = -S_nn / N
    np.testing.assert_allclose(sums[:, 0] / size**2, -energy_per_spin(s))


def test_all_up_counts_the_terms():
    s = np.ones((1, 6, 6), dtype=np.int8)
    sums = operator_sums(s, [op.name for op in OPERATORS])[0]
    expected = [36 * len(op.terms) for op in OPERATORS]
    np.testing.assert_array_equal(sums, expected)


@pytest.mark.parametrize("size", [4, 5, 6])
def test_local_field_is_the_change_of_the_sum_under_a_flip(size):
    # S(s) - S(s with s_i flipped) = 2 s_i f_i, for every site of every operator.
    s = random_spins(3, size, seed=10 + size)
    names = [op.name for op in OPERATORS]
    base = operator_sums(s, names)
    fields = np.stack([local_fields(s, name) for name in names], axis=-1)  # (n, L, L, k)
    for row in range(size):
        for col in range(size):
            flipped = s.copy()
            flipped[:, row, col] *= -1
            change = base - operator_sums(flipped, names)
            expected = 2 * s[:, row, col, np.newaxis] * fields[:, row, col, :]
            np.testing.assert_array_equal(change, expected)


def test_parity_and_lists():
    assert EVEN_OPERATORS[:3] == ("nn", "nnn", "plaquette")
    assert ODD_OPERATORS[0] == "field"
    assert all(op.parity == "even" for op in operators_by_name(EVEN_OPERATORS))
    assert all(op.parity == "odd" for op in operators_by_name(ODD_OPERATORS))
    assert set(COUPLING_OPERATORS) <= {op.name for op in OPERATORS}
    # Odd operators change sign under a global flip, even ones do not.
    s = random_spins(4, 6, seed=3)
    even = operator_sums(s, EVEN_OPERATORS)
    odd = operator_sums(s, ODD_OPERATORS)
    np.testing.assert_array_equal(operator_sums(-s, EVEN_OPERATORS), even)
    np.testing.assert_array_equal(operator_sums(-s, ODD_OPERATORS), -odd)


def test_bad_operators_and_lattices_raise():
    with pytest.raises(IsingRGError, match="unknown operator 'bond'"):
        operators_by_name(["bond"])
    with pytest.raises(IsingRGError, match="repeated"):
        operators_by_name(["nn", "nn"])
    with pytest.raises(IsingRGError, match="'nn3' does not fit on a 2x2 lattice"):
        check_operators_fit(operators_by_name(["nn", "nn3"]), 2)
    check_operators_fit(operators_by_name([op.name for op in OPERATORS]), 4)
    with pytest.raises(IsingRGError, match=r"\(n, L, L\)"):
        operator_sums(np.ones((4, 4), dtype=np.int8), ["nn"])

"""Coefficient and variable scaling (solver.engine.scaling; Meintjes and Morgan 1987).

Oracles: a well-scaled system (katsura-3, 2^3 solutions) made badly scaled by a planted
substitution x = 2^d y and equation factors 2^e, whose solutions are katsura's divided by
2^d; the exactness of powers of two.
"""

from __future__ import annotations

import numpy as np
import pytest

from solver.engine.examples import by_name
from solver.engine.scaling import Scaling, scale_system, scaling_exponents, unscale_points
from solver.engine.solve import solve

PLANT = Scaling(np.array([-20, 5, 13, -7]), np.array([30, -10, 4, 0]), 0.0, 0.0)


@pytest.fixture(scope="module")
def planted():
    return scale_system(by_name("katsura-3"), PLANT)


def test_scaling_multiplies_terms_by_powers_of_two(planted) -> None:
    katsura = by_name("katsura-3")
    for i, (p, q) in enumerate(zip(katsura.polynomials, planted.polynomials)):
        shift = p.exponents @ PLANT.variables + PLANT.equations[i]
        np.testing.assert_array_equal(p.exponents, q.exponents)
        np.testing.assert_allclose(q.coefficients, p.coefficients * 2.0**shift, rtol=1e-15)


def test_exponents_undo_a_planted_scaling(planted) -> None:
    found = scaling_exponents(planted)
    # the coefficients of the planted system span 10^9 .. 10^-9; scaled, they are near one
    assert found.spread_before > 5.0 and found.spread < 0.5
    # katsura's terms are of degree 0..2, so the planted exponents are undone up to rounding
    assert np.abs(found.variables + PLANT.variables).max() <= 1
    with_variability = scaling_exponents(planted, reduce_variability=True)
    assert with_variability.spread < 0.5


def test_solve_with_scale_finds_the_planted_solutions(planted) -> None:
    reference = solve(by_name("katsura-3"), seed=0).values()
    assert len(reference) == 8
    result = solve(planted, seed=0, scale=True)
    assert len(result.solutions) == 8 and result.counts["failed"] == 0
    # y = x / 2^d: back to katsura's coordinates
    x = unscale_points(result.values(), PLANT)
    for point in x:
        assert np.abs(reference - point).max(axis=1).min() < 1e-10

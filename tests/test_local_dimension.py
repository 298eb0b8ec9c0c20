"""Singular endpoints on positive-dimensional components (solver.engine.local_dimension).

Oracles in closed form: ``x (x - 1) = x (y - 2) = 0`` is the line ``x = 0`` and the point
``(1, 2)``; ``(x - 1)^2 + x y - 3 x = y - 3 = 0`` has the double root ``(1, 3)`` alone.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from solver.engine.local_dimension import isolated_solutions, on_positive_dimensional
from solver.engine.result import PathStatus
from solver.engine.solve import solve
from solver.engine.system import System

x, y = sp.symbols("x y")
LINE_AND_POINT = System.from_sympy([x * (x - 1), x * (y - 2)], [x, y])
DOUBLE_ROOT = System.from_sympy([(x - 1) ** 2 + x * y - 3 * x, y - 3], [x, y])


def test_points_of_the_line_are_on_a_component() -> None:
    points = np.array([[0, 5], [0, -1j], [0, 1e3], [1, 2]], dtype=complex)
    assert on_positive_dimensional(LINE_AND_POINT, points).tolist() == [True, True, True, False]


def test_a_double_root_is_isolated() -> None:
    assert not on_positive_dimensional(DOUBLE_ROOT, np.array([[1, 3]], dtype=complex))[0]
    result = solve(DOUBLE_ROOT, seed=0)
    isolated = isolated_solutions(DOUBLE_ROOT, result)
    assert len(isolated) == 1 and isolated[0].status == PathStatus.SINGULAR and isolated[0].multiplicity == 2


def test_isolated_solutions_drop_the_endpoints_on_the_line() -> None:
    for seed in (0, 1, 2):
        result = solve(LINE_AND_POINT, seed=seed)
        isolated = isolated_solutions(LINE_AND_POINT, result, seed=seed)
        assert len(isolated) == 1
        np.testing.assert_allclose(isolated[0].values, [1, 2], atol=1e-10)

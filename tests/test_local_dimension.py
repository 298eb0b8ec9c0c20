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


def _butcher() -> System:
    from pathlib import Path

    from solver.engine.formats.phc import parse_system

    return parse_system((Path(__file__).parent / "data" / "hard" / "butcher.phc").read_text())


def test_points_of_wide_range_on_butchers_planes() -> None:
    # closed form: butcher (variables z, u, y, v, t, w, x) vanishes on the planes
    # u = y = x = 0, t = w = -1 and u = v = x = 0, t = w = -1 (z and the other free).
    # The first point is the endpoint of seed 1's linear-product solve (coordinates
    # 1e-24 to 220) that a step relative to the largest coordinate could not place.
    system = _butcher()
    points = np.array([
        [-1.9833 + 2.5997j, -1.46e-17 - 1.95e-17j, -4.3e-24 + 1.6e-25j, 112.15 - 188.83j, -1, -1, 7.9e-22 - 1.2e-22j],
        [-0.5876 - 11.51j, 4.9e-12 + 3.0e-12j, -2.650 + 2.759j, 8.9e-12 + 3.6e-13j, -1, -1, -2.8e-12 + 1.9e-13j],
        [3e-3, 0, 0, 5e4, -1, -1, 0],
    ], dtype=complex)
    for seed in range(8):
        assert on_positive_dimensional(system, points, seed=seed).all(), seed


def test_a_double_root_of_wide_range_is_isolated() -> None:
    # DOUBLE_ROOT in x = 1e-3 X, y = 300 Y: its only root (1e-3, 900), still double
    scaled = System.from_sympy([(1000 * x - 1) ** 2 + 1000 * x * y / 300 - 3000 * x, y / 300 - 3], [x, y])
    for seed in range(4):
        assert not on_positive_dimensional(scaled, np.array([[1e-3, 900]], dtype=complex), seed=seed)[0]

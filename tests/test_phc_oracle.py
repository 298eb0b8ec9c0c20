"""Our engine against PHCpack, solution by solution.

PHCpack is an oracle for what it finds, never for completeness: `phc -b` starts from a
polyhedral homotopy and can miss solutions with zero coordinates (DESIGN.md). Where we
find more, the extra solutions are named and checked by evaluating the system here.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from solver.engine.examples import by_name
from solver.engine.start_systems.set_structure import SetStructure, bezout_count
from solver.engine.backends.phcpack import phc_available, phcpy_available, phcpy_linear_product_count, solve_phc
from solver.engine.solve import solve
from solver.engine.system import System

pytestmark = pytest.mark.skipif(not (phc_available() and phcpy_available()), reason="PHCpack (phc, phcpy) is not installed: run scripts/setup.sh")


def _origin_system() -> System:
    u, w = sp.symbols("u w")
    # has the origin as a solution: a polyhedral start can miss it
    return System.from_sympy([u * w**2 - 2 * w + u / 2, u**2 * w - 2 * u + w / 2], [u, w])


SYSTEMS = {
    "katsura-4": lambda: by_name("katsura-4"),
    "katsura-5": lambda: by_name("katsura-5"),
    "cyclic-5": lambda: by_name("cyclic-5"),
    "noon-3": lambda: by_name("noon-3"),
    "noon-4": lambda: by_name("noon-4"),
    "eco-6": lambda: by_name("eco-6"),
    "origin": _origin_system,
}


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_every_phc_solution_is_one_of_ours(name: str) -> None:
    system = SYSTEMS[name]()
    ours = solve(system, seed=1)
    theirs = solve_phc(system, seed=1)
    assert ours.counts["failed"] == 0, ours.failures
    mine = ours.values()
    # every one of ours solves the system, checked here, not by the engine
    assert system.relative_residuals(mine).max() < 1e-10
    matched = np.zeros(len(mine), dtype=bool)
    for sol in theirs.solutions:
        distance = np.abs(mine - sol.values).max(axis=1)
        k = int(np.argmin(distance))
        assert distance[k] < 1e-6, f"{name}: phc -b solution {sol.values} not found by us"
        matched[k] = True
    extra = mine[~matched]
    # solutions PHCpack did not report: name them, and they must still be solutions
    for x in extra:
        assert system.relative_residuals(x).max() < 1e-10, f"{name}: extra point {x} is not a solution"
    assert len(mine) >= len(theirs.solutions)


def test_origin_is_found_by_us_but_not_by_polyhedral_start() -> None:
    system = _origin_system()
    ours = solve(system, start="total-degree")
    assert any(np.abs(s.values).max() < 1e-12 for s in ours.solutions)
    assert len(ours.solutions) == 5
    polyhedral = solve(system, start="polyhedral")
    # the polyhedral start counts solutions in the torus only: the origin is missed
    assert polyhedral.paths == 4
    assert not any(np.abs(s.values).max() < 1e-12 for s in polyhedral.solutions)


@pytest.mark.parametrize("name", ["noon-3", "noon-4", "cyclic-5", "eco-6", "katsura-4"])
def test_linear_product_count_equals_phcpy(name: str) -> None:
    system = by_name(name)
    count, structure = phcpy_linear_product_count(system)
    assert bezout_count(SetStructure.from_lists(structure, system.n_variables)) == count


def test_polyhedral_start_tracked_by_numba() -> None:
    system = by_name("cyclic-5")
    result = solve(system, start="polyhedral", seed=2)
    assert result.start_system == "polyhedral" and result.paths == 70
    assert len(result.solutions) == 70 and result.counts["failed"] == 0
    assert system.relative_residuals(result.values()).max() < 1e-10


def test_phcpy_backend_agrees_on_noon3() -> None:
    system = by_name("noon-3")
    ours = solve(system).values()
    theirs = solve(system, backend="phcpy", start="linear-product").values()
    assert len(theirs) == 21
    for x in theirs:
        assert np.abs(ours - x).max(axis=1).min() < 1e-6

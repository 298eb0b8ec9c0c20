"""The completeness fallback of ``start="auto"`` (solver.engine.start_systems.fallback).

Oracles: the root count with constants of ``x y - 1 = x + y - 3 = 0`` is 2 in closed form
(Bernstein: the mixed area of the segment from (0, 0) to (1, 1) and the triangle
(0, 0), (1, 0), (0, 1); its two solutions (3 +- sqrt 5) / 2 lie in the torus); PHCpack's
chemequs has 16 solutions (Meintjes and Morgan 1990; the demo file lists them) and
cyclic-5 has 70 (Backelin and Froeberg 1991), all of which its linear-product start
(117 paths) reaches without a failed path.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from solver.engine.backends.phcpack import phcpy_available
from solver.engine.examples import by_name
from solver.engine.formats.phc import parse_system
from solver.engine.result import SolveResult
from solver.engine.solve import solve
from solver.engine.start_systems.fallback import BUDGET, FINITE_SHARE, doubt, fallback_decision
from solver.engine.system import System

needs_phcpy = pytest.mark.skipif(not phcpy_available(), reason="the polyhedral count needs phcpy: run scripts/setup.sh")
x, y = sp.symbols("x y")
TWO_POINTS = System.from_sympy([x * y - 1, x + y - 3], [x, y])


def _result(paths: int, regular: int, failed: int = 0, at_infinity: int | None = None) -> SolveResult:
    """A product-start result with these path counts (no solutions needed by the decision)."""
    at_infinity = paths - regular - failed if at_infinity is None else at_infinity
    counts = {"regular": regular, "singular": 0, "at_infinity": at_infinity, "failed": failed, "real": 0}
    return SolveResult(("x", "y"), "linear-product", "numba", {"start_choice": "linear-product"}, paths, counts, [], 0.0)


def test_a_result_with_most_paths_finite_and_none_failed_is_not_doubtful() -> None:
    assert doubt(_result(10, 3)) is None
    assert fallback_decision(TWO_POINTS, _result(10, 3), None).reason == ""


def test_failed_paths_or_few_finite_make_a_result_doubtful() -> None:
    assert doubt(_result(10, 9, failed=1)) == "1 failed paths"
    few = int(FINITE_SHARE * 100) - 1
    assert doubt(_result(100, few)) == f"{few} of 100 paths finite"


@needs_phcpy
def test_the_fallback_runs_when_the_count_exceeds_the_finite_paths_within_the_budget() -> None:
    # the count with constants is 2 (closed form); 1 path finite of 10, one failed
    decision = fallback_decision(TWO_POINTS, _result(10, 1, failed=1), None)
    assert decision.run and decision.count == 2
    # two finite paths already: nothing more to find
    assert not fallback_decision(TWO_POINTS, _result(10, 2, failed=1), None).run
    # 2 paths weighted x5 exceed BUDGET times 4 paths
    small = _result(4, 1, failed=1)
    assert 2 * 5 > BUDGET * 4
    decision = fallback_decision(TWO_POINTS, small, None)
    assert not decision.run and "over the budget" in decision.reason
    # nor beyond max_paths
    assert not fallback_decision(TWO_POINTS, _result(10, 1, failed=1), max_paths=1).run


def test_cyclic5_is_not_doubtful() -> None:
    result = solve(by_name("cyclic-5"), seed=0)
    assert result.start_system == "linear-product" and result.paths == 117 and len(result.solutions) == 70
    assert "completeness fallback" not in result.root_counts["start_choice"]


@needs_phcpy
def test_chemequs_default_solve_falls_back_to_the_polyhedral_start() -> None:
    system = parse_system((Path(__file__).parent / "data" / "hard" / "chemequs.phc").read_text())
    result = solve(system, seed=0)
    assert len(result.solutions) == 16 and result.start_system == "polyhedral-constants"
    choice = result.root_counts["start_choice"]
    assert choice.startswith("linear-product") and "completeness fallback: 0 of 56 paths finite" in choice
    assert result.root_counts["mixed_volume_constants"] == 16
    # an explicit start is left as asked
    assert solve(system, seed=0, start="linear-product").start_system == "linear-product"


def test_no_fallback_from_the_paths_at_which_the_choice_weighs_the_polyhedral_start() -> None:
    from solver.engine.start_systems.choice import MIN_PATHS_FOR_MIXED_VOLUME

    decision = fallback_decision(TWO_POINTS, _result(MIN_PATHS_FOR_MIXED_VOLUME, 1, failed=1), None)
    assert not decision.run and "the choice weighs the polyhedral start itself" in decision.reason

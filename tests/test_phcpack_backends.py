"""The PHCpack backends (phc -b and phcpy): every reported solution is checked by
evaluating the target with our own System; counts are checked against closed forms and
PHCpack's published root counts (Demo/noon3: total degree 27, generalised Bezout 21)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from solver.engine.examples import by_name
from solver.engine.backends.phcpack import (
    PHCPY_STARTS,
    PHCpackError,
    phc_available,
    phcpy_available,
    phcpy_linear_product_count,
    phcpy_mixed_volume,
    phcpy_random_coefficient_start,
    phcpy_root_counts,
    run_phc,
    solve_phc,
    solve_phcpy,
)
from solver.engine.result import PathStatus
from solver.engine.system import InvalidSystem, System

needs_phc = pytest.mark.skipif(not phc_available(), reason="phc (Debian package phcpack) not installed")
needs_phcpy = pytest.mark.skipif(not phcpy_available(), reason="phcpy (python3-phcpy) not importable")

# The scalar linear chain of DESIGN.md (u w x, E[x^2] = 1, E[xy] = 2, lambda = 1/2): five
# critical points, u = w = +-sqrt(3/2), u = -w = +-i sqrt(5/2), and the origin.
CHAIN = System.from_sympy(["u*w**2 - 2*w + u/2", "u**2*w - 2*u + w/2"], ["u", "w"])
CHAIN_SOLUTIONS = np.array(
    [[0, 0], [1.5**0.5, 1.5**0.5], [-(1.5**0.5), -(1.5**0.5)], [2.5**0.5 * 1j, -(2.5**0.5) * 1j], [-(2.5**0.5) * 1j, 2.5**0.5 * 1j]]
)


def residuals(system: System, values: np.ndarray) -> np.ndarray:
    """Largest |f_i(x)| per solution, computed by our System (not by PHCpack)."""
    return np.abs(system(values)).max(axis=1) if len(values) else np.zeros(0)


def match(found: np.ndarray, expected: np.ndarray, tol: float = 1e-8) -> list[int]:
    """Index in ``expected`` of each row of ``found`` (asserting one exists)."""
    out = []
    for x in found:
        d = np.abs(expected - x).max(axis=1)
        assert d.min() < tol, f"{x} is none of the expected solutions"
        out.append(int(d.argmin()))
    return out


def bezout_by_matching(structure: list[list[list[int]]], n: int) -> int:
    """Independent oracle for a generalised Bezout number: the number of choices of one set
    per equation whose sets have a system of distinct representatives."""

    def perfect(sets):
        match_of = {}

        def augment(i, seen):
            for v in sets[i]:
                if v not in seen:
                    seen.add(v)
                    if v not in match_of or augment(match_of[v], seen):
                        match_of[v] = i
                        return True
            return False

        return all(augment(i, set()) for i in range(len(sets)))

    return sum(perfect(choice) for choice in itertools.product(*structure))


# ---------------------------------------------------------------------------------------
# katsura-3: 8 regular solutions from every backend


@needs_phc
def test_phc_katsura3_has_8_solutions_with_small_residuals():
    s = by_name("katsura-3")
    r = solve_phc(s, seed=1)
    assert r.backend == "phc" and r.start_system == "polyhedral"
    assert len(r.solutions) == 8 and r.counts["regular"] == 8 and r.paths == 8
    assert all(sol.status == PathStatus.REGULAR and sol.multiplicity == 1 for sol in r.solutions)
    assert residuals(s, r.values()).max() < 1e-10
    assert r.root_counts["total_degree"] == 8
    assert r.root_counts["mixed_volume"] == 6  # phc prints it; the 2 others have zeros
    assert r.variables == s.variables


@needs_phcpy
@pytest.mark.parametrize("start", ["linear-product", "total-degree"])
def test_phcpy_katsura3_has_8_solutions_matching_phc(start):
    s = by_name("katsura-3")
    r = solve_phcpy(s, start=start, seed=2)
    assert r.backend == "phcpy" and r.start_system == start
    assert len(r.solutions) == 8 and r.counts["regular"] == 8
    assert residuals(s, r.values()).max() < 1e-10
    if phc_available():
        ref = solve_phc(s).values()
        assert sorted(match(r.values(), ref)) == list(range(8))


# ---------------------------------------------------------------------------------------
# noon-3: PHCpack's linear-product count 21, 21 solutions


@needs_phcpy
def test_phcpy_linear_product_count_of_noon3():
    s = by_name("noon-3")
    count, structure = phcpy_linear_product_count(s)
    assert count == 21
    assert len(structure) == 3 and all(len(eq) == 3 for eq in structure)  # degree 3 each
    # the structure covers every monomial: each term's variables fill distinct sets
    for eq, p in zip(structure, s.polynomials):
        for e in p.exponents:
            need = [v for v, k in enumerate(e) for _ in range(k)]
            assert any(
                all(v in eq[j] for v, j in zip(need, perm))
                for perm in itertools.permutations(range(len(eq)), len(need))
            )
    assert bezout_by_matching(structure, 3) == 21
    assert phcpy_root_counts(s) == {"total_degree": 27, "linear_product": 21, "mixed_volume": 21}


@needs_phcpy
def test_phcpy_noon3_linear_product_solve_and_explicit_set_structure():
    s = by_name("noon-3")
    r = solve_phcpy(s, start="linear-product", seed=3)
    assert r.paths == 21 and len(r.solutions) == 21 and r.root_counts["linear_product"] == 21
    assert residuals(s, r.values()).max() < 1e-10
    # Demo/noon3's structure {x1}{x2 x3}{x2 x3}, ... given explicitly
    demo = [[[0], [1, 2], [1, 2]], [[1], [0, 2], [0, 2]], [[2], [0, 1], [0, 1]]]
    r2 = solve_phcpy(s, start="linear-product", seed=4, set_structure=demo)
    assert r2.root_counts["linear_product"] == 21 == bezout_by_matching(demo, 3)
    assert sorted(match(r2.values(), r.values())) == list(range(21))
    # an object with .sets of frozensets (solver.engine.start_systems.set_structure.SetStructure's shape)
    structure = type("Structure", (), {"sets": tuple(tuple(frozenset(x) for x in eq) for eq in demo)})()
    r3 = solve_phcpy(s, start="linear-product", seed=4, set_structure=structure)
    np.testing.assert_array_equal(r3.values(), r2.values())
    with pytest.raises(InvalidSystem, match="does not cover"):
        solve_phcpy(s, start="linear-product", set_structure=[[[0], [1]], [[1], [0]], [[2], [0]]])


@needs_phcpy
def test_phcpy_total_degree_counts_diverging_paths_at_infinity():
    s = by_name("noon-3")
    r = solve_phcpy(s, start="total-degree", seed=0)
    assert r.paths == 27 and len(r.solutions) == 21
    assert r.counts["at_infinity"] == 6 and r.counts["failed"] == 0


# ---------------------------------------------------------------------------------------
# zero coordinates (DESIGN.md pitfall): polyhedral starts count torus solutions only


@needs_phcpy
def test_polyhedral_start_misses_the_origin_total_degree_finds_it():
    assert phcpy_mixed_volume(CHAIN) == 4 and phcpy_mixed_volume(CHAIN, stable=True) == 5
    complete = solve_phcpy(CHAIN, start="total-degree", seed=0)
    assert sorted(match(complete.values(), CHAIN_SOLUTIONS)) == [0, 1, 2, 3, 4]
    assert residuals(CHAIN, complete.values()).max() < 1e-10
    torus = solve_phcpy(CHAIN, start="polyhedral", seed=0)
    assert torus.paths == 4
    found = match(torus.values(), CHAIN_SOLUTIONS)
    assert sorted(found) == [1, 2, 3, 4]  # the one missed is the origin
    assert residuals(CHAIN, torus.values()).max() < 1e-10


@needs_phc
def test_phc_lists_zero_coordinate_solutions_with_t_zero_and_we_keep_them():
    # phc -b tracks the stable mixed volume (5) here, but the origin comes from a stable
    # mixed cell without a path: its entry says "t : 0". A reader that keeps only t = 1
    # loses exactly the solutions with zero coordinates.
    run = run_phc(CHAIN, seed=0)
    at_t0 = [np.asarray(s) for s in run.solutions if abs(s.t) < 1e-12]
    at_t1 = [np.asarray(s) for s in run.solutions if abs(s.t - 1) < 1e-12]
    assert len(at_t0) + len(at_t1) == len(run.solutions)
    assert all(np.abs(x).min() < 1e-12 for x in at_t0)
    assert all(np.abs(x).min() > 1e-3 for x in at_t1)
    # never treat phc's list as complete: each of its solutions is one of the five, and
    # any it lacks has a zero coordinate
    r = solve_phc(CHAIN, seed=0)
    found = match(r.values(), CHAIN_SOLUTIONS)
    for k in set(range(5)) - set(found):
        assert np.abs(CHAIN_SOLUTIONS[k]).min() < 1e-12
    assert 0 in found  # this build lists the origin (with t = 0) and solve_phc keeps it
    assert residuals(CHAIN, r.values()).max() < 1e-10


# ---------------------------------------------------------------------------------------
# names, complex coefficients, order of first appearance


def _weird() -> System:
    import sympy as sp

    e, E, b = sp.symbols("e E b")  # symbols: the string "E" would be Euler's number
    return System.from_sympy([E**2 - 4, e - E - 1, b * e - 3], [e, E, b])


WEIRD = _weird()  # PHCpack reads e and E as numbers; E appears first
WEIRD_SOLUTIONS = np.array([[3, 2, 1], [-1, -2, -3]], dtype=complex)


def complex_system() -> tuple[System, np.ndarray]:
    """Complex coefficients (the imaginary unit in PHC text): (y - i x)(y + i x + 1) = 0,
    (x - (1 + 2i))(x - 3/10) = 0; four solutions."""
    import sympy as sp

    x, y = sp.symbols("x y")
    s = System.from_sympy([y**2 + y - (sp.I * x) ** 2 - sp.I * x, (x - (1 + 2 * sp.I)) * (x - sp.Rational(3, 10))], [x, y])
    # y = i x or y = -1 - i x
    xs = [1 + 2j, 0.3]
    sols = np.array([[a, b] for a in xs for b in (1j * a, -1 - 1j * a)])
    return s, sols


@needs_phc
def test_phc_with_variables_e_and_E_and_complex_coefficients():
    r = solve_phc(WEIRD)
    assert r.variables == ("e", "E", "b")
    assert sorted(match(r.values(), WEIRD_SOLUTIONS)) == [0, 1]
    s, sols = complex_system()
    r = solve_phc(s, seed=5)
    assert sorted(match(r.values(), sols)) == [0, 1, 2, 3]
    assert residuals(s, r.values()).max() < 1e-10


@needs_phcpy
@pytest.mark.parametrize("start", PHCPY_STARTS)
def test_phcpy_maps_values_back_by_position(start):
    r = solve_phcpy(WEIRD, start=start, seed=1)
    assert sorted(match(r.values(), WEIRD_SOLUTIONS)) == [0, 1]
    s, sols = complex_system()
    r = solve_phcpy(s, start=start, seed=1)
    assert sorted(match(r.values(), sols)) == [0, 1, 2, 3]


@needs_phcpy
def test_random_coefficient_start_has_the_target_supports_and_solves_itself():
    s = by_name("eco-6")  # x6 occurs in every term: PHCpack's variable order differs
    start, sols = phcpy_random_coefficient_start(s, seed=2)
    assert start.variables == s.variables and sols.shape == (16, 6)  # mixed volume 16
    for p, q in zip(s.polynomials, start.polynomials):
        assert {tuple(e) for e in p.exponents} == {tuple(e) for e in q.exponents}
    scale = np.abs(sols).max(axis=1) ** 3 + 1
    assert (np.abs(start(sols)).max(axis=1) / scale).max() < 1e-10
    # every path from it reaches the 16 solutions of eco-6
    r = solve_phcpy(s, start="polyhedral", seed=2)
    assert len(r.solutions) == 16 and residuals(s, r.values()).max() < 1e-10


# ---------------------------------------------------------------------------------------
# reproducibility, silence, bad input


@needs_phcpy
def test_phcpy_same_seed_same_endpoints_and_seed_zero_is_usable():
    s = by_name("katsura-3")
    a = solve_phcpy(s, seed=0)
    b = solve_phcpy(s, seed=0)
    np.testing.assert_array_equal(a.values(), b.values())
    assert len(a.solutions) == 8  # PHCpack's own seed 0 would give zero coefficients


@needs_phcpy
def test_phcpy_prints_nothing(capfd):
    solve_phcpy(by_name("katsura-2"), start="total-degree")
    phcpy_root_counts(by_name("katsura-2"))
    out, _ = capfd.readouterr()
    assert out == ""


@needs_phc
def test_phc_same_seed_same_solutions():
    s = by_name("katsura-3")
    a, b = solve_phc(s, seed=11).values(), solve_phc(s, seed=11).values()
    np.testing.assert_array_equal(a, b)


@needs_phc
def test_phc_timeout_raises():
    with pytest.raises(PHCpackError, match="did not finish"):
        solve_phc(by_name("katsura-6"), timeout=0.01)


def test_bad_input_is_refused_before_phcpack_runs():
    not_square = System.from_sympy(["x + y - 1"], ["x", "y"])
    with pytest.raises(InvalidSystem, match="not square"):
        solve_phc(not_square)
    with pytest.raises(InvalidSystem, match="not square"):
        solve_phcpy(not_square)
    with pytest.raises(InvalidSystem, match="unknown phcpy start"):
        solve_phcpy(by_name("katsura-2"), start="bezout")
    with pytest.raises(InvalidSystem, match="occur in no equation"):
        solve_phc(System.from_sympy(["x - 1", "x + 1"], ["x", "y"]))
    with pytest.raises(InvalidSystem, match="nonnegative"):
        solve_phc(by_name("katsura-2"), seed=-1)

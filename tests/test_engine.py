"""The Numba engine on systems with known solution counts and structure."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp

from solver.engine.examples import by_name
from solver.engine.start_systems.set_structure import (
    SetStructure,
    best_structure,
    bezout_count,
    enumerate_choices,
    multihomogeneous_count,
    partition_structure,
    supporting_structure,
    total_degree_structure,
)
from solver.engine.options import TrackerOptions
from solver.engine.result import PathStatus
from solver.engine.solve import solve
from solver.engine.start_systems.choice import TooManyPaths
from solver.engine.system import InvalidSystem, System


def _check_solutions(system: System, result, expected: int) -> None:
    assert len(result.solutions) == expected, result.summary()
    assert result.counts["failed"] == 0, result.failures
    values = result.values()
    # independent check: evaluate the target ourselves, relative residual per equation
    assert system.relative_residuals(values).max() < 1e-10
    # distinct
    for a, b in itertools.combinations(values, 2):
        assert np.abs(a - b).max() > 1e-6


@pytest.mark.parametrize("n", [3, 4, 5, 6])
def test_katsura_has_2_to_the_n_regular_solutions(n: int) -> None:
    system = by_name(f"katsura-{n}")
    result = solve(system)
    _check_solutions(system, result, 2**n)
    assert all(s.status == PathStatus.REGULAR and s.multiplicity == 1 for s in result.solutions)
    assert result.counts["regular"] == 2**n == result.paths


def test_cyclic5_has_70_solutions() -> None:
    system = by_name("cyclic-5")
    result = solve(system)
    _check_solutions(system, result, 70)
    assert result.counts["at_infinity"] == result.paths - 70


def test_noon3_counts() -> None:
    system = by_name("noon-3")
    assert system.total_degree == 27
    structure, count, _ = best_structure(system)
    assert count == 21
    result = solve(system, start="linear-product")
    assert result.paths == 21 and result.root_counts["linear_product"] == 21
    _check_solutions(system, result, 21)


def test_double_root_is_singular_with_multiplicity_two() -> None:
    x, y = sp.symbols("x y")
    # (x-1)^2 (y+2) = 0, x y = 2: (1, 2) is a double root, (-1, -2) a simple one,
    # and three of the six total-degree paths diverge
    system = System.from_sympy([(x - 1) ** 2 * (y + 2), x * y - 2], [x, y])
    result = solve(system, start="total-degree")
    assert result.counts == {"regular": 1, "singular": 2, "at_infinity": 3, "failed": 0, "real": 2}
    by_status = {s.status: s for s in result.solutions}
    double = by_status[PathStatus.SINGULAR]
    assert np.allclose(double.values, [1, 2], atol=1e-7) and double.multiplicity == 2
    simple = by_status[PathStatus.REGULAR]
    assert np.allclose(simple.values, [-1, -2], atol=1e-12) and simple.multiplicity == 1


def test_triple_root_in_one_variable() -> None:
    x, y = sp.symbols("x y")
    system = System.from_sympy([(x - 2) ** 3 * (x + 1), y - x], [x, y])
    result = solve(system, start="total-degree")
    sols = sorted(result.solutions, key=lambda s: s.values[0].real)
    assert [s.multiplicity for s in sols] == [1, 3]
    assert np.allclose(sols[1].values, [2, 2], atol=1e-5)
    assert sols[1].status == PathStatus.SINGULAR


def test_paths_at_infinity() -> None:
    x, y = sp.symbols("x y")
    # two parallel-ish conics meeting in 2 finite points; Bezout 4, two at infinity
    system = System.from_sympy([x**2 + y**2 - 4, x**2 + y**2 + x - 5], [x, y])
    result = solve(system, start="total-degree")
    assert result.counts["at_infinity"] == 2
    assert len(result.solutions) == 2
    assert np.allclose(sorted(s.values[1].real for s in result.solutions), [-np.sqrt(3), np.sqrt(3)])


def _sorted_rows(values: np.ndarray) -> np.ndarray:
    keys = np.round(np.c_[values.real, values.imag], 6)
    return values[np.lexsort(keys.T[::-1])]


def test_five_seeds_give_the_same_solution_set() -> None:
    system = by_name("noon-3")
    reference = _sorted_rows(solve(system, seed=0).values())
    for seed in range(1, 5):
        values = _sorted_rows(solve(system, seed=seed).values())
        assert values.shape == reference.shape
        assert np.abs(values - reference).max() < 1e-8


def test_presets_agree() -> None:
    system = by_name("katsura-4")
    for preset in ("fast", "conservative"):
        assert len(solve(system, options=preset).solutions) == 16
    assert TrackerOptions.preset("conservative").max_step < TrackerOptions.default().max_step
    with pytest.raises(ValueError):
        TrackerOptions.preset("reckless")


def test_max_paths_refused_before_work() -> None:
    system = by_name("cyclic-5")
    with pytest.raises(TooManyPaths) as info:
        solve(system, start="total-degree", max_paths=100)
    assert info.value.count == 120 and "120" in str(info.value)


def test_non_square_is_refused() -> None:
    x, y = sp.symbols("x y")
    with pytest.raises(InvalidSystem, match="not square"):
        solve(System.from_sympy([x + y], [x, y]))


# -- set structures ----------------------------------------------------------------------------
def _brute_force_count(structure: SetStructure, rng: np.random.Generator) -> int:
    """Count choices whose random linear system is nonsingular: the definition."""
    n = structure.n_variables
    total = 0
    for choice in itertools.product(*[range(len(eq)) for eq in structure.sets]):
        A = np.zeros((n, n))
        for i, k in enumerate(choice):
            for v in structure.sets[i][k]:
                A[i, v] = rng.normal()
        total += abs(np.linalg.det(A)) > 1e-9
    return total


@pytest.mark.parametrize("seed", range(6))
def test_bezout_count_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 5))
    sets = []
    for _ in range(n):
        eq = []
        for _ in range(int(rng.integers(1, 4))):
            size = int(rng.integers(1, n + 1))
            eq.append(rng.choice(n, size=size, replace=False).tolist())
        sets.append(eq)
    structure = SetStructure.from_lists(sets, n)
    expected = _brute_force_count(structure, rng)
    assert bezout_count(structure) == expected
    assert sum(len(c) for c in enumerate_choices(structure, chunk=3)) == expected


def test_multihomogeneous_count_matches_its_set_structure() -> None:
    system = by_name("eco-6")
    for groups in ([[0, 1, 2], [3, 4, 5]], [[0], [1, 2, 3, 4, 5]], [[k] for k in range(6)]):
        assert multihomogeneous_count(system, groups) == bezout_count(partition_structure(system, groups))


def test_derived_structures_cover_their_systems() -> None:
    for name in ("cyclic-5", "noon-4", "eco-6", "katsura-4"):
        system = by_name(name)
        for structure in (total_degree_structure(system), supporting_structure(system), best_structure(system)[0]):
            assert structure.covers(system), name
    x, y = sp.symbols("x y")
    narrow = SetStructure.from_lists([[[0]], [[1]]], 2)
    assert not narrow.covers(System.from_sympy([x * y - 1, y - 2], [x, y]))


def test_start_solutions_solve_the_start_system() -> None:
    from solver.engine.start_systems.linear_product import linear_product_start

    system = by_name("noon-3")
    structure, count, _ = best_structure(system)
    start = linear_product_start(system, structure, np.random.default_rng(1))
    sols = np.concatenate(list(start.solutions()))
    assert sols.shape == (count, 3)
    X = np.c_[np.ones(count), sols]
    # every start equation (a product of linear forms) vanishes at every start solution
    values = np.prod(np.einsum("ikj,pj->pik", start.lin, X), axis=2)
    assert np.abs(values).max() < 1e-10
    assert len({tuple(np.round(s, 8)) for s in sols}) == count


def test_solve_many_matches_solve_one_by_one() -> None:
    from solver.engine.solve import solve_many

    x, y = sp.symbols("x y")
    rng = np.random.default_rng(1)
    systems = [System.from_sympy([x**2 + a * y**2 - 1, x * y - b], [x, y]) for a, b in rng.uniform(0.2, 2, size=(12, 2))]
    systems.append(System.from_sympy([(x - 1) ** 2 * (y + 2), x * y - 2], [x, y]))  # other supports, a double root
    batched = solve_many(systems, seed=3)
    assert len(batched) == len(systems)
    for system, result in zip(systems, batched):
        single = solve(system, seed=3)
        assert len(result.solutions) == len(single.solutions)
        assert result.counts == single.counts
        mine = result.values()
        assert system.relative_residuals(mine).max() < 1e-10
        for v in single.values():
            assert np.abs(mine - v).max(axis=1).min() < 1e-7
    with pytest.raises(InvalidSystem, match="unknowns"):
        solve_many([systems[0], by_name("noon-3")])


@pytest.mark.parametrize("seed", [0, 1])
def test_eco8_all_64_solutions(seed: int) -> None:
    # regression: with seed 0 a finite path (|x| ~ 7) was once put at infinity by a
    # single coincidental agreement of the two valuation estimates
    system = by_name("eco-8")
    result = solve(system, seed=seed)
    _check_solutions(system, result, 64)


def test_cyclic6_has_156_solutions() -> None:
    system = by_name("cyclic-6")
    _check_solutions(system, solve(system), 156)


def test_network_system_count_is_seed_independent() -> None:
    # the 2-1-1 network gradient system (490 linear-product paths, 385 of them diverging)
    # has 105 finite critical points, its mixed volume; a corrector that stopped one Newton
    # iteration early let a path jump and lose one for seed 0
    from solver.networks.critical_points import check_budget
    from solver.networks.gradient_system import network_loss
    from network_specs import make_spec

    spec = make_spec((2, 1, 1))
    structure, count = check_budget(spec)
    system = network_loss(spec).system
    for seed in range(4):
        res = solve(system, set_structure=structure, seed=seed)
        assert res.paths == count == 490
        assert res.counts["failed"] == 0 and len(res.solutions) == 105, (seed, res.counts)

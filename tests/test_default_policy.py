"""The default completeness policy of ``solve`` (issue 12): the endgame's test of the
operating zone, clustering by the coordinates' error bounds, refinement that stays near
its endpoint, and ``scale="auto"``.

Oracles: closed forms (Fourier coefficients of explicit Laurent polynomials, roots of
systems built from known factors, Wilkinson's integer roots); the measured spread of the
benchmark and hard systems' coefficients (``bench/POLICY_RESULTS.md``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from solver.engine.endgame import negative_order
from solver.engine.endpoints import MAX_REFINE_MOVE, cluster, collect_solutions, componentwise_errors, newton_refine
from solver.engine.examples import by_name
from solver.engine.formats.phc import parse_system
from solver.engine.options import InvalidOptions, TrackerOptions
from solver.engine.result import PathStatus
from solver.engine.scaling import scaling_exponents, variable_scaling_gain, worth_scaling
from solver.engine.solve import solve
from solver.engine.system import InvalidSystem, Polynomial, System

HARD = Path(__file__).parent / "data" / "hard"


def _samples(f, L: int) -> np.ndarray:
    """``f(t)`` at ``t = r e^(2 pi i k / L)``, k = 1..L, as a loop of one coordinate (L, 1)."""
    t = 0.1 * np.exp(2j * np.pi * np.arange(1, L + 1) / L)
    return f(t)[:, None]


def test_negative_order_is_the_laurent_coefficient_of_t_to_the_minus_one() -> None:
    # a Puiseux series (analytic in t) has none; x = t + d^2 / t has d^2 / r at radius r
    puiseux = _samples(lambda t: 2.0 + 3.0 * t - 5.0 * t**2 + t**3, 24)
    assert negative_order(puiseux) < 1e-15
    d = 0.05
    laurent = _samples(lambda t: 2.0 + t + d**2 / t, 24)
    assert negative_order(laurent) == pytest.approx(d**2 / 0.1, rel=1e-12)


def _poly(terms: dict[tuple[int, ...], complex]) -> Polynomial:
    return Polynomial(np.array(list(terms.values()), np.complex128), np.array(list(terms), np.int64))


def test_cluster_keeps_apart_regular_roots_the_max_norm_cannot() -> None:
    # x^2 = b^2, y = c: the roots (+-b, c) are 2b apart beside |c| = 1e4
    b, c = 1e-3, 1e4
    system = System((_poly({(2, 0): 1.0, (0, 0): -(b**2)}), _poly({(0, 1): 1.0, (0, 0): -c})), ("x", "y"))
    roots = np.array([[b, c], [-b, c]], np.complex128)
    assert cluster(roots).tolist() == [0, 0]  # 2e-3 < 1e-6 * (1 + 1e4)
    assert cluster(roots, errors=componentwise_errors(system, roots)).tolist() == [0, 1]
    solutions, _ = collect_solutions(system, roots, np.array([PathStatus.REGULAR] * 2))
    assert sorted(s.values[0].real for s in solutions) == pytest.approx([-b, b], rel=1e-12)
    # two copies of one root still merge
    twice = np.array([[b, c], [b * (1 + 1e-15), c]], np.complex128)
    assert cluster(twice, errors=componentwise_errors(system, twice)).tolist() == [0, 0]


def test_refinement_stays_near_its_endpoint() -> None:
    # (x - 1)(x - 2) = 0 from 1.3: Newton goes to the root 1, 0.3 away
    system = System((_poly({(2,): 1.0, (1,): -3.0, (0,): 2.0}),), ("x",))
    start = np.array([[1.3 + 0.0j]])
    free, _ = newton_refine(system, start)
    kept, residual = newton_refine(system, start, max_move=MAX_REFINE_MOVE)
    assert abs(free[0, 0] - 1.0) < 1e-12
    assert kept[0, 0] == start[0, 0] and residual[0] > 1e-2


def _hard(name: str) -> System:
    entry = next(e for e in json.loads((HARD / "index.json").read_text())["systems"] if e["name"] == name)
    return parse_system((HARD / entry["file"]).read_text())


@pytest.mark.parametrize("name", ["katsura-6", "cyclic-6", "noon-4", "eco-7"])
def test_auto_scaling_leaves_well_scaled_systems_alone(name: str) -> None:
    system = by_name(name)
    scaling = scaling_exponents(system)
    assert variable_scaling_gain(system, scaling) < 0.15 and not worth_scaling(system, scaling)


@pytest.mark.parametrize("name", ["comb3000", "des22_24", "wilkinson12"])
def test_auto_scaling_tries_badly_scaled_systems(name: str) -> None:
    system = _hard(name)
    assert worth_scaling(system, scaling_exponents(system))


def test_scale_must_be_a_known_choice() -> None:
    with pytest.raises(InvalidSystem):
        solve(by_name("katsura-3"), scale="sometimes")


def test_loose_infinity_lies_between_the_strict_threshold_and_one() -> None:
    with pytest.raises(InvalidOptions):
        TrackerOptions(loose_infinity=1e-9)
    assert TrackerOptions().loose_infinity == 2e-3
    assert TrackerOptions.preset("ill_conditioned").corrector_tolerance > TrackerOptions().corrector_tolerance


def test_unscaled_wilkinson12_reports_no_false_root() -> None:
    # tracked as given, the paths to 3..12 come apart only near s = 1e-15; a Cauchy loop
    # round the cluster used to give its centroid as a root of multiplicity 2-7
    result = solve(_hard("wilkinson12"), seed=0, scale=False)
    for s in result.solutions:
        assert s.multiplicity == 1 and abs(s.values[0] - np.round(s.values[0].real)) < 1e-8

"""The polyhedral start with constants (Li and Wang, "The BKK root count in C^n", 1996)
finds the solutions with zero coordinates that the plain polyhedral start misses.

Oracles, none of them our engine: katsura-n has 2^n solutions (literature); ``phc -b``'s
solutions, read from every list it prints; the deep linear chain's critical points in
closed form (Ziyin, Li, Meng 2022; DESIGN.md), derived and computed here with numpy; every
solution checked by a residual scaled by the coefficients (DESIGN.md: a terms-relative
residual misjudges zero coordinates).
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from network_specs import make_spec
from point_sets import same_sets
from solver.engine.backends.phcpack import phc_available, phcpy_available, phcpy_mixed_volume, solve_phc
from solver.engine.examples import by_name
from solver.engine.solve import solve
from solver.engine.start_systems.choice import POLYHEDRAL_PATH_COST, auto_choice, choose_start
from solver.engine.start_systems.polyhedral_constants import POLYHEDRAL_CONSTANTS, constants_mixed_volume, within_seconds
from solver.engine.system import System
from solver.networks.gradient_system import network_loss
from solver.networks.spec import load_spec

pytestmark = pytest.mark.skipif(not (phc_available() and phcpy_available()), reason="PHCpack (phc, phcpy) is not installed: run scripts/setup.sh")

PC = POLYHEDRAL_CONSTANTS
#: a coordinate this small relative to max(1, |x|) is zero
ZERO = 1e-8


def scaled_residual(system: System, x: np.ndarray) -> float:
    """max_i |f_i(x)| / sum_k |c_k| max(1, |x|_inf)^deg_k (DESIGN.md, "Residuals")."""
    r = max(1.0, float(np.abs(x).max()))
    values = np.abs(system(x))
    scales = [float(np.sum(np.abs(p.coefficients) * r ** p.exponents.sum(axis=1))) for p in system.polynomials]
    return float(np.max(values / np.array(scales)))


def zero_rows(values: np.ndarray) -> np.ndarray:
    """Rows with a coordinate that is numerically zero."""
    scale = np.maximum(1.0, np.abs(values).max(axis=1, initial=0.0))[:, None]
    return (np.abs(values) <= ZERO * scale).any(axis=1)


def assert_phc_solutions_among(system: System, ours: np.ndarray, seed: int = 1) -> None:
    """Every solution ``phc -b`` prints (all its lists) is one of ``ours``."""
    theirs = solve_phc(system, seed=seed)
    assert len(theirs.solutions) > 0
    for sol in theirs.solutions:
        d = np.abs(ours - sol.values).max(axis=1) / max(1.0, float(np.abs(sol.values).max()))
        assert d.min() < 1e-6, f"phc -b solution {sol.values} is not among ours"


def one_neuron(x: list[float], y: list[float]) -> System:
    """1-1-1 ReLU (degree-2 surrogate) with biases, weight decay 0.01."""
    layers = [
        {"in_features": 1, "out_features": 1, "activation": "relu", "bias": True},
        {"in_features": 1, "out_features": 1, "activation": "identity", "bias": True},
    ]
    spec = load_spec({"layers": layers, "data": {"x": [[v] for v in x], "y": [[v] for v in y]},
                      "surrogate": {"degree": 2}, "weight_decay": 0.01, "mode": "exact"})
    return network_loss(spec).system


def chain(m: int, lam: float = 0.05, n: int = 6, seed: int = 0) -> tuple[System, np.ndarray, np.ndarray]:
    """The scalar linear chain f(x) = w_m ... w_1 x (no biases) and its data."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    y = x + 0.3 + 0.1 * rng.normal(size=n)
    layers = [{"in_features": 1, "out_features": 1, "activation": "identity", "bias": False}] * m
    spec = load_spec({"layers": layers, "data": {"x": [[v] for v in x], "y": [[v] for v in y]},
                      "weight_decay": lam, "mode": "exact"})
    return network_loss(spec).system, x, y


def chain_closed_form(m: int, x: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """All complex critical points of L = mean((P x - y)^2) / 2 + lam |w|^2 / 2, P = prod w.
    dL/dw_k = (P E[x^2] - E[xy]) P / w_k + lam w_k; times w_k: every w_k^2 is the same b^2
    (lam > 0), so w = b (1, e_2, ..., e_m) with signs e_k, P = s b^m (s = prod e_k), and
    b = 0 (the origin) or E[x^2] b^(2m-2) - s E[xy] b^(m-2) + lam = 0."""
    sxx, sxy = float(np.mean(x * x)), float(np.mean(x * y))
    points = [np.zeros(m, complex)]
    for signs in itertools.product((1.0, -1.0), repeat=m - 1):
        e = np.array((1.0,) + signs)
        coeffs = np.zeros(2 * m - 1)
        coeffs[0], coeffs[m], coeffs[-1] = sxx, -np.prod(e) * sxy, lam  # b^(2m-2), b^(m-2), 1
        points += [b * e for b in np.roots(coeffs)]
    return np.array(points)


def test_katsura7_all_128_with_its_zero_coordinates():
    system = by_name("katsura-7")
    # the torus count misses two of katsura-7's 2^7 = 128 solutions; the count with constants does not
    assert phcpy_mixed_volume(system) == 126 and constants_mixed_volume(system) == 128
    r = solve(system, start=PC, seed=1)
    assert r.start_system == PC and r.paths == 128 and r.counts["failed"] == 0
    values = r.values()
    assert len(values) == 128
    assert max(scaled_residual(system, v) for v in values) < 1e-10
    assert zero_rows(values).sum() >= 2
    assert_phc_solutions_among(system, values)


@pytest.mark.parametrize("data,zeros", [
    # E[x] = E[xy] = 0: w = 0 solves dL/dw for every (a, b, c), nine critical points have w = 0
    ("symmetric", 9),
    # the network tests' spec (make_spec((1, 1, 1)), random data): none
    ("generic", 0),
])
def test_one_neuron_33_critical_points(data, zeros):
    system = one_neuron([-1.0, 0.0, 1.0], [1.0, -0.5, 1.0]) if data == "symmetric" else network_loss(make_spec((1, 1, 1))).system
    r = solve(system, start=PC, seed=2)
    assert r.counts["failed"] == 0 and r.paths == 33
    values = r.values()
    assert len(values) == 33  # DESIGN.md: the one-neuron gradient system has 33
    assert max(scaled_residual(system, v) for v in values) < 1e-10
    on_zero = zero_rows(values)
    assert on_zero.sum() == zeros
    assert np.all(np.abs(values[on_zero, 0]) < ZERO)  # the zero coordinate is w
    assert_phc_solutions_among(system, values)
    if zeros:  # the plain polyhedral start misses exactly those
        plain = solve(system, start="polyhedral", seed=2)
        assert len(plain.solutions) == 33 - zeros and not zero_rows(plain.values()).any()


def test_deep_linear_chain_auto_takes_the_start_with_constants_and_keeps_the_origin():
    m, lam = 5, 0.05
    system, x, y = chain(m, lam)
    expected = chain_closed_form(m, x, y, lam)
    assert len(expected) == 2 ** (m - 1) * (2 * m - 2) + 1 == 129
    r = solve(system, seed=3)  # auto: linear product 2,329 paths against 129 x POLYHEDRAL_PATH_COST
    assert r.start_system == PC, r.root_counts
    assert r.root_counts["mixed_volume_constants"] == 129 and r.root_counts["start_choice"].startswith(PC)
    assert r.counts["failed"] == 0
    assert same_sets(r.values(), expected, tol=1e-8)
    assert any(np.abs(v).max() < ZERO for v in r.values())  # the origin
    # the plain polyhedral count leaves the origin out
    assert phcpy_mixed_volume(system) == 128


def test_shallow_chain_from_the_start_with_constants():
    system, x, y = chain(3)
    r = solve(system, start=PC, seed=4)
    assert r.paths == 17 and same_sets(r.values(), chain_closed_form(3, x, y, 0.05), tol=1e-8)


def test_auto_rule():
    # katsura-7: all counts equal, the product start wins the tie
    assert auto_choice(128, 128, 128)[0] == "total-degree"
    # cyclic-7 (counts of bench/START_RESULTS.md): 924 x 5 = 4620 < 4673
    kind, why = auto_choice(5040, 4673, 924)
    assert POLYHEDRAL_PATH_COST == 5 and kind == PC and "4620" in why
    assert auto_choice(375, 105, 33)[0] == "linear-product"
    # max_paths: the polyhedral start when it alone fits, else the product start (refused later)
    assert auto_choice(10**6, 10**6, 300_000, max_paths=500_000)[0] == PC
    assert auto_choice(10**7, 10**6, 600_000, max_paths=500_000)[0] == "linear-product"


def test_phcpy_backend_keeps_auto_to_product_starts():
    system, _, _ = chain(5)
    start = choose_start(system, "auto", np.random.default_rng(0), 0, polyhedral=False)
    assert start.kind == "linear-product" and "this backend has no such start" in start.root_counts["start_choice"]


def test_mixed_volume_budget_stops_a_slow_computation():
    t0 = time.perf_counter()
    assert within_seconds(lambda: time.sleep(30) or 1, 0.3) is None
    assert time.perf_counter() - t0 < 5
    assert within_seconds(lambda: 42, 5.0) == 42

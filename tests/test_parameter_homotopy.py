"""Coefficient-parameter homotopy: generic member solved once, every other member reached
from its solutions; checked against closed forms, our own linear-product solve and phc -b."""

from __future__ import annotations

import numpy as np
import pytest

from solver.networks.surrogate import fit_surrogate
from solver.init.layerwise import moment_keys, neuron_family, neuron_moments, neuron_system
from solver.engine.parameter_homotopy import generic_solutions, solve_family
from solver.engine.backends.phcpack import phc_available, solve_phc
from solver.engine.solve import solve
from solver.engine.system import InvalidSystem, Polynomial, System
from tests.point_sets import same_sets


def _two_cubics(p: np.ndarray) -> System:
    """x^3 + p0 x + p1 = 0, y^2 - p2 x y + p3 = 0: a family with 6 = 3 * 2 generic solutions."""
    f = Polynomial(np.array([1, p[0], p[1]], np.complex128), np.array([[3, 0], [1, 0], [0, 0]]))
    g = Polynomial(np.array([1, -p[2], p[3]], np.complex128), np.array([[0, 2], [1, 1], [0, 0]]))
    return System((f, g), ("x", "y"))


def _closed_form(p: np.ndarray) -> np.ndarray:
    """Roots by np.roots: x from the cubic, then y from the quadratic in y."""
    out = []
    for x in np.roots([1, 0, p[0], p[1]]):
        for y in np.roots([1, -p[2] * x, p[3]]):
            out.append((x, y))
    return np.array(out)


def test_family_members_match_closed_form_including_a_vanishing_term():
    rng = np.random.default_rng(0)
    generic = _two_cubics(rng.normal(size=4) + 1j * rng.normal(size=4))
    starts = generic_solutions(generic, seed=1)
    assert starts.shape == (6, 2)
    # real members, one with p0 = 0 (its x term is absent from the target's support)
    params = [rng.normal(size=4) for _ in range(4)] + [np.array([0.0, -2.0, 1.0, 0.5])]
    results = solve_family([_two_cubics(p) for p in params], generic, starts, seed=2)
    for p, res in zip(params, results):
        ours = np.array([s.values for s in res.solutions])
        assert res.start_system == "parameter" and res.paths == 6 and res.root_counts["generic"] == 6
        assert same_sets(ours, _closed_form(p), 1e-7), p


@pytest.mark.parametrize("q", [1, 2])
def test_neuron_systems_match_their_own_linear_product_solve(q):
    rng = np.random.default_rng(10 + q)
    coef = fit_surrogate("relu", 2, (-1.0, 1.0)).coefficients
    data = [(rng.uniform(-1, 1, (60, q)), None) for _ in range(6)]
    data = [(u, np.abs(u[:, 0]) - 0.5 + 0.2 * rng.normal(size=60)) for u, _ in data]
    moments = np.array([neuron_moments(u, r, 2) for u, r in data])
    assert moments.shape[1] == len(moment_keys(q, 2))
    generic, starts = neuron_family(moments, q, coef, 0.01, True, rng)
    # the generic root count is below the linear-product count of a single member
    member = neuron_system(*data[0], coef, 0.01)
    direct0 = solve(member, seed=0)
    assert starts.shape[0] == {1: 33, 2: 105}[q] < direct0.paths
    targets = [neuron_system(u, r, coef, 0.01) for u, r in data]
    for target, res in zip(targets, solve_family(targets, generic, starts, seed=3)):
        direct = solve(target, seed=4)
        ours = np.array([s.values for s in res.solutions])
        theirs = np.array([s.values for s in direct.solutions])
        assert res.counts["failed"] == 0
        assert same_sets(ours, theirs, 1e-6)


@pytest.mark.skipif(not phc_available(), reason="phc (Debian package phcpack) not installed")
def test_neuron_system_real_points_are_phc_b_points():
    rng = np.random.default_rng(7)
    coef = fit_surrogate("relu", 2, (-1.0, 1.0)).coefficients
    u = rng.uniform(-1, 1, (50, 1))
    r = np.sin(3 * u[:, 0])
    target = neuron_system(u, r, coef, 0.01)
    generic, starts = neuron_family(neuron_moments(u, r, 2)[None, :], 1, coef, 0.01, True, rng)
    (res,) = solve_family([target], generic, starts, seed=5)
    ours = res.values(real_only=True)
    phc = solve_phc(target, seed=5).values(real_only=True)
    assert len(phc) >= 3
    # every real critical point phc -b finds is one of ours (it may miss zero coordinates)
    for x in phc:
        assert np.abs(ours - x).max(axis=1).min() <= 1e-6 * (1 + np.abs(x).max()), x


def test_targets_outside_the_family_are_refused():
    rng = np.random.default_rng(0)
    generic = _two_cubics(rng.normal(size=4) + 1j * rng.normal(size=4))
    x = Polynomial(np.array([1.0, -1.0], np.complex128), np.array([[4, 0], [0, 0]]))
    y = Polynomial(np.array([1.0, -1.0], np.complex128), np.array([[0, 1], [0, 0]]))
    with pytest.raises(InvalidSystem, match="higher degree"):
        solve_family([System((x, y), ("x", "y"))], generic, np.zeros((6, 2)))

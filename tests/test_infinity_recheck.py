"""Paths put at infinity while only large, tracked again in coordinates scaled to where
they stopped (solver.engine.infinity_recheck).

Oracles: the quartic ``x (x - R)(x + 1)(x - 2) + R`` that eliminating ``y = R / x`` from
the system gives (numpy's companion-matrix roots), and the identity of the paths of a
homotopy and of its rescaled form.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from solver.engine.examples import by_name
from solver.engine.homotopy import homotopy_data, random_gamma_patch
from solver.engine.infinity_recheck import rescaled_homotopy
from solver.engine.options import TrackerOptions
from solver.engine.path_kernels import track_paths
from solver.engine.result import PathStatus
from solver.engine.solve import solve
from solver.engine.start_systems.choice import choose_start
from solver.engine.system import System


def _large_roots_system(R: float) -> System:
    x, y = sp.symbols("x y")
    return System.from_sympy([(x - R) * (x + 1) * (x - 2) + y, y * x - R], [x, y])


@pytest.mark.parametrize("R", [1e3, 1e4])
def test_recheck_finds_solutions_of_size_R(R: float) -> None:
    roots = np.roots(np.polymul([1, 0], np.polymul([1, -R], np.polymul([1, 1], [1, -2]))) + np.array([0, 0, 0, 0, R]))
    result = solve(_large_roots_system(R), seed=0, recheck_infinity=True)
    x = result.values()[:, 0]
    assert len(x) == 4 and result.counts["failed"] == 0
    for root in roots:
        assert np.abs(x - root).min() < 1e-8 * abs(root)


def test_rescaled_homotopy_has_the_same_paths() -> None:
    system = by_name("katsura-3")
    rng = np.random.default_rng(3)
    start = choose_start(system, "auto", rng, 3)
    hom = homotopy_data(system, start, rng)
    starts = np.concatenate(list(start.solutions()))
    opts = TrackerOptions().as_array()
    ends, status = track_paths(starts, hom, opts)[:2]
    factors = np.array([1.0, 8.0, 0.25, 64.0, 2.0])
    scaled = rescaled_homotopy(hom, factors, random_gamma_patch(system.n_variables, rng)[1])
    ends2, status2 = track_paths(np.ascontiguousarray(starts / factors[1:]), scaled, opts)[:2]
    assert (status == PathStatus.REGULAR).all() and (status2 == PathStatus.REGULAR).all()
    x = ends[:, 1:] / ends[:, :1]
    x2 = (ends2 * factors)[:, 1:] / ends2[:, :1]
    # path by path, the same endpoint (the charts differ, the paths do not)
    np.testing.assert_allclose(x2, x, atol=1e-9)

"""Monodromy (solver.engine.monodromy) on network families, against the linear-product start.

Oracle: the linear-product start system is complete with probability one; its regular
finite solutions of the same generic member must be exactly the monodromy solutions
(1-1-1, 2-1-1: solved here; 1-2-1: the shipped family, 10,821 linear-product paths, so
that this file stays fast). Monodromy shares with it only the path tracker.
"""

from __future__ import annotations

import numpy as np
import pytest

from solver.engine.monodromy import monodromy_solve
from solver.engine.result import PathStatus
from solver.engine.solve import solve
from solver.networks.family import FamilyKey, family_of
from solver.networks.family_seed import (
    gradient_values,
    linear_parameters,
    permutation_orbits,
    seed_pair,
    seed_solutions,
    strata,
    stratum_point,
)
from solver.networks.family_store import SHIPPED_DIRECTORY, load_generic
from tests.point_sets import same_sets


def run(key_id: str, seed: int = 0, **kw):
    key = FamilyKey.parse(key_id)
    fam = family_of(key)
    rng = np.random.default_rng(seed)
    p0, seeds = seed_solutions(fam, rng)
    return fam, monodromy_solve(fam, p0, seeds, rng, symmetries=permutation_orbits(key), **kw)


@pytest.mark.parametrize("key_id", ["1-1-1.b11.d21", "2-1-1.b11.d21"])
def test_monodromy_finds_the_linear_product_solutions(key_id):
    fam, mono = run(key_id)
    assert mono.stopped == "stalled"
    direct = solve(fam.system(mono.parameters), start="linear-product", seed=1)
    assert direct.counts["failed"] == 0
    lp = np.array([s.values for s in direct.solutions if s.status == PathStatus.REGULAR])
    assert same_sets(mono.solutions, lp)


def test_monodromy_on_two_neurons_matches_the_shipped_linear_product_count():
    """1-2-1 at degree 2: 465 = 33 solutions with equal neurons + 216 swapped pairs."""
    key = FamilyKey.parse("1-2-1.b11.d21")
    stored = load_generic(key, [SHIPPED_DIRECTORY])
    assert stored is not None and stored.method == "linear-product"
    fam, mono = run(key.id, stall_loops=3)
    assert mono.stopped == "stalled"
    assert mono.solutions.shape[0] == stored.counts["linear_product_finite"] == 465
    assert fam.system(mono.parameters).relative_residuals(mono.solutions).max() < 1e-8
    # whole orbits: every image of every solution is in the set, and orbits have size 1 or 2
    images = permutation_orbits(key)
    for i in mono.representatives:
        for y in images(mono.solutions[i]):
            assert np.abs(mono.solutions - y).max(axis=1).min() <= 1e-6 * (1 + np.abs(y).max())
    assert mono.orbits == 249


def test_a_seed_pair_solves_its_member_with_generic_weight_decay():
    fam = family_of(FamilyKey.parse("1-3-1.b11.d21"))  # fewer moments than weights
    rng = np.random.default_rng(3)
    p, theta = seed_pair(fam, stratum_point(fam.key, strata(fam.key)[0], rng), rng)
    assert fam.system(p).relative_residuals(theta[None, :]).max() < 1e-10
    assert np.abs(gradient_values(fam, theta, p)).max() < 1e-8 * (1 + np.abs(p).max())
    lam = p[fam.parameter_names.index("lambda")]
    assert abs(lam) > 1e-3
    assert linear_parameters(fam).size == 9 < len(fam.variables)


def test_strata_cover_every_way_neurons_can_coincide():
    assert [len(strata(FamilyKey.parse(k))) for k in ("1-1-1.b11.d21", "1-2-1.b11.d21", "1-3-1.b11.d21", "2-2-1.b11.d21")] == [1, 2, 3, 2]
    key = FamilyKey.parse("1-3-1.b11.d21")
    blocks = strata(key)[1]  # neurons 0 and 1 equal, 2 apart
    theta = stratum_point(key, blocks, np.random.default_rng(0))
    images = permutation_orbits(key)(theta)
    distinct = {tuple(np.round(y, 12)) for y in images}
    assert len(distinct) == 3  # 3! / 2!


def test_monodromy_stops_at_its_path_budget():
    fam, mono = run("2-1-1.b11.d21", max_paths=30)
    assert mono.stopped == "budget" and mono.paths <= 30


class _CubeAndSquare:
    """``x^3 = p0, y^2 = p1 x``: a family outside the networks (six solutions, closed
    form), coefficients affine in ``p``; ``y -> -y`` maps solutions to solutions."""

    supports = (np.array([[3, 0], [0, 0]]), np.array([[0, 2], [1, 0]]))
    offsets = np.array([0, 2, 4])
    parameter_degree = 1

    def flat_coefficients(self, P: np.ndarray) -> np.ndarray:
        P = np.asarray(P, np.complex128)
        one = np.ones(P.shape[:-1], np.complex128)
        return np.stack([one, -P[..., 0], one, -P[..., 1]], axis=-1)

    def system(self, P: np.ndarray):
        from solver.engine.system import Polynomial, System

        c = self.flat_coefficients(P)
        return System(tuple(Polynomial(c[a:b], e) for a, b, e in zip(self.offsets, self.offsets[1:], self.supports)), ("x", "y"))


def test_monodromy_is_engine_generic_and_uses_the_group():
    fam = _CubeAndSquare()
    p0 = np.array([1.0 + 0.5j, -0.3 + 1.1j])
    x = p0[0] ** (1 / 3)
    seed = np.array([[x, np.sqrt(p0[1] * x)]])
    flip = lambda v: np.array([v, v * np.array([1, -1])])  # noqa: E731
    mono = monodromy_solve(fam, p0, seed, np.random.default_rng(0), symmetries=flip)
    xs = p0[0] ** (1 / 3) * np.exp(2j * np.pi * np.arange(3) / 3)
    closed = np.array([(a, s * np.sqrt(p0[1] * a)) for a in xs for s in (1, -1)])
    assert same_sets(mono.solutions, closed)
    assert mono.orbits == 3 and mono.stopped == "stalled"

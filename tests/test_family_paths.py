"""The parameter path of a network family against a direct linear-product solve.

The family's generic member (random complex moments, weight decay and surrogate
coefficients) is solved once; its finite solutions are moved to a spec's parameters along
``p(s) = s p0 + (1 - s) p1``. Every isolated critical point of the spec's gradient system
must be reached (Morgan and Sommese 1989): the oracle is the direct linear-product solve
of the same system, which shares no code with the family's symbolic build.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from solver.engine.parameter_homotopy import segment_coefficients, track_parameters
from solver.engine.result import PathStatus
from solver.engine.solve import solve
from solver.networks.family import family_of, parameters_of, random_parameters
from solver.networks.gradient_system import gradient_system
from solver.networks.spec import load_spec
from tests.network_specs import make_spec
from tests.point_sets import same_sets


@lru_cache(maxsize=None)
def generic(key_id: str, spec_args: tuple):
    """A generic member's parameters and regular solutions, once per family."""
    fam = family_of(make_spec(*spec_args))
    p0 = random_parameters(fam, np.random.default_rng(7))
    res = solve(fam.system(p0), seed=3)
    sols = np.array([s.values for s in res.solutions if s.status == PathStatus.REGULAR])
    return fam, p0, sols, res


def finite_points(result) -> np.ndarray:
    return np.array([s.values for s in result.solutions], dtype=complex).reshape(-1, len(result.variables))


def test_segment_coefficients_interpolate_the_family_exactly():
    fam = family_of(make_spec((1, 2, 1)))
    rng = np.random.default_rng(0)
    p0, p1 = random_parameters(fam, rng), random_parameters(fam, rng)
    layers = segment_coefficients(fam, p0, p1)
    for s in (0.0, 0.3, 1.0, 0.5 + 0.25j):
        direct = fam.flat_coefficients(s * p0 + (1 - s) * p1)
        poly = sum(layers[k] * s**k for k in range(len(layers)))
        assert np.abs(poly - direct).max() <= 1e-10 * (1 + np.abs(direct).max())


@pytest.mark.parametrize(
    "widths,activation,degree,seed,bias",
    [
        ((1, 1, 1), "relu", 2, 0, True),
        ((1, 1, 1), "tanh", 2, 1, True),
        ((1, 1, 1), "relu", 3, 2, True),  # on [-r, r] relu's cubic coefficient is 0: 40 of 73 paths diverge
        ((1, 1, 1), "relu", 2, 3, False),  # no biases: the origin is a critical point (zero coordinates)
        ((1, 1, 1), "sigmoid", 3, 6, True),  # a true cubic: every generic solution stays finite
        ((2, 1, 1), "relu", 2, 4, True),
        ((2, 1, 1), "tanh", 2, 5, True),
    ],
)
def test_family_path_finds_every_critical_point_of_the_direct_solve(widths, activation, degree, seed, bias):
    spec = make_spec(widths, activation=activation, degree=degree, seed=seed, bias=bias)
    fam, p0, sols, gen = generic(family_of(spec).key.id, (widths, "relu", degree, 5, 0, 0.01, bias))
    assert gen.counts["failed"] == 0
    res = track_parameters(fam, p0, parameters_of(spec), sols, seed=seed)
    direct = solve(gradient_system(spec), seed=seed)
    assert direct.counts["failed"] == 0
    assert same_sets(finite_points(res), finite_points(direct))
    # a path may fail only on its way to infinity: never more failures than lost solutions
    assert res.counts["failed"] <= len(sols) - len(finite_points(direct))
    # every endpoint is a critical point of the spec's own system
    assert gradient_system(spec).relative_residuals(finite_points(res)).max() < 1e-8


def test_repeated_inputs_and_a_second_data_set_share_the_generic_solutions():
    a = make_spec((1, 1, 1), seed=11)
    x = np.array([[-0.5], [-0.5], [0.25], [0.25], [0.9]])
    d = make_spec((1, 1, 1), seed=12).model_dump()
    d["data"]["x"] = x.tolist()
    b = load_spec(d)
    fam, p0, sols, _ = generic(family_of(a).key.id, ((1, 1, 1), "relu", 2, 5, 0, 0.01, True))
    assert family_of(b) is fam
    for spec in (a, b):
        res = track_parameters(fam, p0, parameters_of(spec), sols)
        assert same_sets(finite_points(res), finite_points(solve(gradient_system(spec))))

"""The tracker's predictors (solver.engine.tracker): RK4 and the cubic Hermite.

Oracles: closed-form roots (``x^3 = c``, ``y^2 = x``: six solutions) reached from a
total-degree start, and a parameter homotopy's endpoints against the closed form of its
target; both predictors must find all of them.
"""

from __future__ import annotations

import numpy as np
import pytest

from solver.engine.options import OPT, PREDICTORS, InvalidOptions, TrackerOptions
from solver.engine.parameter_homotopy import track_parameters
from solver.engine.solve import solve
from solver.engine.system import Polynomial, System
from tests.point_sets import same_sets

C = 2.0 + 1.0j


def _closed_form(c: complex) -> np.ndarray:
    xs = abs(c) ** (1 / 3) * np.exp(1j * (np.angle(c) + 2 * np.pi * np.arange(3)) / 3)
    return np.array([(x, s * np.sqrt(x)) for x in xs for s in (1, -1)])


class _Family:
    """``x^3 = p, y^2 = x``: coefficients affine in ``p``."""

    supports = (np.array([[3, 0], [0, 0]]), np.array([[0, 2], [1, 0]]))
    offsets = np.array([0, 2, 4])
    parameter_degree = 1

    def flat_coefficients(self, P: np.ndarray) -> np.ndarray:
        P = np.atleast_2d(np.asarray(P, np.complex128))
        one = np.ones(P.shape[0], np.complex128)
        out = np.stack([one, -P[:, 0], one, -one], axis=-1)
        return out[0] if np.ndim(P) == 1 else out

    def system(self, P: np.ndarray) -> System:
        c = self.flat_coefficients(np.atleast_2d(P))[0]
        return System(tuple(Polynomial(c[a:b], e) for a, b, e in zip(self.offsets, self.offsets[1:], self.supports)), ("x", "y"))


@pytest.mark.parametrize("predictor", PREDICTORS)
def test_both_predictors_find_the_closed_form_roots(predictor):
    system = _Family().system(np.array([C]))
    res = solve(system, start="total-degree", seed=3, options=TrackerOptions(predictor=predictor))
    assert res.counts["failed"] == 0
    assert same_sets(np.array([s.values for s in res.solutions]), _closed_form(C))


@pytest.mark.parametrize("predictor", PREDICTORS)
def test_a_parameter_homotopy_reaches_the_target_with_either_predictor(predictor):
    fam, p0, p1 = _Family(), np.array([0.3 - 1.2j]), np.array([C])
    res = track_parameters(fam, p0, p1, _closed_form(p0[0]), seed=1, options=TrackerOptions(predictor=predictor))
    assert res.counts["failed"] == 0
    assert same_sets(np.array([s.values for s in res.solutions]), _closed_form(C))


def test_the_parameter_preset_uses_the_hermite_predictor_and_names_are_checked():
    assert TrackerOptions.parameter().predictor == "hermite" == TrackerOptions.preset("parameter").predictor
    assert TrackerOptions.parameter().as_array()[OPT["predictor"]] == PREDICTORS.index("hermite")
    assert TrackerOptions().as_array()[OPT["predictor"]] == PREDICTORS.index("rk4")
    with pytest.raises(InvalidOptions, match="unknown predictor"):
        TrackerOptions(predictor="pade")


class _Square:
    """``x^2 = p``: the segment from ``p = 1`` to ``p = -1`` runs through ``p = 0``, where
    the two roots meet."""

    supports = (np.array([[2], [0]]),)
    offsets = np.array([0, 2])
    parameter_degree = 1

    def flat_coefficients(self, P: np.ndarray) -> np.ndarray:
        P = np.atleast_2d(np.asarray(P, np.complex128))
        out = np.stack([np.ones(P.shape[0], np.complex128), -P[:, 0]], axis=-1)
        return out[0] if np.ndim(P) == 1 else out

    def system(self, P: np.ndarray) -> System:
        c = self.flat_coefficients(np.atleast_2d(P))[0]
        return System((Polynomial(c, self.supports[0]),), ("x",))


def test_a_path_through_the_discriminant_is_sent_round_it():
    """Both straight paths hit the double root at p = 0 and fail, even with small steps;
    the detour through a random member reaches the closed-form roots +-i."""
    res = track_parameters(_Square(), np.array([1.0 + 0j]), np.array([-1.0 + 0j]), np.array([[1.0], [-1.0]]), seed=0)
    assert res.counts["failed"] == 0
    assert same_sets(np.array([s.values for s in res.solutions]), np.array([[1j], [-1j]]))

"""The double-precision first pass of certification (solver/engine/interval_kernels.py,
certify.certify_double) against independent oracles: python-flint's ball test
(certify.certify_arb), Newton's method in mpmath at 50 digits, and closed forms built so that
rounding hides the residual, in double and in double-double."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from network_specs import make_spec
from solver.engine.certify import RADIUS_FACTORS, certify, certify_arb, certify_double
from solver.engine.examples import by_name
from solver.engine.interval_kernels import krawczyk_box, krawczyk_point
from solver.engine.solve import solve
from solver.engine.system import Polynomial, System
from test_certify import DIGITS, assert_certificates_hold, mp_zero


def _katsura5() -> tuple[System, np.ndarray]:
    system = by_name("katsura-5")
    return system, solve(system, seed=1).values()


def _cyclic5() -> tuple[System, np.ndarray]:
    system = by_name("cyclic-5")
    return system, solve(system, seed=0).values()


def _network_111() -> tuple[System, np.ndarray]:
    from solver.networks.gradient_system import network_loss

    system = network_loss(make_spec((1, 1, 1))).system
    return system, solve(system, seed=0).values()


@pytest.mark.parametrize("case, n_points, n_real", [(_katsura5, 32, 16), (_cyclic5, 70, 10), (_network_111, 33, 7)])
def test_double_certificates_hold_for_arb_and_mpmath(case, n_points, n_real) -> None:
    # katsura-5: 32 solutions, 16 real; cyclic-5: 70, 10 real (literature counts); the 1-1-1
    # network's gradient system: 33 finite critical points, 7 real (test_certify's exact mode)
    system, points = case()
    double = certify_double(system, points)
    arb = certify_arb(system, points)
    assert len(points) == n_points
    assert sum(c.certified for c in double) == n_points
    assert sum(c.certified_real for c in double) == n_real
    for d, a in zip(double, arb):
        assert a.certified and a.certified_real == d.certified_real
        assert 0 < d.radius < 1e-8 * max(1.0, float(np.abs(d.center).max()))
    assert_certificates_hold(system, points, double)


def test_perturbed_endpoints_not_certified() -> None:
    system, points = _katsura5()
    for eps in (1e-6, 1e-4, 1e-2):
        assert not any(c.certified for c in certify_double(system, points + eps * (1 + 1j)))
    # 1e-10 off: a box of radius at most 1e-12 cannot hold the zero, though Newton converges
    near = points.copy()
    near[:, 0] += 1e-10
    assert not any(c.certified for c in certify_double(system, near, max_radius=1e-12))
    # within the default limit the box is allowed to reach the zero, and it holds it
    certs = certify_double(system, near)
    assert all(c.certified for c in certs)
    assert_certificates_hold(system, near, certs)


def _hidden_residual() -> tuple[System, np.ndarray, mp.mpf]:
    """x^2 = 1 + 2^-29 at y = 1 + 2^-30: y^2 = 1 + 2^-29 + 2^-60 rounds to the constant, so
    the residual in double is exactly 0, while the zero lies about 2^-61 (4e-19) below y."""
    system = System.from_sympy(["x**2 - (1 + 2**-29)"], ["x"])
    y = np.array([1.0 + 2.0**-30], np.complex128)
    with mp.workdps(DIGITS):
        distance = mp.mpf(y[0].real) - mp.sqrt(1 + mp.mpf(2) ** -29)
    return system, y, distance


def test_rounding_hidden_residual_not_falsely_certified() -> None:
    system, y, distance = _hidden_residual()
    coefficient = -system.polynomials[0].coefficients[0].real
    assert y[0].real * y[0].real - coefficient == 0  # the adversary: rounding hides f(y)
    assert 3e-19 < distance < 5e-19
    c, e, o = system.packed
    Y = np.array([[1 / (2 * y[0])]])
    lower, upper = np.empty(2), np.empty(2)
    for r in (1e-28, float(distance) / 2, float(distance) * (1 - 1e-3)):
        assert not krawczyk_box(c, e, o, y, Y, r, False, lower, upper), r
    # the kernel's own step bounds f(y)'s rounding: the box it certifies holds the zero
    r = krawczyk_point(c, e, o, y, Y, 1e-8, np.array(RADIUS_FACTORS), lower, upper)
    assert r > float(distance)
    with mp.workdps(DIGITS):
        zero = mp.sqrt(1 + mp.mpf(2) ** -29)
    assert lower[0] <= zero <= upper[0] and lower[1] <= 0 <= upper[1]


def test_boxes_round_shifted_zeros_hold_them() -> None:
    # centres 1e-13 off katsura-5's zeros, radii just below and above the distance: a box
    # is certified only when it holds the zero (to 50 digits) in its interior
    system, points = _katsura5()
    rng = np.random.default_rng(0)
    c, e, o = system.packed
    n = system.n_variables
    checked = 0
    for x in points[:8]:
        zero, _ = mp_zero(system, x)
        z = np.array([complex(v) for v in zero])
        y = z + 1e-13 * (rng.uniform(-1, 1, n) + 1j * rng.uniform(-1, 1, n))
        with mp.workdps(DIGITS):
            distance = max(max(abs(v.real - mp.mpf(w.real)), abs(v.imag - mp.mpf(w.imag))) for v, w in zip(zero, y))
        Y = np.linalg.inv(system.jacobian(y))
        lower, upper = np.empty(2 * n), np.empty(2 * n)
        for factor in (0.5, 0.999, 1.001, 2.0, 8.0):
            ok = krawczyk_box(c, e, o, y, Y, float(distance) * factor, False, lower, upper)
            assert not ok or factor > 1, factor
            if ok:  # and the zero lies in the enclosure K
                parts = np.array([float(v.real) for v in zero] + [float(v.imag) for v in zero])
                assert np.all(lower <= parts) and np.all(parts <= upper)
            checked += ok
    assert checked >= 8  # the wide boxes do certify


def _residual_below_double_double(seed: int) -> tuple[System, np.ndarray, list]:
    """x^3 = b1 y + b2 y^2, y = 1, with b1 + b2 the 106 leading bits of c^3 for a full 53-bit
    double c: f(c) is c^3's tail (about 1e-32), of the size of double-double's own rounding of
    c^3, and the zero lies about 1e-33 from c."""
    rng = np.random.default_rng(seed)
    c = float(rng.uniform(1.1, 1.9))
    with mp.workdps(DIGITS):
        cube = mp.mpf(c) ** 3
        b1 = float(cube)
        b2 = float(cube - b1)
        system = System(
            (
                Polynomial(np.array([1.0, -b1, -b2], np.complex128), np.array([[3, 0], [0, 1], [0, 2]])),
                Polynomial(np.array([1.0, -1.0], np.complex128), np.array([[0, 1], [0, 0]])),
            ),
            ("x", "y"),
        )
        zero = [mp.cbrt(mp.mpf(b1) + mp.mpf(b2)), mp.mpf(1)]
    return system, np.array([c, 1.0], np.complex128), zero


@pytest.mark.parametrize("seed", range(6))
def test_double_double_residual_bound_holds(seed: int) -> None:
    # boxes round c of radii near the zero's distance: certified only when they hold it
    system, y, zero = _residual_below_double_double(seed)
    with mp.workdps(DIGITS):
        distance = abs(zero[0] - mp.mpf(y[0].real))
    assert 0 < distance < 1e-30
    c, e, o = system.packed
    Y = np.linalg.inv(system.jacobian(y))
    lower, upper = np.empty(4), np.empty(4)
    for factor in (0.25, 0.5, 0.9, 0.99, 1.01, 1.1, 2.0, 4.0, 16.0, 1e3):
        r = float(distance) * factor
        if krawczyk_box(c, e, o, y, Y, r, True, lower, upper):
            assert distance < r, factor
            assert lower[0] <= zero[0] <= upper[0] and lower[1] <= 1 <= upper[1]
    # and the kernel's own radius holds it too
    r = krawczyk_point(c, e, o, y, Y, 1e-8, np.array(RADIUS_FACTORS), lower, upper)
    assert r > float(distance) and lower[0] <= zero[0] <= upper[0]


def test_fallback_and_distinctness_unchanged() -> None:
    # zeros +-5e-9 (condition ~1e8): the double pass leaves the coarse point to the balls,
    # whose 106-bit refinement certifies it
    system = System.from_sympy(["x**2 - 2.5e-17", "y - 1"], ["x", "y"])
    point = np.array([[6.5e-9, 1.0]], np.complex128)
    assert not certify_double(system, point)[0].certified
    assert certify(system, point).certificates[0].certified
    # the same zero twice: certified, not distinct; its neighbour distinct
    close = System.from_sympy(["x**2 - 1e-20", "y - 1"], ["x", "y"])
    twice = np.array([[1e-10, 1.0], [1e-10 * (1 + 1e-15), 1.0], [-1e-10, 1.0]], np.complex128)
    out = certify(close, twice)
    assert out.counts() == {"certified": 3, "certified_real": 3, "certified_distinct": 2}
    assert list(out.distinct) == [False, False, True]

"""Certification (solver/engine/certify.py) against an independent oracle: Newton's method in
mpmath at 50 digits on the system's own terms, and closed-form solutions."""

from __future__ import annotations

import json
from pathlib import Path

import mpmath as mp
import numpy as np

from network_specs import make_spec
from solver.engine.certify import certify
from solver.engine.examples import by_name
from solver.engine.solve import solve
from solver.engine.system import System

DIGITS = 50


def mp_values(system: System, x: list) -> list:
    """F(x) term by term in mpmath (coefficients are the stored doubles, exactly)."""
    out = []
    for p in system.polynomials:
        total = mp.mpc(0)
        for c, a in zip(p.coefficients, p.exponents):
            term = mp.mpc(c.real, c.imag)
            for xj, k in zip(x, a):
                term *= xj ** int(k)
            total += term
        out.append(total)
    return out


def mp_jacobian(system: System, x: list) -> mp.matrix:
    n = system.n_variables
    J = mp.matrix(n, n)
    for i, p in enumerate(system.polynomials):
        for c, a in zip(p.coefficients, p.exponents):
            for j in np.flatnonzero(a):
                term = mp.mpc(c.real, c.imag) * int(a[j])
                for l, k in enumerate(a):
                    term *= x[l] ** (int(k) - (l == j))
                J[i, j] += term
    return J


def mp_zero(system: System, start: np.ndarray) -> tuple[list, mp.mpf]:
    """Newton from ``start`` at 50 digits: the zero and its residual."""
    with mp.workdps(DIGITS):
        x = [mp.mpc(complex(v).real, complex(v).imag) for v in start]
        for _ in range(30):
            dx = mp.lu_solve(mp_jacobian(system, x), mp.matrix(mp_values(system, x)))
            x = [xi - dx[i] for i, xi in enumerate(x)]
            if max(abs(d) for d in dx) < mp.mpf(10) ** (-DIGITS + 5):
                break
        return x, max(abs(f) for f in mp_values(system, x))


def assert_certificates_hold(system: System, points: np.ndarray, certs) -> None:
    """Each certified box holds a zero to 50 digits (real when certified real)."""
    for x, cert in zip(points, certs):
        if not cert.certified:
            continue
        zero, residual = mp_zero(system, x)
        assert residual < mp.mpf(10) ** -40
        # the centre as stored is rounded to double (a refined centre has more digits)
        slack = 1e-15 * max(1.0, float(np.abs(cert.center).max()))
        for z, c in zip(zero, cert.center):
            assert abs(float(z.real) - c.real) <= cert.radius * (1 + 1e-9) + slack
            assert abs(float(z.imag) - c.imag) <= cert.radius * (1 + 1e-9) + slack
        if cert.certified_real:
            assert max(abs(z.imag) for z in zero) < mp.mpf(10) ** -40
        # the zero lies in the Krawczyk enclosure
        parts = [float(z.real) for z in zero] + [float(z.imag) for z in zero]
        assert np.all(cert.lower <= np.array(parts) + 1e-300) and np.all(np.array(parts) <= cert.upper + 1e-300)


def test_katsura5_every_solution_certified_and_real_ones_real() -> None:
    system = by_name("katsura-5")
    result = solve(system, seed=1, certify=True)
    assert len(result.solutions) == 32
    points = result.values()
    out = certify(system, points)
    assert_certificates_hold(system, points, out.certificates)
    assert result.counts["certified"] == 32
    assert result.counts["certified_distinct"] == 32
    n_real = sum(s.real for s in result.solutions)
    assert result.counts["certified_real"] == n_real == 16
    for sol in result.solutions:
        assert sol.certified and sol.certified_real == sol.real and 0 < sol.certified_radius < 1e-8
    data = result.to_json()
    assert data["counts"]["certified"] == 32 and data["solutions"][0]["certified"] is True
    assert data["certify_seconds"] > 0


def test_cyclic5_complex_solutions_not_certified_real() -> None:
    system = by_name("cyclic-5")
    result = solve(system, seed=0, certify=True)
    points = result.values()
    out = certify(system, points)
    assert out.counts()["certified"] == 70 == out.counts()["certified_distinct"]
    assert_certificates_hold(system, points, out.certificates)
    for sol, cert in zip(result.solutions, out.certificates):
        if not sol.real:
            assert not cert.certified_real


def test_closed_forms_real_and_complex() -> None:
    # x^2 = 2, y^2 = 3: four real zeros; x^2 = -1, y = x: two non-real zeros (real system)
    real = System.from_sympy(["x**2 - 2", "y**2 - 3"], ["x", "y"])
    pts = np.array([[sx * np.sqrt(2), sy * np.sqrt(3)] for sx in (1, -1) for sy in (1, -1)], np.complex128)
    out = certify(real, pts)
    assert out.counts() == {"certified": 4, "certified_real": 4, "certified_distinct": 4}
    assert_certificates_hold(real, pts, out.certificates)

    conj = System.from_sympy(["x**2 + 1", "y - x"], ["x", "y"])
    pts = np.array([[1j, 1j], [-1j, -1j]])
    out = certify(conj, pts)
    assert out.counts() == {"certified": 2, "certified_real": 0, "certified_distinct": 2}

    # complex coefficients: never certified real, even at a real zero
    cplx = System.from_sympy(["x**2 - 4", "(1 + 2*I)*(y - x)"], ["x", "y"])
    out = certify(cplx, np.array([[2.0, 2.0], [-2.0, -2.0]], np.complex128))
    assert out.counts() == {"certified": 2, "certified_real": 0, "certified_distinct": 2}


def test_perturbed_and_singular_points_not_certified() -> None:
    system = by_name("katsura-5")
    result = solve(system, seed=0)
    points = result.values()[:4]
    for eps in (1e-6, 1e-4, 1e-2):
        bad = points + eps * (1 + 1j)
        out = certify(system, bad)
        assert out.counts()["certified"] == 0, eps
    # a double zero: the Jacobian is singular there
    double = System.from_sympy(["x**2", "y - 1"], ["x", "y"])
    assert not certify(double, np.array([[0.0, 1.0]], np.complex128)).certificates[0].certified
    # not a zero at all, and not finite
    far = certify(system, np.array([np.full(6, 0.3), np.full(6, np.nan)], np.complex128))
    assert far.counts()["certified"] == 0


def test_close_zeros_distinct_only_when_boxes_are_disjoint() -> None:
    # x^2 = c with c ~ 1e-20: zeros +-1e-10, far closer than any tracker tolerance
    system = System.from_sympy(["x**2 - 1e-20", "y - 1"], ["x", "y"])
    with mp.workdps(DIGITS):
        root = float(mp.sqrt(mp.mpf(system.polynomials[0].coefficients.real.min() * -1)))
    pts = np.array([[root, 1.0], [-root, 1.0]], np.complex128)
    out = certify(system, pts)
    assert out.counts() == {"certified": 2, "certified_real": 2, "certified_distinct": 2}
    assert out.distinct.all()
    assert_certificates_hold(system, pts, out.certificates)

    # the same zero reported twice (points closer than their boxes): both certified, not
    # proven distinct
    twice = np.array([[root, 1.0], [root * (1 + 1e-15), 1.0], [-root, 1.0]], np.complex128)
    out = certify(system, twice)
    assert out.counts()["certified"] == 3
    assert list(out.distinct) == [False, False, True]
    assert out.counts()["certified_distinct"] == 2


def test_cli_certify_json(tmp_path: Path) -> None:
    from solver.cli.main import main

    src = tmp_path / "circle.phc"
    src.write_text("2\nx^2 + y^2 - 4;\nx*y - 1;\n")
    out = tmp_path / "out.json"
    assert main(["solve", str(src), "--certify", "--json", str(out), "--quiet"]) == 0
    data = json.loads(out.read_text())
    assert data["counts"]["certified"] == data["counts"]["certified_real"] == data["counts"]["certified_distinct"] == 4
    assert all(s["certified"] and s["certified_real"] for s in data["solutions"])


def test_exact_mode_critical_points_certified() -> None:
    from solver.networks.critical_points import run_exact
    from solver.networks.gradient_system import network_loss

    spec = make_spec((1, 1, 1))
    result = run_exact(spec)
    counts = result.counts()
    assert counts["certified"] == counts["finite"] == 33
    assert counts["certified_real"] == counts["real"]
    assert counts["certified_distinct"] == counts["finite"]
    system = network_loss(spec).system
    params = np.array([p.params for p in result.points], np.complex128)
    out = certify(system, params)
    assert_certificates_hold(system, params, out.certificates)
    for point, data in zip(result.points, result.to_json()["critical_points"]):
        assert point.certificate["certified"] and point.certificate["certified_real"]
        assert data["certified"] is True and data["certified_radius"] > 0


def test_ill_conditioned_point_certified_after_refinement() -> None:
    # zeros +-5e-9 (condition ~1e8): the point 1.5e-9 off is too coarse a centre in double
    # precision, but within 1e-8 of the zero; refined at 106 bits it is certified
    system = System.from_sympy(["x**2 - 2.5e-17", "y - 1"], ["x", "y"])
    point = np.array([[6.5e-9, 1.0]], np.complex128)
    out = certify(system, point)
    cert = out.certificates[0]
    assert cert.certified and cert.certified_real
    assert abs(cert.center[0] - 5e-9) < 1e-20 and cert.radius < 1e-12
    assert_certificates_hold(system, point, out.certificates)
    # 2e-8 off: not within the largest radius of any zero
    assert not certify(system, np.array([[2.5e-8, 1.0]], np.complex128)).certificates[0].certified

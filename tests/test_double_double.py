"""Double-double residuals and Newton refinement, against mpmath at 50 digits and the
closed-form roots of Wilkinson's polynomial."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from numpy.polynomial import polynomial as P

from solver.engine.double_double import dd_newton_refine, eval_sparse_dd
from solver.engine.endpoints import collect_solutions, error_bounds, newton_refine
from solver.engine.formats.phc import parse_system
from solver.engine.result import PathStatus

N = 12


def wilkinson(n: int = N):
    """prod_{k=1..n} (x - k), expanded: integer coefficients, exact in double for n = 12."""
    c = P.polyfromroots(np.arange(1, n + 1))
    assert np.all(np.abs(c) < 2.0**53)
    return parse_system("1\n" + " + ".join(f"({int(round(v))})*x^{k}" for k, v in enumerate(c)) + ";\n")


def near_roots(n: int = N, offset: float = 1e-7) -> np.ndarray:
    return np.array([[k + offset * (-1) ** k] for k in range(1, n + 1)], dtype=np.complex128)


def test_residuals_match_mpmath_at_50_digits():
    """Each residual (hi + lo, in full) is the 50-digit value of the same terms (the
    system's double coefficients at the same double point) to 1e-28 of its term sizes."""
    rng = np.random.default_rng(3)
    system = parse_system("2\n 1.0e6*x^3*y - 3.7*x*y^2 + 2.5e-4*y + 1.1;\n x^2 + 0.3*y^4 - 7.0e5*x*y + 2;\n")
    points = rng.normal(size=(4, 2)) + 1j * rng.normal(size=(4, 2))
    x = np.zeros(points.shape + (4,))
    x[..., 0], x[..., 2] = points.real, points.imag
    coeffs, exps, offsets = system.packed
    f, sizes = np.zeros((2, 4)), np.zeros(2)
    mpmath.mp.dps = 50
    for p in range(points.shape[0]):
        eval_sparse_dd(coeffs, exps, offsets, x[p], f, sizes)
        xs = [mpmath.mpc(float(v.real), float(v.imag)) for v in points[p]]
        for i in range(2):
            terms = [mpmath.mpc(float(coeffs[k].real), float(coeffs[k].imag))
                     * mpmath.fprod(xs[j] ** int(exps[k, j]) for j in range(2))
                     for k in range(offsets[i], offsets[i + 1])]
            scale = float(sum(abs(t) for t in terms))
            value = mpmath.mpc(mpmath.mpf(f[i, 0]) + mpmath.mpf(f[i, 1]), mpmath.mpf(f[i, 2]) + mpmath.mpf(f[i, 3]))
            assert abs(mpmath.fsum(terms) - value) <= 1e-28 * scale
            assert sizes[i] == pytest.approx(scale, rel=1e-12)


def test_refinement_pins_wilkinson_roots_that_double_newton_cannot():
    system, start = wilkinson(), near_roots()
    exact = np.arange(1, N + 1)
    in_double, _ = newton_refine(system, start, iterations=10)
    refined, residuals = dd_newton_refine(system, start)
    dd_error = np.abs(refined[:, 0] - exact).max()
    double_error = np.abs(in_double[:, 0] - exact).max()
    assert double_error > 1e-11  # the case is ill-conditioned: double leaves digits out
    assert dd_error <= 1e-13
    assert (residuals <= 1e-15).all()


def test_error_bounds_flag_the_ill_conditioned_roots():
    system = wilkinson()
    bounds = error_bounds(system, np.arange(1, N + 1, dtype=np.complex128)[:, None])
    # the bound of root k is eps * sum_j |c_j| k^j / |p'(k)| / k: tiny at 1, huge mid-way
    assert bounds[0] < 1e-12 and bounds.max() > 1e-8


def test_collect_solutions_refines_ill_conditioned_endpoints():
    system = wilkinson()
    statuses = np.full(N, PathStatus.REGULAR, dtype=np.int64)
    solutions, _ = collect_solutions(system, near_roots(), statuses)
    roots = np.sort(np.array([s.values[0].real for s in solutions]))
    assert len(solutions) == N
    np.testing.assert_allclose(roots, np.arange(1, N + 1), rtol=0, atol=1e-12)


def test_a_perturbed_point_is_not_made_a_solution():
    """Refinement converges to a root or leaves the residual large: the midpoint between
    two roots of x^2 - 1 is not turned into a root by the rounding."""
    system = parse_system("1\n x^2 - 1;\n")
    x, res = dd_newton_refine(system, np.array([[0.0 + 0.0j]]), iterations=2)
    assert res[0] > 1e-3

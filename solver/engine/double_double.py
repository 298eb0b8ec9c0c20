"""Double-double arithmetic (about 32 significant digits) for Newton refinement of
ill-conditioned endpoints.

A double-double number is an unevaluated sum ``hi + lo`` of two doubles with
``|lo| <= ulp(hi) / 2``; the kernels below are the error-free transformations of Dekker
("A floating-point technique for extending the available precision", Numer. Math. 18,
1971) and Knuth (two-sum), in the form of Hida, Li and Bailey's QD library ("Algorithms
for quad-double precision floating point arithmetic", ARITH 15, 2001). Complex numbers
are pairs of them.

Newton's method with the residual in double-double and the correction in double
(:func:`dd_newton_refine`) is the classical mixed-precision iterative refinement
(Wilkinson; see Higham, "Accuracy and Stability of Numerical Algorithms", ch. 12): the
attainable accuracy of a root is then about ``cond * 1e-32`` instead of ``cond * 1e-16``,
so a root whose condition number is 1e10 still comes out correct to the last double digit.
The Jacobian and the linear solve stay in double: they only steer the iteration.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from solver.engine.system import System

#: Dekker's splitter for IEEE doubles: 2**27 + 1
_SPLITTER = 134217729.0


@njit(cache=True, inline="always")
def _two_sum(a, b):
    s = a + b
    v = s - a
    return s, (a - (s - v)) + (b - v)


@njit(cache=True, inline="always")
def _quick_two_sum(a, b):  # needs |a| >= |b|
    s = a + b
    return s, b - (s - a)


@njit(cache=True, inline="always")
def _split(a):
    t = _SPLITTER * a
    hi = t - (t - a)
    return hi, a - hi


@njit(cache=True, inline="always")
def _two_prod(a, b):
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


@njit(cache=True, inline="always")
def _dd_add(ah, al, bh, bl):
    s, e = _two_sum(ah, bh)
    t, f = _two_sum(al, bl)
    e += t
    s, e = _quick_two_sum(s, e)
    e += f
    return _quick_two_sum(s, e)


@njit(cache=True, inline="always")
def _dd_mul(ah, al, bh, bl):
    p, e = _two_prod(ah, bh)
    e += ah * bl + al * bh
    return _quick_two_sum(p, e)


@njit(cache=True, inline="always")
def _cdd_mul(a, b):
    """(a0 + a1) + i (a2 + a3) times b, in the same layout."""
    rr = _dd_mul(a[0], a[1], b[0], b[1])
    ii = _dd_mul(a[2], a[3], b[2], b[3])
    ri = _dd_mul(a[0], a[1], b[2], b[3])
    ir = _dd_mul(a[2], a[3], b[0], b[1])
    re = _dd_add(rr[0], rr[1], -ii[0], -ii[1])
    im = _dd_add(ri[0], ri[1], ir[0], ir[1])
    return re[0], re[1], im[0], im[1]


@njit(cache=True)
def eval_sparse_dd(coeffs, exps, offsets, x, f, scale):
    """The packed system at the double-double point ``x`` (n, 4: re hi, re lo, im hi,
    im lo), in double-double: ``f`` (m, 4) in the same layout; ``scale[i]`` is the sum of
    the moduli of equation i's terms (the residual's natural unit)."""
    n = exps.shape[1]
    dmax = 0
    for k in range(exps.shape[0]):
        for j in range(n):
            dmax = max(dmax, exps[k, j])
    # pw[j, e] = x_j ** e, once per point
    pw = np.zeros((n, dmax + 1, 4))
    for j in range(n):
        pw[j, 0, 0] = 1.0
        for e in range(1, dmax + 1):
            pw[j, e, 0], pw[j, e, 1], pw[j, e, 2], pw[j, e, 3] = _cdd_mul(pw[j, e - 1], x[j])
    for i in range(offsets.shape[0] - 1):
        acc = (0.0, 0.0, 0.0, 0.0)
        total = 0.0
        for k in range(offsets[i], offsets[i + 1]):
            term = (coeffs[k].real, 0.0, coeffs[k].imag, 0.0)
            for j in range(n):
                e = exps[k, j]
                if e:
                    term = _cdd_mul(term, pw[j, e])
            re = _dd_add(acc[0], acc[1], term[0], term[1])
            im = _dd_add(acc[2], acc[3], term[2], term[3])
            acc = (re[0], re[1], im[0], im[1])
            total += abs(complex(term[0], term[2]))
        f[i, 0], f[i, 1], f[i, 2], f[i, 3] = acc
        scale[i] = total


def _to_dd(points: np.ndarray) -> np.ndarray:
    out = np.zeros(points.shape + (4,))
    out[..., 0], out[..., 2] = points.real, points.imag
    return out


def _subtract(x: np.ndarray, dx: np.ndarray) -> None:
    """x -= dx in place (x double-double (..., 4), dx complex double): a two-sum of the
    high parts, the low part added to its error, then renormalised."""
    for part, d in ((0, -dx.real), (2, -dx.imag)):
        hi, lo = x[..., part], x[..., part + 1]
        s = hi + d
        v = s - hi
        e = (hi - (s - v)) + (d - v) + lo
        new_hi = s + e
        x[..., part + 1] = e - (new_hi - s)
        x[..., part] = new_hi


def dd_residuals(system: System, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The residuals of ``system`` at the double-double points ``x`` (P, n, 4).

    Returns
    -------
    values : complex ndarray (P, m) -- the residuals rounded to double (each accurate to
        about 1e-32 of its equation's term sizes)
    relative : float ndarray (P,) -- max over equations of |f_i| / sum of |terms of f_i|
    """
    coeffs, exps, offsets = system.packed
    m = offsets.shape[0] - 1
    values = np.zeros((x.shape[0], m), dtype=np.complex128)
    relative = np.zeros(x.shape[0])
    f, scale = np.zeros((m, 4)), np.zeros(m)
    # the floor of System.relative_residuals: an equation whose terms all vanish is met
    floor = 1e-14 * np.array([np.abs(q.coefficients).max(initial=1.0) for q in system.polynomials])
    for p in range(x.shape[0]):
        eval_sparse_dd(coeffs, exps, offsets, x[p], f, scale)
        values[p] = (f[:, 0] + f[:, 1]) + 1j * (f[:, 2] + f[:, 3])
        relative[p] = (np.abs(values[p]) / np.maximum(scale, floor)).max(initial=0.0)
    return values, relative


def dd_newton_refine(system: System, points: np.ndarray, iterations: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Newton's method with double-double residuals from each row of ``points``.

    Keeps, per point, the iterate of smallest double-double relative residual (as
    :func:`solver.engine.endpoints.newton_refine` does in double).

    Returns
    -------
    points : complex ndarray (P, n) -- the refined points, rounded to double
    residuals : float ndarray (P,) -- the relative residuals of the returned points,
        evaluated in double-double
    """
    pts = np.atleast_2d(np.asarray(points, dtype=np.complex128))
    if pts.shape[0] == 0:
        return pts.copy(), np.zeros(0)
    x = _to_dd(pts)
    best, best_res = x.copy(), dd_residuals(system, x)[1]
    for _ in range(iterations):
        values, _ = dd_residuals(system, x)
        jac = system.jacobian((x[..., 0] + x[..., 1]) + 1j * (x[..., 2] + x[..., 3]))
        with np.errstate(all="ignore"):
            dx = np.stack([np.linalg.lstsq(j, v, rcond=None)[0] for j, v in zip(jac, values)])
        dx[~np.isfinite(dx).all(axis=1)] = 0
        _subtract(x, dx)
        res = dd_residuals(system, x)[1]
        better = res < best_res
        best[better], best_res[better] = x[better], res[better]
    rounded = (best[..., 0] + best[..., 1]) + 1j * (best[..., 2] + best[..., 3])
    # the residual of what is returned (the double point), not of its double-double twin
    return rounded, dd_residuals(system, _to_dd(rounded))[1]

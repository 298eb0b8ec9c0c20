"""Numba kernels for the Krawczyk test in double precision: rigorous midpoint-radius
complex arithmetic, many points at once.

A *disc* ``<m, r>`` (complex double midpoint ``m``, double radius ``r >= 0``) stands for
``{z : |z - m| <= r}``. Products and sums of discs follow Rump's midpoint-radius arithmetic
(S. M. Rump, "Fast and parallel interval arithmetic", BIT 39 (1999) 534-554,
doi:10.1023/A:1022374804152; INTLAB's ``midrad``): the midpoint is computed in floating
point and the radius bounds the operands' radii *and* the midpoint's rounding error.

Numba has no directed rounding, so every radius is bounded from above in round-to-nearest
(IEEE 754 binary64, unit roundoff ``u = 2^-53``, smallest subnormal ``eta = 2^-1074``):

* one operation on non-negative values, ``x = fl(t)``, satisfies ``x >= t (1 - u)`` in the
  normal range and ``x >= t - eta/2`` below it, so ``_up(x) = fl(fl(x (1 + 4u)) + eta)``
  is at least ``t`` (``(1 - u)^2 (1 + 4u) > 1``); every radius operation goes through it;
* ``|a|`` is bounded by ``_up(|Re a| + |Im a|)`` (no square root);
* the complex product computed as ``(ar br - ai bi) + i (ar bi + ai br)`` errs by at most
  ``u (2 + u) (|ar br| + |ai bi|)`` in its real part (two products and a difference, each
  rounded once; less with a fused multiply-add), likewise in its imaginary part, plus
  ``(1 + u) eta`` each below the normal range: in all at most
  ``u (2 + u) (|ar| + |ai|) (|br| + |bi|) + 3 eta``;
* a complex sum ``s`` rounded to ``m`` errs by at most ``u / (1 - u) (|Re m| + |Im m|)``
  (a sum below the normal range is exact).

The Krawczyk operator ``K = y - Y f(y) + (I - Y J(B)) (B - y)`` of
:mod:`solver.engine.certify` is evaluated with ``f`` at the centre ``y`` (a point, radius 0)
and the Jacobian on the disc of radius ``sqrt(2) r`` round each coordinate, which holds the
square box ``y_j + r ([-1, 1] + i [-1, 1])``; ``Y`` is any double matrix (exact as given).
``K_j`` is a disc; the test asks that it lie in the interior of the square, with the
distances bounded from above. The system is the packed form of
:attr:`solver.engine.system.System.packed`, as :mod:`solver.engine.evaluation` reads it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

U = 2.0**-53
ETA = 2.0**-1074
_UP = 1.0 + 4.0 * U  # exact: 1 + 2^-51
_MUL_ERR = 2.0**-52 + 2.0**-104  # exact, above u (2 + u)
_ADD_ERR = 2.0**-53 + 2.0**-104  # exact, above u / (1 - u)
_SQRT2 = 1.4142135623730951  # the double nearest sqrt(2) lies above it; _up covers the product anyway


@njit(cache=True, inline="always")
def _up(x: float) -> float:
    """An upper bound of ``t >= 0`` from its computed value ``x = fl(t)`` (one rounding)."""
    return x * _UP + ETA


@njit(cache=True, inline="always")
def _mag(z: complex) -> float:
    """An upper bound of ``|z|``."""
    return _up(abs(z.real) + abs(z.imag))


@njit(cache=True, inline="always")
def disc_mul(am: complex, ar: float, bm: complex, br: float) -> tuple[complex, float]:
    """``<am, ar> * <bm, br>``: radius ``|am| br + ar |bm| + ar br`` plus the product's
    rounding error (``|am|``, ``|bm|`` bounded by the sums of their parts' moduli)."""
    m = complex(am.real * bm.real - am.imag * bm.imag, am.real * bm.imag + am.imag * bm.real)
    A = _mag(am)
    B = _mag(bm)
    err = _up(_up(_MUL_ERR * _up(A * B)) + 3.0 * ETA)
    spread = _up(_up(A * br) + _up(ar * _up(B + br)))
    return m, _up(spread + err)


@njit(cache=True, inline="always")
def disc_add(am: complex, ar: float, bm: complex, br: float) -> tuple[complex, float]:
    """``<am, ar> + <bm, br>``: radius ``ar + br`` plus the sum's rounding error."""
    m = am + bm
    err = _up(_ADD_ERR * _mag(m))
    return m, _up(_up(ar + br) + err)


@njit(cache=True)
def disc_system(coeffs, exps, offsets, xm, xr, pwm, pwr, pm, pr, fm, fr, jm, jr, with_jacobian):
    """The system (``fm``, ``fr``: (m,)) and, when ``with_jacobian``, its Jacobian (``jm``,
    ``jr``: (m, n)) on the discs ``<xm[j], xr[j]>``; an enclosure of every value the
    polynomials and their derivatives take there.

    ``pwm``, ``pwr`` (n, max degree + 1) receive the discs' powers; ``pm``, ``pr`` (n,) are
    scratch. Each term's partial derivatives use prefix and suffix products of its factors,
    as :func:`solver.engine.evaluation.eval_sparse_jacobian` does.
    """
    n = exps.shape[1]
    m = offsets.shape[0] - 1
    for j in range(n):
        pwm[j, 0] = 1.0
        pwr[j, 0] = 0.0
        for e in range(1, pwm.shape[1]):
            pwm[j, e], pwr[j, e] = disc_mul(pwm[j, e - 1], pwr[j, e - 1], xm[j], xr[j])
    if with_jacobian:
        for i in range(m):
            for j in range(n):
                jm[i, j] = 0.0
                jr[i, j] = 0.0
    for i in range(m):
        fim = 0.0 + 0.0j
        fir = 0.0
        for k in range(offsets[i], offsets[i + 1]):
            p = coeffs[k]
            q = 0.0
            for j in range(n):
                pm[j] = p
                pr[j] = q
                e = exps[k, j]
                if e:
                    p, q = disc_mul(p, q, pwm[j, e], pwr[j, e])
            fim, fir = disc_add(fim, fir, p, q)
            if with_jacobian:
                sm = 1.0 + 0.0j
                sr = 0.0
                for j in range(n - 1, -1, -1):
                    e = exps[k, j]
                    if e:
                        t, tr = disc_mul(pm[j], pr[j], pwm[j, e - 1], pwr[j, e - 1])
                        t, tr = disc_mul(t, tr, sm, sr)
                        t, tr = disc_mul(t, tr, complex(float(e), 0.0), 0.0)
                        jm[i, j], jr[i, j] = disc_add(jm[i, j], jr[i, j], t, tr)
                        sm, sr = disc_mul(sm, sr, pwm[j, e], pwr[j, e])
        fm[i] = fim
        fr[i] = fir


@njit(cache=True)
def _workspace(exps):
    """Scratch of :func:`disc_system` and the step: powers, prefixes, values, Jacobian."""
    n = exps.shape[1]
    deg = 0
    for k in range(exps.shape[0]):
        for j in range(n):
            deg = max(deg, exps[k, j])
    return (np.empty((n, deg + 1), np.complex128), np.empty((n, deg + 1)), np.empty(n, np.complex128), np.empty(n),
            np.empty(n, np.complex128), np.empty(n), np.empty((n, n), np.complex128), np.empty((n, n)))


@njit(cache=True)
def newton_step(coeffs, exps, offsets, y, Y, ws, sm, sr):
    """``<sm, sr>`` (n,) encloses ``Y f(y)``; returns an upper bound of its largest modulus."""
    pwm, pwr, pm, pr, fm, fr, jm, jr = ws
    n = y.shape[0]
    disc_system(coeffs, exps, offsets, y, np.zeros(n), pwm, pwr, pm, pr, fm, fr, jm, jr, False)
    newton = 0.0
    for i in range(n):
        am = 0.0 + 0.0j
        ar = 0.0
        for k in range(n):
            t, tr = disc_mul(Y[i, k], 0.0, fm[k], fr[k])
            am, ar = disc_add(am, ar, t, tr)
        sm[i] = am
        sr[i] = ar
        newton = max(newton, _up(_mag(am) + ar))
    return newton


@njit(cache=True)
def _box_test(coeffs, exps, offsets, y, Y, sm, sr, r, ws, lower, upper):
    """The Krawczyk test on the square box ``y + r ([-1, 1] + i [-1, 1])^n`` given the
    enclosure ``<sm, sr>`` of the Newton step ``Y f(y)``; True when ``K`` lies in the box's
    interior, then ``lower``, ``upper`` (2n,) hold ``K``'s bounds (real parts, then
    imaginary parts), rounded outwards."""
    pwm, pwr, pm, pr, fm, fr, jm, jr = ws
    n = y.shape[0]
    rho = _up(r * _SQRT2)
    disc_system(coeffs, exps, offsets, y, np.full(n, rho), pwm, pwr, pm, pr, fm, fr, jm, jr, True)
    for i in range(n):
        # K_i - y_i = -s_i + sum_j (I - Y J(B))_ij <0, rho>
        spread = 0.0
        for j in range(n):
            am = 0.0 + 0.0j
            ar = 0.0
            for k in range(n):
                t, tr = disc_mul(Y[i, k], 0.0, jm[k, j], jr[k, j])
                am, ar = disc_add(am, ar, t, tr)
            mm, mr = disc_add(1.0 if i == j else 0.0, 0.0, -am, ar)
            spread = _up(spread + _up(_up(_mag(mm) + mr) * rho))
        rad = _up(sr[i] + spread)
        if not (_up(_up(abs(sm[i].real)) + rad) < r and _up(_up(abs(sm[i].imag)) + rad) < r):
            return False
        for part in range(2):
            c = y[i].real - sm[i].real if part == 0 else y[i].imag - sm[i].imag
            R = _up(rad + _up(2.0 * U * abs(c)))
            lower[part * n + i] = np.nextafter(c - R, -np.inf)
            upper[part * n + i] = np.nextafter(c + R, np.inf)
    return True


@njit(cache=True)
def krawczyk_box(coeffs, exps, offsets, y, Y, r, lower, upper):
    """The Krawczyk test on the box ``y + r ([-1, 1] + i [-1, 1])^n`` (n,) with the matrix
    ``Y``: True when it proves a unique zero there (its enclosure into ``lower``, ``upper``)."""
    n = y.shape[0]
    ws = _workspace(exps)
    sm = np.empty(n, np.complex128)
    sr = np.empty(n)
    newton_step(coeffs, exps, offsets, y, Y, ws, sm, sr)
    return _box_test(coeffs, exps, offsets, y, Y, sm, sr, r, ws, lower, upper)


@njit(cache=True)
def krawczyk_point(coeffs, exps, offsets, y, Y, limit, factors, lower, upper):
    """The test around ``y`` for the radii ``factors * |Y f(y)|`` (at least ``1e-28``
    times ``max(1, |y|)``) up to ``limit``, as :func:`solver.engine.certify._krawczyk`
    chooses them; the first radius that certifies, or NaN."""
    n = y.shape[0]
    ws = _workspace(exps)
    sm = np.empty(n, np.complex128)
    sr = np.empty(n)
    newton = newton_step(coeffs, exps, offsets, y, Y, ws, sm, sr)
    if not np.isfinite(newton):
        return np.nan
    scale = 1.0
    for i in range(n):
        scale = max(scale, abs(y[i]))
    for factor in factors:
        r = max(factor * newton, 1e-28 * scale)
        if r > limit:
            break
        if _box_test(coeffs, exps, offsets, y, Y, sm, sr, r, ws, lower, upper):
            return r
    return np.nan


@njit(cache=True)
def krawczyk_many(coeffs, exps, offsets, centers, inverses, limits, factors):
    """:func:`krawczyk_point` for each row of ``centers`` (P, n) with the matrix
    ``inverses[p]`` and the radius limit ``limits[p]``: radii (P,), NaN where not
    certified, and ``K``'s bounds (P, 2n). Serial: about 0.1 ms a point on a system of 600
    Jacobian terms, and a serial kernel loads from the cache faster than a parallel one (a
    cold ``lps solve --certify`` pays that load)."""
    P, n = centers.shape
    radii = np.full(P, np.nan)
    lower = np.full((P, 2 * n), np.nan)
    upper = np.full((P, 2 * n), np.nan)
    for p in range(P):
        radii[p] = krawczyk_point(coeffs, exps, offsets, centers[p], inverses[p], limits[p], factors, lower[p], upper[p])
    return radii, lower, upper

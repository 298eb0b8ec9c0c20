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
distances bounded from above.

Where that fails, ``f(y)`` is evaluated again in double-double (Dekker's exact product and
Knuth's exact sum, :mod:`solver.engine.double_double`) and the test repeated: the bound on
the residual's rounding, about 60 u times the sum of the terms' moduli in double, otherwise
sets the radius of an ill-conditioned point. Each double-double operation's error is bounded
a posteriori from the roundings it makes (see :func:`_dd_prod`, :func:`_dd_sum`), without
the published constants of Joldes, Muller and Popescu (ACM TOMS 44, 2017,
doi:10.1145/3121432), for the simpler algorithms used here. The system is the packed form of
:attr:`solver.engine.system.System.packed`, as :mod:`solver.engine.evaluation` reads it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from solver.engine.double_double import _two_prod, _two_sum

U = 2.0**-53
ETA = 2.0**-1074
_UP = 1.0 + 4.0 * U  # exact: 1 + 2^-51
_MUL_ERR = 2.0**-52 + 2.0**-104  # exact, above u (2 + u)
_ADD_ERR = 2.0**-53 + 2.0**-104  # exact, above u / (1 - u)
#: Dekker's product is exact while its split does not overflow (operands below 2^996) and its
#: partial products do not underflow (products above about 2^-969); with room to spare, the
#: double-double residual is used only inside these margins
_DD_LARGE = 2.0**990
_DD_SMALL = 2.0**-900
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


@njit(cache=True, inline="always")
def _dd_prod(ah, al, bh, bl):
    """``(ah + al) (bh + bl)`` as ``zh + zl``, a bound of its error and whether the bound holds.

    With ``p + e = ah bh`` exactly (Dekker), ``t1 = fl(ah bl)``, ``t2 = fl(al bh)``,
    ``t = fl(t1 + t2)``, ``c = fl(e + t)`` and ``zh + zl = p + c`` exactly (Knuth), the error
    is ``(e + t - c) + (t1 + t2 - t) + (ah bl - t1) + (al bh - t2) + al bl``, at most
    ``u/(1-u) (|c| + |t|) + u (|ah bl| + |al bh|) + eta + |al bl|``. Dekker's product is exact
    away from overflow and underflow: False when an operand or the product leaves the margins.
    """
    p, e = _two_prod(ah, bh)
    t1 = ah * bl
    t2 = al * bh
    t = t1 + t2
    c = e + t
    zh, zl = _two_sum(p, c)
    rounding = _up(_ADD_ERR * _up(abs(c) + abs(t)))
    products = _up(U * _up(_up(abs(ah) * abs(bl)) + _up(abs(al) * abs(bh))))
    err = _up(_up(rounding + products) + _up(_up(abs(al) * abs(bl)) + 2.0 * ETA))
    ok = abs(ah) <= _DD_LARGE and abs(bh) <= _DD_LARGE and (ah == 0.0 or bh == 0.0 or abs(p) >= _DD_SMALL)
    return zh, zl, err, ok


@njit(cache=True, inline="always")
def _dd_sum(ah, al, bh, bl):
    """``(ah + al) + (bh + bl)`` as ``zh + zl`` and a bound of its error: with ``s + e = ah + bh``
    and ``zh + zl = s + c`` exactly, ``t = fl(al + bl)``, ``c = fl(e + t)``, the error is
    ``(al + bl - t) + (e + t - c)``, at most ``u/(1-u) (|t| + |c|)`` (sums never underflow)."""
    s, e = _two_sum(ah, bh)
    t = al + bl
    c = e + t
    zh, zl = _two_sum(s, c)
    return zh, zl, _up(_ADD_ERR * _up(abs(t) + abs(c)))


@njit(cache=True, inline="always")
def _dd_mag(a) -> float:
    """An upper bound of ``|a|`` for a complex double-double ``a`` = (re hi, re lo, im hi, im lo)."""
    return _up(_up(abs(a[0]) + abs(a[1])) + _up(abs(a[2]) + abs(a[3])))


@njit(cache=True, inline="always")
def dd_disc_mul(a, ar, b, br):
    """``<a, ar> * <b, br>`` for complex double-double midpoints: the radius as in
    :func:`disc_mul` plus the midpoint's error (real part: two products and a sum, imaginary
    part likewise); False when a product leaves Dekker's margins."""
    rr0, rr1, e1, ok1 = _dd_prod(a[0], a[1], b[0], b[1])
    ii0, ii1, e2, ok2 = _dd_prod(a[2], a[3], b[2], b[3])
    ri0, ri1, e3, ok3 = _dd_prod(a[0], a[1], b[2], b[3])
    ir0, ir1, e4, ok4 = _dd_prod(a[2], a[3], b[0], b[1])
    re0, re1, e5 = _dd_sum(rr0, rr1, -ii0, -ii1)
    im0, im1, e6 = _dd_sum(ri0, ri1, ir0, ir1)
    err = _up(_up(_up(e1 + e2) + _up(e3 + e4)) + _up(e5 + e6))
    A = _dd_mag(a)
    B = _dd_mag(b)
    spread = _up(_up(A * br) + _up(ar * _up(B + br)))
    return (re0, re1, im0, im1), _up(spread + err), ok1 and ok2 and ok3 and ok4


@njit(cache=True)
def dd_values(coeffs, exps, offsets, y, fm, fr):
    """The system at the point ``y`` in double-double: ``<fm, fr>`` (m,) encloses each value,
    ``fm`` the double-double value's leading part, ``fr`` its trailing part and error bound.
    Returns False when the bound does not hold (a product beyond Dekker's margins)."""
    n = exps.shape[1]
    deg = exps.max() if exps.size else 0
    pw = np.zeros((n, deg + 1, 4))
    pwr = np.zeros((n, deg + 1))
    ok = True
    for j in range(n):
        pw[j, 0, 0] = 1.0
        x = (y[j].real, 0.0, y[j].imag, 0.0)
        for e in range(1, deg + 1):
            prev = (pw[j, e - 1, 0], pw[j, e - 1, 1], pw[j, e - 1, 2], pw[j, e - 1, 3])
            v, pwr[j, e], good = dd_disc_mul(prev, pwr[j, e - 1], x, 0.0)
            pw[j, e, 0], pw[j, e, 1], pw[j, e, 2], pw[j, e, 3] = v
            ok = ok and good
    for i in range(offsets.shape[0] - 1):
        acc = (0.0, 0.0, 0.0, 0.0)
        accr = 0.0
        for k in range(offsets[i], offsets[i + 1]):
            term = (coeffs[k].real, 0.0, coeffs[k].imag, 0.0)
            tr = 0.0
            for j in range(n):
                e = exps[k, j]
                if e:
                    term, tr, good = dd_disc_mul(term, tr, (pw[j, e, 0], pw[j, e, 1], pw[j, e, 2], pw[j, e, 3]), pwr[j, e])
                    ok = ok and good
            re0, re1, e1 = _dd_sum(acc[0], acc[1], term[0], term[1])
            im0, im1, e2 = _dd_sum(acc[2], acc[3], term[2], term[3])
            acc = (re0, re1, im0, im1)
            accr = _up(_up(accr + tr) + _up(e1 + e2))
        fm[i] = complex(acc[0], acc[2])
        fr[i] = _up(_up(abs(acc[1]) + abs(acc[3])) + accr)
    return ok


@njit(cache=True)
def _workspace(exps):
    """Scratch of :func:`disc_system` and the step: powers, prefixes, values, Jacobian."""
    n = exps.shape[1]
    deg = exps.max() if exps.size else 0
    return (np.empty((n, deg + 1), np.complex128), np.empty((n, deg + 1)), np.empty(n, np.complex128), np.empty(n),
            np.empty(n, np.complex128), np.empty(n), np.empty((n, n), np.complex128), np.empty((n, n)))


@njit(cache=True)
def newton_step(coeffs, exps, offsets, y, Y, ws, sm, sr, accurate):
    """``<sm, sr>`` (n,) encloses ``Y f(y)``, with ``f(y)`` in double or, when ``accurate``,
    in double-double; returns an upper bound of its largest modulus (NaN when the
    double-double bound does not hold)."""
    pwm, pwr, pm, pr, fm, fr, jm, jr = ws
    n = y.shape[0]
    if accurate:
        if not dd_values(coeffs, exps, offsets, y, fm, fr):
            return np.nan
    else:
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
def krawczyk_box(coeffs, exps, offsets, y, Y, r, accurate, lower, upper):
    """The Krawczyk test on the box ``y + r ([-1, 1] + i [-1, 1])^n`` (n,) with the matrix
    ``Y`` (``f(y)`` in double-double when ``accurate``): True when it proves a unique zero
    there (its enclosure into ``lower``, ``upper``)."""
    n = y.shape[0]
    ws = _workspace(exps)
    sm = np.empty(n, np.complex128)
    sr = np.empty(n)
    if not np.isfinite(newton_step(coeffs, exps, offsets, y, Y, ws, sm, sr, accurate)):
        return False
    return _box_test(coeffs, exps, offsets, y, Y, sm, sr, r, ws, lower, upper)


@njit(cache=True)
def krawczyk_point(coeffs, exps, offsets, y, Y, limit, factors, lower, upper):
    """The test around ``y`` for the radii ``factors * |Y f(y)|`` (at least ``1e-28``
    times ``max(1, |y|)``) up to ``limit``, as :func:`solver.engine.certify._krawczyk`
    chooses them, with ``f(y)`` in double, then, if no radius certifies, in double-double;
    the first radius that certifies, or NaN."""
    n = y.shape[0]
    ws = _workspace(exps)
    sm = np.empty(n, np.complex128)
    sr = np.empty(n)
    scale = 1.0
    for i in range(n):
        scale = max(scale, abs(y[i]))
    for accurate in (False, True):
        newton = newton_step(coeffs, exps, offsets, y, Y, ws, sm, sr, accurate)
        if not np.isfinite(newton):
            continue
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

"""Path tracking in extended precision: the last re-run of paths that failed in double.

Near ``s = 0`` a path to an ill-conditioned root cannot be followed in double: the
target's terms cancel, the homotopy's value is computed with an error of ``eps`` times
the sum of the moduli of its terms, and the corrector's updates stall at ``cond * eps``
(Wilkinson's polynomial of degree 20: roots of componentwise condition 5e13, known to
1e-2 in double). Here the homotopy, its Jacobian and its ``s``-derivative are evaluated
in double-double (:mod:`solver.engine.double_double`, about 32 digits) and rounded to
double; the LU factorisation, the Newton solve and the Runge-Kutta predictor stay in
double, and accepted points are kept as double-double numbers. This is mixed-precision
path tracking (Timme, "Mixed precision path tracking for polynomial homotopy
continuation", Adv. Comput. Math. 47, 2021, doi:10.1007/s10444-021-09899-y; Bates,
Hauenstein, Sommese and Wampler, "Adaptive multiprecision path tracking", SIAM J. Numer.
Anal. 46, 2008, doi:10.1137/060658862, whose criterion asks of the precision that it
resolve the residual, while the double linear solve only needs ``cond(J) * eps < 1``).

The target's coefficients ``c / max|c|`` of the homotopy (:func:`~solver.engine.homotopy.
homotopy_data`) are rounded in double; their low parts (:func:`target_low_parts`) make
them exact, since moving Wilkinson's roots by ``cond * eps`` would defeat the point. The
start system's coefficients are taken as exact.

A path is re-run from its start point: the predictor-corrector of
:mod:`solver.engine.tracker` in double-double to ``endgame_start``, then geometric samples
``s_k = endgame_start * h**k`` far below double's ``endgame_min_s`` (an ill-conditioned
target makes the paths reach their roots late: Wilkinson's of degree 20 from a
total-degree start only at ``s ~ 1e-30``), with a straight finish to ``s = 0`` where the
samples move like those of a path analytic at ``s = 0`` (:func:`track_path_dd`). Paths to
singular endpoints stay failed: there is no Cauchy endgame here. Nothing here runs, or is
even imported, unless some path failed in double.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from solver.engine.double_double import _cdd_mul, _dd_add, _dd_mul
from solver.engine.homotopy import START_PRODUCT, START_SPARSE, Homotopy, make_workspace, max_degree
from solver.engine.linalg import lu_factor, lu_solve, max_abs
from solver.engine.options import OPT, TrackerOptions
from solver.engine.result import FailureReason, PathStatus
from solver.engine.system import System

REGULAR = int(PathStatus.REGULAR)
AT_INFINITY = int(PathStatus.AT_INFINITY)
FAILED = int(PathStatus.FAILED)
STEP_SIZE_TOO_SMALL = int(FailureReason.STEP_SIZE_TOO_SMALL)
TOO_MANY_STEPS = int(FailureReason.TOO_MANY_STEPS)
NOT_CONVERGED = int(FailureReason.ENDGAME_NOT_CONVERGED)

#: the re-run's settings: the default steps, a corrector tolerance double-double residuals
#: meet near roots of condition up to about 1e18, and samples down to s = 1e-60
EXTENDED = TrackerOptions(corrector_tolerance=1e-12, max_corrector_iterations=4, endgame_min_s=1e-60, max_steps=20_000)
#: steps a straight finish from a sample to s = 0 may take (Wilkinson's: 56-58)
DIRECT_BUDGET = 80
#: a straight finish is tried where the path moved between the last two samples at most
#: this fraction of what it moved between the two before: a path analytic at s = 0 moves
#: by about ``endgame_ratio`` (0.3) times less at each sample, one still travelling does not
ANALYTIC = 0.45
#: ... by ``endgame_ratio ** (1/c)`` along a path with winding number ``c`` (0.55 for c = 2),
#: and its endpoint at ``s = 0`` then lies ``h / (1 - h)`` (0.43) times that move from the
#: last sample where the path is analytic, ``1 / (h^(-1/c) - 1)`` (1.2 for c = 2) where it
#: is not: a straight finish is accepted only where it lies within this many moves
CONSISTENT = 0.7
#: steps one sample segment may take (Wilkinson's: at most 11; a path whose samples cost
#: more is not converging to anything double-double resolves)
SAMPLE_BUDGET = 100
#: row-scaled pivot ratio (:func:`sample_state`) an endpoint must keep to be regular
#: (Wilkinson's of degree 20: 0.4; singular endpoints of PHCpack's fourbar and cassou:
#: 1e-11)
WELL_CONDITIONED = 1e-8
#: below this row-scaled pivot ratio at a sample the path is given up
SINGULAR = 1e-12
#: a path whose move between samples is within this factor of the noise double-double
#: leaves in its points (:func:`sample_state`) is given up (a double root at s ~ 1e-32) ...
NOISE = 10.0
#: ... and its moves tell its regularity only above this factor
RESOLVED = 1e3
#: a ratio at least this fraction of the one two samples before has settled (Wilkinson's:
#: 0.8-1; singular endpoints decay like s^a: 0.09^a per two samples, 0.3-0.5 on cassou)
SETTLED = 0.6

_INITIAL_STEP = OPT["initial_step"]
_MAX_STEP = OPT["max_step"]
_MIN_STEP = OPT["min_step"]
_MAX_STEPS = OPT["max_steps"]
_CORR_TOL = OPT["corrector_tolerance"]
_CORR_ITERS = OPT["max_corrector_iterations"]
_PRED_TOL = OPT["predictor_tolerance"]
_EG_START = OPT["endgame_start"]
_EG_RATIO = OPT["endgame_ratio"]
_EG_MIN = OPT["endgame_min_s"]
_INF = OPT["infinity_threshold"]
_LOOSE = OPT["loose_infinity"]


class DDWorkspace(NamedTuple):
    """Double-double scratch of one path (N = n + 1 coordinates; last axis: re hi, re lo,
    im hi, im lo).

    Attributes
    ----------
    y : (N, 4) -- the point evaluated, ``X`` scaled by a power of two
    pw : (N, max degree + 1, 4) -- its powers
    ff, fg : (n, 4) -- target and start values
    jf, jg : (n, N, 4) -- their Jacobians
    prefix : (max(N, max degree) + 1, 4), vals : (max degree, 4) -- product-rule scratch
    xp : (N, 4) -- the predicted point
    """

    y: np.ndarray
    pw: np.ndarray
    ff: np.ndarray
    fg: np.ndarray
    jf: np.ndarray
    jg: np.ndarray
    prefix: np.ndarray
    vals: np.ndarray
    xp: np.ndarray


@njit(cache=True)
def make_dd_workspace(n: int, degree: int) -> DDWorkspace:
    N = n + 1
    return DDWorkspace(np.zeros((N, 4)), np.zeros((N, degree + 1, 4)), np.zeros((n, 4)), np.zeros((n, 4)),
                       np.zeros((n, N, 4)), np.zeros((n, N, 4)), np.zeros((max(N, degree) + 1, 4)),
                       np.zeros((max(degree, 1), 4)), np.zeros((N, 4)))


@njit(cache=True, inline="always")
def _cadd(a, b):
    re = _dd_add(a[0], a[1], b[0], b[1])
    im = _dd_add(a[2], a[3], b[2], b[3])
    return re[0], re[1], im[0], im[1]


@njit(cache=True, inline="always")
def _cmul_d(a, z):
    """Double-double complex ``a`` times the complex double ``z``."""
    return _cdd_mul(a, (z.real, 0.0, z.imag, 0.0))


@njit(cache=True, inline="always")
def _rnd(a) -> complex:
    return complex(a[0] + a[1], a[2] + a[3])


@njit(cache=True, inline="always")
def _put(out, a):
    out[0], out[1], out[2], out[3] = a[0], a[1], a[2], a[3]


@njit(cache=True)
def _sparse_dd(chi, clo, exps, offsets, pw, f, jac, prefix):
    """Values ``f`` (m, 4) and Jacobian ``jac`` (m, N, 4) of packed terms with coefficients
    ``chi + clo`` at the point of power table ``pw``, by prefix and suffix products (as
    :func:`solver.engine.evaluation.eval_sparse_jacobian`), in double-double."""
    N = exps.shape[1]
    jac[:] = 0.0
    for i in range(offsets.shape[0] - 1):
        fi = (0.0, 0.0, 0.0, 0.0)
        for k in range(offsets[i], offsets[i + 1]):
            p = (chi[k].real, clo[k].real, chi[k].imag, clo[k].imag)
            for j in range(N):
                _put(prefix[j], p)
                e = exps[k, j]
                if e:
                    p = _cdd_mul(p, pw[j, e])
            fi = _cadd(fi, p)
            suffix = (1.0, 0.0, 0.0, 0.0)
            for j in range(N - 1, -1, -1):
                e = exps[k, j]
                if e:
                    t = _cdd_mul(_cdd_mul(prefix[j], pw[j, e - 1]), suffix)
                    re, im = _dd_mul(t[0], t[1], float(e), 0.0), _dd_mul(t[2], t[3], float(e), 0.0)
                    _put(jac[i, j], _cadd(jac[i, j], (re[0], re[1], im[0], im[1])))
                    suffix = _cdd_mul(suffix, pw[j, e])
        _put(f[i], fi)


@njit(cache=True)
def _product_dd(lin, nfac, y, g, jac, vals, prefix):
    """Values and Jacobian of the product start ``G_i = prod_k lin[i, k] . y`` in
    double-double (its coefficients taken as exact)."""
    N = y.shape[0]
    jac[:] = 0.0
    for i in range(nfac.shape[0]):
        D = nfac[i]
        for k in range(D):
            acc = (0.0, 0.0, 0.0, 0.0)
            for j in range(N):
                acc = _cadd(acc, _cmul_d(y[j], lin[i, k, j]))
            _put(vals[k], acc)
        _put(prefix[0], (1.0, 0.0, 0.0, 0.0))
        for k in range(D):
            _put(prefix[k + 1], _cdd_mul(prefix[k], vals[k]))
        _put(g[i], prefix[D])
        suffix = (1.0, 0.0, 0.0, 0.0)
        for k in range(D - 1, -1, -1):
            w = _cdd_mul(prefix[k], suffix)
            for j in range(N):
                _put(jac[i, j], _cadd(jac[i, j], _cmul_d(w, lin[i, k, j])))
            suffix = _cdd_mul(suffix, vals[k])


@njit(cache=True)
def evaluate_homotopy_dd(X, s, hom, flo, glo, dws, ws):
    """H, dH/dX and dH/ds at the double-double point ``X`` (N, 4), evaluated in
    double-double and rounded into ``ws.f``, ``ws.jac``, ``ws.hs`` (rows ``i < n`` at ``X``
    scaled by a power of two, as :func:`solver.engine.homotopy.evaluate_homotopy` scales
    them by ``max|X|``: exact, so the scaled point is the point)."""
    N = X.shape[0]
    n = N - 1
    big = 0.0
    for j in range(N):
        big = max(big, abs(complex(X[j, 0], X[j, 2])))
    sigma = 1.0
    if big > 0.0 and big < np.inf:
        sigma = math.ldexp(1.0, math.frexp(big)[1])
    y, pw = dws.y, dws.pw
    for j in range(N):
        for c in range(4):
            y[j, c] = X[j, c] / sigma
        _put(pw[j, 0], (1.0, 0.0, 0.0, 0.0))
        for e in range(1, pw.shape[1]):
            _put(pw[j, e], _cdd_mul(pw[j, e - 1], y[j]))
    _sparse_dd(hom.fc, flo, hom.fe, hom.fo, pw, dws.ff, dws.jf, dws.prefix)
    if hom.kind == START_PRODUCT:
        _product_dd(hom.lin, hom.n_factors, y, dws.fg, dws.jg, dws.vals, dws.prefix)
    else:
        _sparse_dd(hom.gc, glo, hom.ge, hom.go, pw, dws.fg, dws.jg, dws.prefix)
    sg = s * hom.gamma
    om = 1.0 - s
    for i in range(n):
        ff, fg = dws.ff[i], dws.fg[i]
        ws.f[i] = _rnd(_cadd(_cmul_d(fg, sg), _cmul_d(ff, om))) * sigma
        ws.hs[i] = _rnd(_cadd(_cmul_d(fg, hom.gamma), (-ff[0], -ff[1], -ff[2], -ff[3]))) * sigma
        for j in range(N):
            ws.jac[i, j] = _rnd(_cadd(_cmul_d(dws.jg[i, j], sg), _cmul_d(dws.jf[i, j], om)))
    acc = (-1.0, 0.0, 0.0, 0.0)
    for j in range(N):
        acc = _cadd(acc, _cmul_d(X[j], hom.patch[j]))
        ws.jac[n, j] = hom.patch[j]
    ws.f[n] = _rnd(acc)
    ws.hs[n] = 0.0


@njit(cache=True, inline="always")
def _shifted(X, a, v, out):
    """``out = X + a * v`` (X double-double, ``a * v`` rounded to double)."""
    for j in range(X.shape[0]):
        d = a * v[j]
        re = _dd_add(X[j, 0], X[j, 1], d.real, 0.0)
        im = _dd_add(X[j, 2], X[j, 3], d.imag, 0.0)
        out[j, 0], out[j, 1], out[j, 2], out[j, 3] = re[0], re[1], im[0], im[1]


@njit(cache=True, inline="always")
def _size(X) -> float:
    m = 0.0
    for j in range(X.shape[0]):
        m = max(m, abs(complex(X[j, 0], X[j, 2])))
    return m


@njit(cache=True, inline="always")
def _distance(X, Y) -> float:
    """``max|X - Y| / max|X|`` for double-double X and Y, to about 1e-32 of ``|X|``
    (the moves of a path near its endpoint fall below double's resolution)."""
    d = 0.0
    for j in range(X.shape[0]):
        d = max(d, abs(complex((X[j, 0] - Y[j, 0]) + (X[j, 1] - Y[j, 1]), (X[j, 2] - Y[j, 2]) + (X[j, 3] - Y[j, 3]))))
    return d / _size(X)


@njit(cache=True)
def velocity_dd(X, s, ds, hom, flo, glo, dws, ws, out) -> float:
    """``out = dX/dtau`` at the double-double point X for a segment of direction ``ds``;
    returns the Jacobian's pivot ratio (0 when singular)."""
    evaluate_homotopy_dd(X, s, hom, flo, glo, dws, ws)
    rc = lu_factor(ws.jac, ws.piv)
    if rc == 0.0:
        return 0.0
    for j in range(X.shape[0]):
        out[j] = -ws.hs[j] * ds
    lu_solve(ws.jac, ws.piv, out)
    return rc


@njit(cache=True)
def sample_state(X, s, hom, flo, glo, dws, ws, dx) -> tuple[float, float]:
    """At (X, s): the pivot ratio of the Jacobian with each row scaled to max modulus 1,
    and the size of the Newton update ``|J^-1 H| / max|X|`` (``dx`` receives it).

    The homotopy's rows are as small as its terms at ``s`` while the patch row is of
    order one, so the plain pivot ratio (1e-20 on Wilkinson's paths near their roots)
    says nothing about the linear solve; the scaled one goes to 0 at singular points of
    several variables. The update at a converged point is the noise double-double leaves
    in it: about ``cond * 1e-32``, and ``1e-16`` at a double root."""
    evaluate_homotopy_dd(X, s, hom, flo, glo, dws, ws)
    jac = ws.jac
    for i in range(jac.shape[0]):
        m = max_abs(jac[i])
        dx[i] = ws.f[i]
        if m > 0.0 and m < np.inf:
            dx[i] /= m
            for j in range(jac.shape[1]):
                jac[i, j] /= m
    rc = lu_factor(jac, ws.piv)
    if rc == 0.0:
        return 0.0, np.inf
    lu_solve(jac, ws.piv, dx)
    return rc, max_abs(dx) / _size(X)


@njit(cache=True)
def newton_dd(X, s, hom, flo, glo, dws, ws, tol, max_iter, dx):
    """Newton on H(., s) = 0 from the double-double point X, in place: residuals in
    double-double, the update solved in double (:func:`solver.engine.tracker.newton_correct`'s
    rules). Returns ``(converged, first_update_norm, pivot_ratio)``."""
    first, prev, rc = 0.0, np.inf, 0.0
    for it in range(max_iter):
        evaluate_homotopy_dd(X, s, hom, flo, glo, dws, ws)
        rc = lu_factor(ws.jac, ws.piv)
        if rc == 0.0:
            return False, first, rc
        for j in range(X.shape[0]):
            dx[j] = ws.f[j]
        lu_solve(ws.jac, ws.piv, dx)
        _shifted(X, -1.0 + 0.0j, dx, X)
        nrm = max_abs(dx)
        if not np.isfinite(nrm):
            return False, first, rc
        if it == 0:
            first = nrm
        elif nrm > 0.5 * prev:
            return False, first, rc
        if nrm <= tol * _size(X):
            return True, first, rc
        prev = nrm
    return False, first, rc


@njit(cache=True)
def track_segment_dd(X, s_a, s_b, hom, flo, glo, dws, ws, bufs, opts, h0, hmax, budget):
    """:func:`solver.engine.tracker.track_segment` (RK4 predictor) for a double-double X.

    Returns ``(code, steps, pivot_ratio, next_step)``; on failure X is the last accepted
    point."""
    k1, k2, k3, k4, dx = bufs
    Xp = dws.xp
    N = X.shape[0]
    hmin, target = opts[_MIN_STEP], opts[_PRED_TOL]
    tol, iters = opts[_CORR_TOL], int(opts[_CORR_ITERS])
    ds = s_b - s_a
    tau, h, steps, rc = 0.0, min(h0, hmax), 0, 1.0
    h_next = h
    have_k1 = False
    while tau < 1.0:
        if steps >= budget:
            return TOO_MANY_STEPS, steps, rc, h
        steps += 1
        h_next = h
        h = min(h, 1.0 - tau)
        s = s_a + tau * ds
        ok = have_k1 or velocity_dd(X, s, ds, hom, flo, glo, dws, ws, k1) > 0.0
        have_k1 = ok
        if ok:
            _shifted(X, 0.5 * h + 0.0j, k1, Xp)
            ok = velocity_dd(Xp, s + 0.5 * h * ds, ds, hom, flo, glo, dws, ws, k2) > 0.0
        if ok:
            _shifted(X, 0.5 * h + 0.0j, k2, Xp)
            ok = velocity_dd(Xp, s + 0.5 * h * ds, ds, hom, flo, glo, dws, ws, k3) > 0.0
        if ok:
            _shifted(X, h + 0.0j, k3, Xp)
            ok = velocity_dd(Xp, s + h * ds, ds, hom, flo, glo, dws, ws, k4) > 0.0
        if ok:
            for j in range(N):
                k2[j] = k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j]
            _shifted(X, h / 6.0 + 0.0j, k2, Xp)
        tau_new = tau + h
        s_new = s_b if tau_new >= 1.0 else s_a + tau_new * ds
        first = np.inf
        if ok:
            ok, first, rc = newton_dd(Xp, s_new, hom, flo, glo, dws, ws, tol, iters, dx)
        if ok:
            X[:] = Xp
            tau = 1.0 if tau_new >= 1.0 else tau_new
            if tau < 1.0:
                # the velocity from the corrector's last Jacobian (first same as last)
                for j in range(N):
                    k1[j] = -ws.hs[j] * ds
                lu_solve(ws.jac, ws.piv, k1)
            err = first / _size(X)
            grow = 3.0 if err * 243.0 <= target else 0.9 * (target / err) ** 0.2
            h = min(max(grow, 0.5) * h, hmax)
            h_next = max(h, h_next) if tau >= 1.0 else h
        else:
            h *= 0.5
            if h < hmin:
                return STEP_SIZE_TOO_SMALL, steps, rc, h
    return 0, steps, rc, h_next


@njit(cache=True)
def track_path_dd(x_start, hom, flo, glo, opts, X):
    """One path from the affine start point ``x_start`` to its projective endpoint ``X``
    (N, 4) in double-double. Returns ``(status, reason, steps)``.

    Below ``endgame_start`` the path is sampled at ``s_k = s_{k-1} * endgame_ratio``; the
    row-scaled pivot ratio ``r_k`` (:func:`sample_state`) decides: a straight finish
    to ``s = 0`` is tried where the path moves like an analytic one (:data:`ANALYTIC`)
    and ``r_k`` has settled
    (at least :data:`SETTLED` times ``r_{k-2}``: a regular endpoint's Jacobian converges,
    a singular one's decays like a power of ``s``) and is accepted when the endpoint
    lies where the samples' geometric trend puts it (:data:`CONSISTENT`) and its ratio
    exceeds :data:`WELL_CONDITIONED` (in one variable the row scaling hides a double root:
    the trend tells it); the path fails once ``r_k`` is below
    :data:`SINGULAR` (the double linear solve resolves nothing there), its moves sink
    into the noise of double-double (:data:`NOISE`), or a sample takes more than
    :data:`SAMPLE_BUDGET` steps. A path whose ``|x0| / max|X|`` falls below
    ``infinity_threshold``, or below ``loose_infinity`` with a valuation settled over three
    samples, is at infinity (as in :func:`solver.engine.endgame.run_endgame`).
    """
    n = x_start.shape[0]
    N = n + 1
    start = np.empty(N, dtype=np.complex128)
    start[0] = 1.0
    start[1:] = x_start
    dot = 0.0 + 0.0j
    for j in range(N):
        dot += hom.patch[j] * start[j]
    X[:] = 0.0
    for j in range(N):
        X[j, 0], X[j, 2] = (start[j] / dot).real, (start[j] / dot).imag
    ws = make_workspace(n, max_degree(hom))
    dws = make_dd_workspace(n, max_degree(hom))
    bufs = (np.empty(N, np.complex128), np.empty(N, np.complex128), np.empty(N, np.complex128),
            np.empty(N, np.complex128), np.empty(N, np.complex128))
    budget = int(opts[_MAX_STEPS])
    s = opts[_EG_START]
    code, steps, rc, h = track_segment_dd(X, 1.0 + 0.0j, s + 0.0j, hom, flo, glo, dws, ws, bufs, opts, opts[_INITIAL_STEP], opts[_MAX_STEP], budget)
    if code != 0:
        return FAILED, code, steps
    Xs = np.empty_like(X)
    k = 0
    h_seg = 1.0
    r1 = r2 = 0.0  # the scaled pivot ratios at the last two samples
    last = X.copy()  # the last sample
    moved = np.inf  # how far the path moved between the last two samples (relative)
    ratio_prev = abs(complex(X[0, 0], X[0, 2])) / _size(X)
    v1 = v2 = -1.0  # the valuations of x0 at the last two samples
    while s >= opts[_EG_MIN] and steps < budget:
        k += 1
        s_next = s * opts[_EG_RATIO]
        code, st, rc, h_seg = track_segment_dd(X, s + 0.0j, s_next + 0.0j, hom, flo, glo, dws, ws, bufs, opts, h_seg, 1.0,
                                               min(budget - steps, SAMPLE_BUDGET))
        steps += st
        if code != 0:
            return FAILED, code, steps
        s = s_next
        ratio = abs(complex(X[0, 0], X[0, 2])) / _size(X)
        v = np.log(ratio_prev / ratio) / np.log(1.0 / opts[_EG_RATIO]) if ratio > 0.0 else 1.0
        ratio_prev = ratio
        # at infinity: |x0| / max|X| tiny, or small with a positive valuation settled over
        # three samples (the double endgame's rules)
        settled = v > 0.1 and v1 > 0.1 and abs(v - v1) <= 0.1 * v and abs(v1 - v2) <= 0.1 * v
        if ratio < opts[_INF] or (settled and ratio < opts[_LOOSE]):
            return AT_INFINITY, 0, steps
        v2, v1 = v1, v
        r, noise = sample_state(X, s + 0.0j, hom, flo, glo, dws, ws, bufs[4])
        step = _distance(X, last)
        last[:] = X
        if r < SINGULAR or step <= NOISE * noise:
            # the double solve resolves nothing, or the samples no longer resolve the path
            return FAILED, NOT_CONVERGED, steps
        analytic = k > 1 and step > RESOLVED * noise and step <= ANALYTIC * moved
        moved = step
        if analytic and r > WELL_CONDITIONED and r >= SETTLED * r2:
            Xs[:] = X
            code, st, rc, _ = track_segment_dd(Xs, s + 0.0j, 0.0j, hom, flo, glo, dws, ws, bufs, opts, 0.5, 1.0, min(budget - steps, DIRECT_BUDGET))
            steps += st
            if code == 0 and _distance(Xs, last) <= CONSISTENT * moved and sample_state(Xs, 0.0j, hom, flo, glo, dws, ws, bufs[4])[0] > WELL_CONDITIONED:
                X[:] = Xs
                if abs(complex(X[0, 0], X[0, 2])) < opts[_INF] * _size(X):
                    return AT_INFINITY, 0, steps
                return REGULAR, 0, steps
        r2, r1 = r1, r
    return FAILED, NOT_CONVERGED if steps < budget else TOO_MANY_STEPS, steps


@njit(cache=True, parallel=True)
def track_paths_dd(starts, hom, flo, glo, opts):
    """Every row of ``starts`` (P, n) in parallel: endpoints (P, N, 4) and the int64
    arrays status, reason, steps (P,)."""
    P, n = starts.shape
    endpoints = np.zeros((P, n + 1, 4))
    codes = np.zeros((3, P), dtype=np.int64)
    for p in prange(P):
        a, r, st = track_path_dd(starts[p], hom, flo, glo, opts, endpoints[p])
        codes[0, p], codes[1, p], codes[2, p] = a, r, st
    return endpoints, codes[0], codes[1], codes[2]


def target_low_parts(target: System, hom: Homotopy) -> np.ndarray:
    """The low parts ``c / m - fl(c / m)`` of the homotopy's target coefficients (``m``
    the largest modulus in the equation, as :meth:`System.scaled` divides), exact
    rationals rounded to double; zeros where ``hom.fc`` is not that quotient rounded."""
    coeffs, _, offsets = target.packed
    if coeffs.shape != hom.fc.shape:
        return np.zeros_like(hom.fc)
    low = np.zeros_like(hom.fc)
    for i in range(offsets.shape[0] - 1):
        rows = slice(offsets[i], offsets[i + 1])
        m = Fraction(float(np.abs(coeffs[rows]).max()))
        for k in range(offsets[i], offsets[i + 1]):
            parts = []
            for exact, rounded in ((coeffs[k].real, hom.fc[k].real), (coeffs[k].imag, hom.fc[k].imag)):
                q = Fraction(float(exact)) / m
                lo = float(q - Fraction(float(rounded)))
                # another term order than the homotopy's: no low part
                parts.append(lo if abs(lo) <= 1e-15 * abs(float(q)) else np.nan)
            low[k] = complex(*parts)
    return np.where(np.isfinite(low), low, 0.0)


def retrack_extended(target: System, starts: np.ndarray, hom: Homotopy, tracked: tuple[np.ndarray, ...],
                     options: TrackerOptions = EXTENDED) -> int:
    """Re-run the failed paths of ``tracked`` (endpoints, status, reason, winding, steps;
    updated in place for the paths it finishes) in double-double; returns how many it
    finished. Nothing runs when no path failed, or for homotopies other than the
    product and sparse starts."""
    failed = np.flatnonzero(tracked[1] == PathStatus.FAILED)
    if failed.size == 0 or hom.kind not in (START_PRODUCT, START_SPARSE):
        return 0
    glo = np.zeros_like(hom.gc)
    ends, status, _, steps = track_paths_dd(np.ascontiguousarray(starts[failed]), hom, target_low_parts(target, hom), glo, options.as_array())
    done = status != FAILED
    rows = failed[done]
    tracked[0][rows] = (ends[done, :, 0] + ends[done, :, 1]) + 1j * (ends[done, :, 2] + ends[done, :, 3])
    tracked[1][rows] = status[done]
    tracked[2][rows] = 0
    tracked[3][rows] = 1
    tracked[4][failed] += steps
    return int(done.sum())

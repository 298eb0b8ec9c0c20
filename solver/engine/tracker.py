"""Predictor-corrector path tracking along one straight segment of the homotopy parameter.

The segment runs from ``s_a`` to ``s_b`` (complex: the Cauchy endgame tracks chords of a
circle); ``tau`` in [0, 1] parametrises it. A step is a fourth-order Runge-Kutta predictor
on the Davidenko equation ``dX/dtau = -H_X^{-1} H_s (s_b - s_a)`` and a Newton corrector at
the new parameter (Allgower and Georg, *Introduction to Numerical Continuation Methods*,
SIAM 2003, ch. 2 and 6). A step is accepted when Newton converges within the iteration
budget with each update at most half the previous one. The first Newton update measures
the predictor's error; the next step is scaled to bring it to ``predictor_tolerance``
(RK4's ``h^5`` error law, by a factor between 0.5 and 3), and halves on a rejection.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from solver.engine.homotopy import evaluate_homotopy
from solver.engine.linalg import lu_factor, lu_solve, max_abs
from solver.engine.options import OPT
from solver.engine.result import FailureReason

SEGMENT_OK = 0
# plain ints: numba freezes module-level ints as constants
STEP_SIZE_TOO_SMALL = int(FailureReason.STEP_SIZE_TOO_SMALL)
TOO_MANY_STEPS = int(FailureReason.TOO_MANY_STEPS)

_MIN_STEP = OPT["min_step"]
_CORR_TOL = OPT["corrector_tolerance"]
_CORR_ITERS = OPT["max_corrector_iterations"]
_PRED_TOL = OPT["predictor_tolerance"]
_PREDICTOR = OPT["predictor"]
#: predictor codes in the options array (:data:`solver.engine.options.PREDICTORS`)
RK4 = 0
HERMITE = 1


@njit(cache=True)
def make_buffers(N: int):
    """Per-path vectors used by the predictor and corrector."""
    return (
        np.empty(N, dtype=np.complex128),  # k1
        np.empty(N, dtype=np.complex128),  # k2
        np.empty(N, dtype=np.complex128),  # k3
        np.empty(N, dtype=np.complex128),  # k4
        np.empty(N, dtype=np.complex128),  # predicted point
        np.empty(N, dtype=np.complex128),  # Newton update
        np.empty(N, dtype=np.complex128),  # previous accepted point (Hermite predictor)
        np.empty(N, dtype=np.complex128),  # its tangent
    )


@njit(cache=True)
def velocity(X, s, ds, hom, ws, out) -> float:
    """``out = dX/dtau`` at (X, s) for a segment of direction ``ds``; returns the pivot
    ratio of the Jacobian (0 when singular)."""
    evaluate_homotopy(X, s, hom, ws)
    jac, hs, piv = ws.jac, ws.hs, ws.piv
    rc = lu_factor(jac, piv)
    if rc == 0.0:
        return 0.0
    for j in range(X.shape[0]):
        out[j] = -hs[j] * ds
    lu_solve(jac, piv, out)
    return rc


@njit(cache=True)
def newton_correct(X, s, hom, ws, tol, max_iter, dx):
    """Newton on H(., s) = 0 from X, in place.

    Returns ``(converged, first_update_norm, pivot_ratio)``; convergence needs the update
    below ``tol * max|X|`` and every update at most half the previous one. (Stopping one
    iteration early, once the contraction rate bounds the error left, let a path jump on
    the 2-1-1 network system.) On success the workspace still holds the factored Jacobian
    and ``dH/ds`` at the last point evaluated.
    """
    f, jac, piv = ws.f, ws.jac, ws.piv
    first = 0.0
    prev = np.inf
    rc = 0.0
    for it in range(max_iter):
        evaluate_homotopy(X, s, hom, ws)
        rc = lu_factor(jac, piv)
        if rc == 0.0:
            return False, first, rc
        for j in range(X.shape[0]):
            dx[j] = f[j]
        lu_solve(jac, piv, dx)
        for j in range(X.shape[0]):
            X[j] -= dx[j]
        nrm = max_abs(dx)
        if not np.isfinite(nrm):
            return False, first, rc
        if it == 0:
            first = nrm
        elif nrm > 0.5 * prev:
            return False, first, rc
        if nrm <= tol * max_abs(X):
            return True, first, rc
        prev = nrm
    return False, first, rc


@njit(cache=True)
def track_segment(X, s_a, s_b, hom, ws, bufs, opts, h0, hmax, budget):
    """Track X from parameter ``s_a`` to ``s_b`` in place, with first step ``h0`` and
    steps at most ``hmax`` (fractions of the segment) and at most ``budget`` steps.

    Returns ``(code, steps, pivot_ratio, next_step)``: ``code`` is ``SEGMENT_OK`` or a
    :class:`~solver.engine.result.FailureReason` value (on failure X is the last accepted point);
    ``next_step`` is the step the control would take next, to start a following segment
    of similar scale with.
    """
    k1, k2, k3, k4, Xp, dx, Xo, Vo = bufs
    N = X.shape[0]
    hermite = int(opts[_PREDICTOR]) == HERMITE
    have_prev = False  # a previous accepted point on this segment (the Hermite predictor's)
    tau_o = 0.0
    hmin = opts[_MIN_STEP]
    target = opts[_PRED_TOL]
    tol, iters = opts[_CORR_TOL], int(opts[_CORR_ITERS])
    ds = s_b - s_a
    tau = 0.0
    h = min(h0, hmax)
    steps = 0
    rc = 1.0
    h_next = h
    jac_ws, hs_ws, piv_ws = ws.jac, ws.hs, ws.piv
    have_k1 = False
    while tau < 1.0:
        if steps >= budget:
            return TOO_MANY_STEPS, steps, rc, h
        steps += 1
        h_next = h
        h = min(h, 1.0 - tau)
        s = s_a + tau * ds
        # k1 is kept from the last accepted step's corrector (first same as last)
        ok = have_k1 or velocity(X, s, ds, hom, ws, k1) > 0.0
        have_k1 = ok
        # (a step below the rounding of tau leaves no interval to extrapolate from)
        cubic = hermite and have_prev and tau > tau_o
        if ok and cubic:
            # the cubic through the last two accepted points and their tangents, one step on
            D = tau - tau_o
            u = 1.0 + h / D
            u2 = u * u
            u3 = u2 * u
            a0, b0, a1, b1 = 2.0 * u3 - 3.0 * u2 + 1.0, (u3 - 2.0 * u2 + u) * D, 3.0 * u2 - 2.0 * u3, (u3 - u2) * D
            for j in range(N):
                Xp[j] = a0 * Xo[j] + b0 * Vo[j] + a1 * X[j] + b1 * k1[j]
        elif ok:
            for j in range(N):
                Xp[j] = X[j] + 0.5 * h * k1[j]
            ok = velocity(Xp, s + 0.5 * h * ds, ds, hom, ws, k2) > 0.0
            if ok:
                for j in range(N):
                    Xp[j] = X[j] + 0.5 * h * k2[j]
                ok = velocity(Xp, s + 0.5 * h * ds, ds, hom, ws, k3) > 0.0
            if ok:
                for j in range(N):
                    Xp[j] = X[j] + h * k3[j]
                ok = velocity(Xp, s + h * ds, ds, hom, ws, k4) > 0.0
            if ok:
                for j in range(N):
                    Xp[j] = X[j] + h / 6.0 * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j])
        tau_new = tau + h
        s_new = s_b if tau_new >= 1.0 else s_a + tau_new * ds
        first = np.inf
        if ok:
            ok, first, rc = newton_correct(Xp, s_new, hom, ws, tol, iters, dx)
        if ok:
            if hermite:
                for j in range(N):
                    Xo[j] = X[j]
                    Vo[j] = k1[j]
                tau_o = tau
                have_prev = True
            for j in range(N):
                X[j] = Xp[j]
            tau = 1.0 if tau_new >= 1.0 else tau_new
            if tau < 1.0:
                # the velocity at the new point from the corrector's last Jacobian, taken
                # within the corrector tolerance of it: one evaluation less per step
                for j in range(N):
                    k1[j] = -hs_ws[j] * ds
                lu_solve(jac_ws, piv_ws, k1)
            # the first Newton update measures the predictor's error, which scales as
            # h^5 for RK4 and h^4 for the cubic
            err = first / max_abs(X)
            if cubic:
                grow = 3.0 if err * 81.0 <= target else 0.9 * (target / err) ** 0.25
            else:
                grow = 3.0 if err * 243.0 <= target else 0.9 * (target / err) ** 0.2
            h = min(max(grow, 0.5) * h, hmax)
            h_next = max(h, h_next) if tau >= 1.0 else h
        else:
            h *= 0.5
            if h < hmin:
                return STEP_SIZE_TOO_SMALL, steps, rc, h
    return SEGMENT_OK, steps, rc, h_next

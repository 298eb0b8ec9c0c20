"""The endgame: from ``s = endgame_start`` to the endpoint at ``s = 0``.

The path is sampled at ``s_k = endgame_start * h**k``. At each sample:

* the valuation of ``x0`` (the homogenising coordinate) is estimated from two successive
  samples, ``v = log(r_{k-1} / r_k) / log(1/h)`` with ``r = |x0| / max|X|``. A path whose
  valuation is positive and stable while ``r`` becomes small is at infinity, and is
  stopped early: no time is spent resolving a singular endpoint nobody needs
  (Huber and Verschelde, "Polyhedral end games for polynomial continuation", Numer.
  Algorithms 18, 1998, use the same power-series valuations);
* a path that looks finite and well conditioned is tracked straight to ``s = 0`` (up to
  three tries, two samples apart);
* a finite-looking, ill-conditioned path goes to the Cauchy endgame, which runs a loop
  ``s = s_k e^{i theta}`` around the origin until the path closes up after ``c`` windings (the winding number) and takes the mean of the
  ``c * M`` equally spaced samples, the trapezoidal rule for Cauchy's integral formula,
  as the endpoint estimate (Morgan, Sommese and Wampler, "Computing singular solutions to
  nonlinear analytic systems", Numer. Math. 58, 1991). Two successive estimates that agree
  accept the endpoint, provided the loop was inside the endgame operating zone (Sommese
  and Wampler, *The Numerical Solution of Systems of Polynomials*, 2005, section 10.3):
  no branch point but ``s = 0`` inside it. A loop around a cluster of branch points (the
  paths to a cluster of nearby roots, Wilkinson's polynomial) closes too, after as many
  windings as it has paths, and its mean is the cluster's centroid, as stable from one
  radius to the next as a true estimate. What tells them apart: in ``t = s^(1/c)`` the
  samples of a loop inside the zone are those of a Puiseux series, analytic inside the
  circle, so their Fourier coefficients of negative order vanish; around a cluster of
  spread ``d`` the coefficient of ``t^-1`` is of order ``d^2 / |x - centroid|``. An
  estimate is accepted only when that coefficient is below ``_PUISEUX`` (relative);
  otherwise the endgame goes on to smaller ``s``, where the cluster comes apart.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from solver.engine.linalg import max_abs
from solver.engine.options import OPT
from solver.engine.result import FailureReason, PathStatus
from solver.engine.tracker import track_segment, velocity

REGULAR = int(PathStatus.REGULAR)
SINGULAR = int(PathStatus.SINGULAR)
AT_INFINITY = int(PathStatus.AT_INFINITY)
FAILED = int(PathStatus.FAILED)
NOT_CONVERGED = int(FailureReason.ENDGAME_NOT_CONVERGED)

_EG_START = OPT["endgame_start"]
_EG_RATIO = OPT["endgame_ratio"]
_EG_MIN = OPT["endgame_min_s"]
_SAMPLES = OPT["cauchy_samples"]
_MAX_WIND = OPT["max_winding_number"]
_EG_TOL = OPT["endgame_tolerance"]
_INF = OPT["infinity_threshold"]
_LOOSE = OPT["loose_infinity"]

#: the loop is closed when it returns this close (relative) to where it started
_CLOSURE = 1e-6
#: valuations below this count as zero (a finite endpoint)
_FINITE_VALUATION = 0.05
#: pivot ratio an endpoint reached straight must keep to count as regular
_WELL_CONDITIONED = 1e-8
#: pivot ratio along the path above which a straight finish is worth trying
_DIRECT_CONDITION = 1e-6
#: straight finishes tried per path before only the Cauchy endgame is used
_DIRECT_TRIES = 3
#: successive valuations within this relative spread have settled
_SETTLED = 0.1
#: a Cauchy loop whose samples' Fourier coefficient of order -1 in s^(1/c) exceeds this,
#: relative to max|X|, went round other branch points than s = 0 (aliasing of the series'
#: high orders leaves at most about 1e-7 where two estimates agree to endgame_tolerance)
_PUISEUX = 1e-6
#: a path that breaks down after this many samples with valuation above 0.1 in a row ...
_DECAYING_SAMPLES = 4
#: ... and |x0| / max|X| below this was diverging
_SLOW_INFINITY = 0.1


@njit(cache=True)
def cauchy_loop(X, radius, hom, ws, bufs, opts, budget, est):
    """Loop around s = 0 at ``radius`` from X (X is left at the loop's end point).

    Returns ``(closed, winding_number, steps, inside)``; on success ``est`` holds the
    mean of the samples, the Cauchy-integral estimate of the endpoint, and ``inside``
    says whether the loop lay in the operating zone (:func:`negative_order`).
    """
    M = int(opts[_SAMPLES])
    cmax = int(opts[_MAX_WIND])
    N = X.shape[0]
    X0 = X.copy()
    samples = np.empty((cmax * M, N), dtype=np.complex128)
    for j in range(N):
        est[j] = 0.0
    steps = 0
    count = 0
    h0 = 1.0
    for c in range(1, cmax + 1):
        for k in range(M):
            sa = radius * np.exp(2j * np.pi * k / M)
            sb = radius * np.exp(2j * np.pi * (k + 1) / M)
            code, st, rc, h0 = track_segment(X, sa, sb, hom, ws, bufs, opts, h0, 1.0, budget - steps)
            steps += st
            if code != 0:
                return False, c, steps, False
            for j in range(N):
                est[j] += X[j]
                samples[count, j] = X[j]
            count += 1
        dist = 0.0
        for j in range(N):
            dist = max(dist, abs(X[j] - X0[j]))
        if dist <= _CLOSURE * max_abs(X0):
            for j in range(N):
                est[j] /= count
            inside = negative_order(samples[:count]) <= _PUISEUX * max_abs(est)
            return True, c, steps, inside
    return False, cmax, steps, False


@njit(cache=True)
def negative_order(samples) -> float:
    """Largest modulus over the coordinates of the Fourier coefficient of order -1 of a
    closed loop's ``L`` samples (rows, the ``k``-th at angle ``2 pi k / L`` in
    ``t = s^(1/c)``): zero for the samples of a Puiseux series inside its disc."""
    L, N = samples.shape
    worst = 0.0
    for j in range(N):
        acc = 0.0 + 0.0j
        for k in range(L):
            acc += samples[k, j] * np.exp(2j * np.pi * (k + 1) / L)
        worst = max(worst, abs(acc) / L)
    return worst


@njit(cache=True)
def diverging(v1, v2, r, decaying, loose) -> bool:
    """Whether a path the tracker cannot follow further (or out of samples) was going to
    infinity: ``x0`` decaying at the last two samples with ``|x0| / max|X|`` small, or at
    each of the last ``_DECAYING_SAMPLES`` samples with it below ``_SLOW_INFINITY``.

    The second case is slow divergence onto singular components at infinity (``x0 ~
    s^(1/4)`` on the 1-2-1 network system: ``r`` would need ``s ~ 1e-20`` to get small); a
    finite endpoint's valuation tends to 0 instead.
    """
    if v1 > _FINITE_VALUATION and v2 > _FINITE_VALUATION and r < loose:
        return True
    return decaying >= _DECAYING_SAMPLES and r < _SLOW_INFINITY


@njit(cache=True)
def run_endgame(X, hom, ws, bufs, opts, budget):
    """Take X from ``s = endgame_start`` to its endpoint, in place.

    Returns ``(status, reason, winding_number, steps)`` with PathStatus and FailureReason
    codes.
    """
    N = X.shape[0]
    s = opts[_EG_START]
    h = opts[_EG_RATIO]
    smin = opts[_EG_MIN]
    tol = opts[_EG_TOL]
    inf_thr = opts[_INF]
    loose = opts[_LOOSE]
    log_h = np.log(1.0 / h)
    steps = 0
    r_prev = abs(X[0]) / max_abs(X)
    v1 = -1.0
    v2 = -1.0
    direct_tries = 0
    last_direct = -10
    have_estimate = False
    est = np.empty(N, dtype=np.complex128)
    prev_est = np.empty(N, dtype=np.complex128)
    Xs = np.empty(N, dtype=np.complex128)
    k = 0
    decaying = 0  # consecutive samples with valuation above 0.1
    h_seg = 1.0
    agreed_before = False
    tangent = np.empty(N, dtype=np.complex128)
    while True:
        k += 1
        s_next = s * h
        code, st, rc, h_seg = track_segment(X, s, s_next, hom, ws, bufs, opts, h_seg, 1.0, budget - steps)
        steps += st
        if code != 0:
            # broke down near a singular endpoint: while x0 was decaying, that is infinity
            if diverging(v1, v2, r_prev, decaying, loose):
                return AT_INFINITY, 0, 0, steps
            return FAILED, code, 0, steps
        s = s_next
        r = abs(X[0]) / max_abs(X)
        v = np.log(r_prev / r) / log_h if r > 0.0 and r_prev > 0.0 else 1.0
        r_prev = r
        decaying = decaying + 1 if v > 0.1 else 0
        # at infinity: x0 decays with a positive valuation that has settled, seen either
        # over three samples or as agreement of the difference quotient with the
        # derivative estimate Re(s x0'/x0) - Re(s xm'/xm) (xm the largest coordinate)
        # (on two samples in a row: one coincidence of the two estimates fooled it once)
        settled = v1 > 0.1 and v2 > 0.1 and abs(v - v1) <= _SETTLED * v and abs(v1 - v2) <= _SETTLED * v
        agree = False
        if v > 0.1 and 0.0 < r < loose:  # r > 0: x0 is a divisor below
            if velocity(X, s + 0.0j, 1.0 + 0.0j, hom, ws, tangent) > 0.0:
                m = 0
                for j in range(N):
                    if abs(X[j]) > abs(X[m]):
                        m = j
                vd = (s * tangent[0] / X[0]).real - (s * tangent[m] / X[m]).real
                agree = abs(v - vd) <= _SETTLED * v
        settled = settled or (agree and agreed_before)
        agreed_before = agree
        if v > _FINITE_VALUATION and (r < inf_thr or (settled and r < loose)):
            return AT_INFINITY, 0, 0, steps
        v2 = v1
        v1 = v
        if abs(v) >= _FINITE_VALUATION:
            pass
        elif rc > _DIRECT_CONDITION and direct_tries < _DIRECT_TRIES:
            # looks finite and regular: try to finish straight, again two samples later
            if k - last_direct >= 2:
                direct_tries += 1
                last_direct = k
                for j in range(N):
                    Xs[j] = X[j]
                code, st, rc0, _ = track_segment(Xs, s, 0.0, hom, ws, bufs, opts, 0.5, 1.0, min(budget - steps, 60))
                steps += st
                if code == 0 and rc0 > _WELL_CONDITIONED:
                    for j in range(N):
                        X[j] = Xs[j]
                    if abs(X[0]) / max_abs(X) < inf_thr:
                        return AT_INFINITY, 0, 1, steps
                    return REGULAR, 0, 1, steps
        else:
            # finite but ill conditioned (or straight finishes failed): Cauchy endgame
            for j in range(N):
                Xs[j] = X[j]
            closed, c, st, inside = cauchy_loop(Xs, s, hom, ws, bufs, opts, budget - steps, est)
            steps += st
            if closed:
                if have_estimate and inside:
                    diff = 0.0
                    for j in range(N):
                        diff = max(diff, abs(est[j] - prev_est[j]))
                    if diff <= tol * max_abs(est):
                        for j in range(N):
                            X[j] = est[j]
                        if abs(X[0]) / max_abs(X) < inf_thr:
                            return AT_INFINITY, 0, c, steps
                        return (SINGULAR if c > 1 else REGULAR), 0, c, steps
                for j in range(N):
                    prev_est[j] = est[j]
                have_estimate = True
        if s < smin or steps >= budget:
            if r < inf_thr or diverging(v1, v2, r, decaying, loose):
                return AT_INFINITY, 0, 0, steps
            return FAILED, NOT_CONVERGED, 0, steps

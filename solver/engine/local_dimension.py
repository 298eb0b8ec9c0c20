"""Which singular endpoints lie on a positive-dimensional solution component.

A path of a total-degree or linear-product homotopy that ends on a curve or surface of
solutions ends at a singular point of it, which :func:`~solver.engine.solve.solve` reports
as a singular solution of multiplicity one; an isolated multiple root is singular too.
The two differ in what lies next to them: through a point ``p`` of a component of
dimension at least one, a hyperplane ``v . (x - p) = eps`` transversal to it at ``p``
meets it within a few ``eps`` of ``p``, while next to an isolated root the system has no
zero at all. So Gauss-Newton on the overdetermined system

    F(x) = 0,    v . (x - p) = eps

from ``p + eps u / (v . u)``, with ``u`` a random direction of the Jacobian's numerical
null space at ``p`` and ``v`` a random perturbation of its conjugate, converges to a
zero, its relative residual at the rounding level (or near 1e-8 on a non-reduced
component, where it converges linearly), exactly when ``p`` lies on a component; next to
an isolated root of multiplicity ``m`` the residual stays near ``eps^k`` for some
``2 <= k <= m`` (1e-3 to 1e-1 at ``eps`` = 0.1 on the double and quadruple roots of the
hard collection). This is the membership question that local dimension tests answer
(Bates, Hauenstein, Peterson and Sommese, "A numerical local dimension test for points on
the solution set of a system of polynomial equations", SIAM J. Numer. Anal. 47(5), 2009,
decide it from Macaulay dual spaces), asked here in its cheapest numerical form: two
random hyperplanes must both find zeros next to ``p``. It is a heuristic, not a proof: a
component of high curvature at the scale of ``eps`` or an isolated root of multiplicity
six and more could be misjudged.

The test runs coordinate by coordinate to scale: in ``y = x / d`` with
``d_j = max(1, |p_j|)``, each equation divided by its terms' size at ``d``, ``eps`` = 0.1
(:data:`STEP`). A step relative to the largest coordinate, and a null space judged
against the rows of the largest terms, could not place a point whose coordinates span
1e-24 to 220 on its component (PHCpack's butcher, linear-product start, seed 1).
"""

from __future__ import annotations

import numpy as np

from solver.engine.result import PathStatus, SolveResult, Solution
from solver.engine.system import System

__all__ = ["on_positive_dimensional", "isolated_solutions"]

#: distance of the test hyperplane from the point, in coordinates scaled by max(1, |p_j|)
STEP = 1e-1
#: relative residual below which Gauss-Newton found a zero. On reduced components it
#: reaches the rounding level (1e-13 or less on proddeco and fourbar); on a non-reduced
#: one (butcher's u = v = x = 0, t = w = -1) it converges linearly and stalls near 1e-8;
#: next to the isolated double and quadruple roots of solotarev, caprasse, rose and
#: cassou it stays above 7e-4 at this step (it falls like STEP^2)
ZERO_RESIDUAL = 1e-6
#: a zero farther than this many ``STEP`` from the point (scaled coordinates, max norm) is
#: not "next to" it (an isolated root beside a component would otherwise count as on it);
#: Gauss-Newton drifts up to about 10 steps along a non-reduced component
NEARBY = 20
#: Gauss-Newton iterations per hyperplane
ITERATIONS = 50
#: random hyperplanes per point; all must find a zero
HYPERPLANES = 2
#: singular values below these (relative) are cut from the Gauss-Newton steps, the
#: first, then the second if the first finds no zero: on a component the Jacobian is
#: rank deficient, and its small singular values would send the minimum-norm step far
#: along the component. At 1e-10 alone, on butcher's non-reduced plane
#: u = v = x = 0, t = w = -1, the steps doubled for several iterations (singular values
#: 1e-6 to 1e-10 of the largest) and one hyperplane in 6-12 ended more than NEARBY steps
#: away (none in 60 at 1e-6); at 1e-6 alone Gauss-Newton stalls on its plane
#: u = y = x = 0, t = w = -1 at v = 5e4, where a direction it needs has 5e-9
RCONDS = (1e-6, 1e-10)
#: singular values below this (relative) span the numerical null space at the point
NULL_SPACE = 1e-6
#: condition number above which a regular solution is tested too (the clustering calls a
#: point singular only from 1e12; points of a component reach 1e11)
TESTED_CONDITION = 1e8


def on_positive_dimensional(system: System, points: np.ndarray, seed: int = 0) -> np.ndarray:
    """For each row of ``points`` (P, n), whether it lies on a solution component of
    positive dimension (see the module docstring). Regular points are never on one; call
    it for singular ones.

    Returns
    -------
    bool ndarray (P,)
    """
    rng = np.random.default_rng(seed)
    pts = np.atleast_2d(np.asarray(points, dtype=np.complex128))
    out = np.zeros(pts.shape[0], dtype=bool)
    for k, p in enumerate(pts):
        out[k] = all(_zero_on_hyperplane(system, p, rng) for _ in range(HYPERPLANES))
    return out


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=n) + 1j * rng.normal(size=n)
    return v / np.linalg.norm(v)


def _null_direction(jac: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random unit vector of the numerical null space of ``jac`` (singular values below
    ``NULL_SPACE`` relative), else its last right singular vector."""
    _, sv, vh = np.linalg.svd(jac)
    n = jac.shape[1]
    null = vh[sv <= NULL_SPACE * sv[0]].conj().T if sv[0] > 0 else np.eye(n, dtype=np.complex128)
    if null.shape[1] == 0:
        null = vh[-1:].conj().T
    u = null @ (null.conj().T @ _unit(rng, n))
    return u / np.linalg.norm(u)


def _zero_on_hyperplane(system: System, p: np.ndarray, rng: np.random.Generator) -> bool:
    """Whether Gauss-Newton finds a zero of ``F`` on a random hyperplane
    ``v . (y - q) = STEP`` next to ``p``, in the coordinates ``y = x / d``,
    ``d_j = max(1, |p_j|)``, where ``p`` is ``q`` (every coordinate at most one) and the
    equations are divided by their terms' size at ``d`` (:func:`_term_sizes`): ``v`` is a
    random perturbation of the conjugate of a null direction ``u`` of the scaled Jacobian
    (so transversal to a component through ``p``), the start ``q + STEP u / (v . u)``;
    with each cut-off of :data:`RCONDS` in turn until one finds it.

    Per coordinate, so that a point whose coordinates span many orders of magnitude is
    moved by a tenth of each, not of the largest: PHCpack's butcher has an endpoint with
    coordinates 1e-24 to 220 on the plane ``u = y = x = 0, t = w = -1``; a step of 22 in
    every coordinate, and a null space judged against the rows of its size-220 terms
    (five singular values below 1e-6 of the largest where the plane has two), missed it."""
    d = np.maximum(1.0, np.abs(p))
    q = p / d
    weights = 1.0 / np.maximum(_term_sizes(system, d), 1e-300)

    def scaled(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = d * y
        g = np.concatenate([system(x) * weights, [v @ (y - q) - STEP]])
        return g, np.vstack([system.jacobian(x) * weights[:, None] * d[None, :], v[None, :]])

    u = _null_direction(system.jacobian(p) * weights[:, None] * d[None, :], rng)
    v = u.conj() + 0.5 * _unit(rng, p.shape[0])
    v /= np.linalg.norm(v)
    for rcond in RCONDS:
        y, best = q + STEP * u / (v @ u), np.inf
        for _ in range(ITERATIONS):
            g, jac = scaled(y)
            if not (np.isfinite(g).all() and np.isfinite(jac).all()):
                break
            y = y - np.linalg.lstsq(jac, g, rcond=rcond)[0]
            best = min(best, float(system.relative_residuals(d * y).max()))
            if best <= ZERO_RESIDUAL:
                break
        if best <= ZERO_RESIDUAL and float(np.abs(y - q).max()) <= NEARBY * STEP:
            return True
    return False


def _term_sizes(system: System, d: np.ndarray) -> np.ndarray:
    """``sum_k |c_k| prod_j d_j^a_kj`` per equation: DESIGN.md's coefficient scale taken
    coordinate by coordinate, at ``d = max(1, |p|)``."""
    logd = np.log(d)
    return np.array([float(np.sum(np.abs(q.coefficients) * np.exp(q.exponents @ logd))) for q in system.polynomials])


def isolated_solutions(system: System, result: SolveResult, seed: int = 0) -> list[Solution]:
    """The solutions of ``result`` that are isolated: those :func:`on_positive_dimensional`
    does not put on a component (it tests the singular ones and the regular ones of
    condition number above :data:`TESTED_CONDITION`)."""
    singular = [s for s in result.solutions if s.status == PathStatus.SINGULAR or s.condition > TESTED_CONDITION]
    on_component = on_positive_dimensional(system, np.array([s.values for s in singular]).reshape(len(singular), system.n_variables), seed)
    dropped = {id(s) for s, c in zip(singular, on_component) if c}
    return [s for s in result.solutions if id(s) not in dropped]

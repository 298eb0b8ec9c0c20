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
"""

from __future__ import annotations

import numpy as np

from solver.engine.result import PathStatus, SolveResult, Solution
from solver.engine.system import System

__all__ = ["on_positive_dimensional", "isolated_solutions"]

#: distance of the test hyperplane from the point, relative to max(1, |p|)
STEP = 1e-1
#: relative residual below which Gauss-Newton found a zero. On reduced components it
#: reaches the rounding level (1e-13 or less on proddeco and fourbar); on a non-reduced
#: one (butcher's u = v = x = 0, t = w = -1) it converges linearly and stalls near 1e-8;
#: next to the isolated double and quadruple roots of solotarev, caprasse, rose and
#: cassou it stays above 7e-4 at this step (it falls like STEP^2)
ZERO_RESIDUAL = 1e-6
#: a zero farther than this many ``eps`` from the point is not "next to" it (an isolated
#: root beside a component would otherwise count as on it); Gauss-Newton drifts up to
#: about 10 eps along a non-reduced component
NEARBY = 20
#: Gauss-Newton iterations per hyperplane
ITERATIONS = 50
#: random hyperplanes per point; all must find a zero
HYPERPLANES = 2
#: singular values below this (relative) are cut from the Gauss-Newton steps: on a
#: component the Jacobian is rank deficient, and its rounding-level singular values
#: would send the minimum-norm step far along the component
RCOND = 1e-10
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


def _null_direction(system: System, p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random unit vector of the Jacobian's numerical null space at ``p`` (singular
    values below ``NULL_SPACE`` relative), else its last right singular vector."""
    _, sv, vh = np.linalg.svd(system.jacobian(p))
    null = vh[sv <= NULL_SPACE * sv[0]].conj().T if sv[0] > 0 else np.eye(p.shape[0], dtype=np.complex128)
    if null.shape[1] == 0:
        null = vh[-1:].conj().T
    u = null @ (null.conj().T @ _unit(rng, p.shape[0]))
    return u / np.linalg.norm(u)


def _zero_on_hyperplane(system: System, p: np.ndarray, rng: np.random.Generator) -> bool:
    """Whether Gauss-Newton finds a zero of ``F`` on a random hyperplane
    ``v . (x - p) = eps`` next to ``p``: ``v`` is a random perturbation of the conjugate of
    a null direction ``u`` (so transversal to a component through ``p``), the start is
    ``p + eps u / (v . u)``."""
    eps = STEP * max(1.0, float(np.abs(p).max(initial=0.0)))
    u = _null_direction(system, p, rng)
    v = u.conj() + 0.5 * _unit(rng, p.shape[0])
    v /= np.linalg.norm(v)
    x = p + eps * u / (v @ u)
    # rows of F scaled by their terms' size at p: the residual judged is a relative one
    weights = 1.0 / np.maximum(_term_sizes(system, p), 1e-300)
    best = np.inf
    for _ in range(ITERATIONS):
        g = np.concatenate([system(x) * weights, [v @ (x - p) - eps]])
        jac = np.vstack([system.jacobian(x) * weights[:, None], v[None, :]])
        if not (np.isfinite(g).all() and np.isfinite(jac).all()):
            return False
        x = x - np.linalg.lstsq(jac, g, rcond=RCOND)[0]
        best = min(best, float(system.relative_residuals(x).max()))
        if best <= ZERO_RESIDUAL:
            break
    return best <= ZERO_RESIDUAL and float(np.abs(x - p).max()) <= NEARBY * eps


def _term_sizes(system: System, p: np.ndarray) -> np.ndarray:
    """``sum_k |c_k| max(1, |p|)^deg_k`` per equation (DESIGN.md's coefficient scale)."""
    size = max(1.0, float(np.abs(p).max(initial=0.0)))
    return np.array([float(np.sum(np.abs(q.coefficients) * size ** q.exponents.sum(axis=1))) for q in system.polynomials])


def isolated_solutions(system: System, result: SolveResult, seed: int = 0) -> list[Solution]:
    """The solutions of ``result`` that are isolated: those :func:`on_positive_dimensional`
    does not put on a component (it tests the singular ones and the regular ones of
    condition number above :data:`TESTED_CONDITION`)."""
    singular = [s for s in result.solutions if s.status == PathStatus.SINGULAR or s.condition > TESTED_CONDITION]
    on_component = on_positive_dimensional(system, np.array([s.values for s in singular]).reshape(len(singular), system.n_variables), seed)
    dropped = {id(s) for s, c in zip(singular, on_component) if c}
    return [s for s in result.solutions if id(s) not in dropped]

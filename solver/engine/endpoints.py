"""From path endpoints to distinct solutions: Newton refinement on the target, clustering
of endpoints that are the same point (their count is the multiplicity), condition numbers
and the real test. Every backend hands its endpoints to :func:`collect_solutions`, so the
numba tracker and the PHCpack backends are judged by the same rules.
"""

from __future__ import annotations

import numpy as np

from solver.engine.result import PathStatus, Solution
from solver.engine.system import System

#: endpoints closer than this (relative to their size) are one solution
CLUSTER_TOLERANCE = 1e-6
#: two regular roots are distinct where a coordinate differs by more than this many times
#: the sum of their rounding-error bounds (and CLUSTER_TOLERANCE relative to itself)
SEPARATION = 100.0
#: imaginary parts below this (relative) make a solution real
REAL_TOLERANCE = 1e-8
#: a refined endpoint whose relative residual stays above this is not a solution
RESIDUAL_TOLERANCE = 1e-8
#: condition numbers above this count as singular
SINGULAR_CONDITION = 1e12
#: a solution whose relative forward-error bound in double (:func:`error_bounds`) exceeds
#: this is refined again with residuals in double-double
DD_ERROR_BOUND = 1e-12
#: an ill-conditioned endpoint (error bound above DD_ERROR_BOUND) that Newton with
#: double-double residuals would still move by more than this (relative) is no solution
NEWTON_STEP_TOLERANCE = 1e-8
#: refinement keeps an endpoint within this distance of where the path ended (relative to
#: max(1, |x|)): Newton from a good endpoint moves it far less, while from a point of a
#: positive-dimensional component it drifts along the component (up to 1e3 times the
#: endpoint's size on PHCpack's butcher) and from a wrong endpoint (the centroid of a
#: cluster of roots) it lands on whichever root is nearest
MAX_REFINE_MOVE = 1e-3


def newton_refine(system: System, points: np.ndarray, iterations: int = 6, max_move: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Newton's method on the target from each row of ``points``.

    Keeps, per point, the iterate of smallest relative residual (Newton converges only
    linearly at singular roots and must never make an estimate worse) among those within
    ``max_move * max(1, |x|)`` (max norm) of the point, when ``max_move`` is given.

    Returns
    -------
    points : complex ndarray (P, n)
    residuals : float ndarray (P,) -- max relative residual per point
    """
    x = np.array(points, dtype=np.complex128, copy=True)
    if x.shape[0] == 0:
        return x, np.zeros(0)
    best = x.copy()
    best_res = system.relative_residuals(x).max(axis=1)
    reach = np.inf if max_move is None else max_move * np.maximum(1.0, np.abs(x).max(axis=1))
    for _ in range(iterations):
        f = system(x)
        jac = system.jacobian(x)
        with np.errstate(all="ignore"):
            try:
                dx = np.linalg.solve(jac, f[..., None])[..., 0]
            except np.linalg.LinAlgError:
                dx = np.stack([_least_squares(j, v) for j, v in zip(jac, f)])
        dx[~np.isfinite(dx).all(axis=1)] = 0
        x = x - dx
        res = system.relative_residuals(x).max(axis=1)
        with np.errstate(invalid="ignore"):
            better = (res < best_res) & (np.abs(x - points).max(axis=1) <= reach)
        best[better] = x[better]
        best_res[better] = res[better]
        if (best_res < 1e-15).all():
            break
    return best, best_res


def _least_squares(jac: np.ndarray, f: np.ndarray) -> np.ndarray:
    """The least-squares Newton update; zero where the Jacobian or the values are not
    finite (a power that overflowed: LAPACK's SVD does not converge on them)."""
    if not (np.isfinite(jac).all() and np.isfinite(f).all()):
        return np.zeros_like(f)
    return np.linalg.lstsq(jac, f, rcond=None)[0]


def condition_numbers(system: System, points: np.ndarray) -> np.ndarray:
    """2-norm condition number of the Jacobian at each point (inf when singular or not
    finite)."""
    if len(points) == 0:
        return np.zeros(0)
    out = np.full(len(points), np.inf)
    with np.errstate(all="ignore"):
        jac = system.jacobian(points)
        ok = np.isfinite(jac).all(axis=(1, 2))
        if ok.any():
            s = np.linalg.svd(jac[ok], compute_uv=False)
            out[ok] = np.where(s[:, -1] > 0, s[:, 0] / s[:, -1], np.inf)
    return out


def componentwise_errors(system: System, points: np.ndarray) -> np.ndarray:
    """First-order bound on the error that rounding in double leaves in each coordinate of
    a root: ``eps * |J^-1 s|``, ``s_i`` the sum of the moduli of equation i's terms (the
    componentwise condition of the root under relative perturbations of the coefficients:
    Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., section 25.1).
    Returns (P, n); rows of inf where J is singular or not finite."""
    pts = np.atleast_2d(np.asarray(points, dtype=np.complex128))
    out = np.full(pts.shape, np.inf)
    if pts.shape[0] == 0:
        return out
    from solver.engine.evaluation import residual_scales_many

    c, e, o = system.packed
    scales = residual_scales_many(c, e, o, pts)
    with np.errstate(all="ignore"):
        jac = system.jacobian(pts)
        ok = np.flatnonzero(np.isfinite(jac).all(axis=(1, 2)))
        rhs = scales[ok].astype(np.complex128)[..., None]
        try:
            d = np.abs(np.linalg.solve(jac[ok], rhs)[..., 0])
        except np.linalg.LinAlgError:  # some J is singular: one at a time
            d = np.array([_solve_or_inf(j, b[:, 0]) for j, b in zip(jac[ok], rhs)]).reshape(len(ok), pts.shape[1])
        out[ok] = np.finfo(float).eps * d
    out[~np.isfinite(out).all(axis=1)] = np.inf
    return out


def error_bounds(system: System, points: np.ndarray) -> np.ndarray:
    """First-order bound on the relative forward error that rounding in double leaves in a
    root: ``eps * ||J^-1 s||_inf / max(1, ||x||_inf)`` (:func:`componentwise_errors`, its
    largest, relative to the root's size). Unlike the Jacobian's condition number it sees a
    badly conditioned root of a single equation; inf where J is singular."""
    pts = np.atleast_2d(np.asarray(points, dtype=np.complex128))
    if pts.shape[0] == 0:
        return np.full(0, np.inf)
    return componentwise_errors(system, pts).max(axis=1) / np.maximum(1.0, np.abs(pts).max(axis=1))


def _solve_or_inf(jac: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    try:
        return np.abs(np.linalg.solve(jac, rhs))
    except np.linalg.LinAlgError:
        return np.full(rhs.shape, np.inf)


class _MaxNormNeighbours:
    """Rows of ``real`` within ``radius`` of a row in the max norm, by sort and sweep on
    the coordinate of widest spread: the one query :func:`cluster` needs, without
    ``scipy.spatial`` (a third of a cold ``lps solve``'s imports)."""

    def __init__(self, real: np.ndarray, radius: float) -> None:
        self.real = real
        self.radius = radius
        self.axis = int(np.argmax(real.max(axis=0) - real.min(axis=0)))
        self.order = np.argsort(real[:, self.axis], kind="stable")
        self.keys = real[self.order, self.axis]

    def __call__(self, row: int) -> np.ndarray:
        centre = self.real[row]
        lo = np.searchsorted(self.keys, centre[self.axis] - self.radius, side="left")
        hi = np.searchsorted(self.keys, centre[self.axis] + self.radius, side="right")
        window = self.order[lo:hi]
        near = np.abs(self.real[window] - centre).max(axis=1) <= self.radius
        return np.sort(window[near])


def cluster(points: np.ndarray, tolerance: float = CLUSTER_TOLERANCE, errors: np.ndarray | None = None) -> np.ndarray:
    """Label rows of ``points`` so that rows within ``tolerance * (1 + |x|)`` (max-norm)
    share a label; labels are 0..k-1 in order of first appearance.

    With ``errors`` (P, n; :func:`componentwise_errors`, inf where unknown), two rows are
    also kept apart where some coordinate differs by more than ``tolerance`` relative to
    itself plus :data:`SEPARATION` times their errors: regular roots that the max norm
    cannot tell apart beside a large coordinate (PHCpack's cassou: pairs +-b with
    ``|b|`` = 2e-3 beside ``|c|`` = 9.4e3)."""
    P = points.shape[0]
    labels = -np.ones(P, dtype=np.int64)
    if P == 0:
        return labels
    real = np.hstack([points.real, points.imag])
    scale = 1.0 + np.abs(points).max(axis=1)
    radius = tolerance * scale.max()
    neighbours = _MaxNormNeighbours(real, radius)
    k = 0

    def same(a: int, b: int) -> bool:
        diff = np.abs(points[a] - points[b])
        if diff.max() > tolerance * max(scale[a], scale[b]):
            return False
        if errors is None:
            return True
        size = np.maximum(np.abs(points[a]), np.abs(points[b]))
        with np.errstate(invalid="ignore"):
            return bool((diff <= tolerance * size + SEPARATION * (errors[a] + errors[b])).all())

    for i in range(P):
        if labels[i] >= 0:
            continue
        stack = [i]
        labels[i] = k
        while stack:
            j = stack.pop()
            for nb in neighbours(j):
                if labels[nb] < 0 and same(nb, j):
                    labels[nb] = k
                    stack.append(nb)
        k += 1
    return labels


def collect_solutions(
    system: System, endpoints: np.ndarray, statuses: np.ndarray
) -> tuple[list[Solution], np.ndarray]:
    """Refine finite endpoints on the target, merge duplicates, classify.

    Parameters
    ----------
    system : System
        The target system.
    endpoints : complex ndarray (P, n)
        Affine endpoints of all paths (rows of non-finite paths are ignored).
    statuses : int ndarray (P,)
        :class:`PathStatus` codes from the tracker.

    Returns
    -------
    solutions : list of Solution, sorted by status, then by norm
    statuses : the path statuses, with finite endpoints that are not solutions of the
        target marked ``FAILED``
    """
    statuses = np.array(statuses, dtype=np.int64, copy=True)
    finite = np.flatnonzero((statuses == PathStatus.REGULAR) | (statuses == PathStatus.SINGULAR))
    pts = np.asarray(endpoints, dtype=np.complex128)[finite]
    ok_rows = np.isfinite(pts).all(axis=1)
    statuses[finite[~ok_rows]] = PathStatus.FAILED
    finite, pts = finite[ok_rows], pts[ok_rows]
    refined, residuals = newton_refine(system, pts, max_move=MAX_REFINE_MOVE)
    _rescue(system, refined, residuals, residuals > RESIDUAL_TOLERANCE, pts)
    good = residuals <= RESIDUAL_TOLERANCE
    statuses[finite[~good]] = PathStatus.FAILED
    finite, refined, residuals, pts = finite[good], refined[good], residuals[good], pts[good]

    labels = _clusters(system, refined)
    solutions: list[Solution] = []
    reps = []
    for k in range(labels.max() + 1 if labels.size else 0):
        members = np.flatnonzero(labels == k)
        best = members[np.argmin(residuals[members])]
        reps.append((members, best))
    conds = condition_numbers(system, np.array([refined[b] for _, b in reps]).reshape(len(reps), system.n_variables))
    # isolated solutions that double precision cannot pin down (Wilkinson's roots)
    bests = np.array([b for members, b in reps if len(members) == 1], dtype=np.int64)
    ill = np.zeros(refined.shape[0], dtype=bool)
    ill[bests[error_bounds(system, refined[bests]) > DD_ERROR_BOUND]] = True
    astray = _rescue_ill_conditioned(system, refined, residuals, ill, pts) > NEWTON_STEP_TOLERANCE
    for (members, best), cond in zip(reps, conds):
        if astray[best] and cond <= SINGULAR_CONDITION:
            statuses[finite[members]] = PathStatus.FAILED
            continue
        x = refined[best]
        singular = (
            len(members) > 1
            or cond > SINGULAR_CONDITION
            or (statuses[finite[members]] == PathStatus.SINGULAR).any()
        )
        status = PathStatus.SINGULAR if singular else PathStatus.REGULAR
        statuses[finite[members]] = status
        real = bool(np.abs(x.imag).max(initial=0.0) <= REAL_TOLERANCE * max(1.0, np.abs(x).max(initial=0.0)))
        if real:
            x = x.real.astype(np.complex128)
        solutions.append(Solution(x, status, len(members), float(residuals[best]), float(cond), real))
    solutions.sort(key=lambda s: (int(s.status), float(np.linalg.norm(s.values))))
    return solutions, statuses


def _newton_steps(system: System, points: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``|J^-1 f(x)|_inf / max(1, |x|_inf)`` at the given rows of ``points``, ``f`` in
    double-double (0 elsewhere, and where J is singular): how far Newton would still move
    the point. Near an ill-conditioned polynomial the relative residual is small far from
    any root (Wilkinson's of degree 20 at 7.8 + 1.6i: 1e-12), the Newton step is not."""
    out = np.zeros(points.shape[0])
    if rows.size == 0:
        return out
    from solver.engine.double_double import _to_dd, dd_residuals

    values, _ = dd_residuals(system, _to_dd(points[rows]))
    jac = system.jacobian(points[rows])
    for k, (j, v) in enumerate(zip(jac, values)):
        with np.errstate(all="ignore"):
            try:
                step = np.abs(np.linalg.solve(j, v)).max()
            except np.linalg.LinAlgError:
                continue
        out[rows[k]] = step / max(1.0, float(np.abs(points[rows[k]]).max())) if np.isfinite(step) else 0.0
    return out


def _clusters(system: System, refined: np.ndarray) -> np.ndarray:
    """Cluster labels of the refined endpoints: by the max norm, then the clusters of
    several endpoints once more with the coordinates' error bounds (:func:`cluster`)."""
    labels = cluster(refined)
    multi = np.flatnonzero(np.bincount(labels)[labels] > 1) if labels.size else labels
    if multi.size == 0:
        return labels
    errors = np.full(refined.shape, np.inf)
    errors[multi] = componentwise_errors(system, refined[multi])
    return cluster(refined, errors=errors)


def _rescue_ill_conditioned(
    system: System, refined: np.ndarray, residuals: np.ndarray, ill: np.ndarray, endpoints: np.ndarray
) -> np.ndarray:
    """Isolated solutions that double precision cannot pin down, refined by Newton with
    double-double residuals from the tracker's endpoint and from the point refined in
    double, keeping per row the candidate whose next such Newton step is the shortest.

    Near these roots a residual is no measure (Newton in double moves Wilkinson's root 13,
    which the double-double tracker reached exactly, to 13.00000004, for a relative
    residual of 3e-19, below the exact root's own rounding floor); the Newton step with
    double-double residuals, an estimate of the forward error, is. In place: the rows of
    ``refined`` and their ``residuals`` (then evaluated in double-double). Returns that
    step for every row (0 outside ``ill``; :func:`_newton_steps`)."""
    steps_out = np.zeros(refined.shape[0])
    rows = np.flatnonzero(ill)
    if rows.size == 0:
        return steps_out
    from solver.engine.double_double import _to_dd, dd_newton_refine, dd_residuals

    here = refined[rows]
    reach = MAX_REFINE_MOVE * np.maximum(1.0, np.abs(here).max(axis=1))
    candidates = [here]
    for start in (endpoints[rows], here):
        x, _ = dd_newton_refine(system, start)
        far = ~(np.abs(x - here).max(axis=1) <= reach)
        x[far] = here[far]
        candidates.append(x)
    every = np.arange(rows.size)
    steps = np.stack([_newton_steps(system, c, every) for c in candidates])
    pick = np.argmin(steps, axis=0)  # ties keep the earlier candidate
    refined[rows] = np.stack(candidates)[pick, every]
    residuals[rows] = dd_residuals(system, _to_dd(refined[rows]))[1]
    steps_out[rows] = steps[pick, every]
    return steps_out


def _rescue(system: System, points: np.ndarray, residuals: np.ndarray, which: np.ndarray, origins: np.ndarray) -> None:
    """Newton again, with residuals in double-double, from the rows ``which`` of
    ``points`` (in place, where it lowers the residual without moving the point more than
    :data:`MAX_REFINE_MOVE` from its row of ``origins``): endpoints that double precision
    leaves short of a solution. Loaded only when some row needs it."""
    rows = np.flatnonzero(which)
    if rows.size == 0:
        return
    from solver.engine.double_double import dd_newton_refine

    x, res = dd_newton_refine(system, points[rows])
    start = origins[rows]
    near = np.abs(x - start).max(axis=1) <= MAX_REFINE_MOVE * np.maximum(1.0, np.abs(start).max(axis=1))
    better = (res < residuals[rows]) & near
    points[rows[better]], residuals[rows[better]] = x[better], res[better]


def path_counts(statuses: np.ndarray, solutions: list[Solution]) -> dict:
    """The ``counts`` block of a result."""
    st = np.asarray(statuses)
    return {
        "regular": int((st == PathStatus.REGULAR).sum()),
        "singular": int((st == PathStatus.SINGULAR).sum()),
        "at_infinity": int((st == PathStatus.AT_INFINITY).sum()),
        "failed": int((st == PathStatus.FAILED).sum()),
        "real": sum(1 for s in solutions if s.real),
    }

"""Certification: interval proofs that each reported solution is a true, unique zero.

For an approximate zero ``x~`` of a square system ``F``, ``Y ~ J(x~)^-1`` and the complex box
``B = x~ + r ([-1, 1] + i [-1, 1])^n``, the Krawczyk operator

    K(x~, B) = x~ - Y F(x~) + (I - Y J(B)) (B - x~)

is evaluated in rigorous interval arithmetic (python-flint's ``acb`` balls, which are
rectangles in C). If ``K`` lies in the interior of ``B``, ``B`` holds exactly one zero of
``F``, and that zero lies in ``K`` (Krawczyk 1969; Moore, Kearfott, Cloud, *Introduction to
Interval Analysis*, SIAM 2009). For a system with real coefficients and a box centred on a
real point (so ``B`` is closed under conjugation), the zero is real: its conjugate is a zero
in ``B`` too, and the zero in ``B`` is unique. Zeros whose enclosures ``K`` are disjoint are
distinct. This follows Breiding, Rose, Timme, "Certifying zeros of polynomial systems using
interval arithmetic", ACM TOMS 49 (2023), doi:10.1145/3580277 (arXiv 2011.05000), and
HomotopyContinuation.jl's ``certify``.

The test runs first in double precision, in Numba over all points at once, with rigorous
midpoint-radius complex arithmetic (:mod:`solver.engine.interval_kernels`, after Rump 1999);
the points it leaves uncertified go through python-flint's ``acb`` balls, refined at 106 bits
when needed, which also serve as the oracle of the first pass (:func:`certify_arb`).

A certificate is about the reported point: the box is centred on it, on its real part, or
(when double precision cannot prove it) on its Newton refinement at 106 bits, and both the
distance from the point to the centre and the radius may not exceed ``max_radius`` times the
point's size, so a poor approximation is not certified even when Newton's method would
converge from it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

import numpy as np
from flint import acb, acb_mat, arb, ctx

from solver.engine.system import System

if TYPE_CHECKING:  # pragma: no cover
    from solver.engine.result import SolveResult

__all__ = ["Certificate", "CertificationResult", "certify", "certify_double", "certify_arb", "certify_result", "certify_critical", "certificate_fields", "PRECISION", "MAX_RADIUS"]

#: bits of the ball midpoints when the centre is refined (the first test runs at 53)
PRECISION = 106
#: largest box radius, relative to max(1, |x~|_inf): a looser box does not certify the point
MAX_RADIUS = 1e-8
#: radii tried, as multiples of the Newton step |Y F(x~)|_inf
RADIUS_FACTORS = (4.0, 64.0, 1024.0)


@dataclass(frozen=True)
class Certificate:
    """The outcome of the Krawczyk test around one point.

    Attributes
    ----------
    certified : bool
        A box of radius ``radius`` around the point holds exactly one zero.
    certified_real : bool
        That zero is real (a real system, a box symmetric under conjugation).
    radius : float
        Box radius (NaN when not certified).
    center : complex ndarray (n,)
        Box centre (rounded to double): the point, its real part for a real certificate, or
        its refinement; within ``max_radius`` (relative) of the point.
    lower, upper : float ndarray (2n,)
        The enclosure ``K`` of the zero, real parts then imaginary parts, rounded outwards
        (NaN when not certified).
    """

    certified: bool
    certified_real: bool
    radius: float
    center: np.ndarray = field(repr=False)
    lower: np.ndarray = field(repr=False)
    upper: np.ndarray = field(repr=False)


@dataclass
class CertificationResult:
    """Certificates for a list of points and what they prove together.

    ``distinct[k]`` is True when point ``k`` is certified and its enclosure meets no other
    certified enclosure. ``n_distinct`` counts the groups of overlapping certified enclosures:
    each holds at least one zero and zeros of different groups differ, so it is a proven lower
    bound on the number of distinct zeros (two certified points whose boxes overlap count once).
    """

    certificates: list[Certificate]
    distinct: np.ndarray
    n_distinct: int
    seconds: float

    def counts(self) -> dict:
        return {
            "certified": sum(c.certified for c in self.certificates),
            "certified_real": sum(c.certified_real for c in self.certificates),
            "certified_distinct": int(self.n_distinct),
        }


def certify(system: System, points: np.ndarray | Sequence, max_radius: float = MAX_RADIUS) -> CertificationResult:
    """Run the Krawczyk test around each point and prove distinctness of the certified ones.

    The test runs first in double-precision midpoint-radius arithmetic, all points at once
    (:func:`certify_double`); the points it does not certify go through the ``acb`` ball
    test with its refinement at :data:`PRECISION` bits (:func:`certify_arb`).

    Parameters
    ----------
    system : System
        Square polynomial system.
    points : complex array (k, n)
        Approximate zeros, in the order of ``system.variables``.
    max_radius : float
        Largest box radius, relative to ``max(1, |x|_inf)``.

    Returns
    -------
    CertificationResult
    """
    system.require_square()
    pts = np.asarray(points, dtype=np.complex128).reshape(-1, system.n_variables)
    t0 = time.perf_counter()
    inverses = _approximate_inverses(system, pts)
    certs = _first_pass(system, pts, inverses, max_radius)
    rest = [k for k, c in enumerate(certs) if not c.certified]
    balls = IntervalSystem(system) if rest else None
    for k in rest:
        certs[k] = _certify_point(balls, pts[k], inverses[k], max_radius)
    distinct, groups = prove_distinct(certs)
    # the double enclosures are wider than the balls': where they overlap, the balls decide
    tested = set(rest)
    overlap = [k for k, c in enumerate(certs) if c.certified and not distinct[k] and k not in tested]
    if overlap:
        balls = balls or IntervalSystem(system)
        for k in overlap:
            tight = _certify_point(balls, pts[k], inverses[k], max_radius)
            certs[k] = tight if tight.certified else certs[k]
        distinct, groups = prove_distinct(certs)
    return CertificationResult(certs, distinct, groups, time.perf_counter() - t0)


def certify_double(system: System, points: np.ndarray | Sequence, max_radius: float = MAX_RADIUS) -> list[Certificate]:
    """The first pass of :func:`certify` alone: the Krawczyk test in rigorous double-precision
    midpoint-radius arithmetic (:mod:`solver.engine.interval_kernels`), around each point or,
    for a real system and a point within the radius limit of R^n, around its real part (a
    point whose real test fails is left uncertified here: :func:`certify_arb` decides it)."""
    system.require_square()
    pts = np.asarray(points, dtype=np.complex128).reshape(-1, system.n_variables)
    return _first_pass(system, pts, _approximate_inverses(system, pts), max_radius)


def certify_arb(system: System, points: np.ndarray | Sequence, max_radius: float = MAX_RADIUS) -> list[Certificate]:
    """The ``acb`` ball test alone (python-flint), with its refinement at :data:`PRECISION`
    bits: the fallback of :func:`certify` and the oracle of its first pass."""
    system.require_square()
    pts = np.asarray(points, dtype=np.complex128).reshape(-1, system.n_variables)
    inverses = _approximate_inverses(system, pts)
    balls = IntervalSystem(system)
    return [_certify_point(balls, x, inverses[k], max_radius) for k, x in enumerate(pts)]


def _approximate_inverses(system: System, pts: np.ndarray) -> np.ndarray:
    """``J(x)^-1`` in double for each point; the identity where ``J`` is not finite or its
    condition number exceeds 1e15 (the double test then fails, the refinement decides)."""
    n = system.n_variables
    with np.errstate(all="ignore"):
        jac = system.jacobian(pts) if len(pts) else np.zeros((0, n, n), np.complex128)
        good = np.all(np.isfinite(jac), axis=(1, 2)) & (np.linalg.cond(np.where(np.isfinite(jac), jac, 0)) < 1e15)
        return np.linalg.inv(np.where(good[:, None, None], jac, np.eye(n)))


def _first_pass(system: System, pts: np.ndarray, inverses: np.ndarray, max_radius: float) -> list[Certificate]:
    """:func:`~solver.engine.interval_kernels.krawczyk_many` on the centres the ``acb`` test
    would try first: a point's real part when the system is real and the part within the
    limit (as :func:`_real_or_complex` decides), else the point."""
    from solver.engine.interval_kernels import krawczyk_many

    if not len(pts):
        return []
    with np.errstate(all="ignore"):
        limits = max_radius * np.maximum(1.0, np.abs(pts).max(axis=1))
        real = _is_real(system) & (np.abs(pts.imag).max(axis=1) * (1 + 1e-12) <= limits)
    centers = np.where(real[:, None], pts.real + 0j, pts)
    finite = np.all(np.isfinite(pts), axis=1)
    centers[~finite] = 0.0  # never tried: the acb test turns them down
    limits = np.where(finite, limits, -1.0)
    c, e, o = system.packed
    radii, lower, upper = krawczyk_many(c, e, o, np.ascontiguousarray(centers), np.ascontiguousarray(inverses),
                                        limits, np.array(RADIUS_FACTORS))
    return [Certificate(True, bool(real[k]), float(radii[k]), centers[k], lower[k], upper[k])
            if np.isfinite(radii[k]) else _uncertified(pts[k]) for k in range(len(pts))]


def _is_real(system: System) -> bool:
    return all(not np.any(p.coefficients.imag) for p in system.polynomials)


class IntervalSystem:
    """A system and its Jacobian evaluated on ``acb`` balls.

    Each polynomial and each Jacobian entry is a list of ``(coefficient, monomial index)``;
    the monomials of each (with every divisor on the way, so each costs one product) are
    evaluated once per point, in an order where a monomial follows the one it extends.
    """

    def __init__(self, system: System):
        n = system.n_variables
        self.n = n
        self.real = _is_real(system)
        f_plan, j_plan = _MonomialPlan(n), _MonomialPlan(n)
        self.terms = []
        self.derivatives = []
        for p in system.polynomials:
            row, drow = [], [[] for _ in range(n)]
            for c, a in zip(p.coefficients, p.exponents):
                row.append((acb(c.real, c.imag), f_plan.index(tuple(int(k) for k in a))))
                for j in np.flatnonzero(a):
                    lowered = tuple(int(k) - (i == j) for i, k in enumerate(a))
                    drow[j].append((acb(c.real, c.imag) * int(a[j]), j_plan.index(lowered)))
            self.terms.append(row)
            self.derivatives.append(drow)
        self.f_plan, self.j_plan = f_plan, j_plan

    def values(self, xs: list) -> list:
        m = self.f_plan.evaluate(xs)
        return [_combine(row, m) for row in self.terms]

    def jacobian(self, xs: list) -> "acb_mat":
        m = self.j_plan.evaluate(xs)
        return acb_mat([[_combine(entry, m) for entry in drow] for drow in self.derivatives])


def _combine(terms: list, monomials: list) -> "acb":
    total = acb(0)
    for c, k in terms:
        total += c * monomials[k]
    return total


class _MonomialPlan:
    """Monomials as ``(parent index, variable)`` steps from the constant 1 (index 0)."""

    def __init__(self, n: int):
        self.n = n
        self.known = {(0,) * n: 0}
        self.steps: list[tuple[int, int]] = []

    def index(self, a: tuple) -> int:
        if a in self.known:
            return self.known[a]
        j = max(i for i, k in enumerate(a) if k)  # divide by the last variable present
        parent = self.index(tuple(k - (i == j) for i, k in enumerate(a)))
        self.steps.append((parent, j))
        self.known[a] = len(self.steps)
        return self.known[a]

    def evaluate(self, xs: list) -> list:
        out = [acb(1)]
        for parent, j in self.steps:
            out.append(out[parent] * xs[j])
        return out


def _certify_point(balls: IntervalSystem, x: np.ndarray, Y: np.ndarray, max_radius: float) -> Certificate:
    """The test around the point in double precision; failing that, around the point refined
    by Newton's method at :data:`PRECISION` bits (an ill-conditioned point is only accurate to
    about its condition number times the rounding unit, too coarse a centre for the test).
    ``Y`` approximates the inverse Jacobian (any matrix gives a valid test; a good one makes
    it pass)."""
    if not np.all(np.isfinite(x)):
        return _uncertified(x)
    limit = max_radius * max(1.0, float(np.abs(x).max(initial=0.0)))
    with ctx.workprec(53):
        center = [acb(v.real, v.imag) for v in x.tolist()]
        cert = _real_or_complex(balls, center, acb_mat(Y.tolist()), x, limit)
    if cert.certified:
        return cert
    with ctx.workprec(PRECISION):
        refined = _refine(balls, center)
        if refined is None:
            return cert
        return _real_or_complex(balls, *refined, x, limit)


def _real_or_complex(balls: IntervalSystem, center: list, Y: "acb_mat", x: np.ndarray, limit: float) -> Certificate:
    """A real certificate (centre projected on R^n) when the system is real and the centre
    within ``limit`` of it, else a complex one; either only with the centre within ``limit``
    of the reported point ``x``."""
    if balls.real:
        real = [acb(c.real.mid()) for c in center]
        if _distance(real, x) <= limit:
            cert = _krawczyk(balls, real, Y, limit, real=True)
            if cert.certified:
                return cert
    if _distance(center, x) > limit:
        return _uncertified(x)
    return _krawczyk(balls, center, Y, limit, real=False)


def _distance(center: list, x: np.ndarray) -> float:
    c = np.array([complex(float(v.real.mid()), float(v.imag.mid())) for v in center])
    return float(np.abs(c - x).max(initial=0.0)) * (1 + 1e-12)


def _refine(balls: IntervalSystem, center: list, steps: int = 8) -> tuple[list, "acb_mat"] | None:
    """Newton's method from ``center`` (exact midpoints kept) until the step is below the
    working precision, and an approximate inverse of the Jacobian there (floating-point
    elimination: the midpoint of the ball inverse is no inverse at condition numbers near
    1e9, whose balls grow as large as their entries); None where the Jacobian cannot be
    inverted."""
    tiny = 2.0 ** (8 - PRECISION) * max(1.0, max(float(c.abs_upper()) for c in center))
    try:
        for _ in range(steps):
            dx = balls.jacobian(center).solve(acb_mat([[f] for f in balls.values(center)]))
            center = [(c - dx[j, 0]).mid() for j, c in enumerate(center)]
            if max(float(dx[j, 0].abs_upper()) for j in range(balls.n)) < tiny:
                break
        identity = acb_mat([[1 if i == j else 0 for j in range(balls.n)] for i in range(balls.n)])
        return center, balls.jacobian(center).solve(identity, algorithm="approx").mid()
    except (ZeroDivisionError, ValueError):
        return None


def _krawczyk(balls: IntervalSystem, center: list, Y: "acb_mat", limit: float, real: bool) -> Certificate:
    """The Krawczyk test around ``center`` (exact balls) for growing radii, multiples of the
    Newton step, at most ``limit``."""
    n = balls.n
    step = Y * acb_mat([[f] for f in balls.values(center)])
    newton = max(float(step[j, 0].abs_upper()) for j in range(n))
    x = np.array([complex(float(v.real.mid()), float(v.imag.mid())) for v in center])
    scale = max(1.0, float(np.abs(x).max(initial=0.0)))
    identity = acb_mat([[1 if i == j else 0 for j in range(n)] for i in range(n)])
    for factor in RADIUS_FACTORS:
        r = max(factor * newton, 1e-28 * scale)
        if r > limit:
            break
        delta = acb(arb(0, r), arb(0, r))
        box = [c + delta for c in center]
        M = identity - Y * balls.jacobian(box)
        # B - x~ as balls (an enclosure whatever rounding the sum above did)
        spread = M * acb_mat([[b - c] for b, c in zip(box, center)])
        K = [center[j] - step[j, 0] + spread[j, 0] for j in range(n)]
        if all(b.contains_interior(k) for b, k in zip(box, K)):
            lower, upper = _bounds(K)
            return Certificate(True, real, r, x, lower, upper)
    return _uncertified(x)


def _bounds(K: list) -> tuple[np.ndarray, np.ndarray]:
    """Outward-rounded float bounds of the balls, real parts then imaginary parts."""
    parts = [k.real for k in K] + [k.imag for k in K]
    lower = np.array([float(p.lower()) for p in parts])
    upper = np.array([float(p.upper()) for p in parts])
    return np.nextafter(lower, -np.inf), np.nextafter(upper, np.inf)


def _uncertified(x: np.ndarray) -> Certificate:
    nan = np.full(2 * x.shape[0], np.nan)
    return Certificate(False, False, float("nan"), np.asarray(x), nan, nan)


def prove_distinct(certs: Sequence[Certificate]) -> tuple[np.ndarray, int]:
    """Which certified enclosures meet no other, and the number of groups of overlapping ones.

    A sweep along the real coordinate whose midpoints spread most: enclosures sorted by their
    lower bound there, each compared in full only with those still open at its start.
    """
    idx = [k for k, c in enumerate(certs) if c.certified]
    distinct = np.zeros(len(certs), dtype=bool)
    if not idx:
        return distinct, 0
    lo = np.array([certs[k].lower for k in idx])
    hi = np.array([certs[k].upper for k in idx])
    axis = int(np.argmax(np.var(0.5 * (lo + hi), axis=0)))
    parent = list(range(len(idx)))

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    overlapping = np.zeros(len(idx), dtype=bool)
    active: list[int] = []
    for a in np.argsort(lo[:, axis], kind="stable"):
        active = [b for b in active if hi[b, axis] >= lo[a, axis]]
        if active:
            near = np.array(active)
            meet = near[np.all(lo[near] <= hi[a], axis=1) & np.all(lo[a] <= hi[near], axis=1)]
            for b in meet:
                overlapping[a] = overlapping[b] = True
                parent[root(int(a))] = root(int(b))
        active.append(a)
    distinct[idx] = ~overlapping
    return distinct, len({root(a) for a in range(len(idx))})


def certify_result(system: System, result: "SolveResult", max_radius: float = MAX_RADIUS) -> CertificationResult:
    """Certify every solution of a solve of ``system``, in place: each
    :class:`~solver.engine.result.Solution` gets ``certified``, ``certified_real`` and
    ``certified_radius``, ``result.counts`` the keys ``certified``, ``certified_real`` and
    ``certified_distinct``, and ``result.certify_seconds`` the time taken."""
    points = np.array([s.values for s in result.solutions], dtype=np.complex128).reshape(-1, system.n_variables)
    out = certify(system, points, max_radius)
    for sol, cert in zip(result.solutions, out.certificates):
        sol.certified, sol.certified_real = cert.certified, cert.certified_real
        sol.certified_radius = cert.radius if cert.certified else None
    result.counts.update(out.counts())
    result.certify_seconds = out.seconds
    return out


def certificate_fields(cert: Certificate) -> dict:
    """A certificate as the JSON reports it next to a point."""
    return {
        "certified": bool(cert.certified),
        "certified_real": bool(cert.certified_real),
        "certified_radius": float(cert.radius) if cert.certified else None,
    }


def certify_critical(system: System, result: "SolveResult", points: Sequence) -> dict:
    """Exact mode's certificates: every finite solution of the gradient system (``result``,
    certified in place by :func:`certify_result`) and each reported critical point's
    ``params`` (its ``certificate`` set to :func:`certificate_fields`). Returns the counts."""
    counts = certify_result(system, result).counts()
    params = np.array([p.params for p in points], dtype=np.complex128).reshape(len(points), system.n_variables)
    for point, cert in zip(points, certify(system, params).certificates):
        point.certificate = certificate_fields(cert)
    return counts

"""What a solve returns: path outcomes, distinct solutions and counts.

The JSON form (:meth:`SolveResult.to_json`) is the one the ``lps solve --json`` command and
the service print; the README documents it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np


class PathStatus(enum.IntEnum):
    """How one tracked path ended (the codes the Numba kernels return)."""

    REGULAR = 0  #: finite, nonsingular endpoint
    SINGULAR = 1  #: finite endpoint where the Jacobian is singular (multiple root)
    AT_INFINITY = 2  #: the path diverges; its endpoint lies on the hyperplane at infinity
    FAILED = 3  #: the tracker gave up; :class:`FailureReason` says why


class FailureReason(enum.IntEnum):
    """Why a path failed (kept per path in :attr:`SolveResult.failures`)."""

    NONE = 0
    STEP_SIZE_TOO_SMALL = 1  #: the corrector would not converge even for tiny steps
    TOO_MANY_STEPS = 2  #: the step budget of the tracker options ran out
    ENDGAME_NOT_CONVERGED = 3  #: near t = 1 the endpoint estimates did not settle
    NOT_A_SOLUTION = 4  #: the endpoint does not satisfy the target system
    BACKEND = 5  #: an external backend reported a failure


@dataclass
class Solution:
    """A distinct finite solution of the target system.

    Attributes
    ----------
    values : complex ndarray, shape (n,)
        In the order of :attr:`SolveResult.variables`.
    status : PathStatus
        ``REGULAR`` or ``SINGULAR``.
    multiplicity : int
        Number of paths that ended here.
    residual : float
        Largest relative residual ``|f_i(x)| / sum_k |c_k x^a_k|`` over the equations.
    condition : float
        Condition number of the Jacobian at ``values`` (inf when singular).
    real : bool
        Imaginary parts below the real tolerance (relative to the magnitude).
    certified, certified_real : bool or None
        Set by certification (:mod:`solver.engine.certify`; None when it did not run): a box
        of radius ``certified_radius``, centred within 1e-8 (relative) of ``values``, provably
        holds exactly one solution, and that solution is real.
    certified_radius : float or None
    """

    values: np.ndarray
    status: PathStatus
    multiplicity: int
    residual: float
    condition: float
    real: bool
    certified: bool | None = None
    certified_real: bool | None = None
    certified_radius: float | None = None

    def to_json(self) -> dict:
        out = {
            "re": [float(v) for v in self.values.real],
            "im": [float(v) for v in self.values.imag],
            "status": self.status.name.lower(),
            "multiplicity": int(self.multiplicity),
            "residual": float(self.residual),
            "condition": _finite_or_none(self.condition),
            "real": bool(self.real),
        }
        if self.certified is not None:
            out["certified"] = bool(self.certified)
            out["certified_real"] = bool(self.certified_real)
            out["certified_radius"] = self.certified_radius
        return out


def _finite_or_none(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


@dataclass
class SolveResult:
    """The outcome of :func:`solver.engine.solve.solve`.

    ``counts`` has the keys ``regular``, ``singular``, ``at_infinity``, ``failed`` (paths)
    and ``real`` (distinct real solutions); after certification also ``certified``,
    ``certified_real`` and ``certified_distinct`` (:func:`solver.engine.certify.certify_result`),
    and ``certify_seconds`` is set. ``root_counts`` holds ``total_degree``,
    ``linear_product`` and ``mixed_volume`` (None where not computed).
    """

    variables: tuple[str, ...]
    start_system: str
    backend: str
    root_counts: dict
    paths: int
    counts: dict
    solutions: list[Solution]
    seconds: float
    failures: list[tuple[int, str]] = field(default_factory=list)
    certify_seconds: float | None = None

    @property
    def real_solutions(self) -> list[Solution]:
        return [s for s in self.solutions if s.real]

    def values(self, real_only: bool = False) -> np.ndarray:
        """Solutions as a (k, n) complex array (real parts only when ``real_only``)."""
        sols = self.real_solutions if real_only else self.solutions
        arr = np.array([s.values for s in sols], dtype=np.complex128).reshape(len(sols), len(self.variables))
        return arr.real.copy() if real_only else arr

    def to_json(self) -> dict:
        return {
            "variables": list(self.variables),
            "start_system": self.start_system,
            "backend": self.backend,
            "root_counts": dict(self.root_counts),
            "paths": int(self.paths),
            "counts": {k: int(v) for k, v in self.counts.items()},
            "solutions": [s.to_json() for s in self.solutions],
            "failures": [{"path": int(i), "reason": r} for i, r in self.failures],
            "seconds": float(self.seconds),
            **({} if self.certify_seconds is None else {"certify_seconds": float(self.certify_seconds)}),
        }

    def summary(self) -> str:
        c = self.counts
        return (
            f"{self.paths} paths ({self.start_system} start, {self.backend}): "
            f"{len(self.solutions)} distinct finite solutions, {c['real']} real; paths: "
            f"{c['regular']} regular, {c['singular']} singular, {c['at_infinity']} at infinity, "
            f"{c['failed']} failed; {self.seconds:.3g} s"
            + (
                f"; certified {c['certified']} ({c['certified_real']} real, {c['certified_distinct']} proven distinct)"
                if "certified" in c
                else ""
            )
        )

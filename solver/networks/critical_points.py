"""Exact mode: every critical point of a surrogate network's regularised loss.

Build the gradient system from the spec (:mod:`solver.networks.gradient_system`), check the budget
with its network set structure (:mod:`solver.networks.structure`) *before any work*, track
the linear-product start system with the engine, keep the finite critical points, and
classify the real ones by their Hessian: loss, gradient norm, eigenvalues, Morse index,
kind. Real points are reported once per hidden-neuron permutation orbit
(:mod:`solver.networks.symmetry`) with the orbit size; complex ones are only counted. Minima sorted
by loss become the weight candidates, filled with the lowest-index saddles if there are
too few (and the result says so).

Reference: Chen, Hao and He, "A weight initialization based on the linear product
structure for neural networks", Applied Mathematics and Computation 415, 2022 (arXiv
2109.00125; DESIGN.md): all critical points of the surrogate loss by homotopy continuation
from the linear-product start system (Verschelde and Cools, "Symbolic homotopy
construction", 1993).
"""

from __future__ import annotations

from solver.errors import LpsError

import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from solver.networks.gradient_system import NetworkLoss, network_loss
from solver.engine.start_systems.set_structure import SetStructure
from solver.networks.structure import best_network_structure, root_counts, verify_coverage
from solver.networks.spec import DEAD_NEURON_REASON, NetworkSpec
from solver.networks.symmetry import group_orbits

#: exact mode does not even try to count the start system of larger networks
EXACT_MAX_PARAMETERS = 40
#: an eigenvalue below this (relative to the largest modulus) makes a point degenerate
DEGENERATE_TOLERANCE = 1e-8

KINDS = ("minimum", "saddle", "maximum", "degenerate")


class ExactModeError(LpsError, ValueError):
    """The spec cannot be solved in exact mode (bad for it, or over budget)."""


class BudgetExceeded(ExactModeError):
    """The start system has more paths than ``max_paths``; raised before any tracking.

    Attributes
    ----------
    counts : dict
        ``total_degree``, ``linear_product`` (the count or a lower bound),
        ``linear_product_status`` (``exact``, ``above`` or ``unknown``) and ``max_paths``.
    """

    def __init__(self, message: str, counts: dict):
        super().__init__(message)
        self.counts = counts


@dataclass
class CriticalPoint:
    """A real critical point (one per permutation orbit).

    Attributes
    ----------
    params : float ndarray (n,)
        Canonical representative of the orbit, state_dict order.
    loss, grad_norm : float
    hessian_eigenvalues : float ndarray (n,), ascending
    index : int
        Number of negative eigenvalues (Morse index).
    kind : str
        ``minimum``, ``saddle``, ``maximum`` or ``degenerate`` (a near-zero eigenvalue).
    orbit_size : int
        Distinct points in its orbit under hidden-neuron permutations.
    found : int
        How many members of the orbit the solve found (``== orbit_size`` when complete).
    singular : bool
        The engine found the gradient system's Jacobian (the Hessian) singular there.
    certificate : dict
        ``certified``, ``certified_real``, ``certified_radius`` (:mod:`solver.engine.certify`).
    """

    params: np.ndarray
    loss: float
    grad_norm: float
    hessian_eigenvalues: np.ndarray
    index: int
    kind: str
    orbit_size: int
    found: int
    singular: bool = False
    certificate: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "params": [float(v) for v in self.params],
            "loss": float(self.loss),
            "grad_norm": float(self.grad_norm),
            "hessian_eigenvalues": [float(v) for v in self.hessian_eigenvalues],
            "index": int(self.index),
            "kind": self.kind,
            "orbit_size": int(self.orbit_size),
            "found": int(self.found),
            "singular": bool(self.singular),
            **self.certificate,
        }


@dataclass
class CriticalPointsResult:
    """All critical points of a spec's surrogate loss and the weight candidates."""

    spec: NetworkSpec
    variables: tuple[str, ...]
    loss: NetworkLoss
    root_counts: dict
    solve_summary: dict
    points: list[CriticalPoint]
    n_real: int
    n_complex: int
    candidates: list[CriticalPoint]
    candidates_note: str
    seconds: float
    set_structure: list = field(default_factory=list, repr=False)
    #: every real critical point found (all orbit members), polished, (n_real, n)
    real_points: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    #: certified, certified_real, certified_distinct over the finite solutions (certify.py)
    certification: dict = field(default_factory=dict, repr=False)

    def counts(self) -> dict:
        kinds = {k: sum(1 for p in self.points if p.kind == k) for k in KINDS}
        return {
            "finite": self.n_real + self.n_complex,
            "real": self.n_real,
            "real_orbits": len(self.points),
            "complex": self.n_complex,
            **{f"{k}_orbits": v for k, v in kinds.items()},
            **self.certification,
        }

    def to_json(self) -> dict:
        return {
            "network": self.spec.describe(),
            "spec_hash": self.spec.canonical_hash(),
            "mode": "exact",
            "variables": list(self.variables),
            "surrogates": [s.to_json() for s in self.loss.surrogates],
            "weight_decay": self.spec.weight_decay,
            "root_counts": dict(self.root_counts),
            "solve": dict(self.solve_summary),
            "counts": self.counts(),
            "critical_points": [p.to_json() for p in self.points],
            "candidates": [p.to_json() for p in self.candidates],
            "candidates_note": self.candidates_note,
            "seconds": float(self.seconds),
        }


def check_exact_spec(spec: NetworkSpec) -> None:
    """Raise :class:`ExactModeError` for a spec exact mode cannot take (whatever its
    ``mode`` field says: ``lps critical`` always runs exact mode)."""
    if spec.weight_decay <= 0:
        raise ExactModeError(DEAD_NEURON_REASON)
    if spec.data.y is None:
        raise ExactModeError("data.y is required in exact mode: the loss fits f(x) to y")


def check_budget(spec: NetworkSpec, max_paths: Optional[int] = None) -> tuple[SetStructure, int]:
    """Count the network start system (bounded work) and raise :class:`BudgetExceeded`
    when it exceeds ``max_paths`` (default: the spec's). Returns ``(structure, count)``."""
    max_paths = spec.max_paths if max_paths is None else int(max_paths)
    n = spec.n_parameters
    suggestion = "use mode 'start' or 'layerwise' (they scale to large networks) or a smaller network"
    if n > EXACT_MAX_PARAMETERS:
        raise BudgetExceeded(
            f"exact mode takes networks with at most {EXACT_MAX_PARAMETERS} parameters; {spec.describe()} has {n}: "
            f"its start system would have far more than max_paths={max_paths} paths; {suggestion}",
            {"parameters": n, "max_paths": max_paths},
        )
    structure, count, status = best_network_structure(spec, cap=max_paths)
    total_degree = 1
    for eq in structure.sets:  # the covers have the equations' degrees
        total_degree *= len(eq)
    counts = {"total_degree": total_degree, "linear_product": count, "linear_product_status": status, "max_paths": max_paths}
    if status == "above":
        raise BudgetExceeded(
            f"exact mode would track at least {count} paths (linear-product start system of {spec.describe()}, "
            f"{n} parameters, surrogate degree {spec.surrogate.degree}; total degree {total_degree}), more than "
            f"max_paths={max_paths}; {suggestion}, or raise max_paths",
            counts,
        )
    if status == "unknown":
        raise BudgetExceeded(
            f"the linear-product start system of {spec.describe()} ({n} parameters, total degree {total_degree}) is too "
            f"large to count quickly, so exact mode will not run within max_paths={max_paths}; {suggestion}",
            counts,
        )
    return structure, count


def _polish(loss: NetworkLoss, theta: np.ndarray, iterations: int = 3) -> np.ndarray:
    """Real Newton steps on the gradient, kept only while they shrink it."""
    best, best_norm = theta, np.linalg.norm(loss.gradient(theta))
    x = theta
    for _ in range(iterations):
        g = loss.gradient(x)
        try:
            x = x - np.linalg.solve(loss.hessian(x), g)
        except np.linalg.LinAlgError:
            break
        norm = np.linalg.norm(loss.gradient(x))
        if not norm < best_norm:
            break
        best, best_norm = x, norm
    return best


def classify(eigenvalues: np.ndarray) -> tuple[int, str]:
    """(Morse index, kind) from the Hessian's eigenvalues."""
    ev = np.asarray(eigenvalues)
    tol = DEGENERATE_TOLERANCE * max(1.0, float(np.abs(ev).max(initial=0.0)))
    index = int((ev < -tol).sum())
    if (np.abs(ev) <= tol).any():
        return index, "degenerate"
    if index == 0:
        return 0, "minimum"
    if index == len(ev):
        return index, "maximum"
    return index, "saddle"


def choose_candidates(points: list[CriticalPoint], k: int) -> tuple[list[CriticalPoint], str]:
    """Minima by loss, then the lowest-index saddles (by index, then loss) if too few."""
    minima = sorted((p for p in points if p.kind == "minimum"), key=lambda p: p.loss)
    chosen = minima[:k]
    if len(chosen) == k:
        return chosen, f"{k} lowest-loss minima (of {len(minima)})"
    saddles = sorted((p for p in points if p.kind == "saddle"), key=lambda p: (p.index, p.loss))
    fill = saddles[: k - len(chosen)]
    note = f"only {len(minima)} minim{'um' if len(minima) == 1 else 'a'}"
    if fill:
        note += f"; filled with {len(fill)} lowest-index saddle{'s' if len(fill) != 1 else ''}"
    if len(chosen) + len(fill) < k:
        note += f"; {len(chosen) + len(fill)} candidates in all, fewer than the {k} asked for"
    return chosen + fill, note


#: how exact mode finds the critical points (closed-form: identity networks, Ziyin et al. 2022,
#: :mod:`solver.networks.linear_closed_form`)
METHODS = ("auto", "family", "linear-product", "closed-form", "convex")
#: the methods that track no path
NO_PATH_METHODS = ("closed-form", "convex")


def preferred_method(spec: NetworkSpec, backend: str = "numba") -> str:
    """The method exact mode runs for ``spec`` (:func:`run_exact`, ``lps critical``): the
    closed form of identity networks or the convex program of two-layer threshold networks
    where they apply (any size, no homotopy), else ``auto``. The phcpy backend always
    tracks identity networks (a cross-check from the command line)."""
    from solver.networks.linear_closed_form import closed_form_reason
    from solver.networks.threshold_convex import convex_reason

    if convex_reason(spec) is None:
        return "convex"
    return "closed-form" if backend == "numba" and closed_form_reason(spec) is None else "auto"


def find_critical_points(
    spec: NetworkSpec,
    backend: str = "numba",
    progress: Optional[Callable[[int, int], None]] = None,
    options=None,
    mixed_volume: bool = True,
    method: str = "auto",
    family_directory=None,
) -> CriticalPointsResult:
    """Every finite critical point of the spec's surrogate loss (exact mode).

    Parameters
    ----------
    spec : NetworkSpec
    backend : {"numba", "phcpy"}
        The engine's tracker or phcpy's (phcpy: from the network's linear-product start).
    progress : callable(done, total), optional
        Paths tracked so far.
    options : TrackerOptions or preset name, optional
    mixed_volume : bool
        Also report phcpy's mixed volume among the root counts (linear-product method).
    method : {"auto", "family", "linear-product", "closed-form", "convex"}
        ``closed-form``: identity networks by :mod:`solver.networks.linear_closed_form`;
        ``convex``: two-layer threshold networks by :mod:`solver.networks.threshold_convex`
        (its own result type, with ``candidates``, ``to_json`` and ``summary_lines``);
        ``family``: a parameter homotopy from the architecture's stored generic solutions
        (:mod:`solver.networks.family_solve`), computing and storing them first when they
        are missing; ``linear-product``: the network's linear-product start system;
        ``auto``: the family with the numba backend, else the linear-product start.
    family_directory : path, optional
        The family store's folder.

    Raises
    ------
    ExactModeError, BudgetExceeded
        Before any tracking.
    """
    if method not in METHODS:
        raise ExactModeError(f"unknown exact-mode method {method!r}; choose from {', '.join(METHODS)}")
    t0 = time.perf_counter()
    check_exact_spec(spec)
    if method == "closed-form":
        from solver.networks.linear_closed_form import linear_critical_points

        return linear_critical_points(spec)
    if method == "convex":
        from solver.networks.threshold_convex import threshold_program

        return threshold_program(spec)
    loss = network_loss(spec)
    if method == "family" or (method == "auto" and backend == "numba"):
        counts, summary, result, structure = _by_family(spec, loss, progress, options, family_directory)
    else:
        counts, summary, result, structure = _by_linear_product(spec, loss, backend, progress, options, mixed_volume)
    real_sols = [s for s in result.solutions if s.real]
    thetas, points = _real_orbits(spec, loss, real_sols)
    candidates, note = choose_candidates(points, spec.candidates)
    from solver.engine.certify import certify_critical

    certification = certify_critical(loss.system, result, points)  # a fifth of 1-2-1's solve
    return CriticalPointsResult(
        spec=spec,
        variables=loss.variables,
        loss=loss,
        root_counts=counts,
        solve_summary=summary,
        points=points,
        n_real=len(real_sols),
        n_complex=len(result.solutions) - len(real_sols),
        candidates=candidates,
        candidates_note=note,
        seconds=time.perf_counter() - t0,
        set_structure=structure,
        real_points=thetas,
        certification=certification,
    )


def _by_linear_product(spec: NetworkSpec, loss: NetworkLoss, backend: str, progress, options, mixed_volume: bool):
    """Track the network's linear-product start system (budget checked first)."""
    from solver.engine.solve import solve

    structure, count = check_budget(spec)
    system = loss.system
    verify_coverage(structure, system)
    counts = root_counts(spec, system, structure, mixed_volume=mixed_volume)
    result = solve(system, start="linear-product", backend=backend, seed=spec.seed, max_paths=spec.max_paths,
                   set_structure=structure, options=options, progress=progress)
    return counts, {"method": "linear-product", **_solve_summary(result)}, result, structure.to_lists()


def stored_generic(spec: NetworkSpec, family_directory=None):
    """The stored generic solutions of the spec's family (``family_directory`` first, then the
    default store and the package's shipped families), or None."""
    from solver.networks.family import family_key
    from solver.networks.family_store import SHIPPED_DIRECTORY, default_directory, load_generic

    first = default_directory() if family_directory is None else family_directory
    return load_generic(family_key(spec), [first, SHIPPED_DIRECTORY])


def exact_budget(spec: NetworkSpec, max_paths: Optional[int] = None, family_directory=None,
                 stored=False, closed_form: bool = True) -> tuple[str, int, dict]:
    """Exact mode's work for ``spec`` before any tracking: ``(method, paths, counts)``.

    With the architecture's family stored, the paths are the family's generic count (one
    path per generic solution at most); otherwise the network's linear-product count (the
    one-time generic solve tracks that start system). Raises :class:`BudgetExceeded`
    above ``max_paths`` (default: the spec's), naming the counts. ``stored`` passes the
    result of :func:`stored_generic` when the caller has it already. A spec the closed form
    covers, or the threshold program (:func:`preferred_method`), costs no path, unless
    ``closed_form`` is False.
    """
    from solver.networks.family import family_key

    if closed_form and preferred_method(spec) in NO_PATH_METHODS:
        return preferred_method(spec), 0, {"method": "closed-form", "paths": 0, "max_paths": spec.max_paths if max_paths is None else int(max_paths)}

    max_paths = spec.max_paths if max_paths is None else int(max_paths)
    key = family_key(spec)
    if stored is False:  # not looked up by the caller
        stored = stored_generic(spec, family_directory)
    if stored is None:
        structure, lp = check_budget(spec, max_paths)
        return "linear-product", lp, {"linear_product": lp, "family": key.id, "family_stored": False}
    generic = len(stored.solutions)
    counts = {"generic": generic, "family": key.id, "family_stored": True, "max_paths": max_paths,
              "linear_product": stored.counts.get("linear_product")}
    if generic > max_paths:
        raise BudgetExceeded(
            f"exact mode would track up to {generic} paths (the generic count of the family {key.id} of "
            f"{spec.describe()}; its linear-product count is {counts['linear_product'] or 'larger'}), more than "
            f"max_paths={max_paths}; use mode 'start' or 'layerwise' (they scale to large networks) or raise max_paths",
            counts,
        )
    return "family", generic, counts


def _by_family(spec: NetworkSpec, loss: NetworkLoss, progress, options, directory):
    """The family's parameter homotopy, within :func:`exact_budget`."""
    from solver.networks.family_solve import solve_by_family

    stored = stored_generic(spec, directory)  # read and validated once per request
    _, _, budget = exact_budget(spec, family_directory=directory, stored=stored, closed_form=False)
    solved = solve_by_family(spec, loss.system, progress=progress, options=options, directory=directory,
                             generic=stored)
    counts = {"total_degree": loss.system.total_degree, "linear_product": budget.get("linear_product"),
              "generic": solved.generic_count}
    return counts, solved.summary(), solved.result, []


def _real_orbits(spec: NetworkSpec, loss: NetworkLoss, real_sols: list) -> tuple[np.ndarray, list[CriticalPoint]]:
    """The real solutions polished, and one classified :class:`CriticalPoint` per
    permutation orbit, minima first, then by loss."""
    thetas = np.array([_polish(loss, s.values.real.copy()) for s in real_sols]).reshape(len(real_sols), spec.n_parameters)
    singular = np.array([s.status.name == "SINGULAR" for s in real_sols], dtype=bool)
    points: list[CriticalPoint] = []
    for orbit in group_orbits(spec, thetas):
        theta = orbit.representative
        ev = np.linalg.eigvalsh(loss.hessian(theta))
        index, kind = classify(ev)
        points.append(
            CriticalPoint(
                params=theta,
                loss=loss.loss(theta),
                grad_norm=float(np.linalg.norm(loss.gradient(theta))),
                hessian_eigenvalues=ev,
                index=index,
                kind=kind,
                orbit_size=orbit.size,
                found=len(orbit.members),
                singular=bool(singular[orbit.members].any()),
            )
        )
    points.sort(key=lambda p: (KINDS.index(p.kind), p.loss))
    return thetas, points


def _solve_summary(result) -> dict:
    """The engine run as the JSON reports it."""
    return {
        "backend": result.backend,
        "start_system": result.start_system,
        "paths": int(result.paths),
        **{k: int(v) for k, v in result.counts.items() if k != "real"},
        "seconds": float(result.seconds),
    }


def run_exact(spec: NetworkSpec, progress: Optional[Callable[[int, int], None]] = None) -> CriticalPointsResult:
    """Exact mode as the init modes call it (:func:`find_critical_points`, numba backend,
    :func:`preferred_method`)."""
    return find_critical_points(spec, progress=progress, method=preferred_method(spec))

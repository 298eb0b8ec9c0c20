"""Exact mode from a family: every critical point of a spec reached from its architecture's
generic solutions by a parameter homotopy.

The gradient systems of one architecture form one family (:mod:`solver.networks.family`);
its generic member's finite solutions are computed once and stored
(:mod:`solver.networks.family_store`). A spec's critical points are the ends of the paths
from those solutions along ``p(s) = s p_0 + (1 - s) p_1`` (Morgan and Sommese,
"Coefficient-parameter polynomial continuation", Appl. Math. Comput. 29, 1989): one path per
generic solution, none to a start system's solutions at infinity.

Hidden-neuron permutations leave the moments, the weight decay and the surrogates, hence
the parameters, unchanged; so the path of ``g x`` is ``g`` applied to the path of ``x``.
Only one generic solution per permutation orbit is tracked, and each endpoint's orbit is
added afterwards (1-2-1: about half the paths; 1-3-1: about a sixth), as
HomotopyContinuation.jl's ``monodromy_solve`` does with group actions.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from solver.engine.endpoints import collect_solutions
from solver.engine.parameter_homotopy import track_parameters
from solver.engine.result import SolveResult
from solver.engine.system import System
from solver.networks.family import family_key, family_of, parameters_of
from solver.networks.spec import NetworkSpec
from solver.networks.symmetry import all_permutations


@dataclass
class FamilySolve:
    """The engine's result for a spec solved through its family, and how it was solved.

    Attributes
    ----------
    result : SolveResult
        Every distinct finite critical point (orbits expanded) on the spec's system.
    family : str
        The family's id (:attr:`FamilyKey.id`).
    generic_count : int
        Finite solutions of the generic member (the paths a request could need).
    paths : int
        Paths tracked: one per generic orbit.
    from_cache : bool
        Whether the generic solutions came from the store (else computed by this request).
    generic_method : str
        How the generic solutions were found (``linear-product`` or ``monodromy``).
    complete : bool
        Every path ended regular, singular or at infinity. False when some failed even after
        a conservative re-run: a critical point may then be missing (``incomplete_reason``).
    """

    result: SolveResult
    family: str
    generic_count: int
    paths: int
    from_cache: bool
    generic_method: str
    complete: bool
    incomplete_reason: str = ""
    extra: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """The ``solve`` block of exact mode's JSON."""
        out = {
            "method": "family",
            "family": self.family,
            "generic_method": self.generic_method,
            "generic_count": int(self.generic_count),
            "from_cache": bool(self.from_cache),
            "complete": bool(self.complete),
            "backend": self.result.backend,
            "start_system": self.result.start_system,
            "paths": int(self.paths),
            **{k: int(v) for k, v in self.result.counts.items() if k != "real"},
            "seconds": float(self.result.seconds),
        }
        if not self.complete:
            out["incomplete_reason"] = self.incomplete_reason
        return out


def orbit_representatives(perms: np.ndarray, points: np.ndarray, digits: int = 6) -> np.ndarray:
    """Indices of one point per permutation orbit among complex ``points`` (k, n).

    Each point's key is the lexicographically smallest of its images, rounded to
    ``digits`` significant digits of the point's scale; points of one orbit share it. A
    key split by rounding only costs one more path (endpoints are merged afterwards).
    """
    keep, seen = [], set()
    for i, x in enumerate(np.asarray(points, np.complex128)):
        images = x[perms]
        scale = 10.0 ** (digits - np.ceil(np.log10(1.0 + np.abs(x).max())))
        keys = np.round(np.concatenate([images.real, images.imag], axis=1) * scale)
        key = keys[np.lexsort(keys.T[::-1])[0]].tobytes()
        if key not in seen:
            seen.add(key)
            keep.append(i)
    return np.array(keep, dtype=np.int64)


def expand_orbits(system: System, perms: np.ndarray, result: SolveResult) -> SolveResult:
    """``result`` with every finite solution's permutation images added, refined and merged
    on ``system`` (the path counts stay those of the paths actually tracked)."""
    if not result.solutions:
        return result
    images = np.concatenate([s.values[perms] for s in result.solutions])
    statuses = np.repeat([int(s.status) for s in result.solutions], len(perms))
    solutions, _ = collect_solutions(system, images, statuses)
    counts = {**result.counts, "real": sum(1 for s in solutions if s.real)}
    return dataclasses.replace(result, counts=counts, solutions=solutions)


def solve_by_family(
    spec: NetworkSpec,
    system: System,
    progress: Optional[Callable[[int, int], None]] = None,
    options=None,
    directory=None,
    generic=None,
) -> FamilySolve:
    """Every finite critical point of ``spec`` (whose gradient system is ``system``) from
    its family's generic solutions, loaded from the store or computed and stored first.

    Parameters
    ----------
    spec : NetworkSpec
    system : System
        The spec's gradient system (refinement and residuals run on it).
    progress : callable(done, total), optional
    options : TrackerOptions or preset name, optional
    directory : path, optional
        The family store's folder (default: :func:`~solver.networks.family_store.default_directory`).
    generic : GenericSolutions, optional
        The family's stored generic solutions, if the caller has read them already.
    """
    from solver.networks.family_store import generic_solutions_for

    t0 = time.perf_counter()
    key = family_key(spec)
    fam = family_of(key)
    from_cache = generic is not None
    if generic is None:
        generic, from_cache = generic_solutions_for(key, directory=directory, progress=progress)
    perms = all_permutations(spec)
    reps = orbit_representatives(perms, generic.solutions)
    tracked = track_parameters(fam, generic.parameters, parameters_of(spec), generic.solutions[reps],
                               seed=spec.seed, options=options, target=system, progress=progress)
    result = expand_orbits(system, perms, tracked)
    failed = int(tracked.counts["failed"])
    result.seconds = time.perf_counter() - t0
    return FamilySolve(
        result=result,
        family=key.id,
        generic_count=int(len(generic.solutions)),
        paths=int(len(reps)),
        from_cache=from_cache,
        generic_method=generic.method,
        complete=failed == 0,
        incomplete_reason="" if failed == 0 else (
            f"{failed} of {len(reps)} paths failed even after a conservative re-run and two detours through random members "
            f"({', '.join(sorted({r for _, r in tracked.failures}))}); a critical point may be missing"
        ),
    )

"""The service's one door into the solver: validation, path counts, running a job, weights.

Everything the service needs from ``solver`` goes through this module. The engine's
modules are imported inside the functions that use them, so the web process starts fast
and Numba kernels load only in the worker processes.

Run ``python -m api.engine --warm-up`` to compile (or load) the Numba kernels once, which
is what the Docker build does.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import sys
import time
from typing import Any, Callable, NamedTuple

import numpy as np

from solver.errors import LpsError
from solver.engine.formats.phc import format_system
from solver.networks.weights_io import safetensors_bytes, to_tensors

Progress = Callable[[int, int | None, str], None]
"""``progress(done, total, unit)``: unit is ``"paths"`` or ``"layers"``."""

#: bumped when the service's result format changes, so old cache entries are not served
RESULT_VERSION = "lps-service-result/1"


class InvalidInput(LpsError, ValueError):
    """A request the engine cannot take; ``errors`` lists ``{"field", "reason"}`` dicts."""

    def __init__(self, errors: list[dict]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['reason']}" for e in errors))


class PathLimit(LpsError, ValueError):
    """The start system has more paths than allowed; the counts say how many."""

    def __init__(self, count: int | None, max_paths: int, start: str, counts: dict | None = None,
                 message: str | None = None) -> None:
        self.count = None if count is None else int(count)
        self.max_paths, self.start, self.counts = int(max_paths), start, dict(counts or {})
        super().__init__(message or f"the {start} start system has {self.count} paths, more than max_paths={self.max_paths}")

    def body(self) -> dict:
        out = {
            "reason": str(self),
            "limit": "max_paths",
            "paths": self.count,
            "max_paths": self.max_paths,
            "start_system": self.start,
            "root_counts": self.counts,
            "suggestion": "use mode 'start' or 'layerwise' (or 'auto'), or a smaller network",
        }
        if self.count is None and isinstance(self.counts.get("linear_product"), int):
            # the count stopped early, once past max_paths: a lower bound
            out["paths_at_least"] = self.counts["linear_product"]
        return out


class Work(NamedTuple):
    """A job's work as known before it is queued (what a pre-check returns).

    Attributes
    ----------
    total : int or None
        Paths or layers, when known up front.
    unit : str or None
        ``"paths"`` or ``"layers"``.
    family : str or None
        Exact mode whose family is stored nowhere: its id, to be solved first by a family
        job (:mod:`api.jobs.families`).
    """

    total: int | None
    unit: str | None
    family: str | None = None


@functools.lru_cache(maxsize=1)
def version() -> str:
    """The installed lps-init version (part of every cache key)."""
    try:
        from importlib.metadata import version

        return version("lps-init")
    except Exception:  # not installed as a distribution (a source checkout)
        return "0+unknown"


def _hash(kind: str, canonical: str) -> str:
    return hashlib.sha256(f"{RESULT_VERSION}\n{version()}\n{kind}\n{canonical}".encode()).hexdigest()


# --------------------------------------------------------------------------------------
# network specs
# --------------------------------------------------------------------------------------
def network_hash(spec: Any) -> str:
    """Cache key of a validated spec: its canonical hash, the engine and result versions."""
    return _hash("network", spec.canonical_hash())


def network_dims(spec: Any) -> dict[str, int]:
    """Sizes checked against the service limits."""
    widths = [spec.layers[0].in_features] + [layer.out_features for layer in spec.layers]
    return {
        "rows": len(spec.data.x),
        "features": len(spec.data.x[0]) if spec.data.x else 0,
        "width": max(max(widths), max(layer.in_features for layer in spec.layers)),
        "layers": len(spec.layers),
        "max_paths": int(getattr(spec, "max_paths", 0) or 0),
    }


def _exact_work(spec: Any, max_paths: int, family_max_paths: int | None) -> Work:
    """Exact mode's work: none for a spec the closed form covers; the family's generic
    count when stored; else, with ``family_max_paths``, the family to solve first (refused
    when the network's linear-product count, the one-time solve's bound, exceeds it), or
    without it the linear-product count; by the network module's own bounded checks.

    Raises
    ------
    PathLimit
        More paths than allowed (or a network too large to count), with the counts.
    """
    from solver.networks.critical_points import (BudgetExceeded, check_budget, exact_budget, preferred_method,
                                                 stored_generic)
    from solver.networks.family import family_key

    closed_form = preferred_method(spec) == "closed-form"  # no homotopy, no family
    stored = False if closed_form else stored_generic(spec)  # False: exact_budget looks
    if stored is None and family_max_paths is not None:
        family = family_key(spec).id
        try:
            check_budget(spec, family_max_paths)  # the one-time solve's bound
        except BudgetExceeded as exc:
            raise _family_limit(spec, family, dict(exc.counts), max_paths, family_max_paths) from None
        return Work(None, "paths", family)
    try:
        return Work(int(exact_budget(spec, max_paths, stored=stored)[1]), "paths")
    except BudgetExceeded as exc:
        counts = dict(exc.counts)
        if counts.get("family_stored"):
            raise PathLimit(counts.get("generic"), max_paths, "family", counts, message=str(exc)) from None
        lp = counts.get("linear_product")
        raise PathLimit(lp if counts.get("linear_product_status") == "exact" else None, max_paths,
                        "linear-product", counts, message=str(exc)) from None


def _family_limit(spec: Any, family: str, counts: dict, max_paths: int, family_max_paths: int) -> PathLimit:
    """The refusal of a spec whose missing family is too large to solve as a job."""
    lp, exact = counts.get("linear_product"), counts.get("linear_product_status") == "exact"
    size = f"{lp} paths" if exact else (f"at least {lp} paths" if lp else "too many paths to count quickly")
    message = (
        f"exact mode would first solve the family {family} of {spec.describe()} once (its generic member, tracked "
        f"from the network's linear-product start system: {size}), more than this service's "
        f"family_max_paths={family_max_paths}; the network itself would then track up to its family's generic "
        f"count, within max_paths={max_paths}; use mode 'start' or 'layerwise' (they scale to large networks), "
        "or a smaller network"
    )
    counts = {**counts, "family": family, "family_stored": False, "family_max_paths": family_max_paths,
              "max_paths": max_paths}
    return PathLimit(lp if exact else None, max_paths, "linear-product", counts, message=message)


def check_network_paths(spec: Any, max_paths: int, family_max_paths: int | None = None) -> Work | None:
    """Refuse an exact-mode spec whose start system exceeds ``max_paths`` (before queueing).

    Auto mode falls back to a scalable mode by itself, so only ``mode == "exact"`` is
    checked.

    Parameters
    ----------
    spec : NetworkSpec
    max_paths : int
    family_max_paths : int, optional
        When given, an exact-mode spec whose family is stored nowhere is not counted
        against ``max_paths`` (its family's generic count is not known yet) but its
        family is named in the answer, to be solved first; it is refused when the
        network's linear-product count exceeds ``family_max_paths``.

    Returns
    -------
    Work or None
        The job's work when known up front: paths (exact) or layers (start, layerwise).

    Raises
    ------
    PathLimit
    """
    mode = getattr(spec, "mode", None)
    if mode in ("start", "layerwise"):
        return Work(len(spec.layers), "layers")
    if mode != "exact":
        return None
    return _exact_work(spec, max_paths, family_max_paths)


def _to_jsonable(obj: Any) -> Any:
    """Plain JSON types; NaN and infinities become None (JSON has neither)."""
    if isinstance(obj, dict):
        return {str(k): _to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _to_jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, complex):
        return {"re": _to_jsonable(obj.real), "im": _to_jsonable(obj.imag)}
    if obj is None or isinstance(obj, str):
        return obj
    if hasattr(obj, "to_json"):
        return _to_jsonable(obj.to_json())
    return str(obj)


def _network_result(out: dict, spec: Any) -> dict:
    """:func:`solver.init.modes.run_spec`'s result as the service's: mode, reason, counts,
    critical points (exact mode) and ``candidates[k].weights`` (tensor name -> nested
    lists) for every candidate (the best weights alone are candidate 0 in the scalable
    modes)."""
    out = dict(out)
    best = out.pop("weights", None)
    cands = []
    for k, c in enumerate(out.get("candidates") or []):
        c = dict(c) if isinstance(c, dict) else {"params": c}
        if "weights" not in c:
            theta = c.get("params", c.get("theta"))
            if theta is not None:
                tensors = to_tensors(spec, np.asarray(theta, dtype=np.float64), dtype=np.float64)
                c["weights"] = {name: t.tolist() for name, t in tensors.items()}
        c.setdefault("index", k)
        cands.append(c)
    if not cands and best is not None:
        cands = [{"index": 0, "weights": best}]
    out["candidates"] = cands
    return _to_jsonable(out)


def run_network(request: dict, progress: Progress) -> dict:
    """Run a layer spec end to end (in a worker process).

    Parameters
    ----------
    request : dict
        The spec as validated JSON (defaults filled in).
    progress : callable(done, total, unit)

    Returns
    -------
    dict
        JSON-ready result: ``mode``, ``reason``, ``counts``, ``critical_points`` (exact mode),
        ``candidates`` (each with ``weights``: tensor name -> nested lists).
    """
    from solver.init.modes import run_spec
    from solver.networks.critical_points import BudgetExceeded
    from solver.networks.spec import NetworkSpec

    spec = NetworkSpec.model_validate(request)
    n_layers = len(spec.layers)

    def report(done: int, total: int) -> None:
        # exact mode counts paths; start and layerwise count layers; auto is one of them
        unit = "paths" if spec.mode == "exact" or (spec.mode == "auto" and total != n_layers) else "layers"
        progress(done, total, unit)

    try:
        out = run_spec(spec, progress=report)
    except BudgetExceeded as exc:  # exact mode's own refusal, before any work
        raise PathLimit(None, spec.max_paths, "linear-product", dict(exc.counts), message=str(exc)) from None
    result = _network_result(out, spec)
    result.setdefault("spec_hash", spec.canonical_hash())
    return result


def run_family(request: dict, progress: Progress) -> dict:
    """Solve the generic member of a network family and store it (in a worker process),
    or read it when it is stored already: :func:`~solver.networks.family_store.generic_solutions_for`
    in the family folder every exact-mode job of this process reads (``$LPS_FAMILY_DIR``).

    Parameters
    ----------
    request : dict
        ``{"family": "<key id>"}``, e.g. ``1-3-1.b11.d21``.
    progress : callable(done, total, unit)
        Paths.

    Returns
    -------
    dict
        ``family``, ``method``, ``seed``, ``finite`` (the generic count), ``orbits``,
        ``paths`` (tracked by this job: 0 when read), ``seconds`` (this job),
        ``from_store`` and the file's ``counts``.

    Raises
    ------
    InvalidInput
        Not a family id.
    """
    from solver.networks.family import FamilyError, FamilyKey
    from solver.networks.family_store import default_directory, generic_solutions_for

    t0 = time.perf_counter()
    try:
        key = FamilyKey.parse(str(request.get("family", "")))
    except FamilyError as exc:
        raise InvalidInput([{"field": "family", "reason": str(exc)}]) from None
    generic, from_store = generic_solutions_for(key, directory=default_directory(),
                                                progress=lambda done, total: progress(done, total, "paths"))
    counts = _to_jsonable(generic.counts)
    return {
        "family": key.id,
        "method": generic.method,
        "seed": int(generic.seed),
        "finite": int(generic.solutions.shape[0]),
        "orbits": counts.get("orbits"),
        "paths": 0 if from_store else counts.get("paths"),
        "seconds": round(time.perf_counter() - t0, 3),
        "from_store": bool(from_store),
        "counts": counts,
    }


def paths_of(result: dict) -> int | None:
    """Homotopy paths a result tracked (for the metrics), wherever its kind keeps them."""
    for source in (result, result.get("counts") or {}, (result.get("exact") or {}).get("solve") or {},
                   result.get("solve") or {}):
        v = source.get("paths") if isinstance(source, dict) else None
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return int(v)
    return None


def weights_bytes(result: dict, candidate: int, dtype: str = "float32") -> bytes:
    """The weights of one candidate as a safetensors file (names ``{k}.weight``, ``{k}.bias``).

    ``float32`` (the default) matches ``lps init`` and PyTorch's default dtype;
    ``float64`` is the solver's own precision.

    Raises
    ------
    IndexError
        No such candidate.
    """
    cands = [c for c in (result.get("candidates") or []) if isinstance(c, dict) and "weights" in c]
    if not 0 <= candidate < len(cands):
        raise IndexError(f"candidate {candidate} does not exist: this result has {len(cands)} candidate(s)"
                         + (f" (0..{len(cands) - 1})" if cands else ""))
    np_dtype = {"float32": np.float32, "float64": np.float64}[dtype]
    tensors = {name: np.asarray(v, dtype=np_dtype) for name, v in cands[candidate]["weights"].items()}
    meta = {"format": "pt", "candidate": str(candidate)}
    for key in ("mode", "spec_hash"):
        if isinstance(result.get(key), str):
            meta[key] = result[key]
    return safetensors_bytes(tensors, meta)


# --------------------------------------------------------------------------------------
# general polynomial systems
# --------------------------------------------------------------------------------------
def parse_system(text: str, limits: dict | None = None) -> Any:
    """PHC text to a System, within the parser's limits.

    Parameters
    ----------
    text : str
    limits : dict, optional
        Keyword arguments of :class:`solver.engine.formats.phc.ParseLimits` (the service's
        settings, :meth:`api.settings.Settings.parse_limits`); default: the parser's own.

    Raises
    ------
    InvalidInput
        With the line and column of the parse error or the limit hit.
    """
    from solver.engine.formats.phc import PHCParseError, ParseLimits, parse_system as parse_phc
    from solver.engine.system import InvalidSystem

    try:
        system = parse_phc(text, limits=ParseLimits(**limits) if limits else None)
    except PHCParseError as exc:
        err = {"field": "system", "reason": str(exc)}
        for attr in ("line", "column"):
            if getattr(exc, attr, None) is not None:
                err[attr] = getattr(exc, attr)
        raise InvalidInput([err]) from None
    except InvalidSystem as exc:
        raise InvalidInput([{"field": "system", "reason": str(exc)}]) from None
    except (RecursionError, OverflowError) as exc:
        # the parser's limits are meant to catch these first; never a 500 for a text
        raise InvalidInput([{"field": "system", "reason": "a number or a nesting is out of range"}]) from exc
    if not system.is_square:
        raise InvalidInput([{
            "field": "system",
            "reason": f"the system has {system.n_equations} equations in {system.n_variables} unknowns; only square systems are solved",
        }])
    return system


def system_hash(system: Any, options: dict) -> str:
    """Cache key of a system solve: the canonical PHC text and the options that matter."""
    canonical = format_system(system) + "\n" + json.dumps(options, sort_keys=True, separators=(",", ":"))
    return _hash("system", canonical)


def system_path_count(system: Any, start: str, max_paths: int | None = None) -> tuple[int, str, dict] | None:
    """Paths the engine would track from ``start``, or None when only a solve can tell.

    The total degree is a product of the degrees (cheap); the linear-product count (a
    set-structure search) and the mixed volumes (phcpy) are not: the service runs this in
    :class:`api.jobs.precheck.Prechecker`'s child process, under a time and memory cap.
    ``auto`` is decided as the solve decides it
    (:func:`solver.engine.start_systems.choice.auto_counts`, within ``max_paths``).
    """
    counts: dict = {"total_degree": int(system.total_degree), "linear_product": None}
    if start == "total-degree":
        return counts["total_degree"], "total-degree", counts
    if start in ("polyhedral", "polyhedral-constants"):
        from solver.engine.backends.phcpack import phcpy_available, phcpy_mixed_volume
        from solver.engine.start_systems.polyhedral_constants import constants_mixed_volume

        if not phcpy_available():
            return None
        name = "mixed_volume" if start == "polyhedral" else "mixed_volume_constants"
        counts[name] = (phcpy_mixed_volume if start == "polyhedral" else constants_mixed_volume)(system)
        return counts[name], start, counts
    from solver.engine.start_systems.choice import auto_counts
    from solver.engine.start_systems.set_structure import best_structure

    _, count, _ = best_structure(system)
    counts["linear_product"] = int(count)
    if start == "linear-product":
        return int(count), "linear-product", counts
    kind, counts = auto_counts(system, int(count), max_paths)
    paths = {"total-degree": counts["total_degree"], "linear-product": counts["linear_product"],
             "polyhedral-constants": counts["mixed_volume_constants"]}[kind]
    return int(paths), kind, counts


def run_system(request: dict, progress: Progress) -> dict:
    """Solve a PHC-text system (in a worker process); returns the ``lps solve`` JSON."""
    from solver.engine.solve import solve
    from solver.engine.start_systems.choice import TooManyPaths

    system = parse_system(request["system"], request.get("limits"))
    try:
        result = solve(
            system,
            start=request.get("start", "auto"),
            seed=int(request.get("seed", 0)),
            max_paths=int(request["max_paths"]),
            options=request.get("tracker", "default"),
            progress=lambda done, total: progress(done, total, "paths"),
        )
    except TooManyPaths as exc:
        raise PathLimit(exc.count, exc.max_paths, exc.start, exc.counts) from None
    return _to_jsonable(result.to_json())


# --------------------------------------------------------------------------------------
# health and warm-up
# --------------------------------------------------------------------------------------
def backends() -> dict[str, bool]:
    """Which engine backends this process can use (for ``GET /health``)."""
    from solver.engine.backends.phcpack import phc_available, phcpy_available

    return {"numba": True, "phc": bool(phc_available()), "phcpy": bool(phcpy_available())}


def features() -> dict[str, Any]:
    """What this build serves (for ``GET /health``)."""
    from solver.init.modes import MODES

    return {"network_spec": True, "modes": list(MODES), "systems": True}


WARM_SPEC = {
    "layers": [{"in_features": 1, "out_features": 1}, {"in_features": 1, "out_features": 1}],
    "data": {"x": [[-1.0], [0.0], [1.0]], "y": [[1.0], [0.0], [1.0]]},
}


def warm_up(full: bool = False) -> float:
    """Load (or compile, the first time) the engine's Numba kernels with tiny solves.

    The light warm-up (each worker process at start) runs a 4-path system; ``full`` (the
    Docker build) also runs a 1-1-1 network in layerwise and exact mode, so every kernel
    the modes use is in Numba's cache. Returns the seconds it took.
    """
    from solver.engine.examples import katsura
    from solver.engine.solve import solve

    t0 = time.perf_counter()
    solve(katsura(2), seed=0)
    if full:
        for mode in ("layerwise", "exact"):
            run_network({**WARM_SPEC, "mode": mode}, lambda done, total, unit: None)
    return time.perf_counter() - t0


def _main(argv: list[str]) -> int:
    if argv[:1] == ["--warm-up"]:
        seconds = warm_up(full=True)
        print(f"engine warm-up: {seconds:.1f} s; backends: {backends()}; features: {features()}")
        return 0
    print("usage: python -m api.engine --warm-up", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))

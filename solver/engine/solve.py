"""``solve``: every isolated solution of a square polynomial system.

The pipeline: pick a start system (:mod:`solver.engine.start_systems.choice`), refuse it
before any work when it has more paths than allowed, track every start solution with the
Numba kernels (:mod:`solver.engine.path_kernels`) in chunks so progress can be reported,
re-track failed paths with the conservative options and, as a last stage, in double-double
(:mod:`solver.engine.extended_tracking`), then refine, merge and classify the endpoints on
the target (:mod:`solver.engine.endpoints`). :func:`solve_many` and
:func:`track_batch` do the same for many small systems in one batched kernel call.
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np

from solver.engine.endpoints import collect_solutions, path_counts
from solver.engine.executors import current, using
from solver.engine.homotopy import Homotopy, homotopy_data
from solver.engine.infinity_recheck import loosely_at_infinity, recheck_infinity
from solver.engine.options import TrackerOptions
from solver.engine.result import FailureReason, PathStatus, SolveResult
from solver.engine.scaling import Scaling, scale_system, scaling_exponents, unscale_result, worth_scaling
from solver.engine.start_systems.choice import StartSystem, choose_start, mixed_volume_count, product_start, refuse_too_many
from solver.engine.start_systems.fallback import fallback_decision
from solver.engine.start_systems.polyhedral_constants import POLYHEDRAL_CONSTANTS
from solver.engine.start_systems.set_structure import SetStructure, best_structure
from solver.engine.system import InvalidSystem, System
from solver.errors import LpsError

BACKENDS = ("numba", "phcpy", "phc")
SCALE_CHOICES = (False, True, "auto")
#: the re-runs of failed paths: small steps and a tight corrector, then the same steps
#: with a corrector double precision can satisfy near ill-conditioned roots
RETRY_PRESETS = ("conservative", "ill_conditioned")
DEFAULT_MAX_PATHS = 1_000_000

Progress = Callable[[int, int], None]


def track(
    starts: np.ndarray, hom: Homotopy, options: TrackerOptions, progress: Progress | None = None, done: int = 0, total: int = 0, chunk: int = 1024
) -> tuple[np.ndarray, ...]:
    """Track the start solutions ``starts`` (P, n) with the executor in force
    (:mod:`solver.engine.executors`: here in chunks by default, or on a Dask cluster);
    returns the kernel's arrays (endpoints, status, reason, winding, steps) for all of them."""
    return current().track(starts, hom, options.as_array(), progress, done, total, chunk)


def retry_failures(starts: np.ndarray, hom: Homotopy, tracked: tuple[np.ndarray, ...],
                   presets: Sequence[str] = ("conservative",)) -> None:
    """More goes for the failed paths, one per preset of ``presets`` in turn (by default
    one with small steps and a tight corrector); the arrays of ``tracked`` (endpoints,
    status, reason, winding, steps) are updated in place."""
    for preset in presets:
        failed = np.flatnonzero(tracked[1] == PathStatus.FAILED)
        if failed.size == 0:
            return
        retry = track(starts[failed], hom, TrackerOptions.preset(preset))
        for arr, new in zip(tracked, retry):
            arr[failed] = new


def result_from_endpoints(
    system: System,
    endpoints: np.ndarray,
    status: np.ndarray,
    reason: np.ndarray,
    start_kind: str,
    root_counts: dict,
    seconds: float,
) -> SolveResult:
    """The tail every numba solve shares: projective endpoints to affine points, refined,
    merged and classified on the target (:func:`~solver.engine.endpoints.collect_solutions`)."""
    with np.errstate(all="ignore"):
        affine = endpoints[:, 1:] / endpoints[:, :1]
    solutions, status = collect_solutions(system, affine, status)
    reason = np.where((status == PathStatus.FAILED) & (reason == FailureReason.NONE), FailureReason.NOT_A_SOLUTION, reason)
    failures = [(int(i), FailureReason(int(reason[i])).name.lower()) for i in np.flatnonzero(status == PathStatus.FAILED)]
    return SolveResult(
        variables=system.variables,
        start_system=start_kind,
        backend="numba",
        root_counts=root_counts,
        paths=int(endpoints.shape[0]),
        counts=path_counts(status, solutions),
        solutions=solutions,
        seconds=seconds,
        failures=failures,
    )


def solve(
    system: System,
    start: str = "auto",
    backend: str = "numba",
    seed: int = 0,
    max_paths: int = DEFAULT_MAX_PATHS,
    set_structure: SetStructure | Sequence | None = None,
    options: TrackerOptions | str | None = None,
    progress: Progress | None = None,
    threads: int | None = None,
    mixed_volume: bool = False,
    certify: bool = False,
    scheduler: object = None,
    scale: bool | str = "auto",
    recheck_infinity: bool = False,
) -> SolveResult:
    """Find all isolated solutions of a square system by homotopy continuation.

    Parameters
    ----------
    system : System
        Square polynomial system.
    start : {"auto", "total-degree", "linear-product", "polyhedral", "polyhedral-constants"}
        Start system. ``"auto"`` takes the complete start with the fewest paths weighted by
        cost: total degree, the best linear product structure, or the polyhedral start with
        constants (not with the phcpy backend); ``root_counts["start_choice"]`` says which
        and why (:mod:`solver.engine.start_systems.choice`). When a product start of fewer
        than 1,000 paths then leaves paths failed or fewer than a tenth of them finite, and
        the polyhedral start with constants has more paths than ended finite at no more
        than twice the cost, the system is solved from it too (paths at infinity
        re-checked) and the result with more solutions kept
        (:mod:`solver.engine.start_systems.fallback`; never on the benchmark or network
        gradient systems; ``start_choice`` says so). The plain polyhedral start (phcpy)
        misses solutions with zero coordinates: only on request.
    backend : {"numba", "phcpy", "phc"}
        Our tracker, phcpy's ``trackers.track``, or ``phc -b`` (which always uses its own
        polyhedral start).
    seed : int
        Seeds every random choice (gamma, patch, start coefficients).
    max_paths : int
        Refuse, before any work, a start system with more paths (:class:`TooManyPaths`).
    set_structure : SetStructure or nested lists, optional
        An explicit linear product structure (used by ``linear-product`` and ``auto``).
    options : TrackerOptions or preset name, optional
    progress : callable(done, total), optional
        Called after each chunk of paths.
    threads : int, optional
        Numba threads for the tracker (default: Numba's, one per core).
    mixed_volume : bool
        Also report phcpy's mixed volume in ``root_counts`` (when phcpy is installed).
    certify : bool
        Prove each solution with the interval Krawczyk test (:mod:`solver.engine.certify`):
        per-solution ``certified`` fields and the counts ``certified``, ``certified_real``,
        ``certified_distinct``.
    scheduler : str or distributed.Client, optional
        Track the paths on a Dask cluster: a scheduler address (``"tcp://host:8786"``) or a
        client (:mod:`solver.engine.executors`); the answer is the local one. Raises
        :class:`~solver.engine.executors.ClusterError` when the scheduler is unreachable.
    scale : bool or "auto"
        True: track the system after coefficient and variable scaling by powers of two
        (:mod:`solver.engine.scaling`; Meintjes and Morgan 1987), and scale the solutions
        back (numba backend; their ``condition`` is then the scaled system's). ``"auto"``
        (the default): track the system as given and, when the scaling would change it
        much (:func:`~solver.engine.scaling.worth_scaling`) and some path failed or
        stopped at infinity at a finite distance, the scaled system too, and keep the
        result with more solutions (on none of the twelve benchmark systems or the network
        gradient systems of ``bench/POLICY_RESULTS.md``). False: as given only.
    recheck_infinity : bool
        Track again, in coordinates scaled to where they stopped, the paths put at
        infinity while their coordinates were large but finite
        (:mod:`solver.engine.infinity_recheck`; numba backend, in this process whatever
        the executor; finds solutions of size 10^2-10^5 that the endgame's early decision
        puts at infinity, for about three times the first cost of those paths: 2-16 times
        the whole solve on systems with many diverging paths, hence off by default).

    Returns
    -------
    SolveResult
    """
    system.require_square()
    if backend not in BACKENDS:
        raise InvalidSystem(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if max_paths < 1:
        raise InvalidSystem("max_paths must be at least 1")
    if set_structure is not None and not isinstance(set_structure, SetStructure):
        set_structure = SetStructure.from_lists(set_structure, system.n_variables)
    options = TrackerOptions.resolve(options)
    if backend == "phc":
        from solver.engine.backends.phcpack import solve_phc

        _refuse_phc(system, max_paths)
        return _certified(system, solve_phc(system, seed=seed), certify)

    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    start_system = choose_start(system, start, rng, seed, set_structure, max_paths, polyhedral=backend != "phcpy")
    counts = start_system.root_counts
    if mixed_volume and counts["mixed_volume"] is None:
        counts["mixed_volume"] = mixed_volume_count(system)
    refuse_too_many(start_system.count, max_paths, start_system.kind, counts)
    if backend == "phcpy":
        from solver.engine.backends.phcpack import solve_phcpy

        result = solve_phcpy(system, start=start_system.kind, seed=seed, set_structure=getattr(start_system, "structure", None))
        return _certified(system, result, certify)

    if threads is not None:
        import numba

        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    result = _solve_numba(system, start_system, rng, options, progress, scheduler, t0, scale, recheck_infinity)
    if start == "auto" and start_system.kind != POLYHEDRAL_CONSTANTS:
        result = _fallback(system, result, rng, seed, max_paths, options, scheduler, t0, scale)
    return _certified(system, result, certify)


def _fallback(system: System, result: SolveResult, rng: np.random.Generator, seed: int, max_paths: int,
              options: TrackerOptions, scheduler: object, t0: float, scale: bool | str) -> SolveResult:
    """The completeness fallback of ``start="auto"`` (:mod:`solver.engine.start_systems.fallback`):
    a doubtful product-start ``result`` solved again from the polyhedral start with
    constants (paths at infinity re-checked), the result with more solutions kept; the
    decision is added to ``root_counts["start_choice"]``."""
    decision = fallback_decision(system, result, max_paths)
    if not decision.reason:
        return result
    counts = dict(result.root_counts)
    if decision.count is not None:
        counts["mixed_volume_constants"] = decision.count
    choice = f"{counts.get('start_choice', '')}; completeness fallback: {decision.reason}"
    if decision.run:
        try:  # the first result stands if phcpy cannot build the start
            second_start = choose_start(system, POLYHEDRAL_CONSTANTS, rng, seed, max_paths=max_paths)
            second = _solve_numba(system, second_start, rng, options, None, scheduler, t0, scale, True)
        except LpsError as err:
            choice += f": not run ({err})"
        else:
            choice += f": {len(second.solutions)} solutions against {len(result.solutions)}"
            result = second if _found(second) > _found(result) else result
            choice += f", the {result.start_system} start's kept"
    result.root_counts = {**counts, "start_choice": choice}
    result.seconds = time.perf_counter() - t0
    return result


def _solve_numba(system: System, start_system, rng: np.random.Generator, options: TrackerOptions,
                 progress: Progress | None, scheduler: object, t0: float, scale: bool | str = "auto",
                 recheck: bool = False) -> SolveResult:
    """Our tracker from ``start_system`` on ``system`` as given, or scaled (``scale=True``),
    or as given and then scaled too where that may help (``"auto"``:
    :func:`~solver.engine.scaling.worth_scaling`, and some path failed or stopped at
    infinity while still at a finite distance), the result with more solutions kept."""
    if scale not in SCALE_CHOICES:
        raise InvalidSystem(f"scale must be one of {SCALE_CHOICES}, not {scale!r}")
    forced = scaling_exponents(system) if scale is True else None
    result, suspect = _solve_once(system, forced, start_system, rng, options, progress, scheduler, recheck)
    if scale == "auto" and suspect:
        scaling = scaling_exponents(system)
        if worth_scaling(system, scaling):
            scaled, _ = _solve_once(system, scaling, start_system, rng, options, None, scheduler, recheck)
            if _found(scaled) > _found(result):
                result = scaled
    result.seconds = time.perf_counter() - t0
    return result


def _found(result: SolveResult) -> tuple[int, int]:
    """What makes one result of a system more complete than another: regular solutions,
    then all of them."""
    return sum(s.status == PathStatus.REGULAR for s in result.solutions), len(result.solutions)


def _solve_once(system: System, scaling: Scaling | None, start_system: StartSystem, rng: np.random.Generator, options: TrackerOptions,
                progress: Progress | None, scheduler: object, recheck: bool) -> tuple[SolveResult, bool]:
    """Our tracker from ``start_system`` (on the executor in force), failures re-run, and
    the endpoints refined and merged on ``system`` (on its scaled form, the solutions then
    scaled back, when ``scaling`` is given; paths loosely at infinity re-tracked with
    ``recheck``). Also says whether some path failed or stopped at infinity while its
    ``|x0| / max|X|`` was still above ``options.infinity_threshold``."""
    target = system if scaling is None else scale_system(system, scaling)
    hom = homotopy_data(target, start_system, rng)
    with using(scheduler):
        starts, tracked = _track_start(start_system, hom, options, progress)
        retry_failures(starts, hom, tracked, RETRY_PRESETS)
    if (tracked[1] == PathStatus.FAILED).any():  # the kernels load only when needed
        from solver.engine.extended_tracking import retrack_extended

        retrack_extended(target, starts, hom, tracked)
    if recheck:
        recheck_infinity(target, starts, hom, tracked, options, rng)
    endpoints, status, reason = tracked[:3]
    suspect = bool((status == PathStatus.FAILED).any()) or loosely_at_infinity(endpoints, status, options.infinity_threshold).size > 0
    result = result_from_endpoints(target, endpoints, status, reason, start_system.kind, start_system.root_counts, 0.0)
    return (result if scaling is None else unscale_result(result, scaling)), suspect


def _certified(system: System, result: SolveResult, certify: bool) -> SolveResult:
    """The result, its solutions certified when asked (:func:`~solver.engine.certify.certify_result`)."""
    if certify:
        from solver.engine.certify import certify_result

        certify_result(system, result)
    return result


def _refuse_phc(system: System, max_paths: int) -> None:
    """``phc -b`` tracks its polyhedral start: refuse by the mixed volume (by the total
    degree, an upper bound, without phcpy) before phc starts."""
    count = mixed_volume_count(system)
    if count is not None:
        refuse_too_many(count, max_paths, "polyhedral", {"mixed_volume": count})
    else:
        refuse_too_many(system.total_degree, max_paths, "total-degree", {"total_degree": system.total_degree})


def _track_start(
    start_system: StartSystem, hom: Homotopy, options: TrackerOptions, progress: Progress | None
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Track every start solution, chunk by chunk as the start system yields them (as
    many a chunk as the executor in force takes at once); returns all start points (P, n)
    and the kernel's arrays for them."""
    n = hom.patch.shape[0] - 1
    results, chunks, done = [], [], 0
    for starts in start_system.solutions(current().start_chunk):
        results.append(track(starts, hom, options, progress, done, start_system.count))
        chunks.append(starts)
        done += starts.shape[0]
    if not results:
        return np.zeros((0, n), np.complex128), track(np.zeros((0, n), np.complex128), hom, options)
    return np.concatenate(chunks), tuple(np.concatenate(a) for a in zip(*results))


def solve_many(
    systems: Sequence[System],
    start: str = "auto",
    seed: int = 0,
    max_paths: int = DEFAULT_MAX_PATHS,
    options: TrackerOptions | str | None = None,
    progress: Progress | None = None,
) -> list[SolveResult]:
    """Solve many small systems with the same number of unknowns in one batched Numba
    call (the layer-wise initialisation solves one such system per neuron).

    Start systems are chosen per system (``"auto"``: total degree or linear product; set
    structures are derived once per distinct support). ``max_paths`` bounds the paths of
    the whole batch; each result's ``seconds`` is its share of the batch's time.
    """
    systems = list(systems)
    if not systems:
        return []
    if start == "polyhedral":
        raise InvalidSystem("solve_many takes total-degree or linear-product starts")
    n = systems[0].n_variables
    for k, system in enumerate(systems):
        system.require_square()
        if system.n_variables != n:
            raise InvalidSystem(f"system {k} has {system.n_variables} unknowns, system 0 has {n}: solve them apart")
    options = TrackerOptions.resolve(options)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    structures: dict[bytes, tuple[SetStructure, int]] = {}
    starts, homs = [], []
    for system in systems:
        key = b"|".join(p.exponents.tobytes() for p in system.polynomials)
        if key not in structures:
            structures[key] = best_structure(system)[:2]
        chosen = product_start(system, start, rng, *structures[key])
        starts.append(chosen)
        homs.append(homotopy_data(system, chosen, rng))
    refuse_too_many(sum(s.count for s in starts), max_paths, "batched", {"systems": len(systems)})
    start_points = [np.concatenate(list(s.solutions())) if s.count else np.zeros((0, n), np.complex128) for s in starts]
    return track_batch(
        systems,
        homs,
        start_points,
        options,
        [s.kind for s in starts],
        [s.root_counts for s in starts],
        progress=progress,
        t0=t0,
    )


def _stack_homotopies(homs: Sequence[Homotopy]) -> Homotopy:
    """One :class:`~solver.engine.homotopy.Homotopy` whose fields (but ``kind``) are the
    systems' fields stacked along a leading axis, term arrays padded with zeros to the
    longest (each system's offsets say which rows are its own)."""
    kinds = {h.kind for h in homs}
    if len(kinds) != 1:
        raise InvalidSystem("a batch takes homotopies of one kind")
    B = len(homs)

    def stack(name: str) -> np.ndarray:
        arrays = [getattr(h, name) for h in homs]
        out = np.zeros((B,) + tuple(max(a.shape[d] for a in arrays) for d in range(arrays[0].ndim)), arrays[0].dtype)
        for k, a in enumerate(arrays):
            out[(k,) + tuple(slice(0, s) for s in a.shape)] = a
        return out

    fields = {name: stack(name) for name in Homotopy._fields if name not in ("kind", "gamma")}
    return Homotopy(kind=kinds.pop(), gamma=np.array([h.gamma for h in homs], np.complex128), **fields)


def track_batch(
    systems: Sequence[System],
    homs: Sequence[Homotopy],
    start_points: Sequence[np.ndarray],
    options: TrackerOptions,
    start_kinds: Sequence[str],
    root_counts: Sequence[dict],
    progress: Progress | None = None,
    t0: float | None = None,
) -> list[SolveResult]:
    """Track the start points of many homotopies of one kind and size in one batched
    Numba call, then refine and classify each system's endpoints.

    ``homs[b]`` is system ``b``'s :class:`~solver.engine.homotopy.Homotopy`, all of the
    same ``kind`` and number of unknowns; ``start_points[b]`` its affine start solutions.
    Each result's ``seconds`` is its share of the batch's time.
    """
    from solver.engine.path_kernels import track_paths_batched

    t0 = time.perf_counter() if t0 is None else t0
    B, n = len(systems), systems[0].n_variables
    stacked = _stack_homotopies(homs)
    counts = [len(x) for x in start_points]
    total = int(sum(counts))
    owner = np.repeat(np.arange(B), counts)
    all_starts = np.ascontiguousarray(np.concatenate(start_points)) if total else np.zeros((0, n), np.complex128)
    endpoints, status, reason, _, _ = track_paths_batched(all_starts, owner, stacked, options.as_array())
    if progress is not None:
        progress(total, total)
    seconds = (time.perf_counter() - t0) / B
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return [
        result_from_endpoints(system, endpoints[sl], status[sl], reason[sl], start_kinds[b], root_counts[b], seconds)
        for b, system in enumerate(systems)
        for sl in [slice(bounds[b], bounds[b + 1])]
    ]

"""``solve``: every isolated solution of a square polynomial system.

The pipeline: pick a start system (:mod:`solver.engine.start_systems.builders`), refuse it before any work
when it has more paths than allowed, track every start solution with the Numba kernels
(:mod:`solver.engine.path_kernels`) in chunks so progress can be reported, re-track failed paths with
the conservative options, then refine, merge and classify the endpoints on the target
(:mod:`solver.engine.endpoints`).
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np

from solver.engine.start_systems.set_structure import SetStructure, best_structure, bezout_count
from solver.engine.options import TrackerOptions
from solver.engine.result import FailureReason, PathStatus, SolveResult
from solver.engine.endpoints import collect_solutions, path_counts
from solver.engine.start_systems.builders import ProductStart, SparseStart, linear_product_start, polyhedral_start, total_degree_start
from solver.engine.system import InvalidSystem, System

STARTS = ("auto", "total-degree", "linear-product", "polyhedral")
BACKENDS = ("numba", "phcpy", "phc")
DEFAULT_MAX_PATHS = 1_000_000

Progress = Callable[[int, int], None]


class TooManyPaths(InvalidSystem):
    """The start system has more paths than ``max_paths``; raised before any tracking."""

    def __init__(self, count: int, max_paths: int, start: str, counts: dict | None = None):
        self.count, self.max_paths, self.start, self.counts = count, max_paths, start, counts or {}
        extra = ", ".join(f"{k} {v}" for k, v in self.counts.items() if v is not None)
        super().__init__(
            f"the {start} start system has {count} paths, more than max_paths={max_paths}"
            + (f" (root counts: {extra})" if extra else "")
        )


def _mixed_volume(system: System) -> int | None:
    """phcpy's mixed volume, or None without phcpy."""
    try:
        from solver.engine.backends.phcpack import phcpy_available, phcpy_root_counts
    except ImportError:
        return None
    return phcpy_root_counts(system)["mixed_volume"] if phcpy_available() else None


def choose_start(
    system: System,
    start: str,
    rng: np.random.Generator,
    seed: int,
    set_structure: SetStructure | None = None,
) -> ProductStart | SparseStart:
    """Build the start system named by ``start``; its ``root_counts`` holds the counts seen
    on the way (total degree, linear product, mixed volume where computed).

    ``"auto"`` takes the one of total degree and linear product with fewer paths.
    Polyhedral starts are never chosen automatically: they miss solutions with zero
    coordinates (DESIGN.md).
    """
    if start not in STARTS:
        raise InvalidSystem(f"unknown start system {start!r}; choose from {', '.join(STARTS)}")
    counts = {"total_degree": system.total_degree, "linear_product": None, "mixed_volume": None}
    if start == "polyhedral":
        chosen = polyhedral_start(system, seed)
        counts["mixed_volume"] = chosen.count
        chosen.root_counts = counts
        return chosen
    if set_structure is not None:
        if not set_structure.covers(system):
            i, a = set_structure.uncovered(system)[0]
            raise InvalidSystem(f"the set structure does not cover monomial {a} of equation {i + 1}")
        structure, count = set_structure, bezout_count(set_structure)
    else:
        structure, count, _ = best_structure(system)
    counts["linear_product"] = count
    if start == "total-degree" or (start == "auto" and count >= system.total_degree):
        chosen = total_degree_start(system, rng)
    else:
        chosen = linear_product_start(system, structure, rng, count)
    chosen.root_counts = counts
    return chosen


def homotopy_data(system: System, start: ProductStart | SparseStart, rng: np.random.Generator) -> tuple:
    """The tuple the kernels read (see :mod:`solver.engine.homotopy`)."""
    from solver.engine.homotopy import START_PRODUCT, START_SPARSE

    n = system.n_variables
    N = n + 1
    if isinstance(start, ProductStart):
        degrees = start.n_factors
        lin = np.ascontiguousarray(start.lin)
        gc, ge, go = np.zeros(0, np.complex128), np.zeros((0, N), np.int64), np.zeros(n + 1, np.int64)
        kind = START_PRODUCT
    else:
        degrees = system.degrees
        lin = np.zeros((n, 1, N), np.complex128)
        gc, ge, go = _homogenized(start.system.scaled(), degrees)
        kind = START_SPARSE
    fc, fe, fo = _homogenized(system.scaled(), degrees)
    gamma = np.exp(2j * np.pi * rng.uniform())
    patch = (rng.normal(size=N) + 1j * rng.normal(size=N)) / np.sqrt(2 * N)
    return (kind, lin, np.asarray(degrees, np.int64), gc, ge, go, fc, fe, fo, complex(gamma), patch)


def _homogenized(system: System, degrees: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Packed terms with a leading x0 column raising equation i to degree ``degrees[i]``."""
    c, e, o = system.packed
    return c, homogenized_exponents(e, o, degrees), o


def homogenized_exponents(exps: np.ndarray, offsets: np.ndarray, degrees: np.ndarray) -> np.ndarray:
    """Packed exponents (terms of equation i in rows ``offsets[i]:offsets[i+1]``) with a
    leading x0 column raising every equation i to degree ``degrees[i]``."""
    eq = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    x0 = np.asarray(degrees)[eq] - exps.sum(axis=1)
    if (x0 < 0).any():
        raise InvalidSystem("a start equation has lower degree than its target equation")
    return np.ascontiguousarray(np.hstack([x0[:, None], exps]))


def track(
    starts: np.ndarray, hom: tuple, options: TrackerOptions, progress: Progress | None = None, done: int = 0, total: int = 0, chunk: int = 1024
) -> tuple[np.ndarray, ...]:
    """Track the start solutions ``starts`` (P, n) in chunks; returns the kernel's arrays
    (endpoints, status, reason, winding, steps) for all of them."""
    from solver.engine.path_kernels import track_paths

    opts = options.as_array()
    parts = []
    for k in range(0, starts.shape[0], chunk):
        parts.append(track_paths(np.ascontiguousarray(starts[k : k + chunk]), hom, opts))
        if progress is not None:
            progress(done + min(k + chunk, starts.shape[0]), total)
    if not parts:
        n1 = starts.shape[1] + 1
        empty = np.zeros(0, np.int64)
        return np.zeros((0, n1), np.complex128), empty, empty, empty, empty
    return tuple(np.concatenate(arrs) for arrs in zip(*parts))


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
) -> SolveResult:
    """Find all isolated solutions of a square system by homotopy continuation.

    Parameters
    ----------
    system : System
        Square polynomial system.
    start : {"auto", "total-degree", "linear-product", "polyhedral"}
        Start system. ``"auto"`` takes the smaller of total degree and the best linear
        product structure; polyhedral (phcpy) only on request.
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
    if isinstance(options, str) or options is None:
        options = TrackerOptions.preset(options or "default")
    if backend == "phc":
        from solver.engine.backends.phcpack import solve_phc

        return solve_phc(system, seed=seed)

    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    start_system = choose_start(system, start, rng, seed, set_structure)
    counts = start_system.root_counts
    if mixed_volume and counts["mixed_volume"] is None:
        counts["mixed_volume"] = _mixed_volume(system)
    if start_system.count > max_paths:
        raise TooManyPaths(start_system.count, max_paths, start_system.kind, counts)
    if backend == "phcpy":
        from solver.engine.backends.phcpack import solve_phcpy

        return solve_phcpy(system, start=start_system.kind, seed=seed, set_structure=getattr(start_system, "structure", None))

    if threads is not None:
        import numba

        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    hom = homotopy_data(system, start_system, rng)
    total = start_system.count
    results, start_chunks, done = [], [], 0
    for starts in start_system.solutions():
        results.append(track(starts, hom, options, progress, done, total))
        start_chunks.append(starts)
        done += starts.shape[0]
    endpoints, status, reason, winding, steps = (
        tuple(np.concatenate(a) for a in zip(*results)) if results else track(np.zeros((0, system.n_variables)), hom, options)
    )

    # one more go for the failures, with small steps and a tight corrector
    failed = np.flatnonzero(status == PathStatus.FAILED)
    if failed.size:
        all_starts = np.concatenate(start_chunks)[failed]
        retry = track(all_starts, hom, TrackerOptions.conservative())
        for arr, new in zip((endpoints, status, reason, winding, steps), retry):
            arr[failed] = new

    with np.errstate(all="ignore"):
        affine = endpoints[:, 1:] / endpoints[:, :1]
    solutions, status = collect_solutions(system, affine, status)
    reason = np.where((status == PathStatus.FAILED) & (reason == FailureReason.NONE), FailureReason.NOT_A_SOLUTION, reason)
    seconds = time.perf_counter() - t0
    failures = [(int(i), FailureReason(int(reason[i])).name.lower()) for i in np.flatnonzero(status == PathStatus.FAILED)]
    return SolveResult(
        variables=system.variables,
        start_system=start_system.kind,
        backend="numba",
        root_counts=counts,
        paths=int(total),
        counts=path_counts(status, solutions),
        solutions=solutions,
        seconds=seconds,
        failures=failures,
    )


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
    if isinstance(options, str) or options is None:
        options = TrackerOptions.preset(options or "default")
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    structures: dict[bytes, tuple[SetStructure, int]] = {}
    starts, homs = [], []
    for system in systems:
        key = b"|".join(p.exponents.tobytes() for p in system.polynomials)
        if key not in structures:
            structure, count, _ = best_structure(system)
            structures[key] = (structure, count)
        structure, count = structures[key]
        use_lp = start == "linear-product" or (start == "auto" and count < system.total_degree)
        chosen = linear_product_start(system, structure, rng, count) if use_lp else total_degree_start(system, rng)
        chosen.root_counts = {"total_degree": system.total_degree, "linear_product": count, "mixed_volume": None}
        starts.append(chosen)
        homs.append(homotopy_data(system, chosen, rng))
    total = sum(s.count for s in starts)
    if total > max_paths:
        raise TooManyPaths(total, max_paths, "batched", {"systems": len(systems)})
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


def track_batch(
    systems: Sequence[System],
    homs: Sequence[tuple],
    start_points: Sequence[np.ndarray],
    options: TrackerOptions,
    start_kinds: Sequence[str],
    root_counts: Sequence[dict],
    progress: Progress | None = None,
    t0: float | None = None,
) -> list[SolveResult]:
    """Track the start points of many homotopies of one kind and size in one batched
    Numba call, then refine and classify each system's endpoints.

    ``homs[b]`` is system ``b``'s homotopy tuple (:func:`homotopy_data`), all of the same
    ``kind`` and number of unknowns; ``start_points[b]`` its affine start solutions.
    Each result's ``seconds`` is its share of the batch's time.
    """
    from solver.engine.path_kernels import track_paths_batched

    t0 = time.perf_counter() if t0 is None else t0
    B, n = len(systems), systems[0].n_variables
    N = n + 1
    kinds = {h[0] for h in homs}
    if len(kinds) != 1:
        raise InvalidSystem("a batch takes homotopies of one kind")

    def stack(index: int, tail: tuple[int, ...], dtype) -> np.ndarray:
        # per-system arrays padded with zeros to the longest (offsets say what is real)
        rows = max(h[index].shape[0] for h in homs)
        out = np.zeros((B, rows) + tail, dtype)
        for k, h in enumerate(homs):
            out[k, : h[index].shape[0]] = h[index]
        return out

    D = max(h[1].shape[1] for h in homs)
    lin = np.zeros((B, n, D, N), np.complex128)
    for k, h in enumerate(homs):
        lin[k, :, : h[1].shape[1]] = h[1]
    nfac = np.stack([h[2] for h in homs])
    gc, ge, go = stack(3, (), np.complex128), stack(4, (N,), np.int64), np.stack([h[5] for h in homs])
    fc, fe, fo = stack(6, (), np.complex128), stack(7, (N,), np.int64), np.stack([h[8] for h in homs])
    gamma = np.array([h[9] for h in homs], np.complex128)
    patch = np.stack([h[10] for h in homs])
    counts = [len(x) for x in start_points]
    total = int(sum(counts))
    owner = np.repeat(np.arange(B), counts)
    all_starts = np.ascontiguousarray(np.concatenate(start_points)) if total else np.zeros((0, n), np.complex128)
    endpoints, status, reason, winding, steps = track_paths_batched(
        all_starts, owner, kinds.pop(), lin, nfac, gc, ge, go, fc, fe, fo, gamma, patch, options.as_array()
    )
    if progress is not None:
        progress(total, total)
    seconds = (time.perf_counter() - t0) / B
    results = []
    bounds = np.concatenate([[0], np.cumsum(counts)])
    for b, system in enumerate(systems):
        sl = slice(bounds[b], bounds[b + 1])
        with np.errstate(all="ignore"):
            affine = endpoints[sl, 1:] / endpoints[sl, :1]
        sols, st = collect_solutions(system, affine, status[sl])
        rs = np.where((st == PathStatus.FAILED) & (reason[sl] == FailureReason.NONE), FailureReason.NOT_A_SOLUTION, reason[sl])
        results.append(
            SolveResult(
                variables=system.variables,
                start_system=start_kinds[b],
                backend="numba",
                root_counts=root_counts[b],
                paths=int(counts[b]),
                counts=path_counts(st, sols),
                solutions=sols,
                seconds=seconds,
                failures=[(int(i), FailureReason(int(rs[i])).name.lower()) for i in np.flatnonzero(st == PathStatus.FAILED)],
            )
        )
    return results

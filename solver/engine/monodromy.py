"""Monodromy solving: every isolated solution of a generic family member from a few of them.

For a family ``F(x; p)`` whose incidence variety ``{(x, p) : F(x; p) = 0}`` is irreducible
over a component of solutions, the solutions of one generic member ``F(.; p0)`` form a
single orbit of the monodromy group: moving known solutions around a loop in parameter
space ``p0 -> p1 -> p2 -> p0`` (random complex ``p1``, ``p2``; each segment avoids the
discriminant with probability one) permutes the solutions of ``F(.; p0)``, and endpoints
that were not known are new solutions. Starting from one seed pair ``(x0, p0)`` with
``F(x0; p0) = 0`` (easy to build when some parameters enter linearly) and repeating loops
until several in a row add nothing finds every solution with high probability (Duff, Hill,
Jensen, Lee, Leykin, Sommars, "Solving polynomial systems via homotopy continuation and
monodromy", IMA J. Numer. Anal. 39(3), 2019, doi:10.1093/imanum/drx067;
HomotopyContinuation.jl's ``monodromy_solve``).

The stopping rule is heuristic; completeness is checked elsewhere (agreement with a
linear-product solve where both run, or a trace test: Leykin, Rodriguez, Sottile, "Trace
test", Arnold Math. J. 4, 2018).

A group acting on the solutions of every member (for networks: permutations of hidden
neurons, which leave the data moments unchanged) commutes with the paths: the path of
``g x`` is ``g`` applied to the path of ``x``. So only one representative per orbit is
tracked, and each new endpoint brings its whole orbit (Duff et al. 2019, section 4;
HomotopyContinuation.jl's ``group_action``).

Each segment is the polynomial parameter path of
:func:`~solver.engine.parameter_homotopy.parameter_path_data`; only regular finite endpoints (refined, relative residual below
:data:`~solver.engine.endpoints.RESIDUAL_TOLERANCE`, condition below
:data:`~solver.engine.endpoints.SINGULAR_CONDITION`) are kept.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy.spatial import cKDTree

from solver.engine.endpoints import CLUSTER_TOLERANCE, collect_solutions
from solver.engine.options import TrackerOptions
from solver.engine.parameter_homotopy import ParametrizedFamily, parameter_path_data, random_point_like
from solver.engine.result import PathStatus, Solution
from solver.engine.solve import track

#: a callable mapping one solution row (n,) to the rows of its orbit (g, n), itself included
Symmetries = Callable[[np.ndarray], np.ndarray]
#: stop after this many consecutive loops that found nothing new
DEFAULT_STALL_LOOPS = 5
#: loops track with the parameter preset but give up on a path after this many steps (a
#: regular path between random members of the networks' families takes at most a few
#: hundred; one that takes more would cost more than the loop's news is worth)
LOOP_OPTIONS = dataclasses.replace(TrackerOptions.parameter(), max_steps=3_000)


@dataclass
class MonodromyResult:
    """What :func:`monodromy_solve` found at the base parameters.

    Attributes
    ----------
    parameters : complex ndarray (n_parameters,)
        The base point ``p0``.
    solutions : complex ndarray (k, n)
        Every distinct regular solution of ``F(.; p0)`` found (whole orbits).
    representatives : int ndarray (orbits,)
        Row of one solution per orbit (all rows without symmetries).
    loops : int
        Loops run.
    paths : int
        Paths tracked (three segments per loop and representative).
    stalled : int
        Consecutive loops at the end that added nothing.
    stopped : str
        ``"stalled"`` (the stopping rule), ``"budget"`` (``max_paths`` reached) or
        ``"target"`` (``target_count`` reached).
    seconds : float
    """

    parameters: np.ndarray
    solutions: np.ndarray
    representatives: np.ndarray
    loops: int
    paths: int
    stalled: int
    stopped: str
    seconds: float

    @property
    def orbits(self) -> int:
        return int(self.representatives.shape[0])


class _SolutionSet:
    """The known solutions at ``p0``, grouped in orbits; membership up to a relative
    tolerance (max norm, ``tol * (1 + |x|)``, as :func:`~solver.engine.endpoints.cluster`)."""

    def __init__(self, n: int, symmetries: Symmetries | None, tolerance: float) -> None:
        self.points = np.zeros((0, n), np.complex128)
        self.representatives: list[int] = []
        self.symmetries, self.tolerance = symmetries, tolerance
        self._tree: cKDTree | None = None

    def _known(self, xs: np.ndarray) -> np.ndarray:
        """Per row of ``xs`` (k, n): is it within the tolerance of a known point?"""
        if self.points.shape[0] == 0:
            return np.zeros(xs.shape[0], bool)
        if self._tree is None:
            self._tree = cKDTree(np.hstack([self.points.real, self.points.imag]))
        d, _ = self._tree.query(np.hstack([xs.real, xs.imag]), p=np.inf)
        return d <= self.tolerance * (1.0 + np.abs(xs).max(axis=1, initial=0.0))

    def _orbit(self, x: np.ndarray) -> np.ndarray:
        if self.symmetries is None:
            return x[None, :]
        images = np.asarray(self.symmetries(x), np.complex128).reshape(-1, x.shape[0])
        keep: list[np.ndarray] = []
        for y in images:  # drop images fixed by the stabiliser
            if not any(np.abs(y - z).max() <= self.tolerance * (1.0 + np.abs(y).max()) for z in keep):
                keep.append(y)
        return np.array(keep)

    def add(self, candidates: np.ndarray) -> int:
        """Add each candidate that is not known, with its orbit; returns the new orbits."""
        xs = np.asarray(candidates, np.complex128).reshape(-1, self.points.shape[1])
        xs = xs[np.isfinite(xs).all(axis=1)]
        fresh = xs[~self._known(xs)]
        if fresh.shape[0] == 0:
            return 0
        # an earlier fresh candidate's orbit may hold a later one: one tree over all the
        # fresh orbits' images, and a candidate is taken when no image of a taken one is near
        orbits = [self._orbit(x) for x in fresh]
        owner = np.repeat(np.arange(len(orbits)), [o.shape[0] for o in orbits])
        images = np.vstack(orbits)
        tree = cKDTree(np.hstack([images.real, images.imag]))
        taken = np.zeros(len(orbits), bool)
        for i, x in enumerate(fresh):
            near = tree.query_ball_point(np.hstack([x.real, x.imag]), self.tolerance * (1.0 + np.abs(x).max()), p=np.inf)
            if not taken[owner[near]].any():
                taken[i] = True
        kept = [orbits[i] for i in np.flatnonzero(taken)]
        row = self.points.shape[0]
        for orbit in kept:
            self.representatives.append(row)
            row += orbit.shape[0]
        self.points = np.vstack([self.points] + kept)
        self._tree = None
        return int(taken.sum())


def regular_points(solutions: Sequence[Solution], n: int) -> np.ndarray:
    """The values of the regular solutions among ``solutions`` as rows (k, n)."""
    rows = [s.values for s in solutions if s.status == PathStatus.REGULAR]
    return np.array(rows, np.complex128).reshape(len(rows), n)


def _segment(
    family: ParametrizedFamily, a: np.ndarray, b: np.ndarray, starts: np.ndarray, rng: np.random.Generator, options: TrackerOptions
) -> np.ndarray:
    """Move ``starts`` from ``F(.; a)`` to ``F(.; b)``; the distinct regular endpoints,
    refined on ``F(.; b)``, as rows.

    Unlike :func:`~solver.engine.parameter_homotopy.track_parameters`, failed paths are
    not re-run with the conservative options: a path lost in one loop costs nothing but
    that loop's news, while a re-run of a hard path costs up to 200,000 steps."""
    target = family.system(b)
    hom = parameter_path_data(family, a, b, rng)
    tracked = track(np.ascontiguousarray(starts), hom, options)
    with np.errstate(all="ignore"):
        affine = tracked[0][:, 1:] / tracked[0][:, :1]
    return regular_points(collect_solutions(target, affine, tracked[1])[0], starts.shape[1])


def _loop(
    family: ParametrizedFamily,
    p0: np.ndarray,
    starts: np.ndarray,
    rng: np.random.Generator,
    options: TrackerOptions,
) -> tuple[np.ndarray, int]:
    """Move ``starts`` around ``p0 -> p1 -> p2 -> p0`` (random complex ``p1``, ``p2``,
    standard normal entries scaled to ``p0``'s size); returns the endpoints at ``p0``
    and the number of paths tracked."""
    corners = [p0, random_point_like(p0, rng), random_point_like(p0, rng), p0]
    points, paths = starts, 0
    for a, b in zip(corners, corners[1:]):
        if points.shape[0] == 0:
            break
        paths += points.shape[0]
        points = _segment(family, a, b, points, rng, options)
    return points, paths


def monodromy_solve(
    family: ParametrizedFamily,
    p0: np.ndarray,
    start_solutions: np.ndarray,
    rng: np.random.Generator,
    symmetries: Symmetries | None = None,
    stall_loops: int = DEFAULT_STALL_LOOPS,
    max_paths: int = 1_000_000,
    target_count: int | None = None,
    tolerance: float = CLUSTER_TOLERANCE,
    options: TrackerOptions | str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> MonodromyResult:
    """Every solution of ``F(.; p0)`` reachable by monodromy from ``start_solutions``.

    Parameters
    ----------
    family : ParametrizedFamily
    p0 : complex ndarray (n_parameters,)
        The base point; ``start_solutions`` must solve ``F(.; p0)``.
    start_solutions : complex ndarray (k, n)
        Known solutions (one seed per irreducible component of the incidence variety).
    rng : numpy.random.Generator
        Draws the loops' corners and the trackers' patches.
    symmetries : callable, optional
        ``x -> rows of the orbit of x``; every image of a solution must be a solution of
        every member (the group acts on ``x`` alone).
    stall_loops : int
        Stop after this many consecutive loops that add nothing.
    max_paths : int
        Stop before a loop would take the paths tracked beyond this.
    target_count : int, optional
        Stop as soon as this many solutions are known (a count known from elsewhere).
    tolerance : float
        Two points are one solution when within ``tolerance * (1 + |x|)`` (max norm).
    options : TrackerOptions or preset name, optional
        Default :data:`LOOP_OPTIONS`.
    progress : callable(paths, max_paths), optional
        Called after each loop.

    Returns
    -------
    MonodromyResult
    """
    t0 = time.perf_counter()
    options = LOOP_OPTIONS if options is None else TrackerOptions.resolve(options)
    p0 = np.asarray(p0, np.complex128)
    starts = np.asarray(start_solutions, np.complex128)
    known = _SolutionSet(starts.shape[1], symmetries, tolerance)
    known.add(starts)
    loops = paths = stalled = 0
    stopped = "stalled"
    while stalled < stall_loops:
        if target_count is not None and known.points.shape[0] >= target_count:
            stopped = "target"
            break
        reps = known.points[known.representatives]
        if paths + 3 * reps.shape[0] > max_paths:
            stopped = "budget"
            break
        ends, tracked = _loop(family, p0, reps, rng, options)
        loops, paths = loops + 1, paths + tracked
        stalled = 0 if known.add(ends) else stalled + 1
        if progress is not None:
            progress(paths, max_paths)
    return MonodromyResult(
        p0, known.points, np.array(known.representatives, np.int64), loops, paths, stalled, stopped, time.perf_counter() - t0
    )

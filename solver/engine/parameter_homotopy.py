"""Coefficient-parameter homotopy: solve one generic member of a family, then reach every
other member from its solutions.

A family is a polynomial system whose coefficients depend linearly (affinely) on
parameters ``p``, with fixed supports: ``F(x; p)``. For a generic complex ``p_G``, the
isolated solutions of ``F(x; p_G)`` number the family's generic root count, which is often
far below the total degree or any linear-product count of a single member. The homotopy

    H(x, s) = s * gamma * F(x; p_G) + (1 - s) * F(x; p_F)

stays inside the family: each equation equals ``(s gamma + 1 - s) F(x; p(s))`` with
``p(s) = (s gamma p_G + (1 - s) p_F) / (s gamma + 1 - s)``, so its paths, started at the
generic solutions, reach every isolated solution of the target ``F(x; p_F)``, with
probability one over ``gamma`` and ``p_G`` (Morgan and Sommese, "Coefficient-parameter
polynomial continuation", Appl. Math. Comput. 29, 1989; Sommese and Wampler, *The
Numerical Solution of Systems of Polynomials*, 2005, ch. 7). The kernels already track
``s gamma G + (1 - s) F`` for a sparse start ``G`` (:mod:`solver.engine.homotopy`), so the
family's generic member is that start. Both sides must be scaled alike, equation by
equation, or the path would leave the family.

The layer-wise initialisation solves one small system per neuron, all of one family (the
moments of the data are the parameters): one generic solve, then a few paths per neuron
instead of the whole linear-product start system.

Families whose coefficients are *polynomial* in their parameters (a network's gradient
system: products of surrogate coefficients times data moments) cannot take the straight
pencil above: a line between two members' coefficient vectors leaves the family. For
them :func:`track_parameters` moves the parameters themselves along the segment
``p(s) = s p_0 + (1 - s) p_1`` and evaluates the coefficients there, as
HomotopyContinuation.jl's parameter homotopies do. Along the segment each coefficient is
a polynomial in ``s`` of the family's parameter degree ``K``; its ``K + 1`` coefficients
come from samples at the ``(K + 1)``-th roots of unity (a discrete Fourier transform,
exact up to rounding and perfectly conditioned), and the kernels evaluate ``H`` and
``dH/ds`` by Horner's rule. With ``p_0`` generic complex, the real segment avoids the
discriminant with probability one, and every isolated solution of ``F(x; p_1)`` is the end
of a path from an isolated solution of ``F(x; p_0)`` (Morgan and Sommese 1989, Theorem 1;
Sommese and Wampler 2005, Theorem 7.1.6).
"""

from __future__ import annotations

import time
from typing import Callable, Protocol, Sequence

import numpy as np

from solver.engine.homotopy import START_PARAMETER, Homotopy, homogenized_exponents, make_homotopy, random_gamma_patch
from solver.engine.options import TrackerOptions
from solver.engine.result import PathStatus, SolveResult
from solver.engine.endpoints import cluster
from solver.engine.system import InvalidSystem, System


def generic_solutions(generic: System, seed: int = 0, tries: int = 2, max_paths: int = 1_000_000) -> np.ndarray:
    """All regular isolated solutions of a generic family member, as rows (k, n).

    The member is solved ``tries`` times with independent start systems (seeds ``seed``,
    ``seed + 1``, ...) and the solution sets are merged, so one failed path does not drop
    a solution for every member later reached from these. Singular endpoints are left out:
    a generic member's singular points lie on positive-dimensional components, which no
    path of the parameter homotopy needs.
    """
    from solver.engine.solve import solve

    found = []
    for k in range(tries):
        res = solve(generic, seed=seed + k, max_paths=max_paths)
        found += [s.values for s in res.solutions if s.status == PathStatus.REGULAR]
    if not found:
        return np.zeros((0, generic.n_variables), np.complex128)
    pts = np.array(found, dtype=np.complex128)
    labels = cluster(pts, 1e-6)
    return pts[np.unique(labels, return_index=True)[1]]


def _shared_terms(target: System, generic: System) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Both systems on the union of their terms, equation by equation: the generic and
    the target coefficients (zero where a term is absent), exponents and offsets.

    Each equation is divided by the target equation's largest coefficient modulus, on
    both sides: one factor per equation keeps the path in the family."""
    gcs, fcs, exps, offsets = [], [], [], [0]
    for pt, pg in zip(target.polynomials, generic.polynomials):
        index: dict[bytes, int] = {}
        rows = []
        for e in np.vstack([pg.exponents, pt.exponents]):
            key = e.tobytes()
            if key not in index:
                index[key] = len(rows)
                rows.append(e)
        g = np.zeros(len(rows), np.complex128)
        f = np.zeros(len(rows), np.complex128)
        np.add.at(g, [index[e.tobytes()] for e in pg.exponents], pg.coefficients)
        np.add.at(f, [index[e.tobytes()] for e in pt.exponents], pt.coefficients)
        m = np.abs(pt.coefficients).max() if pt.n_terms else 0.0
        m = m if m > 0 else 1.0
        gcs.append(g / m)
        fcs.append(f / m)
        exps.append(np.array(rows, dtype=np.int64).reshape(-1, target.n_variables))
        offsets.append(offsets[-1] + len(rows))
    return np.concatenate(gcs), np.concatenate(fcs), np.vstack(exps), np.array(offsets, np.int64)


def parameter_homotopy_data(target: System, generic: System, rng: np.random.Generator) -> Homotopy:
    """The kernels' :class:`~solver.engine.homotopy.Homotopy` from the generic member
    (start) to ``target``."""

    n = target.n_variables
    if generic.n_variables != n or generic.n_equations != target.n_equations:
        raise InvalidSystem("the target and the generic member must have the same unknowns and equations")
    degrees = generic.degrees
    if (target.degrees > degrees).any():
        raise InvalidSystem("a target equation has higher degree than the generic member: not one family")
    gc, fc, e, offsets = _shared_terms(target, generic)
    fe = homogenized_exponents(e, offsets, degrees)
    gamma, patch = random_gamma_patch(n, rng)
    N = n + 1
    lin = np.zeros((n, 1, N), np.complex128)
    ge, go = np.zeros((0, N), np.int64), np.zeros(n + 1, np.int64)
    # the pencil F + s (gamma G - F): its s-derivative is computed once here, not per step
    return make_homotopy(START_PARAMETER, lin, np.asarray(degrees, np.int64), gamma * gc - fc, ge, go, fc, fe, offsets, gamma, patch)


def solve_family(
    targets: Sequence[System],
    generic: System,
    start_solutions: np.ndarray,
    seed: int = 0,
    options: TrackerOptions | str | None = None,
) -> list[SolveResult]:
    """Solve every member in ``targets`` from the generic member's solutions, all paths in
    one batched Numba call.

    Parameters
    ----------
    targets : sequence of System
        Members of the family of ``generic`` (same unknowns; supports within its supports).
    generic : System
        A generic member (random complex parameters).
    start_solutions : complex ndarray (k, n)
        Its isolated solutions (:func:`generic_solutions`).
    seed : int
        Seeds gamma and the projective patch of each target.
    options : TrackerOptions or preset name, optional

    Returns
    -------
    list of SolveResult
        ``start_system`` is ``"parameter"``; ``root_counts`` holds the generic root count.
    """
    from solver.engine.solve import track_batch

    targets = list(targets)
    if not targets:
        return []
    options = TrackerOptions.resolve(options)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    starts = np.ascontiguousarray(np.asarray(start_solutions, dtype=np.complex128).reshape(-1, generic.n_variables))
    homs = [parameter_homotopy_data(t, generic, rng) for t in targets]
    counts = {"total_degree": generic.total_degree, "linear_product": None, "mixed_volume": None, "generic": starts.shape[0]}
    return track_batch(
        targets,
        homs,
        [starts] * len(targets),
        options,
        ["parameter"] * len(targets),
        [dict(counts) for _ in targets],
        t0=t0,
    )


class ParametrizedFamily(Protocol):
    """A square polynomial family ``F(x; p)`` with fixed supports whose coefficients are
    polynomials in the parameters ``p`` (e.g. :class:`solver.networks.family.NetworkFamily`).

    Attributes
    ----------
    supports : sequence of int64 ndarray (terms_i, n)
        The exponents of equation ``i``.
    offsets : int64 ndarray (n + 1,)
        Equation ``i`` owns entries ``offsets[i]:offsets[i + 1]`` of the flat coefficients.
    parameter_degree : int
        The largest total degree of a coefficient in ``p``.
    """

    supports: Sequence[np.ndarray]
    offsets: np.ndarray
    parameter_degree: int

    def flat_coefficients(self, P: np.ndarray) -> np.ndarray:
        """Coefficients at one parameter point (M,) or a batch (k, n_parameters) -> (k, M)."""

    def system(self, P: np.ndarray) -> System:
        """The member at ``P``."""


def segment_coefficients(family: ParametrizedFamily, p_start: np.ndarray, p_target: np.ndarray) -> np.ndarray:
    """The coefficients along ``p(s) = s p_start + (1 - s) p_target`` as a polynomial in
    ``s``: row ``k`` of the result (K + 1, M) holds the coefficients of ``s^k``.

    Sampled at the (K + 1)-th roots of unity and transformed back by one FFT, so the
    interpolation is exact for degree <= K and its condition number is 1.
    """
    K = int(family.parameter_degree)
    omega = np.exp(2j * np.pi * np.arange(K + 1) / (K + 1))
    p0 = np.asarray(p_start, np.complex128)
    p1 = np.asarray(p_target, np.complex128)
    samples = np.asarray(family.flat_coefficients(omega[:, None] * p0 + (1.0 - omega[:, None]) * p1), np.complex128)
    return np.fft.fft(samples, axis=0) / (K + 1)


def parameter_path_data(family: ParametrizedFamily, p_start: np.ndarray, p_target: np.ndarray, rng: np.random.Generator) -> Homotopy:
    """The kernels' :class:`~solver.engine.homotopy.Homotopy` for ``F(x; p(s))``, ``s`` from
    1 (``p_start``) to 0 (``p_target``): the polynomial pencil of
    :func:`~solver.engine.evaluation.eval_pencil_jacobian` with ``K`` layers.

    Each equation is divided by its largest coefficient modulus over all layers (one
    constant per equation, so the path stays in the family). Track one such homotopy per
    batch: stacking pads the layers of smaller systems at the wrong stride.
    """
    layers = segment_coefficients(family, p_start, p_target)
    offsets = np.asarray(family.offsets, np.int64)
    n = len(family.supports)
    for i in range(n):
        block = layers[:, offsets[i] : offsets[i + 1]]
        top = np.abs(block).max() if block.size else 0.0
        if top > 0:
            block /= top
    exps = np.ascontiguousarray(np.vstack(family.supports).astype(np.int64))
    degrees = np.array([int(e.sum(axis=1).max()) if len(e) else 0 for e in family.supports], np.int64)
    fe = homogenized_exponents(exps, offsets, degrees)
    gamma, patch = random_gamma_patch(n, rng)  # gamma is unused: p_start is generic
    N = n + 1
    lin = np.zeros((n, 1, N), np.complex128)
    ge, go = np.zeros((0, N), np.int64), np.zeros(n + 1, np.int64)
    gc = np.ascontiguousarray(layers[1:].reshape(-1))
    fc = np.ascontiguousarray(layers[0])
    return make_homotopy(START_PARAMETER, lin, degrees, gc, ge, go, fc, fe, offsets, gamma, patch)


def random_point_like(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random complex parameter point of ``p``'s size: standard complex normal entries
    scaled to ``p``'s root mean square (the corners of monodromy loops, the detours of
    failed paths)."""
    p = np.asarray(p, np.complex128)
    scale = np.sqrt(np.mean(np.abs(p) ** 2))
    return scale * (rng.normal(size=p.shape[0]) + 1j * rng.normal(size=p.shape[0])) / np.sqrt(2.0)


def detour_failures(
    family: ParametrizedFamily,
    p_start: np.ndarray,
    p_target: np.ndarray,
    starts: np.ndarray,
    tracked: tuple[np.ndarray, ...],
    rng: np.random.Generator,
    options: TrackerOptions,
    tries: int = 2,
) -> None:
    """Send the paths that still failed round a random member ``q``: ``p_start -> q ->
    p_target``, up to ``tries`` times with a new ``q``; ``tracked`` (endpoints, status,
    reason, winding, steps) is updated in place.

    A path that fails on the straight segment, even with small steps, passes close to the
    discriminant; the two legs through a random ``q`` avoid it with probability one
    (Morgan and Sommese 1989: any path in the complement of the discriminant joins the
    same solutions). On 1-3-1, 2 of 841 paths of one data set needed it.
    """
    from solver.engine.solve import track

    for _ in range(tries):
        failed = np.flatnonzero(tracked[1] == PathStatus.FAILED)
        if failed.size == 0:
            return
        q = random_point_like(p_start, rng)
        leg = track(np.ascontiguousarray(starts[failed]), parameter_path_data(family, p_start, q, rng), options)
        ok = leg[1] == PathStatus.REGULAR
        if not ok.any():
            continue
        with np.errstate(all="ignore"):
            middle = np.ascontiguousarray(leg[0][ok, 1:] / leg[0][ok, :1])
        leg = track(middle, parameter_path_data(family, q, p_target, rng), options)
        for arr, new in zip(tracked, leg):
            arr[failed[ok]] = new


def track_parameters(
    family: ParametrizedFamily,
    p_start: np.ndarray,
    p_target: np.ndarray,
    start_solutions: np.ndarray,
    seed: int = 0,
    options: TrackerOptions | str | None = None,
    target: System | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SolveResult:
    """Move the solutions of ``F(x; p_start)`` to ``F(x; p_target)`` along the parameter
    segment (see the module docstring). A path that fails is re-run with the conservative
    options, then sent round a random member (:func:`detour_failures`).

    Parameters
    ----------
    family : ParametrizedFamily
    p_start, p_target : complex ndarray (n_parameters,)
        ``p_start`` should be generic (random complex) unless both ends are known to be
        joined by a path that avoids the discriminant (monodromy loops use random ends).
    start_solutions : complex ndarray (k, n)
        Solutions of ``F(x; p_start)``.
    seed : int
        Seeds the projective patch.
    options : TrackerOptions or preset name, optional
        Default: the ``"parameter"`` preset (Hermite predictor).
    target : System, optional
        ``family.system(p_target)``, if the caller has it already (refinement runs on it).
    progress : callable(done, total), optional
        Called as paths finish.

    Returns
    -------
    SolveResult
        ``start_system`` is ``"parameter"``; ``root_counts["generic"]`` is the number of
        start solutions.
    """
    from solver.engine.solve import result_from_endpoints, retry_failures, track

    options = TrackerOptions.parameter() if options is None else TrackerOptions.resolve(options)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    target = family.system(np.asarray(p_target)) if target is None else target
    starts = np.ascontiguousarray(np.asarray(start_solutions, dtype=np.complex128).reshape(-1, target.n_variables))
    hom = parameter_path_data(family, p_start, p_target, rng)
    tracked = track(starts, hom, options, progress, 0, starts.shape[0])
    retry_failures(starts, hom, tracked)
    detour_failures(family, np.asarray(p_start, np.complex128), np.asarray(p_target, np.complex128), starts, tracked, rng, options)
    counts = {"total_degree": target.total_degree, "linear_product": None, "mixed_volume": None, "generic": starts.shape[0]}
    endpoints, status, reason = tracked[0], tracked[1], tracked[2]
    return result_from_endpoints(target, endpoints, status, reason, "parameter", counts, time.perf_counter() - t0)

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
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from solver.engine.homotopy import START_PARAMETER, Homotopy, homogenized_exponents, random_gamma_patch
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
    return Homotopy(START_PARAMETER, lin, np.asarray(degrees, np.int64), gamma * gc - fc, ge, go, fc, fe, offsets, gamma, patch)


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

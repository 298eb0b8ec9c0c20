"""Whole paths, start point to endpoint, many at once: the parallel kernels behind
:func:`solver.engine.solve.solve` (one homotopy) and :func:`solver.engine.solve.track_batch`
(many homotopies of one size). A path is the predictor-corrector run of
:mod:`solver.engine.tracker` from ``s = 1`` to ``endgame_start``, then the endgame of
:mod:`solver.engine.endgame`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from solver.engine.endgame import FAILED, run_endgame
from solver.engine.homotopy import Homotopy, make_workspace, max_degree
from solver.engine.options import OPT
from solver.engine.tracker import make_buffers, track_segment

_INITIAL_STEP = OPT["initial_step"]
_MAX_STEPS = OPT["max_steps"]
_MAX_STEP = OPT["max_step"]
_EG_START = OPT["endgame_start"]


@njit(cache=True)
def track_path(x_start, hom, opts, X):
    """Track one path from the affine start solution ``x_start`` (n,) and leave its
    projective endpoint in ``X`` (n + 1,). Returns (status, reason, winding, steps)."""
    patch = hom.patch
    n = x_start.shape[0]
    N = n + 1
    X[0] = 1.0
    for j in range(n):
        X[j + 1] = x_start[j]
    # onto the random patch a . X = 1
    dot = 0.0 + 0.0j
    for j in range(N):
        dot += patch[j] * X[j]
    for j in range(N):
        X[j] /= dot
    ws = make_workspace(n, max_degree(hom))
    bufs = make_buffers(N)
    budget = int(opts[_MAX_STEPS])
    code, steps, rc, h = track_segment(X, 1.0 + 0.0j, opts[_EG_START] + 0.0j, hom, ws, bufs, opts, opts[_INITIAL_STEP], opts[_MAX_STEP], budget)
    if code != 0:
        return FAILED, code, 0, steps
    status, reason, winding, st = run_endgame(X, hom, ws, bufs, opts, budget - steps)
    return status, reason, winding, steps + st


@njit(cache=True)
def _track_into(p, x_start, hom, opts, endpoints, codes):
    """Track one path into row ``p`` of ``endpoints`` and column ``p`` of ``codes``
    (status, reason, winding, steps)."""
    a, r, w, s = track_path(x_start, hom, opts, endpoints[p])
    codes[0, p] = a
    codes[1, p] = r
    codes[2, p] = w
    codes[3, p] = s


@njit(cache=True, parallel=True)
def track_paths(starts, hom, opts):
    """Track every row of ``starts`` (P, n) in parallel.

    Returns
    -------
    endpoints : complex (P, n + 1) projective endpoints
    status, reason, winding, steps : int64 (P,)
    """
    P, n = starts.shape
    endpoints = np.empty((P, n + 1), dtype=np.complex128)
    codes = np.empty((4, P), dtype=np.int64)
    for p in prange(P):
        _track_into(p, starts[p], hom, opts, endpoints, codes)
    return endpoints, codes[0], codes[1], codes[2], codes[3]


@njit(cache=True, parallel=True)
def track_paths_batched(starts, owner, homs, opts):
    """Paths of many systems with the same number of unknowns in one parallel call.

    Row ``p`` of ``starts`` belongs to system ``owner[p]``; ``homs`` is one
    :class:`~solver.engine.homotopy.Homotopy` whose fields but ``kind`` are stacked along a
    leading axis, term arrays padded to a common length (each system's offsets say which
    rows are its own). Returns what :func:`track_paths` returns.
    """
    P, n = starts.shape
    endpoints = np.empty((P, n + 1), dtype=np.complex128)
    codes = np.empty((4, P), dtype=np.int64)
    for p in prange(P):
        b = owner[p]
        hom = Homotopy(
            homs.kind, homs.lin[b], homs.n_factors[b], homs.gc[b], homs.ge[b], homs.go[b],
            homs.fc[b], homs.fe[b], homs.fo[b], homs.gamma[b], homs.patch[b],
            homs.gterms[b], homs.fterms[b],
        )
        _track_into(p, starts[p], hom, opts, endpoints, codes)
    return endpoints, codes[0], codes[1], codes[2], codes[3]

"""A second look at paths put at infinity while their coordinates were only large.

The endgame (:mod:`solver.engine.endgame`) decides that a path diverges from the ratio
``r = |x0| / max|X|`` of its projective coordinates and the valuation of ``x0``. It
accepts a settled positive valuation at ``r < loose_infinity`` (a tracker option, 2e-3)
to save the cost of following diverging paths far out, so a *finite* solution whose
largest coordinate exceeds about ``1 / loose_infinity`` can be taken for a diverging path
when ``x0`` still decays over the first endgame samples: at 0.02, PHCpack's ``ipp``,
``des22_24`` and ``camera1s`` lost solutions of size 10^2 to 10^6 that way
(``tests/data/hard``). The re-check costs 2-8 times the whole solve on systems with many
diverging paths (cyclic-5/6, eco-8, network gradient systems: ``bench/POLICY_RESULTS.md``),
so ``solve`` runs it only on request.

A path is a curve in projective space: in the coordinates ``Y = X / D`` (``D`` diagonal,
``D_0 = 1``) the homotopy ``H'(Y, s) = H(D Y, s) / k`` (each equation divided by a
constant) has the same solution curves, mapped by ``D``. Taking ``D`` from the point
where the path was stopped makes its coordinates comparable to one, so the same endgame
sees a finite endpoint as finite and a diverging path diverge again (further out, where
its ``r`` falls below the strict ``infinity_threshold``). The paths stopped with
``r >= infinity_threshold`` are tracked again in such coordinates, each with its own
``D`` (one round: a second found nothing new on the hard collection). It is the
projective transformation of Morgan ("A transformation to avoid solutions at infinity for
polynomial systems", Appl. Math. Comput. 18, 1986) taken per path, with a variable
scaling (Morgan's, :mod:`solver.engine.scaling`, from the coefficients) taken from the
path itself.

It cannot help where the homotopy is badly scaled as a whole: the paths of PHCpack's
``chemequs`` (solutions up to 2e4) fail in every chart; a fresh homotopy on the system
scaled to its solutions, or the polyhedral start, finds them.
"""

from __future__ import annotations

import numpy as np

from solver.engine.endpoints import RESIDUAL_TOLERANCE, newton_refine
from solver.engine.homotopy import START_PARAMETER, Homotopy, random_gamma_patch
from solver.engine.options import TrackerOptions
from solver.engine.result import PathStatus
from solver.engine.system import System

__all__ = ["loosely_at_infinity", "rescaled_homotopy", "recheck_infinity"]

#: rounds of re-tracking (a second and third round, each from where the last stopped,
#: found nothing new on des22_24, chemequs or cassou and cost four times the first)
ROUNDS = 1


def loosely_at_infinity(endpoints: np.ndarray, status: np.ndarray, threshold: float) -> np.ndarray:
    """Indices of the paths at infinity whose projective endpoint (P, n + 1) has
    ``|x0| / max|X| >= threshold``: stopped while still at a finite distance."""
    at_inf = np.flatnonzero(status == PathStatus.AT_INFINITY)
    if at_inf.size == 0:
        return at_inf
    X = np.abs(endpoints[at_inf])
    with np.errstate(all="ignore"):
        ratio = X[:, 0] / X.max(axis=1)
    return at_inf[np.isfinite(ratio) & (ratio >= threshold)]


def _chart_factors(endpoints: np.ndarray) -> np.ndarray:
    """``D`` (P, n + 1) from projective points: ``D_0 = 1`` and ``D_j`` the power of two
    nearest to ``max(1, |x_j|)`` (powers of two scale exactly)."""
    X = np.abs(endpoints)
    with np.errstate(all="ignore"):
        size = np.maximum(1.0, X[:, 1:] / X[:, :1])
    size[~np.isfinite(size)] = 1.0
    return np.hstack([np.ones((X.shape[0], 1)), np.exp2(np.rint(np.log2(size)))])


def rescaled_homotopy(hom: Homotopy, factors: np.ndarray, patch: np.ndarray) -> Homotopy:
    """The homotopy ``H'(Y, s) = H(D Y, s) / k`` in coordinates ``Y = X / D`` on the chart
    ``patch . Y = 1``; ``factors`` is ``D`` (n + 1,) and ``k_i`` the largest modulus of the
    target terms of equation ``i``, so that the coefficients stay near one.

    Raises ValueError for a parameter homotopy (its start is not a separate system).
    """
    if hom.kind == START_PARAMETER:
        raise ValueError("rescaled_homotopy takes product and sparse starts")
    logd = np.log(factors)
    n = hom.fo.shape[0] - 1
    eq = np.repeat(np.arange(n), np.diff(hom.fo))
    shift = hom.fe @ logd + np.log(np.abs(hom.fc))
    k = np.full(n, -np.inf)
    np.maximum.at(k, eq, shift)
    fc = hom.fc * np.exp(hom.fe @ logd - k[eq])
    lin = hom.lin * factors[None, None, :] * np.exp(-k / np.maximum(hom.n_factors, 1))[:, None, None]
    gc = hom.gc
    if hom.gc.size:
        geq = np.repeat(np.arange(n), np.diff(hom.go))
        gc = hom.gc * np.exp(hom.ge @ logd - k[geq])
    return hom._replace(lin=np.ascontiguousarray(lin), fc=fc, gc=gc, patch=np.asarray(patch, np.complex128))


def _stacked(homs: list[Homotopy]) -> Homotopy:
    """Homotopies of equal shapes stacked along a leading axis (``kind`` shared), the form
    :func:`~solver.engine.path_kernels.track_paths_batched` reads."""
    fields = {name: np.stack([getattr(h, name) for h in homs]) for name in Homotopy._fields if name not in ("kind", "gamma")}
    return Homotopy(kind=homs[0].kind, gamma=np.array([h.gamma for h in homs], np.complex128), **fields)


def recheck_infinity(
    system: System,
    starts: np.ndarray,
    hom: Homotopy,
    tracked: tuple[np.ndarray, ...],
    options: TrackerOptions,
    rng: np.random.Generator,
    rounds: int = ROUNDS,
) -> int:
    """Track again, in coordinates scaled to where they stopped, the paths that
    ``tracked`` (endpoints, status, reason, winding, steps of the homotopy ``hom`` to
    ``system``; updated in place) put at infinity with
    ``|x0| / max|X| >= options.infinity_threshold``.

    A re-tracked path replaces its first verdict when it ends finite by the strict test
    in the original coordinates (``|x0| / max|X| >= infinity_threshold``) at a point
    that Newton's method on ``system`` refines to a relative residual below
    :data:`~solver.engine.endpoints.RESIDUAL_TOLERANCE` (an endpoint near a component at
    infinity can look finite in the scaled coordinates); with ``rounds > 1``, a path
    that stopped further out goes round again from there. Everything else keeps its
    first verdict. Returns the number of paths that ended finite.
    """
    from solver.engine.path_kernels import track_paths_batched

    endpoints, status = tracked[0], tracked[1]
    opts, n, threshold = options.as_array(), starts.shape[1], options.infinity_threshold
    found = 0
    idx = loosely_at_infinity(endpoints, status, threshold)
    for _ in range(rounds):
        if idx.size == 0:
            break
        factors = _chart_factors(endpoints[idx])
        homs = [rescaled_homotopy(hom, d, random_gamma_patch(n, rng)[1]) for d in factors]
        y_starts = np.ascontiguousarray(starts[idx] / factors[:, 1:])
        new = track_paths_batched(y_starts, np.arange(idx.size), _stacked(homs), opts)
        new_end, new_status, ratio = new[0] * factors, new[1].copy(), _ratio(new[0] * factors)
        finite = _finite_solutions(system, new_end, new_status, ratio, threshold)
        new_status[~finite & (new_status != PathStatus.FAILED)] = PathStatus.AT_INFINITY
        further = (new_status == PathStatus.AT_INFINITY) & (ratio < _ratio(endpoints[idx]))
        take = finite | further
        for arr, values in zip(tracked, (new_end, new_status) + tuple(new[2:])):
            arr[idx[take]] = values[take]
        found += int(finite.sum())
        idx = idx[further & (ratio >= threshold)]
    return found


def _finite_solutions(system: System, endpoints: np.ndarray, status: np.ndarray, ratio: np.ndarray, threshold: float) -> np.ndarray:
    """Which re-tracked endpoints are finite solutions: a finite verdict of the endgame,
    the strict ratio test in the original coordinates and the residual on ``system``."""
    finite = ((status == PathStatus.REGULAR) | (status == PathStatus.SINGULAR)) & (ratio >= threshold)
    rows = np.flatnonzero(finite)
    if rows.size:
        _, residuals = newton_refine(system, endpoints[rows, 1:] / endpoints[rows, :1])
        finite[rows[~(residuals <= RESIDUAL_TOLERANCE)]] = False
    return finite


def _ratio(endpoints: np.ndarray) -> np.ndarray:
    """``|x0| / max|X|`` per projective point."""
    X = np.abs(endpoints)
    with np.errstate(all="ignore"):
        return X[:, 0] / X.max(axis=1)

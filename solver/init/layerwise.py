"""Mode ``layerwise``: every hidden neuron from an exact small critical-point problem.

Layer by layer, each neuron ``i`` is fitted to the current residual ``r`` of the targets:
its input features ``h`` are projected to one (or two) dimensions, ``u = h V_i`` (a random
direction, standardised to ``[-1, 1]``), and the one-neuron surrogate model
``a p(w . u + b)`` is fitted by its regularised loss

    L(a, w, b) = 1/(2N) sum_j (a p(w . u_j + b) - r_j)^2 + (lambda/2)(a^2 + |w|^2 + b^2).

The gradient system of ``L`` has 3 (or 4) unknowns; its coefficients are moments
``E[u^m]`` and ``E[r u^m]`` of the data, so its size does not depend on ``N``. The engine
(:func:`solver.engine.solve.solve`) enumerates all its isolated solutions; among the real minima
(positive definite Hessian) with a non-constant neuron the one whose *real* activation
reduces the residual most, and that splits the sample (active on part, inactive on part),
is kept. The neuron's weights are ``w V_i^T`` and ``b``; the residual is updated by its real
output ``a act(z)``, so the next neuron fits what is left and neurons differ. When no
usable minimum exists (the residual is already fitted, or every minimum leaves the neuron
on one side of the data) the neuron is a start-mode neuron (:mod:`solver.init.anchors`)
and the report counts it.

Features are propagated through the real activation. The output layer is the ridge
least-squares fit on the last features.

The neuron systems form one family whose parameters are the moments: the first round
solves one generic member (complex moments near the round's mean) with a linear-product
start, once per init call, and every neuron system is then reached from its solutions by
a coefficient-parameter homotopy (:mod:`solver.engine.parameter_homotopy`): 33 paths per neuron
instead of 57 for ``q = 1`` (105 instead of 243 for ``q = 2``), none of them diverging.
Each round is one call of :func:`solve_systems`, one batched Numba call.

References: Chen, Hao and He, "A weight initialization based on the linear product
structure for neural networks", Applied Mathematics and Computation 415, 2022 (arXiv
2109.00125; DESIGN.md) (the neuron systems are its gradient systems for one neuron);
Morgan and Sommese, "Coefficient-parameter polynomial continuation", Appl. Math. Comput.
29, 1989 (the parameter homotopy).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from math import factorial
from typing import Callable, Sequence

import numpy as np

from solver.engine.system import Polynomial, System
from solver.init.anchors import cover_rows, start_layer
from solver.init.common import InitError, InitResult, LayerDef, LayerInit, check_data, check_layers, distinct_gaps
from solver.init.options import LayerwiseOptions
from solver.init.stack import ArrayWalker, HiddenLayer, LayerRows, run_stack, total
from solver.networks.activations import activate
from solver.networks.surrogate import Surrogate, fit_surrogate

#: residuals below this (relative to the target's RMS) are treated as fitted
RESIDUAL_FLOOR = 1e-6


# ---------------------------------------------------------------------------------------
# the one-neuron gradient system from moments
# ---------------------------------------------------------------------------------------
def _multi_indices(m: int, q: int) -> list[tuple[int, ...]]:
    """Exponent tuples ``(i_1..i_q, i_b)`` with sum ``m`` (``q`` projection dims + bias)."""
    if q == 0:
        return [(m,)]
    out = []
    for i in range(m + 1):
        for rest in _multi_indices(m - i, q - 1):
            out.append((i,) + rest)
    return out


def _multinomial(idx: Sequence[int]) -> int:
    out = factorial(sum(idx))
    for i in idx:
        out //= factorial(i)
    return out


@dataclass(frozen=True)
class NeuronProblem:
    """One neuron's small critical-point problem and what is needed to use its solutions.

    Attributes
    ----------
    system : System
        ``grad L = 0`` in the unknowns ``(a, w_1, .., w_q, b)``.
    moments : ndarray
        Its parameters (:func:`moment_keys` order).
    u : ndarray (N, q)
        The standardised projection of the layer's inputs.
    directions : ndarray (n, q)
        Maps inputs to ``u`` up to the affine standardisation ``u = (h V - centre) / spread``.
    centre, spread : ndarray (q,)
    target : ndarray (N,)
        The scalar residual the neuron fits.
    out_dir : ndarray (m,)
        Direction in target space of that scalar residual.
    """

    system: System
    moments: np.ndarray
    u: np.ndarray
    directions: np.ndarray
    centre: np.ndarray
    spread: np.ndarray
    target: np.ndarray
    out_dir: np.ndarray


def moment_keys(q: int, degree: int, bias: bool = True) -> list[tuple[tuple[int, ...], bool]]:
    """The moments a one-neuron system reads: ``(i, False)`` for ``E[u^i]`` with
    ``|i| <= 2 degree`` and ``(i, True)`` for ``E[r u^i]`` with ``|i| <= degree`` (``i`` over
    the ``q`` projection dimensions; without a bias only ``|i|`` equal to a power that
    occurs)."""
    keys = []
    for with_r, top in ((False, 2 * degree), (True, degree)):
        for m in range(top + 1):
            for idx in _multi_indices(m, q):
                if bias or not idx[q]:
                    keys.append((idx[:q], with_r))
    return list(dict.fromkeys(keys))


def neuron_moments(u: np.ndarray, r: np.ndarray, degree: int, bias: bool = True) -> np.ndarray:
    """The moments of :func:`moment_keys` from the data (real, in key order)."""
    u = np.asarray(u, dtype=np.float64)
    out = []
    for wexp, with_r in moment_keys(u.shape[1], degree, bias):
        mono = np.prod(u ** np.array(wexp, dtype=np.int64)[None, :], axis=1)
        out.append(float(np.mean(mono * r)) if with_r else float(np.mean(mono)))
    return np.array(out)


def neuron_system(u: np.ndarray, r: np.ndarray, coefficients: np.ndarray, weight_decay: float, bias: bool = True) -> System:
    """Gradient system of the one-neuron loss from the moments of ``u`` and ``r``.

    Parameters
    ----------
    u : ndarray (N, q)
        Projected inputs.
    r : ndarray (N,)
        Scalar target.
    coefficients : ndarray
        Surrogate ``p``, ascending power basis.
    weight_decay : float
        ``lambda`` > 0 (isolated critical points, DESIGN.md).
    bias : bool
        Whether ``b`` is an unknown.

    Returns
    -------
    System
        Unknowns ``a, w1..wq, b`` (``b`` only with ``bias``).
    """
    degree = np.asarray(coefficients).size - 1
    moments = neuron_moments(u, r, degree, bias)
    return neuron_system_from_moments(moments, np.asarray(u).shape[1], coefficients, weight_decay, bias)


def neuron_system_from_moments(moments: np.ndarray, q: int, coefficients: np.ndarray, weight_decay: float, bias: bool = True) -> System:
    """The one-neuron gradient system for given moments (in :func:`moment_keys` order).

    Its coefficients are linear in the moments (plus the constant ``lambda`` terms), so
    the systems of all neurons form one parametrised family: complex random moments give
    its generic member (:mod:`solver.engine.parameter_homotopy`).

    Notes
    -----
    With ``z = w . u + b``: ``L = a^2/2 E[p(z)^2] - a E[r p(z)] + lambda/2 |theta|^2`` (plus a
    constant), and ``E[z^m] = sum_{|i| = m} multinomial(i) w^i b^{i_b} E[u^i]``.
    """
    c = np.asarray(coefficients, dtype=np.float64)
    d = c.size - 1
    nb = 1 if bias else 0
    nv = 1 + q + nb  # a, w.., b
    value = dict(zip(moment_keys(q, d, bias), np.asarray(moments)))
    # polynomial in (a, w.., b) as {exponent tuple: coefficient}
    terms: dict[tuple[int, ...], complex] = {}

    def add(exp: tuple[int, ...], val: complex) -> None:
        if val != 0.0:
            terms[exp] = terms.get(exp, 0.0) + val

    def ez(m: int, with_r: bool) -> list[tuple[tuple[int, ...], complex]]:
        """E[z^m] (or E[r z^m]) as terms in (w, b)."""
        out = []
        for idx in _multi_indices(m, q):
            wexp, bexp = idx[:q], idx[q]
            if not bias and bexp:
                continue
            out.append((tuple(wexp) + ((bexp,) if bias else ()), _multinomial(idx) * value[(wexp, with_r)]))
        return out

    # a^2/2 * sum_{k,k'} c_k c_k' E[z^(k+k')]
    for k in range(d + 1):
        for kk in range(d + 1):
            ck = c[k] * c[kk]
            if ck == 0.0:
                continue
            for wb, v in ez(k + kk, False):
                add((2,) + wb, 0.5 * ck * v)
    # - a * sum_k c_k E[r z^k]
    for k in range(d + 1):
        if c[k] == 0.0:
            continue
        for wb, v in ez(k, True):
            add((1,) + wb, -c[k] * v)
    lam = float(weight_decay)
    for j in range(nv):
        e = [0] * nv
        e[j] = 2
        add(tuple(e), 0.5 * lam)

    exps = np.array(list(terms.keys()), dtype=np.int64)
    vals = np.array(list(terms.values()), dtype=np.complex128)
    polys = []
    for j in range(nv):
        has = exps[:, j] > 0
        e = exps[has].copy()
        cj = vals[has] * e[:, j]
        e[:, j] -= 1
        polys.append(Polynomial(cj, e))
    names = ["a"] + [f"w{i + 1}" for i in range(q)] + (["b"] if bias else [])
    return System(tuple(polys), tuple(names))


# ---------------------------------------------------------------------------------------
# the solver hook: one call for all systems of a layer
# ---------------------------------------------------------------------------------------
def solve_systems(
    systems: Sequence[System],
    seed: int = 0,
    max_paths: int = 100_000,
    family: tuple[System, np.ndarray] | None = None,
) -> list[dict]:
    """Real critical points of each system, with their path counts.

    The single place where the engine is called, for all systems of a round at once.
    With ``family = (generic, solutions)`` (:func:`neuron_family`) the systems are reached
    from the generic member's solutions by a coefficient-parameter homotopy
    (:func:`solver.engine.parameter_homotopy.solve_family`); without it each system gets its own
    linear-product start system (:func:`solver.engine.solve.solve_many`).

    Returns
    -------
    list of dict
        ``{"real": ndarray (k, n), "paths": int, "solutions": int, "failed": int}`` per system.
    """
    from solver.engine.solve import solve_many
    from solver.engine.start_systems.choice import TooManyPaths

    if family is not None:
        from solver.engine.parameter_homotopy import solve_family

        generic, starts = family
        total = starts.shape[0] * len(systems)
        if total > max_paths:
            raise TooManyPaths(total, max_paths, "parameter", {"systems": len(systems)})
        results = solve_family(list(systems), generic, starts, seed=seed)
    else:
        results = solve_many(list(systems), seed=seed, max_paths=max_paths)
    return [
        {
            "real": res.values(real_only=True),
            "paths": int(res.paths),
            "solutions": len(res.solutions),
            "failed": int(res.counts.get("failed", 0)),
        }
        for res in results
    ]


#: relative size of the complex perturbation that makes a layer's mean moments generic
GENERIC_PERTURBATION = 0.3


def neuron_family(
    moments: np.ndarray, q: int, coefficients: np.ndarray, weight_decay: float, bias: bool, rng: np.random.Generator, seed: int = 0
) -> tuple[System, np.ndarray]:
    """A generic member of the one-neuron family and all its isolated solutions.

    Its moments are the mean of ``moments`` (rows: neurons of a round, in
    :func:`moment_keys` order) times ``1 + 0.3 z`` with complex normal ``z``: generic with
    probability one, and close to the systems it will be deformed into, so the parameter
    homotopy paths are short (about half the steps of random unit moments).
    """
    from solver.engine.parameter_homotopy import generic_solutions

    centre = np.mean(np.atleast_2d(moments), axis=0)
    z = rng.standard_normal(centre.size) + 1j * rng.standard_normal(centre.size)
    generic = neuron_system_from_moments(centre * (1.0 + GENERIC_PERTURBATION * z), q, coefficients, weight_decay, bias)
    return generic, generic_solutions(generic, seed=seed)


@lru_cache(maxsize=None)
def paths_per_neuron(q: int, degree: int, bias: bool = True, weight_decay: float = 0.01) -> int:
    """Paths per neuron system: the generic root count of the one-neuron family (what the
    parameter homotopy tracks), from a generic member built on random data."""
    rng = np.random.default_rng(0)
    u = rng.uniform(-1, 1, size=(16, q))
    sur = fit_surrogate("relu", degree, (-1.0, 1.0))
    moments = neuron_moments(u, rng.normal(size=16), degree, bias)
    return int(neuron_family(moments, q, sur.coefficients, weight_decay, bias, rng)[1].shape[0])


# ---------------------------------------------------------------------------------------
# one layer
# ---------------------------------------------------------------------------------------
def _projection(h: np.ndarray, rng: np.random.Generator, q: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Random directions ``V`` (n, q) and the standardised projection ``u`` in [-1, 1]."""
    n = h.shape[1]
    for _ in range(16):
        v = rng.standard_normal((n, q))
        v /= np.linalg.norm(v, axis=0, keepdims=True)
        p = h @ v
        lo, hi = p.min(axis=0), p.max(axis=0)
        spread = 0.5 * (hi - lo)
        if (spread > 1e-9 * (np.abs(p).max(axis=0) + 1e-300)).all():
            centre = 0.5 * (hi + lo)
            return v, (p - centre) / spread, centre, spread
    raise InitError("layer inputs are constant on the data: no projection separates the sample")


def _window(u: np.ndarray, centre: np.ndarray, spread: np.ndarray, rng: np.random.Generator, q: int):
    """A random window of the projection: centre at a random sample point, half width 0.3
    to 1 of the range. The neuron fits the residual there, so its kink lands inside the
    data at a place of its own (with the whole range every neuron of a 1-D layer finds the
    same few minima). Returns the mask and the re-standardised ``u``, ``centre``, ``spread``
    (the whole sample when the window holds too few distinct points)."""
    N = u.shape[0]
    c = u[rng.integers(N)]
    half = rng.uniform(0.3, 1.0)
    m = (np.abs(u - c) <= half).all(axis=1)
    if np.unique(u[m], axis=0).shape[0] >= q + 4:
        return m, (u - c) / half, centre + c * spread, spread * half
    return np.ones(N, dtype=bool), u, centre, spread


def _neuron_problem(
    h: np.ndarray, resid: np.ndarray, scale0: float, surrogate: Surrogate, rng: np.random.Generator, q: int, bias: bool, options: LayerwiseOptions
) -> NeuronProblem:
    """One neuron's problem against the current residual: projection, window, target."""
    v, u, centre, spread = _projection(h, rng, q)
    mask = np.ones(h.shape[0], dtype=bool)
    if options.window:
        mask, u, centre, spread = _window(u, centre, spread, rng, q)
    # with several outputs each neuron fits the residual along a random mix of the target
    # directions, so neurons specialise
    if resid.shape[1] == 1:
        od = np.ones(1)
    else:
        od = rng.standard_normal(resid.shape[1])
        od /= np.linalg.norm(od)
    t = resid @ od / scale0
    moments = neuron_moments(u[mask], t[mask], surrogate.coefficients.size - 1, bias)
    system = neuron_system_from_moments(moments, q, surrogate.coefficients, options.weight_decay, bias)
    return NeuronProblem(system, moments, u, v, centre, spread, t, od)


def _best_minimum(prob: NeuronProblem, points: np.ndarray, t: np.ndarray, layer: LayerDef, q: int, weight_decay: float) -> np.ndarray | None:
    """The real minimum whose real activation reduces the residual ``t`` most and that
    splits the sample, with its output weight refitted; None when there is none."""
    best, best_loss = None, np.inf
    for x in points:
        if not np.isfinite(x).all():
            continue
        a, w = x[0], x[1 : 1 + q]
        b = x[1 + q] if layer.bias else 0.0
        if np.linalg.norm(w) < 1e-8 or abs(a) < 1e-10:
            continue  # a constant or silent neuron: the dead-neuron critical points
        hess = prob.system.jacobian(x.astype(np.complex128)).real
        eig = np.linalg.eigvalsh(0.5 * (hess + hess.T))
        if eig.min() <= 1e-12 * max(1.0, abs(eig).max()):
            continue  # saddle, maximum or degenerate
        z = prob.u @ w + b
        lower, _ = distinct_gaps(z)
        if not ((z > 0).any() and (z <= 0).any()) or lower.size == 0:
            continue  # active everywhere or nowhere: not a useful ReLU
        # judge the minimum as the real network will use it: the real activation with its
        # best output weight (the output layer is refitted anyway)
        g = activate(z, layer.activation, layer.negative_slope)
        g = g - g.mean()  # the output bias absorbs the mean
        a_real = float(np.mean(g * t) / (np.mean(g * g) + weight_decay))
        loss = float(0.5 * np.mean((a_real * g - t) ** 2))
        if loss < best_loss:
            best, best_loss = np.r_[a_real, x[1:]], loss
    return best


def _neuron_on_inputs(h: np.ndarray, prob: NeuronProblem, best: np.ndarray, q: int, bias: bool) -> tuple[np.ndarray, float]:
    """The chosen minimum as weight and bias on the layer inputs ``h``:
    ``z = w . (h V - centre) / spread + b``."""
    w = best[1 : 1 + q]
    b = best[1 + q] if bias else 0.0
    return prob.directions @ (w / prob.spread), b - float(np.dot(w, prob.centre / prob.spread))


class _LayerFit:
    """The state of one layer's greedy fit: residual, weights so far, counts."""

    def __init__(self, h: np.ndarray, y: np.ndarray, layer: LayerDef, surrogate: Surrogate, q: int, options: LayerwiseOptions):
        self.h, self.layer, self.surrogate, self.q, self.options = h, layer, surrogate, q, options
        self.resid = y - y.mean(axis=0)
        self.scale0 = float(np.sqrt(np.mean(self.resid**2))) or 1.0
        self.W = np.zeros((layer.out_features, h.shape[1]))
        self.B = np.zeros(layer.out_features)
        self.counts = {"systems": 0, "paths": 0, "real_critical_points": 0, "minima_used": 0, "start_fallbacks": 0}
        self.fallback_idx: list[int] = []

    def take(self, i: int, prob: NeuronProblem, sol: dict) -> None:
        """Neuron ``i`` from its solved system, judged on the residual as it is now
        (earlier neurons of the round have taken their share); the residual loses what
        the neuron explains with its real activation."""
        self.counts["paths"] += sol["paths"]
        pts = np.atleast_2d(sol["real"])
        self.counts["real_critical_points"] += pts.shape[0]
        t = self.resid @ prob.out_dir / self.scale0
        best = _best_minimum(prob, pts, t, self.layer, self.q, self.options.weight_decay)
        if best is None:
            self.counts["start_fallbacks"] += 1
            self.fallback_idx.append(i)
            return
        self.counts["minima_used"] += 1
        wh, bh = _neuron_on_inputs(self.h, prob, best, self.q, self.layer.bias)
        z = self.h @ wh + bh
        g = activate(z, self.layer.activation, self.layer.negative_slope)
        self.resid = self.resid - np.outer(best[0] * self.scale0 * (g - g.mean()), prob.out_dir)
        # keep the fitted threshold and scale the spread as start mode does (features of
        # order one for the next layer); a positive factor keeps the active set
        lo, hi = self.surrogate.interval
        span = z.max() - z.min()
        s = (hi - lo) / span if span > 0 else 1.0
        self.W[i], self.B[i] = wh * s, bh * s

    def finish(self, rng: np.random.Generator) -> LayerInit:
        """Start-mode neurons where no usable minimum was found, coverage for ReLU."""
        bias = self.layer.bias
        if self.fallback_idx:
            li = start_layer(self.h, len(self.fallback_idx), self.surrogate, rng, bias, cover=False)
            self.W[self.fallback_idx] = li.weight
            if bias:
                self.B[self.fallback_idx] = li.bias
        covered_moves = 0
        if self.layer.activation == "relu" and bias:
            shift, covered_moves = cover_rows(self.h, self.h @ self.W.T + self.B)
            self.B = self.B - shift
        info = {"method": "layerwise", **self.counts, "coverage_moves": int(covered_moves), "projection_dim": int(self.q)}
        return LayerInit(self.W, self.B if bias else None, info)


def layerwise_layer(
    h: np.ndarray,
    y: np.ndarray,
    layer: LayerDef,
    surrogate: Surrogate,
    rng: np.random.Generator,
    *,
    seed: int = 0,
    options: LayerwiseOptions = LayerwiseOptions(),
    solver: Callable[..., list[dict]] | None = None,
    families: dict | None = None,
) -> LayerInit:
    """Weights of one hidden layer, neuron by neuron from exact small problems.

    Neurons are fitted greedily to the residual. They are processed in rounds of
    ``options.batch`` neurons: a round builds its one-neuron systems against the residual
    left by the earlier rounds and solves them in one solver call; then each neuron of the
    round in turn picks its minimum on the residual as it is at that moment (the earlier
    neurons of the round have taken their share) and updates it. ``batch=1`` is fully
    greedy; ``batch=None`` solves the whole layer in one call (neurons then differ
    through their random projections and the greedy choice between their minima).

    Parameters
    ----------
    h : ndarray (N, n)
        Layer inputs.
    y : ndarray (N, m)
        Targets.
    layer : LayerDef
        Its out_features, bias and real activation.
    surrogate : Surrogate
        Surrogate of the activation on the fit interval.
    rng : numpy Generator
    seed : int
        Engine seed of the layer (rounds add their first neuron's index).
    options : LayerwiseOptions
    solver : callable, optional
        Replaces :func:`solve_systems` (same signature).
    families : dict, optional
        Generic neuron systems by family (:func:`neuron_family`), shared between the
        layers of one init call; filled in place.

    Returns
    -------
    LayerInit
        ``info``: systems, paths, real critical points, minima used, fallbacks.
    """
    if options.projection_dim not in (1, 2):
        raise InitError(f"projection_dim must be 1 or 2, got {options.projection_dim}")
    h = np.asarray(h, dtype=np.float64)
    q = min(options.projection_dim, h.shape[1])
    bias, coef, out = layer.bias, surrogate.coefficients, layer.out_features
    fit = _LayerFit(h, y, layer, surrogate, q, options)
    solve_fn = solver or solve_systems
    # the generic neuron system of this family: made from the first round that needs it,
    # then shared by the later rounds and layers of the same init call
    family_key = (q, bias, float(options.weight_decay), coef.tobytes())
    families = {} if families is None else families
    batch = max(1, int(options.batch or out))
    for first in range(0, out, batch):
        members = range(first, min(first + batch, out))
        problems = [_neuron_problem(h, fit.resid, fit.scale0, surrogate, rng, q, bias, options) for _ in members]
        if family_key not in families:
            moments = np.array([p.moments for p in problems])
            families[family_key] = neuron_family(moments, q, coef, options.weight_decay, bias, rng, seed)
        solved = solve_fn([p.system for p in problems], seed=seed + first, max_paths=options.max_paths, family=families[family_key])
        fit.counts["systems"] += len(problems)
        for i, prob, sol in zip(members, problems, solved):
            fit.take(i, prob, sol)
    return fit.finish(rng)


def layerwise_hidden(
    rng: np.random.Generator,
    options: LayerwiseOptions,
    seed_of: Callable[[int], int],
    solver: Callable[..., list[dict]] | None = None,
    families: dict | None = None,
) -> HiddenLayer:
    """The ``layerwise`` solve of a hidden layer, as :func:`run_stack` calls it.

    ``seed_of(k)`` is the engine seed of weight layer ``k``; the rows' targets are fitted.
    """

    def hidden(k: int, layer: LayerDef, data: LayerRows) -> LayerInit:
        sur = fit_surrogate(layer.activation, options.degree, tuple(options.interval), layer.negative_slope)
        return layerwise_layer(data.fit, data.fit_targets, layer, sur, rng, seed=seed_of(k), options=options, solver=solver, families=families)

    return hidden


def layerwise_init(
    layers: Sequence,
    x,
    y,
    *,
    seed: int = 0,
    options: LayerwiseOptions = LayerwiseOptions(),
    solver: Callable[..., list[dict]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> InitResult:
    """Mode ``layerwise`` on a fully connected network.

    Parameters
    ----------
    layers : sequence of LayerDef (or dicts / objects with the same fields)
    x : array (N, in_features)
    y : array (N, out_features)
        Targets (required: the neurons fit them).
    seed : int
    options : LayerwiseOptions
        Surrogate, ``weight_decay`` (> 0), projection dimension, path cap, batch.
    solver : callable, optional
        Replaces :func:`solve_systems`.
    progress : callable(done, total), optional
        Called after each layer.

    Returns
    -------
    InitResult
    """
    t0 = time.perf_counter()
    defs: list[LayerDef] = check_layers(layers)
    if y is None:
        raise InitError("layerwise mode needs targets y: every neuron fits the residual of y")
    if options.weight_decay <= 0:
        raise InitError("layerwise mode needs weight_decay > 0: without it the neuron problems have non-isolated critical points")
    h, ya = check_data(x, y, defs[0].in_features)
    if ya.shape[1] != defs[-1].out_features:
        raise InitError(f"data y has {ya.shape[1]} columns but the last layer has {defs[-1].out_features} outputs")
    rng = np.random.default_rng(seed)
    hidden = layerwise_hidden(rng, options, lambda k: seed + 7919 * k, solver, families={})
    out_layers, stats = run_stack(defs, ArrayWalker(h, ya), hidden, options.weight_decay, progress)
    keys = ("systems", "paths", "real_critical_points", "minima_used", "start_fallbacks")
    counts = {"layers": len(defs), "neurons": int(sum(l.out_features for l in defs)), **total(out_layers, keys)}
    return InitResult("layerwise", "mode layerwise requested", out_layers, stats, counts, time.perf_counter() - t0)

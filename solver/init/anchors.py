"""Mode ``start``: initial weights from real start solutions of the layer's linear product system.

For a layer with input features ``h`` (the data for the first layer, the propagated
features deeper), the gradient equations contain, for every sample point ``j``, the factors
``p(z_j)`` and ``p'(z_j)`` of the surrogate ``p`` at the pre-activation
``z_j = w . h_j + b``. Over the reals both are products of linear factors ``z_j - r``, one
per real root ``r``. A start solution of the linear product system picks one factor per
equation: for a neuron with ``n`` inputs and a bias that is ``n + 1`` conditions

    w . h_j + b = r_j        (j in the chosen anchor points, r_j a chosen root),

one small linear solve (Chen, Hao and He 2022; DESIGN.md). Anchors and roots are drawn with
the seed. When there are fewer anchors than unknowns (``in_features`` larger than the
sample, or the anchor cap) the minimum-norm solution is taken. All neurons of a layer are
solved in one batched call.

**How many anchors.** At most ``max_points`` (32), and at most ``d + 1`` when the layer's
input is locally ``d``-dimensional (:func:`local_dimension`: ranks of small neighbourhoods
of the sample; on a 1-D input every layer's features are a piecewise-linear curve, d = 1).
The reason: an affine function of d-dimensional data takes prescribed values at d + 1
points; prescribing random roots at more points than that makes the neuron turn back along
the data. Measured (bench/REPORT.md, sections 3 and 3a): with 32 anchors each
second-layer neuron of a 1-32-32-1 net crossed zero ~7 times on the data (He: 0.5) and
``start`` lost to He on the 1-D regressions; with d + 1 = 2 it crosses ~1 time and wins.
A fixed small cap is not the answer: 2 or 4 anchors on digits (64 inputs, full-rank
neighbourhoods) lose to the 32-anchor start and to He, so there the cap stays at 32.

Two corrections make the start solutions good initial weights for the *real* activation
(DESIGN.md, "Dying ReLU"):

* **Threshold.** A neuron is kept as solved when its zero set ``w . h + b = 0`` lies strictly
  between two distinct projected values of the sample, so it is active on part of the data
  and inactive on part. Otherwise its threshold is moved into a gap between two distinct
  projected values drawn at random. Values within ``1e-6`` of the projection's range are
  one value: the ReLU zeros of the layer below make ties, and a threshold inside a tie
  would leave the neuron on one side of all of the data.
* **Scale.** Each neuron is scaled (by a positive factor, so its active set is unchanged)
  to make its pre-activations over the data span an interval as wide as the surrogate's.
  The features entering the next layer thus keep a spread of order one, however deep and
  narrow the network is.

The output layer, when targets are given and its activation is the identity, is the ridge
least-squares fit on the last features: its gradient equations are linear once the hidden
weights are fixed, so that is their exact solution.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from solver.init.common import (
    InitError,
    InitResult,
    LayerDef,
    LayerInit,
    check_data,
    check_layers,
    distinct_gaps,
    single_thread_blas,
)
from solver.init.options import StartOptions
from solver.init.stack import ArrayWalker, HiddenLayer, LayerRows, run_stack, total
from solver.networks.surrogate import Surrogate, fit_surrogate

#: neighbours per probe in :func:`local_dimension`: local dimensions 1-3 are detected
LOCAL_NEIGHBOURS = 4


def _choose_rows(rng: np.random.Generator, n_rows: int, n_sets: int, k: int) -> np.ndarray:
    """``n_sets`` random subsets of ``k`` distinct row indices, shape (n_sets, k)."""
    if k >= n_rows:
        return np.tile(np.arange(n_rows), (n_sets, 1))
    keys = rng.random((n_sets, n_rows))
    return np.argpartition(keys, k - 1, axis=1)[:, :k]


def local_dimension(
    h: np.ndarray,
    neighbours: int = LOCAL_NEIGHBOURS,
    probes: int = 256,
    quantile: float = 25.0,
    rel_tol: float = 1e-8,
) -> int | None:
    """Dimension of the sample near its rows, when the neighbourhoods show a low one.

    For each of ``probes`` rows (evenly spaced in the sorted distinct rows: no random draw,
    so the seed's stream is untouched) take it and its ``neighbours`` nearest rows and
    compute the affine rank of those ``neighbours + 1`` points (singular values above
    ``rel_tol`` of the largest). On a piecewise-linear image of d-dimensional data (the
    features of a ReLU layer) a neighbourhood inside one linear piece has rank ``d``; one
    that straddles a kink has more. Kinks only raise the rank, so the dimension is a low
    quantile of the ranks, not the median.

    Parameters
    ----------
    h : ndarray, shape (N, n)
    neighbours : int
        Neighbours per probe; dimensions of ``neighbours`` or more are not resolved.
    probes : int
    quantile : float
        Percentile of the neighbourhood ranks taken as the dimension.
    rel_tol : float

    Returns
    -------
    int or None
        The estimated dimension (>= 1) when it is below ``neighbours``; None when the
        neighbourhoods are full rank (high-dimensional data, e.g. images) or there are
        too few distinct rows to tell.
    """
    h = np.unique(np.asarray(h, dtype=np.float64), axis=0)
    N = h.shape[0]
    if N < neighbours + 2:
        return None
    p = h[np.linspace(0, N - 1, min(probes, N)).round().astype(int)]
    d2 = (p * p).sum(axis=1)[:, None] - 2.0 * (p @ h.T) + (h * h).sum(axis=1)[None, :]
    near = np.argpartition(d2, neighbours, axis=1)[:, : neighbours + 1]
    g = h[near]
    g = g - g.mean(axis=1, keepdims=True)
    with single_thread_blas():
        sv = np.linalg.svd(g, compute_uv=False)
    ranks = (sv > rel_tol * np.maximum(sv[:, :1], np.finfo(float).tiny)).sum(axis=1)
    d = int(np.floor(np.percentile(ranks, quantile)))
    return max(d, 1) if d < neighbours else None


def solve_anchors(h: np.ndarray, rows: np.ndarray, targets: np.ndarray, bias: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Batched minimum-norm solutions of ``w . h_j + b = t_j`` over each neuron's anchors.

    Parameters
    ----------
    h : ndarray, shape (N, n)
        Input features of the layer.
    rows : int ndarray, shape (out, k)
        Anchor rows of each neuron.
    targets : ndarray, shape (out, k)
        Pre-activation values at the anchors.
    bias : bool
        Whether ``b`` is an unknown.

    Returns
    -------
    w : ndarray, shape (out, n)
    b : ndarray, shape (out,)

    Notes
    -----
    The minimum-norm solution ``A^+ t = A^T (A A^T)^+ t`` of each neuron's anchor matrix
    ``A`` (k, n + 1), through the eigendecomposition of the small k x k Gram matrix (a
    batched SVD of ``A`` is 20x slower for k << n). Eigenvalues below ``1e-14`` of the
    largest are cut: duplicated anchors (ties from the layer below) make ``A`` rank
    deficient, and then the least-squares compromise between their conditions is what
    we want.
    """
    a = h[rows]  # (out, k, n)
    if bias:
        a = np.concatenate([a, np.ones(a.shape[:2] + (1,))], axis=2)
    at = a.transpose(0, 2, 1)
    with single_thread_blas():  # one BLAS call per small matrix: threads only spin
        ev, U = np.linalg.eigh(a @ at)
        keep = ev > 1e-14 * np.maximum(ev[:, -1:], np.finfo(float).tiny)
        inv = np.where(keep, 1.0 / np.where(keep, ev, 1.0), 0.0)
        Ut = U.transpose(0, 2, 1)
        sol = (at @ (U @ (inv[:, :, None] * (Ut @ targets[:, :, None]))))[:, :, 0]
    if bias:
        return sol[:, :-1], sol[:, -1]
    return sol, np.zeros(sol.shape[0])


def place_thresholds(
    s: np.ndarray,
    rng: np.random.Generator,
    width: float,
    rel_tol: float = 1e-6,
    margin: float = 1e-3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Threshold and scale per neuron so that each splits the sample and spans ``width``.

    Parameters
    ----------
    s : ndarray, shape (N, out)
        Pre-activations of the solved start solutions.
    width : float
        Target spread ``max z - min z`` of each neuron's pre-activations.

    Returns
    -------
    theta : ndarray, shape (out,)
        Shift; 0 where the start solution's own zero already split the sample.
    scale : ndarray, shape (out,)
        Positive factor; ``z = scale * (s - theta)``.
    moved : bool ndarray, shape (out,)
        Neurons whose threshold was moved. Constant columns keep theta 0 and scale 1.
    """
    out = s.shape[1]
    theta = np.zeros(out)
    scale = np.ones(out)
    moved = np.zeros(out, dtype=bool)
    for i in range(out):
        col = s[:, i]
        lower, upper = distinct_gaps(col, rel_tol)
        if lower.size == 0:
            continue  # constant: the caller redraws this neuron
        span = upper[-1] - lower[0]
        inside = (lower < 0) & (upper > 0)
        if inside.any():
            g = int(np.argmax(inside))
            if min(-lower[g], upper[g]) >= margin * span:
                theta[i] = 0.0
                scale[i] = width / span
                continue
        g = int(rng.integers(lower.size))
        theta[i] = 0.5 * (lower[g] + upper[g])
        scale[i] = width / span
        moved[i] = True
    return theta, scale, moved


def cover_rows(h: np.ndarray, z: np.ndarray, rel_tol: float = 1e-6) -> tuple[np.ndarray, int]:
    """Shift thresholds so that distinct input rows are not all mapped to the zero vector.

    Rows on which every ReLU of the layer is inactive leave the layer as the same zero
    vector: they are merged for good. In a deep narrow network these merges pile up until
    the features take only a few values. While the rows inactive everywhere contain two
    or more distinct inputs, the neuron that can activate most of them moves its threshold
    into the gap just below their smallest pre-activation (it stays split: that gap has
    points below it).

    Parameters
    ----------
    h : ndarray (N, n)
        Layer inputs.
    z : ndarray (N, out)
        Pre-activations; a copy is shifted.

    Returns
    -------
    shift : ndarray (out,)
        Amount to subtract from each neuron's bias.
    moved : int
        Number of threshold moves.
    """
    z = np.array(z, dtype=np.float64, copy=True)
    out = z.shape[1]
    shift = np.zeros(out)
    moved = 0
    for _ in range(out):
        dead_rows = np.nonzero((z <= 0).all(axis=1))[0]
        if dead_rows.size < 2 or np.unique(h[dead_rows], axis=0).shape[0] < 2:
            break
        best, best_gain, best_tau = -1, 0, 0.0
        for i in range(out):
            lower, upper = distinct_gaps(z[:, i], rel_tol)
            if lower.size == 0:
                continue
            m = z[dead_rows, i].min()
            below = np.nonzero(upper <= m)[0]
            g = below[-1] if below.size else 0
            tau = 0.5 * (lower[g] + upper[g])
            gain = int((z[dead_rows, i] > tau).sum())
            if gain > best_gain:
                best, best_gain, best_tau = i, gain, tau
        if best < 0:
            break
        z[:, best] -= best_tau
        shift[best] += best_tau
        moved += 1
    return shift, moved


def _anchor_count(h: np.ndarray, bias: bool, options: StartOptions) -> tuple[int, int | None]:
    """Anchors per neuron and the local dimension of the layer's input (None if not low)."""
    N, n = h.shape
    unknowns = n + (1 if bias else 0)
    if options.levels not in ("random", "one"):
        raise InitError(f"levels must be 'random' or 'one', got {options.levels!r}")
    k = min(unknowns, N, options.max_points if options.max_points else unknowns)
    dim = local_dimension(h) if options.adapt_to_dimension and k > 2 else None
    if dim is not None:
        k = min(k, dim + 1)
    if options.levels == "one":
        k = max(1, min(k, unknowns - 1))
    return k, dim


def _draw_targets(rng: np.random.Generator, anchors: np.ndarray, m: int, k: int, levels: str) -> np.ndarray:
    """Anchor values (m, k): one root per anchor, or one per neuron with ``levels="one"``."""
    if levels == "one":
        return np.repeat(rng.choice(anchors, size=(m, 1)), k, axis=1)
    targets = rng.choice(anchors, size=(m, k))
    if k > 1:
        # equal values at all anchors admit w = 0 (a constant neuron) as the minimum-norm
        # solution: make one of them differ
        same = (targets == targets[:, :1]).all(axis=1)
        if same.any():
            shift = rng.integers(1, anchors.size, size=int(same.sum()))
            idx = np.searchsorted(anchors, targets[same, 0])
            targets[same, 0] = anchors[(idx + shift) % anchors.size]
    return targets


def _threshold_and_scale(s: np.ndarray, rng: np.random.Generator, width: float, bias: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`place_thresholds` with a bias; without one only the scale can change."""
    if bias:
        return place_thresholds(s, rng, width)
    m = s.shape[1]
    span = s.max(axis=0) - s.min(axis=0)
    scale = np.where(span > 0, width / np.where(span > 0, span, 1.0), 1.0)
    return np.zeros(m), scale, np.zeros(m, dtype=bool)


def _solve_with_redraws(
    h: np.ndarray, out_features: int, surrogate: Surrogate, rng: np.random.Generator, bias: bool, k: int, options: StartOptions
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Solve every neuron's anchors, redrawing those that do not split the sample.

    After ``max_redraws`` redraws a random direction through the data is the last resort,
    kept whatever it gives. Returns ``W``, ``B`` and the counts for the layer's ``info``.
    """
    N, n = h.shape
    lo, hi = surrogate.interval
    width = hi - lo
    anchors = surrogate.anchor_values()
    W = np.zeros((out_features, n))
    B = np.zeros(out_features)
    todo = np.arange(out_features)
    solves = redraws = random_dirs = moved_total = 0
    for attempt in range(options.max_redraws + 2):
        m = todo.size
        if m == 0:
            break
        if attempt <= options.max_redraws:
            rows = _choose_rows(rng, N, m, k)
            w, b = solve_anchors(h, rows, _draw_targets(rng, anchors, m, k, options.levels), bias)
            solves += m
        else:  # last resort: a random direction through the data
            w = rng.standard_normal((m, n))
            b = np.zeros(m)
            random_dirs += m
        s = h @ w.T + b
        theta, scale, moved = _threshold_and_scale(s, rng, width, bias)
        z = (s - theta) * scale
        ok = np.array([distinct_gaps(z[:, i])[0].size > 0 for i in range(m)])
        if not bias:
            ok = ok & (z > 0).any(axis=0) & (z <= 0).any(axis=0)
        last = attempt == options.max_redraws + 1
        keep = np.ones(m, dtype=bool) if last else ok  # the random direction is kept as is
        W[todo[keep]] = w[keep] * scale[keep, None]
        B[todo[keep]] = (b[keep] - theta[keep]) * scale[keep]
        moved_total += int(moved[ok].sum())
        todo = todo[~ok]
        if todo.size and not last:
            redraws += todo.size
    counts = {
        "linear_solves": int(solves),
        "moved_thresholds": int(moved_total),
        "redraws": int(redraws),
        "random_directions": int(random_dirs),
        "unsplit": int(todo.size),
    }
    return W, B, counts


def start_layer(
    h: np.ndarray,
    out_features: int,
    surrogate: Surrogate,
    rng: np.random.Generator,
    bias: bool = True,
    *,
    cover: bool = False,
    options: StartOptions = StartOptions(),
) -> LayerInit:
    """Start-solution weights for one layer.

    Parameters
    ----------
    h : ndarray, shape (N, n)
        The layer's input features on the sample.
    out_features : int
        Number of neurons.
    surrogate : Surrogate
        Surrogate of the layer's activation (its roots are the anchor values; its interval
        sets the pre-activation spread).
    rng : numpy Generator
        Draws anchors, roots and moved thresholds.
    bias : bool
        Whether the layer has a bias. Without one the threshold cannot move, so a neuron
        whose start solution does not split the sample is redrawn.
    cover : bool
        Apply :func:`cover_rows` (for ReLU layers, whose inactive side is a constant).
    options : StartOptions
        ``max_points``, ``adapt_to_dimension``, ``levels`` and ``max_redraws`` apply here
        (see the module notes: more anchors than ``d + 1`` on locally ``d``-dimensional
        inputs make the neuron oscillate along the data; ``levels="one"`` puts all anchors
        of a neuron on one level set, with at most ``n + bias - 1`` of them so that
        ``w = 0`` is not forced).

    Returns
    -------
    LayerInit
        ``info`` counts the linear solves, moved thresholds and redraws.
    """
    h = np.asarray(h, dtype=np.float64)
    k, dim = _anchor_count(h, bias, options)
    W, B, counts = _solve_with_redraws(h, out_features, surrogate, rng, bias, k, options)
    covered_moves = 0
    if cover and bias:
        shift, covered_moves = cover_rows(h, h @ W.T + B)
        B = B - shift
    info = {
        "method": "start",
        "coverage_moves": int(covered_moves),
        "anchors_per_neuron": int(k),
        "local_dimension": dim,
        **counts,
    }
    return LayerInit(W, B if bias else None, info)


def start_hidden(rng: np.random.Generator, options: StartOptions) -> HiddenLayer:
    """The ``start`` solve of a hidden layer, as :func:`run_stack` calls it."""

    def hidden(k: int, layer: LayerDef, data: LayerRows) -> LayerInit:
        sur = fit_surrogate(layer.activation, options.degree, tuple(options.interval), layer.negative_slope)
        return start_layer(data.fit, layer.out_features, sur, rng, layer.bias, cover=layer.activation == "relu", options=options)

    return hidden


def start_init(layers: Sequence, x, y=None, *, seed: int = 0, options: StartOptions = StartOptions()) -> InitResult:
    """Mode ``start`` on a fully connected network.

    Parameters
    ----------
    layers : sequence of LayerDef (or dicts / objects with the same fields)
    x : array (N, in_features)
    y : array (N, out_features) or None
        With targets, an identity output layer is the ridge fit (``options.weight_decay``).
    seed : int
    options : StartOptions

    Returns
    -------
    InitResult
    """
    t0 = time.perf_counter()
    defs: list[LayerDef] = check_layers(layers)
    h, ya = check_data(x, y, defs[0].in_features)
    if ya is not None and ya.shape[1] != defs[-1].out_features:
        raise InitError(f"data y has {ya.shape[1]} columns but the last layer has {defs[-1].out_features} outputs")
    rng = np.random.default_rng(seed)
    out_layers, stats = run_stack(defs, ArrayWalker(h, ya), start_hidden(rng, options), options.weight_decay)
    counts = {
        "layers": len(defs),
        "neurons": int(sum(l.out_features for l in defs)),
        **total(out_layers, ("linear_solves",)),
    }
    return InitResult("start", "mode start requested", out_layers, stats, counts, time.perf_counter() - t0)

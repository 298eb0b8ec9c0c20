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
    SurrogateInfo,
    activate,
    check_data,
    check_layers,
    distinct_gaps,
    layer_stats,
    ridge_fit,
    single_thread_blas,
    surrogate_for,
)

#: default cap on anchor points per neuron (the rest of the conditions are left free and
#: the minimum-norm solution is taken); keeps a 784-input layer at a few ms per neuron.
#: Lowered to d + 1 on locally d-dimensional inputs (``adapt_to_dimension``).
DEFAULT_MAX_POINTS = 32

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


def start_layer(
    h: np.ndarray,
    out_features: int,
    surrogate: SurrogateInfo,
    rng: np.random.Generator,
    bias: bool = True,
    max_points: int | None = DEFAULT_MAX_POINTS,
    max_redraws: int = 8,
    cover: bool = False,
    levels: str = "random",
    adapt_to_dimension: bool = True,
) -> LayerInit:
    """Start-solution weights for one layer.

    Parameters
    ----------
    h : ndarray, shape (N, n)
        The layer's input features on the sample.
    out_features : int
        Number of neurons.
    surrogate : SurrogateInfo
        Surrogate of the layer's activation (its roots are the anchor values; its interval
        sets the pre-activation spread).
    rng : numpy Generator
        Draws anchors, roots and moved thresholds.
    bias : bool
        Whether the layer has a bias. Without one the threshold cannot move, so a neuron
        whose start solution does not split the sample is redrawn.
    max_points : int or None
        Cap on anchors per neuron (None: ``n + 1``, the full start system).
    max_redraws : int
        Redraws of anchors for neurons whose projection is constant (or, without bias,
        unsplit) before falling back to a random direction.
    cover : bool
        Apply :func:`cover_rows` (for ReLU layers, whose inactive side is a constant).
    adapt_to_dimension : bool
        Cap the anchors at ``d + 1`` when :func:`local_dimension` finds the layer's input
        locally ``d``-dimensional (see the module notes: more anchors than that make the
        neuron oscillate along the data).
    levels : {"random", "one"}
        ``"random"``: an independent root at each anchor; ``"one"``: the same root at all
        anchors of a neuron (its level set passes through them), with at most
        ``n + bias - 1`` anchors so that ``w = 0`` is not forced.

    Returns
    -------
    LayerInit
        ``info`` counts the linear solves, moved thresholds and redraws.
    """
    h = np.asarray(h, dtype=np.float64)
    N, n = h.shape
    unknowns = n + (1 if bias else 0)
    if levels not in ("random", "one"):
        raise InitError(f"levels must be 'random' or 'one', got {levels!r}")
    k = min(unknowns, N, max_points if max_points else unknowns)
    dim = local_dimension(h) if adapt_to_dimension and k > 2 else None
    if dim is not None:
        k = min(k, dim + 1)
    if levels == "one":
        k = max(1, min(k, unknowns - 1))
    lo, hi = surrogate.interval
    width = hi - lo
    anchors = surrogate.anchor_values()

    W = np.zeros((out_features, n))
    B = np.zeros(out_features)
    todo = np.arange(out_features)
    solves = redraws = random_dirs = 0
    moved_total = 0
    for attempt in range(max_redraws + 2):
        m = todo.size
        if m == 0:
            break
        if attempt <= max_redraws:
            rows = _choose_rows(rng, N, m, k)
            if levels == "one":
                targets = np.repeat(rng.choice(anchors, size=(m, 1)), k, axis=1)
            else:
                targets = rng.choice(anchors, size=(m, k))
            if k > 1 and levels == "random":
                # equal values at all anchors admit w = 0 (a constant neuron) as the
                # minimum-norm solution: make one of them differ
                same = (targets == targets[:, :1]).all(axis=1)
                if same.any():
                    shift = rng.integers(1, anchors.size, size=int(same.sum()))
                    idx = np.searchsorted(anchors, targets[same, 0])
                    targets[same, 0] = anchors[(idx + shift) % anchors.size]
            w, b = solve_anchors(h, rows, targets, bias)
            solves += m
        else:  # last resort: a random direction through the data
            w = rng.standard_normal((m, n))
            b = np.zeros(m)
            random_dirs += m
        s = h @ w.T + b
        if bias:
            theta, scale, moved = place_thresholds(s, rng, width)
        else:
            theta = np.zeros(m)
            span = s.max(axis=0) - s.min(axis=0)
            scale = np.where(span > 0, width / np.where(span > 0, span, 1.0), 1.0)
            moved = np.zeros(m, dtype=bool)
        z = (s - theta) * scale
        lower_ok = np.array([distinct_gaps(z[:, i])[0].size > 0 for i in range(m)])
        ok = lower_ok & (z > 0).any(axis=0) & (z <= 0).any(axis=0) if not bias else lower_ok
        W[todo[ok]] = w[ok] * scale[ok, None]
        B[todo[ok]] = (b[ok] - theta[ok]) * scale[ok]
        moved_total += int(moved[ok].sum())
        last = attempt == max_redraws + 1
        if last:  # keep whatever the random direction gave
            W[todo[~ok]] = w[~ok] * scale[~ok, None]
            B[todo[~ok]] = (b[~ok] - theta[~ok]) * scale[~ok]
        todo = todo[~ok]
        if todo.size and not last:
            redraws += todo.size
    covered_moves = 0
    if cover and bias:
        shift, covered_moves = cover_rows(h, h @ W.T + B)
        B = B - shift
    info = {
        "method": "start",
        "coverage_moves": int(covered_moves),
        "anchors_per_neuron": int(k),
        "local_dimension": dim,
        "linear_solves": int(solves),
        "moved_thresholds": int(moved_total),
        "redraws": int(redraws),
        "random_directions": int(random_dirs),
        "unsplit": int(todo.size),
    }
    return LayerInit(W, B if bias else None, info)


def start_init(
    layers: Sequence,
    x,
    y=None,
    *,
    degree: int = 2,
    interval: tuple[float, float] = (-1.0, 1.0),
    weight_decay: float = 0.01,
    seed: int = 0,
    max_points: int | None = DEFAULT_MAX_POINTS,
    adapt_to_dimension: bool = True,
) -> InitResult:
    """Mode ``start`` on a fully connected network.

    Parameters
    ----------
    layers : sequence of LayerDef (or dicts / objects with the same fields)
    x : array (N, in_features)
    y : array (N, out_features) or None
        With targets, an identity output layer is the ridge fit (``weight_decay``).
    degree, interval : surrogate settings (the interval also sets the pre-activation spread)
    weight_decay : float
    seed : int
    max_points : int or None
        Anchor cap per neuron, see :func:`start_layer`.
    adapt_to_dimension : bool
        Cap anchors at ``d + 1`` on locally ``d``-dimensional layer inputs, see
        :func:`start_layer`.

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
    out_layers, stats = [], []
    solves = 0
    for k, layer in enumerate(defs):
        last = k == len(defs) - 1
        if last and ya is not None and layer.activation == "identity":
            W, b = ridge_fit(h, ya, weight_decay, layer.bias)
            li = LayerInit(W, b if layer.bias else None, {"method": "ridge"})
        else:
            sur = surrogate_for(layer.activation, degree, tuple(interval), layer.negative_slope)
            li = start_layer(
                h, layer.out_features, sur, rng, layer.bias, max_points, cover=layer.activation == "relu",
                adapt_to_dimension=adapt_to_dimension,
            )
            solves += li.info["linear_solves"]
        z = h @ li.weight.T + (li.bias if li.bias is not None else 0.0)
        stats.append(layer_stats(z))
        out_layers.append(li)
        h = activate(z, layer.activation, layer.negative_slope)
    counts = {
        "layers": len(defs),
        "neurons": int(sum(l.out_features for l in defs)),
        "linear_solves": int(solves),
    }
    return InitResult("start", "mode start requested", out_layers, stats, counts, time.perf_counter() - t0)

"""Choosing and running an initialisation mode: ``exact``, ``start``, ``layerwise``, ``auto``.

``auto`` takes, in order:

1. ``exact`` (all critical points, :mod:`solver.networks.critical_points`) when its work fits
   ``max_paths``: the generic count of the architecture's family when the family is stored
   (:mod:`solver.networks.family_store`; 1-2-1: 465 paths), else the network's
   linear-product start system, which the one-time generic solve tracks. Counting those paths is
   itself exponential in the number of parameters, and the count explodes with them
   (1-2-1: 7 parameters, 10,761 paths; 1-3-1: 10 parameters, 1.1 million; 1-4-1: 13
   parameters, 121 million), so networks with more than :data:`EXACT_MAX_PARAMETERS`
   parameters are not counted and go on to the next rule. Exact mode also needs targets
   and ``weight_decay > 0``.
2. ``layerwise`` when targets are given and its total work, hidden neurons times paths
   per one-neuron system, fits ``layerwise_budget`` paths.
3. ``start`` otherwise (a linear solve per neuron: any size).

Every result says which mode ran and why (``InitResult.reason``).

:func:`run_spec` runs any mode on a :class:`solver.networks.spec.NetworkSpec` end to end and returns
the JSON-ready dict that the CLI prints and the service stores.

Reference: Chen, Hao and He, "A weight initialization based on the linear product
structure for neural networks", Applied Mathematics and Computation 415, 2022 (arXiv
2109.00125; DESIGN.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from solver.init.common import InitError, InitResult, LayerDef, LayerInit, check_layers, layer_stats
from solver.init.options import DEFAULT_MAX_POINTS, LayerwiseOptions, StartOptions
from solver.networks.activations import DEFAULT_NEGATIVE_SLOPE, activate

#: above this many parameters auto does not count the exact start system (see above)
EXACT_MAX_PARAMETERS = 12
#: default budget of layerwise mode in engine paths: about 180 hidden neurons at 33
#: parameter-homotopy paths each (q = 1), a few seconds on one core
DEFAULT_LAYERWISE_BUDGET = 6_000
MODES = ("exact", "start", "layerwise", "auto")


@dataclass(frozen=True)
class ModeChoice:
    """The mode ``auto`` picked and the facts behind it."""

    mode: str
    reason: str
    exact_paths: int | None = None
    layerwise_paths: int | None = None


def _n_parameters(defs: list[LayerDef]) -> int:
    return sum(l.out_features * l.in_features + (l.out_features if l.bias else 0) for l in defs)


def _over_budget(counts: dict, max_paths: int) -> str:
    """Why exact mode is over budget, from :class:`BudgetExceeded`'s counts."""
    if counts.get("family_stored"):
        return f"its family has {counts.get('generic')} generic solutions > max_paths={max_paths}"
    bound = "at least " if counts.get("linear_product_status") != "exact" else ""
    return f"start system has {bound}{counts.get('linear_product')} paths > max_paths={max_paths}"


def layerwise_path_count(defs: list[LayerDef], degree: int, projection_dim: int = 1, weight_decay: float = 0.01) -> int:
    """Total engine paths of layerwise mode: hidden neurons times paths per neuron system.

    The output layer (identity, ridge fit) costs no paths.
    """
    from solver.init.layerwise import paths_per_neuron

    total = 0
    per: dict[tuple[int, bool], int] = {}
    for k, l in enumerate(defs):
        if k == len(defs) - 1 and l.activation == "identity":
            continue
        q = min(projection_dim, l.in_features)
        key = (q, l.bias)
        if key not in per:
            per[key] = paths_per_neuron(q, degree, l.bias, weight_decay)
        total += l.out_features * per[key]
    return total


def choose_mode(
    layers,
    *,
    has_targets: bool,
    degree: int = 2,
    weight_decay: float = 0.01,
    max_paths: int = 100_000,
    layerwise_budget: int = DEFAULT_LAYERWISE_BUDGET,
    projection_dim: int = 1,
    spec=None,
) -> ModeChoice:
    """What ``auto`` runs, and why.

    Parameters
    ----------
    layers : sequence of LayerDef (or spec layers)
    has_targets : bool
        Exact and layerwise modes fit targets; without them only ``start`` applies.
    degree, weight_decay : surrogate degree and lambda
    max_paths : int
        Exact mode's cap on start-system paths.
    layerwise_budget : int
        Layerwise mode's cap on total paths.
    spec : NetworkSpec, optional
        Needed to count the exact start system (skipped without it); its
        ``weight_decay`` overrides the argument.
    """
    defs = check_layers(layers)
    P = _n_parameters(defs)
    sizes = "-".join(str(w) for w in [defs[0].in_features] + [l.out_features for l in defs])
    if not has_targets:
        return ModeChoice("start", f"{sizes}: no targets y, so neither exact nor layerwise applies; start needs only x")
    notes = []
    exact_paths = None
    if spec is not None:
        weight_decay = spec.weight_decay  # the spec's own lambda is the one exact mode would use
    linear = _linear_note(spec)
    if weight_decay <= 0:
        notes.append("exact needs weight_decay > 0")
    elif linear is not None and linear[0]:
        return ModeChoice("exact", f"{sizes}: exact by the closed form of deep linear networks (Ziyin et al. 2022), "
                                   f"no homotopy{linear[1]}", exact_paths=0)
    elif spec is not None and _threshold_program(spec):
        return ModeChoice("exact", f"{sizes}: exact by the convex program of two-layer threshold networks "
                                   "(Ergen et al. 2023), no homotopy", exact_paths=0)
    elif P > EXACT_MAX_PARAMETERS:
        notes.append(
            f"exact: {P} parameters > {EXACT_MAX_PARAMETERS}, the start system's path count is far beyond "
            f"max_paths={max_paths} (1-3-1 with 10 parameters already has 1,129,797)"
        )
    elif spec is None:
        notes.append("exact: no spec to count its start system")
    else:
        from solver.networks.critical_points import BudgetExceeded

        from solver.networks.critical_points import exact_budget

        try:
            method, exact_paths, counts = exact_budget(spec, max_paths)
        except BudgetExceeded as exc:
            notes.append(f"exact: {_over_budget(exc.counts, max_paths)}")
        else:
            work = (f"its family {counts['family']} has {exact_paths} generic solutions (one path each at most)"
                    if method == "family" else f"its linear-product start system has {exact_paths} paths")
            return ModeChoice("exact", f"{sizes}: exact, {work} <= max_paths={max_paths}", exact_paths=exact_paths)
    if linear is not None and linear[1]:
        notes.append(linear[1].lstrip("; "))
    lw = layerwise_path_count(defs, degree, projection_dim, weight_decay)
    hidden = sum(l.out_features for k, l in enumerate(defs) if not (k == len(defs) - 1 and l.activation == "identity"))
    if lw <= layerwise_budget:
        return ModeChoice(
            "layerwise",
            f"{sizes}: layerwise, {hidden} neuron systems with {lw} paths in all <= budget {layerwise_budget} ({'; '.join(notes)})",
            exact_paths=exact_paths,
            layerwise_paths=lw,
        )
    notes.append(f"layerwise: {hidden} neuron systems with {lw} paths in all > budget {layerwise_budget}")
    return ModeChoice("start", f"{sizes}: start ({'; '.join(notes)})", exact_paths=exact_paths, layerwise_paths=lw)


def _threshold_program(spec) -> bool:
    from solver.networks.threshold_convex import convex_reason

    return convex_reason(spec) is None


def _linear_note(spec) -> tuple[bool, str] | None:
    """For an all-identity spec with targets: (closed form applies, "; WARNING ..." when the
    origin is a local minimum for its weight decay, else ""); None otherwise."""
    if spec is None or spec.data.y is None:
        return None
    from solver.networks.linear_closed_form import closed_form_reason, is_linear, origin_check

    if not is_linear(spec) or len(spec.layers) < 2 or spec.weight_decay <= 0:
        return None
    warning = origin_check(spec).warning()
    return closed_form_reason(spec) is None, f"; WARNING: {warning}" if warning else ""


# ---------------------------------------------------------------------------------------
# running a spec
# ---------------------------------------------------------------------------------------
def _spec_layers(spec) -> list[LayerDef]:
    return [
        LayerDef(
            l.in_features,
            l.out_features,
            l.activation or "relu",
            bool(l.bias),
            float(l.negative_slope) if l.negative_slope is not None else DEFAULT_NEGATIVE_SLOPE,
        )
        for l in spec.layers
    ]


def _run_exact(spec, progress: Callable[[int, int], None] | None = None) -> InitResult:
    """Exact mode through :func:`solver.networks.critical_points.run_exact`; the best
    candidate becomes the weights, all candidates ride along in ``extra``."""
    from solver.networks.critical_points import run_exact
    from solver.networks.weights_io import unflatten

    t0 = time.perf_counter()
    payload = run_exact(spec, progress=progress).to_json()
    defs = _spec_layers(spec)
    cands = payload["candidates"]
    layers: list[LayerInit] = []
    if cands:
        theta = np.asarray(cands[0]["params"], dtype=np.float64)
        layers = [LayerInit(W, b, {"method": "exact"}) for W, b in unflatten(spec, theta)]
    stats = _forward_stats(defs, layers, spec.data.x_array())
    counts = {"layers": len(defs), "neurons": int(sum(l.out_features for l in defs)), "candidates": len(cands)}
    res = InitResult("exact", "mode exact requested", layers, stats, counts, time.perf_counter() - t0)
    res.extra["exact"] = {k: v for k, v in payload.items() if k != "candidates"}
    res.extra["candidates"] = cands
    return res


def _forward_stats(defs: list[LayerDef], layers: list[LayerInit], x: np.ndarray) -> list[dict]:
    """:func:`layer_stats` of each layer's pre-activations on ``x``."""
    stats, h = [], x
    for d, li in zip(defs, layers):
        z = h @ li.weight.T + (li.bias if li.bias is not None else 0.0)
        stats.append(layer_stats(z))
        h = activate(z, d.activation, d.negative_slope)
    return stats


def run_layers(
    layers,
    x,
    y=None,
    *,
    mode: str = "auto",
    degree: int = 2,
    interval: tuple[float, float] = (-1.0, 1.0),
    weight_decay: float = 0.01,
    seed: int = 0,
    max_paths: int = 100_000,
    layerwise_budget: int = DEFAULT_LAYERWISE_BUDGET,
    projection_dim: int = 1,
    max_points: int | None = None,
    spec=None,
    progress: Callable[[int, int], None] | None = None,
) -> InitResult:
    """Run ``start``, ``layerwise`` (or ``auto`` among them and ``exact``) on plain layers.

    ``exact`` needs ``spec`` (the network module builds its gradient system from it).
    """
    from solver.init.anchors import start_init
    from solver.init.layerwise import layerwise_init

    if mode not in MODES:
        raise InitError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    reason = f"mode {mode} requested"
    if mode == "auto":
        choice = choose_mode(
            layers,
            has_targets=y is not None,
            degree=degree,
            weight_decay=weight_decay,
            max_paths=max_paths,
            layerwise_budget=layerwise_budget,
            projection_dim=projection_dim,
            spec=spec,
        )
        mode, reason = choice.mode, "auto: " + choice.reason
    if mode == "exact":
        if spec is None:
            raise InitError("exact mode needs a NetworkSpec")
        res = _run_exact(spec, progress)
    elif mode == "start":
        options = StartOptions(degree, tuple(interval), weight_decay, max_points or DEFAULT_MAX_POINTS)
        res = start_init(layers, x, y, seed=seed, options=options)
        if progress is not None:  # one batched pass: all layers are done at once
            progress(len(res.layers), len(res.layers))
    else:
        lw_options = LayerwiseOptions(degree, tuple(interval), weight_decay, projection_dim, max_paths)
        res = layerwise_init(layers, x, y, seed=seed, options=lw_options, progress=progress)
    res.reason = reason
    return res


def run_spec(spec, *, mode: str | None = None, progress: Callable[[int, int], None] | None = None, **options) -> dict:
    """Run the spec's mode (or ``mode``) end to end; the JSON-ready result.

    Parameters
    ----------
    spec : NetworkSpec or dict or JSON text
    mode : str, optional
        Overrides ``spec.mode``.
    progress : callable(done, total), optional
        Layers done of total (start, layerwise) or paths (exact).
    **options
        ``layerwise_budget``, ``projection_dim``, ``max_points``.

    Returns
    -------
    dict
        ``mode``, ``reason``, ``counts``, ``layers`` (per layer: neurons, active, split and
        dead fractions, method facts), ``seconds``, ``weights`` (``"{k}.weight"`` and
        ``"{k}.bias"`` as nested lists); exact mode adds ``candidates`` and ``exact``; the
        companion papers' facts (:mod:`solver.networks.companion_facts`) ride along.
    """
    from solver.networks.spec import NetworkSpec, load_spec

    if not isinstance(spec, NetworkSpec):
        spec = load_spec(spec)
    m = mode or spec.mode
    if m == "exact" and spec.data.y is None:
        raise InitError("data.y is required in exact mode: the loss fits f(x) to y")
    if m == "layerwise" and spec.data.y is None:
        raise InitError("data.y is required in layerwise mode: the neurons fit the residual of y")
    if m == "exact" and spec.weight_decay <= 0:
        raise InitError("weight_decay must be > 0 in exact mode (dead-neuron components, see the spec docs)")
    x = spec.data.x_array()
    y = spec.data.y_array() if spec.data.y is not None else None
    res = run_layers(
        _spec_layers(spec),
        x,
        y,
        mode=m,
        degree=spec.surrogate.degree,
        interval=tuple(spec.surrogate.interval),
        weight_decay=spec.weight_decay,
        seed=spec.seed,
        max_paths=spec.max_paths,
        spec=spec,
        progress=progress,
        **options,
    )
    out = res.to_json(include_weights=True)
    out.update(_companion_facts(spec, res))
    return out


def _companion_facts(spec, res: InitResult) -> dict:
    """:func:`solver.networks.companion_facts.companion_facts` for the result's candidates
    (exact mode) or its weights."""
    from solver.networks.companion_facts import companion_facts
    from solver.networks.weights_io import flatten

    cands = res.extra.get("candidates") or []
    if cands:
        thetas = [np.asarray(c["params"], dtype=np.float64) for c in cands]
    else:
        thetas = [flatten([(l.weight, l.bias) for l in res.layers])] if res.layers else []
    return companion_facts(spec, thetas)

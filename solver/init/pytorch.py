"""One-call initialisation of a PyTorch ``nn.Sequential`` from a data sample: ``init_``.

Every ``nn.Linear``, ``nn.Conv1d`` and ``nn.Conv2d`` is initialised in place, first to last,
by the chosen mode (:mod:`solver.init.anchors`, :mod:`solver.init.layerwise`, or exact mode for
tiny fully connected nets). Activation, pooling, flatten and dropout modules are read from
the model and applied when the features are propagated to the next weight layer (dropout
as at evaluation: the identity). A convolution filter is a neuron over input patches
(``unfold``): in ``start`` mode its hyperplane goes through chosen patches of the data, as
the paper does for CNNs; in ``layerwise`` mode each patch carries the target of its image.

Integer class labels are one-hot encoded. A model with a module the initialiser cannot
reason about (a custom module, attention, normalisation layers) is refused with a message
naming that module, before any weight changes.

torch is an optional extra (``pip install lps-init[torch]``): it is imported here only.

Reference: Chen, Hao and He, "A weight initialization based on the linear product
structure for neural networks", Applied Mathematics and Computation 415, 2022 (arXiv
2109.00125; DESIGN.md) (fully connected and convolutional networks).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from solver.init.anchors import start_hidden
from solver.init.common import InitError, LayerDef, LayerInit, one_hot
from solver.init.layerwise import layerwise_hidden
from solver.init.options import DEFAULT_MAX_POINTS, LayerwiseOptions, StartOptions
from solver.init.stack import LayerRows, run_stack, total
from solver.networks.activations import DEFAULT_NEGATIVE_SLOPE, TORCH_MODULES

try:  # optional extra
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - exercised only without the extra
    torch = None  # type: ignore[assignment]

#: patches (rows) per convolution layer that the solves see; propagation uses all data
DEFAULT_MAX_PATCHES = 4096


def _require_torch() -> None:
    if torch is None:  # pragma: no cover
        raise InitError("init_ needs PyTorch: pip install 'lps-init[torch]'")


@dataclass
class InitReport:
    """What ``init_`` did.

    Attributes
    ----------
    mode : str
        Mode that ran (``exact``, ``start`` or ``layerwise``).
    reason : str
        Why (``auto`` explains its choice).
    layers : list of dict
        Per weight layer: module name and kind, weight shape, neuron count, fractions of
        neurons active on some data (``active_fraction``), split by the data (active on
        part, inactive on part: ``split_fraction``) and dead (``dead_fraction``), and the
        mode's own facts (linear solves, paths, fallbacks).
    counts : dict
        Weight layers, neurons, linear solves, systems and paths.
    seconds : float
    curvature : dict
        With ``curvature=True`` or ``scale="curvature"``: the Hessian block norm of every
        weight layer (``before``; and ``gains``, ``after`` when rescaled),
        :mod:`solver.networks.curvature`.
    """

    mode: str
    reason: str
    layers: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    seconds: float = 0.0
    curvature: dict = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"lps init_: mode {self.mode} ({self.reason}); {self.seconds:.3g} s"]
        for l in self.layers:
            lines.append(
                f"  {l['name']:>6} {l['kind']:<7} {str(tuple(l['weight_shape'])):<18} "
                f"active {l['active_fraction']:.0%}, split {l['split_fraction']:.0%}, dead {l['dead_fraction']:.0%} ({l['method']})"
            )
        return "\n".join(lines)

    def to_json(self) -> dict:
        out = {"mode": self.mode, "reason": self.reason, "layers": self.layers, "counts": self.counts, "seconds": self.seconds}
        if self.curvature:
            out["curvature"] = self.curvature
        return out


# ---------------------------------------------------------------------------------------
# reading the model
# ---------------------------------------------------------------------------------------
def _activation_of(m) -> tuple[str, float] | None:
    """The activation name and leaky slope of a ``torch.nn`` module, or None if it is none."""
    name = TORCH_MODULES.get(type(m).__name__)
    if name is None or name == "identity":
        return None
    return name, float(getattr(m, "negative_slope", DEFAULT_NEGATIVE_SLOPE))


def _passthrough_kinds() -> tuple:
    return (
        nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d,
        nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d,
        nn.Flatten, nn.Unflatten, nn.Identity,
    )


def _dropout_kinds() -> tuple:
    return (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout)


def _flatten_modules(model, prefix: str = "") -> list[tuple[str, Any]]:
    out = []
    for name, m in model.named_children():
        full = f"{prefix}{name}"
        if isinstance(m, nn.Sequential):
            out.extend(_flatten_modules(m, full + "."))
        else:
            out.append((full, m))
    return out


def _why_unsupported(m) -> str:
    kind = type(m).__name__
    if isinstance(m, (nn.MultiheadAttention, nn.TransformerEncoderLayer, nn.TransformerDecoderLayer, nn.Transformer)):
        return f"{kind} is an attention layer: its weights are not neurons over features, so the initialiser cannot place them"
    if isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm)):
        return f"{kind} rescales features with statistics of its own, which would undo the per-neuron scaling; remove it or initialise it separately"
    if isinstance(m, (nn.Conv1d, nn.Conv2d)):
        if m.groups != 1:
            return f"{kind} with groups={m.groups}: only groups=1 convolutions are supported"
        if m.padding_mode != "zeros":
            return f"{kind} with padding_mode={m.padding_mode!r}: only zero padding is supported"
        if isinstance(m.padding, str) and m.padding == "same" and any(k % 2 == 0 for k in m.kernel_size):
            return f"{kind} with padding='same' and an even kernel: unsupported"
        return ""
    if type(m).__module__.startswith("torch.nn") and isinstance(m, nn.Module):
        return f"{kind} is not a layer the initialiser knows (supported: Linear, Conv1d, Conv2d, activations, pooling, Flatten, Dropout)"
    return f"{kind} is a custom module: the initialiser cannot see what it computes"


def plan_model(model) -> list[dict]:
    """The model's modules with their roles; raises :class:`InitError` on the first one
    that cannot be handled, naming it.

    Returns
    -------
    list of dict
        ``{"name", "module", "role"}`` with role ``weight``, ``activation``, ``pass`` or
        ``dropout``; weight entries also get ``activation`` and ``negative_slope`` (the
        first activation module after them, before the next weight layer; identity if none).
    """
    _require_torch()
    if not isinstance(model, nn.Sequential):
        raise InitError(f"init_ needs a torch.nn.Sequential, got {type(model).__name__}")
    plan = []
    for name, m in _flatten_modules(model):
        if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            why = _why_unsupported(m) if isinstance(m, (nn.Conv1d, nn.Conv2d)) else ""
            if why:
                raise InitError(f"module {name} ({type(m).__name__}) cannot be initialised: {why}")
            plan.append({"name": name, "module": m, "role": "weight", "activation": "identity", "negative_slope": 0.01})
        elif _activation_of(m) is not None:
            plan.append({"name": name, "module": m, "role": "activation"})
        elif isinstance(m, _passthrough_kinds()):
            plan.append({"name": name, "module": m, "role": "pass"})
        elif isinstance(m, _dropout_kinds()):
            plan.append({"name": name, "module": m, "role": "dropout"})
        else:
            raise InitError(f"module {name} ({type(m).__name__}) is not supported: {_why_unsupported(m)}")
    weights = [p for p in plan if p["role"] == "weight"]
    if not weights:
        raise InitError("the model has no Linear, Conv1d or Conv2d layer to initialise")
    current = None
    for p in plan:
        if p["role"] == "weight":
            current = p
        elif p["role"] == "activation" and current is not None and current["activation"] == "identity":
            current["activation"], current["negative_slope"] = _activation_of(p["module"])
            current = None  # a second activation belongs to no weight layer
    return plan


# ---------------------------------------------------------------------------------------
# features
# ---------------------------------------------------------------------------------------
def _conv_padding(m) -> tuple:
    if isinstance(m.padding, str):
        if m.padding == "valid":
            return (0,) * len(m.kernel_size)
        return tuple(d * (k - 1) // 2 for d, k in zip(m.dilation, m.kernel_size))
    return tuple(m.padding)


def _patches(m, cur: "torch.Tensor") -> tuple["torch.Tensor", int]:
    """Input patches of a convolution as rows (N * L, C * prod(kernel)), and L."""
    if isinstance(m, nn.Conv1d):
        if cur.ndim != 3:
            raise InitError(f"Conv1d expects (N, C, L) inputs, got shape {tuple(cur.shape)}")
        x4 = cur.unsqueeze(2)
        k, d, p, s = (1, m.kernel_size[0]), (1, m.dilation[0]), (0, _conv_padding(m)[0]), (1, m.stride[0])
    else:
        if cur.ndim != 4:
            raise InitError(f"Conv2d expects (N, C, H, W) inputs, got shape {tuple(cur.shape)}")
        x4, k, d, p, s = cur, m.kernel_size, m.dilation, _conv_padding(m), m.stride
    if x4.shape[1] != m.in_channels:
        raise InitError(f"conv layer expects {m.in_channels} channels, the features have {x4.shape[1]}")
    cols = F.unfold(x4, kernel_size=k, dilation=d, padding=p, stride=s)  # (N, C*k, L)
    L = cols.shape[2]
    return cols.transpose(1, 2).reshape(-1, cols.shape[1]), L


def _apply_weight(m, cur: "torch.Tensor", W: np.ndarray, b: np.ndarray | None) -> "torch.Tensor":
    """The layer's pre-activation in float64 with the new weights."""
    wt = torch.as_tensor(W, dtype=torch.float64)
    bt = torch.as_tensor(b, dtype=torch.float64) if b is not None else None
    if isinstance(m, nn.Linear):
        return F.linear(cur, wt, bt)
    shape = m.weight.shape
    wt = wt.reshape(shape)
    if isinstance(m, nn.Conv1d):
        return F.conv1d(cur, wt, bt, m.stride, _conv_padding(m), m.dilation)
    return F.conv2d(cur, wt, bt, m.stride, _conv_padding(m), m.dilation)


def _targets(y, out_features: int | None) -> np.ndarray | None:
    if y is None:
        return None
    ya = y.detach().cpu().numpy() if torch.is_tensor(y) else np.asarray(y)
    if ya.ndim == 1 and np.issubdtype(ya.dtype, np.integer):
        return one_hot(ya, out_features)
    ya = np.asarray(ya, dtype=np.float64)
    if ya.ndim == 1:
        ya = ya[:, None]
    if not np.isfinite(ya).all():
        raise InitError("y contains NaN or infinity")
    return ya


# ---------------------------------------------------------------------------------------
# the entry point
# ---------------------------------------------------------------------------------------
class _TorchWalker:
    """The model's weight layers as rows for :func:`run_stack`: samples for ``Linear``,
    input patches for convolutions, subsampled to ``max_patches`` rows with the seed; the
    modules between weight layers are applied as the model would (dropout as the
    identity)."""

    def __init__(self, plan: list[dict], xt, ya: np.ndarray | None, rng: np.random.Generator, max_patches: int):
        self.weights = [p for p in plan if p["role"] == "weight"]
        self.plan, self.cur, self.ya, self.rng, self.max_patches = plan, xt, ya, rng, max_patches
        self.pos = 0

    def _next_weight(self) -> dict:
        """Apply the modules up to the next weight layer; that layer's plan entry."""
        while True:
            p = self.plan[self.pos]
            self.pos += 1
            if p["role"] == "weight":
                return p
            if p["role"] in ("activation", "pass"):
                self.cur = p["module"](self.cur)

    def rows(self, k: int, layer: LayerDef) -> LayerRows:
        p = self._next_weight()
        m, cur = p["module"], self.cur
        if isinstance(m, nn.Linear):
            if cur.ndim != 2:
                raise InitError(f"module {p['name']} (Linear) gets features of shape {tuple(cur.shape)}: add nn.Flatten before it")
            if cur.shape[1] != m.in_features:
                raise InitError(f"module {p['name']} (Linear) expects {m.in_features} features, gets {cur.shape[1]}")
            rows, per = cur.numpy(), 1
        else:
            pt, per = _patches(m, cur)
            rows = pt.numpy()
        row_targets = np.repeat(self.ya, per, axis=0) if self.ya is not None else None
        rows_fit, tgt_fit = rows, row_targets
        if rows.shape[0] > self.max_patches:
            pick = np.sort(self.rng.choice(rows.shape[0], size=self.max_patches, replace=False))
            rows_fit = rows[pick]
            tgt_fit = row_targets[pick] if row_targets is not None else None
        return LayerRows(rows_fit, tgt_fit, rows, self.ya, ridge=isinstance(m, nn.Linear))

    def advance(self, k: int, layer: LayerDef, init: LayerInit) -> np.ndarray:
        m = self.weights[k]["module"]
        _write(m, init)
        z = _apply_weight(m, self.cur, init.weight, init.bias)
        self.cur = z
        return z.transpose(1, -1).reshape(-1, layer.out_features).numpy() if z.ndim > 2 else z.numpy()


def _check_inputs(model, x, y, mode: str) -> tuple[list[dict], "torch.Tensor", np.ndarray | None]:
    """The model's plan, ``x`` as a float64 CPU tensor and the targets as rows."""
    from solver.init.modes import MODES

    _require_torch()
    if mode not in MODES:
        raise InitError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    plan = plan_model(model)
    weights = [p for p in plan if p["role"] == "weight"]
    xt = x.detach() if torch.is_tensor(x) else torch.as_tensor(np.asarray(x))
    try:
        xt = xt.to(device="cpu", dtype=torch.float64)
    except (TypeError, RuntimeError) as exc:
        raise InitError(f"x is not numeric: {exc}") from None
    if xt.ndim < 2 or xt.shape[0] == 0:
        raise InitError(f"x must have shape (N, *input_shape) with N > 0, got {tuple(xt.shape)}")
    if not torch.isfinite(xt).all():
        raise InitError("x contains NaN or infinity")
    last = weights[-1]["module"]
    out_last = last.out_features if isinstance(last, nn.Linear) else last.out_channels
    ya = _targets(y, out_last)
    if ya is not None and ya.shape[0] != xt.shape[0]:
        raise InitError(f"y has {ya.shape[0]} rows but x has {xt.shape[0]}")
    if ya is not None and isinstance(last, nn.Linear) and ya.shape[1] != out_last:
        raise InitError(f"y has {ya.shape[1]} columns but the last layer has {out_last} outputs")
    return plan, xt, ya


def _layer_defs(weights: list[dict]) -> list[LayerDef]:
    """The weight layers as plain neurons-over-rows (a filter is a neuron over patches)."""
    defs = []
    for p in weights:
        m = p["module"]
        n_in = m.in_features if isinstance(m, nn.Linear) else m.in_channels * int(np.prod(m.kernel_size))
        n_out = m.out_features if isinstance(m, nn.Linear) else m.out_channels
        defs.append(LayerDef(n_in, n_out, p["activation"], m.bias is not None, p["negative_slope"]))
    return defs


def _is_pure_mlp(plan: list[dict]) -> bool:
    """Only Linear layers, activations, dropout and Identity: the exact machinery applies."""
    roles_ok = all(p["role"] in ("weight", "activation", "dropout") or isinstance(p["module"], nn.Identity) for p in plan)
    return roles_ok and all(isinstance(p["module"], nn.Linear) for p in plan if p["role"] == "weight")


def _report_layers(weights: list[dict], defs: list[LayerDef], layers: list[LayerInit], stats: list[dict]) -> list[dict]:
    return [
        {"name": p["name"], "kind": type(p["module"]).__name__, "weight_shape": list(p["module"].weight.shape),
         "activation": d.activation, **st, **li.info}
        for p, d, li, st in zip(weights, defs, layers, stats)
    ]


def _auto_mode(defs, ya, spec, degree, weight_decay, max_paths, layerwise_budget, projection_dim) -> tuple[str, str]:
    """The mode ``auto`` picks (:func:`solver.init.modes.choose_mode`) and why."""
    from solver.init.modes import DEFAULT_LAYERWISE_BUDGET, choose_mode

    choice = choose_mode(
        defs, has_targets=ya is not None, degree=degree, weight_decay=weight_decay, max_paths=max_paths,
        layerwise_budget=layerwise_budget or DEFAULT_LAYERWISE_BUDGET, projection_dim=projection_dim, spec=spec,
    )
    return choice.mode, "auto: " + choice.reason


def _hidden_layers(mode: str, rng: np.random.Generator, seed: int, start: StartOptions, layerwise: LayerwiseOptions):
    """The hidden-layer solve of ``mode``: start wherever the rows carry no targets."""
    start_fn = start_hidden(rng, start)
    layerwise_fn = layerwise_hidden(rng, layerwise, lambda k: seed + 7919 * (k + 1))

    def hidden(k: int, layer: LayerDef, data: LayerRows) -> LayerInit:
        use_start = mode == "start" or data.fit_targets is None
        return start_fn(k, layer, data) if use_start else layerwise_fn(k, layer, data)

    return hidden


def init_(
    model,
    x,
    y=None,
    mode: str = "auto",
    *,
    seed: int = 0,
    degree: int = 2,
    interval: tuple[float, float] = (-1.0, 1.0),
    weight_decay: float = 0.01,
    max_points: int | None = None,
    projection_dim: int = 1,
    layerwise_budget: int | None = None,
    max_paths: int = 100_000,
    max_patches: int = DEFAULT_MAX_PATCHES,
    batch: int | None = 8,
    verbose: bool = False,
    scale: str | None = None,
    curvature: bool = False,
) -> InitReport:
    """Initialise every Linear/Conv1d/Conv2d of an ``nn.Sequential`` in place from data.

    Parameters
    ----------
    model : torch.nn.Sequential
    x : tensor or array, shape (N, *input_shape)
        A data sample (a few hundred to a few thousand rows is plenty).
    y : tensor or array, optional
        Targets: integer class labels (N,) (one-hot encoded) or values (N, out). Needed by
        ``layerwise`` and ``exact``; with ``start`` they make the last Linear layer (when it
        has no activation) the ridge least-squares fit.
    mode : {"auto", "start", "layerwise", "exact"}
        ``auto`` chooses as :func:`solver.init.modes.choose_mode` does.
    seed : int
        Every random choice; equal seeds give equal weights.
    degree, interval : surrogate settings (the interval also sets each neuron's spread)
    weight_decay : float
        lambda of the neuron problems and of the ridge output layer.
    max_points : int, optional
        Anchor cap per neuron in start mode.
    projection_dim : {1, 2}
        Layerwise projection dimension.
    layerwise_budget : int, optional
        ``auto``'s budget for layerwise, in engine paths.
    max_paths : int
        Exact mode's cap (and the per-system cap in layerwise).
    max_patches : int
        Rows of patches (or samples) a layer's solves see at most; drawn with the seed.
    batch : int or None
        Layerwise neurons per engine call.
    verbose : bool
        Print the report.
    scale : {None, "curvature"}
        ``"curvature"``: after the weights are chosen, rescale each weight layer's gain so
        that the per-layer Hessian block norms are equal (Skorski, Temperoni, Theobald 2020;
        :func:`solver.networks.curvature.balance_gains`); needs ``y``.
    curvature : bool
        Report the per-layer Hessian block norms (``InitReport.curvature``; needs ``y``).

    Returns
    -------
    InitReport
    """
    if scale not in (None, "curvature"):
        raise InitError(f"unknown scale {scale!r}; choose None or 'curvature'")
    if (scale or curvature) and y is None:
        raise InitError("curvature needs targets y (the loss's Hessian)")
    rep = _init_weights(model, x, y, mode, seed, degree, interval, weight_decay, max_points, projection_dim,
                        layerwise_budget, max_paths, max_patches, batch)
    if scale or curvature:
        rep.curvature = _curvature(model, x, y, rescale=scale == "curvature")
    return _report(rep, verbose)


def _curvature(model, x, y, rescale: bool) -> dict:
    """Per-layer Hessian block norms, and the curvature rescaling (module docstring of
    :mod:`solver.networks.curvature`)."""
    from solver.networks.curvature import balance_gains, module_curvature

    plan, xt, ya = _check_inputs(model, x, y, "auto")
    weights = [p for p in plan if p["role"] == "weight"]
    names = [p["name"] for p in weights]
    before, whole = module_curvature(model, names, xt, ya)
    out = {"reference": "Skorski, Temperoni, Theobald 2020 (arXiv 2004.09506)",
           "before": [n.value for n in before], "whole_before": whole.value}
    if not rescale:
        return out
    gains = balance_gains(out["before"])
    running = 1.0
    with torch.no_grad():
        for p, g in zip(weights, gains):
            running *= float(g)
            p["module"].weight.mul_(float(g))
            if p["module"].bias is not None:
                p["module"].bias.mul_(running)
    after, whole_after = module_curvature(model, names, xt, ya)
    homogeneous = all(p["activation"] in ("relu", "leaky_relu", "identity") for p in weights)
    out.update(gains=[float(g) for g in gains], after=[n.value for n in after], whole_after=whole_after.value,
               function_preserved=homogeneous)
    return out


def _init_weights(model, x, y, mode, seed, degree, interval, weight_decay, max_points, projection_dim,
                  layerwise_budget, max_paths, max_patches, batch) -> InitReport:
    """:func:`init_` without the curvature step."""
    verbose = False
    t0 = time.perf_counter()
    plan, xt, ya = _check_inputs(model, x, y, mode)
    weights = [p for p in plan if p["role"] == "weight"]
    defs, pure_mlp = _layer_defs(weights), _is_pure_mlp(plan)
    reason = f"mode {mode} requested"
    if mode == "auto":
        spec = _spec_for(defs, xt, ya, degree, weight_decay, max_paths, seed) if (pure_mlp and ya is not None and xt.ndim == 2) else None
        mode, reason = _auto_mode(defs, ya, spec, degree, weight_decay, max_paths, layerwise_budget, projection_dim)
    if mode in ("layerwise", "exact") and ya is None:
        raise InitError(f"{mode} mode needs targets y")
    if mode == "exact":
        if not (pure_mlp and xt.ndim == 2):
            raise InitError("exact mode takes only fully connected models (Linear and activations)")
        return _exact_into(model, weights, defs, xt, ya, degree, weight_decay, max_paths, seed, reason, t0, verbose)

    rng = np.random.default_rng(seed)
    start = StartOptions(degree, tuple(interval), weight_decay, max_points or DEFAULT_MAX_POINTS)
    layerwise = LayerwiseOptions(degree, tuple(interval), weight_decay, projection_dim, max_paths, batch)
    hidden = _hidden_layers(mode, rng, seed, start, layerwise)
    layers, stats = run_stack(defs, _TorchWalker(plan, xt, ya, rng, max_patches), hidden, weight_decay)
    totals = {"weight_layers": len(weights), "neurons": int(sum(d.out_features for d in defs)),
              **total(layers, ("linear_solves", "systems", "paths", "start_fallbacks"))}
    return _report(InitReport(mode, reason, _report_layers(weights, defs, layers, stats), totals, time.perf_counter() - t0), verbose)


def _report(rep: InitReport, verbose: bool) -> InitReport:
    if verbose:
        print(rep)
    return rep


def _write(m, li: LayerInit) -> None:
    """Copy the weights into the module, keeping its dtype and device."""
    with torch.no_grad():
        w = torch.as_tensor(li.weight, dtype=m.weight.dtype, device=m.weight.device).reshape(m.weight.shape)
        m.weight.copy_(w)
        if m.bias is not None:
            if li.bias is None:
                m.bias.zero_()
            else:
                m.bias.copy_(torch.as_tensor(li.bias, dtype=m.bias.dtype, device=m.bias.device))


def _spec_for(defs, xt, ya, degree, weight_decay, max_paths, seed):
    """A NetworkSpec for the exact machinery (fully connected models only)."""
    from solver.networks.spec import load_spec

    layers = []
    for d in defs:
        l = {"in_features": d.in_features, "out_features": d.out_features, "activation": d.activation, "bias": d.bias}
        if d.activation == "leaky_relu":
            l["negative_slope"] = d.negative_slope
        layers.append(l)
    return load_spec(
        {
            "layers": layers,
            "surrogate": {"degree": degree},
            "weight_decay": weight_decay,
            "data": {"x": xt.numpy().tolist(), "y": ya.tolist()},
            "mode": "exact",
            "seed": seed,
            "max_paths": max_paths,
        }
    )


def _exact_into(model, weights, defs, xt, ya, degree, weight_decay, max_paths, seed, reason, t0, verbose) -> InitReport:
    from solver.init.modes import run_layers

    spec = _spec_for(defs, xt, ya, degree, weight_decay, max_paths, seed)
    res = run_layers(defs, xt.numpy(), ya, mode="exact", spec=spec, max_paths=max_paths, seed=seed)
    if not res.layers:
        raise InitError("exact mode found no real critical point to use; try mode start or layerwise")
    for p, li in zip(weights, res.layers):
        _write(p["module"], li)
    counts = dict(res.counts, weight_layers=len(weights))
    return _report(InitReport("exact", reason, _report_layers(weights, defs, res.layers, res.stats), counts, time.perf_counter() - t0), verbose)

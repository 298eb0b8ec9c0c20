"""Curvature per layer: the spectral norm of each layer's block of the loss Hessian.

Skorski, Temperoni and Theobald, "Revisiting Initialization of Neural Networks" (2020, arXiv
2004.09506; ACML 2021) initialise by controlling the norm of the loss's Hessian across
layers rather than the variance of activations. Here, for a set of weights, the block
``H_ll`` of the data term's Hessian that belongs to layer ``l`` (its weight and bias) has its
spectral norm ``||H_ll||_2`` estimated by power iteration on Hessian-vector products; the
whole Hessian's norm as well. For a torch model (``init_``) the products come from torch
autograd (one backward pass through the gradient's graph per product); for a spec (the
reports of ``lps critical``, ``lps init`` and the service, whose image has no torch) from
central differences of the backpropagated gradient in numpy, ``(g(t + e v) - g(t - e v)) / 2e``
(exact for piecewise-linear activations away from a kink, ``O(e^2)`` otherwise).

The loss is the real network's (the spec's activations, not the surrogates) on the spec's
data: ``1/(2N) sum_j ||f(x_j) - y_j||^2``; the weight decay, which adds ``lambda`` to every
eigenvalue, is left out so the figures compare across specs.

:func:`balance_gains` is the rescaling ``init_(..., scale="curvature")`` applies: each layer's
weights are multiplied by a gain ``g_l`` with ``prod g_l = 1`` (biases by the running product,
so a positively homogeneous network, ReLU, leaky ReLU or identity, computes the same
function), chosen so that the block norms, which scale as ``1 / g_l^2``, all equal their
geometric mean.

"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from solver.errors import LpsError
from solver.networks.spec import NetworkSpec

#: power iterations at most, and the relative change that stops them
DEFAULT_ITERATIONS = 100
DEFAULT_TOLERANCE = 1e-6
#: the report skips weights x rows above this (HVPs cost a few forward passes each)
MAX_WORK = 50_000_000


class CurvatureError(LpsError, ValueError):
    """Curvature cannot be measured (no targets)."""


@dataclass(frozen=True)
class SpectralNorm:
    """A power-iteration estimate: value, iterations and whether the tolerance was met."""

    value: float
    iterations: int
    converged: bool

    def to_json(self) -> dict:
        return {"spectral_norm": float(self.value), "iterations": int(self.iterations), "converged": bool(self.converged)}


def power_iteration(hvp: Callable[[np.ndarray], np.ndarray], n: int, *, iterations: int = DEFAULT_ITERATIONS,
                    tolerance: float = DEFAULT_TOLERANCE, seed: int = 0) -> SpectralNorm:
    """``||H||_2`` of a symmetric ``n x n`` operator from its products ``hvp(v)``: ``||H v||``
    with ``v`` the normalised last product, which tends to the largest eigenvalue modulus
    (also when ``+-rho`` are both eigenvalues)."""
    v = np.random.default_rng(seed).normal(size=n)
    v /= np.linalg.norm(v)
    rho = 0.0
    for it in range(1, iterations + 1):
        hv = hvp(v)
        new = float(np.linalg.norm(hv))
        if new == 0.0:
            return SpectralNorm(0.0, it, True)
        v = hv / new
        if abs(new - rho) <= tolerance * new:
            return SpectralNorm(new, it, True)
        rho = new
    return SpectralNorm(rho, iterations, False)


def _block_norms(hvp_block: Callable[[list[int], np.ndarray], np.ndarray], sizes: Sequence[int],
                 **options) -> tuple[list[SpectralNorm], SpectralNorm]:
    """Per block (consecutive ``sizes``) and for the whole, from ``hvp_block(blocks, v)``."""
    norms = [power_iteration(lambda v, k=k: hvp_block([k], v), n, **options) for k, n in enumerate(sizes)]
    whole = power_iteration(lambda v: hvp_block(list(range(len(sizes))), v), int(sum(sizes)), **options)
    return norms, whole


def hessian_block_norms(loss, blocks: Sequence[Sequence], **options) -> tuple[list[SpectralNorm], SpectralNorm]:
    """Per block of torch parameters (each a list of tensors with ``requires_grad``)
    ``||H_bb||_2`` of the scalar ``loss``, and the whole Hessian's. The gradient's graph is
    built once and reused by every product."""
    import torch

    params = [p for b in blocks for p in b]
    # a step activation passes no gradient: such parameters have none (a zero Hessian row)
    grads = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
    owner = [k for k, b in enumerate(blocks) for _ in b]

    def hvp_block(which: list[int], v: np.ndarray) -> np.ndarray:
        idx = [i for i in range(len(params)) if owner[i] in which]
        parts, k = [], 0
        for i in idx:
            parts.append(torch.as_tensor(v[k:k + params[i].numel()], dtype=params[i].dtype).reshape(params[i].shape))
            k += params[i].numel()
        live = [j for j, i in enumerate(idx) if grads[i] is not None and grads[i].requires_grad]
        out = [torch.zeros_like(params[i]) for i in idx]
        if live:
            got = torch.autograd.grad([grads[idx[j]] for j in live], [params[i] for i in idx],
                                      grad_outputs=[parts[j] for j in live], retain_graph=True, allow_unused=True)
            out = [torch.zeros_like(params[i]) if o is None else o for i, o in zip(idx, got)]
        return np.concatenate([o.detach().numpy().reshape(-1) for o in out])

    return _block_norms(hvp_block, [sum(p.numel() for p in b) for b in blocks], **options)


def data_gradient(spec: NetworkSpec, theta: np.ndarray) -> np.ndarray:
    """Gradient of the real network's data term ``1/(2N) sum ||f - y||^2`` (backpropagation)."""
    from solver.networks.activations import activate, activation_derivative
    from solver.networks.weights_io import unflatten

    x, y = spec.data.x_array(), spec.data.y_array()
    layers = unflatten(spec, np.asarray(theta, dtype=np.float64))
    hs, zs = [x], []
    for layer, (W, b) in zip(spec.layers, layers):
        zs.append(hs[-1] @ W.T + (0.0 if b is None else b))
        hs.append(activate(zs[-1], layer.activation, layer.negative_slope or 0.01))
    delta = (hs[-1] - y) / x.shape[0]
    parts: list[np.ndarray] = []
    for k in range(len(spec.layers) - 1, -1, -1):
        layer, (W, b) = spec.layers[k], layers[k]
        delta = delta * activation_derivative(layer.activation, layer.negative_slope or 0.01)(zs[k])
        parts[:0] = [(delta.T @ hs[k]).reshape(-1)] + ([delta.sum(axis=0)] if b is not None else [])
        delta = delta @ W
    return np.concatenate(parts)


def _layer_sizes(spec: NetworkSpec) -> list[int]:
    return [l.out_features * l.in_features + (l.out_features if l.bias else 0) for l in spec.layers]


def spec_curvature(spec: NetworkSpec, theta: np.ndarray, **options) -> dict:
    """Per-layer Hessian block norms of the spec's real network at ``theta`` (state_dict
    order) on its data (numpy, module docstring): ``{"layers", "whole", "data_loss"}``."""
    if spec.data.y is None:
        raise CurvatureError("curvature needs targets data.y (the loss's Hessian)")
    theta = np.asarray(theta, dtype=np.float64)
    sizes = _layer_sizes(spec)
    starts = np.cumsum([0] + sizes)
    eps = 1e-5 * (1.0 + float(np.abs(theta).max(initial=0.0)))

    def hvp_block(which: list[int], v: np.ndarray) -> np.ndarray:
        full = np.zeros_like(theta)
        idx = np.concatenate([np.arange(starts[k], starts[k + 1]) for k in which])
        full[idx] = v
        diff = (data_gradient(spec, theta + eps * full) - data_gradient(spec, theta - eps * full)) / (2 * eps)
        return diff[idx]

    norms, whole = _block_norms(hvp_block, sizes, **options)
    from solver.networks.activations import activate
    from solver.networks.weights_io import unflatten

    h = spec.data.x_array()
    for layer, (W, b) in zip(spec.layers, unflatten(spec, theta)):
        h = activate(h @ W.T + (0.0 if b is None else b), layer.activation, layer.negative_slope or 0.01)
    r = h - spec.data.y_array()
    return {"layers": [n.to_json() for n in norms], "whole": whole.to_json(),
            "data_loss": float(0.5 * np.mean(np.sum(r * r, axis=1)))}


def curvature_report(spec: NetworkSpec, thetas: Sequence[np.ndarray]) -> dict:
    """Curvature of every candidate, or why it was skipped (JSON-ready)."""
    if spec.data.y is None:
        return {"skipped": "no targets data.y"}
    work = spec.n_parameters * len(spec.data.x)
    if work > MAX_WORK:
        return {"skipped": f"{spec.n_parameters} parameters x {len(spec.data.x)} rows > {MAX_WORK}"}
    try:
        per = [spec_curvature(spec, t, iterations=50, tolerance=1e-4) for t in thetas]
    except CurvatureError as exc:
        return {"skipped": str(exc)}
    return {"reference": "Skorski, Temperoni, Theobald 2020 (arXiv 2004.09506)",
            "loss": "data term 1/(2N) sum ||f - y||^2 of the real network (weight decay adds lambda)",
            "candidates": per}


def module_curvature(model, names: Sequence[str], x, y: np.ndarray, **options) -> tuple[list[SpectralNorm], SpectralNorm]:
    """Block norms of a torch model's data term ``1/(2N) sum ||model(x) - y||^2`` per weight
    module (``names`` as in ``named_modules``), on a float64 copy of the model."""
    import copy

    import torch

    double = copy.deepcopy(model).double()
    modules = dict(double.named_modules())
    blocks = [[p for p in (modules[n].weight, modules[n].bias) if p is not None] for n in names]
    out = double(torch.as_tensor(x, dtype=torch.float64))
    r = out.reshape(out.shape[0], -1) - torch.as_tensor(y, dtype=torch.float64)
    return hessian_block_norms(0.5 * (r * r).sum(dim=1).mean(), blocks, **options)


def balance_gains(norms: Sequence[float]) -> np.ndarray:
    """Gains ``g_l`` with ``prod g_l = 1`` that make ``norms[l] / g_l^2`` equal (the block
    norms' geometric mean); a zero norm keeps its layer's gain at the others' balance."""
    rho = np.asarray(norms, dtype=np.float64)
    positive = rho > 0
    if not positive.any():
        return np.ones_like(rho)
    logs = np.where(positive, np.log(np.where(positive, rho, 1.0)), np.nan)
    mean = np.nanmean(logs)
    g = np.exp(0.5 * (np.where(positive, logs, mean) - mean))
    return g / np.exp(np.mean(np.log(g)))

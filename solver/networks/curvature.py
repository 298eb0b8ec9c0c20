"""Curvature per layer: the spectral norm of each layer's block of the loss Hessian.

Skorski, Temperoni and Theobald, "Revisiting Initialization of Neural Networks" (2020, arXiv
2004.09506; ACML 2021) initialise by controlling the norm of the loss's Hessian across
layers rather than the variance of activations. Here, for a set of weights, the block
``H_ll`` of the data term's Hessian that belongs to layer ``l`` (its weight and bias) has its
spectral norm ``||H_ll||_2`` estimated by power iteration on Hessian-vector products (torch
autograd: one backward pass through the gradient's graph per product); the whole Hessian's
norm as well.

The loss is the real network's (the spec's activations, not the surrogates) on the spec's
data: ``1/(2N) sum_j ||f(x_j) - y_j||^2``; the weight decay, which adds ``lambda`` to every
eigenvalue, is left out so the figures compare across specs.

:func:`balance_gains` is the rescaling ``init_(..., scale="curvature")`` applies: each layer's
weights are multiplied by a gain ``g_l`` with ``prod g_l = 1`` (biases by the running product,
so a positively homogeneous network, ReLU, leaky ReLU or identity, computes the same
function), chosen so that the block norms, which scale as ``1 / g_l^2``, all equal their
geometric mean.

torch is optional: without it the report says so.
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
    """Curvature cannot be measured (no torch, no targets)."""


@dataclass(frozen=True)
class SpectralNorm:
    """A power-iteration estimate: value, iterations and whether the tolerance was met."""

    value: float
    iterations: int
    converged: bool

    def to_json(self) -> dict:
        return {"spectral_norm": float(self.value), "iterations": int(self.iterations), "converged": bool(self.converged)}


def power_iteration(hvp: Callable, shapes: Sequence, *, iterations: int = DEFAULT_ITERATIONS,
                    tolerance: float = DEFAULT_TOLERANCE, seed: int = 0) -> SpectralNorm:
    """``||H||_2`` of a symmetric operator from its products ``hvp(vs) -> Hvs`` (lists of
    tensors of ``shapes``): ``||H v||`` with ``v`` the normalised last product, which tends
    to the largest eigenvalue modulus (also when ``+-rho`` are both eigenvalues)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    v = [torch.randn(s, generator=gen, dtype=torch.float64) for s in shapes]
    norm = torch.sqrt(sum((t * t).sum() for t in v))
    v = [t / norm for t in v]
    rho = 0.0
    for it in range(1, iterations + 1):
        hv = hvp(v)
        new = float(torch.sqrt(sum((t * t).sum() for t in hv)))
        if new == 0.0:
            return SpectralNorm(0.0, it, True)
        v = [t / new for t in hv]
        if abs(new - rho) <= tolerance * new:
            return SpectralNorm(new, it, True)
        rho = new
    return SpectralNorm(rho, iterations, False)


def hessian_block_norms(loss, blocks: Sequence[Sequence], **options) -> tuple[list[SpectralNorm], SpectralNorm]:
    """Per block of parameters (each a list of tensors with ``requires_grad``), ``||H_bb||_2``
    of the scalar ``loss``; and the whole Hessian's over all blocks. The gradient's graph is
    built once and reused by every product."""
    import torch

    params = [p for b in blocks for p in b]
    grads = torch.autograd.grad(loss, params, create_graph=True)
    starts = np.cumsum([0] + [len(b) for b in blocks])

    def hvp_of(idx: list[int]) -> Callable:
        def hvp(v):
            out = torch.autograd.grad([grads[i] for i in idx], [params[i] for i in idx], grad_outputs=v,
                                      retain_graph=True, allow_unused=True)
            return [torch.zeros_like(params[i]) if o is None else o for i, o in zip(idx, out)]
        return hvp

    norms = []
    for k in range(len(blocks)):
        idx = list(range(starts[k], starts[k + 1]))
        norms.append(power_iteration(hvp_of(idx), [params[i].shape for i in idx], **options))
    whole = power_iteration(hvp_of(list(range(len(params)))), [p.shape for p in params], **options)
    return norms, whole


def torch_activation(name: str, negative_slope: float | None):
    """The real activation ``name`` on torch tensors (PyTorch's definitions)."""
    import torch
    import torch.nn.functional as F

    table = {
        "relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "gelu": F.gelu, "silu": F.silu,
        "identity": lambda z: z, "threshold": lambda z: (z >= 0).to(z.dtype),
        "leaky_relu": lambda z: F.leaky_relu(z, negative_slope if negative_slope is not None else 0.01),
    }
    return table[name]


def spec_curvature(spec: NetworkSpec, theta: np.ndarray, **options) -> dict:
    """Per-layer Hessian block norms of the spec's real network at ``theta`` (state_dict
    order) on its data: ``{"layers": [...], "whole": ..., "loss": data term}``."""
    try:
        import torch
    except ImportError:
        raise CurvatureError("curvature needs PyTorch: pip install 'lps-init[torch]'") from None
    if spec.data.y is None:
        raise CurvatureError("curvature needs targets data.y (the loss's Hessian)")
    from solver.networks.weights_io import unflatten

    x = torch.tensor(spec.data.x_array())
    y = torch.tensor(spec.data.y_array())
    blocks = []
    for W, b in unflatten(spec, np.asarray(theta, dtype=np.float64)):
        blocks.append([torch.tensor(np.array(W), requires_grad=True)]
                      + ([torch.tensor(np.array(b), requires_grad=True)] if b is not None else []))
    h = x
    for layer, block in zip(spec.layers, blocks):
        h = h @ block[0].T + (block[1] if layer.bias else 0.0)
        h = torch_activation(layer.activation, layer.negative_slope)(h)
    r = h - y
    data = 0.5 * (r * r).sum(dim=1).mean()
    norms, whole = hessian_block_norms(data, blocks, **options)
    return {"layers": [n.to_json() for n in norms], "whole": whole.to_json(), "data_loss": float(data.detach())}


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

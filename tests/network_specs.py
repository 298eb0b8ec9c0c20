"""Small layer specs and a PyTorch oracle for the network tests (shared by the test files)."""

from __future__ import annotations

import numpy as np

from solver.networks.spec import NetworkSpec, load_spec


def make_spec(
    widths: tuple[int, ...],
    activation: str = "relu",
    degree: int = 2,
    n_samples: int = 5,
    seed: int = 0,
    weight_decay: float = 0.01,
    bias: bool = True,
    interval=None,
    mode: str = "exact",
    **extra,
) -> NetworkSpec:
    """A spec with random data in [-1, 1] and normal targets; identity output layer."""
    rng = np.random.default_rng(seed)
    layers = [
        {"in_features": a, "out_features": b, "activation": activation if k < len(widths) - 2 else "identity", "bias": bias}
        for k, (a, b) in enumerate(zip(widths, widths[1:]))
    ]
    x = rng.uniform(-1, 1, (n_samples, widths[0]))
    y = rng.normal(size=(n_samples, widths[-1]))
    surrogate = {"degree": degree}
    if interval is not None:
        surrogate["interval"] = list(interval)
    return load_spec(
        {
            "layers": layers,
            "data": {"x": x.tolist(), "y": y.tolist()},
            "surrogate": surrogate,
            "weight_decay": weight_decay,
            "mode": mode,
            **extra,
        }
    )


def torch_loss(spec: NetworkSpec, theta, surrogates):
    """The regularised surrogate loss in PyTorch, written independently of our code: the
    parameter vector is sliced in state_dict order and each layer applies its surrogate
    polynomial by Horner's rule (float64)."""
    import torch

    x = torch.tensor(spec.data.x_array(), dtype=torch.float64)
    y = torch.tensor(spec.data.y_array(), dtype=torch.float64)
    h, k = x, 0
    for layer, s in zip(spec.layers, surrogates):
        o, i = layer.out_features, layer.in_features
        W = theta[k : k + o * i].reshape(o, i)
        k += o * i
        z = h @ W.T
        if layer.bias:
            z = z + theta[k : k + o]
            k += o
        acc = torch.zeros_like(z)
        for c in reversed([float(c) for c in s.coefficients]):
            acc = acc * z + c
        h = acc
    r = h - y
    return 0.5 * (r * r).sum(dim=1).mean() + 0.5 * spec.weight_decay * (theta * theta).sum()


def torch_gradient_hessian(spec: NetworkSpec, theta: np.ndarray, surrogates) -> tuple[np.ndarray, np.ndarray]:
    """Autograd gradient and Hessian of :func:`torch_loss` at ``theta``."""
    import torch

    t = torch.tensor(np.asarray(theta, dtype=np.float64), requires_grad=True)
    g = torch.autograd.grad(torch_loss(spec, t, surrogates), t)[0].detach().numpy()
    H = torch.autograd.functional.hessian(lambda u: torch_loss(spec, u, surrogates), torch.tensor(np.asarray(theta, dtype=np.float64)))
    return g, H.numpy()

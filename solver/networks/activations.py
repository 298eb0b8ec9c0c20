"""The one activation table: names, their NumPy definitions, kinks and PyTorch modules.

Every room reads activations from here: the spec's validation, the surrogate fit, the init
modes (real forward passes) and the PyTorch side (which ``nn`` module is which name). The
definitions are PyTorch's: exact-erf GELU, ``silu(x) = x * sigmoid(x)``, ``leaky_relu`` with
``negative_slope`` below zero; ``threshold`` is the step ``1[x >= 0]`` (Ergen, Gulluk, Lacotte,
Pilanci, arXiv 2303.03382: two-layer threshold nets train globally by a convex program,
:mod:`solver.networks.threshold_convex`).

The activations are those of Chen, Hao and He, "A weight initialization based on the
linear product structure for neural networks", Applied Mathematics and Computation 415,
2022 (arXiv 2109.00125; DESIGN.md), defined as PyTorch defines them.
"""

from __future__ import annotations

from typing import Callable, Literal

import numpy as np
from scipy.special import erf, expit

from solver.errors import LpsError

#: the activations lps-init supports (DESIGN.md's list)
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "gelu", "silu", "identity", "threshold")

#: the same names as a type, for pydantic models
Activation = Literal["relu", "leaky_relu", "tanh", "sigmoid", "gelu", "silu", "identity", "threshold"]

#: ``leaky_relu``'s slope below zero when the spec gives none (PyTorch's default)
DEFAULT_NEGATIVE_SLOPE = 0.01

#: PyTorch module class names (``torch.nn``) and the activation each stands for
TORCH_MODULES = {
    "ReLU": "relu",
    "LeakyReLU": "leaky_relu",
    "Tanh": "tanh",
    "Sigmoid": "sigmoid",
    "GELU": "gelu",
    "SiLU": "silu",
    "Identity": "identity",
}


class UnknownActivation(LpsError, ValueError):
    """An activation name outside :data:`ACTIVATIONS`."""


def activation_function(name: str, negative_slope: float = DEFAULT_NEGATIVE_SLOPE) -> Callable[[np.ndarray], np.ndarray]:
    """The activation ``name`` as a vectorised NumPy function.

    Parameters
    ----------
    name : str
        One of :data:`ACTIVATIONS`.
    negative_slope : float
        Slope of ``leaky_relu`` below zero (ignored by the others).

    Raises
    ------
    UnknownActivation
        For any other name.
    """
    if name == "relu":
        return lambda x: np.maximum(x, 0.0)
    if name == "leaky_relu":
        s = float(negative_slope)
        return lambda x: np.where(x >= 0, x, s * x)
    if name == "tanh":
        return np.tanh
    if name == "sigmoid":
        return expit
    if name == "gelu":
        return lambda x: 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))
    if name == "silu":
        return lambda x: x * expit(x)
    if name == "identity":
        return lambda x: np.asarray(x, dtype=float)
    if name == "threshold":  # the step 1[x >= 0] (Ergen et al. 2023); no torch module
        return lambda x: (np.asarray(x) >= 0).astype(float)
    raise UnknownActivation(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}")


def activation_derivative(name: str, negative_slope: float = DEFAULT_NEGATIVE_SLOPE) -> Callable[[np.ndarray], np.ndarray]:
    """The derivative of the activation ``name`` (almost everywhere; at a kink the value
    PyTorch's autograd takes: 0 for ReLU, the slope for leaky ReLU; 0 for the step)."""
    if name == "relu":
        return lambda x: (np.asarray(x) > 0).astype(float)
    if name == "leaky_relu":
        s = float(negative_slope)
        return lambda x: np.where(np.asarray(x) > 0, 1.0, s)
    if name == "tanh":
        return lambda x: 1.0 - np.tanh(x) ** 2
    if name == "sigmoid":
        return lambda x: expit(x) * (1.0 - expit(x))
    if name == "gelu":
        return lambda x: 0.5 * (1.0 + erf(x / np.sqrt(2.0))) + x * np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)
    if name == "silu":
        return lambda x: expit(x) * (1.0 + x * (1.0 - expit(x)))
    if name == "identity":
        return lambda x: np.ones_like(np.asarray(x, dtype=float))
    if name == "threshold":
        return lambda x: np.zeros_like(np.asarray(x, dtype=float))
    raise UnknownActivation(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}")


def activate(z: np.ndarray, name: str, negative_slope: float = DEFAULT_NEGATIVE_SLOPE) -> np.ndarray:
    """Apply the real (not the surrogate) activation ``name`` elementwise to ``z``."""
    return activation_function(name, negative_slope)(z)


def kinks(name: str) -> tuple[float, ...]:
    """Points where the activation is not smooth (a quadrature splits there)."""
    return (0.0,) if name in ("relu", "leaky_relu", "threshold") else ()

"""The per-layer loop shared by the modes ``start``, ``layerwise`` and PyTorch's ``init_``.

Chen, Hao and He (Applied Mathematics and Computation 415, 2022; DESIGN.md) initialise a
network layer by layer: each hidden layer from its own small problems on the features the
layers below produce, the output layer (identity, with targets) as the exact solution of
its linear gradient equations, a ridge fit. :func:`run_stack` is that walk; what a layer's
rows are (samples or convolution patches) is a :class:`LayerRows` from a walker, and how a
hidden layer is solved is the mode's callback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import numpy as np

from solver.init.common import LayerDef, LayerInit, layer_stats, ridge_fit
from solver.networks.activations import activate


@dataclass(frozen=True)
class LayerRows:
    """What a layer's solves see.

    Attributes
    ----------
    fit : ndarray (N', n)
        Rows the hidden-layer solves see (possibly a subsample).
    fit_targets : ndarray (N', m) or None
    rows : ndarray (N, n)
        All rows: the ridge output layer is fitted on these.
    targets : ndarray (N, m) or None
    ridge : bool
        Whether the layer can be the ridge fit when it is the identity output layer.
    """

    fit: np.ndarray
    fit_targets: np.ndarray | None
    rows: np.ndarray
    targets: np.ndarray | None
    ridge: bool = True


class LayerWalker(Protocol):
    """Produces each weight layer's rows and moves the features past it."""

    def rows(self, k: int, layer: LayerDef) -> LayerRows:
        """The rows of weight layer ``k``."""

    def advance(self, k: int, layer: LayerDef, init: LayerInit) -> np.ndarray:
        """Apply layer ``k`` with its new weights; its pre-activations as rows (N, out)."""


class ArrayWalker:
    """A fully connected network on NumPy rows: features are ``act(h W^T + b)``."""

    def __init__(self, x: np.ndarray, y: np.ndarray | None):
        self.h, self.y = x, y

    def rows(self, k: int, layer: LayerDef) -> LayerRows:
        return LayerRows(self.h, self.y, self.h, self.y)

    def advance(self, k: int, layer: LayerDef, init: LayerInit) -> np.ndarray:
        z = self.h @ init.weight.T + (init.bias if init.bias is not None else 0.0)
        self.h = activate(z, layer.activation, layer.negative_slope)
        return z


HiddenLayer = Callable[[int, LayerDef, LayerRows], LayerInit]


def ridge_layer(rows: np.ndarray, targets: np.ndarray, weight_decay: float, bias: bool) -> LayerInit:
    """The output layer as the ridge least-squares fit (:func:`ridge_fit`)."""
    W, b = ridge_fit(rows, targets, weight_decay, bias)
    return LayerInit(W, b if bias else None, {"method": "ridge"})


def run_stack(
    defs: Sequence[LayerDef],
    walker: LayerWalker,
    hidden: HiddenLayer,
    weight_decay: float,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[LayerInit], list[dict]]:
    """Initialise the layers first to last.

    Parameters
    ----------
    defs : sequence of LayerDef
    walker : LayerWalker
        Gives each layer's rows and propagates the features.
    hidden : callable(k, layer, rows) -> LayerInit
        The mode's solve of a layer that is not the ridge output layer.
    weight_decay : float
        ``lambda`` of the ridge output layer.
    progress : callable(done, total), optional
        Called after each layer.

    Returns
    -------
    layers : list of LayerInit
    stats : list of dict
        :func:`layer_stats` of each layer's pre-activations.
    """
    layers, stats = [], []
    for k, layer in enumerate(defs):
        data = walker.rows(k, layer)
        last = k == len(defs) - 1
        if last and layer.activation == "identity" and data.targets is not None and data.ridge:
            init = ridge_layer(data.rows, data.targets, weight_decay, layer.bias)
        else:
            init = hidden(k, layer, data)
        stats.append(layer_stats(walker.advance(k, layer, init)))
        layers.append(init)
        if progress is not None:
            progress(k + 1, len(defs))
    return layers, stats


def total(layers: Sequence[LayerInit], keys: Sequence[str]) -> dict[str, int]:
    """Sums of the ``info`` counts ``keys`` over the layers (missing counts are 0)."""
    return {key: int(sum(l.info.get(key, 0) for l in layers)) for key in keys}

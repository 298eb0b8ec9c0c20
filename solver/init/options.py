"""Option bundles of the scalable initialisation modes: :class:`StartOptions` (``start``)
and :class:`LayerwiseOptions` (``layerwise``).

Both modes implement Chen, Hao and He, "A weight initialization based on the linear product
structure for neural networks" (Applied Mathematics and Computation 415, 2022; DESIGN.md):
the surrogate settings (``degree``, ``interval``) and ``weight_decay`` are the paper's, the
rest are this project's choices, each documented where it is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: default cap on anchor points per neuron in ``start`` mode (the rest of the conditions are
#: left free and the minimum-norm solution is taken); keeps a 784-input layer at a few ms
#: per neuron. Lowered to d + 1 on locally d-dimensional inputs (``adapt_to_dimension``).
DEFAULT_MAX_POINTS = 32


@dataclass(frozen=True)
class StartOptions:
    """Settings of mode ``start`` (:mod:`solver.init.anchors`).

    Attributes
    ----------
    degree : int
        Degree of the surrogate whose roots are the anchor values.
    interval : (float, float)
        Surrogate interval; its width is also each neuron's pre-activation spread.
    weight_decay : float
        ``lambda`` of the ridge output layer.
    max_points : int or None
        Cap on anchors per neuron (None: ``n + 1``, the full start system).
    adapt_to_dimension : bool
        Cap the anchors at ``d + 1`` when the layer's input is locally ``d``-dimensional.
    levels : {"random", "one"}
        An independent root at each anchor, or one root for all anchors of a neuron.
    max_redraws : int
        Anchor redraws for neurons whose projection is constant (or, without bias,
        unsplit) before falling back to a random direction.
    """

    degree: int = 2
    interval: tuple[float, float] = (-1.0, 1.0)
    weight_decay: float = 0.01
    max_points: int | None = DEFAULT_MAX_POINTS
    adapt_to_dimension: bool = True
    levels: Literal["random", "one"] = "random"
    max_redraws: int = 8


@dataclass(frozen=True)
class LayerwiseOptions:
    """Settings of mode ``layerwise`` (:mod:`solver.init.layerwise`).

    Attributes
    ----------
    degree : int
        Degree of the surrogate in each one-neuron system.
    interval : (float, float)
        Surrogate interval; its width is also each neuron's pre-activation spread.
    weight_decay : float
        ``lambda`` of the neuron problems and of the ridge output layer (> 0: isolated
        critical points).
    projection_dim : {1, 2}
        Dimension of each neuron's projection (3 or 4 unknowns per system).
    max_paths : int
        Per-round path cap passed to the engine.
    batch : int or None
        Neurons per engine call (None: the whole layer in one call).
    window : bool
        Fit each neuron on a random window of its projection rather than on all of it.
    """

    degree: int = 2
    interval: tuple[float, float] = (-1.0, 1.0)
    weight_decay: float = 0.01
    projection_dim: int = 1
    max_paths: int = 100_000
    batch: int | None = 8
    window: bool = True

"""Condensation: the surrogate's multiplicity at the origin and the orientations it predicts.

Zhou, Zhou, Luo, Zhang and Xu, "Towards Understanding the Condensation of Neural Networks
at Initial Training" (NeurIPS 2022, arXiv 2105.11686): with a small initialisation, the input
weights ``(w_i, b_i)`` of the hidden neurons condense in the initial stage of training onto
at most ``2 p`` orientations, where ``p``, the activation's multiplicity, is the order of its
first non-vanishing derivative at 0 (``sigma^(k)(0) = 0`` for ``1 <= k < p``): the
multiplicity of the root of ``sigma(x) - sigma(0)`` at the origin. For a polynomial
surrogate ``p(x) = sum c_k x^k`` it is the smallest ``k >= 1`` with ``c_k != 0``.

Reported for every hidden layer's surrogate: the root multiplicity of ``p`` itself at 0 (0
when ``p(0) != 0``), the multiplicity ``p`` above and the predicted ``2 p`` orientations; and
for every candidate, how many distinct orientations its first layer's input weights have,
so a reader sees whether the candidates start outside the condensed regime.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from solver.networks.spec import NetworkSpec
from solver.networks.surrogate import Surrogate
from solver.networks.weights_io import unflatten

#: a monomial coefficient below this times the largest one is zero (the fit's rounding)
ZERO_COEFFICIENT = 1e-10
#: two input weights share an orientation when their cosine is above this
SAME_ORIENTATION = 0.99

REFERENCE = "Zhou, Zhou, Luo, Zhang, Xu, NeurIPS 2022 (arXiv 2105.11686)"


def multiplicities(coefficients: Sequence[float]) -> tuple[int, int]:
    """``(root multiplicity of p at 0, multiplicity of p - p(0) at 0)`` of the power-basis
    polynomial ``coefficients`` (ascending); the second is 0 for a constant."""
    c = np.asarray(coefficients, dtype=np.float64)
    scale = float(np.abs(c).max(initial=0.0))
    nonzero = np.abs(c) > ZERO_COEFFICIENT * scale if scale > 0 else np.zeros(c.size, bool)
    root = int(np.argmax(nonzero)) if nonzero.any() else c.size
    later = np.flatnonzero(nonzero[1:])
    return root, int(later[0] + 1) if later.size else 0


def surrogate_condensation(s: Surrogate) -> dict:
    """The facts of one surrogate (JSON-ready)."""
    root, mult = multiplicities(s.coefficients)
    return {"activation": s.activation, "degree": int(s.degree), "value_at_0": float(s.coefficients[0]),
            "root_multiplicity": root, "multiplicity": mult, "predicted_max_orientations": 2 * mult}


def orientation_count(weights: np.ndarray, threshold: float = SAME_ORIENTATION) -> int:
    """Distinct orientations of the rows of ``weights`` (greedy clusters by cosine; zero rows
    are skipped: they have none)."""
    rows = np.asarray(weights, dtype=np.float64)
    norms = np.linalg.norm(rows, axis=1)
    unit = rows[norms > 1e-12 * max(1.0, float(norms.max(initial=0.0)))]
    unit = unit / np.linalg.norm(unit, axis=1, keepdims=True)
    centres: list[np.ndarray] = []
    for u in unit:
        if not any(float(u @ c) > threshold for c in centres):
            centres.append(u)
    return len(centres)


def first_layer_orientations(spec: NetworkSpec, theta: np.ndarray) -> int:
    """Distinct orientations of the first layer's input weights ``[w_i, b_i]``."""
    W, b = unflatten(spec, np.asarray(theta, dtype=np.float64))[0]
    return orientation_count(np.hstack([W, b[:, None]]) if b is not None else W)


def condensation_report(spec: NetworkSpec, thetas: Sequence[np.ndarray] = ()) -> dict:
    """Per hidden layer the surrogate's facts; per candidate its first-layer orientations."""
    surrogates = spec.surrogates()
    layers = [dict(layer=k, **surrogate_condensation(s)) for k, s in enumerate(surrogates[:-1])]
    out: dict = {"reference": REFERENCE, "layers": layers}
    if layers and thetas:
        bound = layers[0]["predicted_max_orientations"]
        counts = [first_layer_orientations(spec, t) for t in thetas]
        out["candidates"] = [{"first_layer_orientations": n, "outside_condensed_regime": bool(n > bound)} for n in counts]
    return out

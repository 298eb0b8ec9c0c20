"""The surrogate plots' data: each layer's activation and its polynomial surrogate,
sampled on the surrogate's interval, with the fit's errors.

The surrogates are the spec's own (:meth:`solver.networks.spec.NetworkSpec.surrogates`,
the fits every mode uses); the activation values come from the one activation table
(:mod:`solver.networks.activations`). The web page draws them; nothing here is drawn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: points per curve (the kinks of the activation are added, so a corner is drawn sharp)
SAMPLES = 161


def surrogate_curves(request: dict, samples: int = SAMPLES) -> list[dict[str, Any]]:
    """Per layer: the surrogate's JSON (activation, degree, interval, coefficients,
    ``max_error``, ``rms_error``, roots) and ``x``, ``activation_values``,
    ``surrogate_values`` on the interval.

    Parameters
    ----------
    request : dict
        A layer spec as validated JSON (a network job's request).
    samples : int
    """
    from solver.networks.activations import activation_function, kinks
    from solver.networks.spec import NetworkSpec

    spec = NetworkSpec.model_validate(request)
    out = []
    for k, surrogate in enumerate(spec.surrogates()):
        lo, hi = surrogate.interval
        x = np.linspace(lo, hi, samples)
        x = np.unique(np.concatenate([x, [c for c in kinks(surrogate.activation) if lo < c < hi]]))
        act = activation_function(surrogate.activation, surrogate.negative_slope)(x)
        poly = np.polynomial.polynomial.polyval(x, surrogate.coefficients)
        out.append({"layer": k, **surrogate.to_json(), "x": x.tolist(),
                    "activation_values": np.asarray(act, dtype=float).tolist(), "surrogate_values": poly.tolist()})
    return out

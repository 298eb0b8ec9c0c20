"""The layer spec: a surrogate network, its data sample and how to solve it.

One pydantic v2 model, :class:`NetworkSpec`, read from JSON by the CLI and used as the
request body of the service. Validation errors carry the field path (``loc``) and a
reason; :func:`format_validation_error` turns them into one paragraph for the CLI.

Example::

    {
      "layers": [
        {"in_features": 1, "out_features": 2, "activation": "relu", "bias": true},
        {"in_features": 2, "out_features": 1, "activation": "identity", "bias": true}
      ],
      "surrogate": {"degree": 2, "interval": [-2.0, 2.0]},
      "weight_decay": 0.01,
      "data": {"x": [[-1.0], [0.0], [1.0]], "y": [[1.0], [0.0], [1.0]]},
      "mode": "exact", "candidates": 4, "seed": 0
    }

Defaults filled in when a field is absent: ``activation`` relu for hidden layers and
identity for the last one, ``bias`` true, ``negative_slope`` 0.01 (leaky_relu only),
surrogate degree 2, ``weight_decay`` 0.01, ``mode`` auto, ``candidates`` 4, ``seed`` 0,
``max_paths`` 100000, and the surrogate interval ``[-r, r]`` with
``r = 1 + max_j ||x_j||_2``: the range of a pre-activation ``w.x + b`` over the data for
every ``||w||_2 <= 1`` and ``|b| <= 1`` (Cauchy-Schwarz), the scale of a unit-norm neuron.
Data in [-1, 1]^1 gives [-2, 2]. The same interval serves every layer.

The spec describes the surrogate network of Chen, Hao and He, "A weight initialization
based on the linear product structure for neural networks", Applied Mathematics and
Computation 415, 2022 (arXiv 2109.00125; DESIGN.md).
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Literal, Optional

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from solver.errors import LpsError
from solver.networks.activations import DEFAULT_NEGATIVE_SLOPE, Activation
from solver.networks.surrogate import Surrogate, fit_surrogate

#: bump when the meaning of a spec changes, so cached results keyed by the hash expire
SPEC_VERSION = "lps-spec/1"

#: the README's example spec (1-2-1 ReLU net, five points of |x|): the service's OpenAPI
#: example and the tests' reference request
EXAMPLE_SPEC = {
    "layers": [
        {"in_features": 1, "out_features": 2, "activation": "relu", "bias": True},
        {"in_features": 2, "out_features": 1, "activation": "identity", "bias": True},
    ],
    "surrogate": {"degree": 2, "interval": [-2.0, 2.0]},
    "weight_decay": 0.01,
    "data": {"x": [[-1.0], [-0.5], [0.0], [0.5], [1.0]], "y": [[1.0], [0.5], [0.0], [0.5], [1.0]]},
    "mode": "exact",
    "candidates": 4,
    "seed": 0,
}

Mode = Literal["exact", "start", "layerwise", "auto"]

#: surrogate degrees accepted: beyond 8 the monomial coefficients are ill-conditioned and
#: the gradient system's degree (and path count) explodes
MIN_DEGREE, MAX_DEGREE = 1, 8
#: a surrogate interval must be wider than this times max(1, |lo|, |hi|)
MIN_RELATIVE_WIDTH = 1e-8

DEAD_NEURON_REASON = (
    "weight_decay must be > 0 in exact mode: without it a hidden neuron whose outgoing "
    "weights are zero leaves its incoming weights free, so the critical points form "
    "positive-dimensional 'dead neuron' components (homotopy paths end in masses of "
    "singular points) instead of isolated points; use a small value such as 0.01"
)

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False, validate_default=True)


def _error(loc: tuple, kind: str, message: str, value: object) -> InitErrorDetails:
    # braces in messages would be read as format fields by PydanticCustomError
    msg = message.replace("{", "(").replace("}", ")")
    return InitErrorDetails(type=PydanticCustomError(kind, msg), loc=loc, input=value)


class SpecError(LpsError, ValueError):
    """A valid spec asked for something it does not hold (e.g. targets it has none of).
    Invalid specs raise pydantic's ``ValidationError`` from :func:`load_spec`."""


class LayerSpec(BaseModel):
    """One layer ``h -> act(W h + b)``, ``W`` of shape (out_features, in_features)."""

    model_config = _STRICT

    in_features: int = Field(ge=1, description="inputs of the layer")
    out_features: int = Field(ge=1, description="outputs (neurons) of the layer")
    activation: Optional[Activation] = Field(
        None, description="relu, leaky_relu, tanh, sigmoid, gelu, silu, identity or threshold (the step 1[x >= 0]); default relu for hidden layers, identity for the last"
    )
    bias: bool = True
    negative_slope: Optional[float] = Field(None, description="leaky_relu only (default 0.01)")


class SurrogateSpec(BaseModel):
    """The activation surrogate: L2-best polynomial of ``degree`` on ``interval``."""

    model_config = _STRICT

    degree: int = Field(2, description=f"polynomial degree, {MIN_DEGREE}..{MAX_DEGREE}")
    interval: Optional[tuple[float, float]] = Field(
        None, description="[lo, hi]; default [-r, r] with r = 1 + max ||x_j||_2"
    )

    @field_validator("degree")
    @classmethod
    def _degree_range(cls, v: int) -> int:
        if not MIN_DEGREE <= v <= MAX_DEGREE:
            raise PydanticCustomError(
                "degree_range",
                f"surrogate degree must be between {MIN_DEGREE} and {MAX_DEGREE}, got {v}: higher "
                "degrees make the gradient system's degree and path count explode",
            )
        return v

    @field_validator("interval")
    @classmethod
    def _ordered(cls, v: Optional[tuple[float, float]]) -> Optional[tuple[float, float]]:
        if v is None:
            return v
        lo, hi = v
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise PydanticCustomError("interval_finite", f"surrogate interval must have finite ends, got [{lo}, {hi}]")
        if not lo < hi:
            raise PydanticCustomError("interval_order", f"surrogate interval must have lo < hi, got [{lo}, {hi}]")
        # a width near the float resolution makes the L2 fit's Gram matrix singular
        if hi - lo <= MIN_RELATIVE_WIDTH * max(1.0, abs(lo), abs(hi)):
            raise PydanticCustomError(
                "interval_width",
                f"surrogate interval [{lo}, {hi}] is too narrow: its width must exceed "
                f"{MIN_RELATIVE_WIDTH:g} * max(1, |lo|, |hi|)")
        return v


class DataSpec(BaseModel):
    """The data sample: rows ``x[j]`` (inputs) and ``y[j]`` (targets)."""

    model_config = _STRICT

    x: list[list[float]] = Field(description="N rows of in_features numbers")
    y: Optional[list[list[float]]] = Field(None, description="N rows of out_features numbers (optional in start and auto modes)")

    @field_validator("x", "y")
    @classmethod
    def _rectangular(cls, v: Optional[list[list[float]]], info) -> Optional[list[list[float]]]:
        if v is None:
            return v
        name = info.field_name
        if len(v) == 0:
            raise PydanticCustomError("empty_data", f"data.{name} is empty: at least one sample row is needed")
        width = len(v[0])
        if width == 0:
            raise PydanticCustomError("empty_data", f"data.{name} rows are empty: each row needs at least one number")
        for j, row in enumerate(v):
            if len(row) != width:
                raise PydanticCustomError(
                    "ragged_data", f"data.{name}[{j}] has {len(row)} numbers but data.{name}[0] has {width}: every row must have the same length"
                )
        return v

    @model_validator(mode="after")
    def _rows_match(self) -> "DataSpec":
        if self.y is not None and len(self.y) != len(self.x):
            raise ValidationError.from_exception_data(
                "DataSpec",
                [_error(("y",), "row_count", f"data.y has {len(self.y)} rows but data.x has {len(self.x)}: one target row per input row", len(self.y))],
            )
        return self

    @property
    def n_samples(self) -> int:
        return len(self.x)

    def x_array(self) -> np.ndarray:
        """Inputs as a float64 array (N, in_features)."""
        return np.asarray(self.x, dtype=np.float64)

    def y_array(self) -> np.ndarray:
        """Targets as a float64 array (N, out_features); raises if there are none."""
        if self.y is None:
            raise SpecError("data.y is missing")
        return np.asarray(self.y, dtype=np.float64)


class NetworkSpec(BaseModel):
    """A surrogate network, its data and how to solve it (see the module docstring)."""

    model_config = _STRICT

    layers: list[LayerSpec] = Field(min_length=1, description="layers in order, as torch.nn.Linear")
    surrogate: SurrogateSpec = Field(default_factory=SurrogateSpec)
    weight_decay: float = Field(0.01, ge=0.0, description="lambda in L = 1/(2N) sum ||f(x)-y||^2 + lambda/2 ||theta||^2")
    data: DataSpec
    mode: Mode = Field("auto", description="exact (all critical points), start, layerwise or auto")
    candidates: int = Field(4, ge=1, description="number of candidate weight sets returned")
    seed: int = Field(0, ge=0)
    max_paths: int = Field(100_000, ge=1, description="exact mode refuses start systems with more paths")

    @model_validator(mode="after")
    def _consistent(self) -> "NetworkSpec":
        errors: list[InitErrorDetails] = []
        n_layers = len(self.layers)
        for k, layer in enumerate(self.layers):
            if layer.activation is None:
                layer.activation = "identity" if k == n_layers - 1 else "relu"
            if layer.activation == "leaky_relu":
                if layer.negative_slope is None:
                    layer.negative_slope = DEFAULT_NEGATIVE_SLOPE
            else:
                layer.negative_slope = None  # meaningless elsewhere; keeps the hash canonical
            if k > 0 and layer.in_features != self.layers[k - 1].out_features:
                errors.append(
                    _error(
                        ("layers", k, "in_features"),
                        "shape_chain",
                        f"layers[{k}].in_features is {layer.in_features} but layers[{k - 1}].out_features is "
                        f"{self.layers[k - 1].out_features}: consecutive layers must chain",
                        layer.in_features,
                    )
                )
        x_cols = len(self.data.x[0])
        if self.layers[0].in_features != x_cols:
            errors.append(
                _error(
                    ("layers", 0, "in_features"),
                    "data_shape",
                    f"layers[0].in_features is {self.layers[0].in_features} but data.x rows have {x_cols} numbers",
                    self.layers[0].in_features,
                )
            )
        if self.data.y is not None and self.layers[-1].out_features != len(self.data.y[0]):
            errors.append(
                _error(
                    ("layers", n_layers - 1, "out_features"),
                    "data_shape",
                    f"layers[{n_layers - 1}].out_features is {self.layers[-1].out_features} but data.y rows have {len(self.data.y[0])} numbers",
                    self.layers[-1].out_features,
                )
            )
        if self.data.y is None and self.mode in ("exact", "layerwise"):
            errors.append(_error(("data", "y"), "missing_targets", f"data.y is required in {self.mode} mode: the loss fits f(x) to y", None))
        if self.mode == "exact" and self.weight_decay <= 0:
            errors.append(_error(("weight_decay",), "weight_decay_exact", DEAD_NEURON_REASON, self.weight_decay))
        if errors:
            raise ValidationError.from_exception_data("NetworkSpec", errors)
        if self.surrogate.interval is None:
            r = 1.0 + float(np.sqrt((self.data.x_array() ** 2).sum(axis=1)).max())
            self.surrogate.interval = (-r, r)
        return self

    # -- derived quantities ------------------------------------------------------------------
    @property
    def n_parameters(self) -> int:
        return sum(l.out_features * l.in_features + (l.out_features if l.bias else 0) for l in self.layers)

    def parameter_shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        """``("{k}.weight", (out, in))`` and ``("{k}.bias", (out,))`` in state_dict order."""
        out: list[tuple[str, tuple[int, ...]]] = []
        for k, l in enumerate(self.layers):
            out.append((f"{k}.weight", (l.out_features, l.in_features)))
            if l.bias:
                out.append((f"{k}.bias", (l.out_features,)))
        return out

    def parameter_names(self) -> list[str]:
        """Variable names in state_dict order: ``W{layer}_{row}_{col}``, ``b{layer}_{row}``."""
        names: list[str] = []
        for k, l in enumerate(self.layers):
            names += [f"W{k}_{r}_{c}" for r in range(l.out_features) for c in range(l.in_features)]
            if l.bias:
                names += [f"b{k}_{r}" for r in range(l.out_features)]
        return names

    def surrogates(self) -> list[Surrogate]:
        """The fitted surrogate of each layer's activation (identity: ``p(x) = x``)."""
        cache: dict[tuple, Surrogate] = {}
        out = []
        for l in self.layers:
            key = (l.activation, l.negative_slope)
            if key not in cache:
                cache[key] = fit_surrogate(
                    l.activation, self.surrogate.degree, self.surrogate.interval, l.negative_slope if l.negative_slope is not None else DEFAULT_NEGATIVE_SLOPE
                )
            out.append(cache[key])
        return out

    def describe(self) -> str:
        """Short form like ``1-2-1 (relu, identity)``."""
        widths = [self.layers[0].in_features] + [l.out_features for l in self.layers]
        return "-".join(map(str, widths)) + " (" + ", ".join(l.activation for l in self.layers) + ")"

    # -- canonical form for caches ---------------------------------------------------------
    def canonical_json(self) -> str:
        """Defaults filled in, keys sorted, floats as ``repr`` (shortest round-trip), no
        spaces: equal specs give equal strings whatever their field order or int/float
        spelling in the input."""
        return json.dumps(self.model_dump(mode="python"), sort_keys=True, separators=(",", ":"), allow_nan=False)

    def canonical_hash(self) -> str:
        """sha256 hex digest of :data:`SPEC_VERSION` and :meth:`canonical_json`."""
        return hashlib.sha256((SPEC_VERSION + "\n" + self.canonical_json()).encode()).hexdigest()


def load_spec(source: str | bytes | dict) -> NetworkSpec:
    """Validate a spec from JSON text or a dict (raises pydantic's ``ValidationError``)."""
    if isinstance(source, dict):
        return NetworkSpec.model_validate(source)
    return NetworkSpec.model_validate_json(source)


def _loc_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "spec"


def format_validation_error(err: ValidationError) -> str:
    """One paragraph naming each bad field and the reason."""
    parts = []
    for e in err.errors(include_url=False):
        msg = e["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        parts.append(f"{_loc_path(tuple(e['loc']))}: {msg}")
    n = len(parts)
    return f"invalid spec ({n} error{'s' if n != 1 else ''}): " + "; ".join(parts) + "."

"""Parameter vectors, per-layer arrays and safetensors files.

A parameter vector lists the network's parameters in ``state_dict`` order: layer by
layer, ``W`` row by row, then ``b`` (DESIGN.md). Files use the tensor names
``"{k}.weight"`` and ``"{k}.bias"`` with ``k`` the index of the layer in the spec, so
``torch.nn.Sequential(Linear, act, Linear, ...)`` needs its activation modules skipped
when loading: :func:`sequential_state_dict` renames for that.

The weights are the initial weights of Chen, Hao and He, "A weight initialization based on
the linear product structure for neural networks", Applied Mathematics and Computation
415, 2022 (arXiv 2109.00125; DESIGN.md); the file format is safetensors (DESIGN.md, "Files
and names").
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Mapping

import numpy as np

from solver.errors import LpsError

if TYPE_CHECKING:
    from solver.networks.spec import NetworkSpec

LayerArrays = list[tuple[np.ndarray, "np.ndarray | None"]]


class WeightsError(LpsError, ValueError):
    """A parameter vector or tensor file that does not fit the spec (count, name, shape)."""


def unflatten(spec: "NetworkSpec", theta: np.ndarray) -> LayerArrays:
    """Split a parameter vector into ``[(W_0, b_0), (W_1, b_1), ...]`` (``b`` None when
    the layer has no bias). Views into ``theta`` where possible."""
    theta = np.asarray(theta)
    if theta.shape[-1] != spec.n_parameters:
        raise WeightsError(f"expected {spec.n_parameters} parameters, got {theta.shape[-1]}")
    out: LayerArrays = []
    k = 0
    for layer in spec.layers:
        o, i = layer.out_features, layer.in_features
        W = theta[..., k : k + o * i].reshape(theta.shape[:-1] + (o, i))
        k += o * i
        b = None
        if layer.bias:
            b = theta[..., k : k + o]
            k += o
        out.append((W, b))
    return out


def flatten(layers: LayerArrays) -> np.ndarray:
    """Inverse of :func:`unflatten` (float64 vector)."""
    parts = []
    for W, b in layers:
        parts.append(np.asarray(W, dtype=np.float64).reshape(-1))
        if b is not None:
            parts.append(np.asarray(b, dtype=np.float64).reshape(-1))
    return np.concatenate(parts) if parts else np.zeros(0)


def to_tensors(spec: "NetworkSpec", theta: np.ndarray, dtype: np.dtype = np.float32) -> dict[str, np.ndarray]:
    """``{"{k}.weight": W_k, "{k}.bias": b_k}`` as contiguous arrays of ``dtype``."""
    out = {}
    for k, (W, b) in enumerate(unflatten(spec, np.asarray(theta, dtype=np.float64))):
        out[f"{k}.weight"] = np.ascontiguousarray(W, dtype=dtype)
        if b is not None:
            out[f"{k}.bias"] = np.ascontiguousarray(b, dtype=dtype)
    return out


def from_tensors(spec: "NetworkSpec", tensors: Mapping[str, np.ndarray]) -> np.ndarray:
    """Parameter vector from tensors named as in :func:`to_tensors` (shapes checked)."""
    layers: LayerArrays = []
    for name, shape in spec.parameter_shapes():
        if name not in tensors:
            raise WeightsError(f"tensor {name!r} is missing")
        arr = np.asarray(tensors[name], dtype=np.float64)
        if arr.shape != shape:
            raise WeightsError(f"tensor {name!r} has shape {arr.shape}, expected {shape}")
    for k, layer in enumerate(spec.layers):
        b = tensors[f"{k}.bias"] if layer.bias else None
        layers.append((tensors[f"{k}.weight"], b))
    return flatten(layers)


def safetensors_bytes(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    """A safetensors file with a deterministic layout (the same tensors give the same bytes).

    ``safetensors.numpy.save`` orders the metadata by hash, so its bytes vary from call to
    call; this writes the documented format itself: an 8-byte little-endian header length,
    the JSON header (keys sorted, space-padded to 8 bytes), then the little-endian data.
    """
    codes = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64"}
    header: dict[str, object] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in sorted(metadata.items())}
    blobs, offset = [], 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": codes[arr.dtype], "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    return len(head).to_bytes(8, "little") + head + b"".join(blobs)


def write_tensors(path: str, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> None:
    """Write named tensors as a safetensors file (the layout of :func:`safetensors_bytes`)."""
    with open(path, "wb") as fh:
        fh.write(safetensors_bytes(dict(tensors), dict(metadata) if metadata else None))


def write_safetensors(path: str, spec: "NetworkSpec", theta: np.ndarray, metadata: Mapping[str, str] | None = None) -> None:
    """Write ``theta`` as float32 tensors ``"{k}.weight"``, ``"{k}.bias"``."""
    write_tensors(path, to_tensors(spec, theta), metadata)


def read_safetensors(path: str, spec: "NetworkSpec") -> np.ndarray:
    """Parameter vector (float64) from a file written by :func:`write_safetensors`."""
    from safetensors.numpy import load_file

    return from_tensors(spec, load_file(str(path)))


def sequential_state_dict(spec: "NetworkSpec", tensors: Mapping[str, object]) -> dict[str, object]:
    """Rename ``"{k}.weight"`` to the index of the k-th ``Linear`` in
    ``torch.nn.Sequential(Linear, act, Linear, act, ..., Linear)``, where activation
    modules take the odd slots (identity layers have no module)."""
    out = {}
    slot = 0
    for k, layer in enumerate(spec.layers):
        out[f"{slot}.weight"] = tensors[f"{k}.weight"]
        if layer.bias:
            out[f"{slot}.bias"] = tensors[f"{k}.bias"]
        slot += 1 if layer.activation == "identity" else 2
    return out

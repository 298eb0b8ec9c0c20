"""Pieces shared by the initialisation modes (``exact``, ``start``, ``layerwise``, ``auto``).

The plain layer description (:class:`LayerDef`), a layer's and a network's result
(:class:`LayerInit`, :class:`InitResult`), input checks, ridge least squares for output
layers, threshold gaps, and the per-layer statistics the reports show (fractions of neurons
active on the data, split by it, dead). The modes implement Chen, Hao and He, "A weight
initialization based on the linear product structure for neural networks" (Applied
Mathematics and Computation 415, 2022; DESIGN.md); the surrogate polynomial they use is
:func:`solver.networks.surrogate.fit_surrogate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from solver.errors import LpsError
from solver.networks.activations import ACTIVATIONS, DEFAULT_NEGATIVE_SLOPE

class InitError(LpsError, ValueError):
    """Bad input to an initialisation mode: the message says what and why."""


# ---------------------------------------------------------------------------------------
# linear algebra and statistics
# ---------------------------------------------------------------------------------------
def single_thread_blas():
    """Context manager limiting BLAS/LAPACK to one thread (a no-op without threadpoolctl).

    Stacks of small matrix products and eigendecompositions call BLAS once per matrix; on
    a shared 2-core machine OpenBLAS's threads then spin against each other and the other
    jobs: 256 products of 32 x 785 matrices took 16 s with its default threads and 0.04 s
    with one (measured here, load average 7).
    """
    global _CONTROLLER
    try:
        if _CONTROLLER is None:  # finding the libraries costs ~5 ms: once per process
            from threadpoolctl import ThreadpoolController

            _CONTROLLER = ThreadpoolController()
        return _CONTROLLER.limit(limits=1, user_api="blas")
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        import contextlib

        return contextlib.nullcontext()


_CONTROLLER = None


def ridge_fit(h: np.ndarray, y: np.ndarray, weight_decay: float, bias: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Output layer as the ridge least-squares fit of ``y`` on ``h``.

    Minimises ``1/(2N) ||h W^T + b - y||^2 + (lambda/2) ||W||^2`` (the bias is not
    penalised, so the fit is centred): the exact critical point of the network loss in the
    last layer's weights when the hidden layers are fixed.

    Returns
    -------
    W : ndarray, shape (m, n)
    b : ndarray, shape (m,)
    """
    h = np.asarray(h, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = h.shape[1]
    lam = max(float(weight_decay), 1e-10)
    if bias:
        hm, ym = h.mean(axis=0), y.mean(axis=0)
        hc, yc = h - hm, y - ym
    else:
        hm, ym = np.zeros(n), np.zeros(y.shape[1])
        hc, yc = h, y
    N = h.shape[0]
    gram = hc.T @ hc / N + lam * np.eye(n)
    W = np.linalg.solve(gram, hc.T @ yc / N).T
    b = ym - W @ hm if bias else np.zeros(y.shape[1])
    return W, b


def layer_stats(z: np.ndarray) -> dict:
    """Per-layer activity of pre-activations ``z`` (shape (N, out)).

    A neuron is *active* on a sample point when its pre-activation is positive (the ReLU
    convention; for the other activations it is the side of the inflection). Returns the
    fraction of neurons active somewhere, the fraction split by the data (active on part,
    inactive on part), the fraction dead (active nowhere) and whether the layer is
    constant on the data after a ReLU.
    """
    z = np.asarray(z, dtype=np.float64)
    pos = z > 0
    anywhere = pos.any(axis=0)
    everywhere = pos.all(axis=0)
    out = z.shape[1]
    return {
        "neurons": int(out),
        "active_fraction": float(anywhere.mean()) if out else 0.0,
        "split_fraction": float((anywhere & ~everywhere).mean()) if out else 0.0,
        "dead_fraction": float((~anywhere).mean()) if out else 0.0,
    }


def distinct_gaps(s: np.ndarray, rel_tol: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """Adjacent pairs of distinct values of ``s``.

    Values closer than ``rel_tol`` times the range count as one (ties from the ReLU zeros
    of the layer below and rounding), so a threshold placed in one of the returned gaps
    has sample points strictly on both sides.

    Returns
    -------
    lower, upper : ndarray
        Ends of each gap, ascending; empty when ``s`` is constant.
    """
    v = np.sort(np.asarray(s, dtype=np.float64))
    if v.size < 2:
        return np.zeros(0), np.zeros(0)
    span = v[-1] - v[0]
    # relative to the range, and never below rounding noise of the values' magnitude
    # (a near-zero direction gives a tiny range that is all rounding)
    tol = max(rel_tol * span, 1e-9 * float(np.max(np.abs(v))), np.finfo(float).tiny)
    d = np.diff(v)
    idx = np.nonzero(d > tol)[0]
    return v[idx], v[idx + 1]


def one_hot(labels: np.ndarray, classes: int | None = None) -> np.ndarray:
    """Integer labels (N,) as a one-hot float array (N, classes)."""
    lab = np.asarray(labels)
    if lab.ndim != 1 or not np.issubdtype(lab.dtype, np.integer):
        raise InitError("one_hot needs a 1-D array of integer labels")
    if lab.size and lab.min() < 0:
        raise InitError("class labels must be non-negative")
    k = int(classes if classes is not None else (lab.max() + 1 if lab.size else 0))
    if lab.size and lab.max() >= k:
        raise InitError(f"label {int(lab.max())} does not fit {k} outputs")
    out = np.zeros((lab.size, k))
    out[np.arange(lab.size), lab] = 1.0
    return out


# ---------------------------------------------------------------------------------------
# plain network descriptions and results shared by the modes
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerDef:
    """One fully connected layer ``h -> act(W h + b)`` (as in ``torch.nn.Linear``)."""

    in_features: int
    out_features: int
    activation: str = "relu"
    bias: bool = True
    negative_slope: float = DEFAULT_NEGATIVE_SLOPE


@dataclass
class LayerInit:
    """Weights of one layer and how they were made.

    Attributes
    ----------
    weight : ndarray, shape (out, in)
    bias : ndarray, shape (out,) or None
    info : dict
        Mode-specific facts (method, shifted thresholds, paths tracked, ...).
    """

    weight: np.ndarray
    bias: np.ndarray | None
    info: dict = field(default_factory=dict)


@dataclass
class InitResult:
    """Outcome of an initialisation mode on a whole network.

    Attributes
    ----------
    mode : str
        The mode that ran (``exact``, ``start`` or ``layerwise``).
    reason : str
        Why this mode ran (``auto`` fills it; an explicit mode says so).
    layers : list of LayerInit
    stats : list of dict
        :func:`layer_stats` of each layer's pre-activations on the data.
    counts : dict
        Totals: layers, neurons, linear solves, systems and paths (layerwise).
    seconds : float
    """

    mode: str
    reason: str
    layers: list
    stats: list
    counts: dict
    seconds: float
    extra: dict = field(default_factory=dict)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Tensors named ``"{k}.weight"`` and ``"{k}.bias"`` (the weights file convention)."""
        out: dict[str, np.ndarray] = {}
        for k, layer in enumerate(self.layers):
            out[f"{k}.weight"] = np.ascontiguousarray(layer.weight, dtype=np.float64)
            if layer.bias is not None:
                out[f"{k}.bias"] = np.ascontiguousarray(layer.bias, dtype=np.float64)
        return out

    def to_json(self, include_weights: bool = True) -> dict:
        out = {
            "mode": self.mode,
            "reason": self.reason,
            "counts": dict(self.counts),
            "layers": [dict(s, **{k: v for k, v in l.info.items() if _jsonable(v)}) for s, l in zip(self.stats, self.layers)],
            "seconds": float(self.seconds),
        }
        out.update({k: v for k, v in self.extra.items() if _jsonable(v)})
        if include_weights:
            out["weights"] = {k: v.tolist() for k, v in self.state_dict().items()}
        return out


def _jsonable(v) -> bool:
    return isinstance(v, (str, int, float, bool, type(None), list, dict, tuple))


def _as_rows(a, name: str, shape_error: str, rows: int | None = None) -> np.ndarray:
    """``a`` as a finite float64 array (N, k) (a 1-D array is one column); ``shape_error``
    is raised when it is not 2-D, empty, or (with ``rows``) has another row count."""
    try:
        out = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InitError(f"data {name} is not a numeric array: {exc}") from None
    if out.ndim == 1:
        out = out[:, None]
    if out.ndim != 2 or out.shape[0] == 0 or (rows is not None and out.shape[0] != rows):
        raise InitError(f"{shape_error}, got shape {out.shape}")
    if not np.isfinite(out).all():
        raise InitError(f"data {name} contains NaN or infinity")
    return out


def check_data(x, y, in_features: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Data as float64 arrays (N, n) and (N, m), with clear errors for bad input."""
    xa = _as_rows(x, "x", "data x must be a non-empty 2-D array (rows = samples)")
    if in_features is not None and xa.shape[1] != in_features:
        raise InitError(f"data x has {xa.shape[1]} features but the first layer expects {in_features}")
    if y is None:
        return xa, None
    return xa, _as_rows(y, "y", f"data y must have one row per sample ({xa.shape[0]})", rows=xa.shape[0])


def check_layers(layers) -> list[LayerDef]:
    """Validate a chain of layers (shapes chain, known activations)."""
    out = []
    for k, l in enumerate(layers):
        if not isinstance(l, LayerDef):
            l = LayerDef(
                int(_get(l, "in_features")),
                int(_get(l, "out_features")),
                str(_get(l, "activation", "relu")),
                bool(_get(l, "bias", True)),
                float(_get(l, "negative_slope", DEFAULT_NEGATIVE_SLOPE) or DEFAULT_NEGATIVE_SLOPE),
            )
        if l.in_features < 1 or l.out_features < 1:
            raise InitError(f"layer {k}: in_features and out_features must be positive")
        if l.activation not in ACTIVATIONS:
            raise InitError(f"layer {k}: unknown activation {l.activation!r}; choose from {list(ACTIVATIONS)}")
        if out and out[-1].out_features != l.in_features:
            raise InitError(
                f"layer {k}: in_features {l.in_features} does not match layer {k - 1}'s out_features {out[-1].out_features}"
            )
        out.append(l)
    if not out:
        raise InitError("the network has no layers")
    return out


def _get(obj, name: str, default=None):
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)

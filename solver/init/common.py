"""Pieces shared by the scalable initialisation modes (``start``, ``layerwise``, ``auto``).

Real activations in NumPy, the surrogate polynomial the modes need (coefficients, real
roots), ridge least squares for output layers, and the per-layer statistics the reports
show (fraction of neurons active on the data, fraction split by it).

The surrogate is the L2-best polynomial on ``[lo, hi]`` (DESIGN.md). :mod:`solver.networks.surrogate`
is the project's reference implementation; :func:`surrogate_for` uses it when it is
importable and otherwise computes the same Legendre projection here, so the init modes do
not wait on it.
"""

from __future__ import annotations

from solver.errors import LpsError

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from solver.networks.activations import ACTIVATIONS, activate

class InitError(LpsError, ValueError):
    """Bad input to an initialisation mode: the message says what and why."""


# ---------------------------------------------------------------------------------------
# surrogate
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SurrogateInfo:
    """What the init modes need of a surrogate activation.

    Attributes
    ----------
    activation : str
    degree : int
    interval : tuple of float
        ``(lo, hi)``: the fit interval.
    coefficients : ndarray
        Power-basis coefficients, ascending (``c[0] + c[1] x + ...``).
    roots : ndarray
        Real roots of the polynomial, sorted.
    derivative_roots : ndarray
        Real roots of its derivative, sorted.
    """

    activation: str
    degree: int
    interval: tuple[float, float]
    coefficients: np.ndarray
    roots: np.ndarray
    derivative_roots: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return np.polynomial.polynomial.polyval(z, self.coefficients)

    def anchor_values(self) -> np.ndarray:
        """Pre-activation values where start solutions put the chosen points.

        The gradient equations of a layer contain ``p(z_j)`` and ``p'(z_j)`` for every data
        point, both products of linear factors ``z_j - r`` over their roots ``r``: choosing
        such a factor is choosing ``w . x_j + b = r``. The real roots of ``p`` and ``p'``
        inside the interval are the admissible values. With fewer than two distinct values
        (odd surrogates, degree 1) the interval's ends are added so that the anchors do
        not force the zero solution ``w = 0``.
        """
        lo, hi = self.interval
        vals = np.concatenate([self.roots, self.derivative_roots])
        vals = vals[(vals >= lo) & (vals <= hi)]
        vals = np.unique(np.round(vals, 12))
        if vals.size < 2:
            vals = np.unique(np.concatenate([vals, [lo, hi]]))
        return vals


def _real_roots(coefficients: np.ndarray) -> np.ndarray:
    c = np.trim_zeros(np.asarray(coefficients, dtype=np.float64), "b")
    if c.size <= 1:
        return np.zeros(0)
    r = np.polynomial.polynomial.polyroots(c)
    scale = max(1.0, float(np.max(np.abs(r)))) if r.size else 1.0
    real = r[np.abs(r.imag) <= 1e-9 * scale].real
    return np.sort(real)


def legendre_fit(activation: str, degree: int, interval: tuple[float, float], negative_slope: float = 0.01) -> np.ndarray:
    """Power-basis coefficients of the L2-best polynomial of ``activation`` on ``interval``.

    Legendre projection with Gauss-Legendre quadrature, split at 0 (the kink of the ReLU
    family) so that the integrals are exact up to rounding.
    """
    lo, hi = float(interval[0]), float(interval[1])
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise InitError(f"surrogate interval must be finite with lo < hi, got {interval}")
    if not 1 <= degree <= 8:
        raise InitError(f"surrogate degree must lie in 1..8, got {degree}")
    if activation == "identity":
        return np.array([0.0, 1.0])
    nodes, weights = np.polynomial.legendre.leggauss(64)
    pieces = [(lo, hi)] if not lo < 0 < hi else [(lo, 0.0), (0.0, hi)]
    coef = np.zeros(degree + 1)
    for a, b in pieces:
        x = 0.5 * (b - a) * nodes + 0.5 * (a + b)
        t = (2 * x - lo - hi) / (hi - lo)
        fx = activate(x, activation, negative_slope)
        wq = weights * 0.5 * (b - a) * 2.0 / (hi - lo)  # measure dt on [-1, 1]
        for k in range(degree + 1):
            pk = np.polynomial.legendre.Legendre.basis(k)(t)
            coef[k] += (2 * k + 1) / 2.0 * np.sum(wq * fx * pk)
    leg = np.polynomial.legendre.Legendre(coef, domain=[lo, hi])
    power = leg.convert(kind=np.polynomial.Polynomial).coef
    out = np.zeros(degree + 1)
    out[: power.size] = power
    return out


@lru_cache(maxsize=64)
def surrogate_for(
    activation: str,
    degree: int = 2,
    interval: tuple[float, float] = (-1.0, 1.0),
    negative_slope: float = 0.01,
) -> SurrogateInfo:
    """The surrogate of ``activation`` with its real roots (and those of its derivative).

    Uses :mod:`solver.networks.surrogate` when it is importable, else :func:`legendre_fit`.
    Cached: deep networks ask for the same surrogate in every layer.
    """
    interval = (float(interval[0]), float(interval[1]))
    if activation not in ACTIVATIONS:
        raise InitError(f"unknown activation {activation!r}; choose from {list(ACTIVATIONS)}")
    coef = None
    try:  # the project's reference implementation, when it has landed
        from solver.networks import surrogate as _sur  # type: ignore[attr-defined]

        fit = getattr(_sur, "fit_surrogate", None)
        if fit is not None:
            s = fit(activation, degree, tuple(interval), negative_slope=negative_slope)
            coef = np.asarray(getattr(s, "coefficients"), dtype=np.float64)
    except Exception:  # not there yet or another signature: the local projection is the same
        coef = None
    if coef is None:
        coef = legendre_fit(activation, degree, interval, negative_slope)
    deriv = np.polynomial.polynomial.polyder(coef) if coef.size > 1 else np.zeros(1)
    return SurrogateInfo(
        activation=activation,
        degree=int(degree),
        interval=(float(interval[0]), float(interval[1])),
        coefficients=coef,
        roots=_real_roots(coef),
        derivative_roots=_real_roots(deriv),
    )


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
    negative_slope: float = 0.01


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


def check_data(x, y, in_features: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Data as float64 arrays (N, n) and (N, m), with clear errors for bad input."""
    try:
        xa = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InitError(f"data x is not a numeric array: {exc}") from None
    if xa.ndim == 1:
        xa = xa[:, None]
    if xa.ndim != 2 or xa.shape[0] == 0:
        raise InitError(f"data x must be a non-empty 2-D array (rows = samples), got shape {xa.shape}")
    if not np.isfinite(xa).all():
        raise InitError("data x contains NaN or infinity")
    if in_features is not None and xa.shape[1] != in_features:
        raise InitError(f"data x has {xa.shape[1]} features but the first layer expects {in_features}")
    ya = None
    if y is not None:
        try:
            ya = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InitError(f"data y is not a numeric array: {exc}") from None
        if ya.ndim == 1:
            ya = ya[:, None]
        if ya.ndim != 2 or ya.shape[0] != xa.shape[0]:
            raise InitError(f"data y must have one row per sample ({xa.shape[0]}), got shape {ya.shape}")
        if not np.isfinite(ya).all():
            raise InitError("data y contains NaN or infinity")
    return xa, ya


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
                float(_get(l, "negative_slope", 0.01) or 0.01),
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

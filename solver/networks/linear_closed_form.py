"""Deep linear networks exactly: every real critical point in closed form, and the origin test.

For a network whose activations are all ``identity`` the regularised loss

    L(theta) = 1/(2N) sum_j (W_L ... W_1 x_j - y_j)^2 + lambda/2 sum_l ||W_l||^2

has its critical points in closed form when the output is scalar (Ziyin, Li and Meng,
"Exact Solutions of a Deep Linear Network", NeurIPS 2022, arXiv 2202.04777). At a critical
point with ``lambda > 0`` the layers are balanced (``W_{l+1}^T W_{l+1} = W_l W_l^T``: the
data terms cancel in that difference), and with one output that forces every layer to be
rank one with the same norm ``b``: ``W_1 = b r_1 v^T``, ``W_l = b r_l r_{l-1}^T``,
``W_L = b r_{L-1}^T`` with unit vectors ``r_l`` (free: hidden rotations) and a unit input
direction ``v``. The gradient equations reduce to

    (b^(2L-2) Sxx + lambda I) v = b^(L-2) Sxy,   ||v|| = 1,

so with ``Sxx = Q diag(s) Q^T`` and ``c = Q^T Sxy`` the norms are the positive roots of
``phi(b) = sum_i c_i^2 b^(2L-4) / (b^(2L-2) s_i + lambda)^2 = 1`` (for ``L = 2``: one root
when ``||Sxy|| > lambda``; the scalar chain gives DESIGN.md's
``E[x^2] b^(2D) - E[xy] b^(D-1) + lambda = 0``). Besides these, only the origin is critical.

Biases: a first-layer bias is a weight on a constant input (``x -> [x, 1]``); a last-layer
bias is eliminated by its own gradient equation, ``b_L = (mean y - M mean x) / (1 + lambda)``,
which leaves the same problem with ``Sxx - mx mx^T / (1 + lambda)`` and
``Sxy - mx my / (1 + lambda)``. Biases of the layers in between break the chain form: those
networks (and those with several outputs) go to the homotopy.

**The origin as a bad local minimum.** The trivial critical point (all weights zero, the
last bias ``mean y / (1 + lambda)``) has the Hessian ``lambda I`` plus a bilinear coupling
of the residual's second-order terms: with two weight layers ``tr(W_2 [W_1 b_1] C)`` with
``C = 1/N sum_j [x_j, 1] r_j^T``, deeper only ``rbar^T W_L b_{L-1}``. Its smallest
eigenvalue is ``lambda - s`` with ``s`` the largest singular value of that coupling, so
with more than one hidden layer and no bias before the last layer the origin is a strict
local minimum for every ``lambda > 0`` (Ziyin et al.'s warning). :func:`origin_check`
works for every all-identity network (any biases, any output width).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from solver.errors import LpsError
from solver.networks.critical_points import CriticalPoint, CriticalPointsResult, choose_candidates, classify
from solver.networks.spec import NetworkSpec
from solver.networks.surrogate import fit_surrogate
from solver.networks.weights_io import flatten, unflatten

#: dense Hessians (complex-step, one gradient per parameter) up to this many parameters
HESSIAN_MAX_PARAMETERS = 400
#: sign changes of phi are looked for on a log grid of this many points
ROOT_GRID = 4000
#: eigenvalues below this times the largest modulus count as zero
ZERO_EIGENVALUE = 1e-7

REFERENCE = "Ziyin, Li, Meng, 'Exact Solutions of a Deep Linear Network', NeurIPS 2022 (arXiv 2202.04777)"


class LinearClosedFormError(LpsError, ValueError):
    """The spec is not a network the closed form covers (see :func:`closed_form_reason`)."""


def is_linear(spec: NetworkSpec) -> bool:
    """Every activation is ``identity``."""
    return all(l.activation == "identity" for l in spec.layers)


def closed_form_reason(spec: NetworkSpec) -> str | None:
    """None when the closed form covers ``spec``, else why not (one phrase)."""
    if not is_linear(spec):
        return "not every activation is identity"
    if spec.data.y is None:
        return "no targets"
    if spec.weight_decay <= 0:
        return "weight_decay must be > 0"
    L = len(spec.layers)
    if L >= 2 and spec.layers[-1].out_features != 1:
        return f"{spec.layers[-1].out_features} outputs (the closed form is for one output)"
    inner = [k for k in range(1, L - 1) if spec.layers[k].bias]
    if inner:
        return f"biases in the inner layers {inner} (only the first and the last layer may have one)"
    return None


# -- the loss of an identity network, complex-safe (the Hessian is taken by complex step) ------
def _forward(spec: NetworkSpec, theta: np.ndarray, x: np.ndarray) -> list[np.ndarray]:
    hs = [x]
    for W, b in unflatten(spec, theta):
        hs.append(hs[-1] @ W.T + (0.0 if b is None else b))
    return hs


def loss(spec: NetworkSpec, theta: np.ndarray) -> float:
    """``1/(2N) sum ||f(x_j) - y_j||^2 + lambda/2 ||theta||^2`` of an identity network."""
    theta = np.asarray(theta, dtype=np.float64)
    r = _forward(spec, theta, spec.data.x_array())[-1] - spec.data.y_array()
    return float(0.5 * np.mean(np.sum(r * r, axis=1)) + 0.5 * spec.weight_decay * theta @ theta)


def gradient(spec: NetworkSpec, theta: np.ndarray) -> np.ndarray:
    """``grad L`` by backpropagation; works on complex ``theta`` (no conjugates), which the
    complex-step Hessian needs."""
    theta = np.asarray(theta)
    x, y = spec.data.x_array(), spec.data.y_array()
    hs = _forward(spec, theta, x)
    layers = unflatten(spec, theta)
    delta = (hs[-1] - y) / x.shape[0]
    parts: list[np.ndarray] = []
    for k in range(len(spec.layers) - 1, -1, -1):
        W, b = layers[k]
        parts[:0] = [(delta.T @ hs[k]).reshape(-1)] + ([delta.sum(axis=0)] if b is not None else [])
        delta = delta @ W
    return np.concatenate(parts) + spec.weight_decay * theta


def hessian(spec: NetworkSpec, theta: np.ndarray) -> np.ndarray:
    """Hessian by complex step on the gradient: exact to rounding (the gradient is a
    polynomial), one gradient per parameter."""
    theta = np.asarray(theta, dtype=np.float64)
    n, h = theta.size, 1e-30
    H = np.empty((n, n))
    for i in range(n):
        t = theta.astype(np.complex128)
        t[i] += 1j * h
        H[:, i] = gradient(spec, t).imag / h
    return 0.5 * (H + H.T)


# -- the origin ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class OriginCheck:
    """The trivial critical point of an identity network and whether it is a local minimum.

    Attributes
    ----------
    params : ndarray
        All weights zero, the last bias ``mean y / (1 + lambda)`` (when there is one).
    loss : float
    coupling : float
        Largest singular value ``s`` of the second-order coupling; the Hessian's smallest
        eigenvalue is ``lambda - s``.
    weight_decay : float
    local_minimum : bool
        ``lambda > s`` (strict local minimum).
    """

    params: np.ndarray
    loss: float
    coupling: float
    weight_decay: float
    local_minimum: bool

    @property
    def smallest_eigenvalue(self) -> float:
        return self.weight_decay - self.coupling

    def warning(self, best_loss: float | None = None) -> str | None:
        """The user's warning when the origin is a local minimum, else None."""
        if not self.local_minimum:
            return None
        worse = "" if best_loss is None else f" (its loss {self.loss:.6g}; the global minimum's {best_loss:.6g})"
        return (f"the origin is a strict local minimum of this linear network for weight_decay {self.weight_decay:g} "
                f"(Hessian's smallest eigenvalue {self.smallest_eigenvalue:.3g} > 0){worse}: training from small weights "
                f"can stall there; start away from it or lower the weight decay (Ziyin et al. 2022)")

    def to_json(self) -> dict:
        return {"loss": float(self.loss), "coupling": float(self.coupling),
                "smallest_eigenvalue": float(self.smallest_eigenvalue), "local_minimum": bool(self.local_minimum)}


def origin_check(spec: NetworkSpec) -> OriginCheck:
    """The trivial critical point of an all-identity network and its Hessian's smallest
    eigenvalue in closed form (module docstring)."""
    if not is_linear(spec):
        raise LinearClosedFormError("the origin test is for networks whose activations are all identity")
    x, y, lam = spec.data.x_array(), spec.data.y_array(), spec.weight_decay
    L, last = len(spec.layers), spec.layers[-1]
    theta = np.zeros(spec.n_parameters)
    if last.bias:
        unflatten(spec, theta)[-1][1][:] = y.mean(axis=0) / (1.0 + lam)
    r = _forward(spec, theta, x)[-1] - y  # residuals at the point
    if L == 1:
        coupling = 0.0  # ridge regression: convex, no coupling
    elif L == 2:
        xa = np.hstack([x, np.ones((x.shape[0], 1))]) if spec.layers[0].bias else x
        coupling = float(np.linalg.norm(xa.T @ r / x.shape[0], 2))
    else:
        coupling = float(np.linalg.norm(r.mean(axis=0))) if spec.layers[-2].bias else 0.0
    return OriginCheck(theta, loss(spec, theta), coupling, lam, bool(lam > coupling))


# -- the critical points --------------------------------------------------------------------------
@dataclass(frozen=True)
class _Chain:
    """The reduced problem: covariances of the (augmented) input, depth, the biases."""

    sxx: np.ndarray
    sxy: np.ndarray
    depth: int
    augmented: bool
    mean_x: np.ndarray
    mean_y: float


def _chain(spec: NetworkSpec) -> _Chain:
    x, y, lam = spec.data.x_array(), spec.data.y_array()[:, 0], spec.weight_decay
    xa = np.hstack([x, np.ones((x.shape[0], 1))]) if spec.layers[0].bias else x
    N = x.shape[0]
    sxx, sxy = xa.T @ xa / N, xa.T @ y / N
    mx, my = xa.mean(axis=0), float(y.mean())
    if spec.layers[-1].bias:  # eliminate the last bias (module docstring)
        sxx = sxx - np.outer(mx, mx) / (1.0 + lam)
        sxy = sxy - mx * my / (1.0 + lam)
    return _Chain(sxx, sxy, len(spec.layers), spec.layers[0].bias, mx, my)


def norm_roots(sxx: np.ndarray, sxy: np.ndarray, depth: int, weight_decay: float) -> np.ndarray:
    """The positive roots ``b`` of ``phi(b) = 1`` (module docstring), ascending.

    A log grid between the bounds ``(lambda^2/sum c^2)^(1/(2L-4)) <= b <= (sum c^2/s^2)^(1/(2L))``
    brackets the sign changes, each refined by Brent's method (a root where phi only
    touches 1 is missed: a non-generic case).
    """
    s, Q = np.linalg.eigh(sxx)
    c2 = (Q.T @ sxy) ** 2
    keep = s > 1e-12 * max(1.0, float(s.max(initial=0.0)))
    s, c2, lam, L = s[keep], c2[keep], weight_decay, depth
    total = float(c2.sum())
    if total == 0.0 or s.size == 0:
        return np.zeros(0)

    def phi(b: float) -> float:
        return float(np.sum(c2 * b ** (2 * L - 4) / (b ** (2 * L - 2) * s + lam) ** 2)) - 1.0

    hi = float(np.sum(c2 / s**2)) ** (1.0 / (2 * L)) * 1.01 + 1e-300
    if L == 2:  # phi decreases from ||Sxy||^2/lambda^2 - 1: at most one root
        return np.array([brentq(phi, 0.0, hi, xtol=1e-300, rtol=1e-15)]) if total > lam**2 else np.zeros(0)
    lo = (lam**2 / total) ** (1.0 / (2 * L - 4)) * 0.99
    if lo >= hi:
        return np.zeros(0)
    grid = np.geomspace(lo, hi, ROOT_GRID)
    vals = np.concatenate([  # phi on the grid, in chunks (one row per eigenvalue)
        np.sum(c2[:, None] * g ** (2 * L - 4) / (g ** (2 * L - 2) * s[:, None] + lam) ** 2, axis=0) - 1.0
        for g in np.array_split(grid, max(1, s.size * ROOT_GRID // 4_000_000))])
    roots = [brentq(phi, a, b, xtol=1e-300, rtol=1e-15)
             for a, b, fa, fb in zip(grid[:-1], grid[1:], vals[:-1], vals[1:]) if fa * fb < 0]
    return np.array(roots)


def _point(spec: NetworkSpec, ch: _Chain, b: float) -> np.ndarray:
    """The representative of the family of norm ``b``: every ``r_l`` the first unit vector."""
    L, lam = ch.depth, spec.weight_decay
    v = b ** (L - 2) * np.linalg.solve(b ** (2 * L - 2) * ch.sxx + lam * np.eye(len(ch.sxy)), ch.sxy)
    layers = []
    for k, l in enumerate(spec.layers):
        W = np.zeros((l.out_features, l.in_features))
        bias = np.zeros(l.out_features) if l.bias else None
        if k == 0:
            W[0] = b * v[: l.in_features]
            if ch.augmented:
                bias[0] = b * v[-1]
        else:
            W[0, 0] = b
        layers.append((W, bias))
    if spec.layers[-1].bias:
        M = b**L * v
        layers[-1][1][0] = (ch.mean_y - M @ ch.mean_x) / (1.0 + lam)
    return flatten(layers)


def orbit_dimension(spec: NetworkSpec) -> int:
    """Dimension of a nonzero family under hidden rotations: ``sum (width - 1)``."""
    return sum(l.out_features - 1 for l in spec.layers[:-1])


@dataclass
class LinearLoss:
    """The loss of an identity network as numpy functions, with the (trivial) surrogates,
    in the place of :class:`solver.networks.gradient_system.NetworkLoss`."""

    spec: NetworkSpec
    surrogates: list = field(default_factory=list)

    def loss(self, theta: np.ndarray) -> float:
        return loss(self.spec, theta)

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        return gradient(self.spec, theta)

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        return hessian(self.spec, theta)


@dataclass
class LinearClosedFormResult(CriticalPointsResult):
    """Exact mode by the closed form: the origin and one representative per family."""

    origin: OriginCheck | None = None
    roots: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def to_json(self) -> dict:
        out = super().to_json()
        best = self.candidates[0].loss if self.candidates else None
        out["linear_network"] = {
            "method": "closed-form",
            "reference": REFERENCE,
            "norms": [float(b) for b in self.roots],
            "orbit_dimension": orbit_dimension(self.spec),
            "origin": self.origin.to_json() if self.origin else None,
            "warning": self.origin.warning(best) if self.origin else None,
            "note": "real critical points only (complex ones are not enumerated); a family with hidden width > 1 "
                    "is a manifold of critical points (hidden rotations), reported by one representative",
        }
        return out


def _classify(spec: NetworkSpec, theta: np.ndarray, zeros_expected: int) -> tuple[np.ndarray, int, str]:
    """Eigenvalues, Morse index and kind; the hidden rotations' zero eigenvalues are expected."""
    if spec.n_parameters > HESSIAN_MAX_PARAMETERS:
        return np.zeros(0), -1, "unclassified"
    ev = np.linalg.eigvalsh(hessian(spec, theta))
    tol = ZERO_EIGENVALUE * max(1.0, float(np.abs(ev).max(initial=0.0)))
    zeros = int((np.abs(ev) <= tol).sum())
    if zeros != zeros_expected:
        return ev, int((ev < -tol).sum()), "degenerate"
    nonzero = ev[np.abs(ev) > tol]
    index, kind = classify(nonzero) if nonzero.size else (0, "minimum")
    return ev, index, kind


def linear_critical_points(spec: NetworkSpec) -> LinearClosedFormResult:
    """Exact mode for an identity network in closed form (no homotopy, any size).

    Raises
    ------
    LinearClosedFormError
        When :func:`closed_form_reason` names a reason.
    """
    reason = closed_form_reason(spec)
    if reason is not None:
        raise LinearClosedFormError(f"the linear closed form does not apply to {spec.describe()}: {reason}")
    t0 = time.perf_counter()
    origin = origin_check(spec)
    thetas, dims = [origin.params], [0]
    roots = np.zeros(0)
    if len(spec.layers) == 1:  # ridge regression: one critical point
        x, y, lam = spec.data.x_array(), spec.data.y_array(), spec.weight_decay
        xa = np.hstack([x, np.ones((x.shape[0], 1))]) if spec.layers[0].bias else x
        w = np.linalg.solve(xa.T @ xa / x.shape[0] + lam * np.eye(xa.shape[1]), xa.T @ y / x.shape[0]).T
        thetas = [flatten([(w[:, : x.shape[1]], w[:, -1] if spec.layers[0].bias else None)])]
    else:
        ch = _chain(spec)
        roots = norm_roots(ch.sxx, ch.sxy, ch.depth, spec.weight_decay)
        thetas += [_point(spec, ch, b) for b in roots]
        dims += [orbit_dimension(spec)] * len(roots)
    # orbit sizes: the origin (and the ridge solution) 1; a family 2^(L-1) sign flips when every
    # hidden width is 1, else 0: a manifold of hidden rotations (orbit_dimension)
    sizes = [1] + [2 ** (len(spec.layers) - 1) if d == 0 else 0 for d in dims[1:]]
    points = []
    for theta, dim, size in zip(thetas, dims, sizes):
        ev, index, kind = _classify(spec, theta, dim)
        points.append(CriticalPoint(theta, loss(spec, theta), float(np.linalg.norm(gradient(spec, theta))),
                                    ev, index, kind, size, 1))
    if spec.n_parameters > HESSIAN_MAX_PARAMETERS:  # the lowest loss is the global minimum (L is coercive)
        best = min(points, key=lambda p: p.loss)
        best.kind, best.index = "minimum", 0
        if origin.local_minimum:
            points[0].kind, points[0].index = "minimum", 0
    points.sort(key=lambda p: (p.kind != "minimum", p.loss))
    candidates, note = choose_candidates(points, spec.candidates)
    surrogates = [fit_surrogate("identity", 1, spec.surrogate.interval)] * len(spec.layers)
    seconds = time.perf_counter() - t0
    n_real = sum(p.orbit_size for p in points) if all(p.orbit_size for p in points) else len(points)
    return LinearClosedFormResult(
        spec=spec, variables=tuple(spec.parameter_names()), loss=LinearLoss(spec, surrogates),
        root_counts={"closed_form_norms": int(len(roots))},
        solve_summary={"method": "closed-form", "backend": "closed-form", "start_system": "none", "paths": 0,
                       "regular": 0, "singular": 0, "at_infinity": 0, "failed": 0, "seconds": seconds},
        points=points, n_real=n_real, n_complex=0, candidates=candidates, candidates_note=note, seconds=seconds,
        real_points=np.array([p.params for p in points]), origin=origin, roots=roots,
    )

"""The surrogate network's loss as a polynomial in its parameters, and its gradient system.

With polynomial activations ``p_l`` the network output ``f(x; theta)`` is a polynomial in
the parameters whose coefficients depend on the input. We expand it layer by layer as a
sparse polynomial in ``theta`` with one coefficient *per data point* (a (terms, N) array),
then square and sum over the data in one matrix product: the residual ``g = f - y`` with
coefficient rows ``C`` gives ``sum_j g_j^2 = sum_{k,l} (C C^T)_{kl} theta^(a_k + a_l)``.
The loss polynomial, and so the gradient system, has a size that does not depend on N;
only the building work is linear in N.

    L(theta) = 1/(2N) sum_j ||f(x_j) - y_j||^2 + lambda/2 ||theta||^2

Variables are in ``state_dict`` order, named ``W{layer}_{row}_{col}`` and ``b{layer}_{row}``.
:class:`NetworkLoss` also evaluates the loss (by a forward pass), the gradient and the
Hessian (from the polynomial) as plain numpy functions of a parameter vector.

Reference: Chen, Hao and He, "A weight initialization based on the linear product
structure for neural networks", Applied Mathematics and Computation 415, 2022 (arXiv
2109.00125; DESIGN.md), section on the surrogate network and its gradient system.
"""

from __future__ import annotations

from solver.errors import LpsError

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from solver.networks.spec import NetworkSpec
from solver.networks.surrogate import Surrogate
from solver.engine.system import Polynomial, System
from solver.networks.weights_io import unflatten

#: a loss coefficient below this times the sum of the moduli of the products that make it
#: is rounding noise from exact cancellation (symmetric data): it is dropped
CANCELLATION_TOLERANCE = 64 * np.finfo(float).eps
#: refuse expansions with more (terms x samples) coefficient entries than this: the
#: products would need gigabytes (exact mode never gets near it)
MAX_EXPANSION_ENTRIES = 50_000_000


class SystemTooLarge(LpsError, ValueError):
    """The network's polynomial expansion would be too large to build."""


# -- sparse polynomials in theta with per-sample coefficients ------------------------------
@dataclass
class _SamplePoly:
    """``sum_k coef[k, j] * theta^exps[k]`` for every sample ``j``."""

    exps: np.ndarray  # (T, n) int64
    coef: np.ndarray  # (T, N) float64

    @staticmethod
    def constant(values: np.ndarray, n: int) -> "_SamplePoly":
        return _SamplePoly(np.zeros((1, n), np.int64), np.asarray(values, np.float64).reshape(1, -1))

    def times_variable(self, v: int) -> "_SamplePoly":
        e = self.exps.copy()
        e[:, v] += 1
        return _SamplePoly(e, self.coef)

    def __add__(self, other: "_SamplePoly") -> "_SamplePoly":
        return _merge(np.vstack([self.exps, other.exps]), np.vstack([self.coef, other.coef]))

    def __mul__(self, other: "_SamplePoly") -> "_SamplePoly":
        t1, t2 = self.exps.shape[0], other.exps.shape[0]
        if t1 * t2 * self.coef.shape[1] > MAX_EXPANSION_ENTRIES:
            raise SystemTooLarge(
                f"expanding the network needs {t1 * t2} terms times {self.coef.shape[1]} samples: "
                "too large for the exact gradient system (use a smaller network, degree or sample)"
            )
        e = (self.exps[:, None, :] + other.exps[None, :, :]).reshape(t1 * t2, -1)
        c = (self.coef[:, None, :] * other.coef[None, :, :]).reshape(t1 * t2, -1)
        return _merge(e, c)

    def scaled(self, s: float) -> "_SamplePoly":
        return _SamplePoly(self.exps, self.coef * s)


def _row_keys(exps: np.ndarray) -> np.ndarray:
    """One integer per exponent row (mixed radix when it fits in int64, else a void view)."""
    base = int(exps.max(initial=0)) + 1
    n = exps.shape[1]
    if n == 0:
        return np.zeros(exps.shape[0], np.int64)
    if n * np.log2(max(base, 2)) < 62:
        radix = base ** np.arange(n, dtype=np.int64)
        return exps @ radix
    row = np.ascontiguousarray(exps)
    return row.view(np.dtype((np.void, row.dtype.itemsize * n))).ravel()


def _merge(exps: np.ndarray, coef: np.ndarray) -> _SamplePoly:
    """Sum the coefficients of equal exponent rows."""
    if exps.shape[0] <= 1:
        return _SamplePoly(exps, coef)
    keys = _row_keys(exps)
    order = np.argsort(keys, kind="stable")
    ks = keys[order]
    starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
    return _SamplePoly(exps[order[starts]], np.add.reduceat(coef[order], starts, axis=0))


def _merge_scalar(exps: np.ndarray, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = _merge(exps, coef.reshape(-1, 1))
    keep = p.coef[:, 0] != 0
    return p.exps[keep], p.coef[keep, 0]


def _apply(s: Surrogate, z: _SamplePoly) -> _SamplePoly:
    """``p(z)`` by Horner's rule on polynomials (coefficient columns: values, then
    magnitudes, see :func:`network_loss`)."""
    a = s.coefficients[: s.effective_degree + 1]
    if s.activation == "identity":
        return z
    n, N = z.exps.shape[1], z.coef.shape[1] // 2
    const = lambda c: _SamplePoly.constant(np.r_[np.full(N, c), np.full(N, abs(c))], n)  # noqa: E731
    acc = const(a[-1])
    for c in a[-2::-1]:
        acc = acc * z
        acc = acc + const(c)
    return acc


def _derivative(exps: np.ndarray, coef: np.ndarray, v: int) -> tuple[np.ndarray, np.ndarray]:
    """d/d theta_v of ``sum_k coef[k] theta^exps[k]``."""
    rows = exps[:, v] > 0
    e = exps[rows].copy()
    c = coef[rows] * e[:, v]
    e[:, v] -= 1
    return e, c


class _StackedPolys:
    """Many real polynomials evaluated at once: term t belongs to output ``owner[t]``."""

    def __init__(self, polys: list[tuple[np.ndarray, np.ndarray]], n: int):
        self.size = len(polys)
        self.exps = np.vstack([e for e, _ in polys]) if polys else np.zeros((0, n), np.int64)
        self.coef = np.concatenate([c for _, c in polys]) if polys else np.zeros(0)
        self.owner = np.concatenate([np.full(len(c), i) for i, (_, c) in enumerate(polys)]) if polys else np.zeros(0, np.int64)
        self.max_power = int(self.exps.max(initial=0))

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        theta = np.asarray(theta, dtype=np.float64)
        # a table of powers theta_v^k beats theta ** exps on repeated exponents
        powers = np.ones((self.max_power + 1, theta.shape[0]))
        for k in range(1, self.max_power + 1):
            powers[k] = powers[k - 1] * theta
        mono = np.prod(powers[self.exps, np.arange(theta.shape[0])], axis=1) if self.exps.shape[0] else np.zeros(0)
        return np.bincount(self.owner, weights=self.coef * mono, minlength=self.size)


@dataclass
class NetworkLoss:
    """The regularised surrogate loss of a spec, as a polynomial and as numpy functions.

    Attributes
    ----------
    spec : NetworkSpec
    variables : tuple of str
        Parameter names in state_dict order.
    surrogates : list of Surrogate
        One per layer.
    exponents, coefficients : ndarrays
        The loss polynomial ``sum_k coefficients[k] theta^exponents[k]`` (weight decay
        included).
    """

    spec: NetworkSpec
    variables: tuple[str, ...]
    surrogates: list[Surrogate]
    exponents: np.ndarray
    coefficients: np.ndarray
    _x: np.ndarray = field(repr=False)
    _y: np.ndarray = field(repr=False)

    @property
    def n_parameters(self) -> int:
        return len(self.variables)

    @property
    def degree(self) -> int:
        """Total degree of the loss polynomial."""
        return int(self.exponents.sum(axis=1).max(initial=0))

    @cached_property
    def polynomial(self) -> Polynomial:
        return Polynomial(self.coefficients.astype(np.complex128), self.exponents)

    @cached_property
    def _gradient_terms(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [_merge_scalar(*_derivative(self.exponents, self.coefficients, v)) for v in range(self.n_parameters)]

    @cached_property
    def system(self) -> System:
        """The gradient system ``dL/dtheta_i = 0``, one equation per parameter."""
        polys = [Polynomial(c.astype(np.complex128), e) for e, c in self._gradient_terms]
        return System(tuple(polys), self.variables)

    @cached_property
    def _grad_eval(self) -> _StackedPolys:
        return _StackedPolys(self._gradient_terms, self.n_parameters)

    @cached_property
    def _hess_eval(self) -> tuple[_StackedPolys, np.ndarray, np.ndarray]:
        n = self.n_parameters
        rows, cols, polys = [], [], []
        for i, (e, c) in enumerate(self._gradient_terms):
            for j in range(i, n):
                rows.append(i)
                cols.append(j)
                polys.append(_derivative(e, c, j))
        return _StackedPolys(polys, n), np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)

    # -- numpy functions of a parameter vector ---------------------------------------------
    def forward(self, theta: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """Surrogate network output for inputs ``x`` (default: the data), shape (N, out)."""
        h = self._x if x is None else np.asarray(x, dtype=np.float64)
        for (W, b), s in zip(unflatten(self.spec, np.asarray(theta, dtype=np.float64)), self.surrogates):
            z = h @ W.T + (0.0 if b is None else b)
            h = s(z)
        return h

    def loss(self, theta: np.ndarray) -> float:
        """``1/(2N) sum ||f - y||^2 + lambda/2 ||theta||^2`` by a forward pass."""
        theta = np.asarray(theta, dtype=np.float64)
        r = self.forward(theta) - self._y
        return float(0.5 * np.mean(np.sum(r * r, axis=1)) + 0.5 * self.spec.weight_decay * theta @ theta)

    def loss_from_polynomial(self, theta: np.ndarray) -> float:
        """The same value from the expanded polynomial (a consistency check)."""
        return float(_StackedPolys([(self.exponents, self.coefficients)], self.n_parameters)(theta)[0])

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        """``grad L`` (n,)."""
        return self._grad_eval(np.asarray(theta, dtype=np.float64))

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """Hessian of L (n, n), symmetric."""
        ev, rows, cols = self._hess_eval
        vals = ev(np.asarray(theta, dtype=np.float64))
        H = np.zeros((self.n_parameters, self.n_parameters))
        H[rows, cols] = vals
        H[cols, rows] = vals
        return H


def network_loss(spec: NetworkSpec) -> NetworkLoss:
    """Expand the spec's regularised surrogate loss as a polynomial in the parameters.

    Raises
    ------
    SystemTooLarge
        When the expansion would need more than :data:`MAX_EXPANSION_ENTRIES` numbers.
    ValueError
        When the spec has no targets (``data.y``).
    """
    x = spec.data.x_array()
    y = spec.data.y_array()
    names = tuple(spec.parameter_names())
    n, N = len(names), x.shape[0]
    index = {v: k for k, v in enumerate(names)}
    surrogates = spec.surrogates()

    # coefficient columns: N values, then N magnitudes (the same sums over |terms|), whose
    # ratio tells exact cancellation from small but genuine coefficients
    h = [_SamplePoly.constant(np.r_[x[:, c], np.abs(x[:, c])], n) for c in range(x.shape[1])]
    ones = np.ones(2 * N)
    for l, (layer, s) in enumerate(zip(spec.layers, surrogates)):
        nxt = []
        for r in range(layer.out_features):
            parts = [h[c].times_variable(index[f"W{l}_{r}_{c}"]) for c in range(layer.in_features)]
            if layer.bias:
                parts.append(_SamplePoly.constant(ones, n).times_variable(index[f"b{l}_{r}"]))
            z = _merge(np.vstack([p.exps for p in parts]), np.vstack([p.coef for p in parts]))
            nxt.append(_apply(s, z))
        h = nxt

    # data term: 1/(2N) sum_o sum_j (f_o - y_o)^2 from the Gram matrix of coefficient rows
    exps_parts, coef_parts, mag_parts = [], [], []
    for o, f in enumerate(h):
        g = f + _SamplePoly.constant(np.r_[-y[:, o], np.abs(y[:, o])], n)
        T = g.exps.shape[0]
        if T * T > MAX_EXPANSION_ENTRIES:
            raise SystemTooLarge(f"the loss would have {T * T} terms before merging: too large for the exact gradient system")
        val, mag = g.coef[:, :N], g.coef[:, N:]
        iu, ju = np.triu_indices(T)
        w = np.where(iu == ju, 1.0, 2.0) / (2.0 * N)  # off-diagonal pairs appear twice
        exps_parts.append(g.exps[iu] + g.exps[ju])
        coef_parts.append(w * (val @ val.T)[iu, ju])
        mag_parts.append(w * (mag @ mag.T)[iu, ju])
    # weight decay lambda/2 sum theta_i^2
    lam = spec.weight_decay
    if lam:
        exps_parts.append(2 * np.eye(n, dtype=np.int64))
        coef_parts.append(np.full(n, 0.5 * lam))
        mag_parts.append(np.full(n, 0.5 * lam))
    merged = _merge(np.vstack(exps_parts), np.column_stack([np.concatenate(coef_parts), np.concatenate(mag_parts)]))
    keep = np.abs(merged.coef[:, 0]) > CANCELLATION_TOLERANCE * merged.coef[:, 1]
    exps, coef = merged.exps[keep], merged.coef[keep, 0]
    return NetworkLoss(spec, names, surrogates, exps, coef, x, y)


def gradient_system(spec: NetworkSpec) -> System:
    """The gradient system of the spec's loss as an engine :class:`System`."""
    return network_loss(spec).system

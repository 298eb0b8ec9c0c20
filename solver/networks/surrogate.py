"""Polynomial surrogates of activation functions.

The surrogate of an activation ``act`` on ``[lo, hi]`` at degree ``d`` is its L2-best
polynomial there: the Legendre projection. With ``x = m + h t`` (``m`` the midpoint, ``h``
the half width) the Legendre coefficients are ``c_k = (2k+1)/2 * int_{-1}^{1} act(m+ht)
P_k(t) dt``, computed by Gauss-Legendre quadrature on the pieces between the kinks of the
activation (ReLU and leaky ReLU are polynomial on each piece, so their coefficients are
exact to rounding). The result is converted to monomial coefficients in ``x``.

Example: ReLU on [-1, 1] at degree 2 is ``3/32 + x/2 + 15 x^2 / 32``.

Reference: Chen, Hao and He, "A weight initialization based on the linear product
structure for neural networks", Applied Mathematics and Computation 415, 2022 (arXiv
2109.00125; DESIGN.md) (the polynomial surrogate of the activation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.polynomial import legendre as npleg
from numpy.polynomial import polynomial as nppoly

from solver.errors import LpsError
from solver.networks.activations import activation_function, kinks as activation_kinks

#: Gauss-Legendre nodes per piece; smooth activations converge fast, kinks are split off
_QUAD_NODES = 128
#: points of the grid on which the max error is taken (kinks and ends are added)
_GRID_POINTS = 4001


class SurrogateError(LpsError, ValueError):
    """A surrogate that cannot be fitted: empty or infinite interval, degree below 1."""


@dataclass(frozen=True)
class Surrogate:
    """An activation's polynomial surrogate on an interval.

    Attributes
    ----------
    activation : str
    degree : int
        Degree of the fit (1 for identity whatever was asked).
    interval : (float, float)
    coefficients : float ndarray, shape (degree + 1,)
        Monomial coefficients in ascending order: ``p(x) = sum_k coefficients[k] x^k``.
    max_error : float
        ``max |act - p|`` on the interval (dense grid plus kinks and ends).
    rms_error : float
        ``sqrt(1/(hi-lo) int (act - p)^2 dx)``.
    roots : float ndarray
        Real roots of ``p`` in the interval, ascending.
    negative_slope : float
        Only used by leaky_relu.
    """

    activation: str
    degree: int
    interval: tuple[float, float]
    coefficients: np.ndarray
    max_error: float
    rms_error: float
    roots: np.ndarray
    negative_slope: float = 0.01
    legendre: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    @property
    def effective_degree(self) -> int:
        """Degree of ``p`` itself: below :attr:`degree` when the top coefficients vanish
        (tanh on a symmetric interval at an even degree)."""
        nz = np.flatnonzero(self.coefficients)
        return int(nz[-1]) if nz.size else 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Evaluate ``p`` (numpy broadcasting; also works on torch tensors and sympy)."""
        out = 0.0 * x
        for c in self.coefficients[::-1]:
            out = out * x + float(c)
        return out

    def derivative(self, x: np.ndarray) -> np.ndarray:
        """Evaluate ``p'``."""
        return nppoly.polyval(np.asarray(x, dtype=float), nppoly.polyder(self.coefficients))

    @property
    def derivative_roots(self) -> np.ndarray:
        """All real roots of ``p'``, sorted (the critical values of the surrogate)."""
        c = self.coefficients
        return real_roots(nppoly.polyder(c) if c.size > 1 else np.zeros(1))

    def anchor_values(self) -> np.ndarray:
        """Pre-activation values where start solutions put their chosen points.

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

    def to_json(self) -> dict:
        return {
            "activation": self.activation,
            "degree": int(self.degree),
            "interval": [float(self.interval[0]), float(self.interval[1])],
            "coefficients": [float(c) for c in self.coefficients],
            "max_error": float(self.max_error),
            "rms_error": float(self.rms_error),
            "roots": [float(r) for r in self.roots],
        }

    def describe(self) -> str:
        """One line: ``p(x)`` and its errors."""
        terms = " ".join(f"{c:+.6g}" + (f"*x^{k}" if k > 1 else "*x" if k == 1 else "") for k, c in enumerate(self.coefficients))
        return (
            f"{self.activation} on [{self.interval[0]:.6g}, {self.interval[1]:.6g}], degree {self.degree}: "
            f"p(x) = {terms}; max error {self.max_error:.3g}, rms error {self.rms_error:.3g}"
        )


def real_roots(coefficients: np.ndarray) -> np.ndarray:
    """All real roots of the power-basis polynomial ``coefficients`` (ascending), sorted.

    A root counts as real when its imaginary part is below ``1e-9`` of the largest root
    modulus (at least 1): the companion eigenvalues of a double root split into a
    conjugate pair of that size.
    """
    c = np.trim_zeros(np.asarray(coefficients, dtype=np.float64), "b")
    if c.size <= 1:
        return np.zeros(0)
    r = nppoly.polyroots(c)
    scale = max(1.0, float(np.max(np.abs(r)))) if r.size else 1.0
    return np.sort(r[np.abs(r.imag) <= 1e-9 * scale].real)


def _pieces(lo: float, hi: float, kinks: tuple[float, ...]) -> list[tuple[float, float]]:
    cuts = [lo] + [k for k in kinks if lo < k < hi] + [hi]
    return list(zip(cuts[:-1], cuts[1:]))


def _quadrature(lo: float, hi: float, kinks: tuple[float, ...], nodes: int = _QUAD_NODES) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes and weights on [lo, hi], split at the kinks."""
    t, w = npleg.leggauss(nodes)
    xs, ws = [], []
    for a, b in _pieces(lo, hi, kinks):
        xs.append(0.5 * (a + b) + 0.5 * (b - a) * t)
        ws.append(0.5 * (b - a) * w)
    return np.concatenate(xs), np.concatenate(ws)


def fit_surrogate(
    activation: str,
    degree: int,
    interval: tuple[float, float],
    negative_slope: float = 0.01,
) -> Surrogate:
    """The L2-best polynomial of ``activation`` on ``interval`` of the given degree.

    Parameters
    ----------
    activation : str
        One of :data:`ACTIVATIONS`. ``identity`` returns ``p(x) = x`` exactly.
    degree : int
        1 to 8 (higher works but the monomial coefficients grow ill-conditioned).
    interval : (lo, hi)
        Finite, ``lo < hi``.
    negative_slope : float
        Slope of leaky_relu for negative inputs.

    Returns
    -------
    Surrogate
    """
    lo, hi = float(interval[0]), float(interval[1])
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise SurrogateError(f"surrogate interval must be finite with lo < hi, got [{lo}, {hi}]")
    if int(degree) != degree or degree < 1:
        raise SurrogateError(f"surrogate degree must be a positive integer, got {degree}")
    degree = int(degree)
    f = activation_function(activation, negative_slope)
    if activation == "identity":
        coeffs = np.array([0.0, 1.0])
        roots = np.array([0.0]) if lo <= 0.0 <= hi else np.zeros(0)
        return Surrogate("identity", 1, (lo, hi), coeffs, 0.0, 0.0, roots, negative_slope, np.array([0.0, 1.0]))

    kinks = activation_kinks(activation)
    m, h = 0.5 * (lo + hi), 0.5 * (hi - lo)
    xq, wq = _quadrature(lo, hi, kinks)
    tq = (xq - m) / h
    fq = f(xq)
    # c_k = (2k+1)/2 int_{-1}^{1} f P_k dt and dx = h dt
    vander = npleg.legvander(tq, degree)  # (Q, d+1): P_k(t_q)
    leg = (2 * np.arange(degree + 1) + 1) / 2.0 * ((wq / h * fq) @ vander)
    # coefficients at rounding level are zero by symmetry (odd tanh on a symmetric
    # interval has no even terms): drop them so the system keeps its true degree
    leg[np.abs(leg) <= 1e-13 * np.abs(leg).max()] = 0.0
    # Legendre series in t -> power series in t -> power series in x (t = (x - m) / h)
    in_t = npleg.leg2poly(leg)
    coeffs = np.zeros(1)
    shift = np.array([-m / h, 1.0 / h])
    for c in in_t[::-1]:  # Horner on polynomials
        coeffs = nppoly.polyadd(nppoly.polymul(coeffs, shift), [c])
    coeffs = np.pad(coeffs, (0, degree + 1 - len(coeffs)))[: degree + 1]

    resid_q = fq - npleg.legval(tq, leg)
    rms = float(np.sqrt(max(wq @ resid_q**2, 0.0) / (hi - lo)))
    # kinks and the points just below them: a jump (the step) has its sup error at a one-sided limit
    at_kinks = [k for k in kinks if lo <= k <= hi]
    grid = np.union1d(np.linspace(lo, hi, _GRID_POINTS), at_kinks + [np.nextafter(k, -np.inf) for k in at_kinks if k > lo])
    max_err = float(np.abs(f(grid) - npleg.legval((grid - m) / h, leg)).max())
    roots = _real_roots_in(leg, m, h)
    return Surrogate(activation, degree, (lo, hi), coeffs, max_err, rms, roots, negative_slope, leg)


def _real_roots_in(leg: np.ndarray, m: float, h: float) -> np.ndarray:
    """Real roots in [-1, 1] of the Legendre series (better conditioned than the monomial
    form on wide intervals), mapped back to x."""
    leg = np.trim_zeros(np.asarray(leg, float), "b")
    if len(leg) <= 1:
        return np.zeros(0)
    r = npleg.legroots(leg)
    scale = np.abs(leg).max()
    real = r[np.abs(r.imag) <= 1e-9 * max(1.0, np.abs(r).max())].real
    real = real[(real >= -1 - 1e-12) & (real <= 1 + 1e-12)]
    # a polish step keeps roots accurate when legroots (companion eigenvalues) is not
    der = npleg.legder(leg)
    for _ in range(3):
        dv = npleg.legval(real, der)
        ok = np.abs(dv) > 1e-14 * scale
        real = np.where(ok, real - npleg.legval(real, leg) / np.where(ok, dv, 1.0), real)
    return np.sort(np.clip(m + h * real, m - h, m + h))

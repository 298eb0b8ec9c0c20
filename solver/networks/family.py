"""The family of an architecture: its gradient system with the data, the weight decay and
the surrogate coefficients as parameters.

Every spec of one architecture (layer widths, bias flags, surrogate degree per layer) has a
gradient system ``grad_theta L = 0`` of the same shape: the data enter the loss

    L(theta) = 1/(2N) sum_j ||f(x_j; theta) - y_j||^2 + lambda/2 ||theta||^2
             = sum_o (1/2 E[f_o^2] - E[y_o f_o]) + lambda/2 ||theta||^2 + const

only through the moments ``E[x^b]`` and ``E[y_o x^b]`` (``f`` is a polynomial in ``x``),
and the activation only through the surrogate coefficients ``q_{l,k}`` of
``p_l(z) = sum_k q_{l,k} z^k`` (identity layers: ``p(z) = z``, degree 1, ``q = (0, 1)``).
Collecting all of these in a parameter vector ``P`` gives a family ``F(theta; P)`` with
fixed supports in ``theta``, whose generic member is solved once per architecture; every
other member is then reached by a coefficient-parameter homotopy (Morgan and Sommese,
"Coefficient-parameter polynomial continuation", Appl. Math. Comput. 29, 1989; Sommese
and Wampler, *The Numerical Solution of Systems of Polynomials*, 2005, ch. 7).

Why the coefficients are polynomial, not affine, in ``P``: a coefficient of the network
output is a product of surrogate coefficients of successive layers (``q_{2,1} q_{1,2}`` for
``a w^2 x^2`` through a degree-2 hidden layer), and the squared output multiplies two such
products by a moment. The moments, the target moments and ``lambda`` each enter every
term at most linearly, the ``q`` up to the depth of the composition. A straight line
between the coefficient vectors of two members therefore leaves the family in general
(it mixes products that no ``P`` produces); the homotopy must move ``P`` along
``p(s) = s p0 + (1 - s) p1`` and evaluate the coefficients there: each is then a
polynomial of degree :attr:`NetworkFamily.parameter_degree` in ``s``.

``P`` also holds ``E[1]`` (1 for every spec): the loss is homogeneous of degree one in the
moments, the target moments and ``lambda`` together, so a generic ``E[1]`` is the same
family up to scaling and keeps every data term of the same shape.

The build is symbolic (sympy's sparse polynomial rings over QQ, exact), once per
architecture and memoised; evaluating the coefficients at a ``P`` is one table of
parameter monomials and one sparse matrix product.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple, Union

import numpy as np
import scipy.sparse as sps
import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.rings import PolyElement, PolyRing, ring

from solver.engine.system import Polynomial, System
from solver.errors import LpsError
from solver.networks.spec import NetworkSpec

#: above this many (monomial, parameter, point) entries the monomials are multiplied up
#: parameter by parameter instead of gathered from one table
DENSE_GATHER_LIMIT = 20_000
#: per-layer degrees are written as one digit in the family id
MAX_KEY_DEGREE = 9


class FamilyError(LpsError, ValueError):
    """A family key that describes no network, or parameters of the wrong size."""


class LayerKey(NamedTuple):
    """One layer of a family key: shape, bias flag and surrogate degree (identity: 1)."""

    in_features: int
    out_features: int
    bias: bool
    degree: int


@dataclass(frozen=True)
class FamilyKey:
    """The architecture of a family: nothing of the data or of the activation.

    Attributes
    ----------
    layers : tuple of LayerKey
        In order, as in the spec; consecutive layers chain.
    """

    layers: tuple[LayerKey, ...]

    def __post_init__(self) -> None:
        layers = tuple(LayerKey(int(a), int(b), bool(c), int(d)) for a, b, c, d in self.layers)
        object.__setattr__(self, "layers", layers)
        if not layers:
            raise FamilyError("a family key needs at least one layer")
        for k, l in enumerate(layers):
            if l.in_features < 1 or l.out_features < 1 or not 1 <= l.degree <= MAX_KEY_DEGREE:
                raise FamilyError(f"layer {k} of the family key is invalid: {l}")
            if k and l.in_features != layers[k - 1].out_features:
                raise FamilyError(f"layer {k} has {l.in_features} inputs but layer {k - 1} has {layers[k - 1].out_features} outputs")

    @property
    def widths(self) -> tuple[int, ...]:
        """``(inputs, width of layer 0, width of layer 1, ...)``."""
        return (self.layers[0].in_features,) + tuple(l.out_features for l in self.layers)

    @property
    def id(self) -> str:
        """Stable text id for file names, e.g. ``1-2-1.b11.d21``: widths, bias flags, degrees."""
        bias = "".join("1" if l.bias else "0" for l in self.layers)
        return "-".join(map(str, self.widths)) + f".b{bias}.d" + "".join(str(l.degree) for l in self.layers)

    @classmethod
    def parse(cls, text: str) -> "FamilyKey":
        """The key of an :attr:`id` (raises :class:`FamilyError` on anything else)."""
        try:
            widths_text, bias, degrees = text.split(".")
            widths = [int(w) for w in widths_text.split("-")]
            if not (bias[0] == "b" and degrees[0] == "d" and len(bias) == len(degrees) == len(widths)):
                raise ValueError(text)
            layers = tuple(
                LayerKey(a, b, flag == "1", int(d)) for a, b, flag, d in zip(widths, widths[1:], bias[1:], degrees[1:])
            )
        except (ValueError, IndexError) as err:
            raise FamilyError(f"not a family id: {text!r}") from err
        key = cls(layers)
        if key.id != text:
            raise FamilyError(f"not a canonical family id: {text!r}")
        return key

    @property
    def x_degree(self) -> int:
        """Degree of the network output in its input: the product of the layer degrees."""
        return int(np.prod([l.degree for l in self.layers]))

    def variables(self) -> tuple[str, ...]:
        """Parameter names in state_dict order: ``W{layer}_{row}_{col}``, ``b{layer}_{row}``."""
        names: list[str] = []
        for k, l in enumerate(self.layers):
            names += [f"W{k}_{r}_{c}" for r in range(l.out_features) for c in range(l.in_features)]
            if l.bias:
                names += [f"b{k}_{r}" for r in range(l.out_features)]
        return tuple(names)


def family_key(spec: NetworkSpec) -> FamilyKey:
    """The family of a spec: its widths, bias flags and per-layer surrogate degree."""
    return FamilyKey(
        tuple(
            LayerKey(l.in_features, l.out_features, l.bias, 1 if l.activation == "identity" else spec.surrogate.degree)
            for l in spec.layers
        )
    )


# -- the parameter vector ------------------------------------------------------------------
@dataclass(frozen=True)
class _Layout:
    """Where each parameter sits in ``P``: moments, target moments, lambda, surrogates."""

    moments: tuple[tuple[int, ...], ...]  # multi-indices b of E[x^b], |b| <= 2 D
    targets: tuple[tuple[int, ...], ...]  # multi-indices b of E[y_o x^b], |b| <= D
    n_outputs: int
    q_offsets: tuple[int, ...]  # start of layer l's (q_{l,0}, ..., q_{l,d}); last = n

    @property
    def target_offset(self) -> int:
        return len(self.moments)

    @property
    def decay_index(self) -> int:
        return len(self.moments) + self.n_outputs * len(self.targets)

    @property
    def n_parameters(self) -> int:
        return self.q_offsets[-1]


def _multi_indices(n: int, max_degree: int) -> tuple[tuple[int, ...], ...]:
    """All exponent vectors of ``n`` variables up to ``max_degree``, by degree."""
    out = []
    for t in range(max_degree + 1):
        for combo in itertools.combinations_with_replacement(range(n), t):
            out.append(tuple(int(v) for v in np.bincount(np.array(combo, dtype=np.int64), minlength=n)))
    return tuple(out)


def _layout(key: FamilyKey) -> _Layout:
    D, n_in = key.x_degree, key.widths[0]
    moments, targets = _multi_indices(n_in, 2 * D), _multi_indices(n_in, D)
    start = len(moments) + key.widths[-1] * len(targets) + 1
    offsets = [start]
    for l in key.layers:
        offsets.append(offsets[-1] + l.degree + 1)
    return _Layout(moments, targets, key.widths[-1], tuple(offsets))


def _monomial_name(b: tuple[int, ...], prefix: str = "") -> str:
    parts = [prefix] if prefix else []
    parts += [f"x{i}" + (f"^{e}" if e > 1 else "") for i, e in enumerate(b) if e]
    return "E[" + ("*".join(parts) or "1") + "]"


def _parameter_names(key: FamilyKey, layout: _Layout) -> tuple[str, ...]:
    names = [_monomial_name(b) for b in layout.moments]
    names += [_monomial_name(b, f"y{o}") for o in range(layout.n_outputs) for b in layout.targets]
    names.append("lambda")
    names += [f"q{k}_{j}" for k, l in enumerate(key.layers) for j in range(l.degree + 1)]
    return tuple(names)


def parameters_of(spec: NetworkSpec) -> np.ndarray:
    """The real parameter vector ``P`` of a spec (see :attr:`NetworkFamily.parameter_names`).

    Parameters
    ----------
    spec : NetworkSpec
        Needs targets (``data.y``).

    Returns
    -------
    float ndarray, shape (n_parameters,)
        Moments ``E[x^b]``, target moments ``E[y_o x^b]`` (output-major), ``lambda`` and
        every layer's surrogate coefficients ``q_{l,0..d}`` (identity: ``(0, 1)``).
    """
    key = family_key(spec)
    layout = _layout(key)
    x, y = spec.data.x_array(), spec.data.y_array()
    powers = np.prod(x[:, None, :] ** np.array(layout.moments)[None], axis=2)  # (N, moments)
    xb = np.prod(x[:, None, :] ** np.array(layout.targets)[None], axis=2)  # (N, targets)
    q = []
    for l, s in zip(key.layers, spec.surrogates()):
        c = np.zeros(l.degree + 1)
        top = min(l.degree + 1, s.coefficients.shape[0])
        c[:top] = s.coefficients[:top]
        q.append(c)
    return np.concatenate([powers.mean(axis=0), (y.T @ xb / x.shape[0]).reshape(-1), [spec.weight_decay], *q])


def random_parameters(family: "NetworkFamily", rng: np.random.Generator) -> np.ndarray:
    """Generic complex parameters (standard complex normal entries) for the generic solve."""
    n = family.n_parameters
    return (rng.normal(size=n) + 1j * rng.normal(size=n)) / np.sqrt(2.0)


# -- the family ----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class NetworkFamily:
    """The gradient system of an architecture with polynomial coefficients in ``P``.

    Attributes
    ----------
    key : FamilyKey
    parameter_names : tuple of str
        ``E[1]``, ``E[x0]``, ..., ``E[y0]``, ``E[y0*x0]``, ..., ``lambda``, ``q{layer}_{k}``.
    variables : tuple of str
        ``theta`` in state_dict order, the names of the spec's gradient system.
    supports : tuple of int64 ndarray
        Per equation (one per variable, ``dL/dtheta_i``) the exponent rows (terms, n_theta).
    monomials : int64 ndarray, shape (M, n_parameters)
        The parameter monomials the coefficients are combinations of.
    matrix : scipy.sparse.csr_matrix, shape (all terms, M)
        Row ``t`` holds coefficient ``t`` (equations stacked) as a combination of monomials.
    offsets : int64 ndarray
        Equation ``i`` owns rows ``offsets[i]:offsets[i+1]``.
    """

    key: FamilyKey
    parameter_names: tuple[str, ...]
    variables: tuple[str, ...]
    supports: tuple[np.ndarray, ...]
    monomials: np.ndarray
    matrix: sps.csr_matrix
    offsets: np.ndarray

    @property
    def n_parameters(self) -> int:
        return len(self.parameter_names)

    @property
    def parameter_degree(self) -> int:
        """Maximum total degree in ``P`` of a coefficient."""
        return int(self.monomials.sum(axis=1).max(initial=0))

    def flat_coefficients(self, P: np.ndarray) -> np.ndarray:
        """All coefficients at ``P``, equations stacked (see :attr:`offsets`).

        Parameters
        ----------
        P : array, shape (n_parameters,) or (k, n_parameters)
            One parameter point or k of them.

        Returns
        -------
        complex ndarray, shape (terms,) or (k, terms)
        """
        pts = np.atleast_2d(np.asarray(P, dtype=np.complex128))
        if pts.ndim != 2 or pts.shape[1] != self.n_parameters:
            raise FamilyError(f"family {self.key.id} has {self.n_parameters} parameters, got shape {np.shape(P)}")
        out = (self.matrix @ self._monomial_values(pts)).T
        return out[0] if np.ndim(P) == 1 else out

    def _monomial_values(self, pts: np.ndarray) -> np.ndarray:
        """The parameter monomials at k points, shape (M, k): one gather of an (M, n, k)
        table when it is small (fastest for one point), else one pass per parameter over
        the monomials that contain it (the table would not fit for deep families)."""
        top = int(self.monomials.max(initial=0))
        # a table of powers P_v^e beats P ** monomials on repeated exponents
        powers = np.ones((top + 1,) + pts.shape, np.complex128)
        for e in range(1, top + 1):
            powers[e] = powers[e - 1] * pts
        if self.monomials.size * pts.shape[0] <= DENSE_GATHER_LIMIT:
            return np.prod(powers[self.monomials, :, np.arange(pts.shape[1])], axis=1)
        mono = np.ones((self.monomials.shape[0], pts.shape[0]), np.complex128)
        for v, rows, exps in self._factors:
            mono[rows] *= powers[exps, :, v]
        return mono

    @cached_property
    def _factors(self) -> tuple[tuple[int, np.ndarray, np.ndarray], ...]:
        """Per parameter ``v`` in some monomial: those monomials' rows and exponents of ``v``."""
        out = []
        for v in range(self.monomials.shape[1]):
            rows = np.flatnonzero(self.monomials[:, v])
            if rows.size:
                out.append((v, rows, self.monomials[rows, v]))
        return tuple(out)

    def coefficients(self, P: np.ndarray) -> list[np.ndarray]:
        """Per equation the complex coefficients at one point ``P`` (n_parameters,),
        aligned with :attr:`supports`."""
        if np.ndim(P) != 1:
            raise FamilyError(f"coefficients takes one parameter point, got shape {np.shape(P)}: use flat_coefficients for many")
        return np.split(self.flat_coefficients(P), self.offsets[1:-1])

    def system(self, P: np.ndarray) -> System:
        """The member at ``P`` (terms whose coefficient is exactly zero are dropped)."""
        polys = tuple(Polynomial(c, e) for c, e in zip(self.coefficients(P), self.supports))
        return System(polys, self.variables)


def _polynomial_ring(key: FamilyKey, layout: _Layout) -> PolyRing:
    """Generators: theta, then P, then the inputs x."""
    names = [f"t{i}" for i in range(len(key.variables()))]
    names += [f"p{i}" for i in range(layout.n_parameters)] + [f"x{i}" for i in range(key.widths[0])]
    return ring(sp.symbols(names), QQ)[0]


def _network_outputs(R: PolyRing, key: FamilyKey, layout: _Layout) -> list[PolyElement]:
    """``f_o(x; theta, q)`` layer by layer, ``p_l`` by Horner's rule."""
    gens, theta = R.gens, {v: i for i, v in enumerate(key.variables())}
    n_theta = len(theta)
    h = list(gens[n_theta + layout.n_parameters :])
    for k, l in enumerate(key.layers):
        q = gens[n_theta + layout.q_offsets[k] : n_theta + layout.q_offsets[k + 1]]
        nxt = []
        for r in range(l.out_features):
            z = sum((gens[theta[f"W{k}_{r}_{c}"]] * h[c] for c in range(l.in_features)), R.zero)
            if l.bias:
                z += gens[theta[f"b{k}_{r}"]]
            acc = q[-1]
            for c in q[-2::-1]:
                acc = acc * z + c
            nxt.append(acc)
        h = nxt
    return h


def _expectation(R: PolyRing, f: PolyElement, index: dict[tuple[int, ...], int], n_in: int) -> PolyElement:
    """Replace ``x^b`` by the parameter generator ``index[b]`` (the mean over the data)."""
    out: dict[tuple[int, ...], object] = {}
    for monom, c in f.items():
        m = list(monom[: len(monom) - n_in]) + [0] * n_in
        m[index[monom[len(monom) - n_in :]]] += 1
        m = tuple(m)
        out[m] = out.get(m, QQ.zero) + c
    return R.from_dict(out)


def _loss(R: PolyRing, key: FamilyKey, layout: _Layout) -> PolyElement:
    """``sum_o (E[f_o^2] / 2 - E[y_o f_o]) + lambda/2 ||theta||^2`` over ``(theta, P)``."""
    n_theta, n_in = len(key.variables()), key.widths[0]
    moments = {b: n_theta + i for i, b in enumerate(layout.moments)}
    loss = R.zero
    for o, f in enumerate(_network_outputs(R, key, layout)):
        first = n_theta + layout.target_offset + o * len(layout.targets)
        targets = {b: first + i for i, b in enumerate(layout.targets)}
        loss += _expectation(R, f * f, moments, n_in) * QQ(1, 2) - _expectation(R, f, targets, n_in)
    decay = R.gens[n_theta + layout.decay_index]
    return loss + decay * sum((t * t for t in R.gens[:n_theta]), R.zero) * QQ(1, 2)


def _compile(gradient: list[PolyElement], n_theta: int, n_params: int) -> tuple:
    """Supports, parameter monomials, coefficient matrix and offsets of the equations."""
    monomial_index: dict[tuple[int, ...], int] = {}
    supports, rows, cols, vals, offsets = [], [], [], [], [0]
    for g in gradient:
        terms: dict[tuple[int, ...], list] = {}
        for monom, c in g.items():
            terms.setdefault(monom[:n_theta], []).append((monom[n_theta : n_theta + n_params], float(c)))
        support = sorted(terms)
        for t, a in enumerate(support):
            for pm, c in terms[a]:
                rows.append(offsets[-1] + t)
                cols.append(monomial_index.setdefault(pm, len(monomial_index)))
                vals.append(c)
        supports.append(np.array(support, dtype=np.int64).reshape(len(support), n_theta))
        offsets.append(offsets[-1] + len(support))
    monomials = np.array(list(monomial_index), dtype=np.int64).reshape(len(monomial_index), n_params)
    matrix = sps.csr_matrix((vals, (rows, cols)), shape=(offsets[-1], len(monomial_index)))
    return tuple(supports), monomials, matrix, np.array(offsets, dtype=np.int64)


def _read_only(*arrays: np.ndarray) -> None:
    # the family is shared by every caller of its key (memoised): nobody may edit it
    for a in arrays:
        a.flags.writeable = False


@functools.lru_cache(maxsize=None)
def _family_for_key(key: FamilyKey) -> NetworkFamily:
    """Expand the loss over ``(theta, P, x)``, average over ``x``, differentiate, compile."""
    layout = _layout(key)
    R = _polynomial_ring(key, layout)
    n_theta = len(key.variables())
    loss = _loss(R, key, layout)
    gradient = [loss.diff(R.gens[i]) for i in range(n_theta)]
    supports, monomials, matrix, offsets = _compile(gradient, n_theta, layout.n_parameters)
    _read_only(*supports, monomials, offsets, matrix.data, matrix.indices, matrix.indptr)
    return NetworkFamily(key, _parameter_names(key, layout), key.variables(), supports, monomials, matrix, offsets)


def family_of(spec_or_key: Union[NetworkSpec, FamilyKey]) -> NetworkFamily:
    """The family of a spec or key, built symbolically once per key (memoised).

    Parameters
    ----------
    spec_or_key : NetworkSpec or FamilyKey

    Returns
    -------
    NetworkFamily
        The same object for every spec of one architecture.
    """
    key = spec_or_key if isinstance(spec_or_key, FamilyKey) else family_key(spec_or_key)
    return _family_for_key(key)

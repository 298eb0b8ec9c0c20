"""Sparse polynomial systems: the object every other module of the engine works on.

A :class:`Polynomial` is a list of terms ``c * x^a`` (complex coefficients, integer
exponent rows); a :class:`System` is a tuple of them over named variables, built from
sympy expressions or directly from arrays, and evaluated with its Jacobian by the Numba
kernels of :mod:`solver.engine.evaluation`, for many points at once. A system does no
I/O: PHCpack's text format is read and written by :mod:`solver.engine.formats.phc`
(:func:`~solver.engine.formats.phc.parse_system`,
:func:`~solver.engine.formats.phc.format_system`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Sequence

import numpy as np

from solver.errors import LpsError


class InvalidSystem(LpsError, ValueError):
    """A system that the engine cannot take (not square, empty, malformed)."""


@dataclass(frozen=True, eq=False)
class Polynomial:
    """One polynomial ``sum_k coefficients[k] * prod_j x_j ** exponents[k, j]``.

    Attributes
    ----------
    coefficients : ndarray of complex128, shape (m,)
    exponents : ndarray of int64, shape (m, n)
        Exponent rows are unique; zero coefficients are dropped.
    """

    coefficients: np.ndarray
    exponents: np.ndarray

    def __post_init__(self) -> None:
        c = np.asarray(self.coefficients, dtype=np.complex128).reshape(-1)
        e = np.asarray(self.exponents, dtype=np.int64)
        if e.ndim != 2 or e.shape[0] != c.shape[0]:
            raise InvalidSystem("exponents must have one row per coefficient")
        if (e < 0).any():
            raise InvalidSystem("negative exponents are not polynomial")
        # merge repeated monomials, drop exact zeros: one canonical form
        if e.shape[0]:
            rows, inverse = np.unique(e, axis=0, return_inverse=True)
            merged = np.zeros(rows.shape[0], dtype=np.complex128)
            np.add.at(merged, inverse.reshape(-1), c)
            keep = merged != 0
            c, e = merged[keep], rows[keep]
        object.__setattr__(self, "coefficients", c)
        object.__setattr__(self, "exponents", e)

    @property
    def n_terms(self) -> int:
        return int(self.coefficients.shape[0])

    @property
    def degree(self) -> int:
        return int(self.exponents.sum(axis=1).max()) if self.n_terms else 0


@dataclass(frozen=True, eq=False)
class System:
    """A polynomial system ``f_1 = ... = f_m = 0`` in named variables.

    Parameters
    ----------
    polynomials : sequence of Polynomial
    variables : sequence of str
        Variable names; column ``j`` of every exponent matrix belongs to ``variables[j]``.
    """

    polynomials: tuple[Polynomial, ...]
    variables: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "polynomials", tuple(self.polynomials))
        object.__setattr__(self, "variables", tuple(self.variables))
        if len(set(self.variables)) != len(self.variables):
            raise InvalidSystem("variable names must be distinct")
        for p in self.polynomials:
            if p.exponents.shape[1] != len(self.variables):
                raise InvalidSystem("every polynomial needs one exponent column per variable")

    # -- shape -----------------------------------------------------------------------
    @property
    def n_equations(self) -> int:
        return len(self.polynomials)

    @property
    def n_variables(self) -> int:
        return len(self.variables)

    @property
    def is_square(self) -> bool:
        return self.n_equations == self.n_variables

    @cached_property
    def degrees(self) -> np.ndarray:
        """Total degree of each equation, int64 array."""
        return np.array([p.degree for p in self.polynomials], dtype=np.int64)

    @property
    def total_degree(self) -> int:
        """Bezout number: the product of the degrees (a Python int, never overflows)."""
        out = 1
        for d in self.degrees:
            out *= int(d)
        return out

    def require_square(self) -> None:
        """Raise :class:`InvalidSystem` unless the system is square and non-empty."""
        if self.n_equations == 0:
            raise InvalidSystem("the system has no equations")
        if not self.is_square:
            raise InvalidSystem(
                f"the system is not square: {self.n_equations} equations in "
                f"{self.n_variables} unknowns"
            )
        for i, p in enumerate(self.polynomials):
            if p.n_terms == 0:
                raise InvalidSystem(f"equation {i + 1} is identically zero")

    # -- packed form for the kernels ----------------------------------------------------
    @cached_property
    def packed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(coefficients, exponents, offsets)``: all terms stacked, equation i owning
        rows ``offsets[i]:offsets[i+1]``. The layout the Numba kernels read."""
        coeffs = np.concatenate([p.coefficients for p in self.polynomials]) if self.polynomials else np.zeros(0, np.complex128)
        exps = (
            np.vstack([p.exponents for p in self.polynomials])
            if self.polynomials
            else np.zeros((0, self.n_variables), np.int64)
        )
        offsets = np.zeros(self.n_equations + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([p.n_terms for p in self.polynomials])
        return np.ascontiguousarray(coeffs), np.ascontiguousarray(exps), offsets

    # -- evaluation -------------------------------------------------------------------
    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Values at one point (shape (n,)) or many (shape (P, n))."""
        from solver.engine.evaluation import evaluate_many

        pts = np.atleast_2d(np.asarray(x, dtype=np.complex128))
        c, e, o = self.packed
        out = evaluate_many(c, e, o, pts)
        return out[0] if np.ndim(x) == 1 else out

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """Jacobian at one point (shape (m, n)) or many (shape (P, m, n))."""
        from solver.engine.evaluation import jacobian_many

        pts = np.atleast_2d(np.asarray(x, dtype=np.complex128))
        c, e, o = self.packed
        out = jacobian_many(c, e, o, pts)
        return out[0] if np.ndim(x) == 1 else out

    def relative_residuals(self, x: np.ndarray) -> np.ndarray:
        """Per-equation relative residual ``|f_i(x)| / sum_k |c_k x^a_k|`` (DESIGN.md: absolute
        residuals mean nothing when coefficients span many magnitudes). The denominator is
        floored at ``1e-14 * max_k |c_k|`` so that an equation whose terms all vanish at x
        counts as satisfied rather than 0/0."""
        from solver.engine.evaluation import residual_scales_many

        pts = np.atleast_2d(np.asarray(x, dtype=np.complex128))
        c, e, o = self.packed
        values = np.abs(self(pts))
        scale = residual_scales_many(c, e, o, pts)
        # where every term vanishes (zero coordinates) the ratio is 0/0: floor the scale at
        # the rounding level of the equation's largest coefficient
        floor = 1e-14 * np.array([np.abs(q.coefficients).max(initial=1.0) for q in self.polynomials])
        out = values / np.maximum(scale, floor)
        return out[0] if np.ndim(x) == 1 else out

    # -- constructors and conversions ---------------------------------------------------------
    @classmethod
    def from_sympy(cls, expressions: Iterable, variables: Sequence | None = None) -> "System":
        """Build from sympy expressions (``f = 0`` each) in the given variable order, or in
        the order of first appearance when ``variables`` is None."""
        import sympy as sp

        exprs = [sp.expand(sp.sympify(e)) for e in expressions]
        if variables is None:
            seen: list = []
            for e in exprs:
                for s in sorted(e.free_symbols, key=lambda s: s.sort_key()):
                    if s not in seen:
                        seen.append(s)
            variables = seen
        syms = [sp.Symbol(v) if isinstance(v, str) else v for v in variables]
        polys = []
        for e in exprs:
            extra = e.free_symbols - set(syms)
            if extra:
                raise InvalidSystem(f"unknown symbols {sorted(map(str, extra))} in {e}")
            if not syms:
                raise InvalidSystem("a system needs at least one variable")
            terms = sp.Poly(e, *syms).terms()
            exps = np.array([t[0] for t in terms], dtype=np.int64).reshape(len(terms), len(syms))
            coeffs = np.array([complex(t[1]) for t in terms], dtype=np.complex128)
            polys.append(Polynomial(coeffs, exps))
        return cls(tuple(polys), tuple(str(s) for s in syms))

    def to_sympy(self) -> list:
        import sympy as sp

        syms = sp.symbols(self.variables)
        syms = syms if isinstance(syms, tuple) else (syms,)
        out = []
        for p in self.polynomials:
            expr = 0
            for c, a in zip(p.coefficients, p.exponents):
                coeff = sp.Float(c.real) + sp.I * sp.Float(c.imag) if c.imag else sp.Float(c.real)
                expr += coeff * sp.Mul(*[s**int(k) for s, k in zip(syms, a)])
            out.append(expr)
        return out

    def renamed(self, variables: Sequence[str]) -> "System":
        """The same polynomials under other variable names."""
        return System(self.polynomials, tuple(variables))

    def scaled(self) -> "System":
        """Each equation divided by its largest coefficient modulus (same solutions)."""
        polys = []
        for p in self.polynomials:
            m = np.abs(p.coefficients).max() if p.n_terms else 1.0
            polys.append(Polynomial(p.coefficients / m, p.exponents))
        return System(tuple(polys), self.variables)

    def __repr__(self) -> str:
        return f"System({self.n_equations} equations, variables={list(self.variables)}, degrees={self.degrees.tolist()})"

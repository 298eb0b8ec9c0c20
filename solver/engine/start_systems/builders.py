"""Start systems and their solutions: total degree, linear product, polyhedral.

Total-degree and linear-product starts are products of linear forms with random complex
coefficients (:class:`ProductStart`); each start solution is one small linear solve,
batched with NumPy. The polyhedral start is PHCpack's random-coefficient system and its
solutions (:class:`SparseStart`), computed by phcpy's polyhedral homotopy and then
tracked by our own tracker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from solver.engine.start_systems.set_structure import SetStructure, bezout_count, enumerate_choices
from solver.engine.system import System


@dataclass
class ProductStart:
    """``G_i = prod_k (lin[i, k, 0] * x0 + sum_v lin[i, k, 1 + v] * x_v)``, homogeneous.

    Attributes
    ----------
    kind : str
        ``"total-degree"`` or ``"linear-product"``.
    structure : SetStructure
    lin : complex ndarray (n, max factors, n + 1)
        Coefficients of each factor on (x0, x1, ..., xn); zero outside the factor's set.
    count : int
        Number of start solutions (the generalised Bezout number).
    root_counts : dict
        Counts seen while choosing this start (filled by :func:`solver.engine.solve.choose_start`).
    """

    kind: str
    structure: SetStructure
    lin: np.ndarray
    count: int
    root_counts: dict = field(default_factory=dict)

    @property
    def n_factors(self) -> np.ndarray:
        return self.structure.n_factors

    def solutions(self, chunk: int = 65536) -> Iterator[np.ndarray]:
        """Affine start solutions in chunks of shape (rows, n)."""
        n = self.lin.shape[0]
        eq = np.arange(n)
        for choices in enumerate_choices(self.structure, chunk):
            rows = self.lin[eq[None, :], choices]  # (P, n, n + 1)
            with np.errstate(all="ignore"):
                x = np.linalg.solve(rows[..., 1:], -rows[..., 0:1])[..., 0]
            yield x


@dataclass
class SparseStart:
    """A start system with the target's supports and its solutions (polyhedral)."""

    kind: str
    system: System
    start_solutions: np.ndarray
    count: int
    root_counts: dict = field(default_factory=dict)

    def solutions(self, chunk: int = 65536) -> Iterator[np.ndarray]:
        for k in range(0, self.count, chunk):
            yield self.start_solutions[k : k + chunk]


def total_degree_start(system: System, rng: np.random.Generator) -> ProductStart:
    """``x_i^{d_i} - c_i = 0`` as the product of ``x_i - r_ik x0`` over the d_i-th roots
    ``r_ik`` of a random unit complex ``c_i``: every choice of factors is a start solution."""
    n = system.n_variables
    degrees = system.degrees
    lin = np.zeros((n, max(int(degrees.max()), 1), n + 1), dtype=np.complex128)
    for i, d in enumerate(degrees):
        phase = rng.uniform(0, 2 * np.pi)
        roots = np.exp(1j * (phase + 2 * np.pi * np.arange(d)) / d)
        lin[i, :d, 0] = -roots
        lin[i, :d, 1 + i] = 1.0
    structure = SetStructure(tuple((frozenset([i]),) * int(d) for i, d in enumerate(degrees)), n)
    return ProductStart("total-degree", structure, lin, system.total_degree)


def linear_product_start(system: System, structure: SetStructure, rng: np.random.Generator, count: int | None = None) -> ProductStart:
    """Random complex coefficients on each set of ``structure``."""
    n = system.n_variables
    D = int(structure.n_factors.max())
    lin = np.zeros((n, D, n + 1), dtype=np.complex128)
    for i, eq in enumerate(structure.sets):
        for k, s in enumerate(eq):
            idx = [0] + [1 + v for v in sorted(s)]
            lin[i, k, idx] = np.exp(2j * np.pi * rng.uniform(size=len(idx)))
    return ProductStart("linear-product", structure, lin, bezout_count(structure) if count is None else count)


def polyhedral_start(system: System, seed: int) -> SparseStart:
    """PHCpack's random-coefficient start system, solved by its polyhedral homotopy."""
    from solver.engine.backends.phcpack import phcpy_random_coefficient_start

    start_system, sols = phcpy_random_coefficient_start(system, seed=seed)
    return SparseStart("polyhedral", start_system, sols, int(sols.shape[0]))


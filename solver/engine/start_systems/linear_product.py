"""Linear-product start systems: each start equation a product of linear forms with
random complex coefficients on the sets of a set structure (Verschelde and Cools,
"Symbolic homotopy construction", Applicable Algebra in Engineering, Communication and
Computing 4, 1993; Sommese and Wampler, *The Numerical Solution of Systems of
Polynomials*, 2005, ch. 8).

Choosing one factor per equation gives a linear system; each of its solutions is one
start solution, computed by a batched NumPy solve. :class:`ProductStart` also carries the
total-degree start (:mod:`.total_degree`), the product structure with one variable per
factor.
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
        Counts seen while choosing this start (filled by
        :func:`solver.engine.start_systems.choice.choose_start`).
    """

    kind: str
    structure: SetStructure
    lin: np.ndarray
    count: int
    root_counts: dict = field(default_factory=dict)

    @property
    def n_factors(self) -> np.ndarray:
        """Number of linear factors of each start equation, int64 (n,)."""
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


def linear_product_start(system: System, structure: SetStructure, rng: np.random.Generator, count: int | None = None) -> ProductStart:
    """Random unit complex coefficients on each set of ``structure`` (and on ``x0``).

    ``count``, when known, saves recounting the structure's Bezout number."""
    n = system.n_variables
    D = int(structure.n_factors.max())
    lin = np.zeros((n, D, n + 1), dtype=np.complex128)
    for i, eq in enumerate(structure.sets):
        for k, s in enumerate(eq):
            idx = [0] + [1 + v for v in sorted(s)]
            lin[i, k, idx] = np.exp(2j * np.pi * rng.uniform(size=len(idx)))
    return ProductStart("linear-product", structure, lin, bezout_count(structure) if count is None else count)

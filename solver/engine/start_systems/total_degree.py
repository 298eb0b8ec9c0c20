"""The total-degree start system ``x_i^{d_i} - c_i = 0`` (Sommese and Wampler, *The
Numerical Solution of Systems of Polynomials*, 2005, ch. 8): ``prod d_i`` start solutions,
each a choice of one ``d_i``-th root of ``c_i`` per equation. Written as a product of
linear factors ``x_i - r_ik x0``, it runs through the same kernels as a linear product.
"""

from __future__ import annotations

import numpy as np

from solver.engine.start_systems.linear_product import ProductStart
from solver.engine.start_systems.set_structure import SetStructure
from solver.engine.system import System


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

"""Which start system to track from, and the refusal of one with too many paths.

``"auto"`` takes the one of the total-degree start and the best linear-product start
(:func:`~solver.engine.start_systems.set_structure.best_structure`) with fewer paths.
Polyhedral starts are taken only on request: they miss solutions with zero coordinates
(DESIGN.md). The path count is known before any tracking, so a start system with more
paths than ``max_paths`` is refused up front (:class:`TooManyPaths`).
"""

from __future__ import annotations

import numpy as np

from solver.engine.start_systems.linear_product import ProductStart, linear_product_start
from solver.engine.start_systems.polyhedral import SparseStart, polyhedral_start
from solver.engine.start_systems.set_structure import SetStructure, best_structure, bezout_count
from solver.engine.start_systems.total_degree import total_degree_start
from solver.engine.system import InvalidSystem, System

#: the start systems :func:`choose_start` builds
STARTS = ("auto", "total-degree", "linear-product", "polyhedral")

StartSystem = ProductStart | SparseStart


class TooManyPaths(InvalidSystem):
    """The start system has more paths than ``max_paths``; raised before any tracking."""

    def __init__(self, count: int, max_paths: int, start: str, counts: dict | None = None):
        self.count, self.max_paths, self.start, self.counts = count, max_paths, start, counts or {}
        extra = ", ".join(f"{k} {v}" for k, v in self.counts.items() if v is not None)
        super().__init__(
            f"the {start} start system has {count} paths, more than max_paths={max_paths}"
            + (f" (root counts: {extra})" if extra else "")
        )


def refuse_too_many(count: int, max_paths: int, start: str, counts: dict | None = None) -> None:
    """Raise :class:`TooManyPaths` when ``count`` paths exceed ``max_paths``."""
    if count > max_paths:
        raise TooManyPaths(count, max_paths, start, counts)


def mixed_volume_count(system: System) -> int | None:
    """phcpy's mixed volume, or None without phcpy."""
    try:
        from solver.engine.backends.phcpack import phcpy_available, phcpy_root_counts
    except ImportError:
        return None
    return phcpy_root_counts(system)["mixed_volume"] if phcpy_available() else None


def product_start(system: System, start: str, rng: np.random.Generator, structure: SetStructure, count: int) -> ProductStart:
    """The total-degree or the linear-product start on ``structure`` (of Bezout number
    ``count``): ``"auto"`` takes the one with fewer paths. ``root_counts`` holds both counts."""
    if start == "total-degree" or (start == "auto" and count >= system.total_degree):
        chosen = total_degree_start(system, rng)
    else:
        chosen = linear_product_start(system, structure, rng, count)
    chosen.root_counts = {"total_degree": system.total_degree, "linear_product": count, "mixed_volume": None}
    return chosen


def choose_start(
    system: System,
    start: str,
    rng: np.random.Generator,
    seed: int,
    set_structure: SetStructure | None = None,
) -> StartSystem:
    """Build the start system named by ``start`` (one of :data:`STARTS`); its
    ``root_counts`` holds the counts seen on the way (total degree, linear product, mixed
    volume where computed).

    ``set_structure`` replaces the best structure found by
    :func:`~solver.engine.start_systems.set_structure.best_structure`; ``seed`` seeds
    phcpy for the polyhedral start.
    """
    if start not in STARTS:
        raise InvalidSystem(f"unknown start system {start!r}; choose from {', '.join(STARTS)}")
    if start == "polyhedral":
        chosen = polyhedral_start(system, seed)
        chosen.root_counts = {"total_degree": system.total_degree, "linear_product": None, "mixed_volume": chosen.count}
        return chosen
    if set_structure is not None:
        if not set_structure.covers(system):
            i, a = set_structure.uncovered(system)[0]
            raise InvalidSystem(f"the set structure does not cover monomial {a} of equation {i + 1}")
        structure, count = set_structure, bezout_count(set_structure)
    else:
        structure, count, _ = best_structure(system)
    return product_start(system, start, rng, structure, count)

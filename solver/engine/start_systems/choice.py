"""Which start system to track from, and the refusal of one with too many paths.

``"auto"`` takes the one of the total-degree start and the best linear-product start
(:func:`~solver.engine.start_systems.set_structure.best_structure`) with fewer paths.
Polyhedral starts are taken only on request: they miss solutions with zero coordinates
(DESIGN.md). The path count is known before any start solution is computed, so a start
system with more paths than ``max_paths`` is refused up front (:class:`TooManyPaths`): the
total degree from the degrees alone, the linear-product count from a structure search
under a work budget, the mixed volume before phcpy computes a polyhedral start solution.
"""

from __future__ import annotations

import numpy as np

from solver.engine.start_systems.linear_product import ProductStart, linear_product_start
from solver.engine.start_systems.polyhedral import SparseStart, polyhedral_start
from solver.engine.start_systems.set_structure import SEARCH_STOPPED, SetStructure, best_structure, bezout_count
from solver.engine.start_systems.total_degree import total_degree_start
from solver.engine.system import InvalidSystem, System

#: the start systems :func:`choose_start` builds
STARTS = ("auto", "total-degree", "linear-product", "polyhedral")

StartSystem = ProductStart | SparseStart


class TooManyPaths(InvalidSystem):
    """The start system has more paths than ``max_paths``; raised before any tracking."""

    def __init__(self, count: int, max_paths: int, start: str, counts: dict | None = None):
        self.count, self.max_paths, self.start, self.counts = count, max_paths, start, counts or {}
        extra = ", ".join(f"{k} {_show(v)}" for k, v in self.counts.items() if v is not None)
        super().__init__(
            f"the {start} start system has {_show(count)} paths, more than max_paths={max_paths}"
            + (f" (root counts: {extra})" if extra else "")
        )


def _show(v: object) -> str:
    """A count as text; one of thousands of digits (a total degree) as its magnitude."""
    if isinstance(v, int) and v.bit_length() > 200:
        return f"about 10^{int(v.bit_length() * 0.30103)}"
    return str(v)


def refuse_too_many(count: int, max_paths: int, start: str, counts: dict | None = None) -> None:
    """Raise :class:`TooManyPaths` when ``count`` paths exceed ``max_paths``."""
    if count > max_paths:
        raise TooManyPaths(count, max_paths, start, counts)


def mixed_volume_count(system: System) -> int | None:
    """phcpy's mixed volume, or None without phcpy. (Only MixedVol: PHCpack's
    linear-product count, which phcpy_root_counts also runs, can abort the process with a
    STORAGE_ERROR on high degrees such as x^300.)"""
    try:
        from solver.engine.backends.phcpack import phcpy_available, phcpy_mixed_volume
    except ImportError:
        return None
    return phcpy_mixed_volume(system) if phcpy_available() else None


def product_start(system: System, start: str, rng: np.random.Generator, structure: SetStructure, count: int, search: str = "") -> ProductStart:
    """The total-degree or the linear-product start on ``structure`` (of Bezout number
    ``count``): ``"auto"`` takes the one with fewer paths. ``root_counts`` holds both counts,
    and ``structure_search`` when the search's budget stopped it (``search``: the name
    :func:`~solver.engine.start_systems.set_structure.best_structure` gave)."""
    if start == "total-degree" or (start == "auto" and count >= system.total_degree):
        chosen = total_degree_start(system, rng)
    else:
        chosen = linear_product_start(system, structure, rng, count)
    chosen.root_counts = {"total_degree": system.total_degree, "linear_product": count, "mixed_volume": None}
    if SEARCH_STOPPED in search:
        chosen.root_counts["structure_search"] = search
    return chosen


def choose_start(
    system: System,
    start: str,
    rng: np.random.Generator,
    seed: int,
    set_structure: SetStructure | None = None,
    max_paths: int | None = None,
) -> StartSystem:
    """Build the start system named by ``start`` (one of :data:`STARTS`); its
    ``root_counts`` holds the counts seen on the way (total degree, linear product, mixed
    volume where computed).

    ``set_structure`` replaces the best structure found by
    :func:`~solver.engine.start_systems.set_structure.best_structure`; ``seed`` seeds
    phcpy for the polyhedral start. With ``max_paths``, a start with more paths is
    refused (:class:`TooManyPaths`) before any start solution is computed: the total
    degree is compared first (it decides the total-degree start), the mixed volume before
    phcpy solves the polyhedral start.
    """
    if start not in STARTS:
        raise InvalidSystem(f"unknown start system {start!r}; choose from {', '.join(STARTS)}")
    if start == "polyhedral":
        return _polyhedral(system, seed, max_paths)
    if start == "total-degree" and max_paths is not None:
        refuse_too_many(system.total_degree, max_paths, start, {"total_degree": system.total_degree})
    search = ""
    if set_structure is not None:
        if not set_structure.covers(system):
            i, a = set_structure.uncovered(system)[0]
            raise InvalidSystem(f"the set structure does not cover monomial {a} of equation {i + 1}")
        structure, count = set_structure, bezout_count(set_structure)
    else:
        structure, count, search = best_structure(system)
    if max_paths is not None and start != "total-degree":
        kind = "linear-product" if start == "linear-product" or count < system.total_degree else "total-degree"
        counts = {"total_degree": system.total_degree, "linear_product": count}
        refuse_too_many(count if kind == "linear-product" else system.total_degree, max_paths, kind, counts)
    return product_start(system, start, rng, structure, count, search)


def _polyhedral(system: System, seed: int, max_paths: int | None) -> SparseStart:
    """The polyhedral start, refused by its mixed volume before phcpy computes any start
    solution."""
    counts = {"total_degree": system.total_degree, "linear_product": None, "mixed_volume": None}

    def check(mixed_volume: int) -> None:
        counts["mixed_volume"] = mixed_volume
        if max_paths is not None:
            refuse_too_many(mixed_volume, max_paths, "polyhedral", counts)

    chosen = polyhedral_start(system, seed, check)
    chosen.root_counts = counts
    return chosen

"""Which start system to track from, and the refusal of one with too many paths.

Every start but the plain polyhedral one is *complete*: its paths reach every isolated
solution in C^n. The total-degree and linear-product counts bound them by Bezout's
theorem, the polyhedral count with constants by Li and Wang's root count in C^n
(:mod:`.polyhedral_constants`). The plain polyhedral count (the mixed volume) bounds
solutions in the torus only, and its start misses solutions with a zero coordinate
(DESIGN.md; the one-neuron gradient system: 24 of 33): it is taken only on request.

``"auto"`` takes the complete start with the fewest paths, weighted by what a path costs
(:func:`auto_choice`): a polyhedral-constants path costs about
:data:`POLYHEDRAL_PATH_COST` product-start paths, because phcpy's polyhedral homotopy
solves each of its start solutions first. The polyhedral count is computed only where it
can pay: from :data:`MIN_PATHS_FOR_MIXED_VOLUME` product-start paths on, under a time
budget (:func:`mixed_volume_budget`). ``root_counts["start_choice"]`` says which start was
taken and why.

The path count is known before any start solution is computed, so a start system with
more paths than ``max_paths`` is refused up front (:class:`TooManyPaths`): the total
degree from the degrees alone, the linear-product count from a structure search under a
work budget, a mixed volume before phcpy computes a polyhedral start solution. ``"auto"``
takes the polyhedral start with constants when it alone fits in ``max_paths``.
"""

from __future__ import annotations

import numpy as np

from solver.engine.start_systems.linear_product import ProductStart, linear_product_start
from solver.engine.start_systems.polyhedral import SparseStart, polyhedral_start
from solver.engine.start_systems.polyhedral_constants import (
    POLYHEDRAL_CONSTANTS,
    constants_mixed_volume,
    polyhedral_constants_start,
)
from solver.engine.start_systems.set_structure import SEARCH_STOPPED, SetStructure, best_structure, bezout_count
from solver.engine.start_systems.total_degree import total_degree_start
from solver.engine.system import InvalidSystem, System

#: the start systems :func:`choose_start` builds
STARTS = ("auto", "total-degree", "linear-product", "polyhedral", POLYHEDRAL_CONSTANTS)

StartSystem = ProductStart | SparseStart

#: one polyhedral-constants path costs about this many product-start paths, end to end
#: (phcpy solves the start system, then our tracker follows the path; one thread,
#: bench/START_RESULTS.md)
POLYHEDRAL_PATH_COST = 5
#: with fewer product-start paths, ``"auto"`` does not compute the polyhedral count: the
#: product start then costs about a second on one thread, about what MixedVol and
#: phcpy's start solve would cost
MIN_PATHS_FOR_MIXED_VOLUME = 1000
#: the time of one product-start path on one thread, to size the mixed volume's budget
PATH_SECONDS = 1e-3
#: the mixed volume may take this fraction of the product start's estimated time, within
#: these bounds (seconds)
MIXED_VOLUME_SHARE, MIXED_VOLUME_SECONDS = 0.1, (0.5, 60.0)


class TooManyPaths(InvalidSystem):
    """The start system has more paths than ``max_paths``; raised before any tracking."""

    def __init__(self, count: int, max_paths: int, start: str, counts: dict | None = None):
        self.count, self.max_paths, self.start, self.counts = count, max_paths, start, counts or {}
        extra = ", ".join(f"{k} {_show(v)}" for k, v in self.counts.items() if v is not None and k != "start_choice")
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


def mixed_volume_budget(product_paths: int, max_paths: int | None = None) -> float:
    """Seconds MixedVol may take when ``"auto"`` weighs the polyhedral start: a share of
    the product start's estimated time (of ``max_paths`` paths when it has more)."""
    paths = product_paths if max_paths is None else min(product_paths, max_paths)
    low, high = MIXED_VOLUME_SECONDS
    return float(min(high, max(low, MIXED_VOLUME_SHARE * paths * PATH_SECONDS)))


def auto_choice(total_degree: int, linear_product: int, constants: int | None,
                max_paths: int | None = None) -> tuple[str, str]:
    """The start ``"auto"`` takes from the three complete counts, and why.

    ``constants`` is the polyhedral count with constants (None: not computed). Each
    polyhedral-constants path weighs :data:`POLYHEDRAL_PATH_COST`; ties go to the
    product starts (total degree before linear product). When the product starts exceed
    ``max_paths`` and the polyhedral one does not, the polyhedral one is taken.

    Returns
    -------
    (kind, reason) : (str, str)
    """
    product_kind = "total-degree" if linear_product >= total_degree else "linear-product"
    product = min(total_degree, linear_product)
    seen = f"total degree {_show(total_degree)}, linear product {_show(linear_product)}"
    if constants is None:
        return product_kind, f"{product_kind}: the smaller complete count ({seen})"
    weighted = constants * POLYHEDRAL_PATH_COST
    seen += f", polyhedral with constants {_show(constants)} (x{POLYHEDRAL_PATH_COST} = {_show(weighted)})"
    fits = max_paths is None or constants <= max_paths
    if fits and max_paths is not None and product > max_paths:
        return POLYHEDRAL_CONSTANTS, f"{POLYHEDRAL_CONSTANTS}: the only complete count within max_paths={max_paths} ({seen})"
    kind = POLYHEDRAL_CONSTANTS if fits and weighted < product else product_kind
    return kind, f"{kind}: the smallest complete count, polyhedral paths weighted by their cost ({seen})"


def _constants_count(system: System, product: int, max_paths: int | None, polyhedral: bool) -> tuple[int | None, str]:
    """The polyhedral count with constants where ``"auto"`` weighs it, else None and why not."""
    if not polyhedral:
        return None, "this backend has no such start"
    if product < MIN_PATHS_FOR_MIXED_VOLUME:
        return None, f"fewer than {MIN_PATHS_FOR_MIXED_VOLUME} product-start paths"
    from solver.engine.backends.phcpack import phcpy_available

    if not phcpy_available():
        return None, "phcpy is not installed"
    seconds = mixed_volume_budget(product, max_paths)
    count = constants_mixed_volume(system, seconds)
    return count, "" if count is not None else f"MixedVol gave no answer within {seconds:.1f} s"


def auto_counts(system: System, count: int, max_paths: int | None = None, polyhedral: bool = True) -> tuple[str, dict]:
    """The start ``"auto"`` takes, given the linear-product ``count``, and the root counts
    that decided it (``mixed_volume_constants``, ``start_choice`` with the reason).
    ``polyhedral=False`` leaves the polyhedral start out (the phcpy backend has none)."""
    td = system.total_degree
    constants, why_not = _constants_count(system, min(td, count), max_paths, polyhedral)
    kind, reason = auto_choice(td, count, constants, max_paths)
    if constants is None:
        reason += f"; polyhedral with constants not computed: {why_not}"
    counts = {"total_degree": td, "linear_product": count, "mixed_volume": None,
              "mixed_volume_constants": constants, "start_choice": reason}
    return kind, counts


def product_start(system: System, start: str, rng: np.random.Generator, structure: SetStructure, count: int,
                  search: str = "", choice: dict | None = None) -> ProductStart:
    """The total-degree or the linear-product start on ``structure`` (of Bezout number
    ``count``): ``"auto"`` takes the one with fewer paths. ``root_counts`` holds both counts,
    ``structure_search`` when the search's budget stopped it (``search``: the name
    :func:`~solver.engine.start_systems.set_structure.best_structure` gave), and the entries
    of ``choice`` (:func:`auto_counts`)."""
    if start not in ("auto", "total-degree", "linear-product"):
        raise InvalidSystem(f"{start!r} is not a product start (total-degree, linear-product)")
    if start == "total-degree" or (start == "auto" and count >= system.total_degree):
        chosen = total_degree_start(system, rng)
    else:
        chosen = linear_product_start(system, structure, rng, count)
    chosen.root_counts = {"total_degree": system.total_degree, "linear_product": count, "mixed_volume": None, **(choice or {})}
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
    *,
    polyhedral: bool = True,
) -> StartSystem:
    """Build the start system named by ``start`` (one of :data:`STARTS`); its
    ``root_counts`` holds the counts seen on the way (total degree, linear product, mixed
    volumes where computed) and, for ``"auto"``, ``start_choice``: which start and why.

    ``set_structure`` replaces the best structure found by
    :func:`~solver.engine.start_systems.set_structure.best_structure`; ``seed`` seeds
    phcpy for the polyhedral starts; ``polyhedral=False`` keeps ``"auto"`` to the product
    starts. With ``max_paths``, a start with more paths is refused
    (:class:`TooManyPaths`) before any start solution is computed: the total degree is
    compared first (it decides the total-degree start), a mixed volume before phcpy
    solves a polyhedral start.
    """
    if start not in STARTS:
        raise InvalidSystem(f"unknown start system {start!r}; choose from {', '.join(STARTS)}")
    if start == "polyhedral":
        return _polyhedral(system, seed, max_paths)
    if start == POLYHEDRAL_CONSTANTS:
        counts = {"total_degree": system.total_degree, "linear_product": None, "mixed_volume": None, "mixed_volume_constants": None}
        return _polyhedral_constants(system, seed, max_paths, counts)
    if start == "total-degree" and max_paths is not None:
        refuse_too_many(system.total_degree, max_paths, start, {"total_degree": system.total_degree})
    structure, count, search = _structure(system, set_structure)
    choice = None
    if start == "auto":
        kind, choice = auto_counts(system, count, max_paths, polyhedral)
        if kind == POLYHEDRAL_CONSTANTS:
            if SEARCH_STOPPED in search:
                choice["structure_search"] = search
            return _polyhedral_constants(system, seed, max_paths, choice)
    if max_paths is not None and start != "total-degree":
        kind = "linear-product" if start == "linear-product" or count < system.total_degree else "total-degree"
        counts = {"total_degree": system.total_degree, "linear_product": count, **(choice or {})}
        refuse_too_many(count if kind == "linear-product" else system.total_degree, max_paths, kind, counts)
    return product_start(system, start, rng, structure, count, search, choice)


def _structure(system: System, set_structure: SetStructure | None) -> tuple[SetStructure, int, str]:
    """``set_structure`` (checked to cover the system) and its Bezout number, or the best
    structure found (:func:`~solver.engine.start_systems.set_structure.best_structure`)."""
    if set_structure is None:
        return best_structure(system)
    if not set_structure.covers(system):
        i, a = set_structure.uncovered(system)[0]
        raise InvalidSystem(f"the set structure does not cover monomial {a} of equation {i + 1}")
    return set_structure, bezout_count(set_structure), ""


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


def _polyhedral_constants(system: System, seed: int, max_paths: int | None, counts: dict) -> SparseStart:
    """The polyhedral start with constants, refused by its count (``counts`` gets it)
    before phcpy computes any start solution."""

    def check(mixed_volume: int) -> None:
        counts["mixed_volume_constants"] = mixed_volume
        if max_paths is not None:
            refuse_too_many(mixed_volume, max_paths, POLYHEDRAL_CONSTANTS, counts)

    chosen = polyhedral_constants_start(system, seed, check)
    chosen.root_counts = counts
    return chosen

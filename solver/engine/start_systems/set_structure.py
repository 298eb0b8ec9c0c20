"""Set structures, their generalised Bezout numbers, and the choices that give start
solutions (Verschelde and Cools, "Symbolic homotopy construction", Applicable Algebra in
Engineering, Communication and Computing 4, 1993).

A set structure gives equation ``i`` a list of variable sets ``S_i1, ..., S_iD``. The start
equation ``prod_k (c_k0 + sum_{v in S_ik} c_kv x_v)`` covers the target equation when each
of its monomials appears in that product. Choosing one factor per equation gives a linear
system; with generic coefficients it has exactly one solution when the chosen sets admit a
system of distinct representatives (a perfect matching of equations to variables), and
none otherwise. The generalised Bezout number counts those choices.

Counting walks the equations depth first. Its state is the family of variable sets that
the factors chosen so far can match; the count of completions depends on nothing else, so
it is memoised, and factors with identical sets in one equation are one branch with a
multiplicity. Variables that lie in exactly the same sets are interchangeable, so the count
tracks only how many of each such atom are used (:func:`bezout_count_bounded`). Choices are enumerated the same way, never materialising all ``D^n``.

The search for the best structure (:func:`best_structure`) runs under a work budget
(:data:`STRUCTURE_BUDGET` steps): a hostile system (``x^999999 - 1``, a thousand
variables) makes it fall back to the total-degree structure instead of running unbounded.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator, Sequence

import numpy as np

from solver.engine.system import InvalidSystem, System

#: steps the structure search may take (set-membership tests and table updates, counted in
#: bulk per monomial, partition and equation): about a second of Python; every benchmark
#: system of examples.py needs far fewer
STRUCTURE_BUDGET = 2_000_000
#: what the name of :func:`best_structure`'s winner says when the budget stopped the search
SEARCH_STOPPED = "structure search stopped"


class _Spent(Exception):
    """The structure search's work budget is spent (internal: best_structure catches it)."""


class WorkBudget:
    """A counter of steps; :meth:`spend` raises once more than ``steps`` are spent."""

    def __init__(self, steps: int) -> None:
        self.steps = int(steps)
        self.left = int(steps)

    def spend(self, k: int) -> None:
        self.left -= int(k)
        if self.left < 0:
            raise _Spent


def _spend(budget: WorkBudget | None, k: int) -> None:
    if budget is not None:
        budget.spend(k)


@dataclass(frozen=True)
class SetStructure:
    """Per equation, a tuple of variable-index sets (one set per linear factor).

    Build with :meth:`from_lists` (``[[[0, 1], [2]], ...]``) or the constructors below.
    """

    sets: tuple[tuple[frozenset[int], ...], ...]
    n_variables: int

    @classmethod
    def from_lists(cls, lists: Sequence[Sequence[Sequence[int]]], n_variables: int | None = None) -> "SetStructure":
        sets = tuple(tuple(frozenset(int(v) for v in s) for s in eq) for eq in lists)
        n = n_variables if n_variables is not None else len(sets)
        for i, eq in enumerate(sets):
            if not eq:
                raise InvalidSystem(f"set structure: equation {i + 1} has no sets")
            for s in eq:
                if not s or min(s) < 0 or max(s) >= n:
                    raise InvalidSystem(f"set structure: equation {i + 1} has a set outside variables 0..{n - 1}")
        return cls(sets, n)

    def to_lists(self) -> list[list[list[int]]]:
        return [[sorted(s) for s in eq] for eq in self.sets]

    @property
    def n_factors(self) -> np.ndarray:
        return np.array([len(eq) for eq in self.sets], dtype=np.int64)

    def describe(self, variables: Sequence[str]) -> str:
        """PHCpack's notation: ``{ x y }{ x };`` per equation."""
        return "\n".join(
            "".join("{ " + " ".join(variables[v] for v in sorted(s)) + " }" for s in eq) + ";" for eq in self.sets
        )

    # -- coverage -------------------------------------------------------------------------
    def covers(self, system: System) -> bool:
        return not self.uncovered(system)

    def uncovered(self, system: System) -> list[tuple[int, tuple[int, ...]]]:
        """(equation, exponent) pairs of monomials the structure does not cover."""
        out = []
        for i, (p, eq) in enumerate(zip(system.polynomials, self.sets)):
            for a in p.exponents:
                if not _monomial_covered(a, eq):
                    out.append((i, tuple(int(k) for k in a)))
        return out


def _monomial_covered(a: np.ndarray, sets: Sequence[frozenset[int]]) -> bool:
    """Can each variable occurrence of x^a go to a distinct set containing it?"""
    occurrences = [v for v, k in enumerate(a) for _ in range(int(k))]
    if len(occurrences) > len(sets):
        return False
    return _matching_size(occurrences, sets) == len(occurrences)


def _matching_size(occurrences: Sequence[int], sets: Sequence[frozenset[int]]) -> int:
    """Maximum bipartite matching of occurrences to sets (Kuhn's augmenting paths)."""
    owner = [-1] * len(sets)

    def augment(o: int, seen: list[bool]) -> bool:
        for k, s in enumerate(sets):
            if occurrences[o] in s and not seen[k]:
                seen[k] = True
                if owner[k] < 0 or augment(owner[k], seen):
                    owner[k] = o
                    return True
        return False

    return sum(augment(o, [False] * len(sets)) for o in range(len(occurrences)))


# -- counting and enumeration -----------------------------------------------------------------
def _grouped(structure: SetStructure) -> list[list[tuple[int, list[int]]]]:
    """Per equation: (set as bitmask, factor indices with that set)."""
    out = []
    for eq in structure.sets:
        groups: dict[int, list[int]] = {}
        for k, s in enumerate(eq):
            groups.setdefault(sum(1 << v for v in s), []).append(k)
        out.append(sorted(groups.items()))
    return out


def _extend(family: frozenset[int], mask: int) -> frozenset[int]:
    """Matchable variable sets after adding a factor whose set is ``mask``."""
    out = set()
    for base in family:
        free = mask & ~base
        while free:
            bit = free & -free
            out.add(base | bit)
            free ^= bit
    return frozenset(out)


class _Counter:
    def __init__(self, structure: SetStructure):
        self.groups = _grouped(structure)
        self.n = len(self.groups)
        self.count = lru_cache(maxsize=None)(self._count)

    def _count(self, k: int, family: frozenset[int]) -> int:
        if k == self.n:
            return 1
        total = 0
        for mask, factors in self.groups[k]:
            nxt = _extend(family, mask)
            if nxt:
                total += len(factors) * self.count(k + 1, nxt)
        return total


def bezout_count(structure: SetStructure | Sequence) -> int:
    """The generalised Bezout number of a set structure (a Python int)."""
    return bezout_count_bounded(structure, None, None)[0]


def bezout_count_bounded(structure: SetStructure | Sequence, limit: int | None = None, work_limit: int | None = None) -> tuple[int, bool]:
    """Generalised Bezout count on *atoms*, with optional early stops.

    Variables that belong to exactly the same sets (a hidden neuron's ``{w, b}``) are
    interchangeable, so the state of the count (the family of variable sets the chosen
    factors can match) only needs how many variables of each atom are used: far fewer
    states than per-variable families (1-3-1 network: 0.1 s instead of 20 s). Every term
    of the sum is >= 0, so a partial sum is a lower bound: counting stops once it reaches
    ``limit`` or after ``work_limit`` state extensions.

    Returns
    -------
    (value, complete) : (int, bool)
        ``complete`` is False when a stop cut the count short (``value`` is then a lower
        bound).
    """
    if not isinstance(structure, SetStructure):
        structure = SetStructure.from_lists(structure)
    sets, n = structure.sets, structure.n_variables
    if len(sets) != n:
        raise InvalidSystem("a set structure needs one equation per variable")
    distinct: dict[frozenset[int], int] = {}
    for eq in sets:
        for s in eq:
            distinct.setdefault(s, len(distinct))
    by_signature: dict[tuple[int, ...], list[int]] = {}
    for v in range(n):
        by_signature.setdefault(tuple(i for s, i in distinct.items() if v in s), []).append(v)
    atoms = list(by_signature.values())
    atom_of = {v: a for a, vs in enumerate(atoms) for v in vs}
    sizes = [len(a) for a in atoms]
    radix, r = [], 1
    for size in sizes:  # count vectors packed into one int, digit a in base sizes[a] + 1
        radix.append(r)
        r *= size + 1
    groups = []
    for eq in sets:
        g: dict[tuple[int, ...], int] = {}
        for s in eq:
            key = tuple(sorted({atom_of[v] for v in s}))
            g[key] = g.get(key, 0) + 1
        groups.append(sorted(g.items()))

    memo: dict[tuple[int, frozenset[int]], int] = {}
    state = {"work": 0, "stopped": False}

    def count(k: int, family: frozenset[int]) -> int:
        if k == n:
            return 1
        key = (k, family)
        if key in memo:
            return memo[key]
        total = 0
        for atoms_in, mult in groups[k]:
            nxt = frozenset(v + radix[a] for v in family for a in atoms_in if (v // radix[a]) % (sizes[a] + 1) < sizes[a])
            state["work"] += len(family) * len(atoms_in)
            if work_limit is not None and state["work"] > work_limit:
                state["stopped"] = True
            if nxt and not state["stopped"]:
                total += mult * count(k + 1, nxt)
            if state["stopped"] or (limit is not None and total >= limit):
                state["stopped"] = True
                return total  # a lower bound; never memoised
        memo[key] = total
        return total

    value = count(0, frozenset([0]))
    return value, not state["stopped"]


def enumerate_choices(structure: SetStructure, chunk: int = 65536) -> Iterator[np.ndarray]:
    """Yield arrays (rows, n) of factor indices, one row per start solution, in chunks.

    Depth first over distinct sets, pruned by the memoised counts, so no dead branch is
    ever entered; each surviving choice of sets expands to all its factor indices.
    """
    counter = _Counter(structure)
    n = counter.n
    buffer: list[tuple[int, ...]] = []
    path: list[list[int]] = []

    def walk(k: int, family: frozenset[int]) -> Iterator[None]:
        if k == n:
            for combo in itertools.product(*path):
                buffer.append(combo)
            yield
            return
        for mask, factors in counter.groups[k]:
            nxt = _extend(family, mask)
            if nxt and counter.count(k + 1, nxt):
                path.append(factors)
                yield from walk(k + 1, nxt)
                path.pop()

    for _ in walk(0, frozenset([0])):
        if len(buffer) >= chunk:
            yield np.array(buffer, dtype=np.int64)
            buffer.clear()
    if buffer:
        yield np.array(buffer, dtype=np.int64).reshape(len(buffer), n)


# -- structures derived from a system ---------------------------------------------------------
def total_degree_structure(system: System) -> SetStructure:
    """Every equation: its degree times the set of all variables."""
    everything = frozenset(range(system.n_variables))
    return SetStructure(tuple((everything,) * int(d) for d in system.degrees), system.n_variables)


def partition_structure(system: System, groups: Sequence[Sequence[int]]) -> SetStructure:
    """The multi-homogeneous structure of a partition of the variables: group ``j``
    repeated ``deg_j(f_i)`` times in equation ``i``."""
    sets = []
    for p in system.polynomials:
        eq: list[frozenset[int]] = []
        for g in groups:
            d = int(p.exponents[:, list(g)].sum(axis=1).max()) if p.n_terms else 0
            eq.extend([frozenset(g)] * d)
        sets.append(tuple(eq))
    return SetStructure(tuple(sets), system.n_variables)


def group_degrees(system: System, group: Sequence[int], budget: WorkBudget | None = None) -> tuple[int, ...]:
    """Degree of each equation in the variables of ``group``."""
    cols = list(group)
    _spend(budget, sum(p.n_terms for p in system.polynomials) * max(len(cols), 1))
    return tuple(int(p.exponents[:, cols].sum(axis=1).max()) if p.n_terms else 0 for p in system.polynomials)


def multihomogeneous_count(
    system: System, groups: Sequence[Sequence[int]], degree_cache: dict | None = None, budget: WorkBudget | None = None
) -> int:
    """Bezout number of a partition: the coefficient of ``prod_j z_j^|G_j|`` in
    ``prod_i sum_j deg_j(f_i) z_j``, by dynamic programming over the equations.
    ``degree_cache`` (group -> degrees) saves recomputing degrees across partitions;
    ``budget`` is charged for the work."""
    sizes = tuple(len(g) for g in groups)
    cache = {} if degree_cache is None else degree_cache
    per_group = []
    for g in groups:
        key = tuple(sorted(g))
        if key not in cache:
            cache[key] = group_degrees(system, key, budget)
        per_group.append(cache[key])
    # the count depends on the degree matrix only up to the order of its groups and of
    # its equations: sorted both ways, it is the key of partitions already counted (on
    # symmetric systems such as cyclic-n most of them)
    columns = sorted(zip(sizes, per_group))
    sizes = tuple(size for size, _ in columns)
    degs = sorted(zip(*(column for _, column in columns)))
    memo = ("count", sizes, tuple(degs))
    if memo not in cache:
        cache[memo] = _count(degs, sizes, budget)
    return cache[memo]


def _count(degs: Sequence[Sequence[int]], sizes: tuple[int, ...], budget: WorkBudget | None) -> int:
    """:func:`multihomogeneous_count`'s programme on the degree matrix ``degs`` (equations
    by groups) and the group sizes."""
    # a state (factors used per group) is one integer in mixed radix: group j's digit
    # has place value strides[j] and runs 0..sizes[j]
    strides = [1] * len(sizes)
    for j in range(1, len(sizes)):
        strides[j] = strides[j - 1] * (sizes[j - 1] + 1)
    table: dict[int, int] = {0: 1}
    for row in degs:
        _spend(budget, len(table) * len(row))
        moves = [(strides[j], sizes[j] + 1, sizes[j], d) for j, d in enumerate(row) if d]
        nxt: dict[int, int] = {}
        for used, ways in table.items():
            for stride, radix, size, d in moves:
                if (used // stride) % radix < size:
                    key = used + stride
                    nxt[key] = nxt.get(key, 0) + ways * d
        table = nxt
    return table.get(sum(st * k for st, k in zip(strides, sizes)), 0)


def _set_partitions(items: list[int]) -> Iterator[list[list[int]]]:
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _set_partitions(rest):
        for k in range(len(part)):
            yield part[:k] + [[first] + part[k]] + part[k + 1 :]
        yield [[first]] + part


def best_partition(system: System, exhaustive_up_to: int = 7, budget: WorkBudget | None = None) -> tuple[list[list[int]], int]:
    """The partition of the variables with the smallest multi-homogeneous Bezout number:
    all partitions for up to ``exhaustive_up_to`` variables, else a greedy search that
    moves one variable at a time from the 1-homogeneous start. ``budget`` is charged for
    every count."""
    n = system.n_variables
    cache: dict = {}
    if n <= exhaustive_up_to:
        best = min(_set_partitions(list(range(n))), key=lambda g: multihomogeneous_count(system, g, cache, budget))
        return best, multihomogeneous_count(system, best, cache, budget)
    groups = [list(range(n))]
    best_count = multihomogeneous_count(system, groups, cache, budget)
    improved = True
    while improved:
        improved = False
        for v in range(n):
            for target in range(len(groups) + 1):
                trial = [[u for u in g if u != v] for g in groups]
                if target == len(groups):
                    trial.append([v])
                elif v in groups[target]:
                    continue
                else:
                    trial[target].append(v)
                trial = [sorted(g) for g in trial if g]
                c = multihomogeneous_count(system, trial, cache, budget)
                if 0 < c < best_count:
                    groups, best_count, improved = trial, c, True
                    break
    return groups, best_count


def supporting_structure(system: System, budget: WorkBudget | None = None) -> SetStructure:
    """A set structure built monomial by monomial, as PHCpack's supporting set
    structures are: each equation gets ``deg`` sets; a monomial not yet covered has its
    unmatched variable occurrences added to sets it does not use yet, highest degree
    monomials first. ``budget`` is charged ``deg * occurrences`` per monomial (the
    matching and the greedy placement each cost about that)."""
    sets_out = []
    for p in system.polynomials:
        d = p.degree
        _spend(budget, d)
        sets: list[set[int]] = [set() for _ in range(d)]
        order = np.argsort(-p.exponents.sum(axis=1), kind="stable")
        for a in p.exponents[order]:
            _spend(budget, d * int(a.sum()) + 1)
            occ = [v for v, k in enumerate(a) for _ in range(int(k))]
            if not occ or _monomial_covered(a, [frozenset(s) for s in sets]):
                continue
            # greedy: give each occurrence a set already holding it, else the emptiest free set
            used: set[int] = set()
            pending = []
            for v in occ:
                k = next((k for k, s in enumerate(sets) if v in s and k not in used), None)
                if k is None:
                    pending.append(v)
                else:
                    used.add(k)
            for v in pending:
                free = [k for k in range(d) if k not in used]
                k = min(free, key=lambda k: (len(sets[k]), k))
                sets[k].add(v)
                used.add(k)
        sets_out.append(tuple(frozenset(s) if s else frozenset([0]) for s in sets))
    structure = SetStructure(tuple(sets_out), system.n_variables)
    return structure


def best_structure(system: System, budget_steps: int = STRUCTURE_BUDGET) -> tuple[SetStructure, int, str]:
    """The structure with the smallest Bezout number among the total degree, the best
    multi-homogeneous partition and the supporting set structure, found within
    ``budget_steps`` steps of work (:data:`STRUCTURE_BUDGET`).

    Returns (structure, count, name of the kind that won). When the budget is spent the
    best candidate found so far wins (the total degree, from the degrees alone, is always
    one) and its name ends with ``"; structure search stopped after N steps"``.
    """
    budget = WorkBudget(budget_steps)
    candidates = [("total-degree", total_degree_structure(system), system.total_degree)]
    try:
        groups, count = best_partition(system, budget=budget)
        candidates.append((f"{len(groups)}-homogeneous", partition_structure(system, groups), count))
        sup = supporting_structure(system, budget)
        value, complete = bezout_count_bounded(sup, None, max(budget.left, 0))
        if not complete:
            raise _Spent
        candidates.append(("supporting sets", sup, value))
    except _Spent:
        name, structure, count = min(candidates, key=lambda c: c[2])
        return structure, count, f"{name}; {SEARCH_STOPPED} after {budget.steps} steps"
    name, structure, count = min(candidates, key=lambda c: c[2])
    return structure, count, name

"""The linear product structure of a network's gradient system, derived from the network.

Variables are grouped per neuron: neuron ``r`` of layer ``l`` owns ``{W_l[r, :], b_l[r]}``
(its incoming weights). A *cover* of a polynomial expression is a list of factor sets such
that every monomial of the expression puts its variable occurrences into distinct factors
containing them (each factor stands for ``c_0 + sum_{v in S} c_v v``). Covers follow the
expression tree of the network and its backpropagation:

- a product concatenates the factor lists;
- a sum pairs the factors of its operands layer by layer and unites each pair (constants
  are free: every factor has a constant term);
- ``p(z)`` of degree d is ``z`` repeated d times, ``p'(z)`` is ``z`` repeated d - 1 times.

With ``z_r = sum_c W[r,c] h_c + b_r``, ``f = h^L`` and ``delta^l_r = df/dz^l_r =
p_l'(z^l_r) sum_s W_{l+1}[s,r] delta^{l+1}_s``, the equation of parameter ``theta`` is
``sum_o (f_o - y_o) df_o/dtheta + lambda theta``, covered by the concatenation of the
covers of ``f_o`` and of ``df_o/dtheta = delta * h`` (united over outputs). For one hidden
layer and d = 2 the equation of ``a_1`` gets ``{a_1, a_2, c} x {w_1, b_1, w_2, b_2}^2 x
{w_1, b_1}^2`` (DESIGN.md). :func:`verify_coverage` then checks every monomial of the
expanded system and raises if one is not covered.

References: Chen, Hao and He, "A weight initialization based on the linear product
structure for neural networks", Applied Mathematics and Computation 415, 2022 (arXiv
2109.00125; DESIGN.md); Verschelde and Cools, "Symbolic homotopy construction", AAECC 1993
(set structures and generalised Bezout numbers).
"""

from __future__ import annotations

from solver.errors import LpsError

import itertools
from typing import Optional, Sequence

from solver.engine.start_systems.set_structure import SetStructure, bezout_count, bezout_count_bounded
from solver.networks.spec import NetworkSpec
from solver.engine.system import System

#: a cover: layer index -> list of factor sets (variable indices of that layer's parameters)
Cover = dict[int, list[frozenset[int]]]


class StructureError(LpsError, ValueError):
    """A derived set structure does not cover the system it was derived for."""


def _mul(*covers: Cover) -> Cover:
    out: Cover = {}
    for c in covers:
        for layer, sets in c.items():
            out.setdefault(layer, []).extend(sets)
    return out


def _sort_key(s: frozenset[int]) -> tuple:
    return (-len(s), sorted(s))


def _add(*covers: Cover) -> Cover:
    """A cover of a sum: per layer, the i-th largest factors of the operands are united."""
    out: Cover = {}
    for c in covers:
        for layer, sets in c.items():
            cur = sorted(out.get(layer, []), key=_sort_key)
            new = sorted(sets, key=_sort_key)
            if len(new) > len(cur):
                cur, new = new, cur
            out[layer] = [a | b for a, b in zip(cur, new)] + cur[len(new) :]
    return out


def _power(c: Cover, k: int) -> Cover:
    return {layer: sets * k for layer, sets in c.items() if k > 0 and sets}


def _single(layer: int, v: int) -> Cover:
    return {layer: [frozenset([v])]}


def network_covers(spec: NetworkSpec, bias_down: Sequence[bool] | None = None, degrees: Sequence[int] | None = None) -> list[Cover]:
    """Per parameter (state_dict order), the cover of its gradient equation.

    ``bias_down[l]`` aligns the bias of layer ``l >= 1`` with the factors of layer
    ``l - 1`` instead of its own layer's weights when sums are united (any alignment gives a
    valid cover; which one has the smaller count depends on the widths).
    """
    bias_down = tuple(bias_down) if bias_down is not None else (False,) * len(spec.layers)
    names = spec.parameter_names()
    index = {v: k for k, v in enumerate(names)}
    if degrees is None:
        degrees = [s.effective_degree for s in spec.surrogates()]
    layers = spec.layers
    L = len(layers)

    # forward: covers of pre-activations z and activations h
    h_prev: list[Cover] = [{} for _ in range(layers[0].in_features)]  # data are constants
    z_cov: list[list[Cover]] = []
    h_cov: list[list[Cover]] = [h_prev]
    for l, layer in enumerate(layers):
        zs = []
        for r in range(layer.out_features):
            terms = [_mul(_single(l, index[f"W{l}_{r}_{c}"]), h_prev[c]) for c in range(layer.in_features)]
            if layer.bias:
                terms.append(_single(l - 1 if l > 0 and bias_down[l] else l, index[f"b{l}_{r}"]))
            zs.append(_add(*terms))
        z_cov.append(zs)
        h_prev = [_power(z, degrees[l]) for z in zs]
        h_cov.append(h_prev)

    # backward, one output at a time: covers of delta^l_r = d f_o / d z^l_r
    eq_cov: list[Cover] = [{} for _ in names]
    for o in range(layers[-1].out_features):
        delta: list[Optional[Cover]] = [None] * layers[-1].out_features
        delta[o] = _power(z_cov[L - 1][o], degrees[L - 1] - 1)
        deltas: list[list[Optional[Cover]]] = [[] for _ in range(L)]
        deltas[L - 1] = delta
        for l in range(L - 2, -1, -1):
            cur: list[Optional[Cover]] = []
            for r in range(layers[l].out_features):
                back = [
                    _mul(_single(l + 1, index[f"W{l + 1}_{s}_{r}"]), deltas[l + 1][s])
                    for s in range(layers[l + 1].out_features)
                    if deltas[l + 1][s] is not None
                ]
                cur.append(_mul(_power(z_cov[l][r], degrees[l] - 1), _add(*back)) if back else None)
            deltas[l] = cur
        f_cov = h_cov[L][o]
        for l, layer in enumerate(layers):
            for r in range(layer.out_features):
                d = deltas[l][r]
                if d is None:
                    continue  # f_o does not depend on this neuron
                for c in range(layer.in_features):
                    v = index[f"W{l}_{r}_{c}"]
                    eq_cov[v] = _add(eq_cov[v], _mul(f_cov, d, h_cov[l][c]))
                if layer.bias:
                    v = index[f"b{l}_{r}"]
                    eq_cov[v] = _add(eq_cov[v], _mul(f_cov, d))

    # the weight decay term lambda * theta needs theta in some factor
    layer_of = {index[n]: int(n[1:].split("_")[0]) for n in names}
    for v, cov in enumerate(eq_cov):
        if not any(v in s for sets in cov.values() for s in sets):
            eq_cov[v] = _add(cov, _single(layer_of[v], v))
    return eq_cov


def bias_variants(spec: NetworkSpec) -> list[tuple[bool, ...]]:
    """The bias alignments :func:`network_set_structure` compares: every combination over
    the biased layers after the first when there are at most three, else all-own and
    all-down."""
    movable = [l for l, layer in enumerate(spec.layers) if l > 0 and layer.bias]
    L = len(spec.layers)
    if len(movable) <= 3:
        combos = itertools.product((False, True), repeat=len(movable))
    else:
        combos = [(False,) * len(movable), (True,) * len(movable)]
    out = []
    for combo in combos:
        flags = [False] * L
        for l, down in zip(movable, combo):
            flags[l] = down
        out.append(tuple(flags))
    return out


def _structure(spec: NetworkSpec, bias_down: Sequence[bool], degrees: Sequence[int]) -> SetStructure:
    sets = []
    for v, cov in enumerate(network_covers(spec, bias_down, degrees)):
        eq = [s for layer in sorted(cov, reverse=True) for s in sorted(cov[layer], key=_sort_key)]
        if not eq:
            raise StructureError(f"equation of parameter {v} has an empty cover")
        sets.append(tuple(eq))
    return SetStructure(tuple(sets), spec.n_parameters)


def network_set_structure(spec: NetworkSpec, bias_down: Sequence[bool] | None = None) -> SetStructure:
    """The per-neuron linear product structure of the spec's gradient system.

    With ``bias_down`` None, the alignments of :func:`bias_variants` are derived and the one
    with the smallest count is returned (see :func:`best_network_structure`). Example:
    2-1-1 gives 567 paths with the output bias next to the output weights and 490 with it
    among the hidden neuron's sets; 1-2-1 gives 10,761 and 11,954.
    """
    if bias_down is not None:
        return _structure(spec, bias_down, [s.effective_degree for s in spec.surrogates()])
    return best_network_structure(spec)[0]


def best_network_structure(
    spec: NetworkSpec, cap: Optional[int] = None, work_limit: int = 2_000_000
) -> tuple[SetStructure, int, str]:
    """The bias alignment with the smallest count, counted with bounded work.

    Each variant is counted against ``cap`` and the best count so far, with an equal share
    of ``work_limit``. Returns ``(structure, count, status)`` as
    :func:`lps_count_bounded`: ``"exact"`` (the smallest count, ``<= cap``), ``"above"``
    (every variant has more than ``cap`` paths; ``count`` is the first variant's lower
    bound) or ``"unknown"`` (some variant could not be counted within its share).
    """
    degrees = [s.effective_degree for s in spec.surrogates()]
    variants = bias_variants(spec)
    share = max(1, work_limit // len(variants))
    cap = 10**15 if cap is None else int(cap)
    first = _structure(spec, variants[0], degrees)
    best: Optional[tuple[SetStructure, int]] = None
    fallback: tuple[SetStructure, int, str] = (first, 0, "above")
    for k, flags in enumerate(variants):
        st = first if k == 0 else _structure(spec, flags, degrees)
        limit = cap if best is None else min(cap, best[1] - 1)
        count, status = lps_count_bounded(st, cap=limit, work_limit=share)
        if status == "exact":
            best = (st, count)
        elif k == 0 or status == "unknown":
            if fallback[2] != "unknown":
                fallback = (st, count, status)
    if best is not None:
        return best[0], best[1], "exact"
    return fallback


def verify_coverage(structure: SetStructure, system: System) -> None:
    """Raise :class:`StructureError` unless every monomial of every equation is covered."""
    if len(structure.sets) != system.n_equations:
        raise StructureError(f"the structure has {len(structure.sets)} equations, the system {system.n_equations}")
    missing = structure.uncovered(system)
    if missing:
        i, a = missing[0]
        mono = "*".join(f"{system.variables[v]}^{k}" if k > 1 else system.variables[v] for v, k in enumerate(a) if k) or "1"
        raise StructureError(
            f"the network set structure does not cover {len(missing)} monomial(s), e.g. {mono} in the "
            f"equation of {system.variables[i]}: sets {structure.describe(system.variables).splitlines()[i]}"
        )


def lps_count(structure: SetStructure) -> int:
    """The generalised Bezout number of ``structure`` (exact; see :func:`lps_count_bounded`)."""
    return bezout_count(structure)


def lps_count_bounded(structure: SetStructure, cap: int, work_limit: int = 2_000_000) -> tuple[int, str]:
    """The count, or enough of it to compare with ``cap``, within bounded work.

    Returns ``(value, status)``: ``"exact"`` (value is the count, ``<= cap``),
    ``"above"`` (the count is at least ``value > cap``) or ``"unknown"`` (the work limit
    ran out first; the count is at least ``value``).
    """
    value, complete = bezout_count_bounded(structure, int(cap) + 1, work_limit)
    if value > cap:
        return value, "above"
    return value, ("exact" if complete else "unknown")


def root_counts(spec: NetworkSpec, system: System, structure: SetStructure, mixed_volume: bool = True) -> dict:
    """Total degree, the network LPS count, the mixed volume (phcpy, None if unavailable)
    and the ratio total degree / LPS count."""
    lps = lps_count(structure)
    out = {"total_degree": system.total_degree, "linear_product": lps, "mixed_volume": None}
    if mixed_volume:
        out["mixed_volume"] = _mixed_volume(system)
    out["ratio"] = out["total_degree"] / lps if lps else None
    return out


def _mixed_volume(system: System) -> Optional[int]:
    """PHCpack's mixed volume of ``system`` (all its complex coefficients), None without phcpy."""
    from solver.engine.backends.phcpack import PHCpackError, phcpy_available, phcpy_mixed_volume

    if not phcpy_available():
        return None
    try:
        return phcpy_mixed_volume(system)
    except PHCpackError:  # reported as unknown: the root counts are informative only
        return None

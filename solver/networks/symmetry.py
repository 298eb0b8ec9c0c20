"""Hidden-neuron permutation symmetry of a network's parameters.

Permuting the neurons of a hidden layer (rows of ``W_l`` and ``b_l``, columns of
``W_{l+1}``) leaves the network function, hence the loss, unchanged; so every critical
point comes with its orbit under the product of the symmetric groups of the hidden layers.
As in HomotopyContinuation.jl's ``unique_points`` with group actions, points are grouped
into orbits by comparing each point with the images of the others, a representative is
chosen canonically (the lexicographically smallest image), and the orbit size is the
number of distinct images.

Reference: Chen, Hao and He, "A weight initialization based on the linear product
structure for neural networks", Applied Mathematics and Computation 415, 2022 (arXiv
2109.00125; DESIGN.md); the critical points come in orbits of this group, reported once
each.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import factorial

import numpy as np

from solver.errors import LpsError
from solver.networks.spec import NetworkSpec
from solver.networks.weights_io import unflatten

#: beyond this group order images are not enumerated (exact mode never gets near it)
MAX_GROUP_ORDER = 40_320


class SymmetryError(LpsError, ValueError):
    """A permutation that does not exist (not a hidden layer) or a group too large to walk."""


def _index_layout(spec: NetworkSpec) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Per layer, the parameter indices of ``W`` (out, in) and ``b`` (out,) or None."""
    return unflatten(spec, np.arange(spec.n_parameters))


def neuron_permutation(spec: NetworkSpec, layer: int, perm: np.ndarray) -> np.ndarray:
    """Index array ``P`` with ``theta[P]`` the parameters after neuron ``r`` of hidden
    layer ``layer`` takes the place of neuron ``perm[r]``."""
    if layer >= len(spec.layers) - 1:
        raise SymmetryError(f"layer {layer} is not a hidden layer")
    perm = np.asarray(perm)
    P = np.arange(spec.n_parameters)
    lay = _index_layout(spec)
    W, b = lay[layer]
    P[W.reshape(-1)] = W[perm].reshape(-1)
    if b is not None:
        P[b] = b[perm]
    W2, _ = lay[layer + 1]
    P[W2.reshape(-1)] = W2[:, perm].reshape(-1)
    return P


def group_order(spec: NetworkSpec) -> int:
    """Product of ``width!`` over the hidden layers."""
    out = 1
    for layer in spec.layers[:-1]:
        out *= factorial(layer.out_features)
    return out


def all_permutations(spec: NetworkSpec) -> np.ndarray:
    """Every element of the hidden-neuron permutation group as an index array, shape
    (order, n); the identity first."""
    order = group_order(spec)
    if order > MAX_GROUP_ORDER:
        raise SymmetryError(f"the hidden-neuron permutation group has {order} elements, more than {MAX_GROUP_ORDER}")
    per_layer = []
    for l, layer in enumerate(spec.layers[:-1]):
        per_layer.append([neuron_permutation(spec, l, np.array(p)) for p in itertools.permutations(range(layer.out_features))])
    out = []
    for combo in itertools.product(*per_layer):
        P = np.arange(spec.n_parameters)
        for Q in combo:  # the layers' actions commute (rows vs columns of W_{l+1})
            P = P[Q]
        out.append(P)
    return np.array(out, dtype=np.int64).reshape(len(out), spec.n_parameters)


def _lexmin(rows: np.ndarray, tol: float) -> np.ndarray:
    """Lexicographically smallest row, comparing entries rounded to ``tol`` so that
    numerical noise does not decide between images that are equal."""
    keys = np.round(rows / tol)
    order = np.lexsort(keys.T[::-1])
    return rows[order[0]]


def canonical(spec: NetworkSpec, theta: np.ndarray, tol: float = 1e-8) -> np.ndarray:
    """The canonical representative of ``theta``'s orbit: its lexicographically smallest
    image (ties within ``tol`` broken by the next coordinate)."""
    theta = np.asarray(theta, dtype=np.float64)
    scale = tol * max(1.0, float(np.abs(theta).max(initial=0.0)))
    return _lexmin(theta[all_permutations(spec)], scale)


def _distinct_count(rows: np.ndarray, tol: float) -> int:
    reps: list[np.ndarray] = []
    for r in rows:
        if not any(np.abs(r - q).max() <= tol for q in reps):
            reps.append(r)
    return len(reps)


@dataclass
class Orbit:
    """One orbit among a set of points.

    Attributes
    ----------
    representative : float ndarray (n,)
        The canonical image.
    members : list of int
        Indices of the given points in this orbit.
    size : int
        Number of distinct points in the orbit (group order / stabiliser order).
    """

    representative: np.ndarray
    members: list[int]
    size: int


def group_orbits(spec: NetworkSpec, points: np.ndarray, tol: float = 1e-6) -> list[Orbit]:
    """Group real points (k, n) into hidden-neuron permutation orbits.

    Two points are in one orbit when some permutation maps one within ``tol * (1 + |x|)``
    (max norm) of the other. Orbits come in the order of their first member.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, spec.n_parameters)
    perms = all_permutations(spec)
    assigned = np.full(len(pts), -1)
    orbits: list[Orbit] = []
    for i in range(len(pts)):
        if assigned[i] >= 0:
            continue
        images = pts[i][perms]  # (G, n)
        scale = tol * (1.0 + np.abs(pts[i]).max(initial=0.0))
        rest = np.flatnonzero(assigned < 0)
        dist = np.abs(images[None, :, :] - pts[rest][:, None, :]).max(axis=2).min(axis=1)
        members = rest[dist <= scale]
        assigned[members] = len(orbits)
        orbits.append(Orbit(_lexmin(images, scale), [int(m) for m in members], _distinct_count(images, scale)))
    return orbits

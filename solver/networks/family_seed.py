"""Seed pairs and the neuron-permutation group for the monodromy solve of a network family.

Monodromy (:mod:`solver.engine.monodromy`; Duff, Hill, Jensen, Lee, Leykin, Sommars,
"Solving polynomial systems via homotopy continuation and monodromy", IMA J. Numer. Anal.
39(3), 2019, doi:10.1093/imanum/drx067) starts from a pair ``(theta0, p0)`` with
``F(theta0; p0) = 0``. For a network family such a pair is cheap: the gradient is linear
in the data moments and target moments ``m`` (every term of
``sum_o (E[f_o^2]/2 - E[y_o f_o]) + lambda/2 ||theta||^2`` carries exactly one of them or
``lambda``). With the surrogate coefficients ``q`` and ``lambda`` drawn at random and kept,
Gauss-Newton steps of least norm on ``(theta, m)`` from a random start land on the
incidence variety in a few steps (the system is underdetermined: ``n_theta`` equations,
``n_theta + len(m)`` unknowns). ``theta`` cannot stay fixed: the data loss depends on
``theta`` only through the coefficients of ``f`` in ``x``, fewer than the weights for
these architectures, so a random ``theta`` solves ``A m + lambda theta = 0`` only with
``lambda = 0`` (:func:`seed_pair`).

Hidden-neuron permutations act on ``theta`` and fix every parameter
(:mod:`solver.networks.symmetry`), so the solutions where some neurons coincide are fixed
points of the group; a path started at one stays among them. They form irreducible
components of the incidence variety of their own, which a loop from a generic seed never
reaches (the monodromy group is not transitive across components). One seed per *stratum*
(an integer partition of each hidden layer's neurons into blocks of equal neurons), moved
to the common base point ``p0``, seeds every component.
"""

from __future__ import annotations

import itertools
import logging
from typing import Callable, TypeVar

import numpy as np

from solver.engine.endpoints import SINGULAR_CONDITION, condition_numbers, newton_refine
from solver.engine.monodromy import Symmetries, regular_points
from solver.engine.parameter_homotopy import track_parameters
from solver.networks.family import FamilyKey, NetworkFamily, random_parameters
from solver.networks.spec import NetworkSpec, load_spec
from solver.networks.symmetry import all_permutations, group_order

log = logging.getLogger(__name__)
T = TypeVar("T")

#: a seed must satisfy its member to this relative residual
SEED_RESIDUAL = 1e-10
#: Gauss-Newton iterations of the seed pair
NEWTON_STEPS = 40


def key_spec(key: FamilyKey) -> NetworkSpec:
    """A spec of the key's shape (placeholder data) for :mod:`solver.networks.symmetry`,
    whose group depends only on the layer shapes and bias flags."""
    layers = [
        {"in_features": l.in_features, "out_features": l.out_features, "bias": l.bias, "activation": "identity" if l.degree == 1 else "relu"}
        for l in key.layers
    ]
    n_in, n_out = key.widths[0], key.widths[-1]
    data = {"x": [[0.0] * n_in, [1.0] * n_in], "y": [[0.0] * n_out, [1.0] * n_out]}
    return load_spec({"layers": layers, "data": data, "surrogate": {"degree": max(2, max(l.degree for l in key.layers))}})


def permutation_orbits(key: FamilyKey) -> Symmetries | None:
    """``theta -> theta[perms]`` over the hidden-neuron permutation group (None when the
    group is trivial)."""
    spec = key_spec(key)
    if group_order(spec) == 1:
        return None
    perms = all_permutations(spec)
    return lambda x: np.asarray(x)[perms]


def _term_monomials(family: NetworkFamily, theta: np.ndarray) -> np.ndarray:
    """``theta^a`` for every term of every equation, stacked like the flat coefficients."""
    exps = np.vstack(family.supports)
    return np.prod(np.asarray(theta, np.complex128)[None, :] ** exps, axis=1)


def gradient_values(family: NetworkFamily, theta: np.ndarray, P: np.ndarray) -> np.ndarray:
    """``F(theta; P)`` for one parameter point (n_theta,) or a batch (k, n_parameters)."""
    terms = np.atleast_2d(family.flat_coefficients(P)) * _term_monomials(family, theta)[None, :]
    out = np.add.reduceat(terms, family.offsets[:-1], axis=1)
    return out[0] if np.ndim(P) == 1 else out


def linear_parameters(family: NetworkFamily) -> np.ndarray:
    """Indices of the parameters that enter the gradient linearly: moments, target
    moments and the weight decay."""
    return np.array([i for i, name in enumerate(family.parameter_names) if name.startswith("E[") or name == "lambda"], np.int64)


def _linear_map(family: NetworkFamily, theta: np.ndarray, base: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``dF/dP_j`` at ``theta`` for the linear parameters ``j`` in ``columns`` (the
    gradient is linear and homogeneous in them, so one evaluation per basis vector)."""
    basis = np.repeat(base[None, :], columns.size, axis=0)
    basis[:, linear_parameters(family)] = 0.0
    basis[np.arange(columns.size), columns] = 1.0
    return gradient_values(family, theta, basis).T


def seed_pair(family: NetworkFamily, theta: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A member ``p0`` and a regular solution near ``theta``: the surrogate coefficients
    and ``lambda`` drawn at random and kept, then Gauss-Newton steps of least norm on
    ``(theta, moments)`` together from ``theta`` and random moments.

    Why not ``theta`` fixed and the moments solved from the linear map alone: the data
    loss depends on ``theta`` only through the coefficients of ``f`` in ``x``, fewer than
    the weights (1-1-1 at degree 2: three), so its gradient has rank below ``n_theta``
    and a random ``theta`` is a critical point only with ``lambda = 0`` (the balance
    conditions of the regularised loss fail). Moving ``theta`` too keeps ``lambda``
    generic. Steps of least norm from a point fixed by a neuron permutation stay fixed
    by it (the system is equivariant), so a stratum's seed stays in its stratum.

    Raises
    ------
    ValueError
        When Newton's method does not reach :data:`SEED_RESIDUAL` (retry another draw).
    """
    p = random_parameters(family, rng)
    moments = np.setdiff1d(linear_parameters(family), [family.parameter_names.index("lambda")])
    x = np.asarray(theta, np.complex128).copy()
    n = x.shape[0]
    for _ in range(NEWTON_STEPS):
        member = family.system(p)
        if member.relative_residuals(x[None, :]).max() <= SEED_RESIDUAL * 1e-3:
            break
        J = np.hstack([member.jacobian(x[None, :])[0], _linear_map(family, x, p, moments)])
        step = np.linalg.lstsq(J, -gradient_values(family, x, p), rcond=None)[0]
        x, p[moments] = x + step[:n], p[moments] + step[n:]
        if not np.isfinite(step).all():
            break
    refined, residual = newton_refine(family.system(p), x[None, :])
    cond = condition_numbers(family.system(p), refined)[0]
    if not (np.isfinite(p).all() and residual[0] <= SEED_RESIDUAL and cond <= SINGULAR_CONDITION):
        raise ValueError(f"no seed pair for {family.key.id} (residual {residual[0]:.3g}, condition {cond:.3g})")
    return p, refined[0]


def strata(key: FamilyKey) -> list[list[np.ndarray]]:
    """Per stratum, per hidden layer, the block of each neuron (consecutive neurons share
    a block); the first stratum has every neuron in a block of its own."""
    per_layer = []
    for l in key.layers[:-1]:
        options = []
        for sizes in _partitions(l.out_features):
            options.append(np.repeat(np.arange(len(sizes)), sizes))
        per_layer.append(options)
    return [list(combo) for combo in itertools.product(*per_layer)]


def _partitions(n: int, largest: int | None = None) -> list[tuple[int, ...]]:
    """Integer partitions of ``n`` (parts non-increasing), the all-ones one first."""
    largest = n if largest is None else largest
    if n == 0:
        return [()]
    out = [(k,) + rest for k in range(1, min(n, largest) + 1) for rest in _partitions(n - k, k)]
    return sorted(out, key=len, reverse=True)


def stratum_point(key: FamilyKey, blocks: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """A random complex ``theta`` whose hidden neurons in one block are equal (their row
    of ``W_l``, bias and column of ``W_{l+1}``)."""
    names = key.variables()
    index = {v: i for i, v in enumerate(names)}
    theta = (rng.normal(size=len(names)) + 1j * rng.normal(size=len(names))) / np.sqrt(2.0)
    for l, block in enumerate(blocks):
        first = {b: int(np.flatnonzero(block == b)[0]) for b in np.unique(block)}
        for r, b in enumerate(block):
            src = first[int(b)]
            for v in names:  # every weight of neuron r copies the first neuron of its block
                parts = v[1:].split("_")
                if int(parts[0]) == l and int(parts[1]) == r:
                    theta[index[v]] = theta[index[f"{v[0]}{l}_{src}" + (f"_{parts[2]}" if len(parts) > 2 else "")]]
                elif v[0] == "W" and int(parts[0]) == l + 1 and int(parts[2]) == r:
                    theta[index[v]] = theta[index[f"W{l + 1}_{parts[1]}_{src}"]]
    return theta


def _orbit_size(orbits: Symmetries | None, x: np.ndarray) -> int:
    """Number of distinct images of ``x`` under the group (1 without one)."""
    if orbits is None:
        return 1
    images = orbits(x)
    scale = 1e-6 * (1.0 + np.abs(x).max())
    return len({tuple(np.round(np.hstack([y.real, y.imag]) / scale).astype(np.int64)) for y in images})


def _stratum_seed(family: NetworkFamily, blocks: list[np.ndarray], rng: np.random.Generator, orbits: Symmetries | None) -> tuple[np.ndarray, np.ndarray]:
    """A seed pair in a stratum; refused (ValueError) when Newton's method slid into a
    smaller stratum (more neurons equal than asked for: a component of its own)."""
    start = stratum_point(family.key, blocks, rng)
    p, theta = seed_pair(family, start, rng)
    if _orbit_size(orbits, theta) != _orbit_size(orbits, start):
        raise ValueError("the seed fell into a smaller stratum")
    return p, theta


def seed_solutions(
    family: NetworkFamily, rng: np.random.Generator, per_stratum: int = 2, tries: int = 6
) -> tuple[np.ndarray, np.ndarray]:
    """The base point ``p0`` and ``per_stratum`` seed solutions per stratum, every one a
    regular solution of ``F(.; p0)``.

    ``p0`` comes with the first generic seed; every other seed pair is moved from its own
    parameters to ``p0`` through a random complex point. Several seeds per stratum reach,
    with positive probability each, every component of the incidence variety that Newton's
    method can land on (a monodromy loop never leaves a component).
    """
    key = family.key
    orbits = permutation_orbits(key)
    todo = [blocks for blocks in strata(key) for _ in range(per_stratum)]
    p0, theta0 = _retry(lambda: _stratum_seed(family, todo[0], rng, orbits), tries)
    seeds = [theta0]
    for blocks in todo[1:]:
        try:
            seeds.append(_retry(lambda: _moved_seed(family, blocks, p0, rng, orbits), tries))
        except ValueError:
            log.warning("family %s: no seed for the stratum %s", key.id, [b.tolist() for b in blocks])
    return p0, np.array(seeds)


def _moved_seed(family: NetworkFamily, blocks: list[np.ndarray], p0: np.ndarray, rng: np.random.Generator, orbits: Symmetries | None) -> np.ndarray:
    """One stratum's seed, moved from its own parameters to ``p0`` through a random
    complex point (each segment then has a generic end)."""
    p_s, theta_s = _stratum_seed(family, blocks, rng, orbits)
    corners = [p_s, random_parameters(family, rng), p0]
    points = theta_s[None, :]
    for a, b in zip(corners, corners[1:]):
        res = track_parameters(family, a, b, points, seed=int(rng.integers(2**31)))
        points = regular_points(res.solutions, points.shape[1])
        if points.shape[0] != 1:
            raise ValueError("a stratum seed did not reach the base point")
    return points[0]


def _retry(make: Callable[[], T], tries: int) -> T:
    """``make()``, again on ValueError up to ``tries`` times (a seed draw can be unlucky);
    the last error propagates for the first stratum's caller."""
    last = ValueError("no tries")
    for k in range(max(1, tries)):
        try:
            return make()
        except ValueError as err:
            log.info("seed draw %d failed: %s", k, err)
            last = err
    raise last

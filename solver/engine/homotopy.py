"""The straight-line homotopy in projective coordinates: its data and its Numba kernels.

With ``X = (x0, x1, ..., xn)`` homogeneous coordinates and ``s`` going from 1 to 0,

    H_i(X, s) = s * gamma * G_i(X) + (1 - s) * F_i(X),     i = 1..n
    H_{n+1}(X) = a . X - 1                                   (a random affine patch)

where ``F_i`` is the target equation homogenised to the degree ``D_i`` of the start
equation ``G_i`` (``D_i`` >= deg F_i; the extra powers of ``x0`` only add solutions at
infinity). Paths that diverge in affine space stay bounded on the random patch, and their
endpoints have ``x0 -> 0`` (Morgan, "A transformation to avoid solutions at infinity for
polynomial systems", Appl. Math. Comput. 18, 1986). The random complex ``gamma`` keeps
the paths away from singularities for ``s`` in (0, 1] (the "gamma trick", Sommese and
Wampler, *The Numerical Solution of Systems of Polynomials*, 2005, ch. 8).

The start system is a product of linear forms (total-degree and linear-product starts:
``G_i = prod_k L_ik . X``), a sparse system with the target's supports (polyhedral
starts), or a member of the target's parametrised family on the same terms
(:mod:`solver.engine.parameter_homotopy`; evaluated in one pass over the shared monomials).

Homotopy data travel through the kernels as one :class:`Homotopy` (a typed NamedTuple,
which Numba passes by value), built by :func:`homotopy_data`; each path's scratch buffers
are one :class:`Workspace`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from solver.engine.evaluation import eval_terms_jacobian, eval_terms_pencil_jacobian, power_table, sparse_terms
from solver.engine.linalg import max_abs
from solver.engine.start_systems.linear_product import ProductStart
from solver.engine.start_systems.polyhedral import SparseStart
from solver.engine.system import InvalidSystem, System

START_PRODUCT = 0
START_SPARSE = 1
#: a coefficient-parameter homotopy: start and target share their terms ``fe``/``fo``
#: (``ge``/``go`` unused); ``fc`` holds the target's coefficients and ``gc`` the
#: derivative ``gamma G - F`` of the pencil, so ``H = F + s (gamma G - F)``
START_PARAMETER = 2


class Homotopy(NamedTuple):
    """The data the kernels read (packed terms: equation i owns rows ``o[i]:o[i+1]``).

    Attributes
    ----------
    kind : int
        ``START_PRODUCT``, ``START_SPARSE`` or ``START_PARAMETER``.
    lin : complex (n, max factors, n + 1)
        Linear factors of a product start (unused otherwise).
    n_factors : int64 (n,)
        Factors per start equation: the degree ``D_i`` each equation is homogenised to.
    gc, ge, go : complex (m,), int64 (m, n + 1), int64 (n + 1,)
        The sparse start's coefficients, homogenised exponents and offsets (parameter
        homotopy: ``gc`` is the pencil's derivative ``gamma G - F``).
    fc, fe, fo : complex (m,), int64 (m, n + 1), int64 (n + 1,)
        The target's coefficients, homogenised exponents and offsets.
    gamma : complex
        The random constant of the gamma trick.
    patch : complex (n + 1,)
        The random affine patch ``a``.
    gterms, fterms : int64
        The start's and the target's terms as :func:`~solver.engine.evaluation.sparse_terms`
        (each term's variables and powers), derived from ``ge`` and ``fe`` by
        :func:`make_homotopy`: the kernels read these, other code the dense exponents.

    Stacked along a leading axis (one row per system), the same fields but ``kind`` feed
    :func:`solver.engine.path_kernels.track_paths_batched`.
    """

    kind: int
    lin: np.ndarray
    n_factors: np.ndarray
    gc: np.ndarray
    ge: np.ndarray
    go: np.ndarray
    fc: np.ndarray
    fe: np.ndarray
    fo: np.ndarray
    gamma: complex
    patch: np.ndarray
    gterms: np.ndarray
    fterms: np.ndarray


class Workspace(NamedTuple):
    """Scratch buffers of one path (N = n + 1 homogeneous coordinates).

    Attributes
    ----------
    f, jac, hs : complex (N,), (N, N), (N,)
        H, dH/dX and dH/ds at the last point evaluated (``jac`` is factored in place).
    tf, tjac : complex (n,), (n, N)
        One side's values and Jacobian before they are combined.
    prefix, vals : complex
        Prefix products and factor values of the product rule.
    piv : int64 (N,)
        LU pivots of ``jac``.
    pw : complex (N, max degree + 1)
        Powers of each coordinate (of the scaled point ``y``).
    y : complex (N,)
        The point evaluated, ``X / max|X|`` (see :func:`evaluate_homotopy`).
    """

    f: np.ndarray
    jac: np.ndarray
    hs: np.ndarray
    tf: np.ndarray
    tjac: np.ndarray
    prefix: np.ndarray
    vals: np.ndarray
    piv: np.ndarray
    pw: np.ndarray
    y: np.ndarray


def random_gamma_patch(n_vars: int, rng: np.random.Generator) -> tuple[complex, np.ndarray]:
    """The gamma constant on the unit circle and a random complex patch of length n + 1."""
    gamma = np.exp(2j * np.pi * rng.uniform())
    N = n_vars + 1
    patch = (rng.normal(size=N) + 1j * rng.normal(size=N)) / np.sqrt(2 * N)
    return complex(gamma), patch


def homotopy_data(system: System, start: ProductStart | SparseStart, rng: np.random.Generator) -> Homotopy:
    """The :class:`Homotopy` from ``start`` to ``system`` (random gamma and patch from ``rng``)."""
    n = system.n_variables
    N = n + 1
    if isinstance(start, ProductStart):
        degrees = start.n_factors
        lin = np.ascontiguousarray(start.lin)
        gc, ge, go = np.zeros(0, np.complex128), np.zeros((0, N), np.int64), np.zeros(n + 1, np.int64)
        kind = START_PRODUCT
    else:
        degrees = system.degrees
        lin = np.zeros((n, 1, N), np.complex128)
        gc, ge, go = _homogenized(start.system.scaled(), degrees)
        kind = START_SPARSE
    fc, fe, fo = _homogenized(system.scaled(), degrees)
    gamma, patch = random_gamma_patch(n, rng)
    return make_homotopy(kind, lin, np.asarray(degrees, np.int64), gc, ge, go, fc, fe, fo, gamma, patch)


def make_homotopy(kind: int, lin: np.ndarray, n_factors: np.ndarray, gc: np.ndarray, ge: np.ndarray, go: np.ndarray,
                  fc: np.ndarray, fe: np.ndarray, fo: np.ndarray, gamma: complex, patch: np.ndarray) -> Homotopy:
    """The :class:`Homotopy` of these fields, with the sparse term lists the kernels read
    derived from the dense exponents ``ge`` and ``fe``."""
    return Homotopy(kind, lin, n_factors, gc, ge, go, fc, fe, fo, gamma, patch, sparse_terms(ge), sparse_terms(fe))


def _homogenized(system: System, degrees: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Packed terms with a leading x0 column raising equation i to degree ``degrees[i]``."""
    c, e, o = system.packed
    return c, homogenized_exponents(e, o, degrees), o


def homogenized_exponents(exps: np.ndarray, offsets: np.ndarray, degrees: np.ndarray) -> np.ndarray:
    """Packed exponents (terms of equation i in rows ``offsets[i]:offsets[i+1]``) with a
    leading x0 column raising every equation i to degree ``degrees[i]``."""
    eq = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    x0 = np.asarray(degrees)[eq] - exps.sum(axis=1)
    if (x0 < 0).any():
        raise InvalidSystem("a start equation has lower degree than its target equation")
    return np.ascontiguousarray(np.hstack([x0[:, None], exps]))


@njit(cache=True)
def max_degree(hom) -> int:
    """Largest exponent or factor count in the homotopy: the size of the power table."""
    d = hom.lin.shape[1]
    if hom.ge.size:
        d = max(d, hom.ge.max())
    if hom.fe.size:
        d = max(d, hom.fe.max())
    return d


@njit(cache=True)
def make_workspace(n_vars: int, max_factors: int) -> Workspace:
    """Scratch buffers of one path (N = n_vars + 1 homogeneous coordinates);
    ``max_factors`` bounds both the factors per start equation and the exponents."""
    N = n_vars + 1
    return Workspace(
        np.empty(N, dtype=np.complex128),
        np.empty((N, N), dtype=np.complex128),
        np.empty(N, dtype=np.complex128),
        np.empty(n_vars, dtype=np.complex128),
        np.empty((n_vars, N), dtype=np.complex128),
        np.empty(max(N, max_factors) + 1, dtype=np.complex128),
        np.empty(max(max_factors, 1), dtype=np.complex128),
        np.empty(N, dtype=np.int64),
        np.empty((N, max_factors + 1), dtype=np.complex128),
        np.empty(N, dtype=np.complex128),
    )


@njit(cache=True)
def evaluate_homotopy(X, s, hom, ws):
    """Write H, dH/dX and dH/ds at (X, s) into the workspace ``ws`` (f, jac, hs), rows
    ``i < n`` scaled by ``max|X|^-(d_i - 1)``.

    Every equation but the patch is homogeneous in X (degree ``d_i``), so it is evaluated
    at ``Y = X / max|X|``: ``x^1000`` at ``|x| = 2`` would overflow to inf (and NaN in
    the Jacobian). Row ``i`` of ``(H, dH/dX, dH/ds)`` at X is ``max|X|^(d_i - 1)`` times
    ``(max|X| H_i(Y), dH_i/dX(Y), max|X| dH_i/ds(Y))``; a row scaling leaves Newton
    updates and velocities unchanged.
    """
    kind, lin, nfac, gamma, patch = hom.kind, hom.lin, hom.n_factors, hom.gamma, hom.patch
    gc, go, fc, fo = hom.gc, hom.go, hom.fc, hom.fo
    f, jac, hs, tf, tjac, prefix, vals, pw, Y = ws.f, ws.jac, ws.hs, ws.tf, ws.tjac, ws.prefix, ws.vals, ws.pw, ws.y
    N = X.shape[0]
    n = N - 1
    one_minus_s = 1.0 - s
    sigma = max_abs(X)
    if not sigma > 0.0 or sigma == np.inf:
        sigma = 1.0  # zero or not finite: nothing to gain, the factorisation refuses it
    for j in range(N):
        Y[j] = X[j] / sigma
    power_table(Y, pw)
    if kind == START_PARAMETER:
        eval_terms_pencil_jacobian(gc, fc, s, hom.fterms, fo, pw, f, hs, jac, prefix)
        _scale_rows(f, hs, n, sigma)
        _patch_row(X, patch, f, jac, hs)
        return
    eval_terms_jacobian(fc, hom.fterms, fo, pw, tf, tjac, prefix)
    for i in range(n):
        f[i] = one_minus_s * tf[i]
        hs[i] = -tf[i]
        for j in range(N):
            jac[i, j] = one_minus_s * tjac[i, j]
    sg = s * gamma
    if kind == START_PRODUCT:
        for i in range(n):
            D = nfac[i]
            for k in range(D):
                acc = 0.0 + 0.0j
                for j in range(N):
                    acc += lin[i, k, j] * Y[j]
                vals[k] = acc
            prefix[0] = 1.0
            for k in range(D):
                prefix[k + 1] = prefix[k] * vals[k]
            g = prefix[D]
            f[i] += sg * g
            hs[i] += gamma * g
            # d/dX_j prod_k v_k = sum_k L_kj prod_{l != k} v_l, by prefix and suffix products
            suffix = 1.0 + 0.0j
            for k in range(D - 1, -1, -1):
                w = sg * prefix[k] * suffix
                for j in range(N):
                    jac[i, j] += w * lin[i, k, j]
                suffix *= vals[k]
    else:
        eval_terms_jacobian(gc, hom.gterms, go, pw, tf, tjac, prefix)
        for i in range(n):
            f[i] += sg * tf[i]
            hs[i] += gamma * tf[i]
            for j in range(N):
                jac[i, j] += sg * tjac[i, j]
    _scale_rows(f, hs, n, sigma)
    _patch_row(X, patch, f, jac, hs)


@njit(cache=True, inline="always")
def _scale_rows(f, hs, n, sigma):
    """Rows evaluated at ``X / sigma``, values and s-derivatives times ``sigma``."""
    for i in range(n):
        f[i] *= sigma
        hs[i] *= sigma


@njit(cache=True, inline="always")
def _patch_row(X, patch, f, jac, hs):
    """The last row: the affine patch ``a . X - 1``."""
    n = X.shape[0] - 1
    acc = -1.0 + 0.0j
    for j in range(n + 1):
        acc += patch[j] * X[j]
        jac[n, j] = patch[j]
    f[n] = acc
    hs[n] = 0.0

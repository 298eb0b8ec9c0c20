"""The straight-line homotopy in projective coordinates, as Numba kernels.

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

Homotopy data travel through the kernels as one tuple::

    hom = (kind, lin, n_factors, g_coeffs, g_exps, g_offsets,
           f_coeffs, f_exps, f_offsets, gamma, patch)
"""

from __future__ import annotations

import numpy as np
from numba import njit

from solver.engine.evaluation import eval_pencil_jacobian, eval_sparse_jacobian, power_table

START_PRODUCT = 0
START_SPARSE = 1
#: a coefficient-parameter homotopy: start and target share their terms ``fe``/``fo``
#: (``ge``/``go`` unused); ``fc`` holds the target's coefficients and ``gc`` the
#: derivative ``gamma G - F`` of the pencil, so ``H = F + s (gamma G - F)``
START_PARAMETER = 2


@njit(cache=True)
def max_degree(hom) -> int:
    """Largest exponent or factor count in the homotopy: the size of the power table."""
    lin, ge, fe = hom[1], hom[4], hom[7]
    d = lin.shape[1]
    if ge.size:
        d = max(d, ge.max())
    if fe.size:
        d = max(d, fe.max())
    return d


@njit(cache=True)
def make_workspace(n_vars: int, max_factors: int):
    """Scratch buffers of one path (N = n_vars + 1 homogeneous coordinates);
    ``max_factors`` bounds both the factors per start equation and the exponents."""
    N = n_vars + 1
    f = np.empty(N, dtype=np.complex128)
    jac = np.empty((N, N), dtype=np.complex128)
    hs = np.empty(N, dtype=np.complex128)
    tf = np.empty(n_vars, dtype=np.complex128)
    tjac = np.empty((n_vars, N), dtype=np.complex128)
    prefix = np.empty(max(N, max_factors) + 1, dtype=np.complex128)
    vals = np.empty(max(max_factors, 1), dtype=np.complex128)
    piv = np.empty(N, dtype=np.int64)
    pw = np.empty((N, max_factors + 1), dtype=np.complex128)
    return f, jac, hs, tf, tjac, prefix, vals, piv, pw


@njit(cache=True)
def evaluate_homotopy(X, s, hom, ws):
    """Write H, dH/dX and dH/ds at (X, s) into the workspace ``ws`` (f, jac, hs)."""
    kind, lin, nfac, gc, ge, go, fc, fe, fo, gamma, patch = hom
    f, jac, hs, tf, tjac, prefix, vals, piv, pw = ws
    N = X.shape[0]
    n = N - 1
    one_minus_s = 1.0 - s
    power_table(X, pw)
    if kind == START_PARAMETER:
        eval_pencil_jacobian(gc, fc, s, fe, fo, pw, f, hs, jac, prefix)
        _patch_row(X, patch, f, jac, hs)
        return
    eval_sparse_jacobian(fc, fe, fo, pw, tf, tjac, prefix)
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
                    acc += lin[i, k, j] * X[j]
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
        eval_sparse_jacobian(gc, ge, go, pw, tf, tjac, prefix)
        for i in range(n):
            f[i] += sg * tf[i]
            hs[i] += gamma * tf[i]
            for j in range(N):
                jac[i, j] += sg * tjac[i, j]
    _patch_row(X, patch, f, jac, hs)


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


@njit(cache=True)
def lu_factor(A, piv):
    """In-place LU with partial pivoting. Returns min|U_kk| / max|U_kk| (0 when singular),
    a cheap stand-in for the inverse condition number."""
    N = A.shape[0]
    umin = np.inf
    umax = 0.0
    for k in range(N):
        p = k
        best = abs(A[k, k])
        for r in range(k + 1, N):
            v = abs(A[r, k])
            if v > best:
                best = v
                p = r
        piv[k] = p
        if p != k:
            for c in range(N):
                tmp = A[k, c]
                A[k, c] = A[p, c]
                A[p, c] = tmp
        if best == 0.0:
            return 0.0
        umin = min(umin, best)
        umax = max(umax, best)
        inv = 1.0 / A[k, k]
        for r in range(k + 1, N):
            m = A[r, k] * inv
            A[r, k] = m
            if m != 0:
                for c in range(k + 1, N):
                    A[r, c] -= m * A[k, c]
    return umin / umax


@njit(cache=True)
def lu_solve(LU, piv, b):
    """Solve in place: ``b`` becomes A^{-1} b for the factors from :func:`lu_factor`."""
    N = LU.shape[0]
    for k in range(N):
        p = piv[k]
        if p != k:
            tmp = b[k]
            b[k] = b[p]
            b[p] = tmp
    for r in range(N):
        acc = b[r]
        for c in range(r):
            acc -= LU[r, c] * b[c]
        b[r] = acc
    for r in range(N - 1, -1, -1):
        acc = b[r]
        for c in range(r + 1, N):
            acc -= LU[r, c] * b[c]
        b[r] = acc / LU[r, r]


@njit(cache=True)
def max_abs(x) -> float:
    m = 0.0
    for v in x:
        a = abs(v)
        if a > m:
            m = a
    return m

"""Numba kernels that evaluate packed sparse systems and their Jacobians.

A packed system is ``(coefficients, exponents, offsets)`` as returned by
:attr:`solver.engine.system.System.packed`. The single-point kernels write into caller-owned
buffers so the path tracker allocates nothing per step; the ``*_many`` wrappers loop over
points for the Python side (refinement, residuals, tests).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _power(z: complex, k: int) -> complex:
    out = 1.0 + 0.0j
    for _ in range(k):
        out *= z
    return out


@njit(cache=True)
def eval_sparse(coeffs, exps, offsets, x, f):
    """f[i] = sum of the terms of equation i at x. ``x`` may have more entries than the
    exponent columns (extra entries are ignored)."""
    n = exps.shape[1]
    for i in range(offsets.shape[0] - 1):
        acc = 0.0 + 0.0j
        for k in range(offsets[i], offsets[i + 1]):
            term = coeffs[k]
            for j in range(n):
                e = exps[k, j]
                if e:
                    term *= _power(x[j], e)
            acc += term
        f[i] = acc


@njit(cache=True)
def power_table(x, pw):
    """pw[j, e] = x[j] ** e for e < pw.shape[1]: every power a term needs, computed once
    per point instead of once per term."""
    for j in range(x.shape[0]):
        pw[j, 0] = 1.0
        for e in range(1, pw.shape[1]):
            pw[j, e] = pw[j, e - 1] * x[j]


@njit(cache=True)
def eval_sparse_jacobian(coeffs, exps, offsets, pw, f, jac, prefix):
    """Values into ``f`` (m,) and the Jacobian into ``jac`` (m, n) at the point whose
    :func:`power_table` is ``pw``.

    Each term's partial derivatives use prefix/suffix products of its factors, so a zero
    coordinate needs no division. ``prefix`` is scratch of length at least n.
    """
    n = exps.shape[1]
    m = offsets.shape[0] - 1
    for i in range(m):
        for j in range(n):
            jac[i, j] = 0.0
    for i in range(m):
        fi = 0.0 + 0.0j
        for k in range(offsets[i], offsets[i + 1]):
            # prefix[j]: the coefficient times the factors before variable j; variables
            # absent from the term cost a copy, not a multiplication
            p = coeffs[k]
            for j in range(n):
                prefix[j] = p
                e = exps[k, j]
                if e:
                    p = p * pw[j, e]
            fi += p
            suffix = 1.0 + 0.0j
            for j in range(n - 1, -1, -1):
                e = exps[k, j]
                if e:
                    jac[i, j] += e * prefix[j] * pw[j, e - 1] * suffix
                    suffix *= pw[j, e]
        f[i] = fi


@njit(cache=True)
def eval_pencil_jacobian(cd, cf, t, exps, offsets, pw, f, g, jac, prefix):
    """A polynomial pencil of systems on shared terms, in one pass over their monomials ``m_k``.

    The coefficient of term ``k`` is the polynomial ``c_k(t) = cf_k + sum_l t^l cd[(l-1) M + k]``
    (``M = len(cf)``, ``l = 1..K`` with ``K = len(cd) // M``): ``K = 1`` is the straight
    pencil ``cf + t cd`` of a linear family; ``K > 1`` a family whose coefficients are
    polynomial in its parameters, moved along a segment (:mod:`solver.engine.parameter_homotopy`).
    Writes ``f = sum c_k(t) m_k`` and its Jacobian into ``jac`` (rows 0..m-1), and
    ``g = sum c_k'(t) m_k`` (its derivative in ``t``), at the point whose
    :func:`power_table` is ``pw``.
    """
    n = exps.shape[1]
    m = offsets.shape[0] - 1
    M = cf.shape[0]
    K = cd.shape[0] // M if M > 0 else 1
    for i in range(m):
        for j in range(n):
            jac[i, j] = 0.0
    for i in range(m):
        fi = 0.0 + 0.0j
        gi = 0.0 + 0.0j
        for k in range(offsets[i], offsets[i + 1]):
            # Horner in t for c_k(t) and c_k'(t)
            c = cd[(K - 1) * M + k]
            dc = 0.0 + 0.0j
            for l in range(K - 2, -1, -1):
                dc = dc * t + c
                c = c * t + cd[l * M + k]
            dc = dc * t + c
            c = c * t + cf[k]
            p = 1.0 + 0.0j
            for j in range(n):
                prefix[j] = p
                e = exps[k, j]
                if e:
                    p = p * pw[j, e]
            fi += c * p
            gi += dc * p
            suffix = c
            for j in range(n - 1, -1, -1):
                e = exps[k, j]
                if e:
                    jac[i, j] += e * prefix[j] * pw[j, e - 1] * suffix
                    suffix *= pw[j, e]
        f[i] = fi
        g[i] = gi


@njit(cache=True)
def evaluate_many(coeffs, exps, offsets, points):
    """Values at each row of ``points``: shape (P, m)."""
    P = points.shape[0]
    out = np.empty((P, offsets.shape[0] - 1), dtype=np.complex128)
    for p in range(P):
        eval_sparse(coeffs, exps, offsets, points[p], out[p])
    return out


@njit(cache=True)
def jacobian_many(coeffs, exps, offsets, points):
    """Jacobians at each row of ``points``: shape (P, m, n)."""
    P, n = points.shape[0], exps.shape[1]
    m = offsets.shape[0] - 1
    out = np.empty((P, m, n), dtype=np.complex128)
    maxdeg = exps.max() if exps.size else 0
    for p in range(P):
        f = np.empty(m, dtype=np.complex128)
        prefix = np.empty(n + 1, dtype=np.complex128)
        pw = np.empty((n, maxdeg + 1), dtype=np.complex128)
        power_table(points[p], pw)
        eval_sparse_jacobian(coeffs, exps, offsets, pw, f, out[p], prefix)
    return out


@njit(cache=True)
def residual_scales_many(coeffs, exps, offsets, points):
    """``sum_k |c_k x^a_k|`` per equation and point: the denominator of relative residuals."""
    P, n = points.shape[0], exps.shape[1]
    m = offsets.shape[0] - 1
    out = np.zeros((P, m))
    for p in range(P):
        for i in range(m):
            acc = 0.0
            for k in range(offsets[i], offsets[i + 1]):
                term = abs(coeffs[k])
                for j in range(n):
                    if exps[k, j]:
                        term *= abs(points[p, j]) ** exps[k, j]
                acc += term
            out[p, i] = acc
    return out

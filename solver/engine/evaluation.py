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



def sparse_terms(exps: np.ndarray) -> np.ndarray:
    """Each term's nonzero exponents as flat lists, packed in one int64 array
    ``[ptr | var | pow]``: term ``k`` is the product of the variables ``var[ptr[k]:ptr[k + 1]]``
    (ascending) to the powers ``pow[ptr[k]:ptr[k + 1]]``; ``ptr`` has one entry per term
    and one more (see :func:`term_lists`).

    Built once from the dense exponents (m, n) of a packed system, so that
    :func:`eval_terms_jacobian` and :func:`eval_terms_pencil_jacobian` visit only the factors
    a term has (1-3 of katsura's, cyclic's and eco's n + 1 homogeneous columns) instead of
    testing every column. One array rather than three keeps the homotopy the kernels pass
    around small (measured: 2-6% of the tracker's time on katsura-6..8 and noon-3).
    """
    exps = np.asarray(exps)
    rows, cols = np.nonzero(exps)  # row-major: each term's variables in ascending order
    ptr = np.zeros(exps.shape[0] + 1, np.int64)
    np.cumsum(np.count_nonzero(exps, axis=1), out=ptr[1:])
    return np.concatenate([ptr, cols.astype(np.int64), exps[rows, cols].astype(np.int64)])


@njit(cache=True, inline="always")
def term_lists(terms, n_terms):
    """``(ptr, var, pow)``: views of the :func:`sparse_terms` array of ``n_terms`` terms
    (trailing entries, such as a batch's padding, are ignored)."""
    z = terms[n_terms]
    return terms[: n_terms + 1], terms[n_terms + 1 : n_terms + 1 + z], terms[n_terms + 1 + z : n_terms + 1 + 2 * z]


@njit(cache=True, inline="always")
def _times_derivative(d: complex, pw, j: int, e: int) -> complex:
    """``d * e * x_j^(e-1)``: nothing to multiply for e = 1, and the integer ``e`` scales
    the real and imaginary parts (a complex product by ``e + 0i`` costs four)."""
    if e == 1:
        return d
    d = d * pw[j, e - 1]
    return complex(e * d.real, e * d.imag)


@njit(cache=True)
def _eval_terms(cd, cf, t, pencil, tp, tv, tx, offsets, pw, f, g, jac, prefix):
    """The kernel behind :func:`eval_terms_jacobian` (``pencil`` False: coefficients
    ``cf``, ``cd``, ``t`` and ``g`` unused) and :func:`eval_terms_pencil_jacobian`.

    Terms of one to three factors (all of katsura's and eco's, most of cyclic's) are
    written out; longer ones use prefix and suffix products. No division: a zero coordinate
    is as good as any.
    """
    m = offsets.shape[0] - 1
    M = cf.shape[0]
    K = cd.shape[0] // M if M > 0 else 1
    for i in range(m):
        for j in range(jac.shape[1]):
            jac[i, j] = 0.0
    for i in range(m):
        fi = 0.0 + 0.0j
        gi = 0.0 + 0.0j
        for k in range(offsets[i], offsets[i + 1]):
            c = cf[k]
            dc = 0.0 + 0.0j
            if pencil:
                # Horner in t for c_k(t) and c_k'(t)
                c = cd[(K - 1) * M + k]
                for l in range(K - 2, -1, -1):
                    dc = dc * t + c
                    c = c * t + cd[l * M + k]
                dc = dc * t + c
                c = c * t + cf[k]
            a, b = tp[k], tp[k + 1]
            # v = c_k m_k and, for the pencil, the monomial p = m_k itself
            if b - a == 1:
                j, e = tv[a], tx[a]
                jac[i, j] += _times_derivative(c, pw, j, e)
                p = pw[j, e]
                v = c * p
            elif b - a == 2:
                j1, e1, j2, e2 = tv[a], tx[a], tv[a + 1], tx[a + 1]
                p1, p2 = pw[j1, e1], pw[j2, e2]
                cp1 = c * p1
                jac[i, j1] += _times_derivative(c * p2, pw, j1, e1)
                jac[i, j2] += _times_derivative(cp1, pw, j2, e2)
                v = cp1 * p2
                if pencil:
                    p = p1 * p2
            elif b - a == 3:
                j1, e1, j2, e2, j3, e3 = tv[a], tx[a], tv[a + 1], tx[a + 1], tv[a + 2], tx[a + 2]
                p1, p2, p3 = pw[j1, e1], pw[j2, e2], pw[j3, e3]
                cp1 = c * p1
                cp12 = cp1 * p2
                jac[i, j1] += _times_derivative(c * (p2 * p3), pw, j1, e1)
                jac[i, j2] += _times_derivative(cp1 * p3, pw, j2, e2)
                jac[i, j3] += _times_derivative(cp12, pw, j3, e3)
                v = cp12 * p3
                if pencil:
                    p = p1 * p2 * p3
            else:
                p = 1.0 + 0.0j
                for q in range(a, b):
                    prefix[q - a] = p
                    p = p * pw[tv[q], tx[q]]
                suffix = c
                for q in range(b - 1, a - 1, -1):
                    j, e = tv[q], tx[q]
                    jac[i, j] += _times_derivative(prefix[q - a] * suffix, pw, j, e)
                    suffix *= pw[j, e]
                v = c * p
            fi += v
            if pencil:
                gi += dc * p
        f[i] = fi
        if pencil:
            g[i] = gi


@njit(cache=True)
def eval_terms_jacobian(coeffs, terms, offsets, pw, f, jac, prefix):
    """:func:`eval_sparse_jacobian` on the terms of :func:`sparse_terms` (``terms``),
    visiting each term's own factors only. ``jac`` is (m, n); ``prefix`` is scratch of
    length at least the most factors of a term."""
    tp, tv, tx = term_lists(terms, offsets[offsets.shape[0] - 1])
    _eval_terms(coeffs, coeffs, 0.0j, False, tp, tv, tx, offsets, pw, f, f, jac, prefix)


@njit(cache=True)
def eval_terms_pencil_jacobian(cd, cf, t, terms, offsets, pw, f, g, jac, prefix):
    """:func:`eval_pencil_jacobian` on the terms of :func:`sparse_terms` (``terms``)."""
    tp, tv, tx = term_lists(terms, offsets[offsets.shape[0] - 1])
    _eval_terms(cd, cf, t, True, tp, tv, tx, offsets, pw, f, g, jac, prefix)

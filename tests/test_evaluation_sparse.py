"""The sparse-term evaluation kernels (issue 12) against the closed form of a polynomial's
values and Jacobian (``c prod x_j^a_j`` and ``c a_j x_j^(a_j - 1) prod_{l != j} x_l^a_l``
by NumPy powers) and against the dense-exponent kernels they replace, on random systems
whose terms have zero to five factors, exponents up to 4 and points with zero coordinates.
"""

from __future__ import annotations

import numpy as np
import pytest

from solver.engine.evaluation import (
    eval_pencil_jacobian,
    eval_sparse_jacobian,
    eval_terms_jacobian,
    eval_terms_pencil_jacobian,
    power_table,
    sparse_terms,
    term_lists,
)
from solver.engine.homotopy import START_SPARSE, evaluate_homotopy, make_homotopy, make_workspace, max_degree


def random_packed(rng: np.random.Generator, m: int, n: int, max_exp: int = 4):
    """A packed system of ``m`` equations in ``n`` variables: per equation 1-8 terms, each
    with 0..min(n, 5) factors (the constant term included)."""
    rows, offsets = [], [0]
    for _ in range(m):
        k = int(rng.integers(1, 9))
        for _ in range(k):
            e = np.zeros(n, np.int64)
            vars_ = rng.choice(n, size=int(rng.integers(0, min(n, 5) + 1)), replace=False)
            e[vars_] = rng.integers(1, max_exp + 1, size=vars_.size)
            rows.append(e)
        offsets.append(offsets[-1] + k)
    exps = np.ascontiguousarray(np.array(rows, np.int64))
    coeffs = rng.normal(size=len(rows)) + 1j * rng.normal(size=len(rows))
    return coeffs, exps, np.array(offsets, np.int64)


def closed_form(coeffs, exps, offsets, x):
    """Values and Jacobian by NumPy powers, term by term."""
    m, n = offsets.size - 1, exps.shape[1]
    f = np.zeros(m, np.complex128)
    jac = np.zeros((m, n), np.complex128)
    for i in range(m):
        for k in range(offsets[i], offsets[i + 1]):
            a = exps[k]
            f[i] += coeffs[k] * np.prod(x**a)
            for j in np.flatnonzero(a):
                b = a.copy()
                b[j] -= 1
                jac[i, j] += coeffs[k] * a[j] * np.prod(x**b)
    return f, jac


def random_point(rng, n, zeros=0):
    x = (rng.normal(size=n) + 1j * rng.normal(size=n)) / np.sqrt(2)
    x[rng.choice(n, size=zeros, replace=False)] = 0.0
    return x


def test_sparse_terms_lists_each_terms_nonzero_exponents():
    exps = np.array([[0, 2, 0, 1], [0, 0, 0, 0], [3, 0, 0, 0]], np.int64)
    terms = sparse_terms(exps)
    assert terms.tolist() == [0, 2, 2, 3] + [1, 3, 0] + [2, 1, 3]
    ptr, var, pw = term_lists(np.concatenate([terms, [7, 7]]), 3)  # padding ignored
    assert ptr.tolist() == [0, 2, 2, 3] and var.tolist() == [1, 3, 0] and pw.tolist() == [2, 1, 3]
    assert sparse_terms(np.zeros((0, 5), np.int64)).tolist() == [0]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("zeros", [0, 1, 2])
def test_terms_jacobian_matches_closed_form_and_dense_kernel(seed, zeros):
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(1, 7)), int(rng.integers(2, 9))
    coeffs, exps, offsets = random_packed(rng, m, n)
    terms = sparse_terms(exps)
    x = random_point(rng, n, min(zeros, n))
    pw = np.empty((n, exps.max() + 1), np.complex128)
    power_table(x, pw)
    f, jac = np.empty(m, np.complex128), np.full((m, n), np.nan + 0j)
    prefix = np.empty(n + 1, np.complex128)
    eval_terms_jacobian(coeffs, terms, offsets, pw, f, jac, prefix)
    f0, jac0 = closed_form(coeffs, exps, offsets, x)
    scale = max(1.0, np.abs(f0).max(), np.abs(jac0).max())
    assert np.abs(f - f0).max() <= 1e-13 * scale
    assert np.abs(jac - jac0).max() <= 1e-13 * scale
    fd, jd = np.empty(m, np.complex128), np.empty((m, n), np.complex128)
    eval_sparse_jacobian(coeffs, exps, offsets, pw, fd, jd, prefix)
    assert np.abs(f - fd).max() <= 1e-14 * scale
    assert np.abs(jac - jd).max() <= 1e-14 * scale


def test_terms_jacobian_matches_finite_differences():
    rng = np.random.default_rng(11)
    m, n = 5, 6
    coeffs, exps, offsets = random_packed(rng, m, n)
    terms = sparse_terms(exps)
    pw = np.empty((n, exps.max() + 1), np.complex128)
    prefix = np.empty(n + 1, np.complex128)

    def evaluate(x):
        f, jac = np.empty(m, np.complex128), np.empty((m, n), np.complex128)
        power_table(x, pw)
        eval_terms_jacobian(coeffs, terms, offsets, pw, f, jac, prefix)
        return f, jac

    x = random_point(rng, n)
    f, jac = evaluate(x)
    h = 1e-6
    for j in range(n):
        e = np.zeros(n, np.complex128)
        e[j] = h
        central = (evaluate(x + e)[0] - evaluate(x - e)[0]) / (2 * h)  # holomorphic: any direction
        assert np.abs(central - jac[:, j]).max() <= 1e-6 * max(1.0, np.abs(jac).max())


@pytest.mark.parametrize("layers", [1, 3])
def test_terms_pencil_matches_closed_form_and_dense_kernel(layers):
    rng = np.random.default_rng(layers)
    m, n = 4, 5
    cf, exps, offsets = random_packed(rng, m, n)
    M = cf.size
    cd = rng.normal(size=layers * M) + 1j * rng.normal(size=layers * M)
    t = 0.3 - 0.7j
    terms = sparse_terms(exps)
    x = random_point(rng, n, 1)
    pw = np.empty((n, exps.max() + 1), np.complex128)
    power_table(x, pw)
    prefix = np.empty(n + 1, np.complex128)
    f, g, jac = np.empty(m, np.complex128), np.empty(m, np.complex128), np.empty((m, n), np.complex128)
    eval_terms_pencil_jacobian(cd, cf, t, terms, offsets, pw, f, g, jac, prefix)
    # c(t) = cf + sum_l t^l cd_l and c'(t), then the closed form with those coefficients
    c = cf + sum(t ** (l + 1) * cd[l * M : (l + 1) * M] for l in range(layers))
    dc = sum((l + 1) * t**l * cd[l * M : (l + 1) * M] for l in range(layers))
    f0, jac0 = closed_form(c, exps, offsets, x)
    g0, _ = closed_form(dc, exps, offsets, x)
    scale = max(1.0, np.abs(f0).max(), np.abs(jac0).max(), np.abs(g0).max())
    for got, want in ((f, f0), (g, g0), (jac, jac0)):
        assert np.abs(got - want).max() <= 1e-13 * scale
    fd, gd, jd = np.empty(m, np.complex128), np.empty(m, np.complex128), np.empty((m, n), np.complex128)
    eval_pencil_jacobian(cd, cf, t, exps, offsets, pw, fd, gd, jd, prefix)
    for got, want in ((f, fd), (g, gd), (jac, jd)):
        assert np.abs(got - want).max() <= 1e-14 * scale


def test_evaluate_homotopy_with_sparse_start_matches_closed_form():
    """H = s gamma G + (1 - s) F on homogeneous G and F, and the patch row, at a point
    with max|X| = 1 (no row scaling): values, dH/dX and dH/ds."""
    rng = np.random.default_rng(5)
    n = 4
    N = n + 1
    degrees = np.array([3, 2, 4, 3], np.int64)

    def homogeneous(rng):
        c, e, o = random_packed(rng, n, n, max_exp=2)
        keep = e.sum(axis=1) <= degrees[np.repeat(np.arange(n), np.diff(o))]
        e, c = e[keep], c[keep]
        o = np.concatenate([[0], np.cumsum([keep[a:b].sum() for a, b in zip(o[:-1], o[1:])])]).astype(np.int64)
        eq = np.repeat(np.arange(n), np.diff(o))
        return c, np.ascontiguousarray(np.hstack([(degrees[eq] - e.sum(axis=1))[:, None], e])), o

    gc, ge, go = homogeneous(rng)
    fc, fe, fo = homogeneous(rng)
    gamma = np.exp(0.7j)
    patch = rng.normal(size=N) + 1j * rng.normal(size=N)
    hom = make_homotopy(START_SPARSE, np.zeros((n, 1, N), np.complex128), degrees, gc, ge, go, fc, fe, fo, gamma, patch)
    X = random_point(rng, N, 1)
    X /= np.abs(X).max()  # max|X| = 1: the kernel evaluates at X itself
    s = 0.37 + 0.0j
    ws = make_workspace(n, max_degree(hom))
    evaluate_homotopy(X, s, hom, ws)
    G, JG = closed_form(gc, ge, go, X)
    F, JF = closed_form(fc, fe, fo, X)
    scale = max(1.0, np.abs(JG).max(), np.abs(JF).max())
    assert np.abs(ws.f[:n] - (s * gamma * G + (1 - s) * F)).max() <= 1e-13 * scale
    assert np.abs(ws.jac[:n] - (s * gamma * JG + (1 - s) * JF)).max() <= 1e-13 * scale
    assert np.abs(ws.hs[:n] - (gamma * G - F)).max() <= 1e-13 * scale
    assert abs(ws.f[n] - (patch @ X - 1)) <= 1e-13 * scale

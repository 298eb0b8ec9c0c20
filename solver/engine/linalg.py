"""Dense linear algebra for the path kernels: in-place LU factorisation with partial
pivoting and its solve (Golub and Van Loan, *Matrix Computations*, 4th ed., 2013, sec.
3.4), and the max-norm. Written out as Numba kernels because the systems are small
(n + 1 <= a few dozen) and are solved millions of times inside ``prange`` loops, where
LAPACK's call overhead and allocations would dominate.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def lu_factor(A, piv):
    """In-place LU with partial pivoting. Returns min|U_kk| / max|U_kk| (0 when singular),
    a cheap stand-in for the inverse condition number."""
    N = A.shape[0]
    umin = np.inf
    umax = 0.0
    for k in range(N):
        # the pivot by |re| + |im| (LAPACK's cabs1): no square root per candidate; its
        # modulus for the ratio returned
        p = k
        best = np.abs(A[k, k].real) + np.abs(A[k, k].imag)
        for r in range(k + 1, N):
            v = np.abs(A[r, k].real) + np.abs(A[r, k].imag)
            if v > best:
                best = v
                p = r
        piv[k] = p
        if p != k:
            for c in range(N):
                tmp = A[k, c]
                A[k, c] = A[p, c]
                A[p, c] = tmp
        best = abs(A[k, k])
        if not best > 0.0 or best == np.inf:
            # zero, or a non-finite Jacobian (a power that overflowed at a predictor
            # point): unusable, and min/max of NaN pivots would divide by zero below
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
    """max_j |x_j| (0 for an empty vector; NaN when an entry is NaN, so that a ratio by it
    is NaN and fails every test instead of dividing by zero)."""
    m = 0.0
    for v in x:
        a = abs(v)
        if a > m or a != a:
            m = a
            if a != a:
                return a
    return m

"""Comparing solution sets in the tests (shared by the test files)."""

from __future__ import annotations

import numpy as np


def same_sets(a: np.ndarray, b: np.ndarray, tol: float = 1e-6) -> bool:
    """Equal point sets (rows of ``a`` and ``b``) up to a max-norm tolerance relative to
    ``1 + |x|``, each point of ``b`` matched once."""
    if a.shape != b.shape:
        return False
    used = np.zeros(len(b), bool)
    for p in a:
        d = np.abs(b - p).max(axis=1) / (1 + np.abs(p).max())
        d[used] = np.inf
        k = int(np.argmin(d))
        if d[k] > tol:
            return False
        used[k] = True
    return True

"""The local executor: Numba's threads in this process (the default)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


def empty_arrays(n: int) -> tuple[np.ndarray, ...]:
    """The kernel's arrays for no path in ``n`` unknowns."""
    empty = np.zeros(0, np.int64)
    return np.zeros((0, n + 1), np.complex128), empty, empty, empty, empty


class LocalExecutor:
    """Tracks the paths with :func:`~solver.engine.path_kernels.track_paths` here, ``chunk``
    paths a call, reporting progress after each chunk."""

    #: start solutions a solve generates and hands over at once
    start_chunk = 65536

    def track(self, starts: np.ndarray, hom: Any, opts: np.ndarray, progress: Callable[[int, int], None] | None = None,
              done: int = 0, total: int = 0, chunk: int = 1024) -> tuple[np.ndarray, ...]:
        """The kernel's arrays (endpoints, status, reason, winding, steps) for ``starts`` (P, n)."""
        from solver.engine.path_kernels import track_paths

        parts = []
        for k in range(0, starts.shape[0], chunk):
            parts.append(track_paths(np.ascontiguousarray(starts[k : k + chunk]), hom, opts))
            if progress is not None:
                progress(done + min(k + chunk, starts.shape[0]), total)
        if not parts:
            return empty_arrays(starts.shape[1])
        return tuple(np.concatenate(arrs) for arrs in zip(*parts))

    def close(self) -> None:
        """Nothing to release."""

    def describe(self) -> str:
        return "local"

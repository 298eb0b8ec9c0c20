"""The Dask executor: batches of start solutions tracked on a ``distributed`` cluster.

A solve sends the homotopy once (a task of its own, so that Dask can recompute it if the
worker holding it dies), then one probe batch whose tracking time, measured on the worker,
sizes the other batches so that each task takes about :data:`TARGET_SECONDS`. Endpoints
come back in the order of the start solutions; the kernel is deterministic per path, so
the answer is the local executor's whatever the batching. A worker that dies mid-solve
costs only time: the scheduler runs its batches again elsewhere.

Workers need only the package (``dask worker ADDRESS``); :class:`WarmKernels`, a worker
plugin registered on connection, loads (or compiles) the Numba kernels on every worker,
those joining later included, before their first batch.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

import numpy as np
from distributed import Client, WorkerPlugin, as_completed
from distributed.client import FutureCancelledError
from distributed.scheduler import KilledWorker

from solver.engine.executors import ClusterError
from solver.engine.executors.local import empty_arrays

#: seconds a batch should take on a worker (the round trip costs milliseconds)
TARGET_SECONDS = 1.0
#: tasks per second one scheduler is assumed to take (bench/DASK_RESULTS.md measured 190
#: on a loaded 2-core machine); larger clusters get longer batches so as to stay under it
SCHEDULER_TASKS_PER_SECOND = 200.0
#: paths of the first batch, whose time sizes the others
PROBE_PATHS = 32
#: a batch never has fewer or more paths than these
MIN_BATCH, MAX_BATCH = 8, 65536
#: batches per worker thread at least, so that the last ones balance
BATCHES_PER_THREAD = 4
#: seconds to reach the scheduler, and to wait for a first worker
CONNECT_TIMEOUT = 5.0


def track_batch(starts: np.ndarray, hom: Any, opts: np.ndarray) -> tuple[tuple[np.ndarray, ...], float]:
    """On a worker: the kernel's arrays for ``starts`` and the seconds they took."""
    from solver.engine.path_kernels import track_paths

    t0 = time.perf_counter()
    arrays = track_paths(np.ascontiguousarray(starts), hom, opts)
    return arrays, time.perf_counter() - t0


def _same(value: Any) -> Any:
    return value


def warm_kernels() -> float:
    """Load (or compile) the tracking kernels with a 4-path solve; returns the seconds."""
    from solver.engine.examples import katsura
    from solver.engine.solve import solve

    t0 = time.perf_counter()
    solve(katsura(2), seed=0)
    return time.perf_counter() - t0


class WarmKernels(WorkerPlugin):
    """Warms the Numba kernels once per worker, off the worker's event loop."""

    name = "lps-warm-kernels"

    async def setup(self, worker: Any) -> None:
        await asyncio.get_running_loop().run_in_executor(None, warm_kernels)


def batch_size(per_path: float, remaining: int, threads: int) -> int:
    """Paths per batch: about :data:`TARGET_SECONDS` of work (longer on clusters whose
    threads would finish more than :data:`SCHEDULER_TASKS_PER_SECOND` batches a second),
    but at least :data:`BATCHES_PER_THREAD` batches per worker thread, within the bounds."""
    target = max(TARGET_SECONDS, threads / SCHEDULER_TASKS_PER_SECOND)
    size = int(target / max(per_path, 1e-7))
    size = min(size, -(-remaining // (BATCHES_PER_THREAD * max(threads, 1))))
    return max(MIN_BATCH, min(MAX_BATCH, size))


class DaskExecutor:
    """Tracks paths on the workers of ``client`` (a ``distributed.Client``).

    Use :meth:`connect` for a scheduler address; :meth:`close` closes only a client it
    opened itself.
    """

    #: start solutions a solve hands over at once: each hand-over ends when its slowest
    #: batch does, so a large cluster needs many (2**20 paths of 13 unknowns: 224 MB)
    start_chunk = 1 << 20

    def __init__(self, client: Client, owned: bool = False) -> None:
        self.client, self.owned = client, owned
        self.address = getattr(client.scheduler, "address", "?")
        self._estimate: tuple[Any, float] | None = None  # (homotopy, seconds per path)
        try:
            client.register_plugin(WarmKernels(), name=WarmKernels.name)
        except Exception as exc:  # the connection dropped: say so, not how
            raise ClusterError(f"the Dask scheduler at {self.address} dropped the connection: {exc}") from None

    @classmethod
    def connect(cls, address: str, timeout: float = CONNECT_TIMEOUT) -> "DaskExecutor":
        """Connect to the scheduler at ``address`` and wait for a first worker; raises
        :class:`ClusterError` when either does not come within ``timeout`` seconds."""
        try:
            client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address} within {timeout:g} s "
                               f"({type(exc).__name__}); is `dask scheduler` running there?") from None
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (TimeoutError, OSError):
            client.close()
            raise ClusterError(f"the Dask scheduler at {address} has no worker; start one with `dask worker {address}`") from None
        try:
            return cls(client, owned=True)
        except ClusterError:
            client.close()
            raise

    def threads(self) -> int:
        """Worker threads in the cluster now."""
        return sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()) or 1

    def track(self, starts: np.ndarray, hom: Any, opts: np.ndarray, progress: Callable[[int, int], None] | None = None,
              done: int = 0, total: int = 0, chunk: int = 1024) -> tuple[np.ndarray, ...]:
        """The kernel's arrays for ``starts`` (P, n), tracked on the cluster; ``progress``
        as batches finish (``chunk`` is the local executor's and unused)."""
        P = starts.shape[0]
        if P == 0:
            return empty_arrays(starts.shape[1])
        try:
            return self._track(starts, hom, opts, progress, done, total)
        except KilledWorker as exc:
            raise ClusterError(f"a batch of paths was running on each of several workers that died ({exc}); "
                               "the cluster is losing workers") from None
        except (FutureCancelledError, OSError, TimeoutError) as exc:
            raise ClusterError(f"lost the Dask scheduler at {self.address} mid-solve ({type(exc).__name__})") from None

    def _track(self, starts: np.ndarray, hom: Any, opts: np.ndarray, progress, done: int, total: int) -> tuple[np.ndarray, ...]:
        P = starts.shape[0]
        hom_f = self.client.submit(_same, hom)  # a task: recomputable if its worker dies
        bounds = [0]
        if self._estimate is None or self._estimate[0] is not hom:
            bounds.append(min(PROBE_PATHS, P))
            probe = self.client.submit(track_batch, starts[: bounds[1]], hom_f, opts, pure=False)
            first, seconds = probe.result()
            self._estimate = (hom, seconds / bounds[1])
            parts = {0: first}
            if progress is not None:
                progress(done + bounds[1], total)
        else:
            parts = {}
        size = batch_size(self._estimate[1], P - bounds[-1], self.threads())
        bounds += list(range(bounds[-1] + size, P, size)) + [P]
        bounds = sorted(set(bounds))
        futures = {self.client.submit(track_batch, starts[a:b], hom_f, opts, pure=False): k
                   for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])) if k not in parts}
        finished = sum(len(p[1]) for p in parts.values())
        for future in as_completed(futures, loop=self.client.loop):
            k = futures[future]
            parts[k] = future.result()[0]
            finished += bounds[k + 1] - bounds[k]
            if progress is not None:
                progress(done + finished, total)
        return tuple(np.concatenate(arrs) for arrs in zip(*(parts[k] for k in sorted(parts))))

    def close(self) -> None:
        """Close the client when this executor opened it."""
        if self.owned:
            self.client.close()

    def describe(self) -> str:
        return f"dask {self.address}"

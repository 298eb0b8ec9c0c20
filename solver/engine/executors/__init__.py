"""Executors: where the paths of a solve are tracked.

:func:`solver.engine.solve.track` hands every batch of start solutions to the executor in
force, which returns the kernel's arrays (endpoints, status, reason, winding, steps) in the
order of the start solutions. Start systems, retries, refinement, clustering and
certification stay in the calling process whatever the executor.

* :class:`~solver.engine.executors.local.LocalExecutor` (the default): Numba's threads in
  this process, chunk by chunk.
* :class:`~solver.engine.executors.dask.DaskExecutor`: batches sent to the workers of a
  Dask ``distributed`` cluster (Rocklin 2015, "Dask: parallel computation with blocked
  algorithms and task scheduling", doi:10.25080/Majora-7b98e3ed-013).

The executor in force is the one of the innermost :func:`using` block, else the
process-wide default (:func:`set_default`, which the service's job workers set).
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Any, Callable, Iterator, Protocol

import numpy as np

from solver.engine.executors.local import LocalExecutor
from solver.errors import LpsError

Progress = Callable[[int, int], None]


class Executor(Protocol):
    """Tracks start solutions through a homotopy; see :class:`LocalExecutor`.

    ``start_chunk`` is how many start solutions a solve hands it at once (a solve waits for
    each hand-over's last path before the next).
    """

    start_chunk: int

    def track(self, starts: np.ndarray, hom: Any, opts: np.ndarray, progress: Progress | None,
              done: int, total: int, chunk: int) -> tuple[np.ndarray, ...]: ...

    def close(self) -> None: ...


class ClusterError(LpsError):
    """The cluster cannot take the paths: unreachable scheduler, no workers, lost batches."""


_default: list[Executor] = [LocalExecutor()]
_current: ContextVar[Executor | None] = ContextVar("lps_executor", default=None)


def current() -> Executor:
    """The executor in force: the innermost :func:`using` block's, else the default."""
    return _current.get() or _default[0]


def set_default(executor: Executor | None) -> None:
    """Make ``executor`` this process's default (None: the local executor again)."""
    _default[0] = executor if executor is not None else LocalExecutor()


def executor_for(scheduler: Any) -> tuple[Executor, bool]:
    """The executor for a ``scheduler`` argument and whether the caller owns it (closes it).

    ``scheduler`` is a scheduler address (``"tcp://host:8786"``), a
    ``distributed.Client``, or an executor.
    """
    if hasattr(scheduler, "track"):
        return scheduler, False
    try:
        from solver.engine.executors.dask import DaskExecutor
    except ModuleNotFoundError as exc:
        raise ClusterError(f"a Dask scheduler needs the dask extra ({exc.name} is missing): "
                           "pip install 'lps-init[dask]'") from None

    if isinstance(scheduler, str):
        return DaskExecutor.connect(scheduler), True
    return DaskExecutor(scheduler), False


def probe(address: str, timeout: float = 5.0) -> dict[str, Any]:
    """Whether the Dask scheduler at ``address`` takes paths now (what the service's
    ``/health`` reports): ``status`` ``"connected"`` with its ``workers``, else
    ``"unreachable"`` with the ``reason``."""
    try:
        from solver.engine.executors.dask import DaskExecutor

        executor = DaskExecutor.connect(address, timeout=timeout)
    except ModuleNotFoundError as exc:
        return {"scheduler": address, "status": "unreachable", "reason": f"the dask extra is not installed ({exc.name})"}
    except ClusterError as exc:
        return {"scheduler": address, "status": "unreachable", "reason": str(exc)}
    try:
        return {"scheduler": address, "status": "connected", "workers": len(executor.client.scheduler_info()["workers"])}
    finally:
        executor.close()


@contextlib.contextmanager
def using(scheduler: Any = None) -> Iterator[Executor]:
    """Within the block, :func:`current` is the executor for ``scheduler`` (see
    :func:`executor_for`); None leaves the executor in force unchanged."""
    if scheduler is None:
        yield current()
        return
    executor, owned = executor_for(scheduler)
    token = _current.set(executor)
    try:
        yield executor
    finally:
        _current.reset(token)
        if owned:
            executor.close()


__all__ = ["ClusterError", "Executor", "LocalExecutor", "current", "executor_for", "probe", "set_default", "using"]

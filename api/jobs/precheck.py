"""Path counts before a job is queued, in a child process with a time and memory cap.

The counts that are not a product of degrees (the set-structure search of the
linear-product start, a mixed volume through phcpy, the exact mode's budget check of a
layer spec) can take long or grow large for a hostile input; they never run in the web
process. One long-lived child (spawned, address space capped with ``RLIMIT_AS``) runs one
count at a time; a count that takes longer than ``seconds`` or exhausts the memory cap
kills the child, a fresh one is started, and the request is answered 422 naming the limit.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import resource
import signal
import threading
import traceback
from multiprocessing.connection import Connection
from typing import Any

from api.errors import ApiError, limit_exceeded
from api.jobs.runner import _die_with_parent

log = logging.getLogger("lps.precheck")

#: seconds a fresh child gets to import the engine before it counts anything
STARTUP_SECONDS = 60.0


def _child_main(conn: Connection, memory_mb: int) -> None:
    """``(function name, args)`` of :mod:`api.engine` in, ``(kind, payload)`` out."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    limit = int(memory_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from api import engine
    from solver.engine.backends.phcpack import phcpy_available
    from solver.engine.start_systems import set_structure  # noqa: F401
    from solver.networks import family, family_store  # noqa: F401  (exact mode's budget reads the family store)
    # exact mode's checks (the budget, the closed form's reach): imported before any count's
    # clock runs, so that a first request on a loaded machine is not refused for the imports
    from solver.networks import critical_points, linear_closed_form  # noqa: F401

    phcpy_available()  # loads phcpy (when installed) before any count's clock runs

    conn.send(("ready", os.getpid()))
    while True:
        try:
            name, args = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(_call(engine, name, args))


def _call(engine: Any, name: str, args: tuple) -> tuple[str, Any]:
    """One count, its outcome as plain picklable data."""
    try:
        return "ok", getattr(engine, name)(*args)
    except engine.PathLimit as exc:
        return "path_limit", (exc.count, exc.max_paths, exc.start, exc.counts, str(exc))
    except MemoryError:
        return "memory", None
    except engine.LpsError as exc:
        return "invalid", str(exc)
    except Exception:
        return "error", traceback.format_exc()


class Prechecker:
    """The child process and the lock that serialises its use.

    Parameters
    ----------
    seconds : float
        Time limit of one count.
    memory_mb : int
        Address-space cap of the child.
    """

    def __init__(self, seconds: float, memory_mb: int) -> None:
        self.seconds, self.memory_mb = seconds, memory_mb
        self.ctx = mp.get_context("spawn")
        self.lock = threading.Lock()
        self.proc: mp.Process | None = None
        self.conn: Connection | None = None
        self.ready = False
        self.replaced = 0

    def start(self) -> None:
        parent, child = self.ctx.Pipe(duplex=True)
        self.proc = self.ctx.Process(target=_child_main, args=(child, self.memory_mb), name="lps-precheck", daemon=True)
        self.proc.start()
        child.close()
        self.conn, self.ready = parent, False

    def stop(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=5)

    def _restart(self) -> None:
        self.stop()
        self.replaced += 1
        self.start()

    def _await_ready(self) -> None:
        if self.ready:
            return
        try:
            if not self.conn.poll(STARTUP_SECONDS):
                raise EOFError
            self.conn.recv()
        except (EOFError, OSError):  # too slow, or it died starting (a memory cap too low)
            self._restart()
            raise ApiError(503, "starting", "the path counter is starting", headers={"Retry-After": "2"}) from None
        self.ready = True

    def call(self, name: str, *args: Any) -> Any:
        """``api.engine.<name>(*args)`` in the child (blocking: run it in a thread).

        Raises
        ------
        ApiError
            422 over the time or memory limit, 503 when the counter is busy for longer
            than the time limit.
        api.engine.PathLimit, api.engine.InvalidInput
            As the engine raised them.
        """
        if not self.lock.acquire(timeout=self.seconds):
            raise ApiError(503, "precheck_busy", "the path counter is busy; retry shortly",
                           headers={"Retry-After": "1"})
        try:
            return self._call_locked(name, args)
        finally:
            self.lock.release()

    def _call_locked(self, name: str, args: tuple) -> Any:
        from api import engine

        self._await_ready()
        try:
            self.conn.send((name, args))
            if not self.conn.poll(self.seconds):
                self._restart()
                raise limit_exceeded("precheck_seconds", None, self.seconds,
                                     f"counting the paths took longer than {self.seconds:g} s; "
                                     "the request is too large for this service")
            kind, payload = self.conn.recv()
        except (EOFError, OSError):
            # the child died (the kernel's answer to an allocation past the cap, at times)
            kind, payload = "memory", None
        if kind == "ok":
            return payload
        if kind == "path_limit":
            count, max_paths, start, counts, message = payload
            raise engine.PathLimit(count, max_paths, start, counts, message=message)
        if kind == "memory":
            self._restart()  # a MemoryError can leave the child in any state
            raise limit_exceeded("precheck_memory_mb", None, self.memory_mb,
                                 f"counting the paths needed more than {self.memory_mb} MB; "
                                 "the request is too large for this service")
        if kind == "invalid":
            raise engine.InvalidInput([{"field": "system", "reason": payload}])
        log.error("path count failed in the child process:\n%s", payload)
        raise RuntimeError("the path count failed")

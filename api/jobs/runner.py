"""The process pool that runs jobs, and the worker loop inside each process.

CPU-bound solving never runs in the web process: ``settings.workers`` long-lived processes
(spawned, so no state of the web process leaks in) each run one job at a time. A dispatcher
thread in the web process hands queued jobs to idle workers, in creation order, and
watches them:

* A worker writes progress and the result into the database itself; it only tells the
  dispatcher that it finished.
* A cancelled job's worker notices at its next progress write (the row is no longer its
  own) and stops; if it does not within a grace period, the process is killed and replaced.
* A job that runs past ``job_timeout_seconds`` is killed and failed with the reason.
* A worker that dies (out of memory, a crash in native code) fails its job with the exit
  code and is replaced.
* Workers die with the web process (``PR_SET_PDEATHSIG``), so a killed server leaves no
  orphan writing into a job that the next server has re-queued.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing as mp
import os
import signal
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

from api.jobs.store import JobStore, StaleAttempt

log = logging.getLogger("lps.runner")

#: seconds between progress writes of one job (the final write is never skipped)
PROGRESS_INTERVAL = 0.2
#: seconds a cancelled job's worker gets to stop by itself before it is killed
CANCEL_GRACE = 2.0


# --------------------------------------------------------------------------------------
# inside a worker process
# --------------------------------------------------------------------------------------
def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no-op elsewhere)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class _ProgressWriter:
    """``progress(done, total, unit)`` for the engine: throttled writes into the job row."""

    def __init__(self, store: JobStore, job_id: str, attempt: int) -> None:
        self.store, self.job_id, self.attempt = store, job_id, attempt
        self.last = 0.0

    def __call__(self, done: int, total: int | None, unit: str) -> None:
        now = time.monotonic()
        final = total is not None and done >= total
        if not final and now - self.last < PROGRESS_INTERVAL:
            return
        self.last = now
        # raises StaleAttempt when the job was cancelled: that unwinds the solve
        self.store.progress(self.job_id, self.attempt, done, total, unit)


def _too_large(size: int, max_bytes: int) -> dict:
    return {"reason": f"the result has {size} bytes, more than this service's limit of {max_bytes}; "
                      "ask for a smaller network or fewer candidates",
            "limit": "max_result_bytes", "value": size, "max": max_bytes}


def execute(store: JobStore, job_id: str, attempt: int, max_result_bytes: int) -> str:
    """Run one claimed job to its end; returns the final status written (or ``stale``)."""
    from api import engine

    job = store.get(job_id)
    if job is None:
        return "stale"
    progress = _ProgressWriter(store, job_id, attempt)
    try:
        if job.kind == "network":
            result = engine.run_network(job.request, progress)
        elif job.kind == "system":
            result = engine.run_system(job.request, progress)
        elif job.kind == "family":
            result = engine.run_family(job.request, progress)
        else:
            raise ValueError(f"unknown job kind {job.kind!r}")
        import json

        text = json.dumps(result, separators=(",", ":"), allow_nan=False)
        if len(text) > max_result_bytes:  # ASCII JSON: characters are bytes
            return "failed" if store.finish_failed(job_id, attempt, _too_large(len(text), max_result_bytes)) else "stale"
        ok = store.finish_done(job_id, attempt, text, engine.paths_of(result))
        return "done" if ok else "stale"
    except StaleAttempt:
        return "stale"
    except engine.PathLimit as exc:
        return "failed" if store.finish_failed(job_id, attempt, exc.body()) else "stale"
    except engine.InvalidInput as exc:
        err = {"reason": str(exc), "detail": exc.errors}
        return "failed" if store.finish_failed(job_id, attempt, err) else "stale"
    except engine.LpsError as exc:  # a domain error: its message is meant for the user
        return "failed" if store.finish_failed(job_id, attempt, {"reason": str(exc)}) else "stale"
    except Exception:  # a bug: the job fails with an error id (the log has the rest), the worker lives on
        error_id = uuid.uuid4().hex
        log.error("job %s failed, error id %s:\n%s", job_id, error_id, traceback.format_exc())
        reason = f"internal error in the solver; quote error id {error_id} to the operator"
        return "failed" if store.finish_failed(job_id, attempt, {"reason": reason}) else "stale"


def _use_cluster(scheduler: str) -> None:
    """Track this process's paths on the Dask cluster of ``scheduler`` (the local pool
    when it cannot be reached: the job still runs)."""
    from solver.engine.executors import ClusterError, executor_for, set_default

    try:
        set_default(executor_for(scheduler)[0])
    except ClusterError as exc:
        log.warning("paths run in this process: %s", exc)


def worker_main(conn: Connection, db_path: str, warmup: bool, max_result_bytes: int, scheduler: str | None = None,
                niceness: int = 0) -> None:
    """Entry point of a worker process: ``("run", id, attempt)`` in, ``("finished", id, status)`` out."""
    _die_with_parent()
    if niceness:
        os.nice(niceness)  # the web process comes first: its answers wait on no solve
    # Ctrl-C and a SIGTERM to the process group are the web process's to handle: it stops
    # the workers itself (and they die with it in any case)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s lps.worker[%(process)d] %(message)s")
    store = JobStore(db_path)
    if warmup:
        try:
            from api import engine

            engine.warm_up()
        except Exception:  # a failed warm-up only costs the first job its compile time
            log.warning("warm-up failed:\n%s", traceback.format_exc())
    if scheduler:
        _use_cluster(scheduler)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg[0] == "stop":
            return
        if msg[0] == "run":
            _, job_id, attempt = msg
            status = execute(store, job_id, attempt, max_result_bytes)
            try:
                conn.send(("finished", job_id, status))
            except (BrokenPipeError, OSError):
                return


# --------------------------------------------------------------------------------------
# in the web process
# --------------------------------------------------------------------------------------
@dataclass
class _Worker:
    process: mp.Process
    conn: Connection
    ready: bool = False
    job_id: str | None = None
    attempt: int = 0
    started: float = 0.0
    cancel_seen: float | None = None
    pid: int = field(default=0)


class Runner:
    """Process pool plus dispatcher thread.

    Parameters
    ----------
    db_path : Path
    workers : int
    job_timeout : float
        Seconds a job may run.
    warmup : bool
        Workers load the engine before they report ready.
    max_result_bytes : int
        A larger result fails its job with the reason.
    scheduler : str, optional
        A Dask scheduler the workers track their paths on.
    """

    def __init__(self, db_path: Path, workers: int, job_timeout: float, warmup: bool = True,
                 max_result_bytes: int = 64 * 1024 * 1024, scheduler: str | None = None, niceness: int = 0) -> None:
        self.scheduler = scheduler
        self.niceness = niceness
        self.max_result_bytes = max_result_bytes
        self.db_path = str(db_path)
        self.n_workers = workers
        self.job_timeout = job_timeout
        self.warmup = warmup
        self.ctx = mp.get_context("spawn")
        self.workers: list[_Worker] = []
        self._wake_r, self._wake_w = self.ctx.Pipe(duplex=False)
        self._lock = threading.Lock()
        self._waiters: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Future]]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.jobs_finished = 0
        self.workers_replaced = 0

    # lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self.store = JobStore(self.db_path)
        for _ in range(self.n_workers):
            self.workers.append(self._spawn())
        self._thread = threading.Thread(target=self._loop, name="lps-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, requeue: bool = True) -> None:
        """Stop the dispatcher and the workers; running jobs go back to the queue."""
        self._stop.set()
        self.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for w in self.workers:
            if w.process.is_alive():
                w.process.kill()
        for w in self.workers:
            w.process.join(timeout=5)
            if requeue and w.job_id is not None:
                # a graceful stop is not the job's fault: it keeps its attempt
                self.store.requeue(w.job_id, "re-queued: the server stopped while it ran", refund_attempt=True)
        self.workers.clear()
        self._wake_all_waiters()

    def _spawn(self) -> _Worker:
        parent, child = self.ctx.Pipe(duplex=True)
        p = self.ctx.Process(target=worker_main, args=(child, self.db_path, self.warmup, self.max_result_bytes, self.scheduler, self.niceness),
                             name="lps-worker", daemon=True)
        p.start()
        child.close()
        return _Worker(process=p, conn=parent, pid=p.pid or 0)

    # called from the event loop ----------------------------------------------------------
    def notify(self) -> None:
        """Wake the dispatcher (a job was queued or cancelled)."""
        try:
            self._wake_w.send_bytes(b"x")
        except OSError:
            pass

    async def wait_for(self, job_id: str, timeout: float) -> None:
        """Return when the job reaches a final state or after ``timeout`` seconds.

        The caller checks the job's status itself afterwards (it may have finished
        before the waiter was registered).
        """
        if timeout <= 0:
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future = loop.create_future()
        with self._lock:
            self._waiters.setdefault(job_id, []).append((loop, fut))
        try:
            await asyncio.wait_for(asyncio.shield(fut), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            with self._lock:
                lst = self._waiters.get(job_id, [])
                if (loop, fut) in lst:
                    lst.remove((loop, fut))
                if not lst:
                    self._waiters.pop(job_id, None)

    def counts(self) -> dict[str, int]:
        """Worker processes ``alive``, ``ready`` (warmed up, taking jobs) and ``busy``."""
        alive = [w for w in self.workers if w.process.is_alive()]
        return {
            "alive": len(alive),
            "ready": sum(1 for w in alive if w.ready),
            "busy": sum(1 for w in self.workers if w.job_id is not None),
        }

    # the dispatcher thread ---------------------------------------------------------------
    def _wake(self, job_id: str) -> None:
        with self._lock:
            waiters = self._waiters.pop(job_id, [])
        for loop, fut in waiters:
            loop.call_soon_threadsafe(lambda f=fut: f.done() or f.set_result(None))

    def _wake_all_waiters(self) -> None:
        with self._lock:
            ids = list(self._waiters)
        for job_id in ids:
            self._wake(job_id)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except Exception:  # the dispatcher must outlive any one bad job or database hiccup
                log.error("dispatcher error:\n%s", traceback.format_exc())
                time.sleep(0.5)

    def _step(self) -> None:
        conns = [w.conn for w in self.workers]
        ready = wait(conns + [self._wake_r], timeout=0.25)
        for c in ready:
            if c is self._wake_r:
                while self._wake_r.poll():
                    self._wake_r.recv_bytes()
                continue
            w = next(w for w in self.workers if w.conn is c)
            try:
                msg = c.recv()
            except (EOFError, OSError):
                continue  # the process died: handled below
            if msg[0] == "ready":
                w.ready = True
            elif msg[0] == "finished":
                job_id = msg[1]
                w.job_id, w.cancel_seen = None, None
                self.jobs_finished += 1
                self._wake(job_id)
        if self._stop.is_set():
            return
        self._watch()
        self._assign()

    def _replace(self, w: _Worker) -> None:
        if w.process.is_alive():
            w.process.kill()
        w.process.join(timeout=5)
        w.conn.close()
        self.workers[self.workers.index(w)] = self._spawn()
        self.workers_replaced += 1

    def _watch(self) -> None:
        now = time.monotonic()
        for w in list(self.workers):
            if not w.process.is_alive():
                code = w.process.exitcode
                if w.job_id is not None:
                    self.store.finish_failed(
                        w.job_id, w.attempt,
                        {"reason": f"the worker process running the job died (exit code {code}); "
                                   "it may have run out of memory"},
                    )
                    self._wake(w.job_id)
                log.warning("worker %s died (exit code %s); replacing it", w.pid, code)
                self._replace(w)
                continue
            if w.job_id is None:
                continue
            job = self.store.get(w.job_id)
            if job is None or job.status != "running" or job.attempts != w.attempt:
                # cancelled (or superseded): give the worker a moment to notice, then kill it
                if w.cancel_seen is None:
                    w.cancel_seen = now
                    self._wake(w.job_id)
                elif now - w.cancel_seen > CANCEL_GRACE:
                    log.info("killing worker %s: job %s was cancelled", w.pid, w.job_id)
                    self._replace(w)
                continue
            if now - w.started > self.job_timeout:
                self.store.finish_failed(
                    w.job_id, w.attempt,
                    {"reason": f"the job ran longer than the limit of {self.job_timeout:g} s and was stopped",
                     "limit": "job_timeout_seconds", "job_timeout_seconds": self.job_timeout},
                )
                self._wake(w.job_id)
                self._replace(w)

    def _assign(self) -> None:
        idle = [w for w in self.workers if w.ready and w.job_id is None and w.process.is_alive()]
        if not idle:
            return
        for job_id in self.store.queued(len(idle)):
            attempt = self.store.claim(job_id)
            if attempt is None:
                continue
            w = idle.pop(0)
            w.job_id, w.attempt, w.started, w.cancel_seen = job_id, attempt, time.monotonic(), None
            try:
                w.conn.send(("run", job_id, attempt))
            except (BrokenPipeError, OSError):
                # the process is gone; _watch fails the job with the exit code next round
                pass

"""The HTTP service: FastAPI app factory :func:`create_app`.

Endpoints (OpenAPI at ``/docs`` and ``/openapi.json``):

========================== ===============================================================
``POST /solve``            layer spec -> 200 with the result (cached or finished within the
                           wait) or 202 with a job id and ``Location``
``POST /systems/solve``    PHC-text system -> same job behaviour, the ``lps solve`` JSON
``GET /jobs/{id}``         status, progress, result or error
``GET /jobs/{id}/weights`` ``?candidate=K``: the candidate's weights as safetensors
``DELETE /jobs/{id}``      cancel a queued or running job
``GET /families``          the stored network families and the family jobs (exact mode)
``GET /health``            liveness, backends, limits (no key needed; HEAD too)
``GET /metrics``           Prometheus text
========================== ===============================================================

The pieces: :mod:`api.settings` (``LPS_*``), :mod:`api.deps` (what endpoints need, the
bearer key), :mod:`api.routes` (the endpoints), :mod:`api.errors` (every error answer),
:mod:`api.middleware` (body-size limit, request metrics), :mod:`api.metrics`,
:mod:`api.jobs` (the store, the worker pool, admission, the path counter's child
process), :mod:`api.ratelimit` (per key, per address), :mod:`api.engine` (the solver).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import AsyncIterator

import anyio
from fastapi import FastAPI

from api import engine
from api.errors import install_error_handlers
from api.jobs.precheck import Prechecker
from api.jobs.runner import Runner
from api.jobs.store import JobStore
from api.metrics import ServiceMetrics, app_source
from api.middleware import BodyLimit, ErrorShield, RequestMetrics
from api.routes import families, jobs, ops, pages, solve
from api.ratelimit import RateLimiter
from api.settings import Settings

log = logging.getLogger("lps.api")

DESCRIPTION = ("Critical points and initial weights of polynomial-surrogate networks, and all "
               "isolated solutions of polynomial systems, by homotopy continuation.")


async def _cleanup_loop(store: JobStore, settings: Settings) -> None:
    """Every ``cleanup_interval_seconds``: delete jobs and results past the retention."""
    while True:
        try:
            deleted = await anyio.to_thread.run_sync(store.delete_expired, settings.retention_seconds)
            if any(deleted.values()):
                log.info("retention cleanup deleted %s", deleted)
        except Exception:  # a locked or busy database: try again next round
            log.exception("retention cleanup failed")
        await anyio.sleep(settings.cleanup_interval_seconds)


async def _cluster(settings: Settings) -> dict:
    """Where the job workers track their paths (for ``/health``): the local pool, or the
    Dask cluster of ``LPS_DASK_SCHEDULER`` when it answers now."""
    if not settings.dask_scheduler:
        return {"scheduler": None, "status": "local"}
    from solver.engine.executors import probe

    state = await anyio.to_thread.run_sync(probe, settings.dask_scheduler)
    if state["status"] != "connected":
        state["fallback"] = "the jobs run on the local pool"
        log.warning("Dask scheduler %s unreachable, jobs run on the local pool: %s", settings.dask_scheduler, state["reason"])
    return state


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Take the data folder's lock, open the store, recover jobs after a restart and
    start the workers, the path counter and the retention cleanup; on shutdown stop them
    (what was running goes back to the queue)."""
    settings: Settings = app.state.settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / "lps.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise RuntimeError(f"another lps server is using {settings.data_dir}; "
                               "give each its own LPS_DATA_DIR") from None
        store = JobStore(settings.db_path)
        recovered = store.recover(settings.restart_running, settings.max_attempts)
        if any(recovered.values()):
            log.info("restart recovery: %s", recovered)
        # exact mode's family store (read and written by the worker processes and the path
        # counter, which inherit this; an LPS_FAMILY_DIR already set wins)
        if not os.environ.get("LPS_FAMILY_DIR"):
            os.environ["LPS_FAMILY_DIR"] = str(settings.family_dir.resolve())
        app.state.family_dir = Path(os.environ["LPS_FAMILY_DIR"])
        app.state.cluster = await _cluster(settings)
        scheduler = settings.dask_scheduler if app.state.cluster["status"] == "connected" else None
        runner = Runner(settings.db_path, settings.workers, settings.job_timeout_seconds, settings.warmup,
                        settings.max_result_bytes, scheduler, settings.worker_niceness)
        runner.start()
        prechecker = Prechecker(settings.precheck_seconds, settings.precheck_memory_mb)
        prechecker.start()
        app.state.about = {"backends": engine.backends(), "features": engine.features(), "version": engine.version()}
        app.state.store, app.state.runner, app.state.prechecker = store, runner, prechecker
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_cleanup_loop, store, settings)
            try:
                yield
            finally:
                tasks.cancel_scope.cancel()
                app.state.store = app.state.runner = app.state.prechecker = None
                prechecker.stop()
                runner.stop(requeue=True)
                store.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service.

    Parameters
    ----------
    settings : Settings, optional
        Default: ``Settings()``, read from the ``LPS_*`` environment.

    Returns
    -------
    FastAPI
        Its lifespan opens the database, recovers jobs after a restart and starts the
        worker processes; shutting down stops them and re-queues what was running.
    """
    settings = settings or Settings()
    # the documents are served by api.routes.ops (open: every operation needs the key)
    app = FastAPI(title="lps-init", version=engine.version(), description=DESCRIPTION, lifespan=lifespan,
                  openapi_url=None, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.limiters = {"key": RateLimiter(settings.rate_limit_per_minute),
                          "auth": RateLimiter(settings.auth_failures_per_minute)}
    app.state.metrics = ServiceMetrics(app_source(app.state), settings.workers)
    # the last added runs first: every answer is counted, the 413s and 500s too
    app.add_middleware(ErrorShield)
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    install_error_handlers(app)
    for router in (solve.router, jobs.router, families.router, ops.router, ops.docs_router, pages.router):
        app.include_router(router)
    return app

"""The HTTP service: FastAPI app factory :func:`create_app`.

Endpoints (OpenAPI at ``/docs`` and ``/openapi.json``):

========================== ===============================================================
``POST /solve``            layer spec -> 200 with the result (cached or finished within the
                           wait) or 202 with a job id and ``Location``
``POST /systems/solve``    PHC-text system -> same job behaviour, the ``lps solve`` JSON
``GET /jobs/{id}``         status, progress, result or error
``GET /jobs/{id}/weights`` ``?candidate=K``: the candidate's weights as safetensors
``DELETE /jobs/{id}``      cancel a queued or running job
``GET /health``            liveness, backends, limits (no key needed)
``GET /metrics``           Prometheus text
========================== ===============================================================

The pieces: :mod:`api.settings` (``LPS_*``), :mod:`api.deps` (what endpoints need, the
bearer key), :mod:`api.routes` (the endpoints), :mod:`api.errors` (every error answer),
:mod:`api.middleware` (body-size limit, request metrics), :mod:`api.metrics`,
:mod:`api.jobs` (the store, the worker pool, admission), :mod:`api.engine` (the solver).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from typing import AsyncIterator

from fastapi import FastAPI

from api import engine
from api.errors import install_error_handlers
from api.jobs.runner import Runner
from api.jobs.store import JobStore
from api.metrics import ServiceMetrics, app_source
from api.middleware import BodyLimit, RequestMetrics
from api.routes import jobs, ops, solve
from api.settings import Settings

log = logging.getLogger("lps.api")

DESCRIPTION = ("Critical points and initial weights of polynomial-surrogate networks, and all "
               "isolated solutions of polynomial systems, by homotopy continuation.")


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Take the data folder's lock, open the store, recover jobs after a restart and
    start the workers; on shutdown stop them (what was running goes back to the queue)."""
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
        runner = Runner(settings.db_path, settings.workers, settings.job_timeout_seconds, settings.warmup)
        runner.start()
        app.state.about = {"backends": engine.backends(), "features": engine.features(), "version": engine.version()}
        app.state.store, app.state.runner = store, runner
        try:
            yield
        finally:
            app.state.store = app.state.runner = None
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
    # the documents are served by api.routes.ops, behind the key
    app = FastAPI(title="lps-init", version=engine.version(), description=DESCRIPTION, lifespan=lifespan,
                  openapi_url=None, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.metrics = ServiceMetrics(app_source(app.state), settings.workers)
    # the last added runs first: every answer is counted, the 413s too
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    install_error_handlers(app)
    for router in (solve.router, jobs.router, ops.router, ops.docs_router):
        app.include_router(router)
    return app

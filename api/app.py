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

Errors are JSON ``{"error": code, "reason": text, ...}``; limits name the limit and its
value. Request validation errors list ``{"field", "reason"}`` per bad field.
"""

# no ``from __future__ import annotations``: FastAPI reads the endpoint annotations at
# run time, and the spec model is a local of create_app

import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import time
import traceback
from typing import Any, Literal, Optional

import anyio
from fastapi import Body, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import engine
from solver.engine.formats.phc import format_system
from solver.networks.spec import EXAMPLE_SPEC
from api.jobs.store import FINAL, JobStore, render_job
from api.jobs.runner import Runner
from api.settings import Settings

log = logging.getLogger("lps.api")

OPEN_PATHS = frozenset({"/health"})


# --------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------
class ApiError(Exception):
    """An error answer: ``{"error": code, "reason": reason, **extra}`` with ``status``."""

    def __init__(self, http_status: int, error: str, reason: str, headers: dict | None = None, **extra: Any) -> None:
        super().__init__(reason)
        self.status, self.error, self.reason, self.headers, self.extra = http_status, error, reason, headers, extra

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.error, "reason": self.reason, **self.extra}, self.status, headers=self.headers)


def _json_error(status: int, error: str, reason: str, headers: list | None = None, **extra: Any) -> tuple[int, list, bytes]:
    body = json.dumps({"error": error, "reason": reason, **extra}).encode()
    hdrs = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())] + (headers or [])
    return status, hdrs, body


def _field_path(loc: tuple) -> str:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        where = parts.pop(0)
        if not parts:
            return where
        if where != "body":
            return f"{where}.{'.'.join(map(str, parts))}"
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + str(p)
    return out


def _validation_detail(errors: list[dict]) -> list[dict]:
    out = []
    for e in errors:
        msg = str(e.get("msg", "invalid"))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        out.append({"field": _field_path(tuple(e.get("loc", ()))), "reason": msg, "type": e.get("type")})
    return out


def _limit(limit: str, value: Any, maximum: Any, reason: str) -> ApiError:
    return ApiError(422, "limit_exceeded", reason, limit=limit, value=value, max=maximum)


# --------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------
class Metrics:
    """In-process counters of the web process (requests, cache hits); job gauges come
    from the database when ``/metrics`` is read."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.duration: dict[str, list[float]] = {}
        self.cache_hits = 0
        self.jobs_submitted = 0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        d = self.duration.setdefault(route, [0.0, 0])
        d[0] += seconds
        d[1] += 1


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _prometheus(m: Metrics, store: JobStore, runner: Runner | None, workers: int) -> str:
    lines = [
        "# HELP lps_http_requests_total HTTP requests by method, route and status.",
        "# TYPE lps_http_requests_total counter",
    ]
    for (method, route, status), n in sorted(m.requests.items()):
        lines.append(f'lps_http_requests_total{{method="{method}",route="{_esc(route)}",status="{status}"}} {n}')
    lines += [
        "# HELP lps_http_request_duration_seconds Time spent answering requests, by route.",
        "# TYPE lps_http_request_duration_seconds summary",
    ]
    for route, (total, count) in sorted(m.duration.items()):
        lines.append(f'lps_http_request_duration_seconds_sum{{route="{_esc(route)}"}} {total:.6f}')
        lines.append(f'lps_http_request_duration_seconds_count{{route="{_esc(route)}"}} {count}')
    lines += ["# HELP lps_jobs Jobs in the database by state.", "# TYPE lps_jobs gauge"]
    for status, n in store.counts_by_status().items():
        lines.append(f'lps_jobs{{state="{status}"}} {n}')
    lines += [
        "# HELP lps_jobs_submitted_total Jobs created by this process.",
        "# TYPE lps_jobs_submitted_total counter",
        f"lps_jobs_submitted_total {m.jobs_submitted}",
        "# HELP lps_paths_tracked_total Homotopy paths tracked by finished jobs.",
        "# TYPE lps_paths_tracked_total counter",
        f"lps_paths_tracked_total {store.paths_tracked()}",
        "# HELP lps_cache_hits_total Requests answered from the result cache by this process.",
        "# TYPE lps_cache_hits_total counter",
        f"lps_cache_hits_total {m.cache_hits}",
        "# HELP lps_cache_entries Results in the cache.",
        "# TYPE lps_cache_entries gauge",
        f"lps_cache_entries {store.cache_size()}",
        "# HELP lps_workers Solver processes.",
        "# TYPE lps_workers gauge",
        f'lps_workers{{state="configured"}} {workers}',
        f'lps_workers{{state="alive"}} {runner.alive() if runner else 0}',
        f'lps_workers{{state="ready"}} {runner.ready() if runner else 0}',
        f'lps_workers{{state="busy"}} {runner.busy() if runner else 0}',
        "# HELP lps_worker_replacements_total Worker processes replaced (crash, cancel, timeout).",
        "# TYPE lps_worker_replacements_total counter",
        f"lps_worker_replacements_total {runner.workers_replaced if runner else 0}",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# auth, body limit and request metrics: one pure ASGI middleware (cheap per request)
# --------------------------------------------------------------------------------------
def key_id(key: str) -> str:
    """The owner id stored with jobs: a digest, never the key itself."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class Gate:
    """Authentication (bearer keys, constant-time), the body-size limit (413) and request
    counting, before any routing or body parsing."""

    def __init__(self, app: Any, settings: Settings, metrics: Metrics) -> None:
        self.app = app
        self.settings = settings
        self.metrics = metrics
        self.key_digests = [hashlib.sha256(k.encode()).digest() for k in settings.api_keys]

    def _owner(self, scope: dict) -> str | None:
        """The caller's key id, ``"anonymous"`` without auth, None when refused."""
        if not self.key_digests:
            return "anonymous"
        header = b""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                header = value
                break
        scheme, _, token = header.partition(b" ")
        if scheme.lower() != b"bearer" or not token.strip():
            return None
        digest = hashlib.sha256(token.strip()).digest()
        match = None
        for kd, key in zip(self.key_digests, self.settings.api_keys):
            # compare against every key (no early exit): timing says nothing about which
            if hmac.compare_digest(digest, kd):
                match = key
        return key_id(match) if match is not None else None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status_box = [500]

        async def send_counted(message: dict) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
            await send(message)

        try:
            await self._handle(scope, receive, send_counted)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(scope.get("method", "?"), label, status_box[0], time.perf_counter() - t0)

    async def _handle(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        owner = "anonymous" if path in OPEN_PATHS and self.key_digests else self._owner(scope)
        if owner is None:
            has_header = any(n == b"authorization" for n, _ in scope.get("headers", ()))
            reason = "wrong API key" if has_header else "missing API key: send 'Authorization: Bearer KEY'"
            await _send(send, *_json_error(401, "unauthorized", reason, [(b"www-authenticate", b"Bearer")]))
            return
        scope.setdefault("state", {})["owner"] = owner

        limit = self.settings.max_body_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit:
                    await _send(send, *_json_error(
                        413, "body_too_large", f"the request body has {declared} bytes, more than the limit of {limit}",
                        limit="max_body_bytes", value=declared, max=limit))
                    return
        # read the body here (bounded), then replay it to the app
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                await _send(send, *_json_error(
                    413, "body_too_large", f"the request body has more than the limit of {limit} bytes",
                    limit="max_body_bytes", value=size, max=limit))
                return
            chunks.append(body)
            more = message.get("more_body", False)
        await self.app(scope, _replay([{"type": "http.request", "body": b"".join(chunks), "more_body": False}], receive), send)


def _replay(messages: list[dict], receive: Any) -> Any:
    pending = list(messages)

    async def replay() -> dict:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _send(send: Any, status: int, headers: list, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# --------------------------------------------------------------------------------------
# request and response models (OpenAPI)
# --------------------------------------------------------------------------------------
class SystemRequest(BaseModel):
    """A square polynomial system in PHC text and how to solve it."""

    model_config = ConfigDict(extra="forbid")

    system: str = Field(min_length=1, description="PHCpack text: first line n (or n m), then ';'-terminated polynomials")
    start: Literal["auto", "total-degree", "linear-product", "polyhedral"] = Field(
        "auto", description="start system; auto takes the smaller of total degree and linear product")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="seeds every random choice")
    max_paths: Optional[int] = Field(None, ge=1, description="refuse start systems with more paths (default and cap: the service limit)")
    tracker: Literal["default", "fast", "conservative"] = Field("default", description="tracker preset")


class Progress(BaseModel):
    done: int
    total: Optional[int] = None
    unit: Optional[str] = Field(None, description="paths or layers")


class JobOut(BaseModel):
    """A job as answered by every job endpoint."""

    id: str
    kind: Literal["network", "system"]
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    cached: bool = Field(description="answered from the result cache without solving")
    progress: Progress
    attempts: int
    spec_hash: str
    created: float
    started: Optional[float] = None
    finished: Optional[float] = None
    note: Optional[str] = None
    error: Optional[dict] = None
    result: Optional[dict] = Field(None, description="when done: the network result (mode, counts, critical points, candidates with weights) or the lps solve JSON")


class ErrorOut(BaseModel):
    error: str
    reason: str
    model_config = ConfigDict(extra="allow")



_ERRORS = {
    401: {"model": ErrorOut, "description": "missing or wrong API key"},
    413: {"model": ErrorOut, "description": "request body too large (the limit is in the body)"},
    422: {"model": ErrorOut, "description": "invalid request (field and reason) or a limit exceeded (limit, value, max)"},
    429: {"model": ErrorOut, "description": "too many jobs in flight for this key"},
    503: {"model": ErrorOut, "description": "queue full or an engine piece missing; retry later"},
}


# --------------------------------------------------------------------------------------
# the app
# --------------------------------------------------------------------------------------
def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service.

    Parameters
    ----------
    settings : Settings, optional
        Default: :meth:`Settings.from_env`.

    Returns
    -------
    FastAPI
        Its lifespan opens the database, recovers jobs after a restart and starts the
        worker processes; shutting down stops them and re-queues what was running.
    """
    settings = settings or Settings.from_env()
    metrics = Metrics()
    state: dict[str, Any] = {}
    SpecModel = engine.spec_model()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        lock = open(settings.data_dir / "lps.lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise RuntimeError(f"another lps server is using {settings.data_dir}; give each its own LPS_DATA_DIR") from None
        store = JobStore(settings.db_path)
        recovered = store.recover(settings.restart_running, settings.max_attempts)
        if any(recovered.values()):
            log.info("restart recovery: %s", recovered)
        runner = Runner(settings.db_path, settings.workers, settings.job_timeout_seconds, settings.warmup)
        runner.start()
        state.update(store=store, runner=runner, recovered=recovered,
                     backends=engine.backends(), features=engine.features(), version=engine._version())
        try:
            yield
        finally:
            runner.stop(requeue=True)
            store.close()
            lock.close()

    app = FastAPI(
        title="lps-init",
        version=engine._version(),
        description="Critical points and initial weights of polynomial-surrogate networks, and "
                    "all isolated solutions of polynomial systems, by homotopy continuation.",
        lifespan=lifespan,
    )
    app.add_middleware(Gate, settings=settings, metrics=metrics)

    # -- error handlers ------------------------------------------------------------------
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = _validation_detail(list(exc.errors()))
        reason = "; ".join(f"{d['field'] or 'body'}: {d['reason']}" for d in detail[:5])
        return JSONResponse({"error": "invalid_request", "reason": reason, "detail": detail}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        return JSONResponse({"error": codes.get(exc.status_code, "http_error"), "reason": str(exc.detail)},
                            exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s %s:\n%s", request.method, request.url.path, traceback.format_exc())
        return JSONResponse({"error": "internal", "reason": f"{type(exc).__name__}: {exc}"}, 500)

    # -- helpers -------------------------------------------------------------------------
    def store() -> JobStore:
        if "store" not in state:
            raise ApiError(503, "starting", "the service is starting", headers={"Retry-After": "1"})
        return state["store"]

    def owner_of(request: Request) -> str:
        return getattr(request.state, "owner", "anonymous")

    def job_response(job, status_code: int = 200, cached: bool = False) -> Response:
        text = store().result_text(job.spec_hash) if job.status == "done" else None
        headers = {"Location": f"/jobs/{job.id}"} if status_code == 202 else None
        return Response(render_job(job, text, cached), status_code, headers=headers, media_type="application/json")

    def cached_response(spec_hash: str) -> Response | None:
        hit = store().cached(spec_hash)
        if hit is None:
            return None
        job_id, text = hit
        job = store().get(job_id) if job_id else None
        if job is None:
            return None
        metrics.cache_hits += 1
        return Response(render_job(job, text, True), 200, media_type="application/json")

    async def submit(kind: str, owner: str, spec_hash: str, request_json: dict, precheck, wait: float | None,
                     note: str | None = None) -> Response:
        st = store()
        job = st.active_for(owner, spec_hash)
        if job is None:
            try:
                work = await anyio.to_thread.run_sync(precheck)
            except engine.PathLimit as exc:
                raise ApiError(422, "limit_exceeded", str(exc), **{k: v for k, v in exc.body().items() if k != "reason"}) from None
            # no await between the counts and the insert: the event loop makes them atomic
            in_flight = st.count_active(owner)
            if in_flight >= settings.max_jobs_per_key:
                raise ApiError(
                    429, "too_many_jobs",
                    f"this key has {in_flight} jobs queued or running, the limit is {settings.max_jobs_per_key}; "
                    "wait for one to finish or cancel one",
                    headers={"Retry-After": "5"}, limit="max_jobs_per_key", value=in_flight, max=settings.max_jobs_per_key)
            total = st.count_active()
            if total >= settings.max_queue:
                raise ApiError(503, "queue_full", f"the service has {total} jobs queued or running (limit {settings.max_queue})",
                               headers={"Retry-After": "10"}, limit="max_queue", value=total, max=settings.max_queue)
            total_work, unit = work if work is not None else (None, None)
            job = st.create(kind, owner, spec_hash, request_json, note=note, progress_total=total_work, progress_unit=unit)
            metrics.jobs_submitted += 1
            state["runner"].notify()
        seconds = settings.wait_seconds if wait is None else min(float(wait), settings.max_wait_seconds)
        if job.status not in FINAL:
            await state["runner"].wait_for(job.id, seconds)
        job = st.get(job.id)
        if job.status == "failed" and (job.error or {}).get("limit") == "max_paths":
            raise ApiError(422, "limit_exceeded", job.error.get("reason", "too many paths"), job_id=job.id,
                           **{k: v for k, v in job.error.items() if k != "reason"})
        return job_response(job, 200 if job.status in FINAL else 202)

    def get_job(job_id: str):
        job = store().get(job_id)
        if job is None:
            raise ApiError(404, "not_found", f"no job with id {job_id!r}")
        return job

    # -- endpoints -----------------------------------------------------------------------
    @app.post("/solve", response_model=JobOut, status_code=200, responses={202: {"model": JobOut, "description": "queued or running: poll Location"}, **_ERRORS},
              summary="Solve a layer spec: critical points and candidate weights")
    async def solve_spec(request: Request, spec: SpecModel = Body(..., description="the layer spec", examples=[EXAMPLE_SPEC]),  # type: ignore[valid-type]
                         wait: Optional[float] = Query(None, ge=0, le=3600, description="seconds to wait for the result before answering 202 (default 2, capped by the service)")) -> Response:
        if isinstance(spec, dict):
            raise ApiError(503, "engine_unavailable", "the layer spec (solver.networks.spec) is not available in this build")
        dims = engine.network_dims(spec)
        checks = (
            ("max_rows", dims["rows"], settings.max_rows, "data rows"),
            ("max_features", dims["features"], settings.max_features, "input features"),
            ("max_width", dims["width"], settings.max_width, "the widest layer's features"),
            ("max_layers", dims["layers"], settings.max_layers, "layers"),
        )
        for name, value, maximum, what in checks:
            if value > maximum:
                raise _limit(name, value, maximum, f"the spec has {value} {what}, more than this service's limit of {maximum}")
        note = None
        if spec.max_paths > settings.max_paths:
            if "max_paths" in spec.model_fields_set:
                raise _limit("max_paths", spec.max_paths, settings.max_paths,
                             f"max_paths={spec.max_paths} is more than this service's limit of {settings.max_paths}")
            spec = spec.model_copy(update={"max_paths": settings.max_paths})
            note = f"max_paths lowered to the service limit {settings.max_paths}"
        spec_hash = engine.network_hash(spec)
        hit = cached_response(spec_hash)
        if hit is not None:
            return hit
        return await submit("network", owner_of(request), spec_hash, spec.model_dump(mode="json"),
                            lambda: engine.check_network_paths(spec, spec.max_paths), wait, note)

    @app.post("/systems/solve", response_model=JobOut, status_code=200, responses={202: {"model": JobOut, "description": "queued or running: poll Location"}, **_ERRORS},
              summary="Solve a polynomial system given in PHC text")
    async def solve_system(request: Request, body: SystemRequest,
                           wait: Optional[float] = Query(None, ge=0, le=3600, description="seconds to wait for the result before answering 202 (default 2, capped by the service)")) -> Response:
        if body.max_paths is not None and body.max_paths > settings.max_paths:
            raise _limit("max_paths", body.max_paths, settings.max_paths,
                         f"max_paths={body.max_paths} is more than this service's limit of {settings.max_paths}")
        max_paths = body.max_paths or settings.max_paths
        try:
            system = await anyio.to_thread.run_sync(engine.parse_system, body.system)
        except engine.InvalidInput as exc:
            raise ApiError(422, "invalid_request", str(exc), detail=exc.errors) from None
        if system.n_variables > settings.max_variables:
            raise _limit("max_variables", system.n_variables, settings.max_variables,
                         f"the system has {system.n_variables} unknowns, more than this service's limit of {settings.max_variables}")
        options = {"start": body.start, "seed": body.seed, "tracker": body.tracker}
        spec_hash = engine.system_hash(system, options)
        hit = cached_response(spec_hash)
        if hit is not None:
            return hit

        def precheck() -> tuple[int, str] | None:
            counted = engine.system_path_count(system, body.start)
            if counted is None:
                return None
            if counted[0] > max_paths:
                raise engine.PathLimit(counted[0], max_paths, counted[1], counted[2])
            return counted[0], "paths"

        request_json = {"system": format_system(system), "max_paths": max_paths, **options}
        return await submit("system", owner_of(request), spec_hash, request_json, precheck, wait)

    @app.get("/jobs/{job_id}", response_model=JobOut, responses={404: {"model": ErrorOut}, 401: _ERRORS[401]},
             summary="A job's status, progress and result or error")
    async def job_status(job_id: str) -> Response:
        return job_response(get_job(job_id))

    @app.get("/jobs/{job_id}/weights", response_class=Response,
             responses={200: {"content": {"application/octet-stream": {}}, "description": "safetensors file, tensors '{k}.weight' and '{k}.bias'"},
                        404: {"model": ErrorOut}, 409: {"model": ErrorOut}, 401: _ERRORS[401]},
             summary="One candidate's weights as a safetensors file")
    async def job_weights(job_id: str, candidate: int = Query(0, ge=0, le=1_000_000, description="candidate index (0 = best)"),
                          dtype: Literal["float32", "float64"] = Query("float32", description="tensor dtype in the file")) -> Response:
        job = get_job(job_id)
        if job.kind != "network":
            raise ApiError(409, "no_weights", "this job solved a polynomial system; only layer-spec jobs have weights")
        if job.status != "done":
            raise ApiError(409, "not_done", f"the job is {job.status}; weights exist once it is done", status=job.status)
        text = store().result_text(job.spec_hash)
        result = json.loads(text) if text else {}
        try:
            data = await anyio.to_thread.run_sync(engine.weights_bytes, result, candidate, dtype)
        except IndexError as exc:
            raise ApiError(404, "no_such_candidate", str(exc), candidates=len(result.get("candidates") or [])) from None
        return Response(data, media_type="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{job.id}-candidate{candidate}.safetensors"'})

    @app.delete("/jobs/{job_id}", response_model=JobOut, responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}, 401: _ERRORS[401]},
                summary="Cancel a queued or running job")
    async def cancel_job(request: Request, job_id: str) -> Response:
        job = get_job(job_id)
        if settings.auth_enabled and job.owner != owner_of(request):
            raise ApiError(403, "forbidden", "only the key that submitted a job can cancel it")
        if store().cancel(job_id) is None:
            raise ApiError(409, "not_active", f"the job is already {job.status}; only queued or running jobs can be cancelled", status=job.status)
        state["runner"].notify()
        return job_response(get_job(job_id))

    @app.get("/health", summary="Liveness, engine backends and limits (no API key needed)")
    async def health() -> dict:
        runner = state.get("runner")
        return {
            "status": "ok",
            "version": state.get("version"),
            "backends": state.get("backends", {}),
            "features": state.get("features", {}),
            "workers": {"configured": settings.workers, "alive": runner.alive() if runner else 0,
                        "ready": runner.ready() if runner else 0, "busy": runner.busy() if runner else 0},
            "auth": settings.auth_enabled,
            "limits": settings.limits(),
        }

    @app.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}, 401: _ERRORS[401]},
             summary="Prometheus metrics")
    async def prometheus() -> Response:
        text = _prometheus(metrics, store(), state.get("runner"), settings.workers)
        return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    app.state.settings = settings
    app.state.metrics = metrics
    return app

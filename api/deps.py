"""What an endpoint needs, as ``Annotated[T, Depends(get_t)]`` aliases.

``SettingsDep``, ``StoreDep``, ``RunnerDep``, ``MetricsDep`` come from the app's state
(the store and the runner exist once the lifespan has started them: 503 ``starting``
before); ``CallerDep`` authenticates the bearer key and applies the rate limits (per key,
and per address for failed authentications); ``DeskDep`` bundles what the job endpoints
share; ``JobDep`` is the caller's job of the path's ``job_id`` (404 without one, and for
another key's job; the service's family jobs are read by every key and changed by none);
``AnyJobDep`` is the job whoever owns it; ``FamilyDirDep`` the folder of the service's
network families.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from api.jobs.desk import JobDesk
from api.jobs.families import FAMILY_OWNER
from api.jobs.runner import Runner
from api.jobs.store import Job, JobStore
from api.metrics import ServiceMetrics
from api.ratelimit import retry_after
from api.settings import Settings

#: the security scheme of the OpenAPI document; the key is checked by :func:`get_caller`
bearer = HTTPBearer(auto_error=False, scheme_name="APIKey",
                    description="one of the keys in LPS_API_KEYS (no key needed when none is set)")


def key_id(key: str) -> str:
    """The owner id stored with jobs: a digest, never the key itself."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _started(request: Request, name: str) -> Any:
    """``app.state.<name>``, set by the lifespan; 503 ``starting`` before."""
    value = getattr(request.app.state, name, None)
    if value is None:
        raise ApiError(503, "starting", "the service is starting", headers={"Retry-After": "1"})
    return value


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    return request.app.state.settings


async def get_metrics(request: Request) -> ServiceMetrics:
    """The app's metrics."""
    return request.app.state.metrics


async def get_store(request: Request) -> JobStore:
    """The job store; 503 ``starting`` before the lifespan opened it."""
    return _started(request, "store")


async def get_runner(request: Request) -> Runner:
    """The worker pool; 503 ``starting`` before the lifespan started it."""
    return _started(request, "runner")


async def get_family_dir(request: Request) -> Path:
    """The service's family folder (``$LPS_FAMILY_DIR``); 503 ``starting`` before the
    lifespan set it."""
    return _started(request, "family_dir")


SettingsDep = Annotated[Settings, Depends(get_settings)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]
StoreDep = Annotated[JobStore, Depends(get_store)]
RunnerDep = Annotated[Runner, Depends(get_runner)]
FamilyDirDep = Annotated[Path, Depends(get_family_dir)]


def _match(settings: Settings, token: str) -> str | None:
    """The configured key equal to ``token``, compared in constant time."""
    digest = hashlib.sha256(token.encode()).digest()
    match = None
    for key in settings.api_keys:
        # compare against every key (no early exit): timing says nothing about which
        if hmac.compare_digest(digest, hashlib.sha256(key.encode()).digest()):
            match = key
    return match


def _client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _too_many(what: str, wait: float, limit: str, maximum: int) -> ApiError:
    return ApiError(429, "rate_limited", f"too many {what}; retry in {max(1, math.ceil(wait))} s",
                    headers=retry_after(wait), limit=limit, max=maximum)


async def get_caller(request: Request, settings: SettingsDep,
               credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
    """The caller's key id (``"anonymous"`` without auth); 401 for a missing or wrong key,
    429 over the key's request rate or the address's rate of failed authentications."""
    limiters = request.app.state.limiters
    if not settings.auth_enabled:
        caller = "anonymous"
    else:
        address = _client_address(request)
        wait = limiters["auth"].exhausted(address)
        if wait is not None:
            raise _too_many("failed authentications from this address", wait, "auth_failures_per_minute",
                            settings.auth_failures_per_minute)
        token = credentials.credentials.strip() if credentials is not None else ""
        key = _match(settings, token) if token else None
        if key is None:
            limiters["auth"].take(address)
            sent = "authorization" in request.headers
            reason = "wrong API key" if sent else "missing API key: send 'Authorization: Bearer KEY'"
            raise ApiError(401, "unauthorized", reason, headers={"WWW-Authenticate": "Bearer"})
        caller = key_id(key)
    wait = limiters["key"].take(caller)
    if wait is not None:
        raise _too_many("requests for this key", wait, "rate_limit_per_minute", settings.rate_limit_per_minute)
    return caller


CallerDep = Annotated[str, Depends(get_caller)]


async def get_desk(request: Request, store: StoreDep, runner: RunnerDep, settings: SettingsDep,
             metrics: MetricsDep) -> JobDesk:
    """The job desk of this request."""
    return JobDesk(store, runner, settings, metrics, _started(request, "prechecker"))


DeskDep = Annotated[JobDesk, Depends(get_desk)]


async def get_any_job(job_id: str, store: StoreDep) -> Job:
    """The job ``job_id``, whoever owns it; 404 ``not_found`` when there is none."""
    job = store.get(job_id)
    if job is None:
        raise ApiError(404, "not_found", f"no job with id {job_id!r}")
    return job


AnyJobDep = Annotated[Job, Depends(get_any_job)]


async def get_job(request: Request, job: AnyJobDep, caller: CallerDep) -> Job:
    """The caller's job ``job_id``: another key's job is 404, as an unknown id (its
    existence is not the caller's to learn). A family job (the service's, shared by every
    request of its architecture) is read by every key, and cancelled by none: 409."""
    if job.owner == FAMILY_OWNER:  # no key's: every caller is another
        if request.method in ("GET", "HEAD"):
            return job
        raise ApiError(409, "shared_job", f"job {job.id} solves the family {job.request.get('family')} for every "
                                          "request of that architecture; it belongs to the service and cannot be "
                                          "cancelled", status=job.status)
    if job.owner != caller:
        raise ApiError(404, "not_found", f"no job with id {job.id!r}")
    return job


JobDep = Annotated[Job, Depends(get_job)]

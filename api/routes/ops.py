"""Operations: ``/health`` (open, GET and HEAD), ``/metrics``, and the API documents
(``/openapi.json``, ``/docs``, ``/redoc``: open, so that a browser can load the docs page
and authorise there; every operation they describe still needs the key)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.deps import MetricsDep, SettingsDep, get_caller, get_store
from api.metrics import CONTENT_TYPE
from api.schemas import ERRORS

router = APIRouter(tags=["ops"])

OPENAPI_URL = "/openapi.json"


@router.get("/health", summary="Liveness, engine backends and limits (no API key needed)")
async def health(request: Request, settings: SettingsDep) -> dict[str, Any]:
    state = request.app.state
    runner = getattr(state, "runner", None)
    counts = runner.counts() if runner is not None else {"alive": 0, "ready": 0, "busy": 0}
    about = getattr(state, "about", {})
    return {
        "status": "ok",
        "version": about.get("version"),
        "backends": about.get("backends", {}),
        "features": about.get("features", {}),
        "workers": {"configured": settings.workers, **counts},
        "cluster": getattr(state, "cluster", {"scheduler": None, "status": "local"}),
        "auth": settings.auth_enabled,
        "limits": settings.limits(),
    }


# HEAD answers as GET does (for load balancers and uptime probes); not a separate operation
router.add_api_route("/health", health, methods=["HEAD"], include_in_schema=False)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}, 401: ERRORS[401]},
            dependencies=[Depends(get_caller), Depends(get_store)], summary="Prometheus metrics")
async def prometheus(metrics: MetricsDep) -> Response:
    # get_store: 503 while the service is starting, as for every job figure
    return Response(metrics.render(), media_type=CONTENT_TYPE)


# the documents: FastAPI's own routes are turned off; these are open, Swagger UI's
# "Authorize" (the APIKey bearer scheme) adds the key to the operations it tries
docs_router = APIRouter(include_in_schema=False)


@docs_router.get(OPENAPI_URL)
async def openapi_document(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@docs_router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url=OPENAPI_URL, title=f"{request.app.title} - Swagger UI")


@docs_router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(openapi_url=OPENAPI_URL, title=f"{request.app.title} - ReDoc")

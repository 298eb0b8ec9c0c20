"""Every error answer of the service, in one place.

Errors are JSON ``{"error": code, "reason": text, ...}``: limits add the limit's name, the
value and the maximum; request validation errors list ``{"field", "reason", "type"}`` per
bad field. :class:`ApiError` is raised by the endpoints and dependencies; the domain
errors (:class:`solver.errors.LpsError`) are mapped by :func:`from_lps_error`;
:func:`install_error_handlers` registers the handlers on the app.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.engine import InvalidInput, PathLimit
from solver.errors import LpsError

log = logging.getLogger("lps.api")

#: error codes of the HTTP errors raised by the framework itself (routing)
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


class ApiError(Exception):
    """An error answer: ``{"error": code, "reason": reason, **extra}`` with ``status``."""

    def __init__(self, http_status: int, error: str, reason: str, headers: dict | None = None,
                 **extra: Any) -> None:
        super().__init__(reason)
        self.status, self.error, self.reason, self.headers, self.extra = http_status, error, reason, headers, extra

    def response(self) -> JSONResponse:
        """The JSON answer (also usable as a bare ASGI app, from a middleware)."""
        return JSONResponse({"error": self.error, "reason": self.reason, **self.extra}, self.status,
                            headers=self.headers)


def limit_exceeded(limit: str, value: Any, maximum: Any, reason: str) -> ApiError:
    """422 naming the service limit, the request's value and the maximum."""
    return ApiError(422, "limit_exceeded", reason, limit=limit, value=value, max=maximum)


def path_limit(body: dict, **extra: Any) -> ApiError:
    """422 for a start system with too many paths; ``body`` is :meth:`PathLimit.body`
    (or a failed job's error, which is that body)."""
    rest = {k: v for k, v in body.items() if k != "reason"}
    return ApiError(422, "limit_exceeded", body.get("reason", "too many paths"), **extra, **rest)


def from_lps_error(exc: LpsError) -> ApiError:
    """The HTTP error of a domain error: the user's input is what the engine refused."""
    if isinstance(exc, PathLimit):
        return path_limit(exc.body())
    if isinstance(exc, InvalidInput):
        return ApiError(422, "invalid_request", str(exc), detail=exc.errors)
    return ApiError(422, "invalid_request", str(exc))


def _field_path(loc: tuple) -> str:
    """``("body", "layers", 1, "in_features")`` -> ``"layers[1].in_features"``."""
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


def validation_detail(errors: list[dict]) -> list[dict]:
    """Pydantic's errors as ``{"field", "reason", "type"}``."""
    out = []
    for e in errors:
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        out.append({"field": _field_path(tuple(e.get("loc", ()))), "reason": msg, "type": e.get("type")})
    return out


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return exc.response()


async def _lps_error(request: Request, exc: LpsError) -> JSONResponse:
    return from_lps_error(exc).response()


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    detail = validation_detail(list(exc.errors()))
    reason = "; ".join(f"{d['field'] or 'body'}: {d['reason']}" for d in detail[:5])
    return ApiError(422, "invalid_request", reason, detail=detail).response()


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return ApiError(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None)).response()


def internal_error(method: str, path: str, exc: BaseException) -> ApiError:
    """500 for an unexpected error: the body has an error id, the log has it with the
    traceback; the exception's name and message stay in the log (they can reveal code)."""
    error_id = uuid.uuid4().hex
    log.error("unexpected error %s on %s %s", error_id, method, path, exc_info=exc)
    return ApiError(500, "internal", f"internal error; quote error id {error_id} to the operator",
                    error_id=error_id)


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping above on ``app``."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(LpsError, _lps_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http)
    # no handler for Exception: Starlette re-raises after such a handler, which makes
    # the server drop the keep-alive connection; api.middleware.ErrorShield answers instead

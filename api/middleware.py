"""Two pure ASGI middlewares (cheap per request, before any routing or body parsing).

* :class:`BodyLimit` answers 413 for a body over ``max_body_bytes``, by its declared
  ``Content-Length`` or, while streaming, by the bytes received; otherwise it hands the
  body it read on to the app.
* :class:`RequestMetrics` counts every answer by method, route template and status.
* :class:`ErrorShield` answers an unexpected exception with a 500 carrying an error id
  (see :func:`api.errors.internal_error`) as an ordinary response, so the connection
  stays open.
"""

from __future__ import annotations

import time
from typing import Any

from api.errors import ApiError, internal_error
from api.metrics import ServiceMetrics

Scope = dict[str, Any]


def _too_large(limit: int, value: int, reason: str) -> ApiError:
    return ApiError(413, "body_too_large", reason, limit="max_body_bytes", value=value, max=limit)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return -1
    return None


def _replay(messages: list[dict], receive: Any) -> Any:
    """A ``receive`` that returns ``messages`` first, then asks the server."""
    pending = list(messages)

    async def replay() -> dict:
        return pending.pop(0) if pending else await receive()

    return replay


class _HttpMiddleware:
    """Passes everything but HTTP (lifespan, websockets) straight on to the app."""

    app: Any

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Any, send: Any) -> None:
        raise NotImplementedError


class BodyLimit(_HttpMiddleware):
    """413 ``body_too_large`` (with the limit) for request bodies over ``max_body_bytes``."""

    def __init__(self, app: Any, max_body_bytes: int) -> None:
        self.app, self.limit = app, max_body_bytes

    async def handle(self, scope: Scope, receive: Any, send: Any) -> None:
        declared = _declared_length(scope)
        if declared is not None and declared > self.limit:
            reason = f"the request body has {declared} bytes, more than the limit of {self.limit}"
            await _too_large(self.limit, declared, reason).response()(scope, receive, send)
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
            if size > self.limit:
                reason = f"the request body has more than the limit of {self.limit} bytes"
                await _too_large(self.limit, size, reason).response()(scope, receive, send)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        whole = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)


class RequestMetrics(_HttpMiddleware):
    """Counts each HTTP answer in ``metrics`` by method, route template and status."""

    def __init__(self, app: Any, metrics: ServiceMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def handle(self, scope: Scope, receive: Any, send: Any) -> None:
        t0 = time.perf_counter()
        status = [500]

        async def send_counted(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            # the router puts the matched route in the scope (shared with us)
            label = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(scope.get("method", "?"), label, status[0], time.perf_counter() - t0)


class ErrorShield(_HttpMiddleware):
    """An exception that no handler took becomes a normal 500 answer (not re-raised)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def handle(self, scope: Scope, receive: Any, send: Any) -> None:
        started = [False]

        async def send_tracked(message: dict) -> None:
            if message["type"] == "http.response.start":
                started[0] = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            if started[0]:
                raise  # half an answer is out: nothing sane can follow it
            error = internal_error(scope.get("method", "?"), scope.get("path", "?"), exc)
            await error.response()(scope, receive, send)

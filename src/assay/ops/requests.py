"""One observer per server: a request id, the HTTP metrics and one log line per request.

:class:`RequestObserver` is plain ASGI middleware, so it sees a streamed body to its
end (the metrics and the log line of a stream are written when its last byte has gone,
or when the client went away). The server adds what only it knows — AI system,
decision, guard and upstream timings — through ``describe``. The id is the caller's
``x-request-id`` when it is short and plain, else a new one; it is echoed in the
response, and :func:`current` gives it (and the running timings) to code on the
request's path, such as the gateway's upstream call and its evidence.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assay.ops.logs import ACCESS_LOGGER, request_id

__all__ = ["QUIET_ROUTES", "RequestInfo", "RequestObserver", "current", "current_request_id"]

log = logging.getLogger(ACCESS_LOGGER)
#: Probes and scrapes: counted in the metrics, not logged (they would drown the log).
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


@dataclass
class RequestInfo:
    """What is known about the request in progress (never its content)."""

    request_id: str
    method: str
    route: str
    started: float = field(default_factory=time.perf_counter)
    upstream_s: float = 0.0
    upstream_error: str | None = None


_CURRENT: ContextVar[RequestInfo | None] = ContextVar("assay_request", default=None)


def current() -> RequestInfo | None:
    """The request being served in this task (and the tasks it started), if any."""
    return _CURRENT.get()


def current_request_id() -> str | None:
    info = _CURRENT.get()
    return info.request_id if info is not None else None


#: Extra log fields for a finished request: (scope, info, status, completed) → fields.
Describe = Callable[[Scope, RequestInfo, int, bool], Mapping[str, Any]]


def _on_shutdown(send: Send) -> Send:
    """``send`` that tells the metrics this worker is gone once the app has shut down."""

    async def observed(message: Message) -> None:
        await send(message)
        if message["type"] == "lifespan.shutdown.complete":
            from assay.ops.metrics import process_exited

            process_exited()

    return observed


def route_of(scope: Scope) -> str:
    """The matched route's template (bounded label values), or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path:
        return str(path)
    # FastAPI does not record its plain Starlette routes (these three) in the scope
    return str(scope.get("path")) if scope.get("path") in QUIET_ROUTES else "unmatched"


class RequestObserver:
    """ASGI middleware: request id, HTTP server metrics, one log line per request."""

    def __init__(self, app: ASGIApp, *, http: Any = None, describe: Describe | None = None
                 ) -> None:
        self.app = app
        self.http = http  # an assay.ops.metrics.HttpMetrics, when metrics are on
        self.describe = describe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" and self.http is not None:
            await self.app(scope, receive, _on_shutdown(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = next((v.decode("latin-1") for k, v in scope.get("headers", ())
                        if k == b"x-request-id"), None)
        info = RequestInfo(request_id(offered), scope.get("method", ""), "unmatched")
        token = _CURRENT.set(info)
        status = 0
        completed = False
        if self.http is not None:
            self.http.active.inc()

        async def observed_send(message: Message) -> None:
            nonlocal status, completed
            if message["type"] == "http.response.start":
                status = int(message["status"])
                # an id the app passed through (the upstream's own) keeps its value under
                # another name: a response carries one x-request-id, this request's
                headers = [(b"x-upstream-request-id" if k.lower() == b"x-request-id" else k, v)
                           for k, v in message.get("headers", ())]
                headers.append((b"x-request-id", info.request_id.encode()))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                completed = True
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            _CURRENT.reset(token)
            info.route = route_of(scope)
            self._finish(scope, info, status, completed)

    def _finish(self, scope: Scope, info: RequestInfo, status: int, completed: bool) -> None:
        elapsed = time.perf_counter() - info.started
        if self.http is not None:
            self.http.active.dec()
            self.http.duration.labels(info.method, info.route, str(status)).observe(elapsed)
        fields: dict[str, Any] = {
            "request_id": info.request_id,
            "method": info.method,
            "route": info.route,
            "status": status,
            "duration_ms": round(elapsed * 1000, 2),
        }
        if not completed:
            fields["completed"] = False  # the client went away, or the server stopped it
        if self.describe is not None:
            try:
                fields.update(self.describe(scope, info, status, completed))
            except Exception:  # a log line must never break a request
                log.exception("describing request %s failed", info.request_id)
        if info.route not in QUIET_ROUTES:
            log.info("request", extra={"fields": fields})

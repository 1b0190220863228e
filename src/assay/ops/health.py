"""``/healthz`` (the process answers) and ``/readyz`` (it can serve): no auth, no content.

A readiness check is a named callable that returns ``None`` when all is well or a
short reason (never a secret, never request content) when it is not; it runs in a
worker thread, since a store check may block. ``/readyz`` answers 200 when every
check passes and 503 otherwise, with each check's result, so that a load balancer
takes the instance out and an operator sees why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from assay.errors import AssayError
from assay.store import Store

__all__ = ["Check", "health_routes", "readiness", "schema_current", "store_reachable"]

#: None when ready, else why not (one short line).
Check = Callable[[], str | None]

_NO_STORE = {"cache-control": "no-store"}


def readiness(checks: Mapping[str, Check]) -> dict[str, str]:
    """Each check's result: ``"ok"`` or its reason (a check that raises fails with its type)."""
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            problem = check()
        except Exception as exc:  # a broken check is a failed check, never a 500
            problem = f"{type(exc).__name__}"
        results[name] = "ok" if problem is None else problem
    return results


def health_routes(checks: Callable[[], Mapping[str, Check]]) -> list[Route]:
    """The two routes; ``checks`` is read at each request (the set may change at start)."""

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"}, headers=_NO_STORE)

    async def readyz(_request: Request) -> Response:
        results = await run_in_threadpool(readiness, checks())
        ready = all(value == "ok" for value in results.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": results},
            status_code=200 if ready else 503,
            headers=_NO_STORE,
        )

    return [
        Route("/healthz", healthz, methods=["GET", "HEAD"], include_in_schema=False),
        Route("/readyz", readyz, methods=["GET", "HEAD"], include_in_schema=False),
    ]


def store_reachable(store: Store) -> Check:
    """A check that the store answers a trivial query."""

    def check() -> str | None:
        with store.session() as session:
            session.execute(text("SELECT 1"))
        return None

    return check


def schema_current(store: Store) -> Check:
    """A check that the store's schema is the one this Assay needs (no URL in the reason:
    the probe is unauthenticated)."""

    def check() -> str | None:
        try:
            store.check_schema()
        except AssayError:
            return "schema not current: run `assay db upgrade` (or upgrade Assay)"
        return None

    return check

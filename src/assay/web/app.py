"""The web application: REST API under /api/v1 and the server-rendered dashboard.

``create_app(workspace)`` is the only entry point; ``assay serve`` runs it with
uvicorn. Every asset is served locally (no CDN).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from assay.errors import AssayError, Conflict, Invalid, NotFound, VerificationFailed
from assay.web import (
    api,
    api_activity,
    api_aims,
    api_readiness,
    ops,
    pages,
    pages_activity,
    pages_aims,
    pages_attest,
    pages_improve,
    pages_readiness,
    pages_redteam,
    pages_registers,
    pages_soa,
)
from assay.web.rendering import public_message
from assay.web.security import LoginThrottle, NotAuthenticated
from assay.workspace import Workspace

__all__ = ["create_app"]

_STATIC = Path(__file__).parent / "static"

_SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
_HSTS = "max-age=31536000"


def create_app(
    workspace: Workspace, *, secure_cookies: bool = False, metrics: bool = False
) -> FastAPI:
    """The ASGI app for ``workspace``; ``secure_cookies`` when served over TLS; ``metrics``
    serves ``/metrics`` (``/healthz`` and ``/readyz`` are always there)."""
    app = FastAPI(
        title="Assay API",
        version="1",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.workspace = workspace
    app.state.secure_cookies = secure_cookies
    app.state.login_throttle = LoginThrottle(workspace.store)
    app.include_router(api.router)
    app.include_router(api_aims.router)
    app.include_router(api_activity.router)
    app.include_router(api_readiness.router)
    app.include_router(pages_registers.router)  # before /audits/{id}: /audits/plan, /sample
    app.include_router(pages_attest.router)  # /evidence/new before /evidence/{seq}
    app.include_router(pages.router)
    app.include_router(pages_aims.router)
    app.include_router(pages_soa.router)
    app.include_router(pages_improve.router)
    app.include_router(pages_redteam.router)
    app.include_router(pages_activity.router)
    app.include_router(pages_readiness.router)
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")
    _install_handlers(app)
    ops.instrument(app, workspace, metrics=metrics)  # health, readiness, metrics, request logs

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.app.state.secure_cookies:  # served over TLS (RFC 6797 §7.2: HTTPS only)
            response.headers.setdefault("strict-transport-security", _HSTS)
        if request.url.path.startswith("/api/") or "text/html" in response.headers.get(
            "content-type", ""
        ):
            response.headers.setdefault("cache-control", "no-store")
        return response

    return app


#: HTTP status per kind of error (the first that matches); other failures are 400.
HTTP_STATUSES: tuple[tuple[type[AssayError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (Invalid, 400),
    (VerificationFailed, 422),
)


def http_status(exc: AssayError) -> int:
    """The HTTP status for an error a request ended with."""
    return next((code for kind, code in HTTP_STATUSES if isinstance(exc, kind)), 400)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, _exc: NotAuthenticated) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"error": "authentication required: send 'Authorization: Bearer <token>'"},
                status_code=401,
                headers={"www-authenticate": "Bearer"},
            )
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(AssayError)
    async def assay_error(request: Request, exc: AssayError) -> Response:
        status = http_status(exc)  # the message only: a hint is CLI advice
        message = public_message(request, exc.message)
        if _is_api(request):
            return JSONResponse({"error": message}, status_code=status)
        return pages.error_page(request, status, message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = public_message(request, str(exc.detail))
        if _is_api(request):
            status, headers = exc.status_code, exc.headers
            return JSONResponse({"error": message}, status_code=status, headers=headers)
        return pages.error_page(request, exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg')}"
            for err in exc.errors()
        )
        if _is_api(request):
            return JSONResponse({"error": f"invalid request: {problems}"}, status_code=422)
        return pages.error_page(request, 422, f"invalid request: {problems}")

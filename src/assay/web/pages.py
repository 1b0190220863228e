"""The dashboard: server-rendered pages (Jinja2), one handler per page.

Forms post back with the session's CSRF token; writes go through the same
functions as the CLI and API, so each is recorded in the ledger with the user.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assay import accounts, catalogs
from assay.accounts import ROLES, Permission
from assay.aims import LIFECYCLE_STAGES, add_system, get_system, list_systems
from assay.errors import NotFound
from assay.reports import FORMATS
from assay.web import activity, queries, readiness_views
from assay.web.api import pack as export_pack_route
from assay.web.rendering import Admin, AimsWriter, Reader, Verifier, render, workspace
from assay.web.security import COOKIE_NAME
from assay.web.svg import bar_chart

__all__ = ["error_page", "router"]

router = APIRouter(include_in_schema=False)
_LOGIN_CSRF = "assay_login_csrf"


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    return render(request, "error.html", principal, status, status=status, message=message)


# -- login -----------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, next=_safe_next(next), login_csrf=token)
    response.set_cookie(
        _LOGIN_CSRF,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.secure_cookies,
    )
    return response


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=100)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    expected = request.cookies.get(_LOGIN_CSRF, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return error_page(request, 403, "the login form expired: reload the page and try again")
    throttle = request.app.state.login_throttle
    key = f"{username}|{request.client.host if request.client else ''}"
    if not throttle.attempt(key):
        return error_page(request, 429, "too many failed logins: wait 15 minutes and try again")
    user = accounts.authenticate(workspace(request).store, username, password)
    if user is None:
        token = secrets.token_urlsafe(24)
        refused = render(
            request,
            "login.html",
            None,
            401,
            next=_safe_next(next),
            login_csrf=token,
            error="Wrong username or password.",
        )
        refused.set_cookie(
            _LOGIN_CSRF,
            token,
            httponly=True,
            samesite="strict",
            secure=request.app.state.secure_cookies,
        )
        return refused
    throttle.succeeded(key)
    cookie = accounts.create_session(workspace(request).store, user)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        cookie,
        httponly=True,
        samesite="lax",
        secure=request.app.state.secure_cookies,
        max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
    )
    response.delete_cookie(_LOGIN_CSRF)
    return response


@router.post("/logout")
def logout(request: Request, _: Reader) -> Response:
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie:
        accounts.end_session(workspace(request).store, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE_NAME)
    return response


def _safe_next(target: str) -> str:
    """Only same-site relative paths: no open redirects."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


# -- pages -----------------------------------------------------------------------


@router.get("/")
def overview(request: Request, principal: Reader) -> HTMLResponse:
    ws = workspace(request)
    data = queries.overview(ws)
    ready = readiness_views.overview_readiness(ws)
    chart = bar_chart([(t.removeprefix("assay.dev/"), n) for t, n in data["by_type"].items()])
    ready_chart = bar_chart(
        [(r["framework"], round(r["percent"] or 0)) for r in ready["frameworks"]],
        unit="%",
        scale_max=100,
    )
    return render(
        request,
        "overview.html",
        principal,
        data=data,
        chart=chart,
        systems=list_systems(ws.store),
        ready=ready,
        ready_chart=ready_chart,
        alerts=activity.recent_alerts(ws, 10),
    )


@router.get("/systems")
def systems_page(request: Request, principal: Reader) -> HTMLResponse:
    return render(
        request,
        "systems.html",
        principal,
        systems=list_systems(workspace(request).store),
        stages=LIFECYCLE_STAGES,
        readiness=readiness_views.systems_readiness(workspace(request)),
    )


@router.post("/systems")
def systems_add(
    request: Request,
    principal: AimsWriter,
    system_id: Annotated[str, Form(max_length=64)],
    name: Annotated[str, Form(max_length=200)],
    owner: Annotated[str, Form(max_length=200)],
    purpose: Annotated[str, Form(max_length=5000)] = "",
    stage: Annotated[str, Form(max_length=32)] = "development",
) -> Response:
    ws = workspace(request)
    add_system(
        ws.store,
        ws.ledger,
        system_id=system_id,
        name=name,
        owner=owner,
        purpose=purpose,
        lifecycle_stage=stage,
        actor=principal.actor,
    )
    return RedirectResponse(f"/systems/{system_id}", status_code=303)


@router.get("/systems/{system_id}")
def system_page(request: Request, system_id: str, principal: Reader) -> HTMLResponse:
    ws = workspace(request)
    record = get_system(ws.store, system_id)
    evidence = queries.evidence_page(ws, None, system_id, 0, 20)
    ready = readiness_views.system_readiness(ws, system_id)
    return render(
        request,
        "system.html",
        principal,
        system=record,
        evidence=evidence,
        controls=queries.shown_controls(ws, evidence.entries),
        readiness=ready,
    )


@router.get("/evidence")
def evidence_page(
    request: Request,
    principal: Reader,
    type: Annotated[str, Query(max_length=200)] = "",
    system: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=10**9)] = 1,
) -> HTMLResponse:
    size = 50
    result = queries.evidence_page(
        workspace(request), type or None, system or None, (page - 1) * size, size
    )
    return render(
        request,
        "evidence.html",
        principal,
        result=result,
        controls=queries.shown_controls(workspace(request), result.entries),
        type=type,
        system=system,
        page=page,
        pages=max(1, -(-result.total // size)),
    )


@router.get("/evidence/{seq}")
def entry_page(
    request: Request, seq: Annotated[int, PathParam(ge=0, le=2**62)], principal: Reader
) -> HTMLResponse:
    view = queries.entry_view(
        workspace(request), seq, show_payload=principal.can(Permission.VERIFY_EXPORT)
    )
    return render(request, "entry.html", principal, detail=view)


@router.get("/evidence/{seq}/payload")
def entry_payload(
    request: Request, seq: Annotated[int, PathParam(ge=0, le=2**62)], _: Verifier
) -> Response:
    """The payload as a download, for the roles that may export packs (which carry it too).

    Served as an attachment of an opaque type, whatever the entry's media type says, so
    a payload is never rendered by the browser in the dashboard's origin.
    """
    content = workspace(request).ledger.payload(seq)
    if content is None:
        raise NotFound(f"entry {seq} has no payload (none was stored, or it was erased)")
    return Response(
        content,
        media_type="application/octet-stream",
        headers={"content-disposition": f'attachment; filename="entry-{seq}-payload"'},
    )


@router.post("/evidence/verify")
def verify_page(request: Request, principal: Verifier) -> HTMLResponse:
    report = workspace(request).ledger.verify()
    return render(request, "verify.html", principal, report=report)


@router.get("/frameworks")
def frameworks_page(request: Request, principal: Reader) -> HTMLResponse:
    return render(request, "frameworks.html", principal, frameworks=catalogs.frameworks().values())


@router.get("/frameworks/{framework_id}")
def framework_page(request: Request, framework_id: str, principal: Reader) -> HTMLResponse:
    known = catalogs.frameworks()
    if framework_id not in known:
        raise NotFound(f"no framework {framework_id!r}: see /frameworks")
    return render(request, "framework.html", principal, framework=known[framework_id])


@router.get("/requirements/{ref:path}")
def requirement_page(request: Request, ref: str, principal: Reader) -> HTMLResponse:
    detail = queries.requirement_detail(workspace(request), ref)
    return render(request, "requirement.html", principal, detail=detail)


@router.get("/exports")
def exports_page(request: Request, principal: Reader) -> HTMLResponse:
    ws = workspace(request)
    return render(
        request,
        "exports.html",
        principal,
        public_key=str(ws.ledger.signer.verifier),
        systems=list_systems(ws.store),
        frameworks=catalogs.frameworks(),
        formats=FORMATS,
    )


@router.post("/exports/pack")
def exports_pack(
    request: Request, principal: Verifier, system: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    return export_pack_route(request, principal, system or None)


@router.get("/admin/users")
def users_page(request: Request, principal: Admin) -> HTMLResponse:
    return render(
        request,
        "users.html",
        principal,
        users=accounts.list_users(workspace(request).store),
        roles=ROLES,
    )


@router.post("/admin/users")
def users_add(
    request: Request,
    principal: Admin,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    role: Annotated[str, Form(max_length=16)],
) -> Response:
    ws = workspace(request)
    accounts.add_user(
        ws.store, ws.ledger, username=username, password=password, role=role, actor=principal.actor
    )
    return RedirectResponse("/admin/users", status_code=303)

"""The Statement of Applicability pages: view a version, edit a control, approve, diff.

Every write goes through :mod:`assay.aims.soa`, so four-eyes and validation
are the same as on the CLI; a refusal is shown on the page that asked.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assay.accounts import Principal
from assay.aims import soa
from assay.errors import AssayError
from assay.web import aims_queries
from assay.web.rendering import AimsWriter, Reader, render, workspace

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

Version = Annotated[int | None, Query(ge=1, le=1_000_000)]


def _soa_page(
    request: Request, principal: Principal, number: int | None = None, error: str | None = None
) -> HTMLResponse:
    view = aims_queries.soa_view(workspace(request).store, number)
    return render(request, "soa.html", principal, 400 if error else 200, view=view, error=error)


@router.get("/soa")
def soa_page(request: Request, principal: Reader, version: Version = None) -> HTMLResponse:
    return _soa_page(request, principal, version)


@router.get("/soa/diff")
def soa_diff_page(
    request: Request,
    principal: Reader,
    old: Annotated[int, Query(ge=1, le=1_000_000)],
    new: Annotated[int, Query(ge=1, le=1_000_000)],
) -> HTMLResponse:
    changes = aims_queries.soa_diff(workspace(request).store, old, new)
    return render(request, "soa_diff.html", principal, old=old, new=new, changes=changes)


@router.post("/soa/generate")
def soa_generate(request: Request, principal: AimsWriter) -> Response:
    ws = workspace(request)
    before = soa.current(ws.store)
    after = soa.generate(ws.store, ws.ledger, actor=principal.actor)
    same = before is not None and before.version == after.version
    return RedirectResponse(f"/soa?notice={'unchanged' if same else 'generated'}", 303)


@router.post("/soa/approve")
def soa_approve(
    request: Request, principal: AimsWriter, note: Annotated[str, Form(max_length=2000)] = ""
) -> Response:
    ws = workspace(request)
    try:
        soa.approve(ws.store, ws.ledger, actor=principal.actor, note=note)
    except AssayError as exc:
        return _soa_page(request, principal, error=str(exc))
    return RedirectResponse("/soa?notice=approved", status_code=303)


def _control_page(
    request: Request, principal: Principal, control: str, error: str | None = None
) -> HTMLResponse:
    statement = soa.current(workspace(request).store)
    if statement is None:
        raise AssayError("no Statement of Applicability yet: generate it on the SoA page first")
    return render(
        request,
        "soa_control.html",
        principal,
        400 if error else 200,
        entry=statement.entry(control),
        version=statement.version,
        statuses=soa.IMPLEMENTATION_STATUSES,
        error=error,
    )


@router.get("/soa/controls/{control}")
def soa_control_page(request: Request, control: str, principal: AimsWriter) -> HTMLResponse:
    return _control_page(request, principal, control)


@router.post("/soa/controls/{control}")
def soa_control_edit(
    request: Request,
    control: str,
    principal: AimsWriter,
    applicable: Annotated[Literal["yes", "no"], Form()],
    implementation_status: Annotated[str, Form(max_length=32)],
    justification: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    ws = workspace(request)
    current = soa.current(ws.store)
    if current is None:
        raise AssayError("no Statement of Applicability yet: generate it on the SoA page first")
    text = justification.strip()
    changed = text if text and text != current.entry(control).justification else None
    try:
        soa.edit(
            ws.store,
            ws.ledger,
            control,
            applicable=applicable == "yes",
            justification=changed,
            implementation_status=implementation_status,
            actor=principal.actor,
        )
    except AssayError as exc:
        return _control_page(request, principal, control, str(exc))
    return RedirectResponse("/soa?notice=edited", status_code=303)

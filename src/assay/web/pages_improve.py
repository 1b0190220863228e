"""Check and improve: internal audits with findings, corrective actions, management reviews."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assay.accounts import Principal
from assay.aims import audit, capa, review
from assay.errors import AssayError, NotFound
from assay.web import aims_queries
from assay.web.rendering import AimsWriter, AuditWriter, Reader, render, workspace

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

Step = Literal["contain", "analyse", "action", "done", "verify", "close"]
REVIEW_SECTIONS = review.PACK_SECTIONS


@router.get("/audits")
def audits_page(request: Request, principal: Reader) -> HTMLResponse:
    rows = aims_queries.audits_view(workspace(request).store)
    return render(request, "audits.html", principal, rows=rows, grades=audit.GRADES)


def _audit_page(
    request: Request, principal: Principal, audit_id: str, error: str | None = None
) -> HTMLResponse:
    store = workspace(request).store
    record = audit.list_audits(store)
    found = next((a for a in record if a.id == audit_id), None)
    if found is None:
        raise NotFound(f"no audit {audit_id!r}: see the audits page for their IDs")
    return render(
        request,
        "audit.html",
        principal,
        400 if error else 200,
        record=found,
        findings=audit.findings_for(store, audit_id),
        grades=audit.GRADES,
        error=error,
    )


@router.get("/audits/{audit_id}")
def audit_page(request: Request, audit_id: str, principal: Reader) -> HTMLResponse:
    return _audit_page(request, principal, audit_id)


@router.post("/audits/{audit_id}/findings")
def audit_finding(
    request: Request,
    audit_id: str,
    principal: AuditWriter,
    grade: Annotated[str, Form(max_length=40)],
    description: Annotated[str, Form(min_length=1, max_length=5000)],
    controls: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    ws = workspace(request)
    refs = tuple(c.strip() for c in controls.replace(",", " ").split() if c.strip())
    try:
        audit.add_finding(
            ws.store,
            ws.ledger,
            audit_id,
            grade=grade,
            description=description,
            controls=refs,
            actor=principal.actor,
        )
    except AssayError as exc:
        return _audit_page(request, principal, audit_id, str(exc))
    return RedirectResponse(f"/audits/{audit_id}?notice=finding", status_code=303)


@router.get("/capa")
def capa_list_page(request: Request, principal: Reader) -> HTMLResponse:
    rows = aims_queries.capa_list(workspace(request).store)
    return render(request, "capa_list.html", principal, rows=rows)


def _capa_page(
    request: Request, principal: Principal, capa_id: str, error: str | None = None
) -> HTMLResponse:
    record = capa.get_capa(workspace(request).store, capa_id)
    return render(
        request, "capa.html", principal, 400 if error else 200, record=record, error=error
    )


@router.get("/capa/{capa_id}")
def capa_page(request: Request, capa_id: str, principal: Reader) -> HTMLResponse:
    return _capa_page(request, principal, capa_id)


@router.post("/capa/{capa_id}")
def capa_advance(
    request: Request,
    capa_id: str,
    principal: AimsWriter,
    step: Annotated[Step, Form()],
    text: Annotated[str, Form(max_length=5000)] = "",
    owner: Annotated[str, Form(max_length=200)] = "",
    due: Annotated[date | None, Form()] = None,
    action_id: Annotated[str, Form(max_length=20)] = "",
    effective: Annotated[Literal["yes", "no", ""], Form()] = "",
) -> Response:
    ws = workspace(request)
    store, ledger, actor = ws.store, ws.ledger, principal.actor
    try:
        if step in ("contain", "analyse", "action") and not text.strip():
            raise AssayError(f"corrective action {capa_id}: describe the {step} step")
        if step == "contain":
            capa.contain(store, ledger, capa_id, text, actor=actor)
        elif step == "analyse":
            capa.analyse(store, ledger, capa_id, text, actor=actor)
        elif step == "action":
            capa.add_action(
                store, ledger, capa_id, description=text, owner=owner or actor, due=due, actor=actor
            )
        elif step == "done":
            capa.complete_action(store, ledger, capa_id, action_id, actor=actor)
        elif step == "verify":
            if not effective:
                raise AssayError(f"corrective action {capa_id}: say whether it was effective")
            capa.check_effectiveness(
                store, ledger, capa_id, effective=effective == "yes", note=text, actor=actor
            )
        else:
            capa.close(store, ledger, capa_id, actor=actor)
    except AssayError as exc:
        return _capa_page(request, principal, capa_id, str(exc))
    return RedirectResponse(f"/capa/{capa_id}?notice=advanced", status_code=303)


@router.get("/reviews")
def reviews_page(request: Request, principal: Reader) -> HTMLResponse:
    rows = aims_queries.reviews_list(workspace(request).store)
    return render(request, "reviews.html", principal, rows=rows)


@router.post("/reviews")
def reviews_prepare(
    request: Request,
    principal: AimsWriter,
    title: Annotated[str, Form(min_length=1, max_length=200)],
) -> Response:
    ws = workspace(request)
    made = review.prepare(ws.store, ws.ledger, title=title, actor=principal.actor)
    return RedirectResponse(f"/reviews/{made.id}?notice=prepared", status_code=303)


@router.get("/reviews/{review_id}")
def review_page(request: Request, review_id: str, principal: Reader) -> HTMLResponse:
    record = review.get_review(workspace(request).store, review_id)
    return render(request, "review.html", principal, record=record, sections=REVIEW_SECTIONS)

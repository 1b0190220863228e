"""Dashboard pages for risks (with the heat map), impact assessments and objectives."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assay.aims import impact, list_systems, risk
from assay.errors import AssayError
from assay.web import aims_queries, trends
from assay.web.rendering import AimsWriter, Reader, render, workspace
from assay.web.svg import heat_map, sparkline

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/risks")
def risks_page(
    request: Request,
    principal: Reader,
    system: Annotated[str, Query(max_length=64)] = "",
    basis: Annotated[aims_queries.Basis, Query()] = "inherent",
) -> HTMLResponse:
    store = workspace(request).store
    view = aims_queries.risks_view(store, system or None, basis)
    scale = risk.scale(store)
    counts = {(c["likelihood"], c["impact"]): c["count"] for c in view["cells"]}
    chart = heat_map(
        counts, scale.likelihood, scale.impact, lambda lk, im: risk.rating(scale, lk, im)[1]
    )
    return render(
        request,
        "risks.html",
        principal,
        view=view,
        chart=chart,
        system=system,
        systems=list_systems(store),
    )


@router.get("/impact")
def impact_list_page(request: Request, principal: Reader) -> HTMLResponse:
    rows = aims_queries.impact_list(workspace(request).store)
    return render(request, "impact_list.html", principal, rows=rows)


def _impact_page(
    request: Request, principal: Reader, assessment_id: str, error: str | None = None
) -> HTMLResponse:
    record = impact.get_assessment(workspace(request).store, assessment_id)
    return render(
        request,
        "impact.html",
        principal,
        400 if error else 200,
        record=record,
        questions=impact.QUESTIONS,
        missing=impact.missing_answers(record.data),
        error=error,
    )


@router.get("/impact/{assessment_id}")
def impact_page(request: Request, assessment_id: str, principal: Reader) -> HTMLResponse:
    return _impact_page(request, principal, assessment_id)


@router.post("/impact/{assessment_id}/sign-off")
def impact_sign_off(
    request: Request,
    assessment_id: str,
    principal: AimsWriter,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    ws = workspace(request)
    try:
        impact.sign_off(ws.store, ws.ledger, assessment_id, actor=principal.actor, note=note)
    except AssayError as exc:
        return _impact_page(request, principal, assessment_id, str(exc))
    return RedirectResponse(f"/impact/{assessment_id}?notice=signed-off", status_code=303)


@router.get("/objectives")
def objectives_page(request: Request, principal: Reader) -> HTMLResponse:
    rows = aims_queries.objectives_view(workspace(request).store)
    lines = {row["id"]: sparkline(row["measurements"]) for row in rows}
    return render(request, "objectives.html", principal, rows=rows, trends=lines)


@router.get("/objectives/{objective_id}")
def objective_page(request: Request, objective_id: str, principal: Reader) -> HTMLResponse:
    view = trends.objective_history(workspace(request).store, objective_id)
    return render(request, "objective.html", principal, view=view)

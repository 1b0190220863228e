"""Red-team pages: runs, a run with its sandboxed HTML report, and starting a demo scan."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assay.aims import get_system, list_systems
from assay.redteam import FAMILIES
from assay.web import scans, trends
from assay.web.rendering import Engineer, Reader, render, workspace

__all__ = ["REPORT_CSP", "router"]

router = APIRouter(include_in_schema=False)

RunId = Annotated[str, PathParam(pattern=scans.RUN_ID_PATTERN, max_length=80)]
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox"
)
"""The report is inline CSS and no script: nothing else may load or run, even opened alone."""


def jobs(request: Request) -> scans.ScanJobs:
    """The app's background scan jobs (created on first use)."""
    state = request.app.state
    if getattr(state, "scan_jobs", None) is None:
        state.scan_jobs = scans.ScanJobs(workspace(request))
    found: scans.ScanJobs = state.scan_jobs
    return found


@router.get("/redteam")
def redteam_page(request: Request, principal: Reader) -> HTMLResponse:
    ws = workspace(request)
    return render(
        request,
        "redteam.html",
        principal,
        runs=scans.runs(ws),
        asr=trends.asr_history(ws),
        systems=list_systems(ws.store),
        families=FAMILIES,
    )


@router.post("/redteam/scans")
def redteam_start(
    request: Request,
    principal: Engineer,
    system: Annotated[str, Form(min_length=1, max_length=64)],
    families: Annotated[list[str] | None, Form(max_length=40)] = None,
    limit: Annotated[int | None, Form(ge=1, le=1000)] = None,
) -> Response:
    ws = workspace(request)
    get_system(ws.store, system)
    run_id = jobs(request).start(
        system=system, families=families, limit=limit, actor=principal.actor
    )
    return RedirectResponse(f"/redteam/runs/{run_id}", status_code=303)


@router.get("/redteam/runs/{run_id}")
def run_page(request: Request, run_id: RunId, principal: Reader) -> HTMLResponse:
    detail = scans.run_detail(workspace(request), run_id)
    manager = jobs(request)
    return render(
        request,
        "redteam_run.html",
        principal,
        run=detail,
        running=manager.running(run_id),
        error=manager.errors.get(run_id),
        families=FAMILIES,
    )


@router.get("/redteam/runs/{run_id}/report")
def run_report(
    request: Request,
    run_id: RunId,
    _: Reader,
    download: Annotated[bool, Query()] = False,
) -> Response:
    headers = {
        "content-security-policy": REPORT_CSP,
        "x-frame-options": "SAMEORIGIN",
    }
    if download:
        headers["content-disposition"] = f'attachment; filename="{run_id}.html"'
    return HTMLResponse(scans.report_html(workspace(request), run_id), headers=headers)

"""Controls (readiness per requirement with evidence and freshness) and report downloads."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from assay.accounts import Permission
from assay.aims import list_systems
from assay.aims.readiness import STATUSES
from assay.catalogs import frameworks
from assay.errors import AssayError
from assay.ledger.pack import export_pack
from assay.reports import FORMATS, render, report_files
from assay.web import pages_attest, readiness_views
from assay.web.pages_registers import next_form
from assay.web.rendering import Reader, Verifier, workspace
from assay.web.rendering import render as render_page

__all__ = ["MEDIA_TYPES", "router"]

router = APIRouter(include_in_schema=False)

MEDIA_TYPES = {
    "pdf": ("application/pdf", "pdf"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
"""Media type and extension per export format; every other format is JSON."""


@router.get("/controls")
def controls_page(
    request: Request,
    principal: Reader,
    framework: Annotated[str, Query(max_length=64)] = "iso42001",
    system: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    ws = workspace(request)
    result = readiness_views.run(ws, framework, system or None)
    items = [i for i in result.items if not status or i.status == status]
    return render_page(
        request,
        "controls.html",
        principal,
        result=result,
        summary=readiness_views.framework_summary(result),
        items=items,
        framework=framework,
        system=system,
        status=status,
        statuses=STATUSES,
        frameworks=frameworks(),
        systems=list_systems(ws.store),
        unsigned=ws.ledger.size() - (result.checkpoint.tree_size if result.checkpoint else 0),
        forms={
            i.ref: pages_attest.attest_link(i, system or None) or next_form(i.next_action)
            for i in items
        }
        if principal.can(Permission.AIMS_WRITE)
        else {},
    )


@router.post("/ledger/checkpoint")
def sign_checkpoint(request: Request, _: Verifier) -> Response:
    """Sign a checkpoint over the current tree, so the newest evidence can be proven."""
    workspace(request).ledger.checkpoint()
    return RedirectResponse("/?notice=signed", status_code=303)


def report_response(request: Request, framework: str, system: str | None, fmt: str) -> Response:
    """One readiness export as a download, rendered by :func:`assay.reports.render`."""
    if fmt not in FORMATS:
        raise AssayError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    ws = workspace(request)
    result = readiness_views.run(ws, framework, system, sign=True)
    data = render(ws, result, fmt, frameworks()[framework])
    media, ext = MEDIA_TYPES.get(fmt, ("application/json", "json"))
    name = "-".join(p for p in (fmt, framework, system) if p) + f".{ext}"
    return Response(
        data,
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.post("/exports/report")
def exports_report(
    request: Request,
    _: Verifier,
    framework: Annotated[str, Form(max_length=64)],
    format: Annotated[str, Form(max_length=32)],
    system: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    return report_response(request, framework, system or None, format)


@router.post("/exports/pack-with-reports")
def exports_pack_with_reports(
    request: Request,
    _: Verifier,
    framework: Annotated[str, Form(max_length=64)],
    system: Annotated[str, Form(max_length=64)] = "",
) -> FileResponse:
    """The whole ledger as an audit pack, with the framework's reports under its manifest."""
    ws = workspace(request)
    readiness_views.run(ws, framework, system or None)  # refuses an unknown framework or system
    files = report_files(ws, framework, system or None)
    directory = Path(tempfile.mkdtemp(prefix="assay-pack-"))
    out = directory / f"assay-audit-pack-{framework}.zip"
    export_pack(ws.ledger, out, extra_files=files)
    return FileResponse(
        out,
        media_type="application/zip",
        filename=out.name,
        background=BackgroundTask(_remove, directory),
    )


def _remove(directory: Path) -> None:
    for child in directory.iterdir():
        child.unlink()
    directory.rmdir()

"""REST API, /api/v1: readiness per framework and the readiness exports (PDF, XLSX, OSCAL)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from assay.reports import FORMATS
from assay.web import readiness_views
from assay.web.pages_readiness import report_response
from assay.web.rendering import Reader, Verifier, workspace

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["readiness"])

Framework = Annotated[str, Query(min_length=1, max_length=64)]
SystemFilter = Annotated[str | None, Query(max_length=64)]
#: The export formats as a path parameter (FastAPI lists and checks the values from it).
ExportFormat = StrEnum("ExportFormat", [(f.replace("-", "_"), f) for f in FORMATS])  # type: ignore[misc]


@router.get("/readiness")
def readiness(
    request: Request, _: Reader, framework: Framework, system: SystemFilter = None
) -> dict[str, Any]:
    """Every requirement's status, reason, next action and cited evidence."""
    return readiness_views.run(workspace(request), framework, system).as_json()


@router.get("/readiness/summary")
def readiness_summary(request: Request, _: Reader) -> dict[str, Any]:
    """Readiness percent, open gaps and stale evidence for every built-in framework."""
    return readiness_views.overview_readiness(workspace(request))


@router.get("/reports/{fmt}")
def report(
    request: Request,
    fmt: ExportFormat,
    _: Verifier,
    framework: Framework,
    system: SystemFilter = None,
) -> Response:
    """One readiness export (OSCAL JSON, XLSX or PDF) as a download."""
    return report_response(request, framework, system, str(fmt))

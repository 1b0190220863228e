"""REST API, /api/v1: red-team runs, guard activity, drift status and alerts (read only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam

from assay.web import activity, scans
from assay.web.rendering import Reader, workspace

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["activity"])

SystemFilter = Annotated[str | None, Query(max_length=64)]


@router.get("/redteam/runs")
def redteam_runs(
    request: Request, _: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[dict[str, Any]]:
    """Red-team runs, newest first, with attack success rates and their evidence entry."""
    return scans.runs(workspace(request), limit)


@router.get("/redteam/runs/{run_id}")
def redteam_run(
    request: Request,
    run_id: Annotated[str, PathParam(pattern=scans.RUN_ID_PATTERN, max_length=80)],
    _: Reader,
) -> dict[str, Any]:
    """One stored run: figures overall and per attack family."""
    return scans.run_detail(workspace(request), run_id)


@router.get("/guard/activity")
def guard_activity(
    request: Request,
    _: Reader,
    system: SystemFilter = None,
    days: Annotated[int, Query(ge=1, le=365)] = 14,
) -> dict[str, Any]:
    """Guard decisions per day, block and redact rates, top validators, latency percentiles."""
    return activity.guard_activity(workspace(request), system, days)


@router.get("/drift/status")
def drift_status(request: Request, _: Reader) -> list[dict[str, Any]]:
    """Per system: active reference, level per signal as last reported by the monitor."""
    return activity.drift_view(workspace(request))


@router.get("/alerts")
def alerts(
    request: Request,
    _: Reader,
    system: SystemFilter = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> list[dict[str, Any]]:
    """Recent drift alerts and guard blocks, newest first."""
    return activity.recent_alerts(workspace(request), limit, system=system)

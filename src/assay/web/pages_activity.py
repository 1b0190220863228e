"""Runtime pages: guard activity (decisions, rates, validators, latency) and drift."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from assay.aims import list_systems
from assay.web import activity, queries, trends
from assay.web.rendering import Reader, render, workspace
from assay.web.svg import bar_chart, column_chart

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/guard")
def guard_page(
    request: Request,
    principal: Reader,
    system: Annotated[str, Query(max_length=64)] = "",
    days: Annotated[int, Query(ge=1, le=365)] = 14,
) -> HTMLResponse:
    ws = workspace(request)
    data = activity.guard_activity(ws, system or None, days)
    series = data["series"]
    charts = {
        "decisions": column_chart([(d["day"][5:], d["decisions"]) for d in series]),
        "block_rate": column_chart(
            [(d["day"][5:], round(100 * (d["block_rate"] or 0), 1)) for d in series], unit="%"
        ),
        "latency": trends.latency_chart(series),
        "validators": bar_chart([(v["validator"], v["findings"]) for v in data["top_validators"]]),
    }
    return render(
        request,
        "guard.html",
        principal,
        data=data,
        charts=charts,
        by_type=queries.shown_controls(ws, [{"type": activity.GUARD_TYPE, "controls": []}])[0],
        system=system,
        systems=list_systems(ws.store),
    )


@router.get("/drift")
def drift_page(request: Request, principal: Reader) -> HTMLResponse:
    ws = workspace(request)
    alerts = activity.recent_alerts(ws, 50, blocks=False)
    systems = activity.drift_view(ws, alerting=[str(a["system"]) for a in alerts if a["system"]])
    return render(
        request,
        "drift.html",
        principal,
        systems=systems,
        histories={s["system"]: trends.drift_history(ws, s["system"]) for s in systems},
        alerts=alerts,
    )

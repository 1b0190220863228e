"""Readiness for the dashboard, from :func:`assay.aims.readiness.readiness` (the gap engine).

Pages only read: evidence counts once a signed checkpoint covers it, and a
page shows how many newer entries wait for one (the "Sign a checkpoint"
button, ``assay ledger checkpoint``, or any export signs). Exports sign first,
as ``assay comply export`` does.
"""

from __future__ import annotations

from typing import Any

from assay.aims import get_system, list_systems
from assay.aims.readiness import Readiness, readiness
from assay.catalogs import frameworks
from assay.errors import AssayError
from assay.workspace import Workspace

__all__ = [
    "MAX_LISTED_SYSTEMS",
    "SYSTEM_FRAMEWORKS",
    "framework_summary",
    "overview_readiness",
    "run",
    "system_readiness",
    "systems_readiness",
]

SYSTEM_FRAMEWORKS = ("iso42001", "eu-ai-act")
"""Frameworks shown on an AI system's page."""
MAX_LISTED_SYSTEMS = 50
"""Systems whose readiness the systems list computes (beyond it, open the system)."""


def run(
    ws: Workspace, framework_id: str, system: str | None = None, *, sign: bool = False
) -> Readiness:
    """Readiness of one framework (a built-in ID), for the organisation or one system."""
    if framework_id not in frameworks():
        known = ", ".join(frameworks())
        raise AssayError(f"unknown framework {framework_id!r}; use one of: {known}")
    if system is not None:
        get_system(ws.store, system)
    return readiness(ws.store, ws.ledger, framework_id, system=system, sign=sign)


def framework_summary(result: Readiness) -> dict[str, Any]:
    """Percent, counts and open gaps of one readiness result."""
    counts = result.counts
    return {
        "framework": result.framework,
        "name": result.framework_name,
        "percent": result.percent,
        "counts": counts,
        "applicable": sum(n for status, n in counts.items() if status != "not_applicable"),
        "open_gaps": len(result.open_items),
        "stale": counts["stale"],
        "stale_evidence": sum(1 for item in result.items for c in item.evidence if not c.fresh),
    }


def overview_readiness(ws: Workspace) -> dict[str, Any]:
    """Every built-in framework's readiness, with totals of open gaps and stale evidence."""
    rows = [framework_summary(run(ws, fid)) for fid in frameworks()]
    return {
        "frameworks": rows,
        "open_gaps": sum(r["open_gaps"] for r in rows),
        "stale": sum(r["stale"] for r in rows),
        "stale_evidence": sum(r["stale_evidence"] for r in rows),
    }


def system_readiness(ws: Workspace, system: str) -> list[dict[str, Any]]:
    """The system's readiness for :data:`SYSTEM_FRAMEWORKS`."""
    return [framework_summary(run(ws, fid, system)) for fid in SYSTEM_FRAMEWORKS]


def systems_readiness(ws: Workspace) -> dict[str, float | None]:
    """ISO/IEC 42001 readiness percent per active system (the first systems only)."""
    return {
        s.id: run(ws, "iso42001", s.id).percent for s in list_systems(ws.store)[:MAX_LISTED_SYSTEMS]
    }

"""REST API, /api/v1: read routes over the AIMS registers (same read models as the pages)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from assay.aims import audit, capa, impact, review
from assay.errors import NotFound
from assay.web import aims_queries
from assay.web.rendering import Reader, workspace

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["aims"])

VersionNo = Annotated[int, Query(ge=1, le=1_000_000)]


@router.get("/risks")
def risks(
    request: Request,
    _: Reader,
    system: Annotated[str | None, Query(max_length=64)] = None,
    basis: Annotated[aims_queries.Basis, Query()] = "inherent",
) -> dict[str, Any]:
    """The risk register with ratings, and heat map cells (likelihood × impact counts)."""
    return aims_queries.risks_view(workspace(request).store, system, basis)


@router.get("/impact-assessments")
def impact_assessments(request: Request, _: Reader) -> list[dict[str, Any]]:
    """Impact assessments and what each still needs before sign-off."""
    return aims_queries.impact_list(workspace(request).store)


@router.get("/impact-assessments/{assessment_id}")
def impact_assessment(request: Request, assessment_id: str, _: Reader) -> dict[str, Any]:
    """One impact assessment with its answers."""
    return impact.get_assessment(workspace(request).store, assessment_id).as_json()


@router.get("/soa")
def statement(
    request: Request, _: Reader, version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None
) -> dict[str, Any]:
    """The Statement of Applicability (newest version, or ``version``)."""
    view = aims_queries.soa_view(workspace(request).store, version)
    if view is None:
        raise NotFound("no Statement of Applicability yet", hint="run `assay soa generate`")
    return view


@router.get("/soa/diff")
def statement_diff(
    request: Request, _: Reader, old: VersionNo, new: VersionNo
) -> list[dict[str, Any]]:
    """Field-level changes between two SoA versions."""
    return aims_queries.soa_diff(workspace(request).store, old, new)


@router.get("/objectives")
def objectives(request: Request, _: Reader) -> list[dict[str, Any]]:
    """Objectives with status, trend and recent measurements."""
    return aims_queries.objectives_view(workspace(request).store)


@router.get("/audits")
def audits(request: Request, _: Reader) -> list[dict[str, Any]]:
    """Internal audits with findings counted by grade."""
    return aims_queries.audits_view(workspace(request).store)


@router.get("/audits/{audit_id}/findings")
def findings(request: Request, audit_id: str, _: Reader) -> list[dict[str, Any]]:
    """The findings of one audit."""
    store = workspace(request).store
    if audit_id not in {a.id for a in audit.list_audits(store)}:
        raise NotFound(f"no audit {audit_id!r}")
    return [f.as_json() for f in audit.findings_for(store, audit_id)]


@router.get("/capa")
def capas(request: Request, _: Reader) -> list[dict[str, Any]]:
    """Corrective actions and their progress."""
    return aims_queries.capa_list(workspace(request).store)


@router.get("/capa/{capa_id}")
def capa_record(request: Request, capa_id: str, _: Reader) -> dict[str, Any]:
    """One corrective action with its actions and effectiveness check."""
    record = capa.get_capa(workspace(request).store, capa_id)
    return record.as_json()


@router.get("/reviews")
def reviews(request: Request, _: Reader) -> list[dict[str, Any]]:
    """Management reviews."""
    return aims_queries.reviews_list(workspace(request).store)


@router.get("/reviews/{review_id}")
def review_record(request: Request, review_id: str, _: Reader) -> dict[str, Any]:
    """One management review with its clause 9.3.2 input pack."""
    return review.get_review(workspace(request).store, review_id).as_json()

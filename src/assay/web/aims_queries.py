"""Read models of the AIMS registers for the dashboard and the API (no writes here)."""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from assay.aims import audit, capa, impact, objectives, review, risk, soa
from assay.errors import AssayError
from assay.store import Store

__all__ = [
    "Basis",
    "audits_view",
    "capa_list",
    "heat_counts",
    "impact_list",
    "objectives_view",
    "reviews_list",
    "risks_view",
    "soa_diff",
    "soa_view",
]

Basis = Literal["inherent", "residual"]


def _levels(r: risk.Risk, basis: Basis) -> tuple[int, int]:
    if basis == "residual" and r.residual_likelihood and r.residual_impact:
        return r.residual_likelihood, r.residual_impact
    return r.likelihood, r.impact


def heat_counts(records: list[Any], basis: Basis) -> dict[tuple[int, int], int]:
    """Risks per (likelihood, impact) cell; residual falls back to inherent when unrated."""
    return dict(Counter(_levels(rec.data, basis) for rec in records))


def risks_view(store: Store, system: str | None, basis: Basis) -> dict[str, Any]:
    """The register's rows with ratings and bands, and the heat map counts."""
    scale = risk.scale(store)
    records = risk.list_risks(store, system=system)
    rows = []
    for rec in records:
        r = rec.data
        inherent = risk.rating(scale, r.likelihood, r.impact)
        residual = (
            risk.rating(scale, r.residual_likelihood, r.residual_impact)
            if r.residual_likelihood and r.residual_impact
            else None
        )
        rows.append(
            {
                "id": rec.id,
                "system": rec.system,
                "title": r.title,
                "category": r.category,
                "owner": r.owner,
                "status": rec.status,
                "likelihood": r.likelihood,
                "impact": r.impact,
                "inherent": {"score": inherent[0], "band": inherent[1]},
                "residual": {"score": residual[0], "band": residual[1]} if residual else None,
                "treatment": r.treatment,
                "controls": list(r.controls),
                "accepted_by": r.acceptance.by if r.acceptance else None,
                "due": r.due.isoformat() if r.due else None,
            }
        )
    counts = heat_counts(records, basis)
    return {
        "basis": basis,
        "scale": {
            "likelihood": list(scale.likelihood),
            "impact": list(scale.impact),
            "bands": [list(b) for b in scale.bands],
        },
        "risks": rows,
        "cells": [
            {"likelihood": lk, "impact": im, "count": n, "band": risk.rating(scale, lk, im)[1]}
            for (lk, im), n in sorted(counts.items())
        ],
    }


def impact_list(store: Store) -> list[dict[str, Any]]:
    """Impact assessments with what is still missing before sign-off."""
    return [
        {
            "id": rec.id,
            "system": rec.system,
            "title": rec.data.title,
            "status": rec.status,
            "fria": rec.data.fria,
            "severity": rec.data.severity,
            "likelihood": rec.data.likelihood,
            "signed_off_by": rec.data.signoff.by if rec.data.signoff else None,
            "missing": impact.missing_answers(rec.data),
        }
        for rec in impact.list_assessments(store)
    ]


def soa_view(store: Store, number: int | None = None) -> dict[str, Any] | None:
    """One SoA version (the newest by default) with totals and the version list."""
    statement = soa.version(store, number) if number is not None else soa.current(store)
    if statement is None:
        return None
    history = soa.versions(store)
    approved = soa.current(store, approved_only=True)
    entries = statement.entries
    return {
        **statement.as_json(),
        "latest": history[-1].version,
        "approved_version": approved.version if approved else None,
        "totals": {
            "controls": len(entries),
            "applicable": sum(e.applicable for e in entries),
            "implemented": sum(e.implementation_status == "implemented" for e in entries),
            "edited": sum(e.edited for e in entries),
        },
        "versions": [
            {"version": v.version, "status": v.status, "approved_by": v.approved_by}
            for v in history
        ],
    }


def soa_diff(store: Store, old: int, new: int) -> list[dict[str, Any]]:
    """Field-level changes between two SoA versions."""
    if old == new:
        raise AssayError("choose two different versions to compare")
    return [
        {"control": c.control, "field": c.field, "old": c.old, "new": c.new}
        for c in soa.diff_versions(store, old, new)
    ]


def objectives_view(store: Store) -> list[dict[str, Any]]:
    """Objectives with status, trend, latest value and the recent measurements."""
    out = []
    for rec in objectives.list_objectives(store):
        o = rec.data
        status, trend = objectives.evaluate(o)
        values = [m.value for m in o.measurements]
        out.append(
            {
                "id": rec.id,
                "system": rec.system,
                "title": o.title,
                "target": f"{o.target_op} {o.target:g}{o.unit}",
                "source": o.metric.evidence_type if o.metric.source == "evidence" else "manual",
                "status": status,
                "trend": trend,
                "latest": values[-1] if values else None,
                "unit": o.unit,
                "owner": o.owner,
                "measurements": values[-30:],
            }
        )
    return out


def audits_view(store: Store) -> list[dict[str, Any]]:
    """Audits with their findings counted by grade."""
    out = []
    for rec in audit.list_audits(store):
        grades: Counter[str] = Counter(f.data.grade for f in audit.findings_for(store, rec.id))
        out.append(
            {
                "id": rec.id,
                "title": rec.data.title,
                "status": rec.status,
                "auditor": rec.data.auditor,
                "systems": list(rec.data.systems),
                "independent": rec.data.independence.independent,
                "planned": rec.data.planned.isoformat() if rec.data.planned else None,
                "findings": {g: grades.get(g, 0) for g in audit.GRADES},
            }
        )
    return out


def capa_list(store: Store) -> list[dict[str, Any]]:
    """Corrective actions with their progress."""
    return [
        {
            "id": rec.id,
            "system": rec.system,
            "title": rec.data.title,
            "status": rec.status,
            "source": rec.data.source,
            "source_ref": rec.data.source_ref,
            "actions": len(rec.data.actions),
            "actions_done": sum(a.done_at is not None for a in rec.data.actions),
        }
        for rec in capa.list_capas(store)
    ]


def reviews_list(store: Store) -> list[dict[str, Any]]:
    """Management reviews, newest last."""
    return [
        {
            "id": rec.id,
            "title": rec.data.title,
            "status": rec.status,
            "prepared_at": rec.data.prepared_at.isoformat() if rec.data.prepared_at else None,
            "held_at": rec.data.held_at.isoformat() if rec.data.held_at else None,
            "decisions": len(rec.data.decisions),
        }
        for rec in review.list_reviews(store)
    ]

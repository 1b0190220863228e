"""Read models shared by the API and the dashboard (one query layer, two renderings)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from assay import catalogs
from assay.errors import Conflict, NotFound, VerificationFailed
from assay.workspace import Workspace

__all__ = ["EvidencePage", "entry_detail", "evidence_page", "overview", "requirement_detail"]


@dataclass(frozen=True)
class EvidencePage:
    total: int
    entries: list[dict[str, Any]]


def evidence_page(
    ws: Workspace, entry_type: str | None, system: str | None, offset: int, limit: int
) -> EvidencePage:
    """Entries newest first, filtered by type and system."""
    entry_type, system = entry_type or None, system or None
    total = ws.ledger.count(entry_type, system=system)
    found = ws.ledger.entries(
        entry_type, system=system, newest_first=True, offset=offset, limit=limit
    )
    return EvidencePage(total, [{"seq": stored.seq, **stored.decoded()} for stored in found])


def entry_detail(ws: Workspace, seq: int) -> dict[str, Any]:
    """An entry with its inclusion proof and its verification state."""
    stored = ws.ledger.get(seq)
    detail: dict[str, Any] = {
        "seq": seq,
        "leaf_hash": stored.leaf_hash.hex(),
        "entry": stored.decoded(),
        "proof": None,
        "verified": False,
        "status": "not yet covered by a signed checkpoint",
    }
    try:
        proof = ws.ledger.verified_inclusion(seq)
    except (NotFound, Conflict):  # no checkpoint yet, or none covering the entry
        return detail
    except VerificationFailed as exc:
        detail["status"] = f"FAILED: {exc.message}"
        return detail
    detail["proof"] = proof.as_json()
    detail["verified"] = True
    detail["status"] = f"verified in the signed checkpoint of size {proof.tree_size}"
    return detail


def requirement_detail(ws: Workspace, ref: str) -> dict[str, Any]:
    """A requirement, its crosswalk relations, and the evidence in the ledger that supports it."""
    requirement = catalogs.resolve(ref)
    types = catalogs.evidence_for(requirement.ref)
    now = datetime.now(UTC)
    evidence: list[dict[str, Any]] = []
    for evidence_type in types:
        for stored in ws.ledger.entries(evidence_type.type, newest_first=True, limit=5):
            observed = stored.observed_at
            age = (now - datetime.fromisoformat(observed.replace("Z", "+00:00"))).days
            evidence.append(
                {
                    "seq": stored.seq,
                    "type": evidence_type.type,
                    "observed_at": observed,
                    "age_days": age,
                    "fresh": evidence_type.is_fresh(age),
                }
            )
    condition = catalogs.framework(requirement.framework).condition(requirement.id)
    return {
        "ref": requirement.ref,
        "title": requirement.title,
        "description": requirement.description,
        "parent": requirement.parent,
        "evidence_expectations": list(requirement.evidence_expectations),
        "citation": requirement.citation,
        "applies_when": str(condition) if condition else None,
        "relations": [
            {"type": str(r.type), "target": r.target_ref, "rationale": r.rationale}
            for r in catalogs.relations_for(requirement.ref)
        ],
        "evidence_types": [t.type for t in types],
        "evidence": evidence,
    }


def overview(ws: Workspace) -> dict[str, Any]:
    """Headline figures for the dashboard's first page."""
    by_type = ws.ledger.count_by_type()
    note = ws.ledger.latest_checkpoint()
    signed = 0 if note is None else ws.ledger.verified_checkpoint().tree_size
    return {
        "entries": sum(by_type.values()),
        "by_type": dict(sorted(by_type.items())),
        "signed_size": signed,
        "checkpoint": note,
    }

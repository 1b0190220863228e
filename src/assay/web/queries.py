"""Read models shared by the API and the dashboard (one query layer, two renderings)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from assay import catalogs
from assay.errors import AssayError
from assay.ledger.evidence import parse_entry
from assay.ledger.merkle import ProofError
from assay.ledger.note import NoteError
from assay.ledger.verify import verify_checkpoint, verify_entry_inclusion
from assay.store import LedgerEntry
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
    query = select(LedgerEntry.seq, LedgerEntry.entry)
    count = select(func.count()).select_from(LedgerEntry)
    if entry_type:
        query, count = (
            query.where(LedgerEntry.type == entry_type),
            count.where(LedgerEntry.type == entry_type),
        )
    if system:
        query, count = (
            query.where(LedgerEntry.system == system),
            count.where(LedgerEntry.system == system),
        )
    with ws.store.session() as session:
        total = int(session.scalar(count) or 0)
        rows = session.execute(
            query.order_by(LedgerEntry.seq.desc()).offset(offset).limit(limit)
        ).all()
    return EvidencePage(total, [{"seq": seq, **parse_entry(data)} for seq, data in rows])


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
    note = ws.ledger.latest_checkpoint()
    if note is None:
        return detail
    try:
        checkpoint = verify_checkpoint(note, ws.ledger.signer.verifier)
    except NoteError as exc:
        detail["status"] = f"latest checkpoint does not verify: {exc}"
        return detail
    if seq >= checkpoint.tree_size:
        return detail
    proof = ws.ledger.prove(seq, checkpoint.tree_size)
    detail["proof"] = proof.as_json()
    try:
        verify_entry_inclusion(
            stored.entry, seq, checkpoint.tree_size, proof.path, checkpoint.root_hash
        )
    except ProofError as exc:
        detail["status"] = f"FAILED: {exc}"
    else:
        detail["verified"] = True
        detail["status"] = f"verified in the signed checkpoint of size {checkpoint.tree_size}"
    return detail


def requirement_detail(ws: Workspace, ref: str) -> dict[str, Any]:
    """A requirement, its crosswalk relations, and the evidence in the ledger that supports it."""
    requirement = catalogs.resolve(ref)
    types = catalogs.evidence_for(requirement.ref)
    now = datetime.now(UTC)
    evidence: list[dict[str, Any]] = []
    with ws.store.session() as session:
        for evidence_type in types:
            rows = session.execute(
                select(LedgerEntry.seq, LedgerEntry.observed_at)
                .where(LedgerEntry.type == evidence_type.type)
                .order_by(LedgerEntry.seq.desc())
                .limit(5)
            ).all()
            for seq, observed in rows:
                age = (now - datetime.fromisoformat(observed.replace("Z", "+00:00"))).days
                evidence.append(
                    {
                        "seq": seq,
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
    with ws.store.session() as session:
        by_type = dict(
            session.execute(select(LedgerEntry.type, func.count()).group_by(LedgerEntry.type)).all()
        )
    note = ws.ledger.latest_checkpoint()
    signed = 0
    if note is not None:
        try:
            signed = verify_checkpoint(note, ws.ledger.signer.verifier).tree_size
        except NoteError as exc:
            raise AssayError(f"the latest checkpoint does not verify: {exc}") from exc
    return {
        "entries": sum(by_type.values()),
        "by_type": dict(sorted(by_type.items())),
        "signed_size": signed,
        "checkpoint": note,
    }

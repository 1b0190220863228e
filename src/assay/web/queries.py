"""Read models shared by the API and the dashboard (one query layer, two renderings)."""

from __future__ import annotations

import base64
import codecs
import contextlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from assay import catalogs
from assay.errors import Conflict, NotFound, VerificationFailed
from assay.workspace import Workspace

__all__ = [
    "EvidencePage",
    "entry_detail",
    "entry_view",
    "evidence_page",
    "overview",
    "requirement_detail",
    "shown_controls",
    "summary_fields",
]

#: Payload text shown in the page at most; the whole payload is a download.
PAYLOAD_SHOWN = 64 * 1024
#: Labelled summary fields shown at most (a larger summary is cut, and says so).
MAX_FIELDS = 300


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


def shown_controls(
    ws: Workspace, entries: Iterable[Mapping[str, Any]]
) -> list[list[dict[str, Any]]]:
    """Per entry, the controls to show: those it cites, each with its title; for an entry
    that cites none, those its evidence type supports, marked ``by_type``.

    Readiness credits an entry through what its type supports (``catalogs/data/
    evidence-types.yaml``), whatever it cites, so an entry written before its
    producer cited controls (the gateway's early guard decisions) still shows what
    it is evidence for.
    """
    custom = catalogs.load_custom_frameworks(ws.root / "frameworks")
    types = catalogs.evidence_types()
    titles: dict[str, str | None] = {}

    def title(ref: str) -> str | None:
        if ref not in titles:
            try:
                titles[ref] = catalogs.resolve(ref, custom).title
            except NotFound:
                titles[ref] = None
        return titles[ref]

    out = []
    for entry in entries:
        cited = [str(c) for c in entry.get("controls") or []]
        known = types.get(str(entry.get("type")))
        refs, by_type = (cited, False) if cited or known is None else (list(known.supports), True)
        out.append([{"ref": r, "title": title(r), "by_type": by_type} for r in refs])
    return out


def summary_fields(summary: Any, prefix: str = "") -> list[tuple[str, str]]:
    """An entry's summary as labelled fields: nested keys joined with ' › ', list items
    numbered from 1, lists of plain values on one line; at most :data:`MAX_FIELDS`."""
    fields: list[tuple[str, str]] = []
    _flatten(summary, prefix, fields)
    if len(fields) > MAX_FIELDS:
        fields = [*fields[:MAX_FIELDS], ("…", "more fields: see the entry as signed below")]
    return fields


def _flatten(value: Any, label: str, out: list[tuple[str, str]]) -> None:
    if len(out) > MAX_FIELDS:
        return
    if isinstance(value, dict):
        if not value:
            out.append((label or "summary", "(empty)"))
        for key, item in value.items():
            _flatten(item, f"{label} › {key}" if label else str(key), out)
    elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        for i, item in enumerate(value, 1):
            _flatten(item, f"{label} [{i}]", out)
    elif isinstance(value, list):
        out.append((label, ", ".join(_scalar(v) for v in value) or "(none)"))
    else:
        out.append((label, _scalar(value)))


def _scalar(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def entry_view(ws: Workspace, seq: int, *, show_payload: bool) -> dict[str, Any]:
    """Everything the evidence entry page shows, and what the browser needs to check the
    proof itself (``browser``: the entry's stored bytes, the audit path, the signed
    checkpoint and the log's published public key), so an auditor need not take the
    server's word for the verdict."""
    detail = entry_detail(ws, seq)
    entry = detail["entry"]
    stored = ws.ledger.get(seq)
    proof = detail["proof"]
    detail["summary_fields"] = summary_fields(entry.get("summary") or {})
    detail["controls"] = shown_controls(ws, [entry])[0]
    detail["canonical"] = stored.entry.decode("utf-8", "replace")
    detail["payload"] = _payload_view(ws, seq, entry.get("payload"), show_payload)
    detail["browser"] = {
        "seq": seq,
        "entry": base64.b64encode(stored.entry).decode(),
        "leaf_hash": detail["leaf_hash"],
        "tree_size": proof["tree_size"] if proof else None,
        "path": proof["path"] if proof else [],
        "checkpoint": proof["checkpoint"] if proof else None,
        "public_key": str(ws.ledger.signer.verifier),
    }
    return detail


def _payload_view(
    ws: Workspace, seq: int, payload: Any, show: bool
) -> dict[str, Any] | None:
    """The payload's reference, and its content for a role that may see it (the roles
    that may export audit packs, which carry payloads too)."""
    if not isinstance(payload, dict):
        return None
    view: dict[str, Any] = {**payload, "shown": show, "erased": False, "text": None}
    if not show:
        return view
    content = ws.ledger.payload(seq)
    if content is None:
        view["erased"] = True
        return view
    try:  # a character cut by the limit is left out, not taken for binary
        text = codecs.getincrementaldecoder("utf-8")().decode(content[:PAYLOAD_SHOWN])
    except UnicodeDecodeError:
        return view  # binary: offered as a download only
    if len(content) <= PAYLOAD_SHOWN and "json" in str(payload.get("media_type", "")):
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    view["text"] = text
    view["truncated"] = len(content) > PAYLOAD_SHOWN
    return view


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

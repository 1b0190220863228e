"""OSCAL 1.1 assessment results from ledger evidence, and a POA&M from what is still open.

Assessment results: one observation per cited ledger entry, giving its
sequence number, leaf hash and RFC 9162 inclusion proof (audit path, tree size
and root of the signed checkpoint, which is attached in back-matter), so an
auditor can check each observation against ``entries.jsonl`` and
``checkpoint.txt`` in the audit pack; one finding per applicable requirement
(``satisfied`` only when readiness is ``met``). The POA&M lists every
prohibited, failing, partial, stale or gap requirement with its next action, and every open
corrective action.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from assay.aims.capa import Capa, status_of
from assay.aims.readiness import Citation, Readiness
from assay.ledger.evidence import (
    CHECKPOINT_WITNESS,
    DRIFT_ALERT,
    EVAL_REPORT,
    GUARD_DECISION,
    REDTEAM_RUN,
)
from assay.reports.oscal import PROP_NS, oscal_metadata, oscal_time, oscal_token, oscal_uuid

__all__ = ["assessment_results", "poam"]

_TESTED = frozenset(
    {
        REDTEAM_RUN,
        EVAL_REPORT,
        GUARD_DECISION,
        DRIFT_ALERT,
        CHECKPOINT_WITNESS,
    }
)


def _prop(name: str, value: object) -> dict[str, Any]:
    return {"name": name, "ns": PROP_NS, "value": str(value)}


def _key(readiness: Readiness) -> tuple[str, str, str]:
    return (readiness.framework, readiness.system or "*", readiness.generated_at.isoformat())


def _observation(readiness: Readiness, cited: Citation, checkpoint_uuid: str) -> dict[str, Any]:
    proof = readiness.proofs.get(cited.seq)
    props = [
        _prop("ledger-seq", cited.seq),
        _prop("leaf-hash", cited.leaf_hash),
        _prop("evidence-type", cited.type),
        _prop("verified", "true" if proof else "false"),
        _prop("outcome", cited.outcome),
    ]
    evidence_text = f"Ledger entry {cited.seq} ({cited.type}), leaf hash {cited.leaf_hash}."
    evidence_text += f" Outcome: {cited.outcome} ({cited.outcome_reason})."
    if proof is not None:
        path = ",".join(h.hex() for h in proof.path) or "(empty: single-entry tree)"
        props += [
            _prop("tree-size", proof.tree_size),
            _prop("inclusion-proof", path),
        ]
        evidence_text += (
            f" RFC 9162 inclusion proof against the signed checkpoint at tree size "
            f"{proof.tree_size}: audit path [{path}]."
        )
    else:
        evidence_text += " No inclusion proof: the entry did not verify against the checkpoint."
    return {
        "uuid": oscal_uuid("observation", *_key(readiness), cited.seq),
        "title": f"Ledger entry {cited.seq}: {cited.type.split('/')[1]}",
        "description": evidence_text,
        "props": props,
        "methods": ["TEST" if cited.type in _TESTED else "EXAMINE"],
        "types": ["control-objective"],
        "collected": oscal_time(cited.observed_at),
        "relevant-evidence": [
            {
                "href": f"#{checkpoint_uuid}",
                "description": f"entries.jsonl entry {cited.seq}, proven by proofs.jsonl",
                "props": [_prop("ledger-seq", cited.seq), _prop("leaf-hash", cited.leaf_hash)],
            }
        ],
    }


def assessment_results(readiness: Readiness) -> dict[str, Any]:
    """OSCAL assessment results: observations from ledger entries, a finding per requirement."""
    key = _key(readiness)
    checkpoint_uuid = oscal_uuid("checkpoint", *key)
    observations: dict[int, dict[str, Any]] = {}
    findings: list[dict[str, Any]] = []
    for item in readiness.items:
        if not item.applicable:
            continue
        for cited in item.evidence:
            if cited.seq not in observations:
                observations[cited.seq] = _observation(readiness, cited, checkpoint_uuid)
        finding: dict[str, Any] = {
            "uuid": oscal_uuid("finding", *key, item.ref),
            "title": f"{item.id} {item.title}",
            "description": item.reason or f"Readiness: {item.status}.",
            "props": [_prop("readiness-status", item.status)],
            "target": {
                "type": "statement-id",
                "target-id": f"{oscal_token(item.id)}_smt",
                "status": {
                    "state": "satisfied" if item.status == "met" else "not-satisfied",
                    "reason": "pass" if item.status == "met" else "fail",
                },
            },
        }
        related = [
            {"observation-uuid": observations[c.seq]["uuid"]}
            for c in item.evidence
            if c.seq in observations
        ]
        if related:
            finding["related-observations"] = related
        if item.next_action:
            finding["remarks"] = f"Next action: {item.next_action}"
        findings.append(finding)
    result: dict[str, Any] = {
        "uuid": oscal_uuid("result", *key),
        "title": f"Assay readiness: {readiness.framework_name}",
        "description": (
            f"Readiness {readiness.percent}% (100 × (met + ½ partial) / applicable) "
            f"for {readiness.system or 'the organisation'}; counts {readiness.counts}."
        ),
        "start": oscal_time(readiness.generated_at),
        "end": oscal_time(readiness.generated_at),
        "reviewed-controls": {"control-selections": [{"include-all": {}}]},
    }
    if observations:
        result["observations"] = list(observations.values())
    if findings:
        result["findings"] = findings
    return {
        "assessment-results": {
            "uuid": oscal_uuid("assessment-results", *key),
            "metadata": _metadata(readiness, "assessment results"),
            "import-ap": {
                "href": f"#{oscal_uuid('method', *key)}",
                "remarks": "Automated assessment by Assay's readiness engine (no separate plan).",
            },
            "results": [result],
            "back-matter": {"resources": _resources(readiness, checkpoint_uuid)},
        }
    }


def _metadata(readiness: Readiness, kind: str) -> dict[str, Any]:
    props = {"framework-id": readiness.framework}
    if readiness.system:
        props["system-id"] = readiness.system
    if readiness.checkpoint:
        props["checkpoint-tree-size"] = str(readiness.checkpoint.tree_size)
        props["checkpoint-root-hash"] = readiness.checkpoint.root_hash
    return oscal_metadata(
        f"{readiness.framework_name}: {kind} ({readiness.system or 'organisation'})",
        readiness.generated_at.strftime("%Y-%m-%d"),
        readiness.generated_at,
        props,
    )


def _resources(readiness: Readiness, checkpoint_uuid: str) -> list[dict[str, Any]]:
    key = _key(readiness)
    resources: list[dict[str, Any]] = [
        {
            "uuid": oscal_uuid("method", *key),
            "title": "Assay readiness method",
            "description": (
                "Each requirement's status comes from the Statement of Applicability, the "
                "EU AI Act classification of the system and ledger evidence that is fresh "
                "and proven into the signed checkpoint; see docs/compliance.md."
            ),
        }
    ]
    checkpoint: dict[str, Any] = {
        "uuid": checkpoint_uuid,
        "title": "Signed ledger checkpoint (C2SP tlog-checkpoint)",
        "rlinks": [{"href": "../checkpoint.txt"}],
    }
    if readiness.checkpoint is not None:
        checkpoint["description"] = (
            f"Tree size {readiness.checkpoint.tree_size}, "
            f"root hash {readiness.checkpoint.root_hash}."
        )
        checkpoint["base64"] = {
            "filename": "checkpoint.txt",
            "media-type": "text/plain",
            "value": base64.b64encode(readiness.checkpoint.note.encode()).decode(),
        }
    resources.append(checkpoint)
    return resources


def poam(readiness: Readiness, capas: Sequence[tuple[str, Capa]]) -> dict[str, Any]:
    """OSCAL plan of action and milestones: open requirements and open corrective actions."""
    key = _key(readiness)
    items: list[dict[str, Any]] = []
    for item in readiness.open_items:
        entry: dict[str, Any] = {
            "uuid": oscal_uuid("poam-item", *key, item.ref),
            "title": f"{item.ref} {item.title}: {item.status}",
            "description": item.reason or f"Readiness: {item.status}.",
            "props": [_prop("readiness-status", item.status), _prop("requirement", item.ref)],
        }
        if item.next_action:
            entry["remarks"] = f"Next action: {item.next_action}"
        items.append(entry)
    for capa_id, capa in capas:
        state = status_of(capa)
        if state == "closed":
            continue
        actions = "; ".join(
            f"{a.id} {a.description} (owner {a.owner}"
            + (f", due {a.due.isoformat()}" if a.due else "")
            + (", done)" if a.done_at else ")")
            for a in capa.actions
        )
        entry = {
            "uuid": oscal_uuid("poam-capa", *key, capa_id),
            "title": f"{capa_id} {capa.title}",
            "description": capa.description or capa.title,
            "props": [_prop("capa-id", capa_id), _prop("capa-status", state)],
        }
        if capa.source_ref:
            entry["props"].append(_prop("capa-source", f"{capa.source} {capa.source_ref}"))
        if actions:
            entry["remarks"] = f"Actions: {actions}"
        items.append(entry)
    if not items:  # OSCAL needs at least one item
        items.append(
            {
                "uuid": oscal_uuid("poam-none", *key),
                "title": "No open items",
                "description": (
                    "Every applicable requirement is met and no corrective action is open."
                ),
            }
        )
    doc: dict[str, Any] = {
        "uuid": oscal_uuid("poam", *key),
        "metadata": _metadata(readiness, "plan of action and milestones"),
        "poam-items": items,
    }
    if readiness.system:
        doc["system-id"] = {
            "identifier-type": "https://assay.dev/ns/oscal/system-id",
            "id": readiness.system,
        }
    return {"plan-of-action-and-milestones": doc}

"""Guard decisions as ``assay.dev/guard-decision/v1`` evidence, off the hot path.

:class:`LedgerSink` is an ``on_decision`` callable: it builds a summary of
non-sensitive figures and only enqueues it on the ledger's batcher, so a check
never waits on the database. The text itself is not kept: the summary holds a
salted SHA-256 of it (whoever holds the salt can later confirm which text a
decision was about; nobody else can test guesses). Only when the policy sets
``evidence.store_content`` does the text go to the erasable payload blob.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from assay.guard.verdict import DecisionContext, Verdict
from assay.ledger import Evidence, Subject
from assay.ledger.batcher import EvidenceQueue

__all__ = ["EVIDENCE_TYPE", "GUARD_CONTROLS", "LedgerSink", "decision_evidence", "text_digest"]

EVIDENCE_TYPE = "assay.dev/guard-decision/v1"
#: Controls a runtime guard decision is evidence for (all in the built-in catalogs
#: and listed by the evidence type): operation and monitoring, the system's event
#: logs, responsible use, record-keeping, production monitoring, and the ability to
#: supersede or disengage a system. A decision is operation evidence: it does not
#: show robustness against attack (Art. 15(5)); a red-team run does.
GUARD_CONTROLS: tuple[str, ...] = (
    "iso42001:A.6.2.6",
    "iso42001:A.6.2.8",
    "iso42001:A.9.2",
    "eu-ai-act:Art.12(2)",
    "nist-ai-rmf:MEASURE-2.4",
    "nist-ai-rmf:MANAGE-2.4",
)
MAX_FINDINGS = 50


def text_digest(salt: bytes, text: str) -> str:
    """``sha256(salt ‖ utf-8(text))`` in hex; lone surrogates are encoded, never raised on."""
    return hashlib.sha256(salt + text.encode("utf-8", "surrogatepass")).hexdigest()


def decision_evidence(verdict: Verdict, decision: DecisionContext, *, system: str, actor: str,
                      salt: bytes, version: str | None = None,
                      controls: Sequence[str] = GUARD_CONTROLS) -> Evidence:
    """The evidence entry for one decision (text hashed unless the policy stores content)."""
    summary: dict[str, Any] = {
        "direction": decision.direction,
        "action": verdict.action,
        "findings": [{"validator": f.validator, "score": round(f.score, 4), "label": f.label}
                     for f in verdict.findings[:MAX_FINDINGS]],
        "findings_total": len(verdict.findings),
        "timings_ms": {k: round(v, 3) for k, v in verdict.timings_ms.items()},
        "total_ms": round(verdict.total_ms, 3),
        "input_len": len(decision.text),
        "stream": decision.stream,
        "content": {"sha256": text_digest(salt, decision.text),
                    "salt_id": hashlib.sha256(salt).hexdigest()[:16]},
    }
    if verdict.error:
        # The kind of failure only: exception messages can quote the text.
        summary["error"] = verdict.error.split(":", 1)[0][:200]
    payload = None
    if decision.policy.evidence.store_content:
        body = {"text": decision.text, "redacted_text": verdict.redacted_text}
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return Evidence(
        type=EVIDENCE_TYPE,
        actor=actor,
        summary=summary,
        subject=Subject(system, version),
        controls=tuple(controls),
        observed_at=datetime.fromtimestamp(decision.ts, UTC),
        payload=payload,
    )


class LedgerSink:
    """``on_decision`` sink that enqueues each decision on an evidence queue (a Batcher).

    ``salt`` keys the text digests; pass a secret you keep (e.g. from the
    workspace's keys) to be able to confirm a text later, or leave it out for a
    random per-process salt (digests then only link decisions of one process).
    """

    def __init__(self, batcher: EvidenceQueue, *, system: str | None = None,
                 actor: str = "assay-guard", version: str | None = None,
                 controls: Sequence[str] = GUARD_CONTROLS,
                 salt: bytes | None = None) -> None:
        self.batcher = batcher
        self.system = system
        self.actor = actor
        self.version = version
        self.controls = tuple(controls)
        self.salt = salt if salt is not None else os.urandom(32)

    def __call__(self, verdict: Verdict, decision: DecisionContext) -> None:
        """Build the entry and enqueue it (never touches the database here)."""
        system = self.system or decision.system or "default"
        self.batcher.submit(decision_evidence(verdict, decision, system=system, actor=self.actor,
                                              salt=self.salt, version=self.version,
                                              controls=self.controls))

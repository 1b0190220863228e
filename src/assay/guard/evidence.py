"""Guard decisions as ``assay.dev/guard-decision/v1`` evidence: one summary schema, one builder.

Both writers of this type, the library's :class:`LedgerSink` (``assay guard
check --record``, ``on_decision``) and the gateway, describe a decision as a
:class:`DecisionSummary` and turn it into an entry with :func:`guard_decision`.
:meth:`DecisionSummary.read` reads every summary ever written, including the two
shapes written before the schema had a version (see docs/guardrails.md).

The text itself is not kept: the summary holds an HMAC-SHA256 of it under a key
(whoever holds the key can later confirm which text a decision was about; nobody
else can test guesses). Only when the policy sets ``evidence.store_content``
does the text go to the erasable payload blob.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from assay.errors import Invalid
from assay.guard.verdict import ACTION_OF, DecisionContext, Verdict
from assay.ledger import Evidence, Subject
from assay.ledger.batcher import EvidenceQueue
from assay.ledger.evidence import GUARD_DECISION

__all__ = [
    "EVIDENCE_TYPE",
    "GUARD_CONTROLS",
    "SUMMARY_SCHEMA",
    "TOOL_CONTROLS",
    "DecisionSummary",
    "LedgerSink",
    "content_digest",
    "controls_for",
    "decision_evidence",
    "guard_decision",
    "text_digest",
]

EVIDENCE_TYPE = GUARD_DECISION
SUMMARY_SCHEMA = 2
"""Version of the summary written by :meth:`DecisionSummary.as_summary` (absent before: 1)."""
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
#: Controls a tool-call or tool-definition decision is evidence for: operation and
#: monitoring (A.6.2.6), responsible and intended use — the tools an AI system may use
#: and with what (A.9.2-A.9.4), human oversight's ability to intervene in what the
#: system does (Art. 14(4)), runtime measures against attacks that act through tools
#: (Art. 15(5)), and responding to and disengaging unintended behaviour (MANAGE 2.3,
#: 2.4). Readiness credits an entry only for the controls its evidence type supports
#: (catalogs/data/evidence-types.yaml); the others are cited for the auditor to read.
TOOL_CONTROLS: tuple[str, ...] = (
    "iso42001:A.6.2.6",
    "iso42001:A.9.2",
    "iso42001:A.9.3",
    "iso42001:A.9.4",
    "eu-ai-act:Art.14(4)",
    "eu-ai-act:Art.15(5)",
    "nist-ai-rmf:MANAGE-2.3",
    "nist-ai-rmf:MANAGE-2.4",
)
MAX_FINDINGS = 50
TEXT_DIRECTIONS = ("input", "output")
TOOL_DIRECTIONS = ("tool_call", "tool_definition")
DIRECTIONS = TEXT_DIRECTIONS + TOOL_DIRECTIONS

FindingFigures = tuple[str, float, str]
"""One finding as evidence keeps it: validator, score, label (never spans or text)."""


def text_digest(key: bytes, text: str) -> str:
    """HMAC-SHA256 of ``utf-8(text)`` under ``key``, hex; lone surrogates are encoded."""
    return hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def content_digest(key: bytes, data: bytes) -> dict[str, str]:
    """The summary's ``content``: HMAC-SHA256 of ``data`` and which key made it."""
    return {"hmac_sha256": hmac.new(key, data, hashlib.sha256).hexdigest(),
            "key_id": hashlib.sha256(key).hexdigest()[:16]}


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


@dataclass(frozen=True, slots=True)
class DecisionSummary:
    """The summary of one guard decision (schema 2); the one shape both writers use.

    ``guard_ms`` is the time the guard took; ``content`` the keyed digest of what
    was checked; ``gateway_key`` the gateway key a request came through and
    ``request_id`` the request (its input and output decisions share it). For a
    ``tool_call`` or ``tool_definition`` decision, ``tool`` is the tool's name and
    ``tainted_by`` the digests of the flagged tool results it was checked under
    (``content`` then digests the arguments or the definition). Optional fields are
    left out of the summary when unknown.
    """

    direction: str
    action: str
    guard_ms: float | None
    findings: tuple[FindingFigures, ...] = ()
    findings_total: int | None = None
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    input_len: int | None = None
    stream: bool | None = None
    content: Mapping[str, str] | None = None
    error: str | None = None
    gateway_key: str | None = None
    request_id: str | None = None
    tool: str | None = None
    tainted_by: tuple[str, ...] = ()

    def as_summary(self) -> dict[str, Any]:
        """The summary as written to the ledger, checked against the schema first."""
        self.check()
        summary: dict[str, Any] = {
            "schema": SUMMARY_SCHEMA,
            "direction": self.direction,
            "action": self.action,
            "guard_ms": round(self.guard_ms, 3) if self.guard_ms is not None else None,
            "findings": [{"validator": v, "score": round(s, 4), "label": label}
                         for v, s, label in self.findings[:MAX_FINDINGS]],
            "findings_total": (self.findings_total if self.findings_total is not None
                               else len(self.findings)),
        }
        optional: dict[str, Any] = {
            "timings_ms": {k: round(v, 3) for k, v in self.timings_ms.items()} or None,
            "input_len": self.input_len,
            "stream": self.stream,
            "content": dict(self.content) if self.content else None,
            # The kind of failure only: exception messages can quote the text.
            "error": self.error.split(":", 1)[0][:200] if self.error else None,
            "gateway_key": self.gateway_key,
            "request_id": self.request_id,
            "tool": self.tool,
            "tainted_by": list(self.tainted_by) or None,
        }
        return summary | {k: v for k, v in optional.items() if v is not None}

    def check(self) -> None:
        """Refuse a summary outside schema 2 (raises :class:`~assay.errors.Invalid`)."""
        problems = []
        if self.direction not in DIRECTIONS:
            problems.append(f"direction {self.direction!r} is not one of {DIRECTIONS}")
        if self.action not in ACTION_OF:
            problems.append(f"action {self.action!r} is not one of {ACTION_OF}")
        if self.guard_ms is not None and not (math.isfinite(self.guard_ms) and self.guard_ms >= 0):
            problems.append(f"guard_ms {self.guard_ms!r} is not a duration")
        if (self.direction in TOOL_DIRECTIONS) != (self.tool is not None):
            problems.append("a tool decision (and only one) names its tool")
        if problems:
            raise Invalid("guard-decision summary: " + "; ".join(problems))

    @classmethod
    def read(cls, summary: Mapping[str, Any]) -> DecisionSummary:
        """Read a written summary: schema 2, or either unversioned shape written before it.

        Before schema 2 the library wrote ``action``/``total_ms`` and the gateway
        ``decision``/``guard_ms``; both read as ``action``/``guard_ms`` here.
        """
        action = summary.get("action", summary.get("decision"))
        ms = summary.get("guard_ms", summary.get("total_ms"))
        findings = tuple(
            (str(f["validator"]), _number(f.get("score")) or 0.0, str(f.get("label", "")))
            for f in summary.get("findings") or [] if isinstance(f, dict) and f.get("validator")
        )
        content = summary.get("content")
        return cls(
            direction=str(summary.get("direction") or "unknown"),
            action=str(action or "unknown"),
            guard_ms=_number(ms),
            findings=findings,
            findings_total=_int(summary.get("findings_total")),
            input_len=_int(summary.get("input_len")),
            stream=summary.get("stream") if isinstance(summary.get("stream"), bool) else None,
            content=content if isinstance(content, dict) else None,
            error=str(summary["error"]) if summary.get("error") else None,
            gateway_key=str(summary["gateway_key"]) if summary.get("gateway_key") else None,
            request_id=str(summary["request_id"]) if summary.get("request_id") else None,
            tool=str(summary["tool"]) if summary.get("tool") else None,
            tainted_by=tuple(str(d) for d in summary.get("tainted_by") or ()
                             if isinstance(d, str)),
        )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def controls_for(direction: str) -> tuple[str, ...]:
    """The controls a decision in ``direction`` is evidence for (tool or text decision)."""
    return TOOL_CONTROLS if direction in TOOL_DIRECTIONS else GUARD_CONTROLS


def guard_decision(summary: DecisionSummary, *, system: str, actor: str,
                   version: str | None = None, controls: Sequence[str] | None = None,
                   observed_at: datetime | None = None, payload: bytes | None = None) -> Evidence:
    """The one builder of ``assay.dev/guard-decision/v1`` entries; ``controls`` default to
    :func:`controls_for` the summary's direction."""
    return Evidence(
        type=EVIDENCE_TYPE,
        actor=actor,
        summary=summary.as_summary(),
        subject=Subject(system, version),
        controls=tuple(controls) if controls is not None else controls_for(summary.direction),
        observed_at=observed_at or datetime.now(UTC),
        payload=payload,
    )


def decision_evidence(verdict: Verdict, decision: DecisionContext, *, system: str, actor: str,
                      key: bytes, version: str | None = None,
                      controls: Sequence[str] | None = None) -> Evidence:
    """The evidence entry for one library decision (text hashed unless the policy stores it;
    for a tool call the text is its arguments)."""
    tool = decision.tool
    summary = DecisionSummary(
        direction=decision.direction,
        action=verdict.action,
        guard_ms=verdict.total_ms,
        findings=tuple((f.validator, f.score, f.label) for f in verdict.findings),
        timings_ms=verdict.timings_ms,
        input_len=len(decision.text),
        stream=decision.stream,
        content=content_digest(key, decision.text.encode("utf-8", "surrogatepass")),
        error=verdict.error,
        tool=tool.name if tool is not None else None,
        tainted_by=tool.tainted_by if tool is not None else (),
    )
    payload = None
    if decision.policy.evidence.store_content:
        body = {"text": decision.text, "redacted_text": verdict.redacted_text}
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return guard_decision(summary, system=system, actor=actor, version=version,
                          controls=controls, payload=payload,
                          observed_at=datetime.fromtimestamp(decision.ts, UTC))


class LedgerSink:
    """``on_decision`` sink that enqueues each decision on an evidence queue (a Batcher).

    ``key`` keys the text digests; pass a secret you keep (the workspace's
    :func:`~assay.ledger.keys.digest_key`, as ``assay guard check --record`` does)
    to be able to confirm a text later, or leave it out for a random per-process
    key (digests then only link decisions of one process).
    """

    def __init__(self, batcher: EvidenceQueue, *, system: str | None = None,
                 actor: str = "assay-guard", version: str | None = None,
                 controls: Sequence[str] | None = None,
                 key: bytes | None = None) -> None:
        self.batcher = batcher
        self.system = system
        self.actor = actor
        self.version = version
        self.controls = tuple(controls) if controls is not None else None
        self.key = key if key is not None else os.urandom(32)

    def __call__(self, verdict: Verdict, decision: DecisionContext) -> None:
        """Build the entry and enqueue it (never touches the database here)."""
        system = self.system or decision.system or "default"
        self.batcher.submit(decision_evidence(verdict, decision, system=system, actor=self.actor,
                                              key=self.key, version=self.version,
                                              controls=self.controls))

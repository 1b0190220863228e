"""The evidence entry: the ledger's leaf, as canonical JSON (RFC 8785).

An entry is ``{type, subject: {system, version}, controls, observed_at, actor,
summary, payload: {digest, salt_id, size, media_type} | null}``. Only
non-sensitive figures go in ``summary``; raw content goes to the blob store and
the entry keeps its salted digest, so content can be erased without breaking
any proof.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import rfc8785

from assay.errors import AssayError
from assay.ledger.canonical import canonical_bytes

__all__ = [
    "AIMS_CHANGE",
    "AUDIT_SAMPLE",
    "CAPA",
    "CHECKPOINT_WITNESS",
    "DRIFT_ALERT",
    "ERASURE",
    "EVAL_REPORT",
    "EVIDENCE_TYPES",
    "GUARD_DECISION",
    "IMPACT_ASSESSMENT",
    "INCIDENT",
    "INTERNAL_AUDIT",
    "MANAGEMENT_REVIEW",
    "NOTE",
    "REDTEAM_RUN",
    "RISK_ASSESSMENT",
    "SOA",
    "Evidence",
    "Subject",
    "canonical_json",
    "check_entry_size",
    "format_time",
    "parse_entry",
]

# The evidence types, one constant each: modules name a type by its constant, never
# by a string literal.
AIMS_CHANGE = "assay.dev/aims-change/v1"
GUARD_DECISION = "assay.dev/guard-decision/v1"
DRIFT_ALERT = "assay.dev/drift-alert/v1"
REDTEAM_RUN = "assay.dev/redteam-run/v1"
EVAL_REPORT = "assay.dev/eval-report/v1"
ERASURE = "assay.dev/erasure/v1"
CHECKPOINT_WITNESS = "assay.dev/checkpoint-witness/v1"
NOTE = "assay.dev/note/v1"
RISK_ASSESSMENT = "assay.dev/risk-assessment/v1"
IMPACT_ASSESSMENT = "assay.dev/impact-assessment/v1"
SOA = "assay.dev/soa/v1"
INTERNAL_AUDIT = "assay.dev/internal-audit/v1"
AUDIT_SAMPLE = "assay.dev/audit-sample/v1"
MANAGEMENT_REVIEW = "assay.dev/management-review/v1"
CAPA = "assay.dev/capa/v1"
INCIDENT = "assay.dev/incident/v1"

EVIDENCE_TYPES: frozenset[str] = frozenset(
    {
        AIMS_CHANGE,
        GUARD_DECISION,
        DRIFT_ALERT,
        REDTEAM_RUN,
        EVAL_REPORT,
        ERASURE,
        CHECKPOINT_WITNESS,
        NOTE,
        RISK_ASSESSMENT,
        IMPACT_ASSESSMENT,
        SOA,
        INTERNAL_AUDIT,
        AUDIT_SAMPLE,
        MANAGEMENT_REVIEW,
        CAPA,
        INCIDENT,
    }
)
"""Entry types the ledger accepts; each is versioned so its shape never changes."""

_CONTROL_RE = re.compile(r"[a-z0-9-]{2,32}:[A-Za-z0-9().\-]{1,40}")
MAX_ENTRY_BYTES = 64 * 1024


@dataclass(frozen=True)
class Subject:
    """What the evidence is about: an AI system (and optionally its version)."""

    system: str
    version: str | None = None


@dataclass(frozen=True)
class Evidence:
    """Evidence to append; the ledger turns it into a canonical entry."""

    type: str
    actor: str
    summary: Mapping[str, Any] = field(default_factory=dict)
    subject: Subject | None = None
    controls: tuple[str, ...] = ()
    observed_at: datetime | None = None
    payload: bytes | None = None
    payload_media_type: str = "application/json"

    def check(self) -> None:
        """Refuse an entry the ledger must not store, with the reason."""
        if self.type not in EVIDENCE_TYPES:
            known = ", ".join(sorted(EVIDENCE_TYPES))
            raise AssayError(f"unknown evidence type {self.type!r}; known types: {known}")
        if not self.actor:
            raise AssayError("evidence needs an actor (who or what produced it)")
        for control in self.controls:
            if not _CONTROL_RE.fullmatch(control):
                raise AssayError(
                    f"control reference {control!r} is malformed: use framework:ID, "
                    "e.g. iso42001:A.6.2.4"
                )
        if self.observed_at is not None and self.observed_at.tzinfo is None:
            raise AssayError("observed_at must carry a timezone (use UTC)")
        _check_json_value(self.summary, "summary")


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds, e.g. 2026-11-27T21:18:00.000000Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_entry_size(entry: bytes) -> None:
    """Entries stay small; bulky content belongs in the payload blob."""
    if len(entry) > MAX_ENTRY_BYTES:
        raise AssayError("evidence entry is over 64 KiB: put large content in the payload")


def canonical_json(value: Any) -> bytes:
    """RFC 8785 JSON Canonicalization Scheme bytes."""
    try:
        return canonical_bytes(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise AssayError(f"evidence is not representable as canonical JSON: {exc}") from exc


def parse_entry(data: bytes) -> dict[str, Any]:
    """Decode a stored entry (for display and verification)."""
    value = json.loads(data)
    if not isinstance(value, dict):
        raise ValueError("entry is not a JSON object")
    return value


_JSON_SCALARS = (str, bool, type(None))
#: RFC 8785 §3.2.2.3 serialises numbers as IEEE 754 doubles; integers beyond this
#: magnitude would be rounded, so they are refused (RFC 8785 Appendix D, RFC 7493 §2.2).
MAX_SAFE_INTEGER = 2**53 - 1


def _check_json_value(value: Any, where: str) -> None:
    """Refuse anything canonical JSON cannot hold exactly. Hot (every gateway decision):
    exact scalar types return first, and a child's path is only built for a container."""
    if type(value) in _JSON_SCALARS:
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise AssayError(
                f"{where} holds the integer {value}, beyond ±(2**53 - 1): canonical JSON "
                "(RFC 8785) would round it to a double; store it as a string"
            )
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AssayError(f"{where} holds {value}, which JSON cannot represent")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise AssayError(f"{where} has a non-string key {key!r}")
            if type(item) not in _JSON_SCALARS:
                _check_json_value(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            if type(item) not in _JSON_SCALARS:
                _check_json_value(item, f"{where}[{i}]")
    elif not isinstance(value, str):
        raise AssayError(f"{where} holds a {type(value).__name__}, which is not JSON")

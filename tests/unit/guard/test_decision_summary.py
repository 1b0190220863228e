"""One summary schema for guard decisions: written by one builder, every old shape still read."""

from __future__ import annotations

import pytest

from assay.errors import Invalid
from assay.guard.evidence import (
    GUARD_CONTROLS,
    SUMMARY_SCHEMA,
    DecisionSummary,
    content_digest,
    guard_decision,
    text_digest,
)

#: What `assay guard check --record` wrote before the schema had a version.
OLD_LIBRARY = {"direction": "input", "action": "redact", "total_ms": 3.25,
               "findings": [{"validator": "pii", "score": 0.9, "label": "email"}],
               "findings_total": 1, "timings_ms": {"pii": 1.0}, "input_len": 12,
               "stream": False, "content": {"sha256": "ab", "salt_id": "cd"}}
#: What the gateway wrote before the schema had a version.
OLD_GATEWAY = {"direction": "output", "decision": "block", "guard_ms": 7.5,
               "findings": [{"validator": "secrets", "score": 1.0, "label": "aws"}],
               "gateway_key": "k1", "request_digest": "ef", "error": "TimeoutError: late"}


def test_the_builder_writes_the_versioned_schema_with_the_guard_controls() -> None:
    summary = DecisionSummary("input", "block", 2.34567, (("pii", 0.91234, "email"),),
                              content=content_digest(b"k", b"text"), error="ValueError: secret")
    entry = guard_decision(summary, system="bot", actor="t")
    assert entry.type == "assay.dev/guard-decision/v1"
    assert entry.controls == GUARD_CONTROLS
    assert entry.summary == {
        "schema": SUMMARY_SCHEMA, "direction": "input", "action": "block", "guard_ms": 2.346,
        "findings": [{"validator": "pii", "score": 0.9123, "label": "email"}],
        "findings_total": 1, "content": content_digest(b"k", b"text"),
        "error": "ValueError",  # the kind only: a message can quote the text
    }
    assert DecisionSummary.read(entry.summary).action == "block"


def test_both_unversioned_shapes_read_as_action_and_latency() -> None:
    library = DecisionSummary.read(OLD_LIBRARY)
    assert (library.action, library.guard_ms, library.direction) == ("redact", 3.25, "input")
    assert library.findings == (("pii", 0.9, "email"),)
    gateway = DecisionSummary.read(OLD_GATEWAY)
    assert (gateway.action, gateway.guard_ms, gateway.gateway_key) == ("block", 7.5, "k1")
    assert gateway.error == "TimeoutError: late"
    unknown = DecisionSummary.read({"guard_ms": "fast", "findings": ["x", {"score": 1}]})
    assert (unknown.action, unknown.guard_ms, unknown.findings) == ("unknown", None, ())


def test_text_digest_is_the_content_digest_of_the_text() -> None:
    assert content_digest(b"key", "héllo".encode())["hmac_sha256"] == text_digest(b"key", "héllo")
    assert text_digest(b"key", "\ud800")  # a lone surrogate is digested, not raised on


def test_a_summary_outside_the_schema_is_refused_when_written() -> None:
    with pytest.raises(Invalid, match=r"action 'maybe'.*guard_ms"):
        guard_decision(DecisionSummary("input", "maybe", -1.0), system="bot", actor="t")
    with pytest.raises(Invalid, match="direction"):
        DecisionSummary("sideways", "allow", 1.0).as_summary()

"""Guard decisions become guard-decision evidence without the raw text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assay.catalogs import evidence_types, resolve
from assay.guard import GUARD_CONTROLS, Guard, LedgerSink, text_digest
from assay.guard.evidence import SUMMARY_SCHEMA
from assay.ledger import Batcher
from assay.workspace import Workspace

SECRET_PROMPT = "my card is 4111 1111 1111 1111, mail pat.doe@example.org about order 7731"
SECRET_ANSWER = "Sure pat, the AWS key is AKIAIOSFODNN7EXAMPLE"


def default_guard(**kwargs: Any) -> Guard:
    """The default policy without its 50 ms budget: on a loaded machine an overrun would
    turn these action assertions into timing tests (the budget has tests of its own)."""
    return Guard(Guard.default().policy.model_copy(update={"latency_budget_ms": None}), **kwargs)


def all_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def test_controls_exist_and_fit_the_evidence_type() -> None:
    supports = set(evidence_types()["assay.dev/guard-decision/v1"].supports)
    for ref in GUARD_CONTROLS:
        assert resolve(ref).ref == ref
        assert ref in supports


def test_ledger_sink_writes_decisions_without_the_text(workspace: Workspace) -> None:
    batcher = Batcher(workspace.ledger, spill_dir=workspace.spill_dir, batch_size=8)
    key = b"s" * 32
    guard = default_guard(on_decision=LedgerSink(batcher, system="support-bot", actor="guard@test",
                                                 key=key))
    vin = guard.check_input(SECRET_PROMPT)
    vout = guard.check_output(SECRET_ANSWER, prompt=SECRET_PROMPT)
    checker = guard.stream(prompt=SECRET_PROMPT)
    for i in range(0, len(SECRET_PROMPT), 6):
        checker.feed(SECRET_PROMPT[i:i + 6])
    checker.finish()
    batcher.close()
    assert vin.action == "redact" and vout.action == "block"

    entries = [e.decoded() for e in workspace.ledger.iter_entries()]
    guard_entries = [e for e in entries if e["type"] == "assay.dev/guard-decision/v1"]
    assert len(guard_entries) == 3
    first = guard_entries[0]
    assert first["subject"]["system"] == "support-bot"
    assert first["actor"] == "guard@test"
    assert set(first["controls"]) == set(GUARD_CONTROLS)
    summary = first["summary"]
    assert summary["schema"] == SUMMARY_SCHEMA
    assert summary["direction"] == "input" and summary["action"] == "redact"
    assert {f["validator"] for f in summary["findings"]} == {"pii"}
    assert set(summary["findings"][0]) == {"validator", "score", "label"}
    assert summary["input_len"] == len(SECRET_PROMPT)
    assert summary["content"]["hmac_sha256"] == text_digest(key, SECRET_PROMPT)
    assert "pii" in summary["timings_ms"] and summary["guard_ms"] > 0
    assert first["payload"] is None
    assert guard_entries[2]["summary"]["stream"] is True

    stored = all_bytes(workspace.root)
    for needle in ("4111 1111 1111 1111", "pat.doe@example.org", "AKIAIOSFODNN7EXAMPLE",
                   "order 7731"):
        assert needle.encode() not in stored, needle
        assert needle not in json.dumps(entries)


def test_store_content_puts_the_text_in_the_erasable_payload(workspace: Workspace) -> None:
    batcher = Batcher(workspace.ledger, spill_dir=workspace.spill_dir)
    guard = Guard.from_yaml("version: 1\nsystem: kiosk\nlatency_budget_ms: null\n"
                            "input:\n  - validator: pii\n"
                            "    action: redact\nevidence: {store_content: true}\n",
                            on_decision=LedgerSink(batcher))
    guard.check_input(SECRET_PROMPT)
    batcher.close()
    entry = next(e for e in workspace.ledger.iter_entries()
                 if e.decoded()["type"] == "assay.dev/guard-decision/v1")
    decoded = entry.decoded()
    assert decoded["subject"]["system"] == "kiosk"
    assert decoded["payload"] is not None
    assert SECRET_PROMPT not in entry.entry.decode()
    payload = workspace.ledger.payload(entry.seq)
    assert payload is not None and json.loads(payload)["text"] == SECRET_PROMPT

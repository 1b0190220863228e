"""``assay drift reference set --from-traffic``: a reference from recorded guard decisions."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assay.cli.main import run
from assay.drift.traffic import events_from_decisions, traffic_events
from assay.ledger import Evidence, Subject
from assay.workspace import Workspace, init_workspace

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _decision(n: int, direction: str, action: str, findings: list[dict[str, object]],
              request_id: str | None) -> Evidence:
    summary: dict[str, object] = {"direction": direction, "decision": action, "guard_ms": 1.5,
                                  "findings": findings, "gateway_key": "web"}
    if request_id:
        summary["request_id"] = request_id
    return Evidence("assay.dev/guard-decision/v1", "gateway:web", summary, Subject("bot"),
                    observed_at=T0 + timedelta(seconds=n))


def _traffic(ws: Workspace, requests: int, *, with_ids: bool = True) -> None:
    rng = random.Random(7)
    batch = []
    for n in range(requests):
        rid = f"r{n}" if with_ids else None
        pii = rng.random() < 0.2
        findings = [{"validator": "pii", "score": 1.0, "label": "EMAIL"}] if pii else []
        batch.append(_decision(n, "input", "redact" if pii else "allow", findings, rid))
        score = round(rng.random() * 0.3, 3)
        batch.append(_decision(n, "output", "allow",
                               [{"validator": "toxicity", "score": score, "label": "toxic"}],
                               rid))
    ws.ledger.append(batch)


def test_one_event_per_request_with_every_seen_validator(workspace: Workspace) -> None:
    _traffic(workspace, 10)
    events = traffic_events(workspace.ledger, "bot")
    assert len(events) == 10
    assert {k for e in events for k in e["signals"]} == {
        "score.pii", "score.toxicity", "blocked", "redacted", "guard_ms"}
    assert all(e["signals"]["guard_ms"] == 3.0 for e in events)  # input + output
    assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)
    newest = traffic_events(workspace.ledger, "bot", last=4)
    assert newest == events[-4:]


def test_entries_without_request_ids_pair_by_key() -> None:
    entries = [json.loads(json.dumps({
        "observed_at": f"2026-12-01T00:00:0{n}.000000Z", "subject": {"system": "bot"},
        "summary": {"direction": d, "decision": a, "guard_ms": 1.0, "gateway_key": "web",
                    "findings": []}})) for n, (d, a) in enumerate(
        [("input", "allow"), ("output", "block"), ("input", "allow"), ("output", "allow")])]
    events = events_from_decisions(entries)
    assert [e["signals"]["blocked"] for e in events] == [1.0, 0.0]


def test_cli_builds_and_activates_a_reference_from_traffic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = init_workspace(tmp_path / "ws")
    _traffic(ws, 300)
    ws.close()
    w = ["--workspace", str(tmp_path / "ws")]
    capsys.readouterr()
    assert run([*w, "drift", "reference", "set", "--system", "bot", "--from-traffic",
                "--last", "200", "--block-events", "20", "--blocks", "2", "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["reference"] == "bot@v1" and made["events"] == 200
    assert run([*w, "drift", "reference", "set", "--system", "bot", "--last", "5"]) == 2

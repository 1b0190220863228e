"""The batcher never drops evidence: it blocks, spills to disk, and replays."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from assay.ledger import Batcher, Evidence, Receipt
from assay.ledger.batcher import replay_spill
from assay.workspace import Workspace


def _ev(i: int) -> Evidence:
    return Evidence(type="assay.dev/guard-decision/v1", actor="guard", summary={"i": i})


def _numbers(ws: Workspace) -> list[int]:
    return sorted(int(e.decoded()["summary"]["i"]) for e in ws.ledger.iter_entries())


def test_everything_submitted_is_appended(workspace: Workspace, tmp_path: Path) -> None:
    batcher = Batcher(workspace.ledger, spill_dir=tmp_path / "spill", batch_size=64)
    for i in range(1000):
        batcher.submit(_ev(i))
    batcher.flush()
    assert workspace.ledger.size() == 1000
    batcher.close()
    assert _numbers(workspace) == list(range(1000))


def test_full_queue_spills_and_close_replays(workspace: Workspace, tmp_path: Path) -> None:
    gate = threading.Event()
    original = workspace.ledger.append

    def slow_append(items: Sequence[Evidence], **kw: object) -> list[Receipt]:
        gate.wait(10)
        return original(items)

    workspace.ledger.append = slow_append  # type: ignore[method-assign]
    batcher = Batcher(workspace.ledger, spill_dir=tmp_path / "spill", batch_size=10, queue_size=5)
    for i in range(200):
        batcher.submit(_ev(i))
    assert batcher.spilled > 0
    assert list((tmp_path / "spill").glob("*.jsonl"))
    gate.set()
    batcher.close()
    assert _numbers(workspace) == list(range(200))
    assert not list((tmp_path / "spill").glob("*.jsonl"))


def test_failing_store_spills_after_retries(workspace: Workspace, tmp_path: Path) -> None:
    original = workspace.ledger.append
    broken = {"on": True}

    def flaky(items: Sequence[Evidence], **kw: object) -> list[Receipt]:
        if broken["on"]:
            raise RuntimeError("database is locked")
        return original(items)

    workspace.ledger.append = flaky  # type: ignore[method-assign]
    batcher = Batcher(workspace.ledger, spill_dir=tmp_path / "spill", retries=2)
    for i in range(50):
        batcher.submit(_ev(i))
    batcher.flush()
    assert batcher.spilled == 50 and workspace.ledger.size() == 0
    broken["on"] = False
    batcher.close()
    assert _numbers(workspace) == list(range(50))


def test_blocking_mode_waits_instead_of_spilling(workspace: Workspace, tmp_path: Path) -> None:
    batcher = Batcher(
        workspace.ledger, spill_dir=tmp_path / "spill", queue_size=2, when_full="block"
    )
    for i in range(300):
        batcher.submit(_ev(i))
    batcher.close()
    assert batcher.spilled == 0
    assert _numbers(workspace) == list(range(300))


def test_torn_spill_line_is_kept_not_lost(workspace: Workspace, tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    spill.mkdir()
    (spill / "1-1.jsonl").write_text('{"type": "assay.dev/note/v1"')
    assert replay_spill(workspace.ledger, spill) == 0
    assert (spill / "1-1.unreadable").read_text().startswith('{"type"')


def test_bad_evidence_is_refused_at_submit(workspace: Workspace, tmp_path: Path) -> None:
    from assay.errors import AssayError

    batcher = Batcher(workspace.ledger, spill_dir=tmp_path / "spill")
    with pytest.raises(AssayError):
        batcher.submit(Evidence(type="nope", actor="x"))
    batcher.close()

"""The scrape-time collectors: drift levels, ledger, evidence spill files (issue #24)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from assay.ledger import Evidence, Subject
from assay.ops.metrics import DriftCollector, EvidenceCollector, LedgerCollector
from assay.workspace import Workspace


def _scrape(*collectors: Any) -> str:
    registry = CollectorRegistry()
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry).decode()


def test_drift_levels_and_a_failing_status_read() -> None:
    status = {"systems": {"bot": {"levels": {"score.pii": "alert", "blocked": "ok"}}}}
    text = _scrape(DriftCollector(lambda: status))
    assert 'assay_drift_level{assay_signal="score.pii",assay_system="bot"} 2.0' in text
    assert 'assay_drift_level{assay_signal="blocked",assay_system="bot"} 0.0' in text

    def broken() -> dict[str, Any]:
        raise RuntimeError("dictionary changed size during iteration")

    assert "# TYPE assay_drift_level gauge" in _scrape(DriftCollector(broken))


def test_ledger_size_checkpoint_age_and_spill_files(workspace: Workspace) -> None:
    collector = LedgerCollector(workspace.store, ttl=0)
    assert "assay_ledger_checkpoint_age_seconds" not in _scrape(collector)  # none signed yet
    workspace.ledger.append([Evidence("assay.dev/note/v1", "t", {"n": 1}, Subject("bot"))])
    workspace.ledger.checkpoint()
    text = _scrape(collector, EvidenceCollector(workspace.spill_dir))
    size = workspace.ledger.size()
    assert f"assay_ledger_entries {float(size)}" in text
    assert "assay_ledger_checkpoint_age_seconds " in text
    assert "assay_evidence_spill_files 0.0" in text
    workspace.spill_dir.mkdir(parents=True, exist_ok=True)
    (workspace.spill_dir / "1-2.jsonl").write_text("")
    assert "assay_evidence_spill_files 1.0" in _scrape(EvidenceCollector(workspace.spill_dir))


def test_a_worker_that_shut_down_leaves_the_live_gauges(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import asyncio

    from assay.ops import metrics
    from assay.ops.requests import RequestObserver

    gone: list[int] = []
    monkeypatch.setattr(metrics, "mark_process_dead", gone.append)
    monkeypatch.setenv(metrics.MULTIPROC_ENV, str(tmp_path))

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "lifespan.shutdown.complete"})

    async def send(_message: Any) -> None:
        return None

    observer = RequestObserver(app, http=object())
    asyncio.run(observer({"type": "lifespan"}, None, send))  # type: ignore[arg-type]
    assert gone == [os.getpid()]

"""References (build, freeze, version) and alert sinks (log, webhook, ledger, OTel)."""

from __future__ import annotations

import importlib
import json
import logging
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from assay import catalogs
from assay.drift import (
    ALERT_CONTROLS,
    ALERT_TYPE,
    DriftAlert,
    LedgerAlertSink,
    LogSink,
    OtelSink,
    Reference,
    ReferenceStore,
    WebhookSink,
    WindowSpec,
    build_reference,
)
from assay.drift.sketches import Block, bin_edges
from assay.drift.synthetic import stream
from assay.errors import AssayError
from assay.workspace import Workspace

ALERT = DriftAlert(
    system="support-bot",
    level="alert",
    ts=1_767_225_600.5,
    reference="support-bot@v1",
    window={"events": 2000, "start_ts": 1_767_225_500.0, "end_ts": 1_767_225_600.5},
    signals=(
        {
            "signal": "blocked",
            "kind": "numeric",
            "level": "alert",
            "statistics": {"psi": {"value": 0.0123456789, "level": "alert", "warn": 0.005}},
        },
    ),
)


def test_discrete_edges_give_unseen_values_their_own_bin() -> None:
    edges = bin_edges([0.0] * 50, 10)
    assert len(edges) == 2
    import random

    from assay.drift.sketches import SketchPlan

    plan = SketchPlan(("refusal",), (edges,), (), (), 0, 8)
    block = Block(plan, 0.0, random.Random(0))
    for value in (0, 0, 1, -1):
        block.add(0.0, {"refusal": value}, None, None, {})
    assert block.counts[0] == [1, 2, 1]


def test_reference_round_trips_and_versions(reference: Reference, tmp_path: Path) -> None:
    store = ReferenceStore(tmp_path)
    first = store.save(reference)
    second = store.save(reference)
    assert (first.version, second.version) == (1, 2)
    assert store.load("support-bot") == second
    store.activate("support-bot", 1)
    assert store.load("support-bot").version == 1
    assert store.resolve("support-bot@v2").version == 2
    assert Reference.from_json(json.loads(json.dumps(first.to_json()))) == first
    with pytest.raises(AssayError, match="no reference v9"):
        store.activate("support-bot", 9)


def test_reference_thresholds_are_calibrated_and_ordered(reference: Reference) -> None:
    for sig in reference.numeric:
        for th in sig.thresholds.values():
            assert 0 <= th.null_mean <= th.warn < th.alert < th.critical
    assert reference.embedding is not None and reference.embedding.dim == 32
    assert reference.categorical[0].values[0] == "en"


def test_reference_from_a_time_range_and_too_few_events() -> None:
    events = list(stream(9_000, seed=4))
    since = events[1000]["ts"]
    ref = build_reference(
        events, "support-bot", window=WindowSpec(block_events=100, blocks=4), since=since, draws=60
    )
    assert ref.n_events == 8_000 and ref.first_ts == since
    with pytest.raises(AssayError, match="at least 4000"):
        build_reference(events[:3000], "support-bot")


def test_log_sink(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="assay.drift"):
        LogSink().emit(ALERT)
    assert "drift alert on support-bot: blocked (alert)" in caplog.text


def test_webhook_retries_then_succeeds() -> None:
    calls: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(json.loads(request.content))
        return httpx.Response(503 if len(calls) < 3 else 204)

    sink = WebhookSink(
        "https://hooks.example/drift",
        backoff=0,
        client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    sink.emit(ALERT)
    assert len(calls) == 3 and calls[0]["type"] == ALERT_TYPE and calls[0]["level"] == "alert"


def test_webhook_gives_up_with_a_clear_error() -> None:
    sink = WebhookSink(
        "https://hooks.example/drift",
        retries=1,
        backoff=0,
        client=httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500))),
    )
    with pytest.raises(AssayError, match="failed after 2 tries"):
        sink.emit(ALERT)


def test_ledger_sink_writes_drift_alert_evidence(workspace: Workspace) -> None:
    LedgerAlertSink(workspace.ledger).emit(ALERT)
    entry = workspace.ledger.get(0).decoded()
    assert entry["type"] == ALERT_TYPE
    assert entry["observed_at"].startswith("2026-01-01T00:00:00.5")
    assert entry["summary"]["signals"][0]["statistics"]["psi"]["value"] == 0.012346
    assert entry["controls"] == sorted(ALERT_CONTROLS) or set(entry["controls"]) == set(
        ALERT_CONTROLS
    )


def test_alert_controls_exist_and_match_the_evidence_type() -> None:
    supported = set(catalogs.evidence_types()[ALERT_TYPE].supports)
    for ref in ALERT_CONTROLS:
        catalogs.resolve(ref)
        assert ref in supported


def test_otel_endpoint_without_packages_names_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.import_module

    def missing_sdk(name: str, package: str | None = None) -> object:
        if name.startswith("opentelemetry"):
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", missing_sdk)
    with pytest.raises(AssayError, match="pip install opentelemetry-sdk"):
        OtelSink("http://localhost:4318")


def test_replaced_reference_keeps_window_spec(reference: Reference) -> None:
    other = replace(reference, version=7)
    assert other.plan().numeric == reference.plan().numeric

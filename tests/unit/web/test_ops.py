"""The dashboard's /healthz, /readyz, /metrics and request log lines (issue #24)."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assay.errors import AssayError
from assay.web import create_app
from assay.workspace import Workspace

#: Every metric the dashboard exports (the Grafana dashboard names only these).
SERVE_METRICS = {
    "http_server_request_duration_seconds",
    "http_server_active_requests",
    "assay_ledger_entries",
    "assay_ledger_checkpoint_age_seconds",
    "assay_evidence_spill_files",
}


def scraped_names(text: str) -> set[str]:
    return {line.split(" ")[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def test_health_and_readiness_need_no_login(app: FastAPI) -> None:
    client = TestClient(app)
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"store": "ok", "schema": "ok"}}
    assert client.get("/metrics").status_code == 404  # off by default


def test_readiness_fails_on_an_unmigrated_store(
    app: FastAPI, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def behind() -> None:
        raise AssayError("the database at /secret/path is at schema revision none")

    monkeypatch.setattr(workspace.store, "check_schema", behind)
    ready = TestClient(app).get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["schema"].startswith("schema not current")
    assert "/secret/path" not in ready.text


def test_metrics_and_one_log_line_per_request(
    workspace: Workspace, app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="assay.access")
    client = TestClient(create_app(workspace, metrics=True))
    assert client.get("/login").status_code == 200
    client.get("/systems/bot", follow_redirects=False)
    text = client.get("/metrics").text
    assert scraped_names(text) >= SERVE_METRICS, SERVE_METRICS - scraped_names(text)
    assert 'http_route="/systems/{system_id}"' in text
    lines = [getattr(r, "fields", {}) for r in caplog.records if r.name == "assay.access"]
    assert [(f["route"], f["status"]) for f in lines] == [
        ("/login", 200), ("/systems/{system_id}", 303)]
    assert all(f["request_id"] for f in lines)

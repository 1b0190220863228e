"""Red-team runs (background demo scan, sandboxed report), guard activity, drift, alerts."""

from __future__ import annotations

import json

from fastapi import FastAPI
from fastapi.testclient import TestClient

from assay.guard.evidence import GUARD_CONTROLS, DecisionSummary, guard_decision
from assay.ledger import Evidence, Subject
from assay.ledger.evidence import GUARD_DECISION
from assay.validators.metrics import percentile
from assay.web.pages_redteam import REPORT_CSP
from assay.workspace import Workspace

from .seed import seed_activity

OLD_LIBRARY_SHAPE = {"direction": "input", "action": "redact", "total_ms": 3.0,
                     "findings": [{"validator": "pii", "score": 0.9, "label": "email"}]}
OLD_GATEWAY_SHAPE = {"direction": "output", "decision": "block", "guard_ms": 5.0,
                     "findings": [{"validator": "secrets", "score": 1.0, "label": "aws"}]}

Clients = dict[str, tuple[TestClient, str]]


def test_engineer_runs_a_demo_scan_in_the_background(
    app: FastAPI, workspace: Workspace, clients: Clients
) -> None:
    viewer, _ = clients["viewer"]
    assert "assay scan --target demo" in viewer.get("/redteam").text
    assert "Start demo scan" not in viewer.get("/redteam").text
    engineer, csrf = clients["engineer"]
    form = {"csrf_token": csrf, "system": "bot", "families": ["prompt_injection"], "limit": "3"}
    started = engineer.post("/redteam/scans", data=form, follow_redirects=False)
    assert started.status_code == 303
    run_id = started.headers["location"].rsplit("/", 1)[1]
    app.state.scan_jobs.join()
    page = engineer.get(f"/redteam/runs/{run_id}").text
    assert "Status <strong>complete</strong>" in page and "Recorded as evidence" in page
    assert 'iframe class="report" sandbox ' in page
    entry = workspace.ledger.get(workspace.ledger.size() - 1).decoded()
    assert entry["type"] == "assay.dev/redteam-run/v1"
    assert entry["actor"] == "engineer@web" and entry["subject"]["system"] == "bot"
    assert entry["summary"]["attempts"] == 3
    listed = viewer.get("/api/v1/redteam/runs").json()
    assert listed[0]["run_id"] == run_id
    assert listed[0]["evidence_seq"] == workspace.ledger.size() - 1
    assert (workspace.root / "scans" / run_id / "report.html").is_file()


def test_report_is_served_sandboxed_without_scripts(
    app: FastAPI, workspace: Workspace, clients: Clients
) -> None:
    engineer, csrf = clients["engineer"]
    started = engineer.post(
        "/redteam/scans",
        data={"csrf_token": csrf, "system": "bot", "limit": "1"},
        follow_redirects=False,
    )
    run_id = started.headers["location"].rsplit("/", 1)[1]
    app.state.scan_jobs.join()
    viewer, _ = clients["viewer"]
    report = viewer.get(f"/redteam/runs/{run_id}/report")
    assert report.headers["content-security-policy"] == REPORT_CSP
    assert "sandbox" in REPORT_CSP and "script-src" not in REPORT_CSP
    assert "<script" not in report.text.lower() and run_id in report.text
    download = viewer.get(f"/redteam/runs/{run_id}/report", params={"download": "true"})
    assert download.headers["content-disposition"].startswith("attachment")
    # The main pages keep the strict dashboard policy (no framing).
    assert "frame-ancestors 'none'" in viewer.get("/redteam").headers["content-security-policy"]


def test_scan_refuses_unknown_system_family_and_run_paths(clients: Clients) -> None:
    engineer, csrf = clients["engineer"]
    unknown = engineer.post("/redteam/scans", data={"csrf_token": csrf, "system": "nope"})
    assert unknown.status_code == 404 and "nope" in unknown.text
    family = engineer.post(
        "/redteam/scans", data={"csrf_token": csrf, "system": "bot", "families": ["x"]}
    )
    assert family.status_code == 400 and "unknown attack families" in family.text
    assert engineer.get("/redteam/runs/..%2F..%2Fkeys").status_code in (400, 404, 422)
    assert engineer.get("/redteam/runs/rt-missing").status_code == 400
    compliance, ccsrf = clients["compliance"]
    refused = compliance.post("/redteam/scans", data={"csrf_token": ccsrf, "system": "bot"})
    assert refused.status_code == 403


def test_guard_activity_rates_validators_and_latency(
    app: FastAPI, workspace: Workspace, clients: Clients
) -> None:
    client, _ = clients["viewer"]
    assert "assay gateway serve" in client.get("/guard").text
    seed_activity(workspace)
    data = client.get("/api/v1/guard/activity", params={"days": 5}).json()
    assert data["decisions"] == 60
    assert data["by_action"] == {"allow": 41, "block": 12, "redact": 7}
    assert data["block_rate"] == 0.2 and data["redact_rate"] == round(7 / 60, 4)
    assert data["latency_ms"]["p50"] == 5.0 and data["latency_ms"]["max"] == 10.0
    assert data["top_validators"][0] == {
        "validator": "injection",
        "findings": 19,
        "in_blocks_or_redactions": 19,
    }
    assert sum(d["decisions"] for d in data["series"]) == 60
    page = client.get("/guard?days=5").text
    assert "20.0%" in page and "injection" in page and "<svg" in page
    narrow = client.get("/api/v1/guard/activity", params={"days": 1, "system": "other"}).json()
    assert narrow["decisions"] == 0 and narrow["block_rate"] is None
    assert client.get("/guard?days=0").status_code == 422


def test_guard_activity_reads_every_decision_shape(
    app: FastAPI, workspace: Workspace, clients: Clients
) -> None:
    """`assay guard check --record` entries count with their action and latency (old and
    new shapes), and the gateway's entries carry the guard's controls."""
    client, _ = clients["viewer"]
    gateway = DecisionSummary("input", "allow", 4.0, gateway_key="k1")
    workspace.ledger.append([
        Evidence(GUARD_DECISION, "assay-guard", OLD_LIBRARY_SHAPE, Subject("bot")),
        Evidence(GUARD_DECISION, "gateway:k1", OLD_GATEWAY_SHAPE, Subject("bot")),
        guard_decision(gateway, system="bot", actor="gateway:k1"),
    ])
    data = client.get("/api/v1/guard/activity", params={"days": 1}).json()
    assert data["by_action"] == {"redact": 1, "block": 1, "allow": 1}
    assert data["latency_ms"]["p50"] == 4.0 and data["latency_ms"]["max"] == 5.0
    assert data["controls"] == {ref: 1 for ref in GUARD_CONTROLS}
    page = client.get("/guard?days=1").text
    assert "Controls evidenced" in page and "iso42001:A.6.2.8" in page and "4.00 ms" in page
    alerts = client.get("/api/v1/alerts").json()
    assert [a["detail"] for a in alerts if a["kind"] == "guard block"] == ["output: secrets"]


def test_drift_status_files_and_alerts(
    app: FastAPI, workspace: Workspace, clients: Clients
) -> None:
    client, _ = clients["viewer"]
    assert "assay drift reference set" in client.get("/drift").text
    seed_activity(workspace)
    status = workspace.root / "drift" / "status"
    status.mkdir(parents=True)
    (status / "bot.json").write_text(
        json.dumps(
            {
                "reference": "bot@v1",
                "observed": 5000,
                "evaluations": 9,
                "alerts": 1,
                "levels": {"blocked": "alert", "input_len": "ok"},
                "missing": {"input_len": 2},
            }
        )
    )
    (status / "broken.json").write_text("{not json")
    page = client.get("/drift").text
    assert 'bot: <span class="level level-alert">alert</span>' in page
    assert "unreadable status file" in page
    view = client.get("/api/v1/drift/status").json()
    assert [s["system"] for s in view] == ["bot", "broken"]
    assert view[0]["signals"][1] == {"signal": "input_len", "level": "ok", "missing": 2, "bad": 0}
    alerts = client.get("/api/v1/alerts", params={"limit": 5}).json()
    assert len(alerts) == 5 and {a["kind"] for a in alerts} == {"drift", "guard block"}
    assert alerts == sorted(alerts, key=lambda a: a["observed_at"], reverse=True)


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 99) == 99.0
    assert percentile([5.0], 99) == 5.0

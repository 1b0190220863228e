"""Overview readiness and alerts, controls, per-system readiness, report and pack downloads."""

from __future__ import annotations

import io
import zipfile

from fastapi import FastAPI
from fastapi.testclient import TestClient

from assay.ledger.verify import verify_pack
from assay.workspace import Workspace

from .seed import seed_activity, seed_aims

Clients = dict[str, tuple[TestClient, str]]


def test_overview_shows_readiness_gaps_and_alerts(
    app: FastAPI, workspace: Workspace, clients: Clients
) -> None:
    client, _ = clients["viewer"]
    assert "No drift alerts or guard blocks" in client.get("/").text
    seed_aims(workspace)
    seed_activity(workspace)
    summary = client.get("/api/v1/readiness/summary").json()
    assert [r["framework"] for r in summary["frameworks"]] == [
        "iso42001",
        "nist-ai-rmf",
        "eu-ai-act",
        "fca",
        "sec",
    ]
    assert summary["open_gaps"] == sum(r["open_gaps"] for r in summary["frameworks"]) > 0
    page = client.get("/").text
    assert "Readiness per framework" in page and "ISO/IEC 42001" in page
    assert "guard block" in page and "drift" in page
    assert f'<a href="/controls?status=gap">{summary["open_gaps"]}</a>' in page


def test_controls_page_lists_status_evidence_and_next_action(
    app: FastAPI, workspace: Workspace, clients: Clients
) -> None:
    seed_aims(workspace)
    client, _ = clients["viewer"]
    params = {"framework": "iso42001", "system": "bot"}
    unsigned = client.get("/controls", params=params).text
    assert "not yet in a signed checkpoint and do not count yet" in unsigned
    assert client.get("/api/v1/readiness", params=params).json()["counts"]["met"] == 0
    assert client.post("/ledger/checkpoint").status_code == 403
    auditor, csrf = clients["auditor"]
    signed = auditor.post("/ledger/checkpoint", data={"csrf_token": csrf}, follow_redirects=True)
    assert "A checkpoint was signed" in signed.text and 'id="unsigned"' not in signed.text
    data = client.get("/api/v1/readiness", params=params).json()
    met = [i for i in data["items"] if i["status"] == "met"]
    assert met and met[0]["evidence"][0]["verified"] is True
    page = client.get("/controls", params={"framework": "iso42001", "system": "bot"}).text
    assert f'<a href="/evidence/{met[0]["evidence"][0]["seq"]}">' in page
    gaps = client.get("/controls", params={"status": "gap"}).text
    assert "Next:" in gaps and "st-met" not in gaps
    assert client.get("/controls", params={"framework": "nope"}).status_code == 400
    assert client.get("/api/v1/readiness", params={"framework": "nope"}).status_code == 400
    system = client.get("/systems/bot").text
    assert "EU AI Act" in system and "/controls?framework=iso42001&amp;system=bot" in system


def test_report_downloads_and_pack_with_reports_verify(
    app: FastAPI, workspace: Workspace, clients: Clients
) -> None:
    seed_aims(workspace)
    auditor, csrf = clients["auditor"]
    form = {"csrf_token": csrf, "framework": "iso42001", "system": "bot", "format": "oscal-ar"}
    ar = auditor.post("/exports/report", data=form)
    assert ar.status_code == 200 and "assessment-results" in ar.json()
    assert 'filename="oscal-ar-iso42001-bot.json"' in ar.headers["content-disposition"]
    xlsx = auditor.post("/exports/report", data={**form, "format": "xlsx"})
    assert zipfile.is_zipfile(io.BytesIO(xlsx.content))
    bad = auditor.post("/exports/report", data={**form, "format": "docx"})
    assert bad.status_code == 400
    api = auditor.get("/api/v1/reports/oscal-poam", params={"framework": "iso42001"})
    assert "plan-of-action-and-milestones" in api.json()
    viewer, vcsrf = clients["viewer"]
    assert viewer.post("/exports/report", data={**form, "csrf_token": vcsrf}).status_code == 403
    pack = auditor.post(
        "/exports/pack-with-reports", data={"csrf_token": csrf, "framework": "sec", "system": ""}
    )
    assert pack.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(pack.content)).namelist()
    assert "reports/soa-gap-sec.pdf" in names and "reports/oscal-ar-sec.json" in names
    path = workspace.root.parent / "pack.zip"
    path.write_bytes(pack.content)
    assert verify_pack(str(path), workspace.ledger.signer.verifier).ok


def test_controls_page_shows_conditions_outcomes_and_failing_in_red(
    app: FastAPI, workspace: Workspace, clients: Clients
) -> None:
    from assay.aims import classification, update_system
    from assay.ledger import Evidence, Subject

    update_system(workspace.store, workspace.ledger, "bot", {"org_roles": ["provider"]}, actor="a")
    classification.classify_system(
        workspace.store, workspace.ledger, "bot", {"prohibited": ["social-scoring"]}, actor="a"
    )
    failing = {"status": "complete", "families": {"prompt_injection": {"asr": 0.5, "n": 10}}}
    workspace.ledger.append([Evidence("assay.dev/redteam-run/v1", "ci", failing, Subject("bot"))])
    workspace.ledger.checkpoint()
    client, _ = clients["viewer"]
    eu = client.get("/controls", params={"framework": "eu-ai-act", "system": "bot"}).text
    assert '<span class="st st-prohibited">prohibited</span>' in eu
    assert eu.index("st-prohibited") < eu.index("st-not_applicable")  # blockers first
    assert (
        "Applies when: <code>practice:5(1)(c)</code>" in eu and "<summary>Explain</summary>" in eu
    )
    iso = client.get("/controls", params={"framework": "iso42001", "system": "bot"}).text
    assert '<span class="st st-failing">failing</span>' in iso
    assert "attack success above 5%" in iso
    system = client.get("/systems/bot").text
    assert 'class="st st-prohibited">1</span>' in system and "provider" in system

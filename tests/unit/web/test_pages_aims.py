"""AIMS pages: heat map, SoA edit/approve/diff with four-eyes, sign-off, findings, CAPA, reviews."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from assay.aims import capa, impact, soa
from assay.workspace import Workspace

from .seed import seed_aims

Clients = dict[str, tuple[TestClient, str]]


def _last_entry(ws: Workspace) -> dict[str, object]:
    return ws.ledger.get(ws.ledger.size() - 1).decoded()


def test_risk_heat_map_writes_counts_and_bands_in_cells(
    app: FastAPI, workspace: Workspace, clients: Clients
) -> None:
    seed_aims(workspace)
    client, _ = clients["viewer"]
    page = client.get("/risks").text
    assert "Risk heat map, 7 risks" in page
    # prompt injection (4 × 4) and hallucination (4 × 3) are the inherent-rating cells of row 4.
    assert "likelihood 4, impact 4: 1 risk(s), high" in page
    assert "likelihood 4 impact 3: 1" in page
    residual = client.get("/risks?basis=residual").text
    assert "likelihood 2, impact 2: 1 risk(s), low" in residual
    api = client.get("/api/v1/risks", params={"basis": "residual"}).json()
    assert sum(c["count"] for c in api["cells"]) == 7
    assert client.get("/risks?basis=sideways").status_code == 422


def test_soa_edit_then_four_eyes_refusal_then_approval_and_diff(
    app: FastAPI, workspace: Workspace, clients: Clients
) -> None:
    seed_aims(workspace)
    compliance, csrf = clients["compliance"]
    form = {
        "csrf_token": csrf,
        "applicable": "yes",
        "implementation_status": "implemented",
        "justification": "",
    }
    edited = compliance.post("/soa/controls/A.6.2.4", data=form, follow_redirects=False)
    assert edited.status_code == 303
    assert soa.current(workspace.store).entry("A.6.2.4").implementation_status == "implemented"  # type: ignore[union-attr]
    assert _last_entry(workspace)["actor"] == "compliance@web"

    refused = compliance.post("/soa/approve", data={"csrf_token": csrf})
    assert refused.status_code == 400
    assert 'role="alert"' in refused.text and "four-eyes is on" in refused.text
    assert soa.current(workspace.store).status == "draft"  # type: ignore[union-attr]

    admin, admin_csrf = clients["admin"]
    approved = admin.post("/soa/approve", data={"csrf_token": admin_csrf}, follow_redirects=True)
    assert "was approved" in approved.text
    assert soa.current(workspace.store).approved_by == "admin@web"  # type: ignore[union-attr]
    assert _last_entry(workspace)["type"] == "assay.dev/soa/v1"

    diff = admin.get("/soa/diff", params={"old": 1, "new": 2}).text
    assert "iso42001:A.6.2.4" in diff and "implemented" in diff
    assert admin.get("/soa/diff", params={"old": 2, "new": 2}).status_code == 400
    assert admin.get("/api/v1/soa").json()["approved_version"] == 3


def test_soa_excluding_a_relied_on_control_needs_a_justification(
    app: FastAPI, workspace: Workspace, clients: Clients
) -> None:
    seed_aims(workspace)
    client, csrf = clients["compliance"]
    form = {"csrf_token": csrf, "applicable": "no", "implementation_status": "planned"}
    refused = client.post("/soa/controls/A.6.2.4", data=form)
    assert refused.status_code == 400 and "needs a --justification" in refused.text
    viewer, _ = clients["viewer"]
    assert viewer.get("/soa/controls/A.6.2.4").status_code == 403
    assert "Edit" not in viewer.get("/soa").text.split("<h2>Controls")[1].split("</thead>")[0]


def test_soa_empty_state_offers_generation(app: FastAPI, clients: Clients) -> None:
    client, csrf = clients["compliance"]
    assert "No Statement of Applicability yet" in client.get("/soa").text
    made = client.post("/soa/generate", data={"csrf_token": csrf}, follow_redirects=True)
    assert "generated from the risk register" in made.text
    again = client.post("/soa/generate", data={"csrf_token": csrf}, follow_redirects=True)
    assert "no new version was made" in again.text


def test_impact_sign_off_refuses_incomplete_and_records_complete(
    app: FastAPI, workspace: Workspace, clients: Clients
) -> None:
    seed_aims(workspace)
    client, csrf = clients["compliance"]
    refused = client.post("/impact/IA-002/sign-off", data={"csrf_token": csrf})
    assert refused.status_code == 400 and "missing: context" in refused.text
    done = client.post("/impact/IA-001/sign-off", data={"csrf_token": csrf}, follow_redirects=True)
    assert "signed off" in done.text
    assert impact.get_assessment(workspace.store, "IA-001").data.signoff.by == "compliance@web"  # type: ignore[union-attr]
    assert _last_entry(workspace)["type"] == "assay.dev/impact-assessment/v1"


def test_auditor_records_a_finding_and_viewer_cannot(
    app: FastAPI, workspace: Workspace, clients: Clients
) -> None:
    seed_aims(workspace)
    auditor, csrf = clients["auditor"]
    form = {"csrf_token": csrf, "grade": "observation", "description": "Logs are thin"}
    added = auditor.post("/audits/AUD-001/findings", data=form, follow_redirects=True)
    assert "Logs are thin" in added.text and "The finding was recorded" in added.text
    assert _last_entry(workspace)["actor"] == "auditor@web"
    bad = auditor.post("/audits/AUD-001/findings", data={**form, "grade": "catastrophe"})
    assert bad.status_code == 400 and "grade" in bad.text
    viewer, vcsrf = clients["viewer"]
    refused = viewer.post("/audits/AUD-001/findings", data={**form, "csrf_token": vcsrf})
    assert refused.status_code == 403
    assert auditor.get("/api/v1/audits").json()[0]["findings"]["observation"] == 1


def test_capa_advances_through_every_state_to_closed(
    app: FastAPI, workspace: Workspace, clients: Clients
) -> None:
    seed_aims(workspace)
    client, csrf = clients["compliance"]

    def step(**fields: str) -> str:
        response = client.post("/capa/CAPA-001", data={"csrf_token": csrf, **fields})
        return response.text

    assert "cannot close" in step(step="close")
    assert "describe the contain step" in step(step="contain")
    step(step="contain", text="Paused the feature")
    step(step="analyse", text="No review of prompts")
    step(step="action", text="Add prompt review", owner="cx")
    assert capa.get_capa(workspace.store, "CAPA-001").status == "acting"
    step(step="done", action_id="A1")
    assert "say whether it was effective" in step(step="verify")
    step(step="verify", effective="yes", text="No recurrence")
    page = step(step="close")
    assert capa.get_capa(workspace.store, "CAPA-001").status == "closed"
    assert 'aria-current="step"' in page
    size = workspace.ledger.size()
    closing = [workspace.ledger.get(seq).decoded() for seq in (size - 2, size - 1)]
    assert [(e["type"], e["actor"]) for e in closing] == [
        ("assay.dev/capa/v1", "compliance@web"),
        ("assay.dev/aims-change/v1", "compliance@web"),
    ]


def test_management_review_prepared_from_the_dashboard(
    app: FastAPI, workspace: Workspace, clients: Clients
) -> None:
    seed_aims(workspace)
    client, csrf = clients["compliance"]
    made = client.post("/reviews", data={"csrf_token": csrf, "title": "Q2"}, follow_redirects=False)
    assert made.headers["location"].startswith("/reviews/MR-002")
    page = client.get("/reviews/MR-002").text
    assert "2) monitoring and measurement results" in page and "Block rate below 10%" in page
    pack = client.get("/api/v1/reviews/MR-002").json()["pack"]
    assert pack["d_monitoring"]["objectives"][0]["trend"] == "improving"


def test_pages_render_with_data_and_empty_states(
    app: FastAPI, workspace: Workspace, clients: Clients
) -> None:
    client, _ = clients["viewer"]
    empty = {
        "/risks": 'href="/risks/adopt"',  # the next action is the form that does it
        "/impact": 'href="/impact/new"',
        "/objectives": "assay objectives add",
        "/audits": 'href="/audits/plan"',
        "/capa": "assay capa open",
        "/reviews": "assay review prepare",
    }
    for path, hint in empty.items():
        assert hint in client.get(path).text, path
    seed_aims(workspace)
    filled = {
        "/impact": "Support bot FRIA",
        "/impact/IA-001": "Answer to rights",
        "/objectives": "on-track",
        "/audits/AUD-001": "minor-nonconformity",
        "/capa": "Fix the gap",
        "/systems/bot": "transparency",
        "/systems": "transparency",
    }
    for path, text in filled.items():
        assert text in client.get(path).text, path
    trend = r'<svg role="img" aria-label="trend: 14, 12, 9"'
    assert re.search(trend, client.get("/objectives").text)

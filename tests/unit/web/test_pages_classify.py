"""Classifying a system in the browser: the CLI's questionnaire over the same service."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from assay.aims import get_system
from assay.workspace import Workspace

Clients = dict[str, tuple[TestClient, str]]


def test_refused_below_the_aims_writing_roles(clients: Clients) -> None:
    for role in ("viewer", "engineer", "auditor"):
        client, csrf = clients[role]
        assert client.get("/systems/bot/classify").status_code == 403, role
        assert client.post("/systems/bot/classify", data={"csrf_token": csrf}).status_code == 403
    compliance, _ = clients["compliance"]
    forged = compliance.post("/systems/bot/classify", data={"csrf_token": "x"})
    assert forged.status_code == 403


def test_classified_as_high_risk_with_rationale(workspace: Workspace, clients: Clients) -> None:
    client, csrf = clients["compliance"]
    form = {
        "csrf_token": csrf,
        "annex_iii": ["credit-scoring"],
        "profiling": "yes",
        "transparency": ["interacts-with-people"],
        "outside_scope": "",
    }
    done = client.post("/systems/bot/classify", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("?notice=classified")
    record = get_system(workspace.store, "bot")
    assert record.ai_act_class == "high-risk"
    page = client.get(done.headers["location"]).text
    assert "was classified" in page and "high-risk" in page
    entry = workspace.ledger.get(workspace.ledger.size() - 1).decoded()
    assert entry["actor"] == "compliance@web"
    again = client.get("/systems/bot/classify").text  # starts from the recorded answers
    assert re.search(r'value="credit-scoring" checked', again)
    assert re.search(r'name="profiling" value="yes" checked', again)


def test_an_unknown_answer_is_refused_on_the_form(workspace: Workspace, clients: Clients) -> None:
    client, csrf = clients["compliance"]
    before = workspace.ledger.size()
    page = client.post(
        "/systems/bot/classify", data={"csrf_token": csrf, "prohibited": ["mind-control"]}
    )
    assert page.status_code == 400 and "mind-control" in page.text
    assert 'id="form-error"' in page.text and workspace.ledger.size() == before


def test_the_classification_gap_links_to_the_questionnaire(clients: Clients) -> None:
    client, _ = clients["compliance"]
    page = client.get("/controls", params={"framework": "eu-ai-act", "system": "bot"}).text
    assert '<a href="/systems/bot/classify" class="next-form">' in page
    assert 'href="/systems/bot/classify">classify it</a>' in client.get("/systems/bot").text

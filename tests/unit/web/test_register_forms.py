"""Register workflows through the dashboard's forms: the services' rules, errors beside the
field, role checks and CSRF (issue #22 item 1)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from assay.aims import audit, review, risk
from assay.aims.inventory import get_system
from assay.ledger.evidence import AUDIT_SAMPLE
from assay.workspace import Workspace

Clients = dict[str, tuple[TestClient, str]]


def _post(clients: Clients, role: str, path: str, data: dict[str, object]) -> object:
    client, csrf = clients[role]
    return client.post(path, data={**data, "csrf_token": csrf}, follow_redirects=False)


def test_risk_adopt_treat_and_four_eyes_accept(clients: Clients, workspace: Workspace) -> None:
    page = clients["compliance"][0].get("/risks/adopt")
    assert page.status_code == 200 and 'name="templates"' in page.text
    done = _post(clients, "compliance", "/risks/adopt", {"system": "bot"})
    assert done.status_code == 303 and "notice=adopted" in done.headers["location"]
    risks = risk.list_risks(workspace.store, system="bot")
    assert risks
    rid = risks[0].id
    # a bad level is shown beside its field, with the typed values kept
    bad = _post(clients, "compliance", f"/risks/{rid}/treat",
                {"treatment": "mitigate", "residual_likelihood": "9", "plan": "guard + tests"})
    assert bad.status_code == 400
    assert 'id="err-residual_likelihood"' in bad.text and "guard + tests" in bad.text
    ok = _post(clients, "compliance", f"/risks/{rid}/treat",
               {"treatment": "mitigate", "residual_likelihood": "2", "residual_impact": "2"})
    assert ok.status_code == 303
    assert risk.get_risk(workspace.store, rid).data.residual_likelihood == 2
    # the person who treated it cannot accept it (four-eyes): the error is on the page
    same = _post(clients, "compliance", f"/risks/{rid}/accept", {"note": "acceptable"})
    assert same.status_code == 400 and 'role="alert"' in same.text
    other = _post(clients, "admin", f"/risks/{rid}/accept", {"note": "acceptable"})
    assert other.status_code == 303
    assert risk.get_risk(workspace.store, rid).status == "accepted"


def test_classify_shows_the_reasoning_and_records_it(
    clients: Clients, workspace: Workspace
) -> None:
    client, _ = clients["compliance"]
    assert client.get("/systems/bot/classify").status_code == 200
    done = _post(clients, "compliance", "/systems/bot/classify",
                 {"annex_iii": ["credit-scoring"], "transparency": ["interacts-with-people"]})
    assert done.status_code == 200
    assert "Classified: high-risk" in done.text and "Art.6(2)" in done.text
    assert get_system(workspace.store, "bot").ai_act_class == "high-risk"
    bad = _post(clients, "compliance", "/systems/bot/classify", {"annex_iii": ["astrology"]})
    assert bad.status_code == 400 and "astrology" in bad.text
    assert clients["compliance"][0].get("/systems/nope/classify").status_code == 404


def test_audit_plan_sample_and_complete(clients: Clients, workspace: Workspace) -> None:
    planned = _post(clients, "auditor", "/audits/plan",
                    {"title": "Stage 2 dry run", "auditor": "internal-audit",
                     "systems": ["bot"], "criteria": "iso42001:8.2", "planned": "2026-12-20"})
    assert planned.status_code == 303, getattr(planned, "text", "")
    audit_id = planned.headers["location"].split("/")[2].split("?")[0]
    assert audit.list_audits(workspace.store)[0].id == audit_id
    missing = _post(clients, "auditor", "/audits/plan", {"title": "", "auditor": ""})
    assert missing.status_code == 400 and "error" in missing.text
    drawn = _post(clients, "auditor", "/audits/sample",
                  {"framework": "iso42001", "system": "bot", "seed": "s2", "requirements": "4",
                   "entries": "2"})
    assert drawn.status_code == 200
    refs = re.findall(r'href="/requirements/(iso42001:[^"]+)"', drawn.text)
    assert len(refs) >= 4 and f'href="/audits/{audit_id}"' in drawn.text
    again = _post(clients, "auditor", "/audits/sample",
                  {"framework": "iso42001", "system": "bot", "seed": "s2", "requirements": "4",
                   "entries": "2"})
    assert re.findall(r'href="/requirements/(iso42001:[^"]+)"', again.text) == refs
    assert len(list(workspace.ledger.entries(AUDIT_SAMPLE))) == 2
    link = re.search(r'href="(/audits/sample/\d+/worksheet\.xlsx)"', again.text)
    assert link is not None
    sheet = clients["auditor"][0].get(link.group(1))
    assert sheet.status_code == 200 and sheet.content[:2] == b"PK"  # an XLSX (zip)
    assert clients["viewer"][0].get(link.group(1)).status_code == 403
    bad = _post(clients, "auditor", "/audits/sample", {"framework": "iso42001",
                                                       "requirements": "lots"})
    assert bad.status_code == 400 and 'id="err-requirements"' in bad.text
    closed = _post(clients, "auditor", f"/audits/{audit_id}/complete", {"conclusion": "ok"})
    assert closed.status_code == 303
    assert audit.list_audits(workspace.store)[0].status == "completed"


def test_review_decision_opens_a_capa(clients: Clients, workspace: Workspace) -> None:
    made = review.prepare(workspace.store, workspace.ledger, title="Q4", actor="setup")
    done = _post(clients, "compliance", f"/reviews/{made.id}/decide",
                 {"text": "Tighten the guard", "kind": "capa", "owner": "cto"})
    assert done.status_code == 303
    decisions = review.get_review(workspace.store, made.id).data.decisions
    assert decisions[0].kind == "capa" and decisions[0].ref
    bad = _post(clients, "compliance", f"/reviews/{made.id}/decide", {"text": "x", "kind": "vote"})
    assert bad.status_code == 400 and 'id="err-kind"' in bad.text


@pytest.mark.parametrize(
    ("path", "data", "allowed"),
    [
        ("/risks/adopt", {"system": "bot"}, {"admin", "compliance"}),
        ("/systems/bot/classify", {}, {"admin", "compliance"}),
        ("/audits/plan", {"title": "t", "auditor": "a"}, {"admin", "compliance", "auditor"}),
        ("/audits/sample", {"framework": "iso42001"}, {"admin", "compliance", "auditor"}),
    ],
)
def test_forms_refuse_roles_below_them_and_missing_csrf(
    clients: Clients, path: str, data: dict[str, object], allowed: set[str]
) -> None:
    for role in ("viewer", "engineer", "auditor", "compliance"):
        response = _post(clients, role, path, data)
        assert (response.status_code != 403) == (role in allowed), (role, path)  # type: ignore[attr-defined]
    client, _ = clients["admin"]
    forged = client.post(path, data=data, follow_redirects=False)  # no CSRF token
    assert forged.status_code == 403


def test_impact_assessment_started_answered_then_signed_off(
    clients: Clients, workspace: Workspace
) -> None:
    from assay.aims import impact

    started = _post(clients, "compliance", "/impact/new",
                    {"system": "bot", "title": "Credit FRIA", "fria": "yes"})
    assert started.status_code == 303
    assessment_id = started.headers["location"].split("/")[2]
    page = clients["compliance"][0].get(f"/impact/{assessment_id}/answers")
    assert page.status_code == 200 and 'name="q_context"' in page.text
    answers = {f"q_{q.id}": f"answer to {q.id}" for q in impact.QUESTIONS if q.required}
    bad = _post(clients, "compliance", f"/impact/{assessment_id}/answers",
                {**answers, "severity": "catastrophic"})
    assert bad.status_code == 400 and "answer to context" in bad.text  # typed values kept
    saved = _post(clients, "compliance", f"/impact/{assessment_id}/answers",
                  {**answers, "severity": "high", "likelihood": "low",
                   "affected_groups": "applicants\nguarantors\n"})
    assert saved.status_code == 303
    data = impact.get_assessment(workspace.store, assessment_id).data
    assert data.fria and data.severity == "high" and data.affected_groups == (
        "applicants", "guarantors")
    assert not impact.missing_answers(data)
    unknown = _post(clients, "compliance", "/impact/new", {"system": "nope", "title": "x"})
    assert unknown.status_code == 400 and "nope" in unknown.text


def test_policies_and_roles(clients: Clients, workspace: Workspace) -> None:
    from assay.aims import policy, roles

    viewer = clients["viewer"][0]
    assert "No AI policy yet" in viewer.get("/policies").text
    added = _post(clients, "compliance", "/policies/new",
                  {"title": "AI use policy", "owner": "ciso", "review_due": "2027-06-30",
                   "aligned_with": "iso42001:5.2"})
    assert added.status_code == 303
    (made,) = policy.list_policies(workspace.store)
    assert ">Approve</button>" in clients["compliance"][0].get("/policies").text
    assert ">Approve</button>" not in viewer.get("/policies").text  # readers get no button
    bad_date = _post(clients, "compliance", "/policies/new", {"title": "x", "review_due": "soon"})
    assert bad_date.status_code == 400 and 'id="err-review_due"' in bad_date.text
    # with four-eyes on for policies, the author cannot approve; another person can
    from assay.aims.settings import set_four_eyes

    set_four_eyes(workspace.store, workspace.ledger, "policy", True, actor="setup")
    same = _post(clients, "compliance", f"/policies/{made.id}/approve", {})
    assert same.status_code == 400 and "AI use policy" in same.text
    assert _post(clients, "admin", f"/policies/{made.id}/approve", {}).status_code == 303
    assert policy.get_policy(workspace.store, made.id).status == "approved"
    twice = _post(clients, "admin", f"/policies/{made.id}/approve", {})
    assert twice.status_code == 400 and "already approved" in twice.text
    role = _post(clients, "compliance", "/roles/new",
                 {"activity": "Red-team before release", "system": "bot",
                  "control": "iso42001:A.6.2.4", "responsible": "ml-lead, qa",
                  "accountable": "cto"})
    assert role.status_code == 303
    (line,) = roles.list_roles(workspace.store)
    assert line.data.responsible == ("ml-lead", "qa") and line.system == "bot"
    bad = _post(clients, "compliance", "/roles/new",
                {"activity": "x", "control": "iso42001:Z.9", "responsible": "a",
                 "accountable": "b"})
    assert bad.status_code == 400 and "Z.9" in bad.text
    assert "Red-team before release" in viewer.get("/roles").text


def test_objective_from_red_team_evidence(clients: Clients, workspace: Workspace) -> None:
    from assay.aims import objectives

    done = _post(clients, "compliance", "/objectives/new",
                 {"title": "Jailbreak success below 2%", "system": "bot", "target_op": "<",
                  "target": "2", "unit": "%", "evidence_type": "assay.dev/redteam-run/v1",
                  "families": ["jailbreak_roleplay", "jailbreak_dan"], "scale": "100"})
    assert done.status_code == 303
    (made,) = objectives.list_objectives(workspace.store)
    assert made.data.metric.families == ("jailbreak_roleplay", "jailbreak_dan")
    assert made.system == "bot" and made.data.metric.scale == 100
    bad = _post(clients, "compliance", "/objectives/new",
                {"title": "x", "target": "two", "target_op": "<"})
    assert bad.status_code == 400 and 'id="err-target"' in bad.text
    incomplete = _post(clients, "compliance", "/objectives/new",
                       {"title": "x", "target": "1", "target_op": "<",
                        "evidence_type": "assay.dev/redteam-run/v1"})
    assert incomplete.status_code == 400 and "numerator" in incomplete.text


def test_gaps_link_to_the_form_that_closes_them(clients: Clients) -> None:
    from assay.web.pages_registers import next_form

    assert next_form("classify bot under the EU AI Act (`assay systems classify bot …`)") == \
        "/systems/bot/classify"
    assert next_form("assay soa generate, then assay soa approve (a second person)") == "/soa"
    assert next_form("assay audits plan … then assay audits complete AUD-…") == "/audits/plan"
    assert next_form("assay scan --target <target> --system bot") is None  # no form for it
    page = clients["compliance"][0].get("/controls", params={"framework": "iso42001"}).text
    links = set(re.findall(r'<a href="([^"]+)" class="next-form">', page))
    assert "/soa" in links and any(link.startswith("/evidence/new?") for link in links)
    assert 'class="next-form"' not in clients["viewer"][0].get("/controls").text


def test_edit_a_system_record(clients: Clients, workspace: Workspace) -> None:
    page = clients["compliance"][0].get("/systems/bot/edit")
    assert page.status_code == 200 and 'value="Bot"' in page.text
    done = _post(clients, "compliance", "/systems/bot/edit",
                 {"name": "Support bot", "owner": "CX", "lifecycle_stage": "operation",
                  "version": "2.1", "org_roles": ["provider", "deployer"],
                  "surfaces": "web chat\nmobile app\n"})
    assert done.status_code == 303
    record = get_system(workspace.store, "bot")
    assert record.name == "Support bot" and record.profile.version == "2.1"
    assert record.profile.org_roles == ("provider", "deployer")
    assert record.profile.surfaces == ("web chat", "mobile app")
    bad = _post(clients, "compliance", "/systems/bot/edit",
                {"name": "", "owner": "CX", "lifecycle_stage": "operation"})
    assert bad.status_code == 400 and 'role="alert"' in bad.text
    assert get_system(workspace.store, "bot").name == "Support bot"  # nothing changed
    assert _post(clients, "viewer", "/systems/bot/edit", {"name": "x"}).status_code == 403


def test_audit_finding_to_a_closed_corrective_action(
    clients: Clients, workspace: Workspace
) -> None:
    from assay.aims import capa

    made = audit.plan_audit(workspace.store, workspace.ledger,
                            {"title": "Q4", "auditor": "internal-audit", "systems": ["bot"]},
                            actor="setup")
    finding = audit.add_finding(workspace.store, workspace.ledger, made.id,
                                grade="minor-nonconformity", description="no red-team record",
                                controls=(), actor="setup")
    page = clients["compliance"][0].get(f"/audits/{made.id}").text
    assert f'href="/audits/{made.id}/findings/{finding.id}/capa"' in page
    opened = _post(clients, "compliance", f"/audits/{made.id}/findings/{finding.id}/capa",
                   {"title": "Red-team every release"})
    assert opened.status_code == 303
    capa_id = opened.headers["location"].split("/")[2].split("?")[0]
    steps: list[dict[str, object]] = [
        {"step": "contain", "text": "scan run by hand"},
        {"step": "analyse", "text": "no CI job"},
        {"step": "action", "text": "add the CI job", "owner": "ml-lead"},
    ]
    for step in steps:
        assert _post(clients, "compliance", f"/capa/{capa_id}", step).status_code == 303
    action_id = capa.get_capa(workspace.store, capa_id).data.actions[0].id
    for step in ({"step": "done", "action_id": action_id},
                 {"step": "verify", "effective": "yes", "text": "ran twice"}, {"step": "close"}):
        assert _post(clients, "compliance", f"/capa/{capa_id}", step).status_code == 303
    assert capa.get_capa(workspace.store, capa_id).status == "closed"
    wrong = _post(clients, "compliance", f"/audits/{made.id}/findings/F-999/capa", {"title": "x"})
    assert wrong.status_code == 400 and "F-999" in wrong.text


def test_review_decided_then_held(clients: Clients, workspace: Workspace) -> None:
    made = review.prepare(workspace.store, workspace.ledger, title="Q4", actor="setup")
    assert f'href="/reviews/{made.id}/hold"' in clients["compliance"][0].get(
        f"/reviews/{made.id}").text
    assert _post(clients, "compliance", f"/reviews/{made.id}/decide",
                 {"text": "Keep the guard in blocking mode", "kind": "note"}).status_code == 303
    missing = _post(clients, "compliance", f"/reviews/{made.id}/hold", {"chair": "ceo"})
    assert missing.status_code == 400 and 'id="err-attendees"' in missing.text
    held = _post(clients, "compliance", f"/reviews/{made.id}/hold",
                 {"chair": "ceo", "attendees": "ciso, cto", "minutes": "Approved."})
    assert held.status_code == 303
    record = review.get_review(workspace.store, made.id)
    assert record.status == "held" and record.data.attendees == ("ciso", "cto")
    late = _post(clients, "compliance", f"/reviews/{made.id}/decide", {"text": "x"})
    assert late.status_code == 400 and "already held" in late.text

"""The registers in process: evidence with every change, four-eyes, validation, no deletion."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from assay.aims import _records as records
from assay.aims import (
    archive_system,
    as_code,
    audit,
    capa,
    classification,
    get_system,
    impact,
    list_systems,
    objectives,
    policy,
    registry,
    review,
    risk,
    roles,
    settings,
    soa,
    update_system,
)
from assay.errors import AssayError, Conflict
from assay.ledger import Evidence, Subject
from assay.store import LedgerEntry
from assay.workspace import Workspace


def _types(ws: Workspace) -> list[str]:
    with ws.store.session() as session:
        return list(session.scalars(select(LedgerEntry.type).order_by(LedgerEntry.seq)))


def _summaries(ws: Workspace) -> list[dict[str, Any]]:
    return [e.decoded()["summary"] for e in ws.ledger.iter_entries()]


def test_system_profile_update_classify_archive(ws: Workspace) -> None:
    s, lg = ws.store, ws.ledger
    update_system(
        s,
        lg,
        "bot",
        {"org_role": "provider", "suppliers": ["OpenAI"], "lifecycle_stage": "operation"},
        actor="alice",
    )
    assert get_system(s, "bot").profile.org_roles == ("provider",)  # the one-role spelling of old
    with pytest.raises(AssayError, match=r"field 'org_roles.0'.*'provider', 'deployer'"):
        update_system(s, lg, "bot", {"org_roles": ["reseller"]}, actor="alice")
    update_system(s, lg, "bot", {"org_roles": ["provider", "deployer"]}, actor="alice")
    assert get_system(s, "bot").profile.org_roles == ("provider", "deployer")
    with pytest.raises(AssayError, match=r"unknown field.*colour"):
        update_system(s, lg, "bot", {"colour": "red"}, actor="alice")
    classification.classify_system(s, lg, "bot", {"annex_iii": ["employment"]}, actor="alice")
    assert get_system(s, "bot").ai_act_class == "high-risk"
    assert get_system(s, "bot").profile.suppliers == ("OpenAI",)
    archive_system(s, lg, "bot", actor="alice")
    assert list_systems(s) == [] and len(list_systems(s, include_archived=True)) == 1
    actions = [x["action"] for x in _summaries(ws)]
    assert actions == ["create", "update", "update", "classify", "archive"]
    assert lg.verify().ok


def test_record_and_evidence_commit_together(ws: Workspace) -> None:
    risk.add_risk(
        ws.store,
        ws.ledger,
        system="bot",
        actor="a",
        risk_id="R-001",
        fields={"title": "x", "likelihood": 1, "impact": 1},
    )
    size = ws.ledger.size()
    with pytest.raises(AssayError, match="already exists"):
        risk.add_risk(
            ws.store,
            ws.ledger,
            system="bot",
            actor="a",
            risk_id="R-001",
            fields={"title": "y", "likelihood": 1, "impact": 1},
        )
    with pytest.raises(AssayError, match="no AI system 'ghost'"):
        risk.add_risk(
            ws.store,
            ws.ledger,
            system="ghost",
            actor="a",
            fields={"title": "y", "likelihood": 1, "impact": 1},
        )
    assert ws.ledger.size() == size


def test_risk_validation_names_record_field_and_allowed_values(ws: Workspace) -> None:
    with pytest.raises(AssayError, match=r"risk R-001: field 'impact'.*5 \(severe\)"):
        risk.add_risk(
            ws.store,
            ws.ledger,
            system="bot",
            actor="a",
            fields={"title": "x", "likelihood": 1, "impact": 9},
        )
    with pytest.raises(AssayError, match=r"field 'controls'.*A.6.6"):
        risk.add_risk(
            ws.store,
            ws.ledger,
            system="bot",
            actor="a",
            fields={"title": "x", "likelihood": 1, "impact": 1, "controls": ["iso42001:A.6.6"]},
        )
    made = risk.adopt_templates(
        ws.store, ws.ledger, system="bot", actor="a", template_ids=["prompt-injection"]
    )
    with pytest.raises(AssayError, match="allowed values: mitigate, avoid"):
        risk.treat_risk(ws.store, ws.ledger, made[0].id, treatment="ignore", actor="a")
    with pytest.raises(AssayError, match="unknown risk template"):
        risk.adopt_templates(ws.store, ws.ledger, system="bot", actor="a", template_ids=["x"])


def test_risk_acceptance_four_eyes_and_withdrawal(ws: Workspace) -> None:
    s, lg = ws.store, ws.ledger
    (r,) = risk.adopt_templates(s, lg, system="bot", actor="alice", template_ids=["drift"])
    with pytest.raises(AssayError, match="treat it"):
        risk.accept_risk(s, lg, r.id, actor="bob")
    risk.treat_risk(
        s, lg, r.id, treatment="mitigate", residual_likelihood=1, residual_impact=2, actor="alice"
    )
    with pytest.raises(AssayError, match="four-eyes"):
        risk.accept_risk(s, lg, r.id, actor="alice")
    accepted = risk.accept_risk(s, lg, r.id, actor="bob", note="ok")
    assert accepted.status == "accepted" and accepted.data.acceptance is not None
    assert _types(ws)[-1] == "assay.dev/risk-assessment/v1"
    changed = risk.update_risk(s, lg, r.id, {"owner": "carol"}, actor="carol")
    assert changed.status == "treated" and changed.data.acceptance is None
    settings.set_four_eyes(s, lg, "risk", False, actor="admin")
    assert risk.accept_risk(s, lg, r.id, actor="carol").status == "accepted"


def test_scale_change_refused_while_risks_exceed_it(ws: Workspace) -> None:
    risk.add_risk(
        ws.store,
        ws.ledger,
        system="bot",
        actor="a",
        fields={"title": "x", "likelihood": 4, "impact": 1},
    )
    small = risk.RiskScale(
        likelihood=("low", "high"), impact=("low", "high"), bands=((2, "low"), (4, "high"))
    )
    with pytest.raises(AssayError, match="field 'likelihood' is 4"):
        risk.set_scale(ws.store, ws.ledger, small, actor="a")


def test_soa_generate_edit_approve_diff(ws: Workspace) -> None:
    s, lg = ws.store, ws.ledger
    assert soa.current(s) is None
    risk.adopt_templates(s, lg, system="bot", actor="alice", template_ids=["supplier-failure"])
    risk.treat_risk(s, lg, "R-001", treatment="transfer", actor="alice")
    first = soa.generate(s, lg, actor="alice")
    assert first.entry("A.10.3").risks == ("R-001",)
    assert soa.generate(s, lg, actor="alice").version == first.version  # nothing changed
    with pytest.raises(AssayError, match="needs a --justification"):
        soa.edit(s, lg, "A.10.3", applicable=False, actor="alice")
    with pytest.raises(AssayError, match="allowed values: not-applicable, planned"):
        soa.edit(s, lg, "A.10.3", implementation_status="done", actor="alice")
    soa.edit(s, lg, "A.10.3", implementation_status="implemented", actor="alice")
    with pytest.raises(AssayError, match="four-eyes"):
        soa.approve(s, lg, actor="alice")
    approved = soa.approve(s, lg, actor="bob")
    assert approved.approved and approved.approved_by == "bob"
    assert _types(ws)[-1] == "assay.dev/soa/v1"
    changes = soa.diff_versions(s, first.version, approved.version)
    assert [(c.control, c.field) for c in changes] == [("iso42001:A.10.3", "implementation_status")]
    soa.edit(s, lg, "A.4.3", applicable=True, justification="data inventory", actor="bob")
    assert soa.current(s, approved_only=True) == approved
    assert soa.current(s) is not None and not soa.current(s).approved  # type: ignore[union-attr]


def test_delete_is_refused_and_archive_keeps_history(ws: Workspace) -> None:
    made = roles.add_role(
        ws.store,
        ws.ledger,
        {"activity": "Accept risks", "accountable": "ciso", "responsible": ["risk-team"]},
        actor="a",
    )
    with pytest.raises(Conflict, match=r"referenced by 1 ledger entry") as refused:
        registry.delete_record(ws.store, ws.ledger, "role", made.id)
    assert refused.value.hint == f"archive it instead with `assay aims archive role {made.id}`"
    records.archive(ws.store, ws.ledger, roles.SPEC, made.id, actor="a")
    assert roles.list_roles(ws.store) == []
    assert [v.action for v in records.history(ws.store, roles.SPEC, made.id)] == [
        "create",
        "archive",
    ]
    with pytest.raises(AssayError, match="archived"):
        roles.update_role(ws.store, ws.ledger, made.id, {"accountable": "cto"}, actor="a")
    with pytest.raises(AssayError, match="registers: ai-system"):
        registry.delete_record(ws.store, ws.ledger, "nope", "x")


def test_policy_revisions_and_approval(ws: Workspace) -> None:
    s, lg = ws.store, ws.ledger
    p = policy.add_policy(s, lg, {"title": "AI policy", "review_due": "2020-01-01"}, actor="a")
    assert policy.approve_policy(s, lg, p.id, actor="a").data.approved_by == "a"  # four-eyes off
    updated = policy.update_policy(s, lg, p.id, {"body": "v2"}, actor="a")
    assert updated.status == "draft" and updated.data.revision == 2
    assert updated.data.approved_by is None
    assert [x.id for x in policy.due_for_review(s, updated.updated_at.date())] == [p.id]
    settings.set_four_eyes(s, lg, "policy", True, actor="admin")
    with pytest.raises(AssayError, match="four-eyes"):
        policy.approve_policy(s, lg, p.id, actor="a")


def test_impact_assessment_sign_off_needs_answers(ws: Workspace) -> None:
    s, lg = ws.store, ws.ledger
    ia = impact.add_assessment(s, lg, system="bot", fields={"title": "IA"}, actor="a")
    with pytest.raises(AssayError, match="missing: context, decisions"):
        impact.sign_off(s, lg, ia.id, actor="b")
    with pytest.raises(AssayError, match=r"unknown question.*allowed values: context"):
        impact.answer(s, lg, ia.id, "weather", "sunny", actor="a")
    for q in impact.QUESTIONS:
        impact.answer(s, lg, ia.id, q.id, f"answer to {q.id}", actor="a")
    impact.update_assessment(
        s,
        lg,
        ia.id,
        {"affected_groups": ["customers"], "severity": "low", "likelihood": "medium"},
        actor="a",
    )
    signed = impact.sign_off(s, lg, ia.id, actor="b")
    assert signed.status == "signed-off" and _types(ws)[-1] == "assay.dev/impact-assessment/v1"
    text = impact.export(signed, "md")
    assert "Signed off by b" in text and "answer to redress" in text


def test_audit_independence_findings_and_capa_closure(ws: Workspace) -> None:
    s, lg = ws.store, ws.ledger
    with pytest.raises(AssayError, match=r"not independent.*owns bot"):
        audit.plan_audit(s, lg, {"title": "A", "auditor": "cx", "systems": ["bot"]}, actor="a")
    conflicted = audit.plan_audit(
        s,
        lg,
        {"title": "A", "auditor": "cx", "systems": ["bot"]},
        actor="a",
        independence_statement="peer review of the report",
    )
    assert not conflicted.data.independence.independent
    a = audit.plan_audit(s, lg, {"title": "B", "auditor": "ia", "systems": ["bot"]}, actor="a")
    with pytest.raises(AssayError, match=r"field 'grade'.*'major-nonconformity'"):
        audit.add_finding(s, lg, a.id, grade="bad", description="x", actor="ia")
    f = audit.add_finding(s, lg, a.id, grade="major-nonconformity", description="x", actor="ia")
    done = audit.complete_audit(s, lg, a.id, conclusion="c", actor="ia")
    assert done.status == "completed"
    last = list(ws.ledger.iter_entries())[-1].decoded()
    assert last["type"] == "assay.dev/internal-audit/v1"
    assert last["summary"]["findings"]["major-nonconformity"] == 1
    c = capa.open_capa(s, lg, title="fix", source="finding", source_ref=f.id, actor="a")
    assert records.get(s, audit.FINDING_SPEC, f.id).data.capa == c.id
    with pytest.raises(AssayError, match="cannot close; missing: root cause"):
        capa.close(s, lg, c.id, actor="a")
    capa.analyse(s, lg, c.id, "cause", actor="a")
    capa.add_action(s, lg, c.id, description="do", owner="o", actor="a")
    with pytest.raises(AssayError, match="complete every action"):
        capa.check_effectiveness(s, lg, c.id, effective=True, actor="a")
    capa.complete_action(s, lg, c.id, "A1", actor="o")
    capa.check_effectiveness(s, lg, c.id, effective=False, actor="a")
    with pytest.raises(AssayError, match="effective effectiveness check"):
        capa.close(s, lg, c.id, actor="a")
    capa.check_effectiveness(s, lg, c.id, effective=True, actor="a")
    assert capa.close(s, lg, c.id, actor="a").status == "closed"
    assert records.get(s, audit.FINDING_SPEC, f.id).status == "closed"


def test_objectives_refresh_from_evidence_once(ws: Workspace) -> None:
    s, lg = ws.store, ws.ledger
    o = objectives.add_objective(
        s,
        lg,
        {
            "title": "p99",
            "target_op": "<=",
            "target": 50,
            "metric": {
                "source": "evidence",
                "evidence_type": "assay.dev/guard-decision/v1",
                "numerator": "p99_ms",
            },
        },
        actor="a",
        system="bot",
    )
    assert o.status == "no-data"
    lg.append(
        [
            Evidence("assay.dev/guard-decision/v1", "gw", {"p99_ms": 70}, Subject("bot")),
            Evidence("assay.dev/guard-decision/v1", "gw", {"p99_ms": 40}, Subject("other")),
            Evidence("assay.dev/guard-decision/v1", "gw", {"p99_ms": 30}, Subject("bot")),
        ]
    )
    (updated,) = objectives.refresh(s, lg, actor="a")
    assert [m.value for m in updated.data.measurements] == [70.0, 30.0]
    assert updated.status == "on-track"
    assert objectives.refresh(s, lg, actor="a") == []
    with pytest.raises(Conflict, match="not measured by hand") as refused:
        objectives.record_measurement(s, lg, o.id, 1.0, actor="a")
    assert refused.value.hint == "run `assay objectives refresh` instead"


def test_review_pack_decisions_and_hold(ws: Workspace) -> None:
    s, lg = ws.store, ws.ledger
    risk.adopt_templates(s, lg, system="bot", actor="a", template_ids=["bias"])
    lg.append([Evidence("assay.dev/drift-alert/v1", "drift", {"psi": 0.3}, Subject("bot"))])
    r = review.prepare(s, lg, title="Q1", actor="a")
    pack = r.data.pack
    assert pack["d_monitoring"]["evidence"]["assay.dev/drift-alert/v1"] == 1
    assert pack["risks"]["untreated"] == ["R-001"]  # supporting information, not item e)
    assert list(pack)[1:6] == [  # clause 9.3.2 a) to d), by its own items
        "a_previous_actions",
        "b_issues",
        "c_interested_parties",
        "d_nonconformities",
        "d_monitoring",
    ]
    assert "aims_changes" not in pack["b_issues"]  # register counts are not external issues
    assert pack["readiness"]["iso42001"]["with_evidence"] > 0
    review.decide(s, lg, r.id, text="Fix bias", kind="capa", actor="a")
    decided = review.decide(
        s,
        lg,
        r.id,
        text="Fairness gap below 5",
        kind="objective",
        objective={"target_op": "<", "target": 5},
        actor="a",
    )
    refs = [d.ref for d in decided.data.decisions]
    assert refs == ["CAPA-001", "OBJ-001"]
    held = review.hold(s, lg, r.id, chair="ceo", attendees=("ciso",), actor="a")
    assert held.status == "held" and _types(ws)[-1] == "assay.dev/management-review/v1"
    with pytest.raises(AssayError, match="already held"):
        review.decide(s, lg, r.id, text="late", actor="a")
    second = review.prepare(s, lg, title="Q2", actor="a")
    previous = second.data.pack["a_previous_actions"]
    assert [(p["ref"], p["status"]) for p in previous] == [
        ("CAPA-001", "open"),
        ("OBJ-001", "no-data"),
    ]
    assert "a) Status of actions" in review.render_pack(second)


def test_as_code_round_trip_is_idempotent(ws: Workspace) -> None:
    s, lg = ws.store, ws.ledger
    risk.adopt_templates(s, lg, system="bot", actor="a", template_ids=["hallucination"])
    soa.generate(s, lg, actor="a")
    soa.edit(s, lg, "A.4.3", applicable=True, justification="data", actor="a")
    exported = as_code.export(s)
    assert as_code.plan(exported, exported) == []
    desired = {
        **exported,
        "risks": [{**exported["risks"][0], "owner": "ml-lead"}],
        "policies": [{"id": "POL-001", "title": "AI policy"}],
        "systems": [{**exported["systems"][0], "ai_act": {"transparency": ["synthetic-content"]}}],
        "settings": {"four-eyes.policy": True},
    }
    changes = as_code.plan(exported, desired)
    assert {(c.section, c.id, c.action) for c in changes} == {
        ("risks", "R-001", "update"),
        ("policies", "POL-001", "create"),
        ("systems", "bot", "update"),
        ("settings", "four-eyes.policy", "update"),
    }
    assert "owner: '' -> 'ml-lead'" in as_code.render_changes(changes)
    size = lg.size()
    as_code.apply(s, lg, desired, actor="a")
    assert lg.size() > size
    assert as_code.plan(as_code.export(s), desired) == []
    assert get_system(s, "bot").ai_act_class == "transparency"
    with pytest.raises(AssayError, match="workflow state"):
        as_code.plan(
            exported, {**exported, "risks": [{**exported["risks"][0], "acceptance": {"by": "me"}}]}
        )

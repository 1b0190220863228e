"""Readiness statuses on a real workspace: SoA, freshness, proofs, crosswalk, AI Act scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text, update

from assay.aims import audit, classification, update_system
from assay.aims.readiness import readiness
from assay.ledger.merkle import hash_leaf
from assay.store import LedgerEntry
from assay.workspace import Workspace

from .conftest import Append

REDTEAM = "assay.dev/redteam-run/v1"


def _iso(ws: Workspace, system: str | None = "bot"):  # type: ignore[no-untyped-def]
    return readiness(ws.store, ws.ledger, "iso42001", system=system)


def test_controls_excluded_by_the_soa_are_not_applicable(ws: Workspace) -> None:
    result = _iso(ws)
    item = result.item("A.10.3")
    assert item.status == "not_applicable"
    assert "no treated risk relies on it, and no supplier is recorded" in item.reason
    assert item.next_action is None
    assert result.soa_status == "approved"
    # Baseline controls and clauses stay applicable.
    assert result.item("A.2.2").status != "not_applicable"
    assert result.item("6.1.3").status != "not_applicable"


def test_fresh_red_team_evidence_meets_the_control(ws: Workspace, append: Append) -> None:
    seq = append(REDTEAM, days_ago=2)
    item = _iso(ws).item("A.6.2.4")
    assert item.status == "met", item.reason
    assert item.next_action is None
    (cited,) = [c for c in item.evidence if c.seq == seq]
    assert cited.verified and cited.fresh and cited.relation is None
    assert cited.linked_by == "type" and cited.freshness_days == 30
    assert cited.leaf_hash == hash_leaf(ws.ledger.get(seq).entry).hex()


def test_old_evidence_is_stale_with_a_concrete_action(ws: Workspace, append: Append) -> None:
    append(REDTEAM, days_ago=41)
    item = _iso(ws).item("A.6.2.4")
    assert item.status == "stale"
    assert item.next_action is not None
    assert "assay scan --target" in item.next_action and "--system bot" in item.next_action
    assert "41 days old; fresh for 30 days" in item.next_action


def test_fresh_evidence_beats_an_older_stale_entry(ws: Workspace, append: Append) -> None:
    append(REDTEAM, days_ago=60)
    append(REDTEAM, days_ago=1)
    assert _iso(ws).item("A.6.2.4").status == "met"


def test_nothing_is_a_gap(ws: Workspace) -> None:
    item = _iso(ws).item("A.6.2.4")
    assert item.status == "gap"
    assert item.evidence == ()
    assert item.next_action is not None and "assay scan" in item.next_action
    assert "no evidence yet" in item.next_action


def test_soa_planned_caps_fresh_evidence_at_partial(ws: Workspace, append: Append) -> None:
    append("assay.dev/guard-decision/v1")
    item = _iso(ws).item("A.6.2.6")
    assert item.soa_status == "planned"
    assert item.status == "partial"
    assert "SoA says planned" in item.reason
    assert item.next_action is not None and "assay soa edit A.6.2.6" in item.next_action


def test_evidence_about_another_system_does_not_count(ws: Workspace, append: Append) -> None:
    append(REDTEAM, system="other-bot")
    assert _iso(ws).item("A.6.2.4").status == "gap"
    assert _iso(ws, system=None).item("A.6.2.4").status == "met"  # organisation view


def test_controls_list_counts_with_attestation_window(ws: Workspace, append: Append) -> None:
    append("assay.dev/note/v1", controls=("iso42001:4.1",), days_ago=10)
    item = _iso(ws).item("4.1")
    assert item.status == "met"
    assert item.evidence[0].linked_by == "controls"
    assert item.evidence[0].freshness_days == 365
    append("assay.dev/note/v1", controls=("iso42001:4.2",), days_ago=400)
    assert _iso(ws).item("4.2").status == "stale"


def test_tampered_entry_does_not_count(ws: Workspace, append: Append) -> None:
    seq = append(REDTEAM)
    ws.ledger.checkpoint()
    forged = ws.ledger.get(seq).entry.replace(b'"succeeded":0', b'"succeeded":9')
    with ws.store.session() as session:  # an attacker with owner rights drops the guard rail
        session.execute(text("DROP TRIGGER ledger_entries_no_update"))
        session.execute(update(LedgerEntry).where(LedgerEntry.seq == seq).values(entry=forged))
    item = _iso(ws).item("A.6.2.4")
    assert item.status == "gap"
    assert not item.evidence[0].verified
    assert item.next_action is not None and "assay ledger verify" in item.next_action


def test_crosswalk_credit_shows_its_relation(ws: Workspace, append: Append) -> None:
    append(REDTEAM)
    result = readiness(ws.store, ws.ledger, "nist-ai-rmf", system="bot")
    direct = result.item("MEASURE-2.7")
    assert direct.status == "met" and direct.evidence[0].relation is None
    related = result.item("MEASURE-2.3")  # crosswalk: intersects iso42001 A.6.2.4
    assert related.status == "partial"
    via = [c for c in related.evidence if c.relation is not None]
    assert via and via[0].supports == "iso42001:A.6.2.4" and via[0].relation == "intersects"
    assert "via iso42001:A.6.2.4 (intersects)" in related.reason


def test_open_nonconformity_caps_a_met_control(ws: Workspace, append: Append) -> None:
    append(REDTEAM)
    planned = audit.plan_audit(
        ws.store, ws.ledger, {"title": "Q1", "auditor": "ia", "systems": ["bot"]}, actor="a"
    )
    finding = audit.add_finding(
        ws.store,
        ws.ledger,
        planned.id,
        grade="major-nonconformity",
        description="tests skipped",
        controls=("iso42001:A.6.2.4",),
        actor="ia",
    )
    item = _iso(ws).item("A.6.2.4")
    assert item.status == "partial"
    assert item.open_findings == (finding.id,)
    assert item.next_action is not None and finding.id in item.next_action


def _eu(ws: Workspace):  # type: ignore[no-untyped-def]
    return readiness(ws.store, ws.ledger, "eu-ai-act", system="bot")


def test_unclassified_system_asks_for_classification(ws: Workspace) -> None:
    item = _eu(ws).item("Art.26(1)")
    assert item.applicable and "unclassified: bot" in item.reason
    assert item.next_action is not None and "assay systems classify bot" in item.next_action


def test_minimal_risk_system_has_no_high_risk_obligations(ws: Workspace) -> None:
    classification.classify_system(ws.store, ws.ledger, "bot", {}, actor="alice")
    result = _eu(ws)
    for ref in ("Art.9(1)", "Art.15(5)", "Art.26(1)", "Art.50(1)", "Art.5(1)(a)"):
        assert result.item(ref).status == "not_applicable", ref
    assert "minimal" in result.item("Art.26(1)").reason
    assert result.item("Art.4").applicable  # AI literacy binds every class


def test_high_risk_deployer_gets_deployer_duties_only(ws: Workspace, append: Append) -> None:
    update_system(ws.store, ws.ledger, "bot", {"org_roles": ["deployer"]}, actor="alice")
    classification.classify_system(
        ws.store, ws.ledger, "bot", {"annex_iii": ["employment"]}, actor="alice"
    )
    append("assay.dev/guard-decision/v1")
    result = _eu(ws)
    assert result.item("Art.26(1)").status == "met"  # deployer duty, evidenced
    assert result.item("Art.9(1)").status == "not_applicable"  # provider duty
    assert "role:provider [no]" in " ".join(result.item("Art.9(1)").condition_trace)
    update_system(ws.store, ws.ledger, "bot", {"org_roles": ["provider"]}, actor="alice")
    result = _eu(ws)
    assert result.item("Art.9(1)").applicable
    assert result.item("Art.26(1)").status == "not_applicable"


def test_no_role_is_never_a_silent_deployer(ws: Workspace) -> None:
    """Regression: a system without roles used to be read as a deployer only."""
    classification.classify_system(
        ws.store, ws.ledger, "bot", {"annex_iii": ["employment"]}, actor="alice"
    )
    result = _eu(ws)
    provider_duty = result.item("Art.9(1)")
    assert provider_duty.applicable and "roles not recorded" in provider_duty.reason
    assert provider_duty.next_action is not None
    assert "--org-role" in provider_duty.next_action


def test_time_is_an_input(ws: Workspace, append: Append) -> None:
    append(REDTEAM)
    later = datetime.now(UTC) + timedelta(days=31)
    item = readiness(ws.store, ws.ledger, "iso42001", system="bot", now=later).item("A.6.2.4")
    assert item.status == "stale"

"""Regressions from issue #20: "met" only from passing evidence about the right thing.

Each test is a case an auditor found: on the code before the fix every one of
them reported ``met`` (or a note cleared a prohibited practice).
"""

from __future__ import annotations

from typing import Any

from assay.accounts import add_user, create_token
from assay.aims import classification, update_system
from assay.aims.readiness import readiness, readiness_percent
from assay.workspace import Workspace

from .conftest import PASSING_RUN, Append

REDTEAM = "assay.dev/redteam-run/v1"
GUARD = "assay.dev/guard-decision/v1"

FAILING_RUN: dict[str, Any] = {
    "status": "complete",
    "attempts": 43,
    "succeeded": 18,
    "asr": 0.419,
    "families": {
        "prompt_injection": {"asr": 0.6, "n": 20},
        "jailbreak_dan": {"asr": 0.26, "n": 23},
    },
}
TOXICITY_ONLY: dict[str, Any] = {
    "status": "complete",
    "attempts": 20,
    "succeeded": 0,
    "families": {"toxicity": {"asr": 0.0, "n": 20}},
}


def _credit_provider(ws: Workspace) -> None:
    """``bot`` becomes a credit-scoring model its organisation built (provider, 5(b), profiling)."""
    update_system(ws.store, ws.ledger, "bot", {"org_roles": ["provider"]}, actor="alice")
    classification.classify_system(
        ws.store,
        ws.ledger,
        "bot",
        {"annex_iii": ["credit-scoring"], "profiling": True},
        actor="alice",
    )


def test_a_failing_red_team_run_is_failing_not_met(ws: Workspace, append: Append) -> None:
    seq = append(REDTEAM, summary=FAILING_RUN)
    iso = readiness(ws.store, ws.ledger, "iso42001", system="bot")
    item = iso.item("A.6.2.4")
    assert item.status == "failing"
    assert f"entry {seq} failed" in item.reason and "prompt_injection 60.0%" in item.reason
    assert item.evidence[0].outcome == "failed" and item.evidence[0].credit == "none"
    assert item.next_action is not None and f"entry {seq}" in item.next_action
    assert item in iso.open_items
    fca = readiness(ws.store, ws.ledger, "fca", system="bot")
    assert fca.item("PRIN-2A.2").status == "failing"


def test_failing_counts_nothing_in_the_percentage() -> None:
    assert readiness_percent(["met", "failing"]) == 50.0
    assert readiness_percent(["prohibited", "met"]) == 50.0


def test_a_newer_passing_run_clears_failing(ws: Workspace, append: Append) -> None:
    append(REDTEAM, summary=FAILING_RUN, days_ago=3)
    append(REDTEAM, summary=PASSING_RUN, days_ago=1)
    item = readiness(ws.store, ws.ledger, "iso42001", system="bot").item("A.6.2.4")
    assert item.status == "met", item.reason


def test_a_toxicity_scan_does_not_prove_robustness(ws: Workspace, append: Append) -> None:
    _credit_provider(ws)
    seq = append(REDTEAM, summary=TOXICITY_ONLY)
    eu = readiness(ws.store, ws.ledger, "eu-ai-act", system="bot")
    for ref in ("Art.15(5)", "Art.9(6)"):
        item = eu.item(ref)
        assert item.status == "gap", (ref, item.reason)
        (cited,) = [c for c in item.evidence if c.seq == seq]
        assert cited.rejected is not None and "toxicity" in cited.rejected
    # An attack family that tests resilience does count.
    append(REDTEAM, summary=PASSING_RUN)
    assert readiness(ws.store, ws.ledger, "eu-ai-act", system="bot").item("Art.15(5)").status == (
        "met"
    )


def test_guard_decisions_are_operation_not_test_evidence(ws: Workspace, append: Append) -> None:
    _credit_provider(ws)
    append(GUARD, controls=("eu-ai-act:Art.15(5)",), summary={"action": "block"})
    item = readiness(ws.store, ws.ledger, "eu-ai-act", system="bot").item("Art.15(5)")
    assert item.status == "gap"
    assert item.evidence and "operation evidence" in str(item.evidence[0].rejected)


def test_organisation_wide_test_evidence_is_not_about_the_system(
    ws: Workspace, append: Append
) -> None:
    append(REDTEAM, system=None)
    item = readiness(ws.store, ws.ledger, "iso42001", system="bot").item("A.6.2.4")
    assert item.status == "gap"
    assert "must name the system" in str(item.evidence[0].rejected)


def test_a_classification_is_not_a_quality_management_system(ws: Workspace) -> None:
    _credit_provider(ws)  # writes an update and a classify entry about bot
    eu = readiness(ws.store, ws.ledger, "eu-ai-act", system="bot")
    assert eu.item("Art.17(1)").status == "gap"
    assert eu.item("Art.18(1)").status == "gap"


def test_user_and_token_changes_do_not_meet_planning_or_documentation(ws: Workspace) -> None:
    add_user(
        ws.store,
        ws.ledger,
        username="carol",
        password="a-long-password",
        role="viewer",
        actor="admin",
    )
    create_token(
        ws.store, ws.ledger, username="carol", name="ci", scope="read", days=30, actor="admin"
    )
    access = {
        e.seq
        for e in ws.ledger.iter_entries()
        if e.decoded()["summary"].get("register") == "access"
    }
    assert len(access) == 2
    iso = readiness(ws.store, ws.ledger, "iso42001", system=None)
    for ref in ("6.3", "7.5.2", "7.5.3"):
        item = iso.item(ref)
        assert all(c.credit == "none" for c in item.evidence if c.seq in access), ref
        if ref != "6.3":  # 7.5.x list the access entry as turned away, with the reason
            (newest,) = [c for c in item.evidence if c.seq == max(access)]
            assert "access register does not document" in str(newest.rejected)


def test_a_prohibited_practice_is_a_blocker_no_note_clears(ws: Workspace, append: Append) -> None:
    update_system(ws.store, ws.ledger, "bot", {"org_roles": ["deployer"]}, actor="alice")
    classification.classify_system(
        ws.store, ws.ledger, "bot", {"prohibited": ["social-scoring"]}, actor="alice"
    )
    append("assay.dev/note/v1", controls=("eu-ai-act:Art.5(1)(c)",), summary={"ok": True})
    eu = readiness(ws.store, ws.ledger, "eu-ai-act", system="bot")
    item = eu.item("Art.5(1)(c)")
    assert item.status == "prohibited"
    assert eu.items[0] is item and eu.open_items[0] is item  # listed first
    assert eu.as_json()["blockers"] == ["eu-ai-act:Art.5(1)(c)"]
    assert item.next_action is not None and "reclassify" in item.next_action
    assert eu.item("Art.5(1)(a)").status == "not_applicable"
    # Retiring the system lifts the blocker (it is no longer used).
    update_system(ws.store, ws.ledger, "bot", {"lifecycle_stage": "retirement"}, actor="alice")
    retired = readiness(ws.store, ws.ledger, "eu-ai-act", system="bot")
    assert retired.item("Art.5(1)(c)").status == "not_applicable"


def test_reclassifying_lifts_the_blocker(ws: Workspace) -> None:
    update_system(ws.store, ws.ledger, "bot", {"org_roles": ["deployer"]}, actor="alice")
    classification.classify_system(
        ws.store, ws.ledger, "bot", {"prohibited": ["social-scoring"]}, actor="alice"
    )
    classification.classify_system(ws.store, ws.ledger, "bot", {}, actor="alice")
    eu = readiness(ws.store, ws.ledger, "eu-ai-act", system="bot")
    assert eu.item("Art.5(1)(c)").status == "not_applicable"
    assert eu.counts["prohibited"] == 0


def _eu_for(ws: Workspace, roles: list[str], **answers: Any):  # type: ignore[no-untyped-def]
    update_system(ws.store, ws.ledger, "bot", {"org_roles": roles}, actor="alice")
    classification.classify_system(ws.store, ws.ledger, "bot", answers, actor="alice")
    return readiness(ws.store, ws.ledger, "eu-ai-act", system="bot")


def test_the_art_6_3_claim_makes_its_duties_apply(ws: Workspace) -> None:
    """Regression: the claim used to mark 6(3), 6(4) and 49(2) not applicable."""
    eu = _eu_for(ws, ["provider"], annex_iii=["employment"], exceptions=["preparatory"])
    for ref in ("Art.6(3)", "Art.6(4)", "Art.49(2)"):
        assert eu.item(ref).applicable, ref
    assert eu.item("Art.9(1)").status == "not_applicable"


def test_profiling_voids_the_claim(ws: Workspace) -> None:
    """Regression: a profiling credit-scoring provider got 6(3), 6(4) and 49(2) as gaps."""
    eu = _eu_for(ws, ["provider"], annex_iii=["credit-scoring"], profiling=True)
    for ref in ("Art.6(3)", "Art.6(4)", "Art.49(2)", "Art.14(5)", "Art.43(1)"):
        assert eu.item(ref).status == "not_applicable", ref
    assert eu.item("Art.9(1)").applicable and eu.item("Art.43(2)").applicable


def test_a_private_credit_deployer_has_no_public_or_workplace_duties(ws: Workspace) -> None:
    eu = _eu_for(ws, ["deployer"], annex_iii=["credit-scoring"], profiling=True)
    for ref in ("Art.49(3)", "Art.26(7)"):
        assert eu.item(ref).status == "not_applicable", ref
    assert eu.item("Art.27(1)").applicable  # 5(b) deployers assess fundamental rights


def test_a_chatbot_deployer_gets_no_emotion_or_deep_fake_duties(ws: Workspace) -> None:
    eu = _eu_for(ws, ["deployer"], transparency=["interacts-with-people"])
    for ref in ("Art.50(1)", "Art.50(3)", "Art.50(4)", "Art.50(2)"):
        assert eu.item(ref).status == "not_applicable", ref
    both = _eu_for(ws, ["provider", "deployer"], transparency=["interacts-with-people"])
    assert both.item("Art.50(1)").applicable  # the bank's own chatbot: provider duty applies


def test_an_importer_has_importer_duties(ws: Workspace) -> None:
    """Regression: an importer of a high-risk system used to get 'nothing applies'."""
    eu = _eu_for(ws, ["importer"], annex_iii=["credit-scoring"], profiling=True)
    assert eu.item("Art.23(1)").applicable and eu.item("Art.25(1)").applicable
    assert eu.percent is not None


def test_a_test_of_another_version_does_not_prove_the_one_in_service(
    ws: Workspace, append: Append
) -> None:
    from assay.ledger import Evidence, Subject

    update_system(ws.store, ws.ledger, "bot", {"version": "2.0"}, actor="alice")
    ws.ledger.append([Evidence(REDTEAM, "ci", PASSING_RUN, Subject("bot", "1.0"))])  # old release
    item = readiness(ws.store, ws.ledger, "iso42001", system="bot").item("A.6.2.4")
    assert item.status == "gap"
    assert "tested version 1.0; the system in service is version 2.0" in str(
        item.evidence[0].rejected
    )
    ws.ledger.append([Evidence(REDTEAM, "ci", PASSING_RUN, Subject("bot", "2.0"))])
    assert readiness(ws.store, ws.ledger, "iso42001", system="bot").item("A.6.2.4").status == "met"

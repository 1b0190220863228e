"""Pure logic: AI Act classification, risk rating, SoA build and diff, objective evaluation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assay.aims.classification import Answers, classify
from assay.aims.objectives import Measurement, Metric, Objective, evaluate, value_from_summary
from assay.aims.risk import Risk, RiskScale, rating
from assay.aims.soa import BASELINE, annex_a_controls, build, diff
from assay.errors import AssayError


def test_prohibited_practice_wins_over_everything() -> None:
    result = classify(Answers(prohibited=("social-scoring",), annex_iii=("employment",)))
    assert result.risk_class == "prohibited"
    assert "eu-ai-act:Art.5(1)(c)" in result.articles


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (Answers(), "minimal"),
        (Answers(transparency=("interacts-with-people",)), "transparency"),
        (Answers(annex_i_safety_component=True), "high-risk"),
        (Answers(annex_iii=("employment",)), "high-risk"),
        (Answers(annex_iii=("employment",), exceptions=("preparatory",)), "minimal"),
        (
            Answers(annex_iii=("employment",), exceptions=("preparatory",), profiling=True),
            "high-risk",
        ),
    ],
)
def test_classification_rules(answers: Answers, expected: str) -> None:
    assert classify(answers).risk_class == expected


def test_art_6_3_exception_is_explained_and_art_50_stacks_on_high_risk() -> None:
    excepted = classify(Answers(annex_iii=("education",), exceptions=("narrow-procedural",)))
    assert "eu-ai-act:Art.6(4)" in excepted.articles
    assert any("Art. 6(3)" in line for line in excepted.rationale)
    both = classify(Answers(annex_iii=("education",), transparency=("synthetic-content",)))
    assert both.risk_class == "high-risk" and both.transparency_obligations


def test_classification_rejects_unknown_keys_naming_allowed_values() -> None:
    with pytest.raises(AssayError, match=r"allowed values: .*employment"):
        classify(Answers(annex_iii=("payroll",)))


def test_rating_bands() -> None:
    scale = RiskScale()
    assert rating(scale, 1, 4) == (4, "low")
    assert rating(scale, 3, 3) == (9, "medium")
    assert rating(scale, 5, 5) == (25, "critical")


def _risk(controls: tuple[str, ...], treatment: str | None) -> Risk:
    return Risk.model_validate(
        {"title": "t", "likelihood": 2, "impact": 2, "controls": controls, "treatment": treatment}
    )


def test_soa_build_links_treated_risks_and_keeps_edits() -> None:
    controls = annex_a_controls()
    assert len(controls) == 38
    risks = {
        "R-001": _risk(("iso42001:A.6.2.4",), "mitigate"),
        "R-002": _risk(("iso42001:A.7.4",), None),  # untreated: does not make it applicable
        "R-003": _risk(("iso42001:A.10.3",), "avoid"),
    }
    entries = {e.control: e for e in build(controls, risks)}
    assert entries["iso42001:A.6.2.4"].applicable and entries["iso42001:A.6.2.4"].risks == (
        "R-001",
    )
    assert not entries["iso42001:A.7.4"].applicable
    assert not entries["iso42001:A.10.3"].applicable
    assert all(entries[ref].applicable for ref in BASELINE)
    assert "assay.dev/redteam-run/v1" in entries["iso42001:A.6.2.4"].evidence_types
    edited = entries["iso42001:A.7.4"].model_copy(
        update={
            "applicable": True,
            "justification": "data quality",
            "edited": True,
            "implementation_status": "partial",
        }
    )
    again = {e.control: e for e in build(controls, risks, [*entries.values(), edited][1:])}
    kept = again["iso42001:A.7.4"]
    assert kept.applicable and kept.justification == "data quality" and kept.edited
    changes = diff(list(entries.values()), list(again.values()))
    assert {(c.control, c.field) for c in changes} >= {
        ("iso42001:A.7.4", "applicable"),
        ("iso42001:A.7.4", "implementation_status"),
    }


def test_objective_value_status_and_trend() -> None:
    metric = Metric(
        source="evidence",
        evidence_type="assay.dev/redteam-run/v1",
        numerator="succeeded",
        denominator="attempts",
        scale=100,
    )
    assert value_from_summary(metric, {"succeeded": 3, "attempts": 400}) == 0.75
    assert value_from_summary(metric, {"succeeded": 3, "attempts": 0}) is None
    assert value_from_summary(metric, {"other": 1}) is None
    now = datetime.now(UTC)
    points = tuple(Measurement(at=now, value=v, source="manual", by="a") for v in (3.0, 1.0))
    objective = Objective(title="t", metric=metric, target_op="<", target=2, measurements=points)
    assert evaluate(objective) == ("on-track", "improving")
    higher = objective.model_copy(update={"target_op": ">=", "target": 2.0})
    assert evaluate(higher) == ("off-track", "worsening")
    assert evaluate(objective.model_copy(update={"measurements": ()})) == ("no-data", "unknown")


def test_metric_needs_a_known_evidence_type() -> None:
    with pytest.raises(ValueError, match="evidence_type"):
        Metric(source="evidence", evidence_type="assay.dev/nope/v1", numerator="x")


def test_soa_scope_keeps_operation_and_user_controls_in_and_states_exclusions() -> None:
    """Regression (#20): a customer-facing bot in operation had A.6.2.5 and A.8.4 excluded with
    the same boilerplate, and 'Implemented by the AIMS itself' beside status planned."""
    from assay.aims.soa import Scope

    controls = annex_a_controls()
    scope = Scope(systems=("bot",), in_operation=("bot",), external_users=("bot",))
    entries = {e.control.split(":")[1]: e for e in build(controls, {}, (), scope)}
    for control in ("A.6.2.5", "A.6.2.6", "A.6.2.7", "A.6.2.8", "A.8.2", "A.8.4"):
        assert entries[control].applicable, control
        assert "Required by scope: bot" in entries[control].justification
    excluded = [e for e in entries.values() if not e.applicable]
    assert excluded and len({e.justification for e in excluded}) > 1  # reasons differ by scope
    assert "no supplier is recorded" in entries["A.10.3"].justification
    assert all("Implemented" not in e.justification for e in entries.values())
    quiet = {e.control.split(":")[1]: e for e in build(controls, {}, (), Scope(systems=("x",)))}
    assert not quiet["A.8.4"].applicable
    assert "no system in scope has customers" in quiet["A.8.4"].justification

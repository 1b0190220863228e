"""AI system impact assessments (ISO/IEC 42001 6.1.4, 8.4, A.5; also an Art. 27 FRIA).

A structured questionnaire (:data:`QUESTIONS`) plus the fields the clause asks
for (affected individuals and groups, societal impacts, severity, likelihood,
mitigations). Sign-off needs every required question answered and is recorded
as ``assay.dev/impact-assessment/v1``; :func:`export` renders Markdown or JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assay.aims import _records as records
from assay.aims.settings import four_eyes
from assay.errors import Conflict, Invalid
from assay.ledger import Ledger
from assay.ledger.evidence import IMPACT_ASSESSMENT
from assay.store import Store

__all__ = [
    "LEVELS",
    "QUESTIONS",
    "SPEC",
    "ImpactAssessment",
    "Question",
    "SignOff",
    "add_assessment",
    "answer",
    "export",
    "get_assessment",
    "list_assessments",
    "missing_answers",
    "sign_off",
    "update_assessment",
]

LEVELS = ("low", "medium", "high", "very-high")
Level = Literal["low", "medium", "high", "very-high"]


@dataclass(frozen=True)
class Question:
    """One questionnaire item."""

    id: str
    text: str
    required: bool = True


QUESTIONS: tuple[Question, ...] = (
    Question("context", "In which processes, for how long and how often is the system used?"),
    Question("decisions", "Which decisions does it make or support, and who relies on them?"),
    Question("individuals", "Which individuals are affected, directly or indirectly?"),
    Question("vulnerable", "Are children or other vulnerable groups affected, and how?"),
    Question(
        "rights", "Which fundamental rights could be harmed (privacy, non-discrimination...)?"
    ),
    Question("society", "What wider societal or environmental impacts could it have?"),
    Question("oversight", "How is human oversight organised, and who can intervene?"),
    Question("redress", "How can affected people complain or obtain redress?"),
    Question("data", "Which personal data does it process, and on what basis?", required=False),
)


class SignOff(BaseModel):
    """Who signed the assessment off, and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    by: str
    at: datetime
    note: str = ""


class ImpactAssessment(BaseModel):
    """One assessment of one system."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str = Field(min_length=1)
    fria: bool = False
    answers: dict[str, str] = Field(default_factory=dict)
    affected_individuals: tuple[str, ...] = ()
    affected_groups: tuple[str, ...] = ()
    societal_impacts: tuple[str, ...] = ()
    severity: Level | None = None
    likelihood: Level | None = None
    mitigations: tuple[str, ...] = ()
    signoff: SignOff | None = None


SPEC = records.Spec(
    register="impact",
    model=ImpactAssessment,
    prefix="IA",
    label="impact assessment",
    controls=("iso42001:6.1.4", "iso42001:8.4", "iso42001:A.5.2", "iso42001:A.5.4"),
    approval_type=IMPACT_ASSESSMENT,
    figures=lambda a: {
        "answered": len(a.answers),
        "severity": a.severity,
        "likelihood": a.likelihood,
        "fria": a.fria,
    },
)


def _check_answers(assessment_id: str, answers: Mapping[str, str]) -> None:
    known = {q.id for q in QUESTIONS}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise Invalid(
            f"impact assessment {assessment_id}: field 'answers' has unknown question(s) "
            f"{', '.join(unknown)}; allowed values: {', '.join(q.id for q in QUESTIONS)}"
        )


def get_assessment(store: Store, assessment_id: str) -> records.Record[ImpactAssessment]:
    return records.get(store, SPEC, assessment_id)


def list_assessments(
    store: Store, *, system: str | None = None
) -> list[records.Record[ImpactAssessment]]:
    return records.list_records(store, SPEC, system=system)


def add_assessment(
    store: Store,
    ledger: Ledger,
    *,
    system: str,
    fields: Mapping[str, Any],
    actor: str,
    assessment_id: str | None = None,
) -> records.Record[ImpactAssessment]:
    """Start an assessment for a system (a draft)."""
    rid = assessment_id or records.next_id(store, SPEC)
    assessment = records.validate(SPEC, rid, {**fields, "signoff": None})
    _check_answers(rid, assessment.answers)
    return records.create(
        store, ledger, SPEC, assessment, actor=actor, status="draft", system=system, record_id=rid
    )


def update_assessment(
    store: Store, ledger: Ledger, assessment_id: str, changes: Mapping[str, Any], *, actor: str
) -> records.Record[ImpactAssessment]:
    """Change fields; a signed-off assessment goes back to draft."""
    current = get_assessment(store, assessment_id)
    if "signoff" in changes:
        raise Invalid(
            f"impact assessment {assessment_id}: a sign-off is not an edit",
            hint="sign off with `assay impact sign-off`",
        )
    assessment = records.merged(SPEC, current, {**changes, "signoff": None})
    _check_answers(assessment_id, assessment.answers)
    return records.update(
        store, ledger, SPEC, assessment_id, actor=actor, data=assessment, status="draft"
    )


def answer(
    store: Store, ledger: Ledger, assessment_id: str, question: str, text: str, *, actor: str
) -> records.Record[ImpactAssessment]:
    """Answer (or re-answer) one question."""
    current = get_assessment(store, assessment_id)
    answers = {**current.data.answers, question: text}
    return update_assessment(store, ledger, assessment_id, {"answers": answers}, actor=actor)


def missing_answers(assessment: ImpactAssessment) -> list[str]:
    """Required questions without an answer, and required fields left empty; pure."""
    missing = [
        q.id for q in QUESTIONS if q.required and not assessment.answers.get(q.id, "").strip()
    ]
    if not (assessment.affected_individuals or assessment.affected_groups):
        missing.append("affected_individuals or affected_groups")
    missing.extend(f for f in ("severity", "likelihood") if getattr(assessment, f) is None)
    return missing


def sign_off(
    store: Store, ledger: Ledger, assessment_id: str, *, actor: str, note: str = ""
) -> records.Record[ImpactAssessment]:
    """Sign the assessment off: every required answer present; evidence for readiness."""
    current = get_assessment(store, assessment_id)
    if current.status == "signed-off":
        raise Conflict(f"impact assessment {assessment_id} is already signed off")
    missing = missing_answers(current.data)
    if missing:
        raise Conflict(
            f"impact assessment {assessment_id} cannot be signed off; missing: {', '.join(missing)}"
        )
    records.check_four_eyes(store, SPEC, assessment_id, actor, required=four_eyes(store, "impact"))
    signed = current.data.model_copy(
        update={"signoff": SignOff(by=actor, at=datetime.now(UTC), note=note)}
    )
    return records.update(
        store,
        ledger,
        SPEC,
        assessment_id,
        actor=actor,
        action="approve",
        data=signed,
        status="signed-off",
        evidence_type=SPEC.approval_type,
    )


def export(record: records.Record[ImpactAssessment], fmt: str = "md") -> str:
    """The assessment as Markdown (for people) or JSON (for tools)."""
    if fmt == "json":
        return json.dumps(record.as_json(), indent=2, sort_keys=True)
    if fmt != "md":
        raise Invalid(f"export format {fmt!r} is not one of: md, json")
    a = record.data
    lines = [
        f"# Impact assessment {record.id}: {a.title}",
        "",
        f"- System: {record.system}",
        f"- Status: {record.status} (version {record.version})",
        f"- Used as EU AI Act Art. 27 FRIA: {'yes' if a.fria else 'no'}",
        f"- Severity: {a.severity or 'not rated'}; likelihood: {a.likelihood or 'not rated'}",
    ]
    if a.signoff:
        lines.append(f"- Signed off by {a.signoff.by} on {a.signoff.at.date().isoformat()}")
    for title, items in (
        ("Affected individuals", a.affected_individuals),
        ("Affected groups", a.affected_groups),
        ("Societal impacts", a.societal_impacts),
        ("Mitigations", a.mitigations),
    ):
        lines += ["", f"## {title}", ""] + ([f"- {i}" for i in items] or ["- none recorded"])
    lines += ["", "## Questionnaire"]
    for q in QUESTIONS:
        lines += ["", f"**{q.text}**", "", a.answers.get(q.id, "_not answered_")]
    return "\n".join(lines) + "\n"

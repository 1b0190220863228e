"""EU AI Act classification helper: walks Art. 5, Art. 6 with Annexes I and III, and Art. 50.

:func:`classify` is a pure function from a few answers to a class and a
rationale naming each article it checked; :func:`classify_system` records the
result on the system (as evidence). The class decides which AI Act
obligations readiness applies. It is decision support, not legal advice: the
rationale is written so a reviewer can check each step.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from assay.aims.inventory import SystemRecord, record_classification
from assay.errors import AssayError
from assay.ledger import Ledger
from assay.store import Store

__all__ = [
    "ANNEX_III_AREAS",
    "ART6_3_EXCEPTIONS",
    "PROHIBITED_PRACTICES",
    "RISK_CLASSES",
    "TRANSPARENCY_CASES",
    "Answers",
    "Classification",
    "classify",
    "classify_system",
]

RISK_CLASSES = ("prohibited", "high-risk", "transparency", "minimal")

PROHIBITED_PRACTICES: dict[str, tuple[str, str]] = {
    "manipulation": ("eu-ai-act:Art.5(1)(a)", "manipulative or deceptive techniques"),
    "exploiting-vulnerabilities": ("eu-ai-act:Art.5(1)(b)", "exploiting vulnerabilities"),
    "social-scoring": ("eu-ai-act:Art.5(1)(c)", "social scoring"),
    "predictive-policing": (
        "eu-ai-act:Art.5(1)(d)",
        "crime prediction based solely on profiling",
    ),
    "facial-scraping": ("eu-ai-act:Art.5(1)(e)", "untargeted scraping of facial images"),
    "emotion-recognition-work-education": (
        "eu-ai-act:Art.5(1)(f)",
        "emotion recognition at work or in education",
    ),
    "biometric-categorisation": (
        "eu-ai-act:Art.5(1)(g)",
        "biometric categorisation of sensitive attributes",
    ),
    "realtime-remote-biometric-id": (
        "eu-ai-act:Art.5(1)(h)",
        "real-time remote biometric identification for law enforcement",
    ),
}
"""Article 5(1) practices, by the key users give, with their reference and description."""

ANNEX_III_AREAS: dict[str, str] = {
    "biometrics": "Annex III point 1: biometrics",
    "critical-infrastructure": "Annex III point 2: critical infrastructure",
    "education": "Annex III point 3: education and vocational training",
    "employment": "Annex III point 4: employment and workers management",
    "essential-services": "Annex III point 5: access to essential private and public services",
    "law-enforcement": "Annex III point 6: law enforcement",
    "migration": "Annex III point 7: migration, asylum and border control",
    "justice-democracy": "Annex III point 8: administration of justice and democratic processes",
}

ART6_3_EXCEPTIONS: dict[str, str] = {
    "narrow-procedural": "Art. 6(3)(a): performs a narrow procedural task",
    "improves-human-activity": "Art. 6(3)(b): improves the result of a completed human activity",
    "detects-patterns": "Art. 6(3)(c): detects decision patterns without replacing human review",
    "preparatory": "Art. 6(3)(d): performs a preparatory task to an assessment",
}

TRANSPARENCY_CASES: dict[str, tuple[str, str]] = {
    "interacts-with-people": ("eu-ai-act:Art.50(1)", "interacts directly with natural persons"),
    "synthetic-content": ("eu-ai-act:Art.50(2)", "generates synthetic audio, image, video or text"),
    "emotion-or-biometric": (
        "eu-ai-act:Art.50(3)",
        "emotion recognition or biometric categorisation",
    ),
    "deep-fake-or-public-text": (
        "eu-ai-act:Art.50(4)",
        "deep fakes or AI-generated text published on matters of public interest",
    ),
}


class Answers(BaseModel):
    """What the helper asks, as keys of the tables above."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    prohibited: tuple[str, ...] = ()
    annex_i_safety_component: bool = False
    annex_iii: tuple[str, ...] = ()
    exceptions: tuple[str, ...] = ()
    profiling: bool = False
    transparency: tuple[str, ...] = ()


class Classification(BaseModel):
    """The class, whether Art. 50 duties apply on top, and the reasoning step by step."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    risk_class: Literal["prohibited", "high-risk", "transparency", "minimal"]
    transparency_obligations: bool
    articles: tuple[str, ...]
    rationale: tuple[str, ...]
    answers: Answers


def _check_keys(field: str, given: tuple[str, ...], allowed: dict[str, Any]) -> None:
    unknown = [k for k in given if k not in allowed]
    if unknown:
        raise AssayError(
            f"classification: field '{field}' has {', '.join(unknown)}; "
            f"allowed values: {', '.join(allowed)}"
        )


def classify(answers: Answers) -> Classification:
    """Apply Art. 5, Art. 6(1)-(3) and Art. 50 in order; pure."""
    _check_keys("prohibited", answers.prohibited, PROHIBITED_PRACTICES)
    _check_keys("annex_iii", answers.annex_iii, ANNEX_III_AREAS)
    _check_keys("exceptions", answers.exceptions, ART6_3_EXCEPTIONS)
    _check_keys("transparency", answers.transparency, TRANSPARENCY_CASES)
    rationale: list[str] = []
    articles: list[str] = []

    if answers.prohibited:
        for key in answers.prohibited:
            ref, text = PROHIBITED_PRACTICES[key]
            rationale.append(f"Art. 5: {text} is a prohibited practice ({ref}).")
            articles.append(ref)
        return Classification(
            risk_class="prohibited",
            transparency_obligations=False,
            articles=("eu-ai-act:Art.5", *articles),
            rationale=tuple(rationale),
            answers=answers,
        )
    rationale.append("Art. 5: none of the prohibited practices of Art. 5(1)(a)-(h) applies.")

    high = False
    if answers.annex_i_safety_component:
        high = True
        articles.append("eu-ai-act:Art.6(1)")
        rationale.append(
            "Art. 6(1): safety component of (or itself) a product under Annex I legislation "
            "that needs third-party conformity assessment: high-risk."
        )
    else:
        rationale.append("Art. 6(1): not a safety component of an Annex I product.")
    if answers.annex_iii:
        areas = "; ".join(ANNEX_III_AREAS[a] for a in answers.annex_iii)
        if answers.profiling:
            high = True
            articles.append("eu-ai-act:Art.6(2)")
            rationale.append(
                f"Art. 6(2): listed in {areas}; it profiles natural persons, so the Art. 6(3) "
                "exceptions cannot apply: high-risk."
            )
        elif answers.exceptions:
            claimed = "; ".join(ART6_3_EXCEPTIONS[e] for e in answers.exceptions)
            articles.extend(["eu-ai-act:Art.6(3)", "eu-ai-act:Art.6(4)"])
            rationale.append(
                f"Art. 6(2): listed in {areas}, but Art. 6(3) applies ({claimed}) and it does "
                "not profile: not high-risk. Art. 6(4): document this assessment and register "
                "it (Art. 49(2)) before placing on the market."
            )
        else:
            high = True
            articles.append("eu-ai-act:Art.6(2)")
            rationale.append(f"Art. 6(2): listed in {areas}, no Art. 6(3) exception: high-risk.")
    else:
        rationale.append("Art. 6(2): no Annex III area applies.")

    for key in answers.transparency:
        ref, text = TRANSPARENCY_CASES[key]
        articles.append(ref)
        rationale.append(f"Art. 50: it {text}: transparency duties apply ({ref}).")
    if not answers.transparency:
        rationale.append("Art. 50: none of the transparency cases applies.")

    risk_class: Literal["high-risk", "transparency", "minimal"]
    if high:
        risk_class = "high-risk"
    elif answers.transparency:
        risk_class = "transparency"
    else:
        risk_class = "minimal"
        rationale.append("Result: minimal risk; only Art. 4 (AI literacy) applies.")
    return Classification(
        risk_class=risk_class,
        transparency_obligations=bool(answers.transparency),
        articles=tuple(articles),
        rationale=tuple(rationale),
        answers=answers,
    )


def classify_system(
    store: Store, ledger: Ledger, system_id: str, answers: dict[str, Any], *, actor: str
) -> tuple[SystemRecord, Classification]:
    """Classify a system and record class, answers and rationale as evidence."""
    try:
        parsed = Answers.model_validate(answers)
    except ValidationError as exc:
        problems = [
            f"field '{'.'.join(str(p) for p in e['loc'])}': {e['msg']}" for e in exc.errors()
        ]
        raise AssayError(f"classification of {system_id}: " + "; ".join(problems)) from exc
    result = classify(parsed)
    record = record_classification(
        store, ledger, system_id, result.risk_class, result.model_dump(mode="json"), actor=actor
    )
    return record, result

"""EU AI Act classification helper: walks Art. 5, Art. 6 with Annexes I and III, and Art. 50.

:func:`classify` is a pure function from a few answers to a class and a
rationale naming each article it checked; :func:`classify_system` records the
result on the system (as evidence). The class and the answers (Annex III
sub-points after carve-outs, the Art. 6(3) claim, Art. 50 cases, public body,
workplace use) are the facts the catalog's ``applies_when`` conditions read,
see :mod:`assay.aims.applicability`. It is decision support, not legal advice: the
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
    "ANNEX_III_POINTS",
    "ART6_3_EXCEPTIONS",
    "CARVE_OUTS",
    "OUTSIDE_SCOPE",
    "PROHIBITED_PRACTICES",
    "RISK_CLASSES",
    "TRANSPARENCY_CASES",
    "Answers",
    "Classification",
    "annex_iii_point",
    "classify",
    "classify_system",
]

RISK_CLASSES = ("prohibited", "high-risk", "transparency", "minimal", "out-of-scope")

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
"""Annex III points (areas) by the key users give; a point alone means "some use in this area"."""

ANNEX_III_POINTS: dict[str, tuple[str, str]] = {
    "remote-biometric-identification": ("1(a)", "remote biometric identification"),
    "biometric-categorisation": ("1(b)", "biometric categorisation by sensitive attributes"),
    "emotion-recognition": ("1(c)", "emotion recognition"),
    "education-access": ("3(a)", "admission or assignment to education and training"),
    "learning-outcomes": ("3(b)", "evaluating learning outcomes"),
    "education-level": ("3(c)", "assessing the level of education a person will receive"),
    "test-proctoring": ("3(d)", "monitoring prohibited behaviour during tests"),
    "recruitment": ("4(a)", "recruitment and selection of candidates"),
    "workforce-management": (
        "4(b)",
        "decisions on work terms, promotion, termination, task allocation or performance",
    ),
    "public-benefits": ("5(a)", "eligibility for public assistance benefits and services"),
    "credit-scoring": ("5(b)", "creditworthiness evaluation or credit scoring of natural persons"),
    "life-health-insurance": ("5(c)", "risk assessment and pricing in life and health insurance"),
    "emergency-triage": ("5(d)", "evaluating and classifying emergency calls, dispatch and triage"),
    "victim-risk": ("6(a)", "law enforcement: risk of a person becoming a victim"),
    "polygraph": ("6(b)", "law enforcement: polygraphs and similar tools"),
    "evidence-reliability": ("6(c)", "law enforcement: reliability of evidence"),
    "offending-risk": ("6(d)", "law enforcement: risk of offending or re-offending"),
    "criminal-profiling": ("6(e)", "law enforcement: profiling in detection or investigation"),
    "migration-polygraph": ("7(a)", "migration: polygraphs and similar tools"),
    "migration-risk": ("7(b)", "migration: security, irregular migration or health risks"),
    "asylum-applications": ("7(c)", "examining asylum, visa and residence applications"),
    "border-identification": ("7(d)", "migration: detecting, recognising or identifying persons"),
    "judicial-assistance": ("8(a)", "assisting a judicial authority with facts and the law"),
    "election-influence": ("8(b)", "influencing the outcome of an election or voting behaviour"),
}
"""Annex III sub-points by key: ``(point, what it covers)``. The point ID works as a key too."""

CARVE_OUTS: dict[str, tuple[str, str]] = {
    "financial-fraud-detection": ("5(b)", "systems used to detect financial fraud"),
    "biometric-verification": (
        "1(a)",
        "biometric verification whose only purpose is to confirm a person is who they claim to be",
    ),
}
"""Exclusions written into Annex III itself: ``key: (sub-point it removes, what it covers)``."""

OUTSIDE_SCOPE: dict[str, str] = {
    "not-an-ai-system": "not an AI system as defined in Art. 3(1)",
    "military-defence": "used exclusively for military, defence or national security (Art. 2(3))",
    "research-only": "developed and used only for scientific research (Art. 2(6))",
    "personal-use": "used by a natural person in a purely personal activity (Art. 2(10))",
}
"""Reasons a system falls outside the Regulation altogether."""

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
    carve_outs: tuple[str, ...] = ()
    exceptions: tuple[str, ...] = ()
    profiling: bool = False
    transparency: tuple[str, ...] = ()
    public_body: bool = False
    """A body governed by public law, or a private entity providing public services (Art. 27)."""
    workplace: bool = False
    """Used at the workplace by an employer (Art. 26(7))."""
    outside_scope: str | None = None


class Classification(BaseModel):
    """The class, whether Art. 50 duties apply on top, and the reasoning step by step."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    risk_class: Literal["prohibited", "high-risk", "transparency", "minimal", "out-of-scope"]
    transparency_obligations: bool
    articles: tuple[str, ...]
    rationale: tuple[str, ...]
    answers: Answers
    annex_iii_points: tuple[str, ...] = ()
    """Annex III points and sub-points that apply after the carve-outs (``5``, ``5(b)``)."""
    art6_3_claim: bool = False
    """The provider relies on the Art. 6(3) derogation (an Annex III listing, no profiling)."""


def _check_keys(field: str, given: tuple[str, ...], allowed: dict[str, Any]) -> None:
    unknown = [k for k in given if k not in allowed]
    if unknown:
        raise AssayError(
            f"classification: field '{field}' has {', '.join(unknown)}; "
            f"allowed values: {', '.join(allowed)}"
        )


_POINT_IDS = {point for point, _ in ANNEX_III_POINTS.values()}
_AREA_POINTS = {key: text.split(":")[0].split()[-1] for key, text in ANNEX_III_AREAS.items()}


def annex_iii_point(key: str) -> tuple[str, str]:
    """``(point, description)`` for an Annex III key: an area, a sub-point key or a point ID."""
    if key in ANNEX_III_AREAS:
        return _AREA_POINTS[key], ANNEX_III_AREAS[key]
    if key in ANNEX_III_POINTS:
        point, text = ANNEX_III_POINTS[key]
        return point, f"Annex III point {point}: {text}"
    for point, text in ANNEX_III_POINTS.values():
        if key == point:
            return point, f"Annex III point {point}: {text}"
    if key in _AREA_POINTS.values():
        area = next(k for k, p in _AREA_POINTS.items() if p == key)
        return key, ANNEX_III_AREAS[area]
    allowed = [*ANNEX_III_AREAS, *ANNEX_III_POINTS]
    raise AssayError(
        f"classification: field 'annex_iii' has {key}; allowed values: {', '.join(allowed)} "
        "(or a point ID such as 5(b))"
    )


def _listed(answers: Answers, rationale: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """Annex III points that apply after the carve-outs, and their descriptions."""
    removed = {CARVE_OUTS[c][0]: CARVE_OUTS[c][1] for c in answers.carve_outs}
    points: list[str] = []
    texts: list[str] = []
    for key in answers.annex_iii:
        point, text = annex_iii_point(key)
        if point in removed:
            rationale.append(
                f"Annex III point {point} excludes {removed[point]}: this use is not listed."
            )
            continue
        points.append(point)
        texts.append(text)
    with_areas = {p.split("(")[0] for p in points} | set(points)
    return tuple(sorted(with_areas)), texts


def classify(answers: Answers) -> Classification:
    """Apply Art. 2, Art. 5, Art. 6(1)-(4) and Art. 50 in order; pure."""
    _check_keys("prohibited", answers.prohibited, PROHIBITED_PRACTICES)
    _check_keys("carve_outs", answers.carve_outs, CARVE_OUTS)
    _check_keys("exceptions", answers.exceptions, ART6_3_EXCEPTIONS)
    _check_keys("transparency", answers.transparency, TRANSPARENCY_CASES)
    for key in answers.annex_iii:
        annex_iii_point(key)  # refuses an unknown key, whatever else was answered
    if answers.outside_scope is not None:
        _check_keys("outside_scope", (answers.outside_scope,), OUTSIDE_SCOPE)
        return Classification(
            risk_class="out-of-scope",
            transparency_obligations=False,
            articles=(),
            rationale=(
                f"Outside the Regulation: {OUTSIDE_SCOPE[answers.outside_scope]}; "
                "no AI Act obligation applies.",
            ),
            answers=answers,
        )
    rationale: list[str] = []
    articles: list[str] = []

    if answers.prohibited:
        for key in answers.prohibited:
            ref, text = PROHIBITED_PRACTICES[key]
            rationale.append(f"Art. 5: {text} is a prohibited practice ({ref}).")
            articles.append(ref)
        rationale.append(
            "The practice may not be placed on the market, put into service or used; no evidence "
            "makes it compliant. Reclassify the system once the practice is removed, or retire it."
        )
        return Classification(
            risk_class="prohibited",
            transparency_obligations=False,
            articles=("eu-ai-act:Art.5", *articles),
            rationale=tuple(rationale),
            answers=answers,
        )
    rationale.append("Art. 5: none of the prohibited practices of Art. 5(1)(a)-(h) applies.")

    high = False
    claim = False
    if answers.annex_i_safety_component:
        high = True
        articles.append("eu-ai-act:Art.6(1)")
        rationale.append(
            "Art. 6(1): safety component of (or itself) a product under Annex I legislation "
            "that needs third-party conformity assessment: high-risk."
        )
    else:
        rationale.append("Art. 6(1): not a safety component of an Annex I product.")
    points, texts = _listed(answers, rationale)
    if texts:
        areas = "; ".join(texts)
        if answers.profiling:
            high = True
            articles.append("eu-ai-act:Art.6(2)")
            ignored = " (the Art. 6(3) claim is void)" if answers.exceptions else ""
            rationale.append(
                f"Art. 6(2): listed in {areas}; it profiles natural persons, so the Art. 6(3) "
                f"derogation cannot apply{ignored}: high-risk."
            )
        elif answers.exceptions:
            claim = True
            claimed = "; ".join(ART6_3_EXCEPTIONS[e] for e in answers.exceptions)
            articles.extend(["eu-ai-act:Art.6(3)", "eu-ai-act:Art.6(4)", "eu-ai-act:Art.49(2)"])
            rationale.append(
                f"Art. 6(2): listed in {areas}, but the provider claims Art. 6(3) ({claimed}) "
                "and it does not profile: not high-risk under Art. 6(2). Art. 6(4): the provider "
                "documents this assessment before placing it on the market, and Art. 49(2): "
                "registers it; both duties now apply."
            )
        else:
            high = True
            articles.append("eu-ai-act:Art.6(2)")
            rationale.append(f"Art. 6(2): listed in {areas}, no Art. 6(3) claim: high-risk.")
    else:
        rationale.append("Art. 6(2): no Annex III point applies.")

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
        rationale.append("Result: minimal risk; Art. 4 (AI literacy) still applies.")
    return Classification(
        risk_class=risk_class,
        transparency_obligations=bool(answers.transparency),
        articles=tuple(articles),
        rationale=tuple(rationale),
        answers=answers,
        annex_iii_points=points,
        art6_3_claim=claim,
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

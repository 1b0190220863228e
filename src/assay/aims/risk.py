"""The AI risk register (ISO/IEC 42001 6.1.2, 8.2, 8.3): rate, treat, accept.

A risk is rated on a configurable likelihood × impact scale before (inherent)
and after treatment (residual). Treatment names controls as ``framework:ID``
references that must resolve in the catalogs; those links drive the Statement
of Applicability. Acceptance of the residual risk is a separate, named
approval (four-eyes on by default) recorded as ``assay.dev/risk-assessment/v1``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assay.aims import _records as records
from assay.aims.settings import four_eyes, get_setting, set_setting
from assay.catalogs import resolve
from assay.errors import AssayError, Conflict, Invalid, NotFound
from assay.ledger import Ledger
from assay.ledger.evidence import RISK_ASSESSMENT
from assay.store import Store

__all__ = [
    "SPEC",
    "TEMPLATES",
    "TREATMENTS",
    "Acceptance",
    "Risk",
    "RiskScale",
    "RiskTemplate",
    "accept_risk",
    "add_risk",
    "adopt_templates",
    "archive_risk",
    "get_risk",
    "list_risks",
    "rating",
    "scale",
    "set_scale",
    "treat_risk",
    "update_risk",
]

TREATMENTS = ("mitigate", "avoid", "transfer", "accept")


class RiskScale(BaseModel):
    """Likelihood and impact levels (1 = lowest) and rating bands by maximum score."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    likelihood: tuple[str, ...] = ("rare", "unlikely", "possible", "likely", "almost-certain")
    impact: tuple[str, ...] = ("negligible", "minor", "moderate", "major", "severe")
    bands: tuple[tuple[int, str], ...] = ((4, "low"), (9, "medium"), (16, "high"), (25, "critical"))


def rating(risk_scale: RiskScale, likelihood: int, impact: int) -> tuple[int, str]:
    """Score (likelihood × impact) and its band; pure."""
    score = likelihood * impact
    for ceiling, band in risk_scale.bands:
        if score <= ceiling:
            return score, band
    return score, risk_scale.bands[-1][1]


class Acceptance(BaseModel):
    """Formal acceptance of the residual risk by a named approver."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    by: str
    at: datetime
    note: str = ""


def _check_controls(refs: tuple[str, ...]) -> tuple[str, ...]:
    canonical = []
    for ref in refs:
        try:
            canonical.append(resolve(ref).ref)
        except AssayError as exc:
            raise ValueError(str(exc)) from exc
    return tuple(dict.fromkeys(canonical))


class Risk(BaseModel):
    """One risk to or from an AI system."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str = Field(min_length=1)
    description: str = ""
    category: str = ""
    template: str | None = None
    owner: str = ""
    likelihood: int = Field(ge=1)
    impact: int = Field(ge=1)
    treatment: Literal["mitigate", "avoid", "transfer", "accept"] | None = None
    treatment_plan: str = ""
    controls: tuple[str, ...] = ()
    residual_likelihood: int | None = Field(default=None, ge=1)
    residual_impact: int | None = Field(default=None, ge=1)
    due: date | None = None
    review_date: date | None = None
    acceptance: Acceptance | None = None

    @field_validator("controls")
    @classmethod
    def _resolve_controls(cls, refs: tuple[str, ...]) -> tuple[str, ...]:
        return _check_controls(refs)


def _figures(risk: Risk) -> Mapping[str, Any]:
    figures: dict[str, Any] = {
        "inherent": risk.likelihood * risk.impact,
        "treatment": risk.treatment,
        "controls": len(risk.controls),
    }
    if risk.residual_likelihood and risk.residual_impact:
        figures["residual"] = risk.residual_likelihood * risk.residual_impact
    return figures


SPEC = records.Spec(
    register="risk",
    model=Risk,
    prefix="R",
    label="risk",
    controls=("iso42001:6.1.2", "iso42001:8.2", "iso42001:8.3"),
    approval_type=RISK_ASSESSMENT,
    figures=_figures,
)


@dataclass(frozen=True)
class RiskTemplate:
    """A common LLM risk a user can adopt as a starting point."""

    id: str
    title: str
    description: str
    category: str
    likelihood: int
    impact: int
    controls: tuple[str, ...]


TEMPLATES: tuple[RiskTemplate, ...] = (
    RiskTemplate(
        "prompt-injection",
        "Prompt injection and jailbreaks",
        "Crafted input overrides the system's instructions or safety rules.",
        "security",
        4,
        4,
        ("iso42001:A.6.2.4", "iso42001:A.6.2.6", "eu-ai-act:Art.15(5)", "nist-ai-rmf:MEASURE-2.7"),
    ),
    RiskTemplate(
        "data-leakage",
        "Leakage of personal or confidential data",
        "The system reveals training data, context documents, secrets or personal data.",
        "privacy",
        3,
        5,
        ("iso42001:A.7.2", "iso42001:A.6.2.6", "iso42001:A.9.2", "nist-ai-rmf:MEASURE-2.10"),
    ),
    RiskTemplate(
        "harmful-output",
        "Harmful or toxic output",
        "The system produces abusive, dangerous or otherwise harmful content.",
        "safety",
        3,
        4,
        ("iso42001:A.6.2.4", "iso42001:A.9.2", "iso42001:A.8.2", "nist-ai-rmf:MEASURE-2.6"),
    ),
    RiskTemplate(
        "bias",
        "Unfair bias against individuals or groups",
        "Outputs differ in quality or treatment across protected groups.",
        "fairness",
        3,
        4,
        ("iso42001:A.7.4", "iso42001:A.5.4", "eu-ai-act:Art.10(2)", "nist-ai-rmf:MEASURE-2.11"),
    ),
    RiskTemplate(
        "hallucination",
        "Hallucinated or inaccurate output",
        "The system states false information with confidence and users rely on it.",
        "reliability",
        4,
        3,
        ("iso42001:A.6.2.4", "iso42001:A.8.2", "iso42001:A.9.4", "eu-ai-act:Art.15(1)"),
    ),
    RiskTemplate(
        "drift",
        "Performance drift in operation",
        "Inputs or behaviour move away from what was validated, degrading quality unnoticed.",
        "reliability",
        3,
        3,
        ("iso42001:A.6.2.6", "eu-ai-act:Art.72(2)", "nist-ai-rmf:MANAGE-4.1"),
    ),
    RiskTemplate(
        "supplier-failure",
        "Model or service supplier failure",
        "A third-party model or API changes, degrades or becomes unavailable.",
        "supply-chain",
        3,
        3,
        ("iso42001:A.10.3", "iso42001:A.10.2", "iso42001:A.4.5", "nist-ai-rmf:GOVERN-6.1"),
    ),
)


def scale(store: Store) -> RiskScale:
    """The workspace's risk scale (5 × 5 by default)."""
    stored = get_setting(store, "risk.scale")
    return RiskScale.model_validate(stored) if stored else RiskScale()


def set_scale(store: Store, ledger: Ledger, new: RiskScale, *, actor: str) -> None:
    """Change the scale; refused while any risk is rated beyond the new levels."""
    if not new.likelihood or not new.impact or not new.bands:
        raise Invalid("risk scale: likelihood, impact and bands all need at least one level")
    for risk in list_risks(store):
        _check_levels(risk.id, risk.data, new)
    set_setting(store, ledger, "risk.scale", new.model_dump(mode="json"), actor=actor)


def _check_levels(risk_id: str, risk: Risk, risk_scale: RiskScale) -> None:
    for name, value, levels in (
        ("likelihood", risk.likelihood, risk_scale.likelihood),
        ("impact", risk.impact, risk_scale.impact),
        ("residual_likelihood", risk.residual_likelihood, risk_scale.likelihood),
        ("residual_impact", risk.residual_impact, risk_scale.impact),
    ):
        if value is not None and value > len(levels):
            allowed = ", ".join(f"{i} ({label})" for i, label in enumerate(levels, start=1))
            raise Invalid(
                f"risk {risk_id}: field '{name}' is {value}; allowed values: {allowed}"
            )


def get_risk(store: Store, risk_id: str) -> records.Record[Risk]:
    return records.get(store, SPEC, risk_id)


def list_risks(store: Store, *, system: str | None = None) -> list[records.Record[Risk]]:
    return records.list_records(store, SPEC, system=system)


def _status(risk: Risk) -> str:
    if risk.acceptance is not None:
        return "accepted"
    return "treated" if risk.treatment else "identified"


def add_risk(
    store: Store,
    ledger: Ledger,
    *,
    system: str,
    fields: Mapping[str, Any],
    actor: str,
    risk_id: str | None = None,
) -> records.Record[Risk]:
    """Add a risk to a system's register."""
    rid = risk_id or records.next_id(store, SPEC)
    risk = records.validate(SPEC, rid, {**fields, "acceptance": None})
    _check_levels(rid, risk, scale(store))
    return records.create(
        store, ledger, SPEC, risk, actor=actor, status=_status(risk), system=system, record_id=rid
    )


def update_risk(
    store: Store, ledger: Ledger, risk_id: str, changes: Mapping[str, Any], *, actor: str
) -> records.Record[Risk]:
    """Change fields of a risk; any change withdraws an earlier acceptance."""
    current = get_risk(store, risk_id)
    if "acceptance" in changes:
        raise Invalid(
            f"risk {risk_id}: acceptance is not an edit", hint="accept with `assay risks accept`"
        )
    risk = records.merged(SPEC, current, {**changes, "acceptance": None})
    _check_levels(risk_id, risk, scale(store))
    return records.update(
        store, ledger, SPEC, risk_id, actor=actor, data=risk, status=_status(risk)
    )


def treat_risk(
    store: Store,
    ledger: Ledger,
    risk_id: str,
    *,
    treatment: str,
    controls: Sequence[str] = (),
    residual_likelihood: int | None = None,
    residual_impact: int | None = None,
    plan: str = "",
    owner: str | None = None,
    due: date | None = None,
    actor: str,
) -> records.Record[Risk]:
    """Choose a treatment, its controls and the expected residual rating.

    Without ``controls`` the risk keeps the ones it has (a template's suggestions).
    """
    if treatment not in TREATMENTS:
        raise Invalid(
            f"risk {risk_id}: field 'treatment' is {treatment!r}; "
            f"allowed values: {', '.join(TREATMENTS)}"
        )
    current = get_risk(store, risk_id).data
    if treatment == "mitigate" and not (controls or current.controls):
        raise Invalid(
            f"risk {risk_id}: field 'controls' is empty; a mitigated risk needs at least "
            "one control (e.g. --control iso42001:A.6.2.4)"
        )
    changes: dict[str, Any] = {
        "treatment": treatment,
        "controls": list(controls) or list(current.controls),
        "residual_likelihood": residual_likelihood or current.residual_likelihood,
        "residual_impact": residual_impact or current.residual_impact,
        "treatment_plan": plan or current.treatment_plan,
    }
    if owner is not None:
        changes["owner"] = owner
    if due is not None:
        changes["due"] = due.isoformat()
    return update_risk(store, ledger, risk_id, changes, actor=actor)


def accept_risk(
    store: Store, ledger: Ledger, risk_id: str, *, actor: str, note: str = ""
) -> records.Record[Risk]:
    """Formally accept the residual risk: a named approver, four-eyes by default."""
    current = get_risk(store, risk_id)
    risk = current.data
    if risk.treatment is None or risk.residual_likelihood is None or risk.residual_impact is None:
        raise Conflict(
            f"risk {risk_id}: treat it and rate the residual risk before acceptance",
            hint="`assay risks treat` with --residual-likelihood and --residual-impact",
        )
    if risk.acceptance is not None:
        raise Conflict(f"risk {risk_id} is already accepted by {risk.acceptance.by}")
    records.check_four_eyes(store, SPEC, risk_id, actor, required=four_eyes(store, "risk"))
    accepted = risk.model_copy(
        update={"acceptance": Acceptance(by=actor, at=datetime.now(UTC), note=note)}
    )
    return records.update(
        store,
        ledger,
        SPEC,
        risk_id,
        actor=actor,
        action="approve",
        data=accepted,
        status="accepted",
        evidence_type=SPEC.approval_type,
    )


def archive_risk(store: Store, ledger: Ledger, risk_id: str, *, actor: str) -> records.Record[Risk]:
    """Archive a risk that no longer applies (its history stays in the ledger)."""
    return records.archive(store, ledger, SPEC, risk_id, actor=actor)


def adopt_templates(
    store: Store,
    ledger: Ledger,
    *,
    system: str,
    template_ids: Sequence[str] = (),
    actor: str,
) -> list[records.Record[Risk]]:
    """Adopt template risks for a system (all when none are named); skips adopted ones."""
    by_id = {t.id: t for t in TEMPLATES}
    unknown = [t for t in template_ids if t not in by_id]
    if unknown:
        raise NotFound(
            f"unknown risk template(s) {', '.join(unknown)}; templates: {', '.join(by_id)}"
        )
    adopted = {r.data.template for r in list_risks(store, system=system)}
    wanted = [by_id[t] for t in (template_ids or by_id) if t not in adopted]
    risk_scale = scale(store)
    first = int(records.next_id(store, SPEC).rsplit("-", 1)[1])
    planned = []
    for offset, template in enumerate(wanted):
        rid = f"{SPEC.prefix}-{first + offset:03d}"
        risk = records.validate(
            SPEC,
            rid,
            {
                "title": template.title,
                "description": template.description,
                "category": template.category,
                "template": template.id,
                "likelihood": min(template.likelihood, len(risk_scale.likelihood)),
                "impact": min(template.impact, len(risk_scale.impact)),
                "controls": template.controls,
            },
        )
        planned.append(
            records.plan_create(
                store, SPEC, risk, actor=actor, status="identified", system=system, record_id=rid
            )
        )
    if planned:
        records.commit(ledger, planned)
    return [p.record for p in planned]

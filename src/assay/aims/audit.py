"""Internal audit (ISO/IEC 42001 9.2): programme, audits, auditor independence, graded findings.

An auditor who owns, or holds a RACI role for, a system in the audit's scope
is not independent; such an audit is refused unless an independence
statement explains the safeguard (9.2.2 asks for objectivity and
impartiality). Completing an audit is recorded as
``assay.dev/internal-audit/v1`` with the findings counted by grade.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assay.aims import _records as records
from assay.aims.inventory import get_system
from assay.aims.roles import list_roles
from assay.catalogs import resolve
from assay.errors import AssayError, Conflict
from assay.ledger import Ledger
from assay.ledger.evidence import INTERNAL_AUDIT
from assay.store import Store

__all__ = [
    "AUDIT_SPEC",
    "FINDING_SPEC",
    "GRADES",
    "PROGRAMME_SPEC",
    "Audit",
    "AuditFinding",
    "Independence",
    "Programme",
    "add_finding",
    "add_programme",
    "complete_audit",
    "conflicts",
    "findings_for",
    "list_audits",
    "plan_audit",
]

GRADES = ("major-nonconformity", "minor-nonconformity", "observation", "opportunity")
Grade = Literal["major-nonconformity", "minor-nonconformity", "observation", "opportunity"]


def _refs(refs: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return tuple(resolve(r).ref for r in refs)
    except AssayError as exc:
        raise ValueError(str(exc)) from exc


class Programme(BaseModel):
    """The audit programme for a period (9.2.2)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str = Field(min_length=1)
    period: str = Field(min_length=1)
    scope: str = ""
    frequency: str = "annual"
    owner: str = ""


class Independence(BaseModel):
    """Whether the auditor is independent of what is audited, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    independent: bool
    statement: str


class Audit(BaseModel):
    """One internal audit."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    programme: str | None = None
    title: str = Field(min_length=1)
    scope: str = ""
    systems: tuple[str, ...] = ()
    criteria: tuple[str, ...] = ("iso42001:9.2",)
    auditor: str = Field(min_length=1)
    independence: Independence
    planned: date | None = None
    completed_at: datetime | None = None
    conclusion: str = ""

    @field_validator("criteria")
    @classmethod
    def _resolve(cls, refs: tuple[str, ...]) -> tuple[str, ...]:
        return _refs(refs)


class AuditFinding(BaseModel):
    """A graded audit finding."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    audit: str
    grade: Grade
    description: str = Field(min_length=1)
    controls: tuple[str, ...] = ()
    capa: str | None = None

    @field_validator("controls")
    @classmethod
    def _resolve(cls, refs: tuple[str, ...]) -> tuple[str, ...]:
        return _refs(refs)


PROGRAMME_SPEC = records.Spec(
    register="audit-programme",
    model=Programme,
    prefix="AP",
    label="audit programme",
    controls=("iso42001:9.2.2",),
)
AUDIT_SPEC = records.Spec(
    register="audit",
    model=Audit,
    prefix="AUD",
    label="audit",
    controls=("iso42001:9.2.1", "iso42001:9.2.2"),
    approval_type=INTERNAL_AUDIT,
    figures=lambda a: {"independent": a.independence.independent, "systems": len(a.systems)},
)
FINDING_SPEC = records.Spec(
    register="finding",
    model=AuditFinding,
    prefix="F",
    label="finding",
    controls=("iso42001:9.2.1",),
    figures=lambda f: {"grade": f.grade, "audit": f.audit},
)


def add_programme(
    store: Store, ledger: Ledger, fields: Mapping[str, Any], *, actor: str
) -> records.Record[Programme]:
    rid = records.next_id(store, PROGRAMME_SPEC)
    programme = records.validate(PROGRAMME_SPEC, rid, fields)
    return records.create(
        store, ledger, PROGRAMME_SPEC, programme, actor=actor, status="active", record_id=rid
    )


def conflicts(store: Store, auditor: str, systems: tuple[str, ...]) -> list[str]:
    """Why ``auditor`` is not independent of ``systems`` (empty: independent)."""
    found = []
    for system_id in systems:
        if get_system(store, system_id).owner == auditor:
            found.append(f"owns {system_id}")
        for role in list_roles(store, system=system_id):
            if auditor == role.data.accountable or auditor in role.data.responsible:
                found.append(f"is responsible or accountable in {role.id} for {system_id}")
    return found


def plan_audit(
    store: Store,
    ledger: Ledger,
    fields: Mapping[str, Any],
    *,
    actor: str,
    independence_statement: str = "",
) -> records.Record[Audit]:
    """Plan an audit; the auditor's independence is checked and recorded."""
    rid = records.next_id(store, AUDIT_SPEC)
    auditor = str(fields.get("auditor", ""))
    systems = tuple(fields.get("systems", ()))
    if fields.get("programme"):
        records.get(store, PROGRAMME_SPEC, str(fields["programme"]))
    found = conflicts(store, auditor, systems)
    if found and not independence_statement:
        raise Conflict(
            f"audit {rid}: auditor {auditor} is not independent ({'; '.join(found)}); "
            "choose another auditor or record the safeguard with --independence-statement"
        )
    independence = Independence(
        independent=not found,
        statement=independence_statement
        or "No ownership of, or RACI role for, the systems in scope.",
    )
    audit = records.validate(
        AUDIT_SPEC, rid, {**fields, "independence": independence, "completed_at": None}
    )
    return records.create(
        store, ledger, AUDIT_SPEC, audit, actor=actor, status="planned", record_id=rid
    )


def list_audits(store: Store) -> list[records.Record[Audit]]:
    return records.list_records(store, AUDIT_SPEC)


def findings_for(store: Store, audit_id: str | None = None) -> list[records.Record[AuditFinding]]:
    """Findings of one audit (or all)."""
    return [
        f
        for f in records.list_records(store, FINDING_SPEC)
        if audit_id is None or f.data.audit == audit_id
    ]


def add_finding(
    store: Store,
    ledger: Ledger,
    audit_id: str,
    *,
    grade: str,
    description: str,
    controls: tuple[str, ...] = (),
    actor: str,
) -> records.Record[AuditFinding]:
    """Record a finding; the audit moves to in-progress."""
    audit = records.get(store, AUDIT_SPEC, audit_id)
    if audit.status == "completed":
        raise Conflict(f"audit {audit_id} is completed; findings can no longer be added")
    rid = records.next_id(store, FINDING_SPEC)
    finding = records.validate(
        FINDING_SPEC,
        rid,
        {"audit": audit_id, "grade": grade, "description": description, "controls": controls},
    )
    system = audit.data.systems[0] if len(audit.data.systems) == 1 else None
    changes: list[records.Planned[Any]] = [
        records.plan_create(
            store, FINDING_SPEC, finding, actor=actor, status="open", system=system, record_id=rid
        )
    ]
    if audit.status == "planned":
        changes.append(
            records.plan_update(
                AUDIT_SPEC, audit, actor=actor, action="start", status="in-progress"
            )
        )
    records.commit(ledger, changes)
    return changes[0].record


def complete_audit(
    store: Store, ledger: Ledger, audit_id: str, *, conclusion: str, actor: str
) -> records.Record[Audit]:
    """Complete an audit: its report becomes ``internal-audit`` evidence."""
    audit = records.get(store, AUDIT_SPEC, audit_id)
    if audit.status == "completed":
        raise Conflict(f"audit {audit_id} is already completed")
    done = audit.data.model_copy(
        update={"completed_at": datetime.now(UTC), "conclusion": conclusion}
    )
    grades = {g: 0 for g in GRADES}
    for finding in findings_for(store, audit_id):
        grades[finding.data.grade] += 1
    planned = records.plan_update(
        AUDIT_SPEC,
        audit,
        actor=actor,
        action="complete",
        data=done,
        status="completed",
        evidence_type=AUDIT_SPEC.approval_type,
        figures={"findings": grades},
    )
    records.commit(ledger, [planned])
    return planned.record

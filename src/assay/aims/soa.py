"""The Statement of Applicability (ISO/IEC 42001 6.1.3 d) over the 38 Annex A controls.

:func:`build` (pure) derives each control's applicability from risk
treatment: a control is applicable when a treated risk relies on it or when
the AIMS itself implements it (:data:`BASELINE`). Manual edits survive
regeneration. Every generation or edit is a new draft version; approval
(four-eyes on by default) is recorded as ``assay.dev/soa/v1``; :func:`diff`
compares two versions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from assay.aims import _records as records
from assay.aims.risk import Risk, list_risks
from assay.aims.settings import four_eyes
from assay.catalogs import Requirement, evidence_for, framework
from assay.errors import AssayError
from assay.ledger import Ledger
from assay.store import Store

__all__ = [
    "BASELINE",
    "IMPLEMENTATION_STATUSES",
    "SPEC",
    "SoA",
    "SoaChange",
    "SoaDocument",
    "SoaEntry",
    "annex_a_controls",
    "approve",
    "build",
    "current",
    "diff",
    "diff_versions",
    "edit",
    "generate",
    "version",
    "versions",
]

RECORD_ID = "SOA"
IMPLEMENTATION_STATUSES = ("not-applicable", "planned", "partial", "implemented")
ImplementationStatus = Literal["not-applicable", "planned", "partial", "implemented"]

BASELINE: dict[str, str] = {
    "iso42001:A.2.2": "the AI policy register (assay policies)",
    "iso42001:A.2.4": "policy review dates in the policy register",
    "iso42001:A.3.2": "the roles and RACI register (assay roles)",
    "iso42001:A.3.3": "the reporting-of-concerns channel record (assay roles channel)",
    "iso42001:A.5.2": "the impact assessment register (assay impact)",
    "iso42001:A.5.3": "signed-off impact assessments kept as evidence",
    "iso42001:A.6.2.8": "the tamper-evident evidence ledger",
}
"""Controls the AIMS implements through Assay itself, applicable whatever the risks."""


class SoaEntry(BaseModel):
    """One Annex A control's line in the Statement of Applicability."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    control: str
    title: str
    applicable: bool
    justification: str
    implementation_status: ImplementationStatus
    risks: tuple[str, ...] = ()
    evidence_types: tuple[str, ...] = ()
    edited: bool = False


class SoaDocument(BaseModel):
    """The stored SoA: its entries and, once approved, who approved it and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    entries: tuple[SoaEntry, ...]
    approved_by: str | None = None
    approved_at: datetime | None = None
    note: str = ""


def _figures(doc: SoaDocument) -> Mapping[str, Any]:
    return {
        "controls": len(doc.entries),
        "applicable": sum(e.applicable for e in doc.entries),
        "implemented": sum(e.implementation_status == "implemented" for e in doc.entries),
    }


SPEC = records.Spec(
    register="soa",
    model=SoaDocument,
    prefix="SOA",
    label="Statement of Applicability",
    controls=("iso42001:6.1.3",),
    approval_type="assay.dev/soa/v1",
    figures=_figures,
)


@dataclass(frozen=True)
class SoA:
    """One version of the SoA, as readiness and reports read it."""

    version: int
    status: str
    approved_by: str | None
    approved_at: datetime | None
    entries: tuple[SoaEntry, ...]

    @property
    def approved(self) -> bool:
        return self.status == "approved"

    def entry(self, control: str) -> SoaEntry:
        """The entry for ``iso42001:A.6.2.4`` (or just ``A.6.2.4``)."""
        ref = control if ":" in control else f"iso42001:{control}"
        for item in self.entries:
            if item.control == ref:
                return item
        raise AssayError(f"{control!r} is not an ISO/IEC 42001 Annex A control")

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "status": self.status,
            "approved_by": self.approved_by,
            "approved_at": self.approved_at.isoformat() if self.approved_at else None,
            "entries": [e.model_dump(mode="json") for e in self.entries],
        }


@dataclass(frozen=True)
class SoaChange:
    """One field of one control that differs between two versions."""

    control: str
    field: str
    old: Any
    new: Any


def annex_a_controls() -> tuple[Requirement, ...]:
    """The 38 ISO/IEC 42001 Annex A controls, in catalog order."""
    return tuple(
        r
        for r in framework("iso42001").requirements
        if r.kind == "control" and r.id.startswith("A.")
    )


def build(
    controls: Sequence[Requirement],
    risks: Mapping[str, Risk],
    previous: Sequence[SoaEntry] = (),
) -> tuple[SoaEntry, ...]:
    """Derive every control's entry from treated risks, keeping manual edits; pure."""
    before = {e.control: e for e in previous}
    entries = []
    for control in controls:
        ref = control.ref
        linked = tuple(
            rid
            for rid, risk in sorted(risks.items())
            if ref in risk.controls and risk.treatment not in (None, "avoid")
        )
        evidence = tuple(sorted(e.type for e in evidence_for(ref)))
        old = before.get(ref)
        if old is not None and old.edited:
            entries.append(old.model_copy(update={"risks": linked, "evidence_types": evidence}))
            continue
        if linked:
            applicable, why = True, f"Treats risk(s) {', '.join(linked)}."
        elif ref in BASELINE:
            applicable, why = True, f"Implemented by the AIMS itself: {BASELINE[ref]}."
        else:
            applicable, why = False, "No treated risk relies on this control."
        status: ImplementationStatus = "not-applicable"
        if applicable:
            kept = old.implementation_status if old is not None else "planned"
            status = "planned" if kept == "not-applicable" else kept
        entries.append(
            SoaEntry(
                control=ref,
                title=control.title,
                applicable=applicable,
                justification=why,
                implementation_status=status,
                risks=linked,
                evidence_types=evidence,
            )
        )
    return tuple(entries)


def diff(old: Sequence[SoaEntry], new: Sequence[SoaEntry]) -> list[SoaChange]:
    """Field-level differences between two versions' entries; pure."""
    before = {e.control: e.model_dump(mode="json") for e in old}
    changes = []
    for entry in new:
        after = entry.model_dump(mode="json")
        prior = before.get(entry.control, {})
        for key in ("applicable", "justification", "implementation_status", "risks"):
            if prior.get(key) != after[key]:
                changes.append(SoaChange(entry.control, key, prior.get(key), after[key]))
    return changes


def _view(version_no: int, status: str, doc: SoaDocument) -> SoA:
    return SoA(version_no, status, doc.approved_by, doc.approved_at, doc.entries)


def current(store: Store, *, approved_only: bool = False) -> SoA | None:
    """The newest SoA version (or the newest approved one); None before the first generation."""
    if not approved_only:
        found = records.find(store, SPEC, RECORD_ID)
        return _view(found.version, found.status, found.data) if found else None
    for item in reversed(records.history(store, SPEC, RECORD_ID)):
        if item.status == "approved":
            return _view(item.version, item.status, SoaDocument.model_validate(item.data))
    return None


def versions(store: Store) -> list[SoA]:
    """Every version, oldest first."""
    return [
        _view(v.version, v.status, SoaDocument.model_validate(v.data))
        for v in records.history(store, SPEC, RECORD_ID)
    ]


def version(store: Store, number: int) -> SoA:
    """One version by number."""
    for item in versions(store):
        if item.version == number:
            return item
    raise AssayError(f"the Statement of Applicability has no version {number}")


def diff_versions(store: Store, old: int, new: int) -> list[SoaChange]:
    """What changed between two stored versions."""
    return diff(version(store, old).entries, version(store, new).entries)


def _save(store: Store, ledger: Ledger, doc: SoaDocument, actor: str, action: str) -> SoA:
    found = records.find(store, SPEC, RECORD_ID)
    if found is None:
        made = records.create(
            store, ledger, SPEC, doc, actor=actor, status="draft", record_id=RECORD_ID
        )
    elif found.data == doc:
        return _view(found.version, found.status, found.data)
    else:
        made = records.update(
            store, ledger, SPEC, RECORD_ID, actor=actor, action=action, data=doc, status="draft"
        )
    return _view(made.version, made.status, made.data)


def generate(store: Store, ledger: Ledger, *, actor: str) -> SoA:
    """(Re)generate the SoA from the risk register; unchanged content makes no new version."""
    risks = {r.id: r.data for r in list_risks(store)}
    previous = current(store)
    entries = build(annex_a_controls(), risks, previous.entries if previous else ())
    if previous is not None and previous.entries == entries:
        return previous
    return _save(store, ledger, SoaDocument(entries=entries), actor, "generate")


def edit(
    store: Store,
    ledger: Ledger,
    control: str,
    *,
    applicable: bool | None = None,
    justification: str | None = None,
    implementation_status: str | None = None,
    actor: str,
) -> SoA:
    """Override one control's line; the edit is kept when the SoA is regenerated."""
    soa = current(store)
    if soa is None:
        raise AssayError("no Statement of Applicability yet: run `assay soa generate` first")
    entry = soa.entry(control)
    if implementation_status is not None and implementation_status not in IMPLEMENTATION_STATUSES:
        raise AssayError(
            f"SoA control {entry.control}: field 'implementation_status' is "
            f"{implementation_status!r}; allowed values: {', '.join(IMPLEMENTATION_STATUSES)}"
        )
    now_applicable = entry.applicable if applicable is None else applicable
    if applicable is not None and applicable != entry.applicable and not justification:
        raise AssayError(
            f"SoA control {entry.control}: changing 'applicable' needs a --justification"
        )
    if not now_applicable and entry.risks and not justification:
        raise AssayError(
            f"SoA control {entry.control}: risks {', '.join(entry.risks)} rely on it; "
            "excluding it needs a --justification"
        )
    status = implementation_status or entry.implementation_status
    if not now_applicable:
        status = "not-applicable"
    elif status == "not-applicable":
        status = "planned"
    changed = entry.model_copy(
        update={
            "applicable": now_applicable,
            "justification": justification or entry.justification,
            "implementation_status": status,
            "edited": True,
        }
    )
    entries = tuple(changed if e.control == entry.control else e for e in soa.entries)
    return _save(store, ledger, SoaDocument(entries=entries), actor, "edit")


def approve(store: Store, ledger: Ledger, *, actor: str, note: str = "") -> SoA:
    """Approve the current draft; four-eyes by default (the approver did not edit it)."""
    found = records.find(store, SPEC, RECORD_ID)
    if found is None:
        raise AssayError("no Statement of Applicability yet: run `assay soa generate` first")
    if found.status == "approved":
        raise AssayError(f"Statement of Applicability version {found.version} is already approved")
    records.check_four_eyes(store, SPEC, RECORD_ID, actor, required=four_eyes(store, "soa"))
    doc = found.data.model_copy(
        update={"approved_by": actor, "approved_at": datetime.now(UTC), "note": note}
    )
    made = records.update(
        store,
        ledger,
        SPEC,
        RECORD_ID,
        actor=actor,
        action="approve",
        data=doc,
        status="approved",
        evidence_type=SPEC.approval_type,
    )
    return _view(made.version, made.status, made.data)

"""The Statement of Applicability (ISO/IEC 42001 6.1.3 d) over the 38 Annex A controls.

:func:`build` (pure) derives each control's applicability from risk
treatment and the inventory: a control is applicable when a treated risk
relies on it, when the AIMS itself provides it (:data:`BASELINE`), or when
the systems in scope call for it (:data:`SCOPE_RULES`: a system in operation
needs A.6.2.5-A.6.2.8, one used by people outside the organisation needs
A.8.2-A.8.5, and so on). A control is excluded only with a reason taken from
that scope. Manual edits survive regeneration. Every generation or edit is a
new draft version; approval (four-eyes on by default) is recorded as
``assay.dev/soa/v1``; :func:`diff` compares two versions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from assay.aims import _records as records
from assay.aims.inventory import SystemRecord, list_systems
from assay.aims.risk import Risk, list_risks
from assay.aims.settings import four_eyes
from assay.catalogs import Requirement, evidence_for, framework
from assay.errors import Conflict, Invalid, NotFound
from assay.ledger import Ledger
from assay.ledger.evidence import SOA
from assay.store import Store

__all__ = [
    "BASELINE",
    "IMPLEMENTATION_STATUSES",
    "SCOPE_RULES",
    "SPEC",
    "Scope",
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

_NO_SOA = "no Statement of Applicability yet"
_GENERATE = "run `assay soa generate` first"

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
    "iso42001:A.6.2.8": (
        "the AI system's own event logs: gateway and guard decisions recorded in the ledger"
    ),
}
"""Controls the AIMS provides through Assay itself, applicable whatever the risks."""


@dataclass(frozen=True)
class Scope:
    """What the inventory says about the systems the SoA covers (system IDs per fact)."""

    systems: tuple[str, ...] = ()
    in_operation: tuple[str, ...] = ()
    external_users: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    suppliers: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()

    @classmethod
    def of(cls, records: Sequence[SystemRecord]) -> Scope:
        """The scope of these inventory records (active systems)."""

        def having(test: Callable[[SystemRecord], bool]) -> tuple[str, ...]:
            return tuple(r.id for r in records if test(r))

        return cls(
            systems=tuple(r.id for r in records),
            in_operation=having(lambda r: r.lifecycle_stage in ("deployment", "operation")),
            external_users=having(lambda r: bool(r.profile.customers or r.profile.surfaces)),
            datasets=having(lambda r: bool(r.profile.datasets)),
            suppliers=having(
                lambda r: bool(r.profile.suppliers or any(m.supplier for m in r.profile.models))
            ),
            customers=having(lambda r: bool(r.profile.customers)),
        )


SCOPE_RULES: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    (
        "in_operation",
        ("A.6.2.5", "A.6.2.6", "A.6.2.7", "A.6.2.8"),
        "in deployment or operation",
        "no system in scope is deployed or in operation yet",
    ),
    (
        "external_users",
        ("A.8.2", "A.8.3", "A.8.4", "A.8.5"),
        "used by people outside the organisation (customers or surfaces recorded)",
        "no system in scope has customers or user-facing surfaces recorded",
    ),
    (
        "datasets",
        ("A.4.3", "A.7.2", "A.7.3", "A.7.4", "A.7.5", "A.7.6"),
        "built or run on recorded datasets",
        "no dataset is recorded for any system in scope",
    ),
    (
        "suppliers",
        ("A.4.4", "A.10.2", "A.10.3"),
        "relying on suppliers (models or services)",
        "no supplier is recorded for any system in scope",
    ),
    (
        "customers",
        ("A.10.4",),
        "provided to customers",
        "no customer is recorded for any system in scope",
    ),
)
"""``(scope fact, controls, why they apply, why they may be left out)``."""


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
    approval_type=SOA,
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
        raise NotFound(f"{control!r} is not an ISO/IEC 42001 Annex A control")

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


def _scope_reasons(scope: Scope, control_id: str) -> tuple[str | None, str | None]:
    """``(why the scope requires it, why the scope lets it out)`` for one control."""
    for fact, ids, needs, absent in SCOPE_RULES:
        if control_id in ids:
            systems = getattr(scope, fact)
            if systems:
                return f"Required by scope: {', '.join(systems)} {needs}.", None
            return None, absent
    return None, None


def build(
    controls: Sequence[Requirement],
    risks: Mapping[str, Risk],
    previous: Sequence[SoaEntry] = (),
    scope: Scope | None = None,
) -> tuple[SoaEntry, ...]:
    """Derive every control's entry from treated risks and scope, keeping manual edits; pure."""
    scope = scope or Scope()
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
        required, absent = _scope_reasons(scope, control.id)
        if linked:
            applicable, why = True, f"Treats risk(s) {', '.join(linked)}."
            if required:
                why += f" {required}"
        elif required:
            applicable, why = True, required
        elif ref in BASELINE:
            applicable = True
            why = f"Applicable whatever the risks: Assay provides {BASELINE[ref]}."
        else:
            applicable = False
            why = "Excluded: no treated risk relies on it"
            why += f", and {absent}." if absent else "; confirm the exclusion before approval."
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
    raise NotFound(f"the Statement of Applicability has no version {number}")


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
    scope = Scope.of(list_systems(store))
    entries = build(annex_a_controls(), risks, previous.entries if previous else (), scope)
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
        raise NotFound(_NO_SOA, hint=_GENERATE)
    entry = soa.entry(control)
    if implementation_status is not None and implementation_status not in IMPLEMENTATION_STATUSES:
        raise Invalid(
            f"SoA control {entry.control}: field 'implementation_status' is "
            f"{implementation_status!r}; allowed values: {', '.join(IMPLEMENTATION_STATUSES)}"
        )
    now_applicable = entry.applicable if applicable is None else applicable
    if applicable is not None and applicable != entry.applicable and not justification:
        raise Invalid(
            f"SoA control {entry.control}: changing 'applicable' needs a --justification"
        )
    if not now_applicable and entry.risks and not justification:
        raise Invalid(
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
        raise NotFound(_NO_SOA, hint=_GENERATE)
    if found.status == "approved":
        raise Conflict(f"Statement of Applicability version {found.version} is already approved")
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

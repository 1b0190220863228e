"""Every register by name, and the refusal to delete: records are archived, never deleted.

A record is referenced by at least the ledger entry of its creation, so
:func:`delete_record` always refuses, naming the evidence that refers to it
and the archive command to use instead.
"""

from __future__ import annotations

from typing import Any

from assay.aims import _records as records
from assay.aims import audit, capa, impact, objectives, policy, review, risk, roles, soa
from assay.errors import Conflict, NotFound
from assay.ledger import Ledger
from assay.store import Store

__all__ = ["AIMS_TYPES", "REGISTERS", "delete_record", "evidence_refs", "spec_for"]

REGISTERS: dict[str, records.Spec[Any]] = {
    spec.register: spec
    for spec in (
        policy.SPEC,
        roles.SPEC,
        roles.CHANNEL_SPEC,
        risk.SPEC,
        impact.SPEC,
        soa.SPEC,
        objectives.SPEC,
        audit.PROGRAMME_SPEC,
        audit.AUDIT_SPEC,
        audit.FINDING_SPEC,
        capa.SPEC,
        review.SPEC,
    )
}
AIMS_TYPES = tuple(sorted({records.AIMS_CHANGE, *(s.approval_type for s in REGISTERS.values())}))


def spec_for(register: str) -> records.Spec[Any]:
    """The register named ``register``; an unknown name lists the known ones."""
    try:
        return REGISTERS[register]
    except KeyError:
        raise NotFound(
            f"unknown register {register!r}; registers: ai-system, {', '.join(REGISTERS)}"
        ) from None


def evidence_refs(ledger: Ledger, register: str, record_id: str) -> list[int]:
    """Sequence numbers of ledger entries about this record."""
    found = []
    for stored in ledger.entries(AIMS_TYPES):
        summary = stored.decoded().get("summary") or {}
        if summary.get("register") == register and summary.get("record") == record_id:
            found.append(stored.seq)
    return found


def delete_record(store: Store, ledger: Ledger, register: str, record_id: str) -> None:
    """Refuse to delete: say which evidence refers to the record and how to archive it."""
    if register != "ai-system":
        records.get(store, spec_for(register), record_id)
    refs = evidence_refs(ledger, register, record_id)
    shown = ", ".join(str(s) for s in refs[:5]) + (" ..." if len(refs) > 5 else "")
    raise Conflict(
        f"{register} {record_id} is referenced by {len(refs)} ledger entr"
        f"{'y' if len(refs) == 1 else 'ies'} ({shown}) and records are never deleted",
        hint=f"archive it instead with `assay aims archive {register} {record_id}`",
    )

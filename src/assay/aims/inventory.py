"""The AI system inventory (ISO/IEC 42001 clause 4.3, A.4): the subjects of evidence.

Every change is appended to the ledger as ``assay.dev/aims-change/v1`` with
the actor, so the inventory's history is as tamper-evident as the evidence.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.errors import AssayError
from assay.ledger import Evidence, Ledger, Subject
from assay.ledger.evidence import canonical_json
from assay.store import AISystem, Store

__all__ = ["LIFECYCLE_STAGES", "SystemRecord", "add_system", "get_system", "list_systems"]

LIFECYCLE_STAGES = (
    "inception",
    "design",
    "development",
    "verification",
    "deployment",
    "operation",
    "retirement",
)
"""AI system life cycle stages (after ISO/IEC 22989 §6), in order."""

_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_CONTROLS = ("iso42001:4.3", "iso42001:A.4.2")


@dataclass(frozen=True)
class SystemRecord:
    """An AI system as users see it."""

    id: str
    name: str
    owner: str
    purpose: str
    lifecycle_stage: str
    created_at: datetime
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["updated_at"] = self.updated_at.isoformat()
        return data


def _record(row: AISystem) -> SystemRecord:
    return SystemRecord(
        row.id,
        row.name,
        row.owner,
        row.purpose,
        row.lifecycle_stage,
        row.created_at,
        row.updated_at,
    )


def add_system(
    store: Store,
    ledger: Ledger,
    *,
    system_id: str,
    name: str,
    owner: str,
    purpose: str = "",
    lifecycle_stage: str = "development",
    actor: str,
) -> SystemRecord:
    """Register a system and record the change in the ledger."""
    if not _ID_RE.fullmatch(system_id):
        raise AssayError(
            f"system id {system_id!r} is invalid: use lowercase letters, digits and '-' "
            "(e.g. support-bot)"
        )
    if lifecycle_stage not in LIFECYCLE_STAGES:
        raise AssayError(
            f"lifecycle stage {lifecycle_stage!r} is not one of: {', '.join(LIFECYCLE_STAGES)}"
        )
    if not name.strip() or not owner.strip():
        raise AssayError("a system needs a non-empty --name and --owner")
    now = datetime.now(UTC)
    row = AISystem(
        id=system_id,
        name=name,
        owner=owner,
        purpose=purpose,
        lifecycle_stage=lifecycle_stage,
        created_at=now,
        updated_at=now,
    )
    record = _record(row)

    def insert_row(session: Session) -> None:
        if session.get(AISystem, system_id) is not None:
            raise AssayError(f"system {system_id!r} already exists: see `assay systems show`")
        session.add(row)

    change = Evidence(
        type="assay.dev/aims-change/v1",
        actor=actor,
        subject=Subject(system_id),
        controls=_CONTROLS,
        summary={"register": "ai-system", "action": "create", "record": system_id},
        payload=canonical_json(record.as_json()),
    )
    ledger.append([change], also=insert_row)
    return record


def get_system(store: Store, system_id: str) -> SystemRecord:
    with store.session() as session:
        row = session.get(AISystem, system_id)
        if row is None:
            raise AssayError(f"no AI system {system_id!r}: list them with `assay systems list`")
        return _record(row)


def list_systems(store: Store) -> list[SystemRecord]:
    with store.session() as session:
        return [_record(row) for row in session.scalars(select(AISystem).order_by(AISystem.id))]

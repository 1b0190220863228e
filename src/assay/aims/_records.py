"""The record engine every AIMS register shares: validate, version, evidence, archive.

A register (risks, SoA, audits, ...) is a :class:`Spec`: a name, a pydantic
model for its fields, an ID prefix and the controls its changes support. Every
create, update, approval and archive is *planned* (the new record and its
evidence entry are computed first) and then *committed*: the ledger appends
the evidence and, in the same serialised transaction, writes the record and a
version row. A record and the evidence of its change therefore commit together
or not at all, and the version table gives history, diffs and the four-eyes
check. Nothing is ever deleted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.errors import Conflict, Invalid, NotFound
from assay.ledger import Evidence, Ledger, Subject
from assay.ledger.evidence import AIMS_CHANGE, canonical_json
from assay.store import AimsRecordRow, AimsRecordVersion, AISystem, Store

__all__ = [
    "AIMS_CHANGE",
    "Planned",
    "Record",
    "Spec",
    "Version",
    "archive",
    "authors_since_approval",
    "check_four_eyes",
    "commit",
    "create",
    "find",
    "get",
    "history",
    "ids",
    "list_records",
    "merged",
    "next_id",
    "plan_create",
    "plan_update",
    "update",
    "validate",
]

M = TypeVar("M", bound=BaseModel)
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class Spec(Generic[M]):
    """What makes a register: its name, record model, ID prefix and controls."""

    register: str
    model: type[M]
    prefix: str
    label: str
    controls: tuple[str, ...]
    approval_type: str = AIMS_CHANGE
    figures: Callable[[M], Mapping[str, Any]] | None = None
    """Non-sensitive figures for the evidence summary (counts, ratings; never free text)."""


@dataclass(frozen=True)
class Record(Generic[M]):
    """One record as stored: shared columns plus the register's validated fields."""

    register: str
    id: str
    system: str | None
    status: str
    version: int
    data: M
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    archived_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """Flat JSON: the shared columns, then the register's fields."""
        return {
            "register": self.register,
            "id": self.id,
            "system": self.system,
            "status": self.status,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "updated_at": self.updated_at.isoformat(),
            "updated_by": self.updated_by,
            "archived_at": self.archived_at.isoformat() if self.archived_at else None,
            **self.data.model_dump(mode="json"),
        }


@dataclass(frozen=True)
class Version:
    """One historical version of a record."""

    version: int
    action: str
    status: str
    data: dict[str, Any]
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class Planned(Generic[M]):
    """A change computed but not yet committed: the new record and its evidence."""

    record: Record[M]
    evidence: Evidence
    apply: Callable[[Session], None] = field(repr=False)


def validate(spec: Spec[M], record_id: str, values: Mapping[str, Any]) -> M:
    """Build the register's model; errors name the record, the field and what is allowed."""
    try:
        return spec.model.model_validate(dict(values))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "record"
            problems.append(f"field '{where}': {error['msg']}")
        raise Invalid(f"{spec.label} {record_id}: " + "; ".join(problems)) from exc


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes for timezone-aware columns; they were written in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _record(spec: Spec[M], row: AimsRecordRow) -> Record[M]:
    return Record(
        register=row.register,
        id=row.id,
        system=row.system_id,
        status=row.status,
        version=row.version,
        data=spec.model.model_validate(row.data),
        created_at=_aware(row.created_at),
        created_by=row.created_by,
        updated_at=_aware(row.updated_at),
        updated_by=row.updated_by,
        archived_at=_aware(row.archived_at) if row.archived_at else None,
    )


def find(store: Store, spec: Spec[M], record_id: str) -> Record[M] | None:
    """The record, or None."""
    with store.session() as session:
        row = session.get(AimsRecordRow, (spec.register, record_id))
        return _record(spec, row) if row is not None else None


def get(store: Store, spec: Spec[M], record_id: str) -> Record[M]:
    """The record; a missing one is an error that says how to list them."""
    found = find(store, spec, record_id)
    if found is None:
        raise NotFound(
            f"no {spec.label} {record_id!r}", hint="list them with --json to see the IDs"
        )
    return found


def list_records(
    store: Store,
    spec: Spec[M],
    *,
    system: str | None = None,
    include_archived: bool = False,
) -> list[Record[M]]:
    """Records of a register in creation order (archived ones only on request)."""
    query = select(AimsRecordRow).where(AimsRecordRow.register == spec.register)
    if system is not None:
        query = query.where(AimsRecordRow.system_id == system)
    if not include_archived:
        query = query.where(AimsRecordRow.archived_at.is_(None))
    with store.session() as session:
        rows = session.scalars(query.order_by(AimsRecordRow.created_at, AimsRecordRow.id))
        return [_record(spec, row) for row in rows]


def history(store: Store, spec: Spec[M], record_id: str) -> list[Version]:
    """Every version of a record, oldest first."""
    query = (
        select(AimsRecordVersion)
        .where(
            AimsRecordVersion.register == spec.register,
            AimsRecordVersion.record_id == record_id,
        )
        .order_by(AimsRecordVersion.version)
    )
    with store.session() as session:
        return [
            Version(v.version, v.action, v.status, v.data, _aware(v.created_at), v.created_by)
            for v in session.scalars(query)
        ]


def authors_since_approval(store: Store, spec: Spec[M], record_id: str) -> set[str]:
    """Who changed the record since it was last approved (the four-eyes check's input)."""
    authors: set[str] = set()
    for version in history(store, spec, record_id):
        if version.action == "approve":
            authors.clear()
        elif version.action != "archive":
            authors.add(version.created_by)
    return authors


def check_four_eyes(
    store: Store, spec: Spec[M], record_id: str, actor: str, *, required: bool
) -> None:
    """Refuse approving one's own change when the register asks for a second person."""
    if required and actor in authors_since_approval(store, spec, record_id):
        raise Conflict(
            f"{spec.label} {record_id}: {actor} changed it since its last approval, and "
            f"four-eyes is on for the '{spec.register}' register: another person must approve",
            hint="approve as another person (set ASSAY_ACTOR), or turn four-eyes off with "
            f"`assay aims settings four-eyes {spec.register} off`",
        )


def next_id(store: Store, spec: Spec[M]) -> str:
    """The next free ``PREFIX-NNN`` ID of a register."""
    pattern = re.compile(rf"{re.escape(spec.prefix)}-(\d+)")
    with store.session() as session:
        ids = session.scalars(
            select(AimsRecordRow.id).where(AimsRecordRow.register == spec.register)
        )
        numbers = [int(m.group(1)) for i in ids if (m := pattern.fullmatch(i))]
    return f"{spec.prefix}-{max(numbers, default=0) + 1:03d}"


def _evidence(
    spec: Spec[M],
    record: Record[M],
    action: str,
    actor: str,
    evidence_type: str,
    extra: Mapping[str, Any] | None = None,
) -> Evidence:
    summary: dict[str, Any] = {
        "register": spec.register,
        "action": action,
        "record": record.id,
        "version": record.version,
        "status": record.status,
    }
    if spec.figures is not None:
        summary.update(spec.figures(record.data))
    summary.update(extra or {})
    return Evidence(
        type=evidence_type,
        actor=actor,
        summary=summary,
        subject=Subject(record.system) if record.system else None,
        controls=spec.controls,
        payload=canonical_json(record.as_json()),
    )


def _version_row(record: Record[M], action: str) -> AimsRecordVersion:
    return AimsRecordVersion(
        register=record.register,
        record_id=record.id,
        version=record.version,
        action=action,
        status=record.status,
        data=record.data.model_dump(mode="json"),
        created_at=record.updated_at,
        created_by=record.updated_by,
    )


def plan_create(
    store: Store,
    spec: Spec[M],
    data: M,
    *,
    actor: str,
    status: str,
    system: str | None = None,
    record_id: str | None = None,
) -> Planned[M]:
    """Plan a new record (an ID is allocated when none is given)."""
    rid = record_id or next_id(store, spec)
    if not _ID_RE.fullmatch(rid):
        raise Invalid(
            f"{spec.label} id {rid!r} is invalid: use letters, digits, '.', '_' and '-'"
        )
    now = datetime.now(UTC)
    record = Record(spec.register, rid, system, status, 1, data, now, actor, now, actor)

    def apply(session: Session) -> None:
        if session.get(AimsRecordRow, (spec.register, rid)) is not None:
            raise Conflict(f"{spec.label} {rid} already exists", hint="update it instead")
        if system is not None:
            owner = session.get(AISystem, system)
            if owner is None:
                raise Invalid(
                    f"{spec.label} {rid}: no AI system {system!r}",
                    hint="register it with `assay systems add`",
                )
            if owner.archived_at is not None:
                raise Conflict(f"{spec.label} {rid}: AI system {system!r} is archived")
        session.add(
            AimsRecordRow(
                register=spec.register,
                id=rid,
                system_id=system,
                status=status,
                version=1,
                data=data.model_dump(mode="json"),
                created_at=now,
                created_by=actor,
                updated_at=now,
                updated_by=actor,
            )
        )
        session.add(_version_row(record, "create"))

    return Planned(record, _evidence(spec, record, "create", actor, AIMS_CHANGE), apply)


def plan_update(
    spec: Spec[M],
    current: Record[M],
    *,
    actor: str,
    action: str = "update",
    data: M | None = None,
    status: str | None = None,
    evidence_type: str = AIMS_CHANGE,
    figures: Mapping[str, Any] | None = None,
) -> Planned[M]:
    """Plan a new version of ``current``; refused if the record changed meanwhile.

    ``figures`` adds non-sensitive numbers to the evidence summary.
    """
    if current.archived_at is not None and action != "archive":
        raise Conflict(f"{spec.label} {current.id} is archived and cannot change")
    now = datetime.now(UTC)
    record = Record(
        spec.register,
        current.id,
        current.system,
        status if status is not None else current.status,
        current.version + 1,
        data if data is not None else current.data,
        current.created_at,
        current.created_by,
        now,
        actor,
        now if action == "archive" else current.archived_at,
    )

    def apply(session: Session) -> None:
        row = session.get(AimsRecordRow, (spec.register, current.id))
        if row is None or row.version != current.version:
            raise Conflict(
                f"{spec.label} {current.id} was changed by someone else meanwhile",
                hint="run again",
            )
        row.status = record.status
        row.version = record.version
        row.data = record.data.model_dump(mode="json")
        row.updated_at = now
        row.updated_by = actor
        row.archived_at = record.archived_at
        session.add(_version_row(record, action))

    return Planned(record, _evidence(spec, record, action, actor, evidence_type, figures), apply)


def commit(ledger: Ledger, planned: Iterable[Planned[Any]]) -> None:
    """Append every planned change's evidence and write the records, all in one transaction."""
    changes = list(planned)

    def write(session: Session) -> None:
        for change in changes:
            change.apply(session)
            session.flush()

    ledger.append([change.evidence for change in changes], also=write)


def create(
    store: Store,
    ledger: Ledger,
    spec: Spec[M],
    data: M,
    *,
    actor: str,
    status: str,
    system: str | None = None,
    record_id: str | None = None,
) -> Record[M]:
    """Create a record and its evidence."""
    planned = plan_create(
        store, spec, data, actor=actor, status=status, system=system, record_id=record_id
    )
    commit(ledger, [planned])
    return planned.record


def update(
    store: Store,
    ledger: Ledger,
    spec: Spec[M],
    record_id: str,
    *,
    actor: str,
    action: str = "update",
    data: M | None = None,
    status: str | None = None,
    evidence_type: str = AIMS_CHANGE,
    figures: Mapping[str, Any] | None = None,
) -> Record[M]:
    """Write a new version of a record and its evidence."""
    planned = plan_update(
        spec,
        get(store, spec, record_id),
        actor=actor,
        action=action,
        data=data,
        status=status,
        evidence_type=evidence_type,
        figures=figures,
    )
    commit(ledger, [planned])
    return planned.record


def archive(
    store: Store, ledger: Ledger, spec: Spec[M], record_id: str, *, actor: str
) -> Record[M]:
    """Archive a record: it leaves the lists but keeps its history and evidence."""
    current = get(store, spec, record_id)
    if current.archived_at is not None:
        raise Conflict(f"{spec.label} {record_id} is already archived")
    return update(store, ledger, spec, record_id, actor=actor, action="archive")


def merged(spec: Spec[M], current: Record[M], changes: Mapping[str, Any]) -> M:
    """The record's fields with ``changes`` applied, validated."""
    values = current.data.model_dump(mode="json")
    unknown = sorted(set(changes) - set(values))
    if unknown:
        raise Invalid(
            f"{spec.label} {current.id}: unknown field(s) {', '.join(unknown)}; "
            f"fields are: {', '.join(sorted(values))}"
        )
    values.update(changes)
    return validate(spec, current.id, values)


def ids(records: Sequence[Record[M]]) -> list[str]:
    """The IDs of some records (for messages and summaries)."""
    return [r.id for r in records]

"""The AI system inventory (ISO/IEC 42001 4.3, A.4, A.7.5, A.9.4, A.10): evidence subjects.

Every change is appended to the ledger as ``assay.dev/aims-change/v1`` with
the actor, in the same transaction as the record, so the inventory's history
is as tamper-evident as the evidence. Systems are archived, never deleted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.errors import Conflict, Invalid, NotFound
from assay.ledger import Evidence, Ledger, Subject
from assay.ledger.evidence import AIMS_CHANGE, canonical_json
from assay.store import AISystem, Store

__all__ = [
    "CORE_FIELDS",
    "LIFECYCLE_STAGES",
    "ORG_ROLES",
    "DatasetRef",
    "ModelRef",
    "SystemProfile",
    "SystemRecord",
    "add_system",
    "ai_act_class",
    "archive_system",
    "get_system",
    "list_systems",
    "record_classification",
    "update_system",
]

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

OrgRole = Literal[
    "provider",
    "deployer",
    "importer",
    "distributor",
    "authorised-representative",
    "product-manufacturer",
    "gpai-model-provider",
]
ORG_ROLES: tuple[str, ...] = get_args(OrgRole)
"""The organisation's roles for a system under the EU AI Act (Art. 3(3)-(8), Art. 25(3)).

A system can have several (a bank that builds and runs its own chatbot is its
provider and its deployer); none recorded means "not yet decided", never a
silent default."""

CORE_FIELDS = ("name", "owner", "purpose", "lifecycle_stage")
_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_CONTROLS = ("iso42001:4.3", "iso42001:A.4.2", "iso42001:A.9.4")


class ModelRef(BaseModel):
    """A model the system uses (A.4.4)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    version: str = ""
    supplier: str = ""


class DatasetRef(BaseModel):
    """A dataset with its provenance (A.7.5)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    provenance: str = ""
    personal_data: bool = False


class SystemProfile(BaseModel):
    """The inventory fields beyond the core record."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    intended_use: str = ""
    foreseeable_misuse: str = ""
    org_roles: tuple[OrgRole, ...] = ()
    version: str = ""
    """The version in service; tests recorded against another version do not prove this one."""
    models: tuple[ModelRef, ...] = ()
    datasets: tuple[DatasetRef, ...] = ()
    suppliers: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()
    surfaces: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _legacy_role(cls, data: Any) -> Any:
        """Records written before roles became a set hold one ``org_role``: read it as a set."""
        if isinstance(data, dict) and "org_role" in data:
            data = dict(data)
            legacy = data.pop("org_role")
            if "org_roles" not in data and legacy:
                data["org_roles"] = [legacy] if isinstance(legacy, str) else legacy
        return data

    @model_validator(mode="after")
    def _unique_roles(self) -> SystemProfile:
        if len(set(self.org_roles)) != len(self.org_roles):
            raise ValueError("org_roles lists the same role twice")
        return self


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
    profile: SystemProfile = field(default_factory=SystemProfile)
    ai_act_class: str | None = None
    ai_act_classification: dict[str, Any] | None = None
    archived_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "owner": self.owner,
            "purpose": self.purpose,
            "lifecycle_stage": self.lifecycle_stage,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            **self.profile.model_dump(mode="json"),
            "ai_act_class": self.ai_act_class,
            "ai_act_classification": self.ai_act_classification,
            "archived_at": self.archived_at.isoformat() if self.archived_at else None,
        }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _record(row: AISystem) -> SystemRecord:
    return SystemRecord(
        row.id,
        row.name,
        row.owner,
        row.purpose,
        row.lifecycle_stage,
        _aware(row.created_at),
        _aware(row.updated_at),
        SystemProfile.model_validate(row.profile or {}),
        row.ai_act_class,
        row.ai_act_classification,
        _aware(row.archived_at) if row.archived_at else None,
    )


def _profile(system_id: str, values: Mapping[str, Any]) -> SystemProfile:
    try:
        return SystemProfile.model_validate(dict(values))
    except ValidationError as exc:
        problems = [
            f"field '{'.'.join(str(p) for p in e['loc'])}': {e['msg']}" for e in exc.errors()
        ]
        raise Invalid(f"AI system {system_id}: " + "; ".join(problems)) from exc


def _check_core(system_id: str, name: str, owner: str, lifecycle_stage: str) -> None:
    if lifecycle_stage not in LIFECYCLE_STAGES:
        raise Invalid(
            f"AI system {system_id}: field 'lifecycle_stage' is {lifecycle_stage!r}, "
            f"not one of: {', '.join(LIFECYCLE_STAGES)}"
        )
    if not name.strip() or not owner.strip():
        raise Invalid(f"AI system {system_id}: a system needs a non-empty name and owner")


def _change(
    system: SystemRecord, action: str, actor: str, extra: Mapping[str, Any] | None = None
) -> Evidence:
    summary: dict[str, Any] = {"register": "ai-system", "action": action, "record": system.id}
    summary.update(extra or {})
    return Evidence(
        type=AIMS_CHANGE,
        actor=actor,
        subject=Subject(system.id),
        controls=_CONTROLS,
        summary=summary,
        payload=canonical_json(system.as_json()),
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
    profile: Mapping[str, Any] | None = None,
    actor: str,
) -> SystemRecord:
    """Register a system and record the change in the ledger."""
    if not _ID_RE.fullmatch(system_id):
        raise Invalid(
            f"system id {system_id!r} is invalid: use lowercase letters, digits and '-' "
            "(e.g. support-bot)"
        )
    _check_core(system_id, name, owner, lifecycle_stage)
    details = _profile(system_id, profile or {})
    now = datetime.now(UTC)
    record = SystemRecord(system_id, name, owner, purpose, lifecycle_stage, now, now, details)

    def insert_row(session: Session) -> None:
        if session.get(AISystem, system_id) is not None:
            raise Conflict(f"system {system_id!r} already exists", hint="see `assay systems show`")
        session.add(
            AISystem(
                id=system_id,
                name=name,
                owner=owner,
                purpose=purpose,
                lifecycle_stage=lifecycle_stage,
                created_at=now,
                updated_at=now,
                profile=details.model_dump(mode="json"),
                updated_by=actor,
            )
        )

    ledger.append([_change(record, "create", actor)], also=insert_row)
    return record


def get_system(store: Store, system_id: str) -> SystemRecord:
    with store.session() as session:
        row = session.get(AISystem, system_id)
        if row is None:
            raise NotFound(
                f"no AI system {system_id!r}", hint="list them with `assay systems list`"
            )
        return _record(row)


def list_systems(store: Store, *, include_archived: bool = False) -> list[SystemRecord]:
    query = select(AISystem).order_by(AISystem.id)
    if not include_archived:
        query = query.where(AISystem.archived_at.is_(None))
    with store.session() as session:
        return [_record(row) for row in session.scalars(query)]


def _write(
    store: Store,
    ledger: Ledger,
    before: SystemRecord,
    after: SystemRecord,
    action: str,
    actor: str,
    extra: Mapping[str, Any] | None = None,
) -> SystemRecord:
    def write(session: Session) -> None:
        row = session.get(AISystem, before.id)
        if row is None or _aware(row.updated_at) != before.updated_at:
            raise Conflict(f"AI system {before.id} was changed meanwhile", hint="run again")
        row.name, row.owner, row.purpose = after.name, after.owner, after.purpose
        row.lifecycle_stage = after.lifecycle_stage
        row.profile = after.profile.model_dump(mode="json")
        row.ai_act_class = after.ai_act_class
        row.ai_act_classification = after.ai_act_classification
        row.archived_at = after.archived_at
        row.updated_at, row.updated_by = after.updated_at, actor

    ledger.append([_change(after, action, actor, extra)], also=write)
    return after


def update_system(
    store: Store, ledger: Ledger, system_id: str, changes: Mapping[str, Any], *, actor: str
) -> SystemRecord:
    """Change core or profile fields; unknown fields are refused by name."""
    before = get_system(store, system_id)
    if before.archived_at is not None:
        raise Conflict(f"AI system {system_id} is archived and cannot change")
    if "org_role" in changes and "org_roles" not in changes:  # the one-role spelling of old
        changes = {**changes, "org_roles": [changes["org_role"]]}
        changes = {k: v for k, v in changes.items() if k != "org_role"}
    profile_fields = set(SystemProfile.model_fields)
    unknown = sorted(set(changes) - set(CORE_FIELDS) - profile_fields)
    if unknown:
        allowed = ", ".join([*CORE_FIELDS, *sorted(profile_fields)])
        raise Invalid(
            f"AI system {system_id}: unknown field(s) {', '.join(unknown)}; fields are: {allowed}"
        )
    core = {k: changes.get(k, getattr(before, k)) for k in CORE_FIELDS}
    _check_core(system_id, core["name"], core["owner"], core["lifecycle_stage"])
    profile_values = before.profile.model_dump(mode="json")
    profile_values.update({k: v for k, v in changes.items() if k in profile_fields})
    after = SystemRecord(
        system_id,
        core["name"],
        core["owner"],
        core["purpose"],
        core["lifecycle_stage"],
        before.created_at,
        datetime.now(UTC),
        _profile(system_id, profile_values),
        before.ai_act_class,
        before.ai_act_classification,
    )
    return _write(store, ledger, before, after, "update", actor, {"fields": sorted(changes)})


def archive_system(store: Store, ledger: Ledger, system_id: str, *, actor: str) -> SystemRecord:
    """Archive a system: it leaves the inventory lists; its records and evidence remain."""
    before = get_system(store, system_id)
    if before.archived_at is not None:
        raise Conflict(f"AI system {system_id} is already archived")
    now = datetime.now(UTC)
    after = SystemRecord(
        **{**before.__dict__, "updated_at": now, "archived_at": now},
    )
    return _write(store, ledger, before, after, "archive", actor)


def record_classification(
    store: Store,
    ledger: Ledger,
    system_id: str,
    risk_class: str,
    classification: dict[str, Any],
    *,
    actor: str,
) -> SystemRecord:
    """Store a system's EU AI Act class and its rationale (see :mod:`assay.aims.classification`)."""
    before = get_system(store, system_id)
    if before.archived_at is not None:
        raise Conflict(f"AI system {system_id} is archived and cannot change")
    after = SystemRecord(
        **{
            **before.__dict__,
            "updated_at": datetime.now(UTC),
            "ai_act_class": risk_class,
            "ai_act_classification": classification,
        }
    )
    return _write(store, ledger, before, after, "classify", actor, {"ai_act_class": risk_class})


def ai_act_class(store: Store, system_id: str) -> str | None:
    """The system's recorded EU AI Act class (prohibited, high-risk, transparency, minimal)."""
    return get_system(store, system_id).ai_act_class

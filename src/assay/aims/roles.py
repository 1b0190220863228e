"""Roles and responsibilities (ISO/IEC 42001 5.3, A.3.2) and concern channels (A.3.3).

A RACI line names one accountable person (the RACI rule), the responsible,
consulted and informed parties, and optionally the system and the control it
covers. Channels record how staff and others can raise concerns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assay.aims import _records as records
from assay.catalogs import resolve
from assay.errors import AssayError
from assay.ledger import Ledger
from assay.store import Store

__all__ = [
    "CHANNEL_SPEC",
    "SPEC",
    "ConcernChannel",
    "Role",
    "add_channel",
    "add_role",
    "list_channels",
    "list_roles",
    "update_role",
]


class Role(BaseModel):
    """One RACI line."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    activity: str = Field(min_length=1)
    control: str | None = None
    responsible: tuple[str, ...] = Field(min_length=1)
    accountable: str = Field(min_length=1)
    consulted: tuple[str, ...] = ()
    informed: tuple[str, ...] = ()

    @field_validator("control")
    @classmethod
    def _resolve_control(cls, ref: str | None) -> str | None:
        if ref is None:
            return None
        try:
            return resolve(ref).ref
        except AssayError as exc:
            raise ValueError(str(exc)) from exc


class ConcernChannel(BaseModel):
    """A way to report concerns about AI systems (A.3.3)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    contact: str = Field(min_length=1)
    description: str = ""
    anonymous: bool = False
    handled_by: str = ""


SPEC = records.Spec(
    register="role",
    model=Role,
    prefix="RACI",
    label="role",
    controls=("iso42001:5.3", "iso42001:A.3.2"),
)
CHANNEL_SPEC = records.Spec(
    register="concern-channel",
    model=ConcernChannel,
    prefix="CH",
    label="concern channel",
    controls=("iso42001:A.3.3",),
    figures=lambda c: {"anonymous": c.anonymous},
)


def add_role(
    store: Store,
    ledger: Ledger,
    fields: Mapping[str, Any],
    *,
    actor: str,
    system: str | None = None,
    role_id: str | None = None,
) -> records.Record[Role]:
    """Add a RACI line (for a system, or AIMS-wide when ``system`` is None)."""
    rid = role_id or records.next_id(store, SPEC)
    role = records.validate(SPEC, rid, fields)
    return records.create(
        store, ledger, SPEC, role, actor=actor, status="active", system=system, record_id=rid
    )


def update_role(
    store: Store, ledger: Ledger, role_id: str, changes: Mapping[str, Any], *, actor: str
) -> records.Record[Role]:
    current = records.get(store, SPEC, role_id)
    return records.update(
        store, ledger, SPEC, role_id, actor=actor, data=records.merged(SPEC, current, changes)
    )


def list_roles(store: Store, *, system: str | None = None) -> list[records.Record[Role]]:
    return records.list_records(store, SPEC, system=system)


def add_channel(
    store: Store,
    ledger: Ledger,
    fields: Mapping[str, Any],
    *,
    actor: str,
    channel_id: str | None = None,
) -> records.Record[ConcernChannel]:
    rid = channel_id or records.next_id(store, CHANNEL_SPEC)
    channel = records.validate(CHANNEL_SPEC, rid, fields)
    return records.create(
        store, ledger, CHANNEL_SPEC, channel, actor=actor, status="active", record_id=rid
    )


def list_channels(store: Store) -> list[records.Record[ConcernChannel]]:
    return records.list_records(store, CHANNEL_SPEC)

"""Nonconformity and corrective action (ISO/IEC 42001 10.2).

A CAPA starts from an audit finding, an incident, a failed control or a
management review decision; it records containment, root cause, actions with
owners and due dates, and an effectiveness check. Closure is refused until the
root cause is known, every action is done and the check found the action
effective; closing is recorded as ``assay.dev/capa/v1`` and closes the
originating finding in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assay.aims import _records as records
from assay.aims.audit import FINDING_SPEC
from assay.aims.settings import four_eyes
from assay.errors import Conflict, NotFound
from assay.ledger import Ledger
from assay.ledger.evidence import CAPA
from assay.store import Store

__all__ = [
    "SOURCES",
    "SPEC",
    "Action",
    "Capa",
    "Effectiveness",
    "add_action",
    "analyse",
    "check_effectiveness",
    "close",
    "complete_action",
    "contain",
    "get_capa",
    "list_capas",
    "open_capa",
    "plan_open_capa",
    "status_of",
]

SOURCES = ("finding", "incident", "control", "review", "other")


class Action(BaseModel):
    """One corrective action with an owner and a due date."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    description: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    due: date | None = None
    done_at: datetime | None = None


class Effectiveness(BaseModel):
    """The check that the actions removed the cause."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    effective: bool
    by: str
    at: datetime
    note: str = ""


class Capa(BaseModel):
    """A nonconformity and its correction."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str = Field(min_length=1)
    source: Literal["finding", "incident", "control", "review", "other"]
    source_ref: str = ""
    description: str = ""
    containment: str = ""
    root_cause: str = ""
    actions: tuple[Action, ...] = ()
    effectiveness: Effectiveness | None = None
    closed_at: datetime | None = None


def _figures(capa: Capa) -> dict[str, Any]:
    return {
        "source": capa.source,
        "actions": len(capa.actions),
        "actions_done": sum(a.done_at is not None for a in capa.actions),
        "effective": capa.effectiveness.effective if capa.effectiveness else None,
    }


SPEC = records.Spec(
    register="capa",
    model=Capa,
    prefix="CAPA",
    label="corrective action",
    controls=("iso42001:10.2",),
    approval_type=CAPA,
    figures=_figures,
)


def status_of(capa: Capa) -> str:
    """Where a CAPA stands, from its content; pure."""
    if capa.closed_at is not None:
        return "closed"
    if capa.actions and all(a.done_at for a in capa.actions):
        return "verifying"
    if capa.actions:
        return "acting"
    if capa.root_cause:
        return "analysed"
    if capa.containment:
        return "contained"
    return "open"


def get_capa(store: Store, capa_id: str) -> records.Record[Capa]:
    return records.get(store, SPEC, capa_id)


def list_capas(store: Store, *, system: str | None = None) -> list[records.Record[Capa]]:
    return records.list_records(store, SPEC, system=system)


def plan_open_capa(
    store: Store,
    *,
    title: str,
    source: str,
    source_ref: str = "",
    description: str = "",
    system: str | None = None,
    actor: str,
    capa_id: str | None = None,
) -> list[records.Planned[Any]]:
    """Plan a CAPA (and the link on its finding) for callers committing with other changes."""
    rid = capa_id or records.next_id(store, SPEC)
    capa = records.validate(
        SPEC,
        rid,
        {"title": title, "source": source, "source_ref": source_ref, "description": description},
    )
    changes: list[records.Planned[Any]] = []
    if source == "finding":
        finding = records.get(store, FINDING_SPEC, source_ref)
        if finding.data.capa:
            raise Conflict(
                f"finding {source_ref} already has corrective action {finding.data.capa}"
            )
        system = system or finding.system
        linked = finding.data.model_copy(update={"capa": rid})
        changes.append(records.plan_update(FINDING_SPEC, finding, actor=actor, data=linked))
    changes.insert(
        0,
        records.plan_create(
            store, SPEC, capa, actor=actor, status="open", system=system, record_id=rid
        ),
    )
    return changes


def open_capa(
    store: Store,
    ledger: Ledger,
    *,
    title: str,
    source: str,
    source_ref: str = "",
    description: str = "",
    system: str | None = None,
    actor: str,
) -> records.Record[Capa]:
    """Open a corrective action (from a finding, incident, failed control or review)."""
    changes = plan_open_capa(
        store,
        title=title,
        source=source,
        source_ref=source_ref,
        description=description,
        system=system,
        actor=actor,
    )
    records.commit(ledger, changes)
    return changes[0].record


def _save(
    store: Store, ledger: Ledger, capa_id: str, changes: dict[str, Any], actor: str, action: str
) -> records.Record[Capa]:
    current = get_capa(store, capa_id)
    if current.status == "closed":
        raise Conflict(f"corrective action {capa_id} is closed")
    capa = records.merged(SPEC, current, changes)
    return records.update(
        store, ledger, SPEC, capa_id, actor=actor, action=action, data=capa, status=status_of(capa)
    )


def contain(
    store: Store, ledger: Ledger, capa_id: str, containment: str, *, actor: str
) -> records.Record[Capa]:
    """Record the immediate containment."""
    return _save(store, ledger, capa_id, {"containment": containment}, actor, "contain")


def analyse(
    store: Store, ledger: Ledger, capa_id: str, root_cause: str, *, actor: str
) -> records.Record[Capa]:
    """Record the root cause."""
    return _save(store, ledger, capa_id, {"root_cause": root_cause}, actor, "analyse")


def add_action(
    store: Store,
    ledger: Ledger,
    capa_id: str,
    *,
    description: str,
    owner: str,
    due: date | None = None,
    actor: str,
) -> records.Record[Capa]:
    """Add an action; a new action invalidates an earlier effectiveness check."""
    current = get_capa(store, capa_id).data
    action = {
        "id": f"A{len(current.actions) + 1}",
        "description": description,
        "owner": owner,
        "due": due.isoformat() if due else None,
        "done_at": None,
    }
    actions = [a.model_dump(mode="json") for a in current.actions] + [action]
    return _save(store, ledger, capa_id, {"actions": actions, "effectiveness": None}, actor, "plan")


def complete_action(
    store: Store, ledger: Ledger, capa_id: str, action_id: str, *, actor: str
) -> records.Record[Capa]:
    """Mark one action done."""
    current = get_capa(store, capa_id).data
    ids = [a.id for a in current.actions]
    if action_id not in ids:
        raise NotFound(
            f"corrective action {capa_id}: no action {action_id!r}; "
            f"allowed values: {', '.join(ids)}"
        )
    now = datetime.now(UTC).isoformat()
    actions = [
        {**a.model_dump(mode="json"), **({"done_at": now} if a.id == action_id else {})}
        for a in current.actions
    ]
    return _save(store, ledger, capa_id, {"actions": actions}, actor, "act")


def check_effectiveness(
    store: Store, ledger: Ledger, capa_id: str, *, effective: bool, note: str = "", actor: str
) -> records.Record[Capa]:
    """Record whether the actions worked; needs every action done first."""
    current = get_capa(store, capa_id).data
    if not current.actions or not all(a.done_at for a in current.actions):
        raise Conflict(
            f"corrective action {capa_id}: complete every action before checking effectiveness"
        )
    check = {"effective": effective, "by": actor, "at": datetime.now(UTC).isoformat(), "note": note}
    return _save(store, ledger, capa_id, {"effectiveness": check}, actor, "verify")


def close(store: Store, ledger: Ledger, capa_id: str, *, actor: str) -> records.Record[Capa]:
    """Close after an effective check; closes the originating finding too."""
    current = get_capa(store, capa_id)
    capa = current.data
    missing: dict[str, str] = {}
    if not capa.root_cause:
        missing["root cause"] = "`assay capa analyse`"
    if not capa.actions or not all(a.done_at for a in capa.actions):
        missing["every action done"] = "`assay capa done`"
    if capa.effectiveness is None or not capa.effectiveness.effective:
        missing["an effective effectiveness check"] = "`assay capa verify --effective`"
    if missing:
        raise Conflict(
            f"corrective action {capa_id} cannot close; missing: {'; '.join(missing)}",
            hint=f"run {', then '.join(missing.values())}",
        )
    records.check_four_eyes(store, SPEC, capa_id, actor, required=four_eyes(store, "capa"))
    closed = capa.model_copy(update={"closed_at": datetime.now(UTC)})
    changes: list[records.Planned[Any]] = [
        records.plan_update(
            SPEC,
            current,
            actor=actor,
            action="close",
            data=closed,
            status="closed",
            evidence_type=SPEC.approval_type,
        )
    ]
    changes.extend(_close_findings(store, capa_id, capa, actor))
    records.commit(ledger, changes)
    return changes[0].record


def _close_findings(
    store: Store, capa_id: str, capa: Capa, actor: str
) -> Sequence[records.Planned[Any]]:
    if capa.source != "finding":
        return []
    finding = records.get(store, FINDING_SPEC, capa.source_ref)
    if finding.status == "closed":
        return []
    return [
        records.plan_update(FINDING_SPEC, finding, actor=actor, action="close", status="closed")
    ]

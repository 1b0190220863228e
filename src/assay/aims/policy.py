"""AI policies (ISO/IEC 42001 5.2, A.2): versioned documents, approval, review dates, alignment.

A content change starts a new revision as a draft and withdraws the earlier
approval; approving records who and when (four-eyes is a per-register
setting, off by default for policies).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assay.aims import _records as records
from assay.aims.settings import four_eyes
from assay.errors import Conflict, Invalid
from assay.ledger import Ledger
from assay.store import Store

__all__ = [
    "SPEC",
    "AiPolicy",
    "add_policy",
    "approve_policy",
    "archive_policy",
    "due_for_review",
    "get_policy",
    "list_policies",
    "update_policy",
]


class AiPolicy(BaseModel):
    """An AI policy document (or a pointer to the authoritative one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str = Field(min_length=1)
    body: str = ""
    document: str = ""
    owner: str = ""
    review_due: date | None = None
    aligned_with: tuple[str, ...] = ()
    revision: int = Field(default=1, ge=1)
    approved_by: str | None = None
    approved_at: datetime | None = None


SPEC = records.Spec(
    register="policy",
    model=AiPolicy,
    prefix="POL",
    label="policy",
    controls=("iso42001:5.2", "iso42001:A.2.2", "iso42001:A.2.3", "iso42001:A.2.4"),
    figures=lambda p: {"revision": p.revision},
)


def get_policy(store: Store, policy_id: str) -> records.Record[AiPolicy]:
    return records.get(store, SPEC, policy_id)


def list_policies(store: Store) -> list[records.Record[AiPolicy]]:
    return records.list_records(store, SPEC)


def add_policy(
    store: Store,
    ledger: Ledger,
    fields: Mapping[str, Any],
    *,
    actor: str,
    policy_id: str | None = None,
) -> records.Record[AiPolicy]:
    """Add a policy as a draft (revision 1)."""
    rid = policy_id or records.next_id(store, SPEC)
    policy = records.validate(
        SPEC, rid, {**fields, "revision": 1, "approved_by": None, "approved_at": None}
    )
    return records.create(store, ledger, SPEC, policy, actor=actor, status="draft", record_id=rid)


def update_policy(
    store: Store, ledger: Ledger, policy_id: str, changes: Mapping[str, Any], *, actor: str
) -> records.Record[AiPolicy]:
    """Change a policy: a new revision, back to draft until approved again."""
    current = get_policy(store, policy_id)
    managed = {"revision", "approved_by", "approved_at"} & set(changes)
    if managed:
        raise Invalid(
            f"policy {policy_id}: field(s) {', '.join(sorted(managed))} are set by approval"
        )
    policy = records.merged(
        SPEC,
        current,
        {
            **changes,
            "revision": current.data.revision + 1,
            "approved_by": None,
            "approved_at": None,
        },
    )
    return records.update(store, ledger, SPEC, policy_id, actor=actor, data=policy, status="draft")


def approve_policy(
    store: Store, ledger: Ledger, policy_id: str, *, actor: str
) -> records.Record[AiPolicy]:
    """Approve the current revision (who and when are recorded)."""
    current = get_policy(store, policy_id)
    if current.status == "approved":
        raise Conflict(f"policy {policy_id} revision {current.data.revision} is already approved")
    records.check_four_eyes(store, SPEC, policy_id, actor, required=four_eyes(store, "policy"))
    approved = current.data.model_copy(
        update={"approved_by": actor, "approved_at": datetime.now(UTC)}
    )
    return records.update(
        store,
        ledger,
        SPEC,
        policy_id,
        actor=actor,
        action="approve",
        data=approved,
        status="approved",
    )


def archive_policy(
    store: Store, ledger: Ledger, policy_id: str, *, actor: str
) -> records.Record[AiPolicy]:
    """Retire a policy (kept, with its history)."""
    return records.archive(store, ledger, SPEC, policy_id, actor=actor)


def due_for_review(store: Store, today: date) -> list[records.Record[AiPolicy]]:
    """Policies whose review date has passed (A.2.4)."""
    return [
        p
        for p in list_policies(store)
        if p.data.review_due is not None and p.data.review_due <= today
    ]

"""AIMS settings kept in the store (not ``assay.toml``) so changes to them are evidence too.

``four-eyes.<register>``: approving needs a person other than whoever changed
the record since its last approval. On by default for the Statement of
Applicability and risk acceptance, off elsewhere.
``risk.scale``: the likelihood and impact levels and the rating bands.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.aims._records import AIMS_CHANGE
from assay.errors import Invalid
from assay.ledger import Evidence, Ledger
from assay.ledger.evidence import canonical_json
from assay.store import AimsSetting, Store

__all__ = [
    "FOUR_EYES_DEFAULTS",
    "all_settings",
    "four_eyes",
    "get_setting",
    "set_four_eyes",
    "set_setting",
]

FOUR_EYES_DEFAULTS: dict[str, bool] = {
    "soa": True,
    "risk": True,
    "policy": False,
    "impact": False,
    "capa": False,
    "review": False,
}
"""Registers with an approval step, and whether a second person must approve."""


def get_setting(store: Store, key: str, default: Any = None) -> Any:
    """A setting's value, or ``default`` when it was never set."""
    with store.session() as session:
        row = session.get(AimsSetting, key)
        return default if row is None else row.value


def all_settings(store: Store) -> dict[str, Any]:
    """Every setting with its effective value (defaults included)."""
    values: dict[str, Any] = {f"four-eyes.{k}": v for k, v in FOUR_EYES_DEFAULTS.items()}
    with store.session() as session:
        values.update({row.key: row.value for row in session.scalars(select(AimsSetting))})
    return dict(sorted(values.items()))


def set_setting(store: Store, ledger: Ledger, key: str, value: Any, *, actor: str) -> None:
    """Change a setting; the change is an ``aims-change`` entry like any other."""
    now = datetime.now(UTC)

    def write(session: Session) -> None:
        row = session.get(AimsSetting, key)
        if row is None:
            session.add(AimsSetting(key=key, value=value, updated_at=now, updated_by=actor))
        else:
            row.value, row.updated_at, row.updated_by = value, now, actor

    change = Evidence(
        type=AIMS_CHANGE,
        actor=actor,
        summary={"register": "settings", "action": "update", "record": key},
        controls=("iso42001:7.5.2",),
        payload=canonical_json({"key": key, "value": value}),
    )
    ledger.append([change], also=write)


def four_eyes(store: Store, register: str) -> bool:
    """Whether approving in ``register`` needs a second person."""
    return bool(get_setting(store, f"four-eyes.{register}", FOUR_EYES_DEFAULTS.get(register)))


def set_four_eyes(
    store: Store, ledger: Ledger, register: str, enabled: bool, *, actor: str
) -> None:
    """Turn the four-eyes rule on or off for one register."""
    if register not in FOUR_EYES_DEFAULTS:
        raise Invalid(
            f"register {register!r} has no approval step; "
            f"use one of: {', '.join(FOUR_EYES_DEFAULTS)}"
        )
    set_setting(store, ledger, f"four-eyes.{register}", enabled, actor=actor)

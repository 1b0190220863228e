"""Gateway API keys: hashed at rest, each bound to an AI system, policy and upstream.

A key is shown once (``agw_…``). The upstream credential is stored only as a
reference — ``env:NAME`` or ``file:/path`` — and read when a request needs it;
it never appears in logs or evidence.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.errors import AssayError, Invalid, NotFound
from assay.ledger import Evidence, Ledger, Subject
from assay.ledger.evidence import AIMS_CHANGE
from assay.store import Store
from assay.store.accounts import GatewayKey

__all__ = [
    "KEY_PREFIX",
    "KeyBinding",
    "create_key",
    "find_key",
    "list_keys",
    "resolve_credential",
    "revoke_key",
]

KEY_PREFIX = "agw_"
_CREDENTIAL_RE = re.compile(r"(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)")


@dataclass(frozen=True)
class KeyBinding:
    """What a key unlocks."""

    id: int
    name: str
    system: str
    policy: str | None
    upstream: str | None
    upstream_credential: str | None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def resolve_credential(reference: str | None) -> str | None:
    """The upstream secret a reference points at (``env:NAME`` or ``file:/path``)."""
    if reference is None:
        return None
    kind, _, target = reference.partition(":")
    if kind == "env":
        value = os.environ.get(target)
        if value is None:
            raise AssayError(f"the upstream credential variable {target} is not set")
        return value
    if kind == "file":
        try:
            return Path(target).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise AssayError(f"cannot read the upstream credential file {target}") from exc
    raise AssayError("an upstream credential is env:NAME or file:/path, never the secret itself")


def create_key(
    store: Store,
    ledger: Ledger,
    *,
    name: str,
    system: str,
    actor: str,
    policy: str | None = None,
    upstream: str | None = None,
    upstream_credential: str | None = None,
) -> str:
    """Create a key; returns it (shown once, stored as SHA-256)."""
    if upstream_credential is not None and not _CREDENTIAL_RE.fullmatch(upstream_credential):
        raise AssayError(
            "--upstream-credential must be env:NAME or file:/path (a reference, never the secret)"
        )
    if upstream is not None and not upstream.startswith(("http://", "https://")):
        raise AssayError(
            f"upstream {upstream!r} must be an http(s) URL, e.g. http://127.0.0.1:8001"
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = GatewayKey(
        key_hash=_digest(key),
        prefix=key[:10],
        name=name,
        system=system,
        policy=policy,
        upstream=upstream,
        upstream_credential=upstream_credential,
        created_at=datetime.now(UTC),
        revoked_at=None,
    )

    def insert(session: Session) -> None:
        from assay.store import AISystem

        if session.get(AISystem, system) is None:
            raise Invalid(f"no AI system {system!r}", hint="register it with `assay systems add`")
        session.add(row)

    change = Evidence(
        type=AIMS_CHANGE,
        actor=actor,
        subject=Subject(system),
        controls=("iso42001:A.6.2.6",),
        summary={"register": "gateway-key", "action": "create", "record": key[:10], "name": name},
    )
    ledger.append([change], also=insert)
    return key


def find_key(store: Store, key: str) -> KeyBinding | None:
    """The binding of a live key, or None (unknown or revoked)."""
    if not key.startswith(KEY_PREFIX):
        return None
    with store.session() as session:
        row = session.scalar(select(GatewayKey).where(GatewayKey.key_hash == _digest(key)))
        if row is None or row.revoked_at is not None:
            return None
        return KeyBinding(
            row.id, row.name, row.system, row.policy, row.upstream, row.upstream_credential
        )


def list_keys(store: Store) -> list[dict[str, object]]:
    with store.session() as session:
        return [
            {
                "id": row.id,
                "prefix": row.prefix,
                "name": row.name,
                "system": row.system,
                "policy": row.policy,
                "upstream": row.upstream,
                "revoked": row.revoked_at is not None,
            }
            for row in session.scalars(select(GatewayKey).order_by(GatewayKey.id))
        ]


def revoke_key(store: Store, ledger: Ledger, *, key_id: int, actor: str) -> None:
    def revoke(session: Session) -> None:
        row = session.get(GatewayKey, key_id)
        if row is None:
            raise NotFound(
                f"no gateway key {key_id}", hint="list them with `assay gateway keys list`"
            )
        row.revoked_at = datetime.now(UTC)

    change = Evidence(
        type=AIMS_CHANGE,
        actor=actor,
        summary={"register": "gateway-key", "action": "revoke", "record": str(key_id)},
    )
    ledger.append([change], also=revoke)

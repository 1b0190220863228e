"""Users, browser sessions and API tokens in the store.

Passwords are argon2id hashes; session ids and tokens are 32 random bytes
shown to their owner once and stored only as SHA-256 digests. Creating a user
or a token is recorded in the ledger (without any secret).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from assay.accounts._roles import ROLES, SCOPES, Principal, permissions_for
from assay.errors import Conflict, Invalid, NotFound
from assay.ledger import Evidence, Ledger
from assay.ledger.evidence import AIMS_CHANGE
from assay.store import Store
from assay.store.accounts import ApiToken, User, WebSession

__all__ = [
    "SESSION_LIFETIME",
    "TOKEN_PREFIX",
    "add_user",
    "authenticate",
    "create_session",
    "create_token",
    "end_session",
    "list_tokens",
    "list_users",
    "principal_for_session",
    "principal_for_token",
    "revoke_token",
    "set_disabled",
    "set_password",
]

SESSION_LIFETIME = timedelta(hours=12)
TOKEN_PREFIX = "assay_"  # noqa: S105 - a public prefix, not a secret
_USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
_MIN_PASSWORD = 12


_HASHER = PasswordHasher()


def _hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _check_password(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


# A real argon2 hash to verify against when the user does not exist, so a
# login for an unknown name costs the same time as one for a known name.
_DUMMY_HASH: str | None = None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _change(actor: str, action: str, record: str, summary: dict[str, object]) -> Evidence:
    return Evidence(
        type=AIMS_CHANGE,
        actor=actor,
        controls=("iso42001:A.3.2",),
        summary={"register": "access", "action": action, "record": record, **summary},
    )


def add_user(
    store: Store, ledger: Ledger, *, username: str, password: str, role: str, actor: str
) -> None:
    """Create a local user (recorded in the ledger, password never)."""
    if not _USERNAME_RE.fullmatch(username):
        raise Invalid(
            f"username {username!r} is invalid: 2-64 lowercase letters, digits, '.', '_' or '-'"
        )
    if role not in ROLES:
        raise Invalid(f"role {role!r} is not one of: {', '.join(ROLES)}")
    if len(password) < _MIN_PASSWORD:
        raise Invalid(f"the password must have at least {_MIN_PASSWORD} characters")
    row = User(
        username=username,
        password_hash=_hash_password(password),
        role=role,
        disabled=False,
        created_at=datetime.now(UTC),
    )

    def insert(session: Session) -> None:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise Conflict(f"user {username!r} already exists")
        session.add(row)

    ledger.append([_change(actor, "create-user", username, {"role": role})], also=insert)


def set_password(
    store: Store,
    ledger: Ledger,
    *,
    username: str,
    password: str,
    actor: str,
    keep_session: str | None = None,
) -> None:
    """Set a password and end the user's sessions but ``keep_session`` (OWASP ASVS 3.3.3)."""
    if len(password) < _MIN_PASSWORD:
        raise Invalid(f"the password must have at least {_MIN_PASSWORD} characters")
    new_hash = _hash_password(password)
    kept = _digest(keep_session) if keep_session else None

    def update(session: Session) -> None:
        user = _user(session, username)
        user.password_hash = new_hash
        _end_sessions(session, user.id, keep=kept)

    ledger.append([_change(actor, "set-password", username, {})], also=update)


def set_disabled(
    store: Store, ledger: Ledger, *, username: str, disabled: bool, actor: str
) -> None:
    """Disable (ending every session) or re-enable a user; recorded in the ledger."""

    def update(session: Session) -> None:
        user = _user(session, username)
        user.disabled = disabled
        if disabled:
            _end_sessions(session, user.id)

    action = "disable-user" if disabled else "enable-user"
    ledger.append([_change(actor, action, username, {})], also=update)


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}", hint="list them with `assay users list`")
    return user


def _end_sessions(session: Session, user_id: int, keep: str | None = None) -> None:
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if keep is not None:
        query = query.where(WebSession.id_hash != keep)
    session.execute(query)


def list_users(store: Store) -> list[dict[str, object]]:
    with store.session() as session:
        return [
            {"username": u.username, "role": u.role, "disabled": u.disabled}
            for u in session.scalars(select(User).order_by(User.username))
        ]


def authenticate(store: Store, username: str, password: str) -> User | None:
    """The user if the password matches and the account is enabled."""
    global _DUMMY_HASH
    with store.session() as session:
        user = session.scalar(select(User).where(User.username == username))
    if user is None or user.disabled:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = _hash_password(secrets.token_hex(16))
        _check_password(_DUMMY_HASH, password)
        return None
    return user if _check_password(user.password_hash, password) else None


def create_session(store: Store, user: User) -> str:
    """A new session; returns the cookie value (shown once, stored hashed)."""
    cookie = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with store.session() as session:
        session.add(
            WebSession(
                id_hash=_digest(cookie),
                user_id=user.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
    return cookie


def end_session(store: Store, cookie: str) -> None:
    with store.session() as session:
        row = session.get(WebSession, _digest(cookie))
        if row is not None:
            session.delete(row)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def principal_for_session(store: Store, cookie: str) -> Principal | None:
    with store.session() as session:
        row = session.get(WebSession, _digest(cookie))
        if row is None or _aware(row.expires_at) < datetime.now(UTC):
            return None
        user = session.get(User, row.user_id)
        if user is None or user.disabled:
            return None
        return Principal(
            user.id, user.username, user.role, permissions_for(user.role), "session", row.csrf_token
        )


def create_token(
    store: Store,
    ledger: Ledger,
    *,
    username: str,
    name: str,
    scope: str,
    days: int,
    actor: str,
) -> str:
    """A new API token for ``username``; returns it (shown once, stored hashed)."""
    if scope not in SCOPES:
        raise Invalid(f"scope {scope!r} is not one of: {', '.join(SCOPES)}")
    if not 1 <= days <= 366:
        raise Invalid("token lifetime must be between 1 and 366 days")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)

    def insert(session: Session) -> None:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"no user {username!r}", hint="add one with `assay users add`")
        session.add(
            ApiToken(
                token_hash=_digest(token),
                prefix=token[:12],
                name=name,
                user_id=user.id,
                scope=scope,
                created_at=now,
                expires_at=now + timedelta(days=days),
                revoked_at=None,
            )
        )

    summary = {"name": name, "scope": scope, "days": days, "prefix": token[:12]}
    ledger.append([_change(actor, "create-token", username, summary)], also=insert)
    return token


def principal_for_token(store: Store, token: str) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    with store.session() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
        if row is None or row.revoked_at is not None:
            return None
        if _aware(row.expires_at) < datetime.now(UTC):
            return None
        user = session.get(User, row.user_id)
        if user is None or user.disabled:
            return None
        return Principal(
            user.id, user.username, user.role, permissions_for(user.role, row.scope), "token"
        )


def list_tokens(store: Store) -> list[dict[str, object]]:
    with store.session() as session:
        rows = session.execute(
            select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
        ).all()
        return [
            {
                "id": token.id,
                "prefix": token.prefix,
                "name": token.name,
                "user": username,
                "scope": token.scope,
                "expires_at": _aware(token.expires_at).isoformat(),
                "revoked": token.revoked_at is not None,
            }
            for token, username in rows
        ]


def revoke_token(store: Store, ledger: Ledger, *, token_id: int, actor: str) -> None:
    def revoke(session: Session) -> None:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFound(f"no API token {token_id}", hint="list them with `assay tokens list`")
        row.revoked_at = datetime.now(UTC)

    ledger.append([_change(actor, "revoke-token", str(token_id), {})], also=revoke)

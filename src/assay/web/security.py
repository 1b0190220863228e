"""Request authentication, permission checks and CSRF for every route.

Routes declare what they need with ``Depends(require(Permission.X))``; the
dependency carries its permission as an attribute, so a test can walk the
app's routes and prove that every one is covered. Browser requests
authenticate with the session cookie and must echo the session's CSRF token
on unsafe methods; API clients send a bearer token.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from fastapi import HTTPException, Request
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from assay.accounts import Permission, Principal, principal_for_session, principal_for_token
from assay.store import Store
from assay.store.accounts import LoginAttempt

__all__ = [
    "COOKIE_NAME",
    "LoginThrottle",
    "NotAuthenticated",
    "require",
]

COOKIE_NAME = "assay_session"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class NotAuthenticated(Exception):
    """No valid session or token: API gets 401, pages redirect to the login form."""


async def _principal(request: Request) -> Principal | None:
    workspace = request.app.state.workspace
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return principal_for_token(workspace.store, header[7:].strip())
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie:
        return principal_for_session(workspace.store, cookie)
    return None


async def _check_csrf(request: Request, principal: Principal) -> None:
    if principal.via != "session" or request.method not in _UNSAFE:
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    expected = principal.csrf_token or ""
    if not sent or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def require(permission: Permission) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency that authenticates the caller and checks ``permission``."""

    async def dependency(request: Request) -> Principal:
        principal = await _principal(request)
        if principal is None:
            raise NotAuthenticated
        if not principal.can(permission):
            raise HTTPException(
                403, f"your role ({principal.role}) does not allow this ({permission.value})"
            )
        await _check_csrf(request, principal)
        request.state.principal = principal
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency


class LoginThrottle:
    """At most ``limit`` login attempts per key in ``window`` seconds, counted atomically.

    An attempt is *reserved* in a serialised transaction before the password is
    checked, so concurrent requests cannot all pass the check before any failure
    is counted (OWASP ASVS 2.2.1). The count lives in the database (table
    ``login_attempts``): every worker process shares it and a restart keeps it
    (issue #19 item 18). A success clears the key's count.
    """

    def __init__(self, store: Store, limit: int = 10, window: float = 900.0) -> None:
        self.store = store
        self.limit = limit
        self.window = timedelta(seconds=window)

    def attempt(self, key: str) -> bool:
        """Reserve one attempt for ``key``; False once the limit is reached."""
        now = datetime.now(UTC)
        digest = _digest(key)
        with self.store.serialized() as session:
            session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - self.window))
            if self._count(session, digest, now) >= self.limit:
                return False
            session.add(LoginAttempt(key_digest=digest, at=now))
            return True

    def blocked(self, key: str) -> bool:
        with self.store.session() as session:
            return self._count(session, _digest(key), datetime.now(UTC)) >= self.limit

    def succeeded(self, key: str) -> None:
        with self.store.serialized() as session:
            session.execute(delete(LoginAttempt).where(LoginAttempt.key_digest == _digest(key)))

    def _count(self, session: Session, digest: str, now: datetime) -> int:
        query = select(func.count()).where(
            LoginAttempt.key_digest == digest, LoginAttempt.at >= now - self.window
        )
        return int(session.scalar(query) or 0)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

"""Request authentication, permission checks and CSRF for every route.

Routes declare what they need with ``Depends(require(Permission.X))``; the
dependency carries its permission as an attribute, so a test can walk the
app's routes and prove that every one is covered. Browser requests
authenticate with the session cookie and must echo the session's CSRF token
on unsafe methods; API clients send a bearer token.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request

from assay.web.accounts import principal_for_session, principal_for_token
from assay.web.auth import Permission, Principal

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

    An attempt is *reserved* under a lock before the password is checked, so
    concurrent requests cannot all pass the check before any failure is counted
    (OWASP ASVS 2.2.1). A success clears the key's count.
    """

    def __init__(self, limit: int = 10, window: float = 900.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def attempt(self, key: str) -> bool:
        """Reserve one attempt for ``key``; False once the limit is reached."""
        now = time.monotonic()
        with self._lock:
            attempts = self._failures[key]
            while attempts and attempts[0] < now - self.window:
                attempts.popleft()
            if len(attempts) >= self.limit:
                return False
            attempts.append(now)
            return True

    def blocked(self, key: str) -> bool:
        with self._lock:
            attempts = self._failures.get(key, deque())
            cutoff = time.monotonic() - self.window
            return sum(1 for t in attempts if t >= cutoff) >= self.limit

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

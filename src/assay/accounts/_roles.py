"""Roles, permissions and the principal making a request (pure: no I/O).

Five roles. ``admin`` does everything; ``compliance`` edits the AIMS;
``engineer`` owns policies, scans, gateway keys and API tokens; ``auditor``
reads everything, verifies, exports packs and adds audit findings; ``viewer``
reads. API tokens carry a scope that can only narrow their user's role.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ROLES",
    "ROLE_PERMISSIONS",
    "SCOPES",
    "Permission",
    "Principal",
    "permissions_for",
]


class Permission(StrEnum):
    """What a route needs."""

    READ = "read"
    VERIFY_EXPORT = "verify-export"
    AIMS_WRITE = "aims-write"
    AUDIT_WRITE = "audit-write"
    ENGINEERING = "engineering"
    ADMIN = "admin"


ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "admin": frozenset(Permission),
    "compliance": frozenset(
        {Permission.READ, Permission.VERIFY_EXPORT, Permission.AIMS_WRITE, Permission.AUDIT_WRITE}
    ),
    "engineer": frozenset({Permission.READ, Permission.ENGINEERING}),
    "auditor": frozenset({Permission.READ, Permission.VERIFY_EXPORT, Permission.AUDIT_WRITE}),
    "viewer": frozenset({Permission.READ}),
}
ROLES = tuple(ROLE_PERMISSIONS)

SCOPES: dict[str, frozenset[Permission]] = {
    "read": frozenset({Permission.READ, Permission.VERIFY_EXPORT}),
    "write": frozenset(Permission),
}
"""API token scopes; a token's permissions are its role's ∩ its scope's."""


def permissions_for(role: str, scope: str | None = None) -> frozenset[Permission]:
    granted = ROLE_PERMISSIONS.get(role, frozenset())
    return granted if scope is None else granted & SCOPES.get(scope, frozenset())


@dataclass(frozen=True)
class Principal:
    """Who is calling, how they authenticated, and what they may do."""

    user_id: int
    username: str
    role: str
    permissions: frozenset[Permission]
    via: str  # "session" or "token"
    csrf_token: str | None = None

    @property
    def actor(self) -> str:
        """The name recorded as the actor in ledger evidence."""
        return f"{self.username}@web"

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

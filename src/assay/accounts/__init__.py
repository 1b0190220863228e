"""People and machines that use Assay: roles and their permissions, users, sessions and
API tokens (the web dashboard, the REST API, the MCP server and the CLI share them).

Secrets are never stored: passwords as argon2id hashes, session ids and API tokens
as SHA-256 digests of high-entropy random values. The role matrix (which role may
read, export, edit the AIMS, audit, engineer, administer) is defined once here.
"""

from assay.accounts._roles import (
    ROLE_PERMISSIONS,
    ROLES,
    SCOPES,
    Permission,
    Principal,
    permissions_for,
)
from assay.accounts._service import (
    SESSION_LIFETIME,
    TOKEN_PREFIX,
    add_user,
    authenticate,
    create_session,
    create_token,
    end_session,
    list_tokens,
    list_users,
    principal_for_session,
    principal_for_token,
    revoke_token,
    set_disabled,
    set_password,
)

__all__ = [
    "ROLES",
    "ROLE_PERMISSIONS",
    "SCOPES",
    "SESSION_LIFETIME",
    "TOKEN_PREFIX",
    "Permission",
    "Principal",
    "add_user",
    "authenticate",
    "create_session",
    "create_token",
    "end_session",
    "list_tokens",
    "list_users",
    "permissions_for",
    "principal_for_session",
    "principal_for_token",
    "revoke_token",
    "set_disabled",
    "set_password",
]

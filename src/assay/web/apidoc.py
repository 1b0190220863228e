"""The REST API reference (docs/api.md), generated from the live OpenAPI spec.

    python -m assay.web.apidoc > docs/api.md

A test regenerates it and fails when the committed page is out of date.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute

__all__ = ["api_markdown"]


def _permissions(routes: list[Any]) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            found.update(_permissions(inner.routes))
        elif isinstance(route, APIRoute):
            for dep in route.dependant.dependencies:
                permission = getattr(dep.call, "permission", None)
                if permission is not None:
                    for method in route.methods or ():
                        found[(method.upper(), route.path)] = str(permission.value)
    return found


def _params(operation: dict[str, Any]) -> str:
    names = [
        f"`{p['name']}` ({p['in']}{', required' if p.get('required') else ''})"
        for p in operation.get("parameters", [])
    ]
    if "requestBody" in operation:
        names.append("JSON body")
    return "; ".join(names) or "—"


def api_markdown(spec: dict[str, Any], permissions: dict[tuple[str, str], str]) -> str:
    """Markdown for every path and method in ``spec``."""
    lines = [
        "# REST API reference",
        "",
        "Generated from the OpenAPI spec (`python -m assay.web.apidoc > docs/api.md`).",
        "The live spec is served, to authenticated users, at `/api/v1/openapi.json`.",
        "Authenticate with `Authorization: Bearer assay_…` (`assay tokens create`) or a",
        "dashboard session (then send the `x-csrf-token` header on writes).",
        "",
        "Errors answer `{\"error\": \"<what is wrong>\"}` with a status by kind: 404 not",
        "found, 409 conflict (exists already, closed, archived, changed meanwhile), 400",
        "invalid or other refusal, 422 verification failed or a malformed request, 401",
        "unauthenticated, 403 not permitted.",
        "",
        "| method | path | permission | parameters | what it does |",
        "|---|---|---|---|---|",
    ]
    for path, methods in sorted(spec.get("paths", {}).items()):
        for method, operation in sorted(methods.items()):
            summary = (operation.get("description") or operation.get("summary") or "").strip()
            first = summary.splitlines()[0] if summary else ""
            permission = permissions.get((method.upper(), path), "—")
            lines.append(
                f"| {method.upper()} | `{path}` | {permission} | {_params(operation)} | {first} |"
            )
    lines += [
        "",
        "Permissions by role: admin — all; compliance — read, verify-export, aims-write,",
        "audit-write; engineer — read, engineering; auditor — read, verify-export,",
        "audit-write; viewer — read. A token's scope (`read` or `write`) narrows its",
        "user's role.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    from assay.web import create_app
    from assay.workspace import init_workspace

    with tempfile.TemporaryDirectory() as tmp:
        workspace = init_workspace(Path(tmp) / "ws")
        app = create_app(workspace)
        sys.stdout.write(api_markdown(app.openapi(), _permissions(app.routes)))
        workspace.close()


if __name__ == "__main__":
    main()

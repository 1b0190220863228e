"""Every route is authenticated and role-checked: the role × route matrix."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from assay.accounts import ROLE_PERMISSIONS, Permission
from assay.workspace import Workspace

PUBLIC = {("GET", "/login"), ("POST", "/login")}
SAMPLE = {
    "system_id": "bot",
    "seq": "0",
    "framework_id": "iso42001",
    "ref": "iso42001:A.6.2.4",
    "assessment_id": "IA-001",
    "control": "A.6.2.4",
    "audit_id": "AUD-001",
    "capa_id": "CAPA-001",
    "review_id": "MR-001",
    "risk_id": "R-001",
    "policy_id": "POL-001",
    "objective_id": "OBJ-001",
    "finding_id": "F-001",
    "run_id": "rt-20260101-000000-abcd",
    "fmt": "oscal-catalog",
}


def _flatten(routes: list[Any]) -> list[APIRoute]:
    """API routes, looking inside included routers (FastAPI >= 0.120 wraps them)."""
    flat: list[APIRoute] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            flat += _flatten(inner.routes)
        elif isinstance(route, APIRoute):
            flat.append(route)
    return flat


def _routes(app: FastAPI) -> list[tuple[str, str, Permission | None]]:
    found = []
    for route in _flatten(app.routes):
        perms = [
            getattr(dep.call, "permission", None)
            for dep in route.dependant.dependencies
            if getattr(dep.call, "permission", None) is not None
        ]
        for method in route.methods:
            found.append((method, route.path, perms[0] if perms else None))
    return found


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)(:path)?\}", lambda m: SAMPLE[m.group(1)], path)


def test_every_route_declares_a_permission(app: FastAPI) -> None:
    unguarded = [(m, p) for m, p, perm in _routes(app) if perm is None and (m, p) not in PUBLIC]
    assert unguarded == []


def test_unauthenticated_requests_are_refused(app: FastAPI) -> None:
    client = TestClient(app)
    for method, path, perm in _routes(app):
        if perm is None:
            continue
        response = client.request(method, _url(path), follow_redirects=False)
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path)
        else:
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith("/login")


def test_role_route_matrix(app: FastAPI, clients: dict[str, tuple[TestClient, str]]) -> None:
    checked = 0
    for method, path, perm in _routes(app):
        if perm is None or path in ("/logout",):
            continue
        for role, (client, csrf) in clients.items():
            # Empty bodies: an allowed write fails validation (400/422), a refused one is 403.
            response = client.request(
                method, _url(path), headers={"x-csrf-token": csrf}, follow_redirects=False
            )
            allowed = perm in ROLE_PERMISSIONS[role]
            if allowed:
                assert response.status_code not in (401, 403), (role, method, path, response.text)
            else:
                assert response.status_code == 403, (role, method, path, response.status_code)
            checked += 1
    assert checked > 50


def test_csrf_is_required_on_session_writes(clients: dict[str, tuple[TestClient, str]]) -> None:
    client, csrf = clients["compliance"]
    form = {"system_id": "new-bot", "name": "New", "owner": "me"}
    refused = client.post("/systems", data=form, follow_redirects=False)
    assert refused.status_code == 403
    wrong = client.post("/systems", data={**form, "csrf_token": "x" * 40}, follow_redirects=False)
    assert wrong.status_code == 403
    accepted = client.post("/systems", data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert accepted.status_code == 303


def test_writes_are_ledger_evidence_with_the_actor(
    workspace: Workspace, clients: dict[str, tuple[TestClient, str]]
) -> None:
    client, csrf = clients["compliance"]
    form = {"system_id": "web-bot", "name": "Web", "owner": "me", "csrf_token": csrf}
    assert client.post("/systems", data=form, follow_redirects=False).status_code == 303
    last = workspace.ledger.get(workspace.ledger.size() - 1).decoded()
    assert last["type"] == "assay.dev/aims-change/v1"
    assert last["actor"] == "compliance@web"


def test_login_failures_are_throttled(app: FastAPI) -> None:
    client = TestClient(app)
    for _ in range(10):
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        bad = client.post(
            "/login",
            data={"username": "admin", "password": "wrong-password!", "csrf_token": token.group(1)},
        )
        assert bad.status_code == 401
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    blocked = client.post(
        "/login",
        data={"username": "admin", "password": "wrong-password!", "csrf_token": token.group(1)},
    )
    assert blocked.status_code == 429


def test_session_cookie_flags(app: FastAPI) -> None:
    client = TestClient(app)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    response = client.post(
        "/login",
        data={
            "username": "viewer",
            "password": "correct horse battery staple",
            "csrf_token": token.group(1),
        },
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


@pytest.mark.parametrize("next_url", ["//evil.example", "https://evil.example/"])
def test_no_open_redirect_after_login(app: FastAPI, next_url: str) -> None:
    client = TestClient(app)
    page = client.get(f"/login?next={next_url}")
    assert "evil.example" not in page.text

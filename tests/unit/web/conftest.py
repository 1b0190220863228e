"""A served app with one user per role, and clients logged in as each."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assay import accounts
from assay.accounts import ROLES
from assay.aims import add_system
from assay.ledger import Evidence, Subject
from assay.web import create_app
from assay.workspace import Workspace

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters: the tests exercise login flows, not hashing cost."""
    monkeypatch.setattr(
        accounts._service, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def app(workspace: Workspace) -> FastAPI:
    for role in ROLES:
        accounts.add_user(
            workspace.store,
            workspace.ledger,
            username=role,
            password=PASSWORD,
            role=role,
            actor="setup",
        )
    add_system(
        workspace.store, workspace.ledger, system_id="bot", name="Bot", owner="CX", actor="setup"
    )
    workspace.ledger.append([Evidence("assay.dev/note/v1", "setup", {"n": 1}, Subject("bot"))])
    workspace.ledger.checkpoint()
    return create_app(workspace)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": token.group(1),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = client.get("/")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert csrf
    return csrf.group(1)


@pytest.fixture
def clients(app: FastAPI) -> Iterator[dict[str, tuple[TestClient, str]]]:
    sessions = {}
    for role in ROLES:
        client = TestClient(app)
        sessions[role] = (client, login(client, role))
    yield sessions
    for client, _ in sessions.values():
        client.close()

"""Login and session hardening (issue #19 item 18)."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from assay import accounts
from assay.cli.main import run
from assay.errors import AssayError
from assay.web import create_app
from assay.web.pages import error_page
from assay.web.security import LoginThrottle
from assay.workspace import Workspace

from .conftest import PASSWORD, login


def test_concurrent_attempts_cannot_pass_the_throttle_together(workspace: Workspace) -> None:
    throttle = LoginThrottle(workspace.store, limit=10)
    barrier = threading.Barrier(50)
    allowed: list[bool] = []

    def attempt() -> None:
        barrier.wait()
        allowed.append(throttle.attempt("admin|10.0.0.1"))

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 10
    assert throttle.blocked("admin|10.0.0.1")
    restarted = LoginThrottle(workspace.store, limit=10)  # another worker, or after a restart
    assert restarted.blocked("admin|10.0.0.1") and not restarted.attempt("admin|10.0.0.1")
    assert restarted.attempt("admin|10.0.0.2")  # keys are counted apart
    throttle.succeeded("admin|10.0.0.1")
    assert throttle.attempt("admin|10.0.0.1")


def test_old_attempts_expire(workspace: Workspace) -> None:
    throttle = LoginThrottle(workspace.store, limit=2, window=0.2)
    assert throttle.attempt("bob|1") and throttle.attempt("bob|1")
    assert not throttle.attempt("bob|1")
    threading.Event().wait(0.3)
    assert throttle.attempt("bob|1")


def test_forwarded_headers_are_ignored_unless_a_proxy_is_trusted(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    root = str(workspace.root)
    assert run(["--workspace", root, "serve"]) == 0
    assert run(["--workspace", root, "serve", "--trusted-proxy", "10.0.0.5"]) == 0
    assert calls[0]["proxy_headers"] is False
    assert calls[1]["proxy_headers"] is True and calls[1]["forwarded_allow_ips"] == "10.0.0.5"


def _logged_in(app: FastAPI, username: str) -> TestClient:
    client = TestClient(app)
    login(client, username)
    return client


def _signed_in(client: TestClient) -> bool:
    return client.get("/", follow_redirects=False).status_code == 200


def test_a_password_change_ends_the_other_sessions(app: FastAPI, workspace: Workspace) -> None:
    kept, other = _logged_in(app, "viewer"), _logged_in(app, "viewer")
    accounts.set_password(
        workspace.store, workspace.ledger, username="viewer", password="another long password",
        actor="viewer@web", keep_session=kept.cookies.get("assay_session"),
    )  # fmt: skip
    assert _signed_in(kept) and not _signed_in(other)
    accounts.set_password(
        workspace.store, workspace.ledger, username="viewer", password=PASSWORD, actor="admin"
    )
    assert not _signed_in(kept)


def test_disabling_a_user_ends_their_sessions(
    app: FastAPI, workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    client = _logged_in(app, "engineer")
    root = str(workspace.root)
    assert run(["--workspace", root, "users", "disable", "engineer"]) == 0
    assert "ended their sessions" in capsys.readouterr().out
    assert not _signed_in(client)
    assert run(["--workspace", root, "users", "enable", "engineer"]) == 0
    assert not _signed_in(client)  # the session was deleted, not only suspended
    assert _signed_in(_logged_in(app, "engineer"))
    last = workspace.ledger.get(workspace.ledger.size() - 2).decoded()
    assert last["summary"]["action"] == "disable-user"


def test_hsts_and_secure_login_cookie_under_tls(app: FastAPI, workspace: Workspace) -> None:
    assert "strict-transport-security" not in TestClient(app).get("/login").headers
    tls = TestClient(create_app(workspace, secure_cookies=True), base_url="https://testserver")
    page = tls.get("/login")
    assert page.headers["strict-transport-security"] == "max-age=31536000"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    refused = tls.post(
        "/login", data={"username": "admin", "password": "wrong!", "csrf_token": token.group(1)}
    )
    assert refused.status_code == 401
    assert "secure" in refused.headers["set-cookie"].lower()


def test_errors_never_reveal_the_workspace_path(app: FastAPI, workspace: Workspace) -> None:
    def fail() -> None:
        raise AssayError(f"cannot read {workspace.root.resolve()}/policies/x.yaml")

    app.add_api_route("/api/v1/fail", fail)
    app.add_api_route("/fail", fail)
    client = _logged_in(app, "admin")
    for path in ("/api/v1/fail", "/fail"):
        response = client.get(path)
        assert response.status_code == 400
        assert str(workspace.root) not in response.text and "tmp" not in response.text
        assert "&lt;workspace&gt;/policies/x.yaml" in response.text or (
            "<workspace>/policies/x.yaml" in response.text
        )


def test_page_errors_never_reveal_the_workspace_path(app: FastAPI, workspace: Workspace) -> None:
    def scan_failed(request: Request) -> HTMLResponse:  # as a failed background scan shows it
        return error_page(request, 500, f"OSError: cannot write {workspace.root}/scans/r1")

    app.add_api_route("/scan-failed", scan_failed)
    response = TestClient(app).get("/scan-failed")
    assert str(workspace.root) not in response.text
    assert "&lt;workspace&gt;/scans/r1" in response.text

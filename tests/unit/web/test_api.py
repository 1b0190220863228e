"""The REST API with bearer tokens, and schemathesis fuzzing its OpenAPI spec."""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from assay import accounts
from assay.ledger.keys import load_verifier
from assay.workspace import Workspace


def _token(ws: Workspace, user: str, scope: str) -> str:
    return accounts.create_token(
        ws.store, ws.ledger, username=user, name="test", scope=scope, days=1, actor="setup"
    )


def test_token_scopes_narrow_the_role(app: FastAPI, workspace: Workspace) -> None:
    client = TestClient(app)
    read = {"authorization": f"Bearer {_token(workspace, 'compliance', 'read')}"}
    write = {"authorization": f"Bearer {_token(workspace, 'compliance', 'write')}"}
    body = {"id": "api-bot", "name": "API", "owner": "me", "org_roles": ["provider", "deployer"]}
    assert client.get("/api/v1/systems", headers=read).status_code == 200
    assert client.post("/api/v1/systems", json=body, headers=read).status_code == 403
    created = client.post("/api/v1/systems", json=body, headers=write)
    assert created.status_code == 201
    assert created.json()["org_roles"] == ["provider", "deployer"]
    assert client.post("/api/v1/systems", json=body, headers=write).status_code == 409
    assert (
        client.get("/api/v1/systems", headers={"authorization": "Bearer assay_nope"}).status_code
        == 401
    )


def test_revoked_token_is_refused(app: FastAPI, workspace: Workspace) -> None:
    token = _token(workspace, "viewer", "read")
    client = TestClient(app)
    assert client.get("/api/v1/me", headers={"authorization": f"Bearer {token}"}).status_code == 200
    token_id = int(accounts.list_tokens(workspace.store)[-1]["id"])  # type: ignore[call-overload]
    accounts.revoke_token(workspace.store, workspace.ledger, token_id=token_id, actor="t")
    assert client.get("/api/v1/me", headers={"authorization": f"Bearer {token}"}).status_code == 401


def test_entry_is_verified_and_pack_downloads(app: FastAPI, workspace: Workspace, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from assay.ledger.verify import verify_pack

    client = TestClient(app)
    headers = {"authorization": f"Bearer {_token(workspace, 'auditor', 'read')}"}
    detail = client.get("/api/v1/ledger/entries/0", headers=headers).json()
    assert detail["verified"] is True and detail["proof"]["tree_size"] >= 1
    response = client.post("/api/v1/packs", headers=headers)
    assert response.status_code == 200
    pack = tmp_path / "pack.zip"
    pack.write_bytes(response.content)
    key = load_verifier(
        client.get("/api/v1/ledger/checkpoint", headers=headers).json()["public_key"]
    )
    assert verify_pack(str(pack), key).ok


def test_openapi_fuzzing_finds_no_server_errors(app: FastAPI, workspace: Workspace) -> None:
    token = _token(workspace, "admin", "write")
    client = TestClient(app, raise_server_exceptions=False)
    spec = client.get("/api/v1/openapi.json", headers={"authorization": f"Bearer {token}"}).json()
    schema = schemathesis.openapi.from_dict(spec)
    failures: list[str] = []
    for operation in schema.get_all_operations():
        op = operation.ok()

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy())
        def check(case: schemathesis.Case) -> None:
            kwargs = case.as_transport_kwargs(base_url="http://testserver")
            kwargs["headers"] = {
                **(kwargs.get("headers") or {}),
                "authorization": f"Bearer {token}",
            }
            allowed = {"method", "url", "headers", "params", "json", "content", "data", "cookies"}
            response = client.request(**{k: v for k, v in kwargs.items() if k in allowed})
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        check()
    assert failures == []


def test_evidence_append_checks_references(app: FastAPI, workspace: Workspace) -> None:
    client = TestClient(app)
    write = {"authorization": f"Bearer {_token(workspace, 'compliance', 'write')}"}
    read = {"authorization": f"Bearer {_token(workspace, 'compliance', 'read')}"}
    body = {"type": "assay.dev/note/v1", "system": "bot", "controls": ["iso42001:A.6.2.4"]}
    assert client.post("/api/v1/ledger/entries", json=body, headers=read).status_code == 403
    created = client.post("/api/v1/ledger/entries", json=body, headers=write)
    assert created.status_code == 201, created.text
    assert workspace.ledger.get(created.json()["seq"]).decoded()["actor"] == "compliance@web"
    bad = client.post(
        "/api/v1/ledger/entries",
        json={**body, "controls": ["iso42001:A.99"], "system": "ghost-system"},
        headers=write,
    )
    assert bad.status_code == 400 and "A.99" in bad.text
    ghost = client.post("/api/v1/ledger/entries", json={**body, "system": "ghost"}, headers=write)
    assert ghost.status_code == 400 and "no AI system 'ghost'" in ghost.text


def test_typed_errors_map_to_statuses_without_cli_advice(
    app: FastAPI, workspace: Workspace
) -> None:
    client = TestClient(app)
    read = {"authorization": f"Bearer {_token(workspace, 'compliance', 'read')}"}
    write = {"authorization": f"Bearer {_token(workspace, 'compliance', 'write')}"}
    ghost = client.get("/api/v1/systems/ghost", headers=read)
    assert ghost.status_code == 404
    assert ghost.json() == {"error": "no AI system 'ghost'"}  # the hint is CLI advice
    assert client.get("/api/v1/ledger/entries/999999", headers=read).status_code == 404
    assert client.get("/api/v1/capa/CAPA-999", headers=read).status_code == 404
    assert client.get("/api/v1/requirements/iso42001:A.99", headers=read).status_code == 404
    body = {"id": "dup-bot", "name": "Dup", "owner": "me"}
    assert client.post("/api/v1/systems", json=body, headers=write).status_code == 201
    again = client.post("/api/v1/systems", json=body, headers=write)
    assert again.status_code == 409 and "`assay" not in again.text
    bad = client.post("/api/v1/systems", json=body | {"id": "Bad Id"}, headers=write)
    assert bad.status_code == 400 and "invalid" in bad.json()["error"]

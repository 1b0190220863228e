"""Streamable HTTP: the proxy in front of an HTTP server, and ``assay mcp serve --http``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import mcp_types as types
import pytest
from argon2 import PasswordHasher
from mcp import Client

from assay import accounts
from assay.gateway.local import LocalServer
from assay.guard import Guard
from assay.ledger import Batcher
from assay.ledger.keys import digest_key
from assay.mcp import (
    GuardChecks,
    McpProxy,
    PinStore,
    ProxyOptions,
    Recorder,
    approve_tools,
    assay_http_app,
    http_upstream,
)
from assay.mcp.demo_server import build_server
from assay.workspace import Workspace


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    control = tmp_path / "control.json"
    served = LocalServer(build_server(control).streamable_http_app())
    try:
        yield f"{served.url}/mcp", control
    finally:
        served.stop()


def test_proxy_in_front_of_a_streamable_http_server(workspace: Workspace,
                                                    demo: tuple[str, Path]) -> None:
    url, control = demo
    batcher = Batcher(workspace.ledger, spill_dir=workspace.spill_dir)
    recorder = Recorder(batcher, digest_key(workspace.root), "agent", "tester", "demo-http")
    checks, pins = GuardChecks(Guard.default()), PinStore(workspace.root)
    connect = http_upstream(url)
    try:
        approved = anyio.run(lambda: approve_tools(connect, checks, pins, recorder))
        assert {a.outcome for a in approved} == {"approved"}
        proxy = McpProxy(connect, checks, pins, recorder, ProxyOptions("demo-http"))

        async def scenario() -> None:
            async with Client(proxy.server) as client:
                assert len((await client.list_tools()).tools) == 3
                assert not (await client.call_tool("get_weather", {"city": "Lima"})).is_error
                control.write_text(json.dumps({"leak": True}))
                assert (await client.call_tool("read_notes", {})).is_error

        anyio.run(scenario)
    finally:
        batcher.close()


def test_serve_over_http_takes_the_bearer_token(workspace: Workspace,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        accounts._service, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    accounts.add_user(workspace.store, workspace.ledger, username="viewer",
                      password="correct horse battery", role="viewer", actor="setup")
    token = accounts.create_token(workspace.store, workspace.ledger, username="viewer",
                                  name="mcp", scope="read", days=1, actor="setup")
    served = LocalServer(assay_http_app(workspace, Guard.default()))

    async def call(headers: dict[str, str]) -> types.CallToolResult:
        async with http_upstream(f"{served.url}/mcp", headers)() as client:
            return await client.call_tool("list_systems", {})

    try:
        assert not anyio.run(call, {"Authorization": f"Bearer {token}"}).is_error
        for headers in ({}, {"Authorization": "Bearer assay_wrong"}):
            refused = httpx.post(f"{served.url}/mcp", headers=headers, json={
                "jsonrpc": "2.0", "id": 1, "method": "tools/list"})
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"] == "Bearer"
    finally:
        served.stop()

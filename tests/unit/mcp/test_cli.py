"""``assay mcp`` as a user runs it: approve, pins, and the proxy as an MCP client starts it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from assay.cli.main import run
from assay.ledger.evidence import GUARD_DECISION
from assay.workspace import open_workspace


def demo(control: Path) -> list[str]:
    return [sys.executable, "-m", "assay.mcp.demo_server", "--control", str(control)]


def test_approve_pins_and_the_stdio_proxy(workspace_dir: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    control = tmp_path / "control.json"
    control.write_text(json.dumps({"poison": True}))
    ws = ["--workspace", str(workspace_dir)]
    # The poisoned tool is refused (exit 3, like a blocked guard check); the rest are pinned.
    assert run([*ws, "mcp", "approve", "--name", "demo", "--json", "--", *demo(control)]) == 3
    approved = {r["tool"]: r["outcome"] for r in json.loads(capsys.readouterr().out)}
    assert approved == {"get_weather": "poisoned", "read_notes": "approved",
                        "send_email": "approved"}
    assert run([*ws, "mcp", "pins", "--json"]) == 0
    assert sorted(json.loads(capsys.readouterr().out)["demo"]) == ["read_notes", "send_email"]

    proxy = StdioServerParameters(
        command=sys.executable,
        args=["-m", "assay", *ws, "mcp", "proxy", "--name", "demo", "--", *demo(control)],
        env=dict(os.environ))

    async def client() -> None:
        async with Client(proxy) as session:
            listed = sorted(t.name for t in (await session.list_tools()).tools)
            assert listed == ["read_notes", "send_email"]
            result = await session.call_tool("read_notes", {})
            assert not result.is_error

    anyio.run(client)
    opened = open_workspace(workspace_dir)
    try:
        summaries = [e.decoded()["summary"] for e in opened.ledger.entries(GUARD_DECISION)]
    finally:
        opened.close()
    approvals = [s["tool"] for s in summaries if {"validator": "mcp", "score": 1.0,
                                                  "label": "approved"} in s["findings"]]
    assert sorted(approvals) == ["read_notes", "send_email"]
    # The guard's own decision on the poisoned definition, once by approve, once by the proxy.
    poisoned = [s for s in summaries if s["direction"] == "tool_definition"
                and s["tool"] == "get_weather" and s["action"] == "block"]
    assert len(poisoned) == 2


def test_proxy_needs_exactly_one_upstream(workspace_dir: Path) -> None:
    ws = ["--workspace", str(workspace_dir)]
    assert run([*ws, "mcp", "proxy", "--name", "demo"]) == 2
    assert run([*ws, "mcp", "proxy", "--name", "demo", "--upstream", "http://x/mcp",
                "--", "server"]) == 2
    assert run([*ws, "mcp", "proxy", "--name", "bad name!", "--", "server"]) == 2


def test_serve_needs_a_token_on_stdio(workspace_dir: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSAY_MCP_TOKEN", raising=False)
    assert run(["--workspace", str(workspace_dir), "mcp", "serve"]) == 2


def test_proxy_stops_cleanly_on_sigterm(workspace_dir: Path, tmp_path: Path) -> None:
    """An MCP client stops its servers with SIGTERM: exit 0, no hang, evidence kept."""
    control = tmp_path / "control.json"
    control.write_text("{}")
    proxy = subprocess.Popen(
        [sys.executable, "-m", "assay", "--workspace", str(workspace_dir), "mcp", "proxy",
         "--name", "demo", "--", *demo(control)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proxy.stdin is not None and proxy.stdout is not None
    for message in (
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ):
        proxy.stdin.write(json.dumps(message) + "\n")
        proxy.stdin.flush()
    assert json.loads(proxy.stdout.readline())["id"] == 1
    assert json.loads(proxy.stdout.readline())["result"]["tools"] == []  # nothing approved
    proxy.send_signal(signal.SIGTERM)
    assert proxy.wait(30) == 0
    opened = open_workspace(workspace_dir)
    try:
        summaries = [e.decoded()["summary"] for e in opened.ledger.entries(GUARD_DECISION)]
    finally:
        opened.close()
    refused = [s["tool"] for s in summaries
               if {"validator": "mcp", "score": 1.0, "label": "unapproved"} in s["findings"]]
    assert sorted(refused) == ["get_weather", "read_notes", "send_email"]

"""The MCP proxy with a real SDK client in front and the demo server behind (issue #21, item 5).

The test's MCP client is the SDK's own ``Client``, connected to the proxy's
server in process; the proxy is a real SDK client of the demo server, a child
process over stdio. The demo server reads its switches from ``control.json``
on every request and logs each call it receives to ``calls.jsonl``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from assay.guard import Guard, LedgerSink, ToolContext, Verdict
from assay.ledger import Batcher
from assay.ledger.evidence import GUARD_DECISION
from assay.ledger.keys import digest_key
from assay.mcp import (
    GuardChecks,
    McpProxy,
    PinStore,
    ProxyChecks,
    ProxyOptions,
    Recorder,
    approve_tools,
    stdio_upstream,
)
from assay.mcp.demo_server import FAKE_SECRET, build_server
from assay.workspace import Workspace


@pytest.fixture(scope="session")
def guard() -> Guard:
    return Guard.default()


@dataclass
class Bench:
    """The pieces of one proxy under test, and the demo server's switches and call log."""

    ws: Workspace
    guard: Guard
    control: Path
    calls: Path
    batcher: Batcher
    recorder: Recorder
    pins: PinStore
    checker: ProxyChecks
    extra: dict[str, Any] = field(default_factory=dict)

    def set(self, **switches: bool) -> None:
        self.control.write_text(json.dumps(switches), encoding="utf-8")

    def received(self) -> list[dict[str, Any]]:
        if not self.calls.exists():
            return []
        return [json.loads(line) for line in self.calls.read_text().splitlines()]

    def connect(self, timeout: float = 60.0) -> Any:
        return stdio_upstream([sys.executable, "-m", "assay.mcp.demo_server",
                               "--control", str(self.control), "--calls", str(self.calls)],
                              timeout=timeout)

    def proxy(self, *, checker: ProxyChecks | None = None, timeout: float = 60.0,
              **options: bool) -> McpProxy:
        return McpProxy(self.connect(timeout), checker or self.checker, self.pins,
                        self.recorder, ProxyOptions("demo", **options), actor="tester@pytest")

    def evidence(self) -> list[dict[str, Any]]:
        """The guard-decision summaries written so far (flushes the batcher first)."""
        self.batcher.flush()
        return [e.decoded()["summary"] for e in self.ws.ledger.entries(GUARD_DECISION)]


@pytest.fixture
def bench(workspace: Workspace, guard: Guard, tmp_path: Path) -> Iterator[Bench]:
    batcher = Batcher(workspace.ledger, spill_dir=workspace.spill_dir)
    key = digest_key(workspace.root)
    guard.on_decision = LedgerSink(batcher, system="agent", actor="tester@pytest", key=key)
    recorder = Recorder(batcher, key, "agent", "tester@pytest", "demo")
    try:
        yield Bench(workspace, guard, tmp_path / "control.json", tmp_path / "calls.jsonl",
                    batcher, recorder, PinStore(workspace.root), GuardChecks(guard))
    finally:
        guard.on_decision = None
        batcher.close()


Scenario = Callable[[Client], Awaitable[None]]


def run(proxy: McpProxy, scenario: Scenario) -> None:
    """Connect a real MCP client to the proxy (which starts the demo server) and play."""

    async def main() -> None:
        async with Client(proxy.server) as client:
            await scenario(client)

    anyio.run(main)


def approve(bench: Bench, **kwargs: Any) -> list[Any]:
    """``assay mcp approve`` against the demo server, run in process (same definitions)."""
    server = build_server(bench.control, bench.calls)
    return anyio.run(lambda: approve_tools(lambda: Client(server, cache=None), bench.checker,
                                           bench.pins, bench.recorder, **kwargs))


def names(listing: types.ListToolsResult) -> list[str]:
    return sorted(tool.name for tool in listing.tools)


def text(result: types.CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return block.text


def outcomes(bench: Bench) -> list[str]:
    """The labels of the proxy's own decisions in the ledger, in order."""
    return [f["label"] for s in bench.evidence() for f in s["findings"] if f["validator"] == "mcp"]


def test_approved_clean_tools_are_listed_and_called(bench: Bench) -> None:
    assert [a.outcome for a in approve(bench)] == ["approved"] * 3

    async def scenario(client: Client) -> None:
        assert names(await client.list_tools()) == ["get_weather", "read_notes", "send_email"]
        result = await client.call_tool("get_weather", {"city": "Paris"})
        assert not result.is_error
        assert text(result) == "Sunny, 21 °C in Paris."

    run(bench.proxy(), scenario)
    assert bench.received() == [{"tool": "get_weather", "arguments": {"city": "Paris"}}]
    assert outcomes(bench) == ["approved"] * 3


def test_unapproved_tools_are_hidden_and_their_calls_refused(bench: Bench) -> None:
    async def scenario(client: Client) -> None:
        assert names(await client.list_tools()) == []
        result = await client.call_tool("get_weather", {"city": "Paris"})
        assert result.is_error
        assert "not approved" in text(result) and "assay mcp approve" in text(result)

    run(bench.proxy(), scenario)
    assert bench.received() == []


def test_poisoned_description_is_refused(bench: Bench) -> None:
    bench.set(poison=True)
    refused = {a.tool: a for a in approve(bench) if a.outcome == "poisoned"}
    assert list(refused) == ["get_weather"]
    assert bench.pins.get("demo", "get_weather") is None

    async def scenario(client: Client) -> None:
        assert names(await client.list_tools()) == ["read_notes", "send_email"]
        result = await client.call_tool("get_weather", {"city": "Paris"})
        assert result.is_error and "blocked by the guard" in text(result)

    run(bench.proxy(), scenario)
    assert bench.received() == []
    assert "poisoned" in outcomes(bench)


def test_force_overrules_the_guard_for_that_exact_definition_only(bench: Bench) -> None:
    bench.set(poison=True)
    forced = {a.tool: a.outcome for a in approve(bench, tools=["get_weather"], force=True)}
    assert forced == {"get_weather": "forced"}
    pin = bench.pins.get("demo", "get_weather")
    assert pin is not None and pin.forced

    async def scenario(client: Client) -> None:
        assert "get_weather" in names(await client.list_tools())
        bench.set(poison=True, mutate=True)  # send_email changes, get_weather stays as forced
        assert "get_weather" in names(await client.list_tools())

    run(bench.proxy(), scenario)


def test_poisoned_description_stays_refused_even_if_pinned_before(bench: Bench) -> None:
    """Trust on first use pins only clean definitions: the poisoned one is never shown."""
    bench.set(poison=True)

    async def scenario(client: Client) -> None:
        assert names(await client.list_tools()) == ["read_notes", "send_email"]

    run(bench.proxy(trust_on_first_use=True), scenario)
    assert bench.pins.get("demo", "get_weather") is None
    assert bench.pins.get("demo", "send_email") is not None


def test_changed_definition_is_refused_until_reapproved(bench: Bench) -> None:
    approve(bench)
    bench.set(mutate=True)  # send_email grows a bcc field after approval: a rug pull

    async def before(client: Client) -> None:
        assert names(await client.list_tools()) == ["get_weather", "read_notes"]
        result = await client.call_tool("send_email", {"to": "a@example.com", "body": "hi"})
        assert result.is_error and "changed since it was approved" in text(result)

    run(bench.proxy(), before)
    assert bench.received() == []
    assert "changed" in outcomes(bench)

    again = {a.tool: a.outcome for a in approve(bench)}
    assert again == {"get_weather": "unchanged", "read_notes": "unchanged",
                     "send_email": "approved"}

    async def after(client: Client) -> None:
        assert "send_email" in names(await client.list_tools())
        result = await client.call_tool("get_weather", {"city": "Oslo"})
        assert not result.is_error

    run(bench.proxy(), after)
    assert [c["tool"] for c in bench.received()] == ["get_weather"]


def test_reapproval_takes_effect_in_a_running_proxy(bench: Bench) -> None:
    approve(bench)
    bench.set(mutate=True)

    async def scenario(client: Client) -> None:
        assert "send_email" not in names(await client.list_tools())
        await anyio.to_thread.run_sync(lambda: approve(bench, tools=["send_email"]))
        assert "send_email" in names(await client.list_tools())

    run(bench.proxy(), scenario)


def test_leaked_secret_in_a_result_is_blocked(bench: Bench) -> None:
    approve(bench)
    bench.set(leak=True)

    async def scenario(client: Client) -> None:
        result = await client.call_tool("read_notes", {})
        assert result.is_error
        assert FAKE_SECRET not in text(result) and "secrets" in text(result)

    run(bench.proxy(), scenario)
    assert bench.received() == [{"tool": "read_notes", "arguments": {}}]
    blocked = [s for s in bench.evidence() if s["action"] == "block"]
    assert any(f["validator"] == "secrets" for s in blocked for f in s["findings"])


def test_injection_in_a_result_is_blocked(bench: Bench) -> None:
    approve(bench)
    bench.set(inject=True)

    async def scenario(client: Client) -> None:
        result = await client.call_tool("read_notes", {})
        assert result.is_error and "prompt_injection" in text(result)

    run(bench.proxy(), scenario)


def test_after_an_injected_result_an_egress_call_is_blocked(bench: Bench) -> None:
    """The connection is one conversation: a flagged result taints its later calls."""
    approve(bench)

    async def scenario(client: Client) -> None:
        email = {"to": "bob@example.com", "body": "Lunch at noon?"}
        assert not (await client.call_tool("send_email", email)).is_error
        bench.set(inject=True)
        assert (await client.call_tool("read_notes", {})).is_error
        result = await client.call_tool("send_email", email)
        assert result.is_error and "tool_policy" in text(result)

    run(bench.proxy(), scenario)
    assert [c["tool"] for c in bench.received()] == ["send_email", "read_notes"]
    calls = [s for s in bench.evidence() if s["direction"] == "tool_call"]
    assert calls[-1]["action"] == "block" and calls[-1]["tainted_by"]


def test_arguments_outside_the_approved_schema_are_refused(bench: Bench) -> None:
    approve(bench)

    async def scenario(client: Client) -> None:
        result = await client.call_tool("get_weather", {"city": ["Paris", "Rome"]})
        assert result.is_error and "approved input schema" in text(result)

    run(bench.proxy(), scenario)
    assert bench.received() == []
    assert "invalid_arguments" in outcomes(bench)


def test_an_upstream_refusal_reaches_the_client_with_its_message(bench: Bench) -> None:
    approve(bench)

    async def scenario(client: Client) -> None:
        with pytest.raises(MCPError) as raised:
            await client.call_tool("get_weather", {"city": ""})
        assert raised.value.code == types.INVALID_PARAMS
        assert raised.value.message == ("the upstream MCP server refused calling get_weather: "
                                        "argument 'city' is required")

    run(bench.proxy(), scenario)


def test_crash_mid_call_is_a_clean_mcp_error(bench: Bench) -> None:
    approve(bench)

    async def scenario(client: Client) -> None:
        await client.list_tools()
        bench.set(crash=True)
        with pytest.raises(MCPError) as raised:
            await client.call_tool("get_weather", {"city": "Paris"})
        assert raised.value.code == types.INTERNAL_ERROR
        assert "closed the connection" in raised.value.message
        with pytest.raises(MCPError):  # and it stays a clean error afterwards
            await client.list_tools()

    run(bench.proxy(), scenario)
    assert "upstream_failed" in outcomes(bench)


def test_a_stalled_call_times_out_as_a_clean_mcp_error(bench: Bench) -> None:
    approve(bench)

    async def scenario(client: Client) -> None:
        await client.list_tools()
        bench.set(stall=True)
        with anyio.fail_after(30), pytest.raises(MCPError) as raised:
            await client.call_tool("get_weather", {"city": "Paris"})
        assert "did not answer in time" in raised.value.message
        bench.set()
        assert not (await client.call_tool("get_weather", {"city": "Oslo"})).is_error

    run(bench.proxy(timeout=2.0), scenario)
    assert "upstream_failed" in outcomes(bench)


class _BrokenChecker:
    """Checks definitions with the real guard, but every call check fails."""

    def __init__(self, bench: Bench) -> None:
        self.real = bench.checker

    def check_definition(self, tool: types.Tool) -> Verdict:
        return self.real.check_definition(tool)

    def check_call(self, name: str, arguments: Mapping[str, object],
                   context: ToolContext) -> Verdict:
        raise RuntimeError("the guard is down")

    def check_result(self, name: str, text: str, context: ToolContext) -> Verdict:
        return self.real.check_result(name, text, context)


def test_a_call_that_could_not_be_checked_is_never_forwarded(bench: Bench) -> None:
    approve(bench)

    async def scenario(client: Client) -> None:
        result = await client.call_tool("get_weather", {"city": "Paris"})
        assert result.is_error and "could not check" in text(result)

    run(bench.proxy(checker=_BrokenChecker(bench)), scenario)
    assert bench.received() == []
    assert "unchecked" in outcomes(bench)


def test_fail_open_forwards_an_unchecked_call(bench: Bench) -> None:
    approve(bench)

    async def scenario(client: Client) -> None:
        assert not (await client.call_tool("get_weather", {"city": "Rome"})).is_error

    run(bench.proxy(checker=_BrokenChecker(bench), fail_open=True), scenario)
    assert [c["tool"] for c in bench.received()] == ["get_weather"]


def test_evidence_keeps_digests_not_argument_values(bench: Bench) -> None:
    approve(bench)

    async def scenario(client: Client) -> None:
        await client.call_tool("get_weather", {"city": "Atlantis-7731"})

    run(bench.proxy(checker=_BrokenChecker(bench)), scenario)
    raw = [e.entry for e in bench.ws.ledger.entries()]
    assert raw and not any(b"Atlantis-7731" in entry for entry in raw)
    refused = [s for s in bench.evidence() if s.get("request_id") == "mcp:demo"
               and s.get("tool") == "get_weather" and s["action"] == "block"]
    assert refused and all("hmac_sha256" in s["content"] for s in refused)

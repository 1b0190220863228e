"""The MCP proxy: an MCP server to its client, a client of the real server behind it.

It serves tools only (``tools/list``, ``tools/call``); resources and prompts
are not relayed, so nothing reaches the model around the checks.

``tools/list``: every upstream definition is checked by the guard (once per
distinct definition) and compared with its pin; the client sees only tools
that are approved, unchanged and clean. ``tools/call``: the tool must be one
the proxy last listed as approved (the model only knows definitions the proxy
showed it, so a definition changed upstream since is refused until it is
re-approved and listed again), the call's arguments must fit the approved input
schema and pass the guard, and
the answer's texts are checked as documents before they are relayed. What the
proxy cannot check it does not forward (``fail_open`` turns that off for
calls and unreadable result content; a guard *verdict* is always obeyed).
An upstream that fails or dies mid-call becomes an MCP error for the client.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import mcp_types as types
from mcp import Client
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError

from assay.guard import ToolContext, Verdict
from assay.ledger.canonical import canonical_bytes
from assay.mcp._checks import ProxyChecks
from assay.mcp._evidence import Recorder
from assay.mcp._pins import PinStore, definition_bytes, definition_digest
from assay.mcp._upstream import Connect, connected, list_all_tools
from assay.validators.json_schema import schema_errors

__all__ = ["McpProxy", "ProxyOptions"]

log = logging.getLogger("assay.mcp")


@dataclass(frozen=True, slots=True)
class ProxyOptions:
    """How the proxy behaves.

    ``server`` names the upstream in pins and evidence. ``fail_open`` forwards
    a call (or relays result content) the guard could not check instead of
    refusing it. ``trust_on_first_use`` pins a clean definition the first time
    it is seen instead of hiding it until ``assay mcp approve``.
    """

    server: str
    fail_open: bool = False
    trust_on_first_use: bool = False


@dataclass(frozen=True, slots=True)
class _Judged:
    """What the proxy decided about one upstream definition."""

    tool: types.Tool
    outcome: str  # "approved" or a refusal label of Recorder.OUTCOMES
    reason: str = ""
    pinned_now: bool = False  # approved on first use by this proxy

    @property
    def allowed(self) -> bool:
        return self.outcome == "approved"


class _Refused(Exception):
    """A call the proxy will not forward or an answer it will not relay.

    ``outcome`` labels the proxy's own decision for the evidence; ``None`` when
    the guard decided (its sink has recorded that decision already).
    """

    def __init__(self, outcome: str | None, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


def _blocked_reason(verdict: Verdict) -> str:
    names = ", ".join(sorted({f.validator for f in verdict.findings})) or "guard error"
    return names + (f" ({verdict.error.split(':', 1)[0]})" if verdict.error else "")


@dataclass
class McpProxy:
    """One proxy: ``connect`` opens the upstream client; :attr:`server` is what clients talk to."""

    connect: Connect
    checker: ProxyChecks
    pins: PinStore
    recorder: Recorder
    options: ProxyOptions
    actor: str = "assay-mcp-proxy"
    _client: Client | None = field(default=None, init=False)
    _context: ToolContext = field(default_factory=ToolContext, init=False)
    _listing: dict[str, _Judged] = field(default_factory=dict, init=False)
    _definitions: dict[str, Verdict] = field(default_factory=dict, init=False)
    _recorded: set[tuple[str, str]] = field(default_factory=set, init=False)

    @property
    def server(self) -> Server[Any]:
        """A low-level MCP server with the proxy's two handlers and upstream lifespan."""
        return Server(f"assay-proxy:{self.options.server}", version="1",
                      lifespan=self._lifespan, on_list_tools=self._list_tools,
                      on_call_tool=self._call_tool)

    @asynccontextmanager
    async def _lifespan(self, _: Server[Any]) -> AsyncIterator[dict[str, Any]]:
        async with connected(self.connect) as client:
            # One connection is one conversation: its call budget and taint.
            self._context = ToolContext(system=self.recorder.system, key=self.recorder.key)
            self._client = client
            try:
                yield {}
            finally:
                self._client = None

    # -- tools/list --------------------------------------------------------------

    async def _list_tools(self, ctx: ServerRequestContext[Any],
                          params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        listing = await self._refresh()
        return types.ListToolsResult(tools=[j.tool for j in listing.values() if j.allowed])

    async def _refresh(self) -> dict[str, _Judged]:
        """List every upstream tool and judge each definition; keeps the result for calls."""
        tools: list[types.Tool] = await self._upstream(list_all_tools, "listing tools")
        self._listing = {tool.name: await self._judge(tool) for tool in tools}
        return self._listing

    async def _judge(self, tool: types.Tool) -> _Judged:
        digest = definition_digest(tool)
        verdict = self._definitions.get(digest)
        if verdict is None:  # checked once per distinct definition; a failed check is retried
            verdict = await self._guarded(self.checker.check_definition, tool)
            if verdict is not None:
                self._definitions[digest] = verdict
        judged = self._pin_outcome(tool, digest, verdict)
        self._record_once(judged, digest)
        return judged

    def _pin_outcome(self, tool: types.Tool, digest: str, verdict: Verdict | None) -> _Judged:
        name = tool.name
        pin = self.pins.get(self.options.server, name)
        overruled = pin is not None and pin.forced and pin.digest == digest
        if verdict is None:
            return _Judged(tool, "unchecked", f"the guard could not check {name}'s definition")
        if verdict.blocked and not overruled:
            return _Judged(tool, "poisoned", f"{name}'s definition was blocked by the guard: "
                                             f"{_blocked_reason(verdict)}")
        if pin is None and self.options.trust_on_first_use:
            self.pins.pin(self.options.server, tool, actor=self.actor)
            return _Judged(tool, "approved", pinned_now=True)
        if pin is None:
            return _Judged(tool, "unapproved", f"{name} is not approved on this proxy")
        if pin.digest != digest:
            return _Judged(tool, "changed", f"{name}'s definition changed since it was approved "
                                            f"by {pin.approved_by} on {pin.approved_at}")
        return _Judged(tool, "approved")

    def _record_once(self, judged: _Judged, digest: str) -> None:
        """One entry per distinct definition and outcome per process, not one per listing.

        Not for a definition approved earlier (that approval is the evidence) nor
        for one the guard blocked (the guard's own entry is).
        """
        if (digest, judged.outcome) in self._recorded or (judged.allowed
                                                           and not judged.pinned_now):
            return
        self._recorded.add((digest, judged.outcome))
        if judged.pinned_now:
            log.info("approved %s on first use", judged.tool.name)
        else:
            log.warning("refused tool %s: %s", judged.tool.name, judged.reason)
        if judged.outcome == "poisoned":
            return
        self.recorder.record("definition", judged.outcome, judged.tool.name,
                             definition_bytes(judged.tool))

    # -- tools/call --------------------------------------------------------------

    async def _call_tool(self, ctx: ServerRequestContext[Any],
                         params: types.CallToolRequestParams) -> types.CallToolResult:
        name, arguments = params.name, dict(params.arguments or {})
        call = canonical_bytes({"tool": name, "arguments": arguments})
        try:
            forwarded = await self._admit(name, arguments)
            result = await self._upstream(lambda c: c.call_tool(name, forwarded),
                                          f"calling {name}", call=(name, call))
            return await self._checked_result(name, result)
        except _Refused as refused:
            if refused.outcome is not None:
                self.recorder.record("call", refused.outcome, name, call)
            return types.CallToolResult(
                content=[types.TextContent(text=f"Assay refused this tool call: {refused.reason}")],
                is_error=True)

    async def _admit(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """The arguments to forward, or :class:`_Refused` (the guard's own decision is
        recorded by its sink; refusals made here are recorded by the caller)."""
        judged = self._listing.get(name) or (await self._refresh()).get(name)
        if judged is None:
            raise _Refused("not_listed", f"the server does not offer a tool named {name!r}")
        if not judged.allowed:
            raise _Refused(judged.outcome, judged.reason + "; approve it with `assay mcp approve`"
                           if judged.outcome in ("unapproved", "changed") else judged.reason)
        errors = schema_errors(arguments, judged.tool.input_schema)
        if errors:
            raise _Refused("invalid_arguments", f"the arguments do not fit {name}'s approved "
                                                f"input schema: {'; '.join(errors[:3])}")
        verdict = await self._guarded(self.checker.check_call, name, arguments, self._context)
        if verdict is None:
            if self.options.fail_open:
                log.warning("forwarding %s unchecked (fail open)", name)
                return arguments
            raise _Refused("unchecked", f"the guard could not check this call to {name}")
        if verdict.blocked:
            raise _Refused(None, f"the call to {name} was blocked by the guard: "
                                 f"{_blocked_reason(verdict)}")
        if verdict.action == "redact":
            raise _Refused("unchecked", f"the policy would rewrite this call to {name}; the "
                                        "proxy forwards calls as they are or not at all")
        return arguments

    async def _checked_result(self, name: str,
                              result: types.CallToolResult) -> types.CallToolResult:
        content: list[types.ContentBlock] = []
        for block in result.content:
            content.append(await self._checked_block(name, block))
        structured = result.structured_content
        if structured is not None:
            text = json.dumps(structured, ensure_ascii=False, sort_keys=True)
            verdict = await self._require(name, text)
            if verdict.action == "redact":
                raise _Refused("unchecked", f"{name}'s structured answer needs redaction, which "
                                            "cannot be applied to structured data")
        return result.model_copy(update={"content": content})

    async def _checked_block(self, name: str, block: types.ContentBlock) -> types.ContentBlock:
        if isinstance(block, types.TextContent):
            verdict = await self._require(name, block.text)
            return block.model_copy(update={"text": verdict.text_or_redacted(block.text)})
        resource = block.resource if isinstance(block, types.EmbeddedResource) else None
        if isinstance(resource, types.TextResourceContents):
            verdict = await self._require(name, resource.text)
            updated = resource.model_copy(update={"text": verdict.text_or_redacted(resource.text)})
            return block.model_copy(update={"resource": updated})
        if self.options.fail_open:
            return block
        raise _Refused("unchecked", f"{name} answered with {block.type} content the guard "
                                    "cannot read")

    async def _require(self, name: str, text: str) -> Verdict:
        """A result check that must run and pass: :class:`_Refused` otherwise."""
        verdict = await self._guarded(self.checker.check_result, name, text, self._context)
        if verdict is None:
            raise _Refused("unchecked", f"the guard could not check {name}'s answer")
        if verdict.blocked:
            raise _Refused(None, f"{name}'s answer was blocked by the guard: "
                                 f"{_blocked_reason(verdict)}")
        return verdict

    # -- plumbing ----------------------------------------------------------------

    async def _guarded(self, check: Callable[..., Verdict], *args: Any) -> Verdict | None:
        """Run a check in a worker thread; ``None`` when it raised (it could not check)."""
        try:
            return await anyio.to_thread.run_sync(check, *args)
        except Exception:
            log.exception("guard check failed")
            return None

    async def _refusal(self, message: str, doing: str) -> str:
        """The upstream's own error message for the client when the guard passes it as a
        document (a model reads it like a result), else only that the server refused."""
        said = f"the upstream MCP server refused {doing}"
        verdict = await self._guarded(self.checker.check_result, "error", message, self._context)
        if verdict is None or verdict.blocked:
            return said
        return f"{said}: {verdict.text_or_redacted(message)}"

    async def _upstream(self, request: Callable[[Client], Any], doing: str, *,
                        call: tuple[str, bytes] | None = None) -> Any:
        """Send a request upstream; its failure becomes a clean MCP error for the client
        (and, for a ``call``, its tool and canonical bytes, an ``upstream_failed`` entry)."""
        client = self._client
        if client is None:
            raise MCPError(types.INTERNAL_ERROR, "the upstream MCP server is not connected")
        try:
            return await request(client)
        except MCPError as exc:
            if exc.code == types.REQUEST_TIMEOUT:
                failure = (f"the upstream MCP server did not answer in time while {doing}; any "
                           "effect of the request is unknown")
            elif exc.code == types.CONNECTION_CLOSED:
                failure = (f"the upstream MCP server closed the connection while {doing} (it "
                           "may have crashed); any effect of the request is unknown")
            else:
                raise MCPError(exc.code, await self._refusal(exc.message, doing)) from exc
        except Exception as exc:
            failure = f"the upstream MCP server failed while {doing} ({type(exc).__name__})"
        log.error("%s", failure)
        if call is not None:
            self.recorder.record("call", "upstream_failed", *call)
        raise MCPError(types.INTERNAL_ERROR, failure)


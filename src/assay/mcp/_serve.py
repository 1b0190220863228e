"""Assay as an MCP server: read-only tools an assistant can use to answer from evidence.

The tools are a third face over the read models the REST API and the
dashboard already use (``web/queries.py``, ``web/readiness_views.py``, the
AIMS registers), so an answer here is the answer ``/api/v1`` gives. Each tool
needs the permission its REST route needs, and the caller is the owner of an
API token (``assay tokens create``): read from ``ASSAY_MCP_TOKEN`` on
stdio, from ``Authorization: Bearer`` on streamable HTTP, and checked on every
call, so a revoked token stops working at once. Nothing here writes, except
that reading the digest key may create it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import mcp_types as types
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from assay.accounts import Permission, Principal, principal_for_token
from assay.aims import audit, list_systems, risk
from assay.errors import AssayError, Invalid
from assay.guard import Guard
from assay.validators import CheckContext
from assay.web import queries, readiness_views
from assay.workspace import Workspace

__all__ = ["TOOLS", "assay_http_app", "build_assay_server"]

Run = Callable[[Workspace, Guard, Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class _Tool:
    name: str
    description: str
    properties: Mapping[str, Mapping[str, Any]]
    required: tuple[str, ...]
    permission: Permission
    run: Run

    def definition(self) -> types.Tool:
        schema = {"type": "object", "properties": dict(self.properties),
                  "required": list(self.required), "additionalProperties": False}
        return types.Tool(name=self.name, description=self.description, input_schema=schema,
                          annotations=types.ToolAnnotations(read_only_hint=True,
                                                            open_world_hint=False))


def _text(args: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = args.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise Invalid(f"argument {name!r} must be a non-empty string")
    return value


def _guard_text(ws: Workspace, guard: Guard, args: Mapping[str, Any]) -> Any:
    text = args.get("text")
    if not isinstance(text, str):
        raise Invalid("argument 'text' must be a string")
    direction = _text(args, "direction") or "input"
    origin = _text(args, "origin")
    if direction not in ("input", "output") or origin not in (None, "prompt", "document"):
        raise Invalid("direction is 'input' or 'output'; origin is 'prompt' or 'document'")
    if direction == "output":
        return guard.check_output(text).as_dict()
    ctx = CheckContext(origin="document" if origin == "document" else "prompt") if origin else None
    return guard.check_input(text, ctx).as_dict()


def _readiness(ws: Workspace, guard: Guard, args: Mapping[str, Any]) -> Any:
    result = readiness_views.run(ws, _text(args, "framework", required=True) or "",
                                 _text(args, "system"))
    return readiness_views.framework_summary(result)


def _gaps(ws: Workspace, guard: Guard, args: Mapping[str, Any]) -> Any:
    result = readiness_views.run(ws, _text(args, "framework", required=True) or "",
                                 _text(args, "system"))
    return {**readiness_views.framework_summary(result),
            "items": [item.as_json() for item in result.open_items]}


def _systems(ws: Workspace, guard: Guard, args: Mapping[str, Any]) -> Any:
    return [s.as_json() for s in list_systems(ws.store)]


def _risks(ws: Workspace, guard: Guard, args: Mapping[str, Any]) -> Any:
    return [r.as_json() for r in risk.list_risks(ws.store, system=_text(args, "system"))]


def _findings(ws: Workspace, guard: Guard, args: Mapping[str, Any]) -> Any:
    return [f.as_json() for f in audit.findings_for(ws.store, _text(args, "audit"))]


def _evidence(ws: Workspace, guard: Guard, args: Mapping[str, Any]) -> Any:
    seq = args.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise Invalid("argument 'seq' must be an entry's sequence number (an integer ≥ 0)")
    return queries.entry_detail(ws, seq)


def _verify(ws: Workspace, guard: Guard, args: Mapping[str, Any]) -> Any:
    report = ws.ledger.verify()
    return {"ok": report.ok, "entries": report.entries, "checkpoints": report.checkpoints,
            "unsigned_tail": report.unsigned_tail, "problems": report.problems}


_FRAMEWORK = {"type": "string", "description": "Framework ID, e.g. iso42001 or eu-ai-act."}
_SYSTEM = {"type": "string", "description": "An AI system's ID; omit for the organisation."}

#: The tools, each with the permission of its REST route.
TOOLS: tuple[_Tool, ...] = (
    _Tool("guard_text", "Check a text with the workspace's guard policy: the action (allow, "
          "warn, redact, block) and the findings.",
          {"text": {"type": "string"},
           "direction": {"type": "string", "enum": ["input", "output"]},
           "origin": {"type": "string", "enum": ["prompt", "document"]}},
          ("text",), Permission.READ, _guard_text),
    _Tool("readiness", "Readiness of a framework (percent and counts per status), for the "
          "organisation or one AI system.", {"framework": _FRAMEWORK, "system": _SYSTEM},
          ("framework",), Permission.READ, _readiness),
    _Tool("gaps", "The requirements of a framework that are not met, with why and the next "
          "action for each.", {"framework": _FRAMEWORK, "system": _SYSTEM},
          ("framework",), Permission.READ, _gaps),
    _Tool("list_systems", "The registered AI systems.", {}, (), Permission.READ, _systems),
    _Tool("list_risks", "The risk register (optionally one system's risks).",
          {"system": _SYSTEM}, (), Permission.READ, _risks),
    _Tool("list_findings", "Internal audit findings (optionally one audit's).",
          {"audit": {"type": "string", "description": "An audit's ID."}}, (),
          Permission.READ, _findings),
    _Tool("get_evidence", "One ledger entry with its inclusion proof, verified against the "
          "latest signed checkpoint.",
          {"seq": {"type": "integer", "minimum": 0, "description": "The entry's number."}},
          ("seq",), Permission.READ, _evidence),
    _Tool("verify_ledger", "Recompute every leaf, node and checkpoint of the ledger and "
          "report problems.", {}, (), Permission.VERIFY_EXPORT, _verify),
)
_BY_NAME = {tool.name: tool for tool in TOOLS}


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def _token(header: str) -> str | None:
    return header[7:].strip() or None if header.lower().startswith("bearer ") else None


def _bearer(ctx: ServerRequestContext[Any]) -> str | None:
    headers = getattr(ctx.request, "headers", None)
    return _token(headers.get("authorization", "")) if headers is not None else None


def build_assay_server(ws: Workspace, guard: Guard, *, token: str | None = None) -> Server[Any]:
    """The read-only Assay MCP server over ``ws``.

    ``token``: the API token of a stdio session; over HTTP each request's
    bearer token is used instead.
    """

    def principal(ctx: ServerRequestContext[Any]) -> Principal | None:
        presented = _bearer(ctx) or token
        return principal_for_token(ws.store, presented) if presented else None

    async def list_tools(ctx: ServerRequestContext[Any],
                         params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[tool.definition() for tool in TOOLS])

    async def call_tool(ctx: ServerRequestContext[Any],
                        params: types.CallToolRequestParams) -> types.CallToolResult:
        tool = _BY_NAME.get(params.name)
        if tool is None:
            return _error(f"no tool named {params.name!r}; see tools/list")
        caller = await anyio.to_thread.run_sync(principal, ctx)
        if caller is None:
            return _error("no valid API token: create one with `assay tokens create` and "
                          "pass it as ASSAY_MCP_TOKEN (stdio) or a bearer token (HTTP)")
        if not caller.can(tool.permission):
            return _error(f"your role ({caller.role}) does not allow this "
                          f"({tool.permission.value})")
        try:
            value = await anyio.to_thread.run_sync(tool.run, ws, guard, params.arguments or {})
        except AssayError as exc:
            return _error(exc.message)
        text = json.dumps(value, indent=2, sort_keys=True, default=str)
        return types.CallToolResult(content=[types.TextContent(text=text)],
                                    structured_content=value if isinstance(value, dict) else None)

    return Server("assay", version="1", on_list_tools=list_tools, on_call_tool=call_tool,
                  instructions="Read-only access to an Assay workspace: guard checks, "
                               "compliance readiness and gaps, the AIMS registers, and "
                               "ledger evidence with inclusion proofs.")


def assay_http_app(ws: Workspace, guard: Guard, *, host: str = "127.0.0.1") -> ASGIApp:
    """The server over streamable HTTP at ``/mcp``, refusing a request without a valid
    bearer token with 401 before MCP sees it (as the REST API does); each tool call
    still checks its permission."""
    app = build_assay_server(ws, guard).streamable_http_app(host=host)

    async def authenticated(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            header = Headers(scope=scope).get("authorization", "")
            token = _token(header)
            caller = (await anyio.to_thread.run_sync(principal_for_token, ws.store, token)
                      if token else None)
            if caller is None:
                refusal = JSONResponse({"detail": "no valid API token (Authorization: Bearer)"},
                                       status_code=401, headers={"WWW-Authenticate": "Bearer"})
                await refusal(scope, receive, send)
                return
        await app(scope, receive, send)

    return authenticated

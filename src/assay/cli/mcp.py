"""``assay mcp``: guard MCP servers (proxy, approve, pins) and serve Assay over MCP.

See docs/mcp.md. The proxy and ``serve`` speak MCP on stdin/stdout, so an MCP
client starts them like any other server; their logs go to stderr.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from assay.cli._common import (
    LogFormatOption,
    actor,
    console,
    evidence_batcher,
    load_guard,
    open_ws,
    print_json,
    workspace,
)
from assay.errors import AssayError, UsageError

if TYPE_CHECKING:
    from mcp.server import Server

    from assay.mcp import Connect, GuardChecks, PinStore, Recorder

__all__ = ["app"]

app = typer.Typer(help="Guard MCP servers (proxy, approve, pins) and serve Assay over MCP.",
                  no_args_is_help=True)

_T = TypeVar("_T")
TOKEN_ENV = "ASSAY_MCP_TOKEN"  # noqa: S105 - the variable's name, not a secret

NameOpt = Annotated[str, typer.Option(
    "--name", help="Name of the upstream server in pins and evidence (e.g. files).")]
PolicyOpt = Annotated[str, typer.Option(
    "--policy", "-p", help="Guard policy YAML file, or 'default' for the built-in policy.")]
SystemOpt = Annotated[str | None, typer.Option(
    "--system", help="AI system the evidence is about (default: the policy's, else 'default').")]
UpstreamOpt = Annotated[str | None, typer.Option(
    "--upstream", help="URL of a streamable HTTP MCP server (instead of a command after --).")]
HeaderOpt = Annotated[list[str] | None, typer.Option(
    "--header", help="'Name: value' header for the --upstream server (repeatable).")]
TimeoutOpt = Annotated[float, typer.Option(
    "--timeout", min=1.0, help="Seconds a request to the server may take before it fails.")]
CommandArg = Annotated[list[str] | None, typer.Argument(
    help="The MCP server's command and arguments, after --.", show_default=False)]


def _mcp(*, web: bool = False) -> None:
    """Refuse early, with the fix, when an extra this command needs is missing."""
    try:
        import mcp  # noqa: F401
    except ModuleNotFoundError as exc:
        raise AssayError(
            f"the mcp extra is not installed ({exc.name} missing): pip install 'assay[mcp]'"
        ) from exc
    if web:
        try:
            import argon2  # noqa: F401
            import fastapi  # noqa: F401
        except ModuleNotFoundError as exc:
            raise AssayError(f"assay mcp serve reads API tokens with the web extra ({exc.name} "
                             "missing): pip install 'assay[mcp,web]'") from exc


def _connect(command: list[str] | None, upstream: str | None,
             headers: list[str] | None, timeout: float) -> Connect:
    from assay.mcp import http_upstream, stdio_upstream

    if (upstream is None) == (not command):
        raise UsageError("give the MCP server either as a command after -- or as --upstream URL")
    if upstream is None:
        return stdio_upstream(command or [], timeout=timeout)
    parsed: dict[str, str] = {}
    for header in headers or []:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header {header!r}: write it as 'Name: value'")
        parsed[name.strip()] = value.strip()
    return http_upstream(upstream, parsed, timeout=timeout)


def _run(main: Callable[[], Awaitable[_T]]) -> _T:
    """``anyio.run``, with an Assay error raised inside a task group raised as itself."""
    import anyio

    try:
        return anyio.run(main)
    except BaseExceptionGroup as group:
        cause: BaseException = group
        while isinstance(cause, BaseExceptionGroup) and cause.exceptions:
            cause = cause.exceptions[0]
        if isinstance(cause, AssayError):
            raise cause from group
        raise


def _serve_stdio(server: Server[Any], on_stop: Callable[[], None] = lambda: None) -> None:
    """Serve MCP on stdin/stdout until the client closes them or sends SIGTERM.

    A thread blocked reading stdin cannot be cancelled, so SIGTERM runs
    ``on_stop`` (flush the evidence queue) and ends the process at once; the
    upstream child sees its stdin close and exits.
    """
    from mcp.server.stdio import stdio_server

    def stop(signum: int, frame: object) -> None:
        on_stop()
        os._exit(0)

    async def main() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        _run(main)
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass(frozen=True)
class _Parts:
    checker: GuardChecks
    pins: PinStore
    recorder: Recorder


@contextmanager
def _parts(name: str, policy: str, system: str | None) -> Iterator[_Parts]:
    """The guard (its decisions to the ledger), the pins and the recorder of one command."""
    from assay.guard import LedgerSink
    from assay.ledger.keys import digest_key
    from assay.mcp import GuardChecks, PinStore, Recorder

    Recorder.check_server(name)
    ws = open_ws()
    batcher = evidence_batcher(ws)
    try:
        key = digest_key(ws.root)
        who = actor()
        guard = load_guard(policy, LedgerSink(batcher, system=system, actor=who, key=key))
        recorder = Recorder(batcher, key, system or guard.system or "default", who, name)
        yield _Parts(GuardChecks(guard), PinStore(ws.root), recorder)
    finally:
        batcher.close()
        ws.close()


@app.command("proxy", context_settings={"allow_interspersed_args": False})
def proxy(
    name: NameOpt,
    command: CommandArg = None,
    policy: PolicyOpt = "default",
    system: SystemOpt = None,
    upstream: UpstreamOpt = None,
    header: HeaderOpt = None,
    timeout: TimeoutOpt = 120.0,
    fail_open: Annotated[bool, typer.Option(
        "--fail-open", help="Forward calls (and relay result content) the guard could not "
                            "check; the default refuses them.")] = False,
    trust_on_first_use: Annotated[bool, typer.Option(
        "--trust-on-first-use", help="Pin a clean definition the first time it is seen "
                                     "instead of hiding it until `assay mcp approve`.")] = False,
    log_format: LogFormatOption = "text",
) -> None:
    """Serve MCP on stdin/stdout in front of a real server, guarding its tools.

    Example (the command an MCP client's config starts):
    assay mcp proxy --name files -- npx -y @modelcontextprotocol/server-filesystem /srv
    """
    _mcp()
    from assay.mcp import McpProxy, ProxyOptions
    from assay.ops.logs import configure_logging

    configure_logging(log_format)
    connect = _connect(command, upstream, header, timeout)
    with _parts(name, policy, system) as parts:
        options = ProxyOptions(name, fail_open=fail_open, trust_on_first_use=trust_on_first_use)
        proxy_ = McpProxy(connect, parts.checker, parts.pins, parts.recorder, options,
                          actor=parts.recorder.actor)
        _serve_stdio(proxy_.server, parts.recorder.queue.close)


@app.command("approve", context_settings={"allow_interspersed_args": False})
def approve(
    name: NameOpt,
    command: CommandArg = None,
    tool: Annotated[list[str] | None, typer.Option(
        "--tool", help="Approve only this tool (repeatable; default: every listed tool).")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Pin definitions the guard blocks too (recorded with its findings).")
    ] = False,
    policy: PolicyOpt = "default",
    system: SystemOpt = None,
    upstream: UpstreamOpt = None,
    header: HeaderOpt = None,
    timeout: TimeoutOpt = 120.0,
    json_output: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Check a server's tool definitions and pin the clean ones (exit 3 if any is refused).

    Example: assay mcp approve --name files -- npx -y @modelcontextprotocol/server-filesystem /srv
    """
    _mcp()
    from assay.cli.guard import BLOCKED_EXIT
    from assay.mcp import approve_tools

    connect = _connect(command, upstream, header, timeout)
    with _parts(name, policy, system) as parts:
        results = _run(lambda: approve_tools(connect, parts.checker, parts.pins,
                                                  parts.recorder, tools=tool or (),
                                                  force=force))
    if json_output:
        print_json([r.as_json() for r in results])
    else:
        for r in results:
            line = f"{r.tool:<32} {r.outcome:<10} sha256 {r.digest[:16]}…"
            console.print(line + (f"  {r.reason}" if r.reason else ""), markup=False)
    if any(r.outcome == "poisoned" for r in results):
        raise typer.Exit(BLOCKED_EXIT)


@app.command("pins")
def pins(
    name: Annotated[str | None, typer.Option("--name", help="Only this server's pins.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """List the approved tool definitions (server, tool, digest, who approved them, when)."""
    from assay.mcp import PinStore

    with workspace() as ws:
        found = PinStore(ws.root).pins(name)
    if json_output:
        print_json({server: {t: p.as_json() for t, p in tools.items()}
                    for server, tools in found.items()})
        return
    rows = [(s, t, p) for s, tools in sorted(found.items()) for t, p in sorted(tools.items())]
    if not rows:
        console.print("No approved tools: pin a server's with `assay mcp approve`.")
    for server, tool_name, pin in rows:
        console.print(f"{server:<16} {tool_name:<32} {pin.digest[:16]}…  {pin.approved_by} "
                      f"{pin.approved_at}", markup=False)


@app.command("serve")
def serve(
    policy: PolicyOpt = "default",
    http: Annotated[int | None, typer.Option(
        "--http", help="Serve streamable HTTP on this port (path /mcp) instead of stdio.")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind with --http.")] = "127.0.0.1",
    log_format: LogFormatOption = "text",
) -> None:
    """Serve read-only Assay tools over MCP (stdio, or streamable HTTP with --http).

    The caller's API token comes from $ASSAY_MCP_TOKEN (stdio) or each request's
    bearer token (HTTP); each tool needs the permission of its REST route.

    Example: ASSAY_MCP_TOKEN=assay_... assay mcp serve
    """
    _mcp(web=True)
    from assay.mcp import assay_http_app, build_assay_server
    from assay.ops.logs import configure_logging

    configure_logging(log_format)
    token = os.environ.get(TOKEN_ENV)
    if http is None and not token:
        raise UsageError(f"set {TOKEN_ENV} to an API token (create one with "
                         "`assay tokens create`)")
    with workspace() as ws:
        guard = load_guard(policy)
        if http is not None:
            import uvicorn

            uvicorn.run(assay_http_app(ws, guard, host=host), host=host, port=http,
                        log_level="warning")
            return
        server = build_assay_server(ws, guard, token=token)
        _serve_stdio(server)

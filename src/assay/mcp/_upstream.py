"""How the proxy and ``assay mcp approve`` reach the real MCP server, and what it lists."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

import httpx2
import mcp_types as types
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from assay.errors import AssayError, UsageError

__all__ = ["Connect", "connected", "first_cause", "http_upstream", "list_all_tools",
           "stdio_upstream"]

Connect = Callable[[], AbstractAsyncContextManager[Client]]
"""Opens a connected client of the upstream server (a new one per call)."""

_MAX_PAGES = 100


#: How long a request upstream may take before the proxy gives up on it (seconds).
DEFAULT_TIMEOUT = 120.0


def stdio_upstream(command: Sequence[str], cwd: str | None = None, *,
                   timeout: float = DEFAULT_TIMEOUT) -> Connect:
    """A server started as a child process speaking MCP on its stdin/stdout.

    The child gets this process's whole environment: an MCP client that starts
    the proxy puts the real server's settings (API keys, paths) there. Client
    response caching is off, so every listing is the server's current one;
    ``timeout`` bounds each request.
    """
    if not command:
        raise UsageError("give the MCP server's command after --, or --upstream URL")
    params = StdioServerParameters(command=command[0], args=list(command[1:]),
                                   env=dict(os.environ), cwd=cwd)
    return lambda: Client(params, cache=None, read_timeout_seconds=timeout)


def http_upstream(url: str, headers: Mapping[str, str] | None = None, *,
                  timeout: float = DEFAULT_TIMEOUT) -> Connect:
    """A server at a streamable HTTP endpoint (``headers``: e.g. its Authorization)."""
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--upstream {url!r} is not an http(s) URL")

    @asynccontextmanager
    async def connect() -> AsyncIterator[Client]:
        limits = httpx2.Timeout(30.0, read=max(300.0, timeout))
        async with (httpx2.AsyncClient(headers=dict(headers or {}), timeout=limits) as http,
                    Client(streamable_http_client(url, http_client=http), cache=None,
                           read_timeout_seconds=timeout) as client):
            yield client

    return connect


async def list_all_tools(client: Client) -> list[types.Tool]:
    """Every tool the server lists, page by page (at most 100 pages)."""
    tools: list[types.Tool] = []
    cursor: str | None = None
    for _ in range(_MAX_PAGES):
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return tools


def first_cause(exc: BaseException) -> BaseException:
    """The first leaf of an exception group (anyio task groups wrap what they raise)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


@asynccontextmanager
async def connected(connect: Connect) -> AsyncIterator[Client]:
    """``connect()`` entered, a failure to start or reach the server raised as an
    :class:`AssayError` that says so (the SDK raises ``OSError``, HTTP or MCP errors)."""
    async with AsyncExitStack() as stack:
        try:
            client = await stack.enter_async_context(connect())
        except Exception as exc:
            cause = first_cause(exc)
            raise AssayError(
                f"cannot connect to the MCP server ({type(cause).__name__}: {cause})",
                hint="check the command after -- (does it run on its own?) or the --upstream URL",
            ) from exc
        yield client

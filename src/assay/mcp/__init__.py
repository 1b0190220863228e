"""MCP (Model Context Protocol) for Assay: a guarding proxy, and Assay as an MCP server.

Needs the ``mcp`` extra (``pip install 'assay[mcp]'``: the official ``mcp`` SDK).

- :class:`McpProxy` stands between an MCP client and a real server: it shows
  the model only approved, unchanged, clean tool definitions (pinned by hash
  in a :class:`PinStore`), checks every call and every answer with the guard
  and records its decisions as ``guard-decision`` evidence. ``approve_tools``
  pins definitions (``assay mcp approve``).
- :func:`build_assay_server` exposes read-only Assay tools (guard a text,
  readiness, registers, evidence with its proof) to an assistant, scoped by an
  API token's role (``assay mcp serve``); :func:`assay_http_app` serves it over
  streamable HTTP behind a bearer-token check.
- ``python -m assay.mcp.demo_server`` is a small server that can be told to
  poison, mutate, leak or crash, for the docs and the tests.
"""

from typing import TYPE_CHECKING, Any

from assay.mcp._approve import Approval, approve_tools
from assay.mcp._checks import GuardChecks, ProxyChecks
from assay.mcp._evidence import Recorder
from assay.mcp._pins import Pin, PinStore, definition_digest
from assay.mcp._proxy import McpProxy, ProxyOptions
from assay.mcp._upstream import Connect, http_upstream, stdio_upstream

if TYPE_CHECKING:
    from assay.mcp._serve import assay_http_app, build_assay_server

__all__ = [
    "Approval",
    "Connect",
    "GuardChecks",
    "McpProxy",
    "Pin",
    "PinStore",
    "ProxyChecks",
    "ProxyOptions",
    "Recorder",
    "approve_tools",
    "assay_http_app",
    "build_assay_server",
    "definition_digest",
    "http_upstream",
    "stdio_upstream",
]


def __getattr__(name: str) -> Any:
    """The server's names on first use: they need the web extra, the proxy does not."""
    if name in ("assay_http_app", "build_assay_server"):
        from assay.mcp import _serve

        return getattr(_serve, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

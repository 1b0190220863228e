"""What the proxy asks of the guard: one protocol, one implementation on :class:`Guard`.

The proxy depends on :class:`ProxyChecks` only, so a test can hand it checks
that fail (to prove an unchecked call is never forwarded). :class:`GuardChecks`
is the guard's tool API (``check_tool_definition``, ``check_tool_call``,
``check_tool_result``: the policy's ``tools`` section and input rules; see
docs/guardrails.md#tool-policy). Every method is synchronous and CPU-bound;
the proxy runs them in worker threads.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import mcp_types as types

from assay.guard import Guard, ToolContext, Verdict

__all__ = ["GuardChecks", "ProxyChecks"]


class ProxyChecks(Protocol):
    """The three checks the proxy makes; each returns the guard's :class:`Verdict`."""

    def check_definition(self, tool: types.Tool) -> Verdict:
        """A tool definition from ``tools/list`` (poisoning, invisible text)."""
        ...

    def check_call(self, name: str, arguments: Mapping[str, object],
                   context: ToolContext) -> Verdict:
        """A ``tools/call`` request before it reaches the server (tool policy)."""
        ...

    def check_result(self, name: str, text: str, context: ToolContext) -> Verdict:
        """One text of a tool's answer before it reaches the model (as a document)."""
        ...


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class GuardChecks:
    """:class:`ProxyChecks` on a guard policy's tool API.

    A definition is checked as its description with the title and the output
    schema's strings added (a model may read those too), and its input schema.
    ``context`` is the connection's :class:`ToolContext`: call budget and taint
    (a result flagged as an injection puts later calls under ``on_tainted``).
    """

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def check_definition(self, tool: types.Tool) -> Verdict:
        extra = [tool.title or "", *_strings(tool.output_schema or {})]
        description = "\n".join(part for part in (tool.description or "", *extra) if part)
        return self.guard.check_tool_definition(tool.name, description, tool.input_schema)

    def check_call(self, name: str, arguments: Mapping[str, object],
                   context: ToolContext) -> Verdict:
        return self.guard.check_tool_call(name, arguments, context)

    def check_result(self, name: str, text: str, context: ToolContext) -> Verdict:
        return self.guard.check_tool_result(name, text, context)

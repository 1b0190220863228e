"""What the proxy asks of the guard: one protocol, one implementation on :class:`Guard`.

The proxy depends on :class:`ToolChecker` only, so a test can hand it a checker
that fails (to prove an unchecked call is never forwarded) and the guard's
tool API can evolve behind :class:`GuardToolChecker`. Every method is
synchronous and CPU-bound; the proxy runs them in worker threads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import mcp_types as types

from assay.guard import Guard, Verdict
from assay.validators import CheckContext

__all__ = ["GuardToolChecker", "ToolChecker", "definition_text"]

_DOCUMENT = CheckContext(origin="document")


class ToolChecker(Protocol):
    """The three checks the proxy makes; each returns the guard's :class:`Verdict`."""

    def check_definition(self, tool: types.Tool) -> Verdict:
        """A tool definition from ``tools/list`` (poisoning, invisible text)."""
        ...

    def check_call(self, name: str, arguments: Mapping[str, object]) -> Verdict:
        """A ``tools/call`` request before it reaches the server (tool policy)."""
        ...

    def check_result(self, name: str, text: str) -> Verdict:
        """One text of a tool's answer before it reaches the model (as a document)."""
        ...


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value: keys and values (a schema hides text in both)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def definition_text(tool: types.Tool) -> str:
    """The text of a definition a model reads: name, title, description, schema strings."""
    parts = [tool.name, tool.title or "", tool.description or ""]
    parts.extend(_strings(tool.input_schema))
    if tool.output_schema is not None:
        parts.extend(_strings(tool.output_schema))
    return "\n".join(p for p in parts if p)


class GuardToolChecker:
    """:class:`ToolChecker` on a guard policy.

    Definitions, call arguments and results are checked with the policy's input
    rules as *documents* (``CheckContext(origin="document")``): text a tool
    server wrote is read by the model like retrieved content, which is where
    indirect injection lives; secrets and PII rules apply to all three.
    """

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def check_definition(self, tool: types.Tool) -> Verdict:
        return self.guard.check_input(definition_text(tool), _DOCUMENT)

    def check_call(self, name: str, arguments: Mapping[str, object]) -> Verdict:
        # The arguments' JSON alone, so a redacted text is the redacted arguments.
        return self.guard.check_input(json.dumps(arguments, ensure_ascii=False), _DOCUMENT)

    def check_result(self, name: str, text: str) -> Verdict:
        return self.guard.check_input(text, _DOCUMENT)

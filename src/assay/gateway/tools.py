"""Tool calls and tool definitions on the gateway's request path (issue #21).

The request side: the tools a client declares (``tools``, legacy ``functions``)
are checked for poisoning, and the conversation gives each request its
:class:`~assay.guard.ToolContext` — the calls its assistant messages made (the
budget) and the ``tool``/``function`` messages the input guard flagged as an
injection (the taint, named by the evidence key's digest of the message).

The answer side: every ``tool_calls`` entry and legacy ``function_call`` of each
choice is checked by the tool policy before the client sees it; a choice's
calls share one copy of the request's context (choices are alternatives, so one
does not spend another's budget). These functions run in the guard pool; the
handler in :mod:`assay.gateway.app` shapes the response and records evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assay.gateway.fields import Slot, ToolCall, answer_tool_calls, history_calls, joined
from assay.gateway.guarding import Decision, GuardPort, ToolContext, as_verdict, finding_names
from assay.gateway.streaming import ToolCheck
from assay.guard.engine import is_injection
from assay.guard.verdict import Verdict

__all__ = [
    "Declared",
    "answer_calls",
    "check_answer_calls",
    "check_definitions",
    "request_context",
    "stream_tool_check",
    "stripped_header",
]

Declared = tuple[str, str, dict[str, Any] | None]  # name, description, parameters


def check_definitions(port: GuardPort, declared: Sequence[Declared], system: str,
                      fresh: list[bool]) -> list[Decision]:
    """One decision per declared tool (the port caches them); ``fresh`` receives, per
    tool, whether it was checked now rather than remembered (evidence is written once)."""
    decisions = []
    for name, description, parameters in declared:
        decision, new = port.check_tool_definition(name, description, parameters, system=system)
        decisions.append(decision)
        fresh.append(new)
    return decisions


def request_context(system: str, messages: Sequence[Any],
                    checked: Sequence[tuple[list[Slot], Any]], decisions: Sequence[Decision],
                    digest: Any) -> ToolContext:
    """The conversation's tool context: past calls per tool, and a taint for each
    ``tool``/``function`` message whose input decision found an injection (any action:
    the warn band taints too). ``digest(text)`` names the message in evidence."""
    context = ToolContext(system=system, calls=history_calls(messages))
    for (slots, role), decision in zip(checked, decisions, strict=True):
        if role in ("tool", "function") and is_injection(as_verdict(decision)):
            text = joined(slots)
            context.taint(text, digest=digest(text))
    return context


def answer_calls(messages: Sequence[dict[str, Any]]) -> list[list[ToolCall]]:
    """Each choice's tool calls (shapes checked by ``choice_slots`` before)."""
    return [answer_tool_calls(message) for message in messages]


def check_answer_calls(port: GuardPort, calls: Sequence[Sequence[ToolCall]],
                       context: ToolContext) -> list[Decision]:
    """The tool policy's decision on every call, choice by choice, in order."""
    out: list[Decision] = []
    for choice_calls in calls:
        own = context.copy()
        out += [port.check_tool_call(c.name, c.arguments, context=own) for c in choice_calls]
    return out


def stream_tool_check(port: GuardPort, context: ToolContext) -> ToolCheck:
    """The streaming rewriter's check of one complete call; the stream's calls share one
    copy of the request's context (a streamed answer has one choice in practice)."""
    own = context.copy()

    def check(name: str, arguments: str) -> Verdict:
        return as_verdict(port.check_tool_call(name, arguments, context=own))

    return check


def stripped_header(stripped: Sequence[tuple[str, Decision]]) -> str:
    """The ``x-assay-decision`` suffix naming the calls the policy removed and why
    (printable ASCII only: a tool name comes from the model)."""
    parts = [f"{name} ({finding_names(decision)})" for name, decision in stripped]
    text = "; stripped=" + ", ".join(parts)
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)[:512]

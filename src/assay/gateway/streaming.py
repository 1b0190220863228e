"""Server-sent events, and the guard of every text a streamed completion carries.

Spec: OpenAI Chat Completions streaming (``chat.completion.chunk`` events,
``data: [DONE]``). The release policy itself is the guard's
:class:`~assay.guard.StreamChecker` (one implementation for the library and
the gateway, issue #18); :class:`StreamRewriter` gives each text stream of a
response its own checker — ``content``, ``refusal`` and ``reasoning_content``
of every choice, and the ``arguments`` of every tool call — and writes the
released text back into the events, so streamed tool calls keep working and
nothing a second choice carries goes out unchecked (issue #19 item 2).

With a tool policy (``tool_check``), each tool call's deltas are held until the
call is complete — when its choice finishes — and then checked whole: its
arguments by the output rules (one checker over the whole text) and the call by
the tool policy; an allowed call is released as the upstream sent it, a call
the policy strips is dropped (``stripped``), a block ends the stream (issue #21).
The text content keeps its stream mode meanwhile.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from assay.gateway.fields import BodyError, delta_slots
from assay.guard.stream import StreamChecker
from assay.guard.verdict import SEVERITY, Verdict
from assay.sse import EventStream

__all__ = ["HeldCall", "StreamRewriter", "ToolCheck", "parse_sse", "sse_event"]

#: The tool policy's check of one complete call: ``(name, arguments) -> Verdict``.
ToolCheck = Callable[[str, str], Verdict]
_TOOL_FIELDS = ("tool", "function")

_Key = tuple[int, str, int]  # choice index, field, tool-call index
#: The delta fields a streamed answer keeps (the rest is dropped, being unguarded).
_DELTA_KEYS = frozenset({"role", "content", "refusal", "reasoning_content", "tool_calls",
                         "function_call"})
#: A new stream's first chunk at least this long may run a check (the smallest window).
_FIRST_CHECK = 16


def sse_event(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def parse_sse(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """The JSON object of each event (:class:`assay.sse.EventStream`) until ``[DONE]``; an
    event that is not a JSON object is skipped, never forwarded."""
    stream = EventStream()
    async for line in lines:
        payload = stream.feed(line)
        if payload is None:
            continue
        if payload.strip() == "[DONE]":
            return
        try:
            event = json.loads(payload)
        except ValueError:
            continue
        if isinstance(event, dict):
            yield event


@dataclass
class HeldCall:
    """One streamed tool call, held until complete: its deltas as the upstream sent them."""

    legacy: bool  # a ``function_call`` rather than a ``tool_calls`` entry
    name: str = ""
    arguments: str = ""
    first: dict[str, Any] = dataclasses.field(default_factory=dict)  # index, id, type
    deltas: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def add(self, entry: dict[str, Any], where: str) -> None:
        function = entry if self.legacy else entry.get("function")
        if function is None:
            function = {}
        if not isinstance(function, dict):
            raise BodyError(f"'{where}.function' is not an object")
        name, arguments = function.get("name"), function.get("arguments")
        if (name is not None and not isinstance(name, str)) \
                or (arguments is not None and not isinstance(arguments, str)):
            raise BodyError(f"'{where}': name and arguments must be text")
        self.name += name or ""
        self.arguments += arguments or ""
        if not self.legacy:
            self.first.update({k: entry[k] for k in ("id", "type") if k in entry})
        self.deltas.append({"function_call": entry} if self.legacy else {"tool_calls": [entry]})

    def rewritten(self, arguments: str) -> dict[str, Any]:
        """One delta carrying the whole call with ``arguments`` (after a redaction)."""
        function = {"name": self.name, "arguments": arguments}
        if self.legacy:
            return {"function_call": function}
        return {"tool_calls": [{"index": self.first.get("index", 0), **self.first,
                                "function": function}]}


class StreamRewriter:
    """Feeds each text of each event to its stream's checker; returns the events to send.

    A choice's streams are finished when its ``finish_reason`` arrives (their held
    text goes out just before it), the rest at :meth:`close`. ``blocked`` is set at
    the first block; nothing more may be sent then. Not thread-safe: one step at a time.
    """

    def __init__(self, open_checker: Callable[[], StreamChecker],
                 tool_check: ToolCheck | None = None) -> None:
        self._open = open_checker
        self._checkers: dict[_Key, StreamChecker] = {}  # the streams still open
        self._all: list[StreamChecker] = []
        self._template: dict[str, Any] = {}
        self._tool_check = tool_check
        self._held: dict[int, dict[tuple[str, int], HeldCall]] = {}  # per choice
        self.blocked: Verdict | None = None
        self.tool_verdicts: list[tuple[HeldCall, Verdict]] = []  # every checked call
        self.stripped: list[tuple[HeldCall, Verdict]] = []

    def process(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Guard one upstream event in place; the events to send now (none once blocked)."""
        choices = event.get("choices")
        if choices is None:
            return [event]
        if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
            raise BodyError("a streamed event's choices are not a list of objects")
        self._template = self._template or {k: v for k, v in event.items() if k != "choices"}
        finishing: list[tuple[int, Any]] = []
        for n, choice in enumerate(choices):
            index = _index(choice, n)
            delta = choice.get("delta")
            if delta is not None and not isinstance(delta, dict):
                raise BodyError("a streamed choice's delta is not an object")
            if delta is not None and not self._feed(index, delta):
                return []
            if choice.get("logprobs") is not None:
                choice["logprobs"] = None  # its tokens would release text the checker holds
            if choice.get("finish_reason") is not None:
                finishing.append((index, choice["finish_reason"]))
                choice["finish_reason"] = None
        out = [event]
        if self._tool_check is not None and choices:  # a choice left with nothing to say
            choices[:] = [c for c in choices if c.get("delta") != {}]
            out = [event] if choices else []
        for index, reason in finishing:
            tails = self._finish(index)
            calls, none_left = self._complete_tools(index)
            if self.blocked is not None:
                return []
            out += tails + calls
            if none_left and reason in ("tool_calls", "function_call"):
                reason = "stop"  # every call was stripped
            out.append(self._event(index, {}, reason))
        return out

    def cheap(self, event: dict[str, Any]) -> bool:
        """Whether :meth:`process` of ``event`` runs no guard check (so it may run inline):
        no choice finishes and no stream reaches its next window."""
        choices = event.get("choices")
        if not isinstance(choices, list):
            return choices is None
        for n, choice in enumerate(choices):
            if not isinstance(choice, dict) or choice.get("finish_reason") is not None:
                return False
            delta = choice.get("delta")
            if delta is None:
                continue
            if not isinstance(delta, dict):
                return False
            try:
                slots = delta_slots(delta)
            except BodyError:
                return False  # process() reports it
            for (field, sub), slot in slots:
                if self._tool_check is not None and field in _TOOL_FIELDS:
                    continue  # held until the call is complete
                checker = self._checkers.get((_index(choice, n), field, sub))
                size = len(slot.text)
                if checker.checks_on(size) if checker is not None else size >= _FIRST_CHECK:
                    return False
        return True

    def close(self) -> list[dict[str, Any]]:
        """End of the stream: the held text of every stream still open."""
        tails: list[dict[str, Any]] = []
        for index in sorted({k[0] for k in self._checkers} | set(self._held)):
            tails += self._finish(index)
            tails += self._complete_tools(index)[0]
        return [] if self.blocked is not None else tails

    def verdicts(self) -> list[tuple[Verdict, str]]:
        """Each stream's verdict so far and its text (for evidence)."""
        return [(c.verdict, c.text) for c in self._all]

    @property
    def action(self) -> str:
        """The worst action of any stream so far."""
        return max((c.action for c in self._all), key=SEVERITY.__getitem__,
                   default="allow")

    def _feed(self, index: int, delta: dict[str, Any]) -> bool:
        for key in [k for k in delta if k not in _DELTA_KEYS]:
            del delta[key]  # a field no checker reads is not released (audio, future fields)
        if self._tool_check is not None:
            self._hold(index, delta)
        for (field, sub), slot in delta_slots(delta):
            checker = self._checker((index, field, sub))
            update = checker.feed(slot.text)
            if update.blocked:
                self.blocked = checker.verdict
                return False
            slot.set(update.text)
        return True

    def _hold(self, index: int, delta: dict[str, Any]) -> None:
        """Take the tool-call fields out of ``delta`` and keep them with their call."""
        calls = delta.pop("tool_calls", None)
        legacy = delta.pop("function_call", None)
        held = self._held.setdefault(index, {})
        if calls is not None:
            if not isinstance(calls, list):
                raise BodyError("'tool_calls' is not a list")
            for i, entry in enumerate(calls):
                if not isinstance(entry, dict):
                    raise BodyError(f"'tool_calls[{i}]' is not an object")
                sub = entry.get("index", i)
                sub = sub if isinstance(sub, int) else i
                call = held.setdefault(("tool", sub), HeldCall(False))
                call.first.setdefault("index", sub)
                call.add(entry, f"tool_calls[{i}]")
        if legacy is not None:
            if not isinstance(legacy, dict):
                raise BodyError("'function_call' is not an object")
            held.setdefault(("function", 0), HeldCall(True)).add(legacy, "function_call")

    def _complete_tools(self, index: int) -> tuple[list[dict[str, Any]], bool]:
        """Check the choice's held calls whole; the events that release the allowed ones,
        and whether the choice held calls and none is left (all stripped)."""
        held = self._held.pop(index, {})
        events: list[dict[str, Any]] = []
        kept = 0
        for key in sorted(held):
            call = held[key]
            checker = self._open()  # the output rules over the whole arguments
            self._all.append(checker)
            head = checker.feed(call.arguments)
            tail = checker.finish() if not head.blocked else head
            if tail.blocked:
                self.blocked = checker.verdict
                return [], False
            released = head.text + tail.text
            assert self._tool_check is not None
            verdict = self._tool_check(call.name, call.arguments)
            self.tool_verdicts.append((call, verdict))
            if verdict.blocked and not verdict.strip:
                self.blocked = verdict
                return [], False
            if verdict.blocked:
                self.stripped.append((call, verdict))
                continue
            kept += 1
            deltas = call.deltas if released == call.arguments else [call.rewritten(released)]
            events += [self._event(index, delta, None) for delta in deltas]
        return events, bool(held) and kept == 0

    def _finish(self, index: int) -> list[dict[str, Any]]:
        events = []
        for key in [k for k in self._checkers if k[0] == index]:
            checker = self._checkers.pop(key)
            update = checker.finish()
            if update.blocked:
                self.blocked = checker.verdict
                return []
            if update.text:
                events.append(self._event(index, _delta(key, update.text), None))
        return events

    def _checker(self, key: _Key) -> StreamChecker:
        if key not in self._checkers:
            self._checkers[key] = self._open()
            self._all.append(self._checkers[key])
        return self._checkers[key]

    def _event(self, index: int, delta: dict[str, Any], reason: Any) -> dict[str, Any]:
        choice = {"index": index, "delta": delta, "finish_reason": reason}
        return {**self._template, "choices": [choice]}


def _index(choice: dict[str, Any], n: int) -> int:
    index = choice.get("index", n)
    return index if isinstance(index, int) else n


def _delta(key: _Key, text: str) -> dict[str, Any]:
    _, field, sub = key
    if field == "tool":
        return {"tool_calls": [{"index": sub, "function": {"arguments": text}}]}
    if field == "function":
        return {"function_call": {"arguments": text}}
    return {field: text}

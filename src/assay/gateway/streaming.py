"""Server-sent events, and the guard of every text a streamed completion carries.

Spec: OpenAI Chat Completions streaming (``chat.completion.chunk`` events,
``data: [DONE]``). The release policy itself is the guard's
:class:`~assay.guard.StreamChecker` (one implementation for the library and
the gateway, issue #18); :class:`StreamRewriter` gives each text stream of a
response its own checker — ``content``, ``refusal`` and ``reasoning_content``
of every choice, and the ``arguments`` of every tool call — and writes the
released text back into the events, so streamed tool calls keep working and
nothing a second choice carries goes out unchecked (issue #19 item 2).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from assay.gateway.fields import BodyError, delta_slots
from assay.guard.stream import StreamChecker
from assay.guard.verdict import SEVERITY, Verdict

__all__ = ["StreamRewriter", "parse_sse", "sse_event"]

_Key = tuple[int, str, int]  # choice index, field, tool-call index
#: The delta fields a streamed answer keeps (the rest is dropped, being unguarded).
_DELTA_KEYS = frozenset({"role", "content", "refusal", "reasoning_content", "tool_calls",
                         "function_call"})
#: A new stream's first chunk at least this long may run a check (the smallest window).
_FIRST_CHECK = 16


def sse_event(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def parse_sse(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """JSON payloads of ``data:`` lines until ``[DONE]``; other lines are ignored."""
    async for line in lines:
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            event = json.loads(payload)
        except ValueError:
            continue
        if isinstance(event, dict):
            yield event


class StreamRewriter:
    """Feeds each text of each event to its stream's checker; returns the events to send.

    A choice's streams are finished when its ``finish_reason`` arrives (their held
    text goes out just before it), the rest at :meth:`close`. ``blocked`` is set at
    the first block; nothing more may be sent then. Not thread-safe: one step at a time.
    """

    def __init__(self, open_checker: Callable[[], StreamChecker]) -> None:
        self._open = open_checker
        self._checkers: dict[_Key, StreamChecker] = {}  # the streams still open
        self._all: list[StreamChecker] = []
        self._template: dict[str, Any] = {}
        self.blocked: Verdict | None = None

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
        for index, reason in finishing:
            tails = self._finish(index)
            if self.blocked is not None:
                return []
            out += tails
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
                checker = self._checkers.get((_index(choice, n), field, sub))
                size = len(slot.text)
                if checker.checks_on(size) if checker is not None else size >= _FIRST_CHECK:
                    return False
        return True

    def close(self) -> list[dict[str, Any]]:
        """End of the stream: the held text of every stream still open."""
        tails = [e for index in sorted({k[0] for k in self._checkers}) for e in self._finish(index)]
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
        for (field, sub), slot in delta_slots(delta):
            checker = self._checker((index, field, sub))
            update = checker.feed(slot.text)
            if update.blocked:
                self.blocked = checker.verdict
                return False
            slot.set(update.text)
        return True

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

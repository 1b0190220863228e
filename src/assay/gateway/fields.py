"""The text fields of OpenAI bodies that the gateway guards, and how a redaction is written back.

Spec: OpenAI Chat Completions (message ``content`` as a string or a list of
parts; assistant ``refusal``, ``reasoning_content``, ``tool_calls[].function.arguments``
and the legacy ``function_call``), Completions (``prompt``) and Embeddings
(``input``). A request text the gateway cannot read as text (a message that is
not an object, ``content`` that is an object or a number, token-id arrays) is
refused with a :class:`BodyError` rather than forwarded unchecked: the gateway
forwards only bytes it checked (issue #19 items 1 and 19).

Several fields of one message (or of one choice) are checked as one text,
joined with newlines, so an instruction split across parts is still seen
whole; a redaction's spans are then cut back to each field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assay.validators import redact

__all__ = [
    "BodyError",
    "Slot",
    "ToolCall",
    "answer_tool_calls",
    "choice_slots",
    "declared_tools",
    "delta_slots",
    "history_calls",
    "joined",
    "message_slots",
    "redacted_texts",
    "remove_tool_calls",
    "text_list_slots",
]

_SEP = "\n"
_REDACTED = "[REDACTED]"


class BodyError(ValueError):
    """A body whose text fields cannot be guarded (a request: HTTP 400; an answer: 502)."""


@dataclass(frozen=True, slots=True)
class Slot:
    """One string inside a parsed body: ``holder[key]``."""

    holder: Any  # the dict or list that holds the string
    key: str | int

    @property
    def text(self) -> str:
        return str(self.holder[self.key])

    def set(self, text: str) -> None:
        self.holder[self.key] = text


def joined(slots: Sequence[Slot]) -> str:
    """The one text that is checked for ``slots``."""
    return _SEP.join(slot.text for slot in slots)


def redacted_texts(
    slots: Sequence[Slot], spans: Sequence[tuple[int, int]], whole: str | None
) -> list[str]:
    """Each slot's text with the redaction ``spans`` (offsets into :func:`joined`) applied.

    Without spans (a guard that reports only the redacted text) a single slot takes
    ``whole``; several slots are replaced entirely, since where the redaction fell
    is unknown — the original bytes are never the fallback.
    """
    if not spans:
        if len(slots) == 1 and whole is not None:
            return [whole]
        return [_REDACTED if slot.text else "" for slot in slots]
    out: list[str] = []
    start = 0
    for slot in slots:
        text = slot.text
        end = start + len(text)
        inside = [(max(a, start) - start, min(b, end) - start) for a, b in spans
                  if a < end and b > start]
        out.append(redact(text, inside) if inside else text)
        start = end + len(_SEP)
    return out


def message_slots(message: Any) -> list[Slot]:
    """The text of one request message: ``content`` as a string or a list of parts.

    A part is a string or an object; an object's ``text`` (when present) must be a
    string. Other part types (``image_url``, ``input_audio``, ``file``) carry no text.
    """
    if not isinstance(message, dict):
        raise BodyError("each message must be a JSON object")
    return _content_slots(message, "content")


def _content_slots(holder: dict[str, Any], key: str) -> list[Slot]:
    content = holder.get(key)
    if content is None:
        return []
    if isinstance(content, str):
        return [Slot(holder, key)]
    if not isinstance(content, list):
        raise BodyError(f"'{key}' must be a string or a list of parts")
    slots: list[Slot] = []
    for i, part in enumerate(content):
        if isinstance(part, str):
            slots.append(Slot(content, i))
        elif isinstance(part, dict):
            text = part.get("text")
            if text is not None and not isinstance(text, str):
                raise BodyError(f"'{key}[{i}].text' must be a string")
            if text is not None:
                slots.append(Slot(part, "text"))
        else:
            raise BodyError(f"'{key}[{i}]' must be a string or an object")
    return slots


def text_list_slots(body: dict[str, Any], key: str) -> list[Slot]:
    """``prompt`` (Completions) or ``input`` (Embeddings): a string or a list of strings.

    Token-id arrays are refused: the guard reads text, and forwarding tokens it did
    not read would pass an attacker's text around it.
    """
    value = body.get(key)
    if isinstance(value, str):
        return [Slot(body, key)]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [Slot(value, i) for i in range(len(value))]
    raise BodyError(f"'{key}' must be a string or a list of strings (token arrays cannot "
                    "be guarded)")


def choice_slots(message: dict[str, Any]) -> list[Slot]:
    """Every text of one returned message the output guard must read.

    ``content`` (string or parts), ``refusal``, ``reasoning_content``, each
    ``tool_calls[].function.arguments`` and the legacy ``function_call.arguments``.
    Any of them in a shape that is not text raises :class:`BodyError` (the caller
    answers 502): what the gateway cannot read, it does not return. Every string in
    any other field (``audio.transcript``, ``annotations``, fields added later) is
    read too; only ``role`` is not.
    """
    known = _content_slots(message, "content") + [slot for _, slot in _answer_slots(message)]
    other = [key for key in message if key not in _KNOWN_ANSWER_KEYS]
    return known + [slot for key in other for slot in _strings(message, key, 0)]


_KNOWN_ANSWER_KEYS = frozenset({"role", "content", "refusal", "reasoning_content",
                                "tool_calls", "function_call"})
_MAX_DEPTH = 32


def _strings(holder: Any, key: str | int, depth: int) -> list[Slot]:
    """A slot for every string under ``holder[key]`` (objects and lists walked)."""
    value = holder[key]
    if isinstance(value, str):
        return [Slot(holder, key)]
    if depth > _MAX_DEPTH:
        raise BodyError("an answer field is nested too deeply")
    if isinstance(value, dict):
        return [slot for k in value for slot in _strings(value, k, depth + 1)]
    if isinstance(value, list):
        return [slot for i in range(len(value)) for slot in _strings(value, i, depth + 1)]
    return []


def delta_slots(delta: dict[str, Any]) -> list[tuple[tuple[str, int], Slot]]:
    """The texts of one streamed ``delta``, each keyed by the stream it continues.

    Keys: ``("content", 0)``, ``("refusal", 0)``, ``("reasoning_content", 0)``,
    ``("tool", i)`` for the ``tool_calls`` entry with ``index`` i, ``("function", 0)``.
    A text field in another shape raises :class:`BodyError`.
    """
    return [(("content", 0), slot) for slot in _text_slot(delta, "content", "content")] \
        + _answer_slots(delta)


def _answer_slots(message: dict[str, Any]) -> list[tuple[tuple[str, int], Slot]]:
    """``refusal``, ``reasoning_content`` and every function's ``arguments``, keyed."""
    found: list[tuple[tuple[str, int], Slot]] = []
    for key in ("refusal", "reasoning_content"):
        found += [((key, 0), slot) for slot in _text_slot(message, key, key)]
    for stream, where, function in _functions(message):
        found += [(stream, slot) for slot in _text_slot(function, "arguments", where)]
    return found


def _text_slot(holder: dict[str, Any], key: str, where: str) -> list[Slot]:
    value = holder.get(key)
    if value is None:
        return []
    if not isinstance(value, str):
        raise BodyError(f"'{where}' is not text")
    return [Slot(holder, key)]


def _functions(message: dict[str, Any]) -> list[tuple[tuple[str, int], str, dict[str, Any]]]:
    """``(stream key, where, function)`` of each ``tool_calls[i].function`` and of the
    legacy ``function_call``; a tool call's stream is its ``index`` (streamed) or position."""
    calls = message.get("tool_calls")
    if calls is not None and not isinstance(calls, list):
        raise BodyError("'tool_calls' is not a list")
    found: list[tuple[tuple[str, int], str, Any]] = []
    for i, call in enumerate(calls or []):
        if not isinstance(call, dict):
            raise BodyError(f"'tool_calls[{i}]' is not an object")
        index = call.get("index", i)
        if call.get("function") is not None:
            found.append((("tool", index if isinstance(index, int) else i),
                          f"tool_calls[{i}].function", call["function"]))
    if message.get("function_call") is not None:
        found.append((("function", 0), "function_call", message["function_call"]))
    for _, where, function in found:
        if not isinstance(function, dict):
            raise BodyError(f"'{where}' is not an object")
    return found


# -- tool calls and tool definitions (issue #21) ------------------------------------------


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One call an answer asks for: its place in the message, its name and its arguments
    as the model wrote them (``position`` is its index in ``tool_calls``; None for the
    legacy ``function_call``)."""

    position: int | None
    name: str
    arguments: str


def answer_tool_calls(message: dict[str, Any]) -> list[ToolCall]:
    """Every ``tool_calls[i].function`` and the legacy ``function_call`` of one answer
    message (shapes already checked by :func:`choice_slots`); a missing name reads as
    ``""`` (the tool policy blocks it), missing arguments as ``""``."""
    _functions(message)  # the shapes: raises BodyError
    found: list[tuple[int | None, Any]] = [
        (i, call["function"]) for i, call in enumerate(message.get("tool_calls") or [])
        if call.get("function") is not None]
    if message.get("function_call") is not None:
        found.append((None, message["function_call"]))
    calls: list[ToolCall] = []
    for position, function in found:
        name, arguments = function.get("name"), function.get("arguments")
        calls.append(ToolCall(position, name if isinstance(name, str) else "",
                              arguments if isinstance(arguments, str) else ""))
    return calls


def remove_tool_calls(message: dict[str, Any], stripped: Sequence[ToolCall]) -> None:
    """Take ``stripped`` calls out of an answer message (``strip`` in the tool policy)."""
    drop = {c.position for c in stripped if c.position is not None}
    if drop:
        kept = [c for i, c in enumerate(message.get("tool_calls") or []) if i not in drop]
        if kept:
            message["tool_calls"] = kept
        else:
            message.pop("tool_calls", None)
    if any(c.position is None for c in stripped):
        message.pop("function_call", None)


def history_calls(messages: Sequence[Any]) -> dict[str, int]:
    """Calls per tool the conversation's assistant messages made (the budget's count)."""
    counts: dict[str, int] = {}
    for message in messages:
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        try:
            calls = answer_tool_calls(message)
        except BodyError:
            continue
        for call in calls:
            counts[call.name] = counts.get(call.name, 0) + 1
    return counts


def declared_tools(body: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """``(name, description, parameters)`` of each tool the request declares: ``tools``
    (``{"type": "function", "function": {...}}``) and the legacy ``functions``. A shape
    the guard cannot read raises :class:`BodyError` (the request is refused, not
    forwarded unchecked)."""
    found: list[tuple[str, str, dict[str, Any] | None]] = []
    for key in ("tools", "functions"):
        entries = body.get(key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise BodyError(f"'{key}' must be a list")
        for i, entry in enumerate(entries):
            function = entry.get("function") if key == "tools" and isinstance(entry, dict) \
                else entry
            if not isinstance(function, dict):
                if isinstance(entry, dict) and entry.get("type") not in (None, "function"):
                    continue  # a built-in tool (e.g. web_search) declares no text
                raise BodyError(f"'{key}[{i}]' must be an object with a function")
            name, description = function.get("name", ""), function.get("description", "")
            parameters = function.get("parameters")
            if not isinstance(name, str) or not isinstance(description, str):
                raise BodyError(f"'{key}[{i}]': name and description must be strings")
            if parameters is not None and not isinstance(parameters, dict):
                raise BodyError(f"'{key}[{i}]': parameters must be an object")
            found.append((name, description, parameters))
    return found

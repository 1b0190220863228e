"""Server-sent events as the gateway and the red-team targets read them: one parser.

Spec: WHATWG HTML, "Interpreting an event stream" (§9.2.6), the ``data`` field
only — the other fields (``event``, ``id``, ``retry``) carry nothing either reader
uses. A line ``data: x`` adds ``x`` to the event's data (several data lines are
joined with newlines); a blank line dispatches the event; a line starting with
``:`` is a comment. An event not ended by a blank line when the stream ends is
discarded, as the spec says: a reader never acts on half an event.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

__all__ = ["EventStream", "events"]


class EventStream:
    """Feed lines (without their line ending); each completed event's data comes back."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> str | None:
        """The data of the event this line completes, or None."""
        if not line:
            if not self._data:
                return None
            data, self._data = "\n".join(self._data), []
            return data
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None


def events(lines: Iterable[str]) -> Iterator[str]:
    """The data of every complete event in ``lines``, in order."""
    stream = EventStream()
    for line in lines:
        data = stream.feed(line.rstrip("\r"))
        if data is not None:
            yield data

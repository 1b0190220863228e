"""Server-sent events and the release policy for streamed output.

``buffer`` releases nothing until the whole output passed. ``windowed``
releases a segment only after a check of that segment *plus* ``overlap``
characters on each side passed, so a secret or PII value of up to ``overlap``
characters split across chunks is always seen whole before any part of it
leaves. ``flag`` releases at once and reports the verdict at the end.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from assay.gateway.guarding import Decision, GuardPort, StreamSettings, combined

__all__ = ["StreamGuard", "parse_sse", "sse_event"]

_REDACTED = "[REDACTED]"


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


class StreamGuard:
    """Decides which streamed text may be released, and when."""

    def __init__(
        self, guard: GuardPort, *, prompt: str, system: str, system_prompt: str | None = None
    ) -> None:
        self.guard = guard
        self.system_prompt = system_prompt
        self.settings: StreamSettings = guard.stream
        self.prompt = prompt
        self.system = system
        self.text = ""
        self.released = 0
        self.blocked: Decision | None = None
        self.guard_ms = 0.0
        self._decisions: list[Decision] = []
        self._redacted_to = 0  # absolute end of the last span already replaced by a marker

    def feed(self, delta: str) -> list[str]:
        """Add streamed text; return the pieces that may be sent now."""
        self.text += delta
        if self.settings.mode == "flag":
            start, self.released = self.released, len(self.text)
            return [self.text[start:]] if self.released > start else []
        pieces: list[str] = []
        step, overlap = max(1, self.settings.window), max(0, self.settings.overlap)
        while self.blocked is None and len(self.text) >= self.released + step + overlap:
            piece = self._check(self.released, self.released + step, self.released + step + overlap)
            if piece is not None:
                pieces.append(piece)
        return pieces

    def finish(self) -> list[str]:
        """The stream ended: check and release what is left."""
        if self.settings.mode == "flag":
            self._record(self._output(self.text))
            return []
        if self.blocked is not None or self.released >= len(self.text):
            return []
        piece = self._check(self.released, len(self.text), len(self.text))
        return [piece] if piece is not None else []

    def final_decision(self) -> Decision:
        """The verdict over the whole stream, for evidence."""
        if self.blocked is not None:
            return self.blocked
        return combined(self._decisions, self.guard_ms)

    def _check(self, start: int, end: int, lookahead: int) -> str | None:
        """Check [start - overlap, lookahead); release [start, end) unless blocked."""
        origin = max(0, start - self.settings.overlap)
        decision = self._output(self.text[origin:lookahead])
        self._record(decision)
        if decision.action == "block":
            self.blocked = decision
            return None
        piece = self.text[start:end]
        if decision.action == "redact":
            piece, self._redacted_to = _redact(
                piece, start, origin, decision.findings, self._redacted_to
            )
        self.released = end
        return piece

    def _output(self, text: str) -> Decision:
        return self.guard.check_output(
            text, prompt=self.prompt, system=self.system, system_prompt=self.system_prompt
        )

    def _record(self, decision: Decision) -> None:
        self.guard_ms += decision.guard_ms
        self._decisions.append(decision)


def _redact(
    piece: str, start: int, origin: int, findings: tuple[dict[str, Any], ...], marked_to: int
) -> tuple[str, int]:
    """Replace finding spans (relative to ``origin``) inside ``piece``, which starts at
    absolute ``start``. A span that continues one already marked in an earlier piece
    is dropped without a second marker. Returns the text and the new ``marked_to``."""
    spans = sorted(
        (origin + int(a), origin + int(b)) for f in findings for a, b in f.get("spans", ())
    )
    out, cursor = [], start
    end = start + len(piece)
    for a, b in spans:
        a, b = max(a, cursor), min(b, end)
        if a >= b:
            continue
        out.append(piece[cursor - start : a - start])
        if a > marked_to or a > start:
            out.append(_REDACTED)
        cursor = b
        marked_to = max(marked_to, b)
    out.append(piece[cursor - start :])
    return "".join(out), marked_to

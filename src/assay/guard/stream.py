"""Guarding streamed output: release safe text early without leaking a split secret.

Modes (policy ``stream.mode``):

* ``buffer`` — hold everything, check once at the end, release all (or the
  redacted text) — safest, no early bytes.
* ``windowed`` — once ``window`` characters are pending, check them with the
  last ``overlap`` released characters as context, release all but the last
  ``overlap`` characters and hold those back. An entity of up to ``overlap``
  characters that straddles a chunk boundary is therefore always checked whole
  before any of it is released; an entity to redact that crosses the release
  point is held back until it is complete.
* ``flag`` — release every chunk at once and check the same windows after the
  fact; a block stops further release but cannot recall what was sent.

One decision (the combined verdict, stream offsets) is emitted at the end or at
the first block, so a response is one piece of evidence, not one per window.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from assay.guard.engine import Guard
from assay.guard.verdict import ACTION_OF, SEVERITY, DecisionContext, Verdict
from assay.validators import CheckContext, Finding, redact

__all__ = ["StreamChecker", "StreamUpdate"]


@dataclass(frozen=True, slots=True)
class StreamUpdate:
    """What one ``feed``/``finish`` call released and the stream's state."""

    text: str
    action: str
    verdict: Verdict | None = None

    @property
    def blocked(self) -> bool:
        """Whether the stream is blocked (release nothing more)."""
        return self.action == "block"


class StreamChecker:
    """Feed response chunks in order; send each update's ``text`` on to the client."""

    def __init__(self, guard: Guard, *, prompt: str | None = None,
                 ctx: CheckContext | None = None, mode: str | None = None,
                 window: int | None = None, overlap: int | None = None) -> None:
        settings = guard.policy.stream
        self.guard = guard
        self.mode = mode or settings.mode
        self.window = window if window is not None else settings.window
        self.overlap = overlap if overlap is not None else settings.overlap
        if self.mode not in ("buffer", "windowed", "flag"):
            raise ValueError(f"stream mode {self.mode!r} is not buffer, windowed or flag")
        if not 0 <= self.overlap < self.window:
            raise ValueError("stream overlap must be >= 0 and smaller than the window")
        if prompt is not None:
            ctx = CheckContext(prompt=prompt) if ctx is None else replace(ctx, prompt=prompt)
        self.ctx = ctx
        self._redacting = {r.validator for r in guard.policy.output if r.action == "redact"}
        self._parts: list[str] = []
        self._released: list[str] = []
        self._pending = ""
        self._base = 0  # stream offset of _pending[0]
        self._context = ""
        self._findings: dict[tuple[str, str, tuple[tuple[int, int], ...]], Finding] = {}
        self._timings: dict[str, float] = {}
        self._total_ms = 0.0
        self._errors: list[str] = []
        self._worst = 0
        self._done = False
        self._emitted = False

    @property
    def action(self) -> str:
        """The worst action so far."""
        return ACTION_OF[self._worst]

    @property
    def verdict(self) -> Verdict:
        """The combined verdict so far (spans are offsets into the whole stream)."""
        findings = sorted(self._findings.values(), key=lambda f: (f.spans[:1], f.validator))
        redacted = ("".join(self._released) if self.action == "redact" and self.mode != "flag"
                    else None)
        return Verdict(self.action, tuple(findings), redacted, dict(self._timings),
                       self._total_ms, "; ".join(self._errors) if self._errors else None)

    def feed(self, chunk: str) -> StreamUpdate:
        """Add ``chunk``; returns the text now safe to release."""
        if self._done or self._worst >= SEVERITY["block"]:
            return StreamUpdate("", self.action)
        self._parts.append(chunk)
        self._pending += chunk
        if self.mode == "buffer" or len(self._pending) < self.window:
            released = chunk if self.mode == "flag" else ""
            self._released.append(released)
            return StreamUpdate(released, self.action)
        verdict, released = self._check(final=False)
        if self.mode == "flag":
            released = chunk if verdict is None or not verdict.blocked else ""
        self._released.append(released)
        return StreamUpdate(released, self.action, verdict)

    def finish(self) -> StreamUpdate:
        """End of stream: check what is left, release it, emit one decision."""
        if self._done:
            return StreamUpdate("", self.action)
        verdict: Verdict | None = None
        released = ""
        if self._worst < SEVERITY["block"] and (self._pending or not self._parts
                                                 or self.mode == "buffer"):
            verdict, released = self._check(final=True)
            if self.mode == "flag":
                released = ""
        self._released.append(released)
        self._done = True
        self._emit()
        return StreamUpdate(released, self.action, verdict)

    # -- internals ------------------------------------------------------------------

    def _check(self, *, final: bool) -> tuple[Verdict, str]:
        lead = len(self._context)
        text = self._context + self._pending
        verdict = self.guard.evaluate("output", text, self.ctx)
        self._absorb(verdict, self._base - lead)
        if verdict.blocked:
            self._emit()
            return verdict, ""
        pending = self._pending
        spans = [(max(s - lead, 0), e - lead) for f in verdict.findings
                 if f.validator in self._redacting for s, e in f.spans if e - lead > 0]
        cut = len(pending) if final else len(pending) - self.overlap
        moved = True
        while moved and self.mode == "windowed":  # hold back an entity that crosses the cut
            moved = False
            for s, e in spans:
                if s < cut < e:
                    cut, moved = s, True
        segment = pending[:cut]
        inside = [(s, min(e, cut)) for s, e in spans if s < cut]
        released = redact(segment, inside) if inside and self.mode != "flag" else segment
        self._context = (self._context + segment)[-self.overlap:] if self.overlap else ""
        self._pending = pending[cut:]
        self._base += cut
        return verdict, released

    def _absorb(self, verdict: Verdict, offset: int) -> None:
        self._worst = max(self._worst, SEVERITY[verdict.action])
        self._total_ms += verdict.total_ms
        for key, ms in verdict.timings_ms.items():
            self._timings[key] = self._timings.get(key, 0.0) + ms
        if verdict.error:
            self._errors.append(verdict.error)
        for f in verdict.findings:
            spans = tuple((max(s + offset, 0), e + offset) for s, e in f.spans)
            seen = (f.validator, f.label, spans)
            if seen not in self._findings and not self._covered(seen):
                self._findings[seen] = Finding(f.validator, f.score, f.label, spans, f.detail)

    def _covered(self, seen: tuple[str, str, tuple[tuple[int, int], ...]]) -> bool:
        """Whether an earlier finding already covers this one (a window cut an entity short)."""
        validator, label, spans = seen
        return any(v == validator and lab == label and len(old) == len(spans)
                   and all(a <= s and e <= b for (a, b), (s, e) in zip(old, spans, strict=True))
                   for v, lab, old in self._findings)

    def _emit(self) -> None:
        if self._emitted:
            return
        self._emitted = True
        text = "".join(self._parts)
        self.guard.emit(self.verdict, DecisionContext("output", text, self.guard.policy,
                                                      self.guard.system, time.time(), self.ctx,
                                                      stream=True))

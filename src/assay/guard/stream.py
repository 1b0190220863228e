"""Guarding streamed output: release safe text early without leaking a split secret.

This is the one streaming guard of the project: the library's ``guard.stream()``
and the gateway (through its guard port) both drive it. Modes (policy
``stream.mode``, default ``windowed``):

* ``buffer`` — hold everything, check once at the end, release all (or the
  redacted text) — safest, no early bytes.
* ``windowed`` — each time ``window`` new characters are pending, check them
  with the last ``overlap`` released characters as context, release all but
  the last ``overlap`` characters and hold those back. The release point never
  falls inside a run of non-whitespace characters (up to ``MAX_HELD``
  characters), so a token longer than the window — a 1,172-character JWT — is
  checked whole before any of it leaves. An entity of up to ``overlap``
  characters that straddles a chunk boundary is always checked whole too; an
  entity to redact that crosses the release point is held back until complete.
  Only the spans of findings whose rule's action is ``redact`` are cut (a
  warn-only finding never removes text).
* ``flag`` — release every chunk at once and check the same windows after the
  fact; a block stops further release but cannot recall what was sent.

One decision (the combined verdict, stream offsets) is emitted at the end or at
the first block, so a response is one piece of evidence, not one per window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assay.guard.policy import StreamSettings
from assay.guard.verdict import ACTION_OF, SEVERITY, Verdict
from assay.validators import Finding, redact

__all__ = ["MAX_HELD", "StreamChecker", "StreamUpdate", "WindowCheck"]

#: Checks one window of output text (no decision emitted).
WindowCheck = Callable[[str], Verdict]
#: Receives the stream's one verdict and its whole text.
StreamEnd = Callable[[Verdict, str], None]
#: The longest whitespace-free run held back whole in windowed mode (the secrets
#: validator's longest credential, a JWT, is under 13,400 characters).
MAX_HELD = 16_384


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
    """Feed response chunks in order; send each update's ``text`` on to the client.

    ``check`` runs the output rules on one window; ``on_end`` receives the one
    decision of the stream. Build one with :meth:`assay.guard.Guard.stream`.
    """

    def __init__(self, check: WindowCheck, settings: StreamSettings, *,
                 on_end: StreamEnd | None = None) -> None:
        if settings.mode not in ("buffer", "windowed", "flag"):
            raise ValueError(f"stream mode {settings.mode!r} is not buffer, windowed or flag")
        if not 0 <= settings.overlap < settings.window:
            raise ValueError("stream overlap must be >= 0 and smaller than the window")
        self.check = check
        self.mode = settings.mode
        self.window = settings.window
        self.overlap = settings.overlap
        self.on_end = on_end
        self._parts: list[str] = []
        self._released: list[str] = []
        self._pending = ""
        self._due = self.window  # check once _pending is this long
        self._base = 0  # stream offset of _pending[0]
        self._context = ""
        self._findings: dict[tuple[str, str, tuple[tuple[int, int], ...]], Finding] = {}
        self._redact_spans: list[tuple[int, int]] = []
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
    def text(self) -> str:
        """Everything fed so far."""
        return "".join(self._parts)

    @property
    def verdict(self) -> Verdict:
        """The combined verdict so far (spans are offsets into the whole stream)."""
        findings = sorted(self._findings.values(), key=lambda f: (f.spans[:1], f.validator))
        redacted = ("".join(self._released) if self.action == "redact" and self.mode != "flag"
                    else None)
        return Verdict(self.action, tuple(findings), redacted, dict(self._timings),
                       self._total_ms, "; ".join(self._errors) if self._errors else None,
                       tuple(self._redact_spans) if self.action == "redact" else ())

    def checks_on(self, size: int) -> bool:
        """Whether feeding ``size`` more characters would run a check (a caller may then
        feed cheap chunks inline and move only checking ones off its event loop)."""
        return (not self._done and self.mode != "buffer"
                and len(self._pending) + size >= self._due)

    def feed(self, chunk: str) -> StreamUpdate:
        """Add ``chunk``; returns the text now safe to release."""
        if self._done or self._worst >= SEVERITY["block"]:
            return StreamUpdate("", self.action)
        self._parts.append(chunk)
        self._pending += chunk
        if self.mode == "buffer" or len(self._pending) < self._due:
            released = chunk if self.mode == "flag" else ""
            self._released.append(released)
            return StreamUpdate(released, self.action)
        verdict, released = self._check(final=False)
        if self.mode == "flag":
            released = chunk if not verdict.blocked else ""
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
        verdict = self.check(self._context + self._pending)
        self._absorb(verdict, self._base - lead)
        if verdict.blocked:
            self._emit()
            return verdict, ""
        pending = self._pending
        spans = [(max(s - lead, 0), e - lead) for s, e in verdict.redact_spans if e - lead > 0]
        cut = len(pending) if final else self._cut(pending, spans)
        segment = pending[:cut]
        inside = [(s, min(e, cut)) for s, e in spans if s < cut]
        released = redact(segment, inside) if inside and self.mode != "flag" else segment
        self._redact_spans.extend((self._base + s, self._base + e) for s, e in inside)
        self._context = (self._context + segment)[-self.overlap:] if self.overlap else ""
        self._pending = pending[cut:]
        self._base += cut
        self._due = len(self._pending) + self.window
        return verdict, released

    def _cut(self, pending: str, spans: list[tuple[int, int]]) -> int:
        """Where to stop releasing: ``overlap`` characters back, then back out of a
        whitespace-free run and out of any entity to redact that crosses the cut."""
        cut = len(pending) - self.overlap
        floor = max(0, cut - MAX_HELD)
        while cut > floor and not pending[cut - 1].isspace() and (
                cut == len(pending) or not pending[cut].isspace()):
            cut -= 1
        if cut == floor and floor > 0:
            cut = len(pending) - self.overlap  # a run longer than MAX_HELD: cut inside it
        moved = True
        while moved:  # hold back an entity to redact that crosses the cut
            moved = False
            for s, e in spans:
                if s < cut < e:
                    cut, moved = s, True
        return cut

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
        if self.on_end is not None:
            self.on_end(self.verdict, self.text)

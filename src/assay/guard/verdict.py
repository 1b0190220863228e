"""What the guard decided about one text, and the context a decision sink receives."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from assay.errors import AssayError
from assay.validators import CheckContext, Finding

if TYPE_CHECKING:
    from assay.guard.policy import Policy

__all__ = ["SEVERITY", "DecisionContext", "DecisionKind", "Direction", "GuardBlocked",
           "ToolSubject", "Verdict", "drift_signals"]

Direction = Literal["input", "output"]
#: What a decision is about: a text (input, output) or a tool call or definition.
DecisionKind = Literal["input", "output", "tool_call", "tool_definition"]

#: Order of actions; a "log" finding counts as allow.
SEVERITY: dict[str, int] = {"allow": 0, "log": 0, "warn": 1, "redact": 2, "block": 3}
ACTION_OF: tuple[str, ...] = ("allow", "warn", "redact", "block")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The guard's decision on one text.

    ``action`` is "allow", "warn", "redact" or "block"; ``redacted_text`` is set
    only for "redact"; ``timings_ms`` has one entry per validator that ran
    (plus "normalize"); ``error`` says why ``on_error`` was applied, if it was;
    ``redact_spans`` are the spans of the findings whose rule's action is "redact"
    (so a caller that rewrites text in pieces, such as a stream or a multi-part
    message, cuts exactly what the policy asked for and nothing a warn-only rule saw).
    ``strip`` is set on tool-call verdicts only (see :mod:`assay.guard.tools`).
    """

    action: str
    findings: tuple[Finding, ...] = ()
    redacted_text: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    total_ms: float = 0.0
    error: str | None = None
    redact_spans: tuple[tuple[int, int], ...] = ()
    #: A blocked tool call whose rules all say ``strip``: the gateway removes the call
    #: from the answer instead of failing the answer (the library treats it as a block).
    strip: bool = False

    @property
    def blocked(self) -> bool:
        """Whether the text must not be used."""
        return self.action == "block"

    def text_or_redacted(self, text: str) -> str:
        """The text to forward: the redacted text for "redact", else ``text``."""
        return self.redacted_text if self.redacted_text is not None else text

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly view (for ``--json`` output and logs)."""
        return {
            "action": self.action,
            "findings": [f.as_dict() for f in self.findings],
            "redacted_text": self.redacted_text,
            "timings_ms": {k: round(v, 4) for k, v in self.timings_ms.items()},
            "total_ms": round(self.total_ms, 4),
            "error": self.error,
        } | ({"strip": True} if self.strip else {})


@dataclass(frozen=True, slots=True)
class ToolSubject:
    """The tool a ``tool_call`` or ``tool_definition`` decision is about.

    ``tainted_by`` holds the digests of the flagged tool results the call was
    checked under (``on_tainted``); evidence names them, never their text.
    """

    name: str
    tainted_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """What a decision sink knows besides the verdict.

    ``text`` is the checked text (for a tool call: its arguments): sinks must not
    persist it unless the policy's ``evidence.store_content`` allows it. ``tool`` is
    set for tool decisions.
    """

    direction: DecisionKind
    text: str
    policy: Policy
    system: str | None
    ts: float
    ctx: CheckContext | None = None
    stream: bool = False
    tool: ToolSubject | None = None


class GuardBlocked(AssayError):
    """Raised by :func:`assay.guard.guarded` when the policy blocks an input or output, and
    by :func:`assay.guard.guarded_tool` when it blocks a tool call or a tool's result."""

    def __init__(self, verdict: Verdict, direction: DecisionKind,
                 tool: str | None = None) -> None:
        names = ", ".join(sorted({f.label if f.validator == "tool_policy" else f.validator
                                  for f in verdict.findings})) or "guard error"
        if tool and direction == "input":
            what = f"result of tool {tool!r}"
        else:
            what = direction.replace("_", " ") + (f" {tool!r}" if tool else "")
        super().__init__(f"the {what} was blocked by the guard policy ({names})"
                         + (f": {verdict.error}" if verdict.error else ""))
        self.verdict = verdict
        self.direction = direction


def drift_signals(ran: Iterable[str], scores: Iterable[tuple[str, float]], *, blocked: bool,
                  redacted: bool, input_len: int, guard_ms: float) -> dict[str, float]:
    """The numeric signals of a drift event (``assay.drift.events``) for guard decisions.

    ``ran``: the validators that ran, each ``score.<name>`` 0.0 unless a finding
    (``scores``: validator, score) raises it, so a quiet validator still counts as
    an observation rather than a missing value.
    """
    signals = {f"score.{name}": 0.0 for name in ran}
    for name, score in scores:
        key = f"score.{name}"
        signals[key] = max(signals.get(key, 0.0), float(score))
    signals["blocked"] = 1.0 if blocked else 0.0
    signals["redacted"] = 1.0 if redacted else 0.0
    signals["input_len"] = float(input_len)
    signals["guard_ms"] = guard_ms
    return signals

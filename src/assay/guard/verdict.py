"""What the guard decided about one text, and the context a decision sink receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from assay.errors import AssayError
from assay.validators import CheckContext, Finding

if TYPE_CHECKING:
    from assay.guard.policy import Policy

__all__ = ["SEVERITY", "DecisionContext", "Direction", "GuardBlocked", "Verdict"]

Direction = Literal["input", "output"]

#: Order of actions; a "log" finding counts as allow.
SEVERITY: dict[str, int] = {"allow": 0, "log": 0, "warn": 1, "redact": 2, "block": 3}
ACTION_OF: tuple[str, ...] = ("allow", "warn", "redact", "block")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The guard's decision on one text.

    ``action`` is "allow", "warn", "redact" or "block"; ``redacted_text`` is set
    only for "redact"; ``timings_ms`` has one entry per validator that ran
    (plus "normalize"); ``error`` says why ``on_error`` was applied, if it was.
    """

    action: str
    findings: tuple[Finding, ...] = ()
    redacted_text: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    total_ms: float = 0.0
    error: str | None = None

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
        }


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """What a decision sink knows besides the verdict.

    ``text`` is the checked text: sinks must not persist it unless the
    policy's ``evidence.store_content`` allows it.
    """

    direction: Direction
    text: str
    policy: Policy
    system: str | None
    ts: float
    ctx: CheckContext | None = None
    stream: bool = False


class GuardBlocked(AssayError):
    """Raised by :func:`assay.guard.guarded` when the policy blocks an input or output."""

    def __init__(self, verdict: Verdict, direction: Direction) -> None:
        names = ", ".join(sorted({f.validator for f in verdict.findings})) or "guard error"
        super().__init__(f"the {direction} was blocked by the guard policy ({names})"
                         + (f": {verdict.error}" if verdict.error else ""))
        self.verdict = verdict
        self.direction = direction

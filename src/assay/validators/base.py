"""The validator contract shared by the guard engine, the evaluator and the gateway.

A validator is a pure, thread-safe object with a ``name``, a cost ``tier`` and a
``check(text, ctx)`` method returning :class:`Finding` objects. Tiers let the
engine run cheap checks first and stop early on a block: 0 deterministic,
1 small linear model, 2 shared sentence embedding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = ["TIER_DETERMINISTIC", "TIER_EMBEDDING", "TIER_LINEAR", "CheckContext", "Finding", "Span",
           "Validator"]

TIER_DETERMINISTIC = 0
TIER_LINEAR = 1
TIER_EMBEDDING = 2

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a validator found.

    ``score`` is in [0, 1] (1 = certainly a violation); ``spans`` are
    ``(start, end)`` character offsets into the *original* text, end exclusive,
    so a redactor can cut them out without knowing about normalisation.
    """

    validator: str
    score: float
    label: str
    spans: tuple[Span, ...] = ()
    detail: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score {self.score} is outside [0, 1]")

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly view (spans as lists)."""
        return {
            "validator": self.validator,
            "score": self.score,
            "label": self.label,
            "spans": [list(s) for s in self.spans],
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a validator may need beyond the text itself.

    Output validators read ``prompt`` (relevance) and ``system_prompt`` /
    ``canary`` (system-prompt leak); ``metadata`` is free-form and ignored by
    the built-in validators.
    """

    prompt: str | None = None
    system_prompt: str | None = None
    canary: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    #: Where an input text comes from: ``"prompt"`` (a user's own request) or
    #: ``"document"`` (tool output, retrieved content, a file); ``prompt_injection``
    #: routes on it. ``None``: inferred from the text's structure.
    origin: Literal["prompt", "document"] | None = None


EMPTY_CONTEXT = CheckContext()


@runtime_checkable
class Validator(Protocol):
    """A check on one text. Implementations must be pure and thread-safe."""

    name: str
    tier: int

    def check(self, text: str, ctx: CheckContext | None = None) -> list[Finding]:
        """Return findings (empty when the text is clean)."""
        ...

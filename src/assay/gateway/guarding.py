"""The gateway's view of the guard: one decision per text, never an exception.

:class:`GuardPort` is what the request path calls. :class:`PolicyGuard` adapts
the guard engine (``assay.guard``) to it and applies the policy's ``on_error``
(default block) when a check fails or overruns its budget, so the gateway never
fails open by accident. :class:`NoGuard` passes everything (guard off).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from assay.guard import Guard
from assay.guard.verdict import SEVERITY, Verdict
from assay.validators import CheckContext

#: Where a guarded input comes from (see :attr:`CheckContext.origin`); None: infer.
Origin = Literal["prompt", "document"] | None

__all__ = [
    "Decision",
    "GuardPort",
    "NoGuard",
    "PolicyGuard",
    "StreamSettings",
    "combined",
    "load_guard",
    "worst",
]



@dataclass(frozen=True)
class Decision:
    """What to do with one text, and why."""

    action: str  # allow | warn | redact | block
    text: str  # the text to forward (redacted when action is "redact")
    findings: tuple[dict[str, Any], ...] = ()
    guard_ms: float = 0.0
    error: str | None = None
    validators: tuple[str, ...] = ()  # the validators that ran (their scores are signals)

    def worse(self, other: Decision) -> bool:
        return SEVERITY.get(self.action, 0) > SEVERITY.get(other.action, 0)


def worst(decisions: Iterable[Decision]) -> Decision:
    """The most severe decision (allow when there are none)."""
    chosen = Decision("allow", "")
    for decision in decisions:
        if decision.worse(chosen):
            chosen = decision
    return chosen


def combined(decisions: Sequence[Decision], guard_ms: float) -> Decision:
    """One decision for several checks of one request (messages, stream windows)."""
    chosen = worst(decisions)
    findings = tuple(f for d in decisions for f in d.findings)
    ran = tuple(dict.fromkeys(name for d in decisions for name in d.validators))
    return Decision(chosen.action, "", findings, guard_ms, chosen.error, ran)


@dataclass(frozen=True)
class StreamSettings:
    """How streamed output is released (policy ``stream:``)."""

    mode: str = "buffer"  # buffer | windowed | flag
    window: int = 256
    overlap: int = 64


class GuardPort(Protocol):
    """What the gateway needs from a guard."""

    stream: StreamSettings

    def check_input(self, text: str, *, system: str, origin: Origin = None) -> Decision: ...

    def check_output(
        self, text: str, *, prompt: str, system: str, system_prompt: str | None = None
    ) -> Decision: ...


@dataclass
class NoGuard:
    """Guard off: every text is allowed unchanged (for baselines and pass-through)."""

    stream: StreamSettings = field(default_factory=lambda: StreamSettings(mode="flag"))

    def check_input(self, text: str, *, system: str, origin: Origin = None) -> Decision:
        return Decision("allow", text)

    def check_output(
        self, text: str, *, prompt: str, system: str, system_prompt: str | None = None
    ) -> Decision:
        return Decision("allow", text)


class PolicyGuard:
    """A policy-driven guard (``assay.guard.Guard``) behind the gateway's port."""

    def __init__(self, guard: Guard) -> None:
        self._guard = guard
        policy = guard.policy
        self.on_error: str = policy.on_error
        self.stream = StreamSettings(
            mode=policy.stream.mode, window=policy.stream.window, overlap=policy.stream.overlap
        )

    def check_input(self, text: str, *, system: str, origin: Origin = None) -> Decision:
        ctx = CheckContext(origin=origin) if origin is not None else None
        return self._run(lambda: self._guard.check_input(text, ctx), text)

    def check_output(
        self, text: str, *, prompt: str, system: str, system_prompt: str | None = None
    ) -> Decision:
        ctx = CheckContext(prompt=prompt, system_prompt=system_prompt)
        return self._run(lambda: self._guard.check_output(text, prompt=prompt, ctx=ctx), text)

    def _run(self, check: Callable[[], Verdict], text: str) -> Decision:
        start = time.perf_counter()
        try:
            verdict = check()
        except Exception as exc:  # a failing check must follow on_error, never crash
            elapsed = (time.perf_counter() - start) * 1000
            action = "block" if self.on_error == "block" else "allow"
            return Decision(action, text, (), elapsed, f"{type(exc).__name__}: {exc}")
        elapsed = (time.perf_counter() - start) * 1000
        action = verdict.action
        findings = tuple(
            {
                "validator": f.validator,
                "score": round(f.score, 4),
                "label": f.label,
                "spans": [list(span) for span in f.spans],
            }
            for f in verdict.findings
        )
        forwarded = verdict.redacted_text if action == "redact" and verdict.redacted_text else text
        ran = tuple(key for key in verdict.timings_ms if key != "normalize")
        return Decision(action, forwarded, findings, elapsed, verdict.error, ran)


def load_guard(policy: str | None) -> GuardPort:
    """A guard for a policy file, the built-in default policy, or none ("off")."""
    if policy in (None, "off", "none"):
        return NoGuard()
    if policy == "default":
        return PolicyGuard(Guard.default())
    return PolicyGuard(Guard.from_policy(Path(policy)))

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
from typing import TYPE_CHECKING, Any, Literal, Protocol

from assay.guard.policy import StreamSettings
from assay.guard.stream import StreamChecker
from assay.guard.verdict import SEVERITY, Verdict
from assay.validators import CheckContext, Finding

if TYPE_CHECKING:
    from assay.guard import Guard

#: Where a guarded input comes from (see :attr:`CheckContext.origin`); None: infer.
Origin = Literal["prompt", "document"] | None

__all__ = [
    "Decision",
    "GuardPort",
    "NoGuard",
    "PolicyGuard",
    "StreamSettings",
    "as_verdict",
    "combined",
    "decision_of",
    "load_guard",
    "open_stream",
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
    redact_spans: tuple[tuple[int, int], ...] = ()  # what a "redact" cuts (see Verdict)

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


def decision_of(verdict: Verdict, text: str, guard_ms: float) -> Decision:
    """The gateway's decision for a guard verdict on ``text``."""
    findings = tuple(
        {
            "validator": f.validator,
            "score": round(f.score, 4),
            "label": f.label,
            "spans": [list(span) for span in f.spans],
        }
        for f in verdict.findings
    )
    forwarded = verdict.redacted_text if verdict.redacted_text is not None else text
    ran = tuple(key for key in verdict.timings_ms if key != "normalize")
    return Decision(verdict.action, forwarded, findings, guard_ms, verdict.error, ran,
                    verdict.redact_spans)


def as_verdict(decision: Decision) -> Verdict:
    """A port's decision as a guard verdict (what the stream checker combines)."""
    findings = tuple(
        Finding(str(f["validator"]), float(f["score"]), str(f["label"]),
                tuple((int(a), int(b)) for a, b in f.get("spans", ())))
        for f in decision.findings
    )
    redacted = decision.text if decision.action == "redact" else None
    return Verdict(decision.action, findings, redacted, dict.fromkeys(decision.validators, 0.0),
                   decision.guard_ms, decision.error, decision.redact_spans)


class GuardPort(Protocol):
    """What the gateway needs from a guard."""

    stream: StreamSettings
    on_error: str  # "block" or "allow": what a failed or overdue check becomes

    def check_input(self, text: str, *, system: str, origin: Origin = None) -> Decision: ...

    def check_output(
        self, text: str, *, prompt: str, system: str, system_prompt: str | None = None
    ) -> Decision: ...


@dataclass
class NoGuard:
    """Guard off: every text is allowed unchanged (for baselines and pass-through)."""

    stream: StreamSettings = field(default_factory=lambda: StreamSettings(mode="flag"))
    on_error: str = "allow"

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
        self.on_error: str = guard.policy.on_error
        self.stream: StreamSettings = guard.policy.stream
        self.on_verdict: Callable[[Verdict], None] | None = None  # sees every check (metrics)

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
        if self.on_verdict is not None:
            self.on_verdict(verdict)
        return decision_of(verdict, text, (time.perf_counter() - start) * 1000)


def open_stream(
    port: GuardPort, *, prompt: str, system: str, system_prompt: str | None = None
) -> StreamChecker:
    """The guard's :class:`~assay.guard.StreamChecker` for one streamed text, driven through
    ``port`` (each window is one ``check_output``): the one streaming guard (issue #18)."""

    def check(text: str) -> Verdict:
        return as_verdict(
            port.check_output(text, prompt=prompt, system=system, system_prompt=system_prompt)
        )

    return StreamChecker(check, port.stream)


def load_guard(policy: str | None) -> GuardPort:
    """A guard for a policy file, the built-in default policy, or none ("off")."""
    if policy in (None, "off", "none"):
        return NoGuard()
    from assay.guard import Guard

    if policy == "default":
        return PolicyGuard(Guard.default())
    return PolicyGuard(Guard.from_policy(Path(policy)))

"""The gateway's view of the guard: one decision per text or tool call, never an exception.

:class:`GuardPort` is what the request path calls. :class:`PolicyGuard` adapts
the guard engine (``assay.guard``) to it and applies the policy's ``on_error``
(default block) when a check fails or overruns its budget, so the gateway never
fails open by accident. :class:`NoGuard` passes everything (guard off). A port
whose ``tools`` is false has no tool policy: the gateway then skips tool checks.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from assay.guard.policy import StreamSettings
from assay.guard.stream import StreamChecker
from assay.guard.tools import TOOL_POLICY, ToolContext
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
    "ToolContext",
    "as_verdict",
    "combined",
    "decision_of",
    "finding_names",
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
    strip: bool = False  # a blocked tool call the policy says to remove (see Verdict.strip)

    def worse(self, other: Decision) -> bool:
        return SEVERITY.get(self.action, 0) > SEVERITY.get(other.action, 0)


def worst(decisions: Iterable[Decision]) -> Decision:
    """The most severe decision (allow when there are none)."""
    chosen = Decision("allow", "")
    for decision in decisions:
        if decision.worse(chosen):
            chosen = decision
    return chosen


def finding_names(decision: Decision) -> str:
    """What blocked, for an error message: validator names, and for the tool policy's
    own findings the rule's label (``denied_tool``, ``tainted_egress``, ...)."""
    names = {str(f["label"]) if f["validator"] == TOOL_POLICY else str(f["validator"])
             for f in decision.findings}
    return ", ".join(sorted(names)) or "guard error"


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
                    verdict.redact_spans, verdict.strip)


def as_verdict(decision: Decision) -> Verdict:
    """A port's decision as a guard verdict (what the stream checker combines)."""
    findings = tuple(
        Finding(str(f["validator"]), float(f["score"]), str(f["label"]),
                tuple((int(a), int(b)) for a, b in f.get("spans", ())))
        for f in decision.findings
    )
    redacted = decision.text if decision.action == "redact" else None
    return Verdict(decision.action, findings, redacted, dict.fromkeys(decision.validators, 0.0),
                   decision.guard_ms, decision.error, decision.redact_spans, decision.strip)


class GuardPort(Protocol):
    """What the gateway needs from a guard."""

    stream: StreamSettings
    on_error: str  # "block" or "allow": what a failed or overdue check becomes
    tools: bool  # whether the policy has a tool policy (else tool checks are skipped)

    def check_input(self, text: str, *, system: str, origin: Origin = None) -> Decision: ...

    def check_output(
        self, text: str, *, prompt: str, system: str, system_prompt: str | None = None
    ) -> Decision: ...

    def check_tool_call(self, name: str, arguments: str, *, context: ToolContext) -> Decision:
        """A tool call the model asks for (``arguments`` as the model wrote them)."""
        ...

    def check_tool_definition(self, name: str, description: str,
                              parameters: Mapping[str, object] | None, *,
                              system: str) -> tuple[Decision, bool]:
        """A tool the client declares; the decision and whether it is new (not cached)."""
        ...


@dataclass
class NoGuard:
    """Guard off: every text is allowed unchanged (for baselines and pass-through)."""

    stream: StreamSettings = field(default_factory=lambda: StreamSettings(mode="flag"))
    on_error: str = "allow"
    tools: bool = False

    def check_input(self, text: str, *, system: str, origin: Origin = None) -> Decision:
        return Decision("allow", text)

    def check_output(
        self, text: str, *, prompt: str, system: str, system_prompt: str | None = None
    ) -> Decision:
        return Decision("allow", text)

    def check_tool_call(self, name: str, arguments: str, *, context: ToolContext) -> Decision:
        return Decision("allow", arguments)

    def check_tool_definition(self, name: str, description: str,
                              parameters: Mapping[str, object] | None, *,
                              system: str) -> tuple[Decision, bool]:
        return Decision("allow", description), False


class PolicyGuard:
    """A policy-driven guard (``assay.guard.Guard``) behind the gateway's port."""

    #: Tool definitions whose decision is remembered (clients send the same tools with
    #: every request; the guard encoder reads each description once).
    DEFINITIONS_CACHED = 1024

    def __init__(self, guard: Guard) -> None:
        self._guard = guard
        self.on_error: str = guard.policy.on_error
        self.stream: StreamSettings = guard.policy.stream
        self.tools: bool = guard.policy.tools is not None
        self.on_verdict: Callable[[Verdict], None] | None = None  # sees every check (metrics)
        self._definitions: OrderedDict[str, Decision] = OrderedDict()
        self._lock = threading.Lock()

    def check_input(self, text: str, *, system: str, origin: Origin = None) -> Decision:
        ctx = CheckContext(origin=origin) if origin is not None else None
        return self._run(lambda: self._guard.check_input(text, ctx), text)

    def check_output(
        self, text: str, *, prompt: str, system: str, system_prompt: str | None = None
    ) -> Decision:
        ctx = CheckContext(prompt=prompt, system_prompt=system_prompt)
        return self._run(lambda: self._guard.check_output(text, prompt=prompt, ctx=ctx), text)

    def check_tool_call(self, name: str, arguments: str, *, context: ToolContext) -> Decision:
        return self._run(lambda: self._guard.check_tool_call(name, arguments, context),
                         arguments)

    def check_tool_definition(self, name: str, description: str,
                              parameters: Mapping[str, object] | None, *,
                              system: str) -> tuple[Decision, bool]:
        key = hashlib.sha256(json.dumps([name, description, parameters], sort_keys=True,
                                        default=str).encode("utf-8", "surrogatepass")).hexdigest()
        with self._lock:
            cached = self._definitions.get(key)
            if cached is not None:
                self._definitions.move_to_end(key)
                return cached, False
        decision = self._run(
            lambda: self._guard.check_tool_definition(name, description, parameters), description)
        if decision.error is None:  # a failed check is tried again next time
            with self._lock:
                self._definitions[key] = decision
                while len(self._definitions) > self.DEFINITIONS_CACHED:
                    self._definitions.popitem(last=False)
        return decision, True

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

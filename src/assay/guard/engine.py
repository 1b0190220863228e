"""The guard engine: run a policy's validators on a text and decide what to do.

Validators run by cost tier (0 deterministic, then 1 linear, then 2 embedding)
and the engine stops after a tier that blocks, so the common attack costs only
the cheap checks. The text is normalised once up front; validators share that
cached work. A validator that raises or a run that overruns the latency budget
follows the policy's ``on_error`` — and the engine itself never raises, since
it sits on a request path that must fail closed (or open) on purpose only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.guard.policy import Policy, Rule, build_validator, default_policy_text, load_policy
from assay.guard.policy import parse_policy as _parse_policy
from assay.guard.tools import (
    ToolChecker,
    ToolContext,
    arguments_text,
    definition_evidence_text,
)
from assay.guard.verdict import (
    ACTION_OF,
    SEVERITY,
    DecisionContext,
    Direction,
    ToolSubject,
    Verdict,
    drift_signals,
)
from assay.validators import CheckContext, Finding, Validator, get_validator, normalize, redact

if TYPE_CHECKING:
    from assay.guard.stream import StreamChecker

__all__ = ["DEADLINE", "INJECTION_VALIDATORS", "DecisionSink", "DriftHook", "Guard",
           "ValidatorFactory", "is_injection"]

log = logging.getLogger("assay.guard")

DecisionSink = Callable[[Verdict, DecisionContext], None]
DriftHook = Callable[[dict[str, Any]], None]
ValidatorFactory = Callable[[Rule], Validator]
_BLOCK = SEVERITY["block"]
#: Validators whose finding on a tool result marks it as an injection (it taints the
#: conversation: see :meth:`Guard.check_tool_result` and ``tools.on_tainted``).
INJECTION_VALIDATORS = frozenset({"prompt_injection", "prompt_injection_lexical", "jailbreak",
                                  "jailbreak_lexical"})


def is_injection(verdict: Verdict) -> bool:
    """Whether a verdict on a document found an injection (warn band included)."""
    return any(f.validator in INJECTION_VALIDATORS for f in verdict.findings)
#: A ``time.perf_counter()`` instant after which a check stops before its next validator
#: and follows ``on_error`` (set by callers with a hard deadline, e.g. the gateway).
DEADLINE: ContextVar[float | None] = ContextVar("assay_guard_deadline", default=None)


@dataclass(frozen=True, slots=True)
class _Step:
    """One compiled policy rule."""

    key: str
    validator: Validator
    action: str
    threshold: float | None


def _compile(rules: Sequence[Rule], factory: ValidatorFactory) -> tuple[tuple[_Step, ...], ...]:
    """Build each rule's validator once and group the steps by tier, cheapest first."""
    steps: list[tuple[int, _Step]] = []
    seen: dict[str, int] = {}
    for rule in rules:
        validator = factory(rule)
        n = seen[rule.validator] = seen.get(rule.validator, 0) + 1
        key = rule.validator if n == 1 else f"{rule.validator}#{n}"
        steps.append((int(validator.tier), _Step(key, validator, rule.action, rule.threshold)))
    tiers = sorted({tier for tier, _ in steps})
    return tuple(tuple(s for t, s in steps if t == tier) for tier in tiers)


def _identity(finding: Finding) -> tuple[str, str, float, tuple[tuple[int, int], ...]]:
    """What makes two findings the same (two rules on one validator: block + warn band)."""
    return (finding.validator, finding.label, finding.score, tuple(finding.spans))


class Guard:
    """Checks inputs and outputs against a :class:`Policy`; thread-safe.

    ``on_decision`` receives every decision (e.g. a :class:`LedgerSink`);
    ``drift_hook`` receives a drift event per input decision (the schema of
    :mod:`assay.drift.events`). Neither may slow or break the check: their
    exceptions are logged, never raised. ``system`` overrides the policy's
    system id; ``factory`` builds each rule's validator (swap it to test the
    engine with scripted validators or to wrap validators with instrumentation).
    """

    def __init__(
        self,
        policy: Policy,
        *,
        on_decision: DecisionSink | None = None,
        drift_hook: DriftHook | None = None,
        system: str | None = None,
        factory: ValidatorFactory = build_validator,
    ) -> None:
        self.policy = policy
        self.system = system or policy.system
        self.on_decision = on_decision
        self.drift_hook = drift_hook
        self._steps: dict[Direction, tuple[tuple[_Step, ...], ...]] = {
            "input": _compile(policy.input, factory),
            "output": _compile(policy.output, factory),
        }
        self._language: Validator | None = None
        self._tools = (ToolChecker(policy.tools, factory, policy.on_error)
                       if policy.tools is not None else None)
        # max_text_chars: the length validator's own check, run before anything else reads
        self._cap = (get_validator("length", max_chars=policy.max_text_chars)
                     if policy.max_text_chars is not None else None)

    @classmethod
    def from_policy(cls, path: Path | str, **kwargs: Any) -> Guard:
        """A guard for the policy file at ``path`` (refused with line and field if bad)."""
        return cls(load_policy(path), **kwargs)

    @classmethod
    def from_yaml(cls, text: str, source: str = "<policy>", **kwargs: Any) -> Guard:
        """A guard for policy YAML held in memory."""
        return cls(_parse_policy(text, source), **kwargs)

    @classmethod
    def default(cls, **kwargs: Any) -> Guard:
        """A guard for the shipped default policy (``assay guard policy show-default``)."""
        return cls.from_yaml(default_policy_text(), "assay/guard/policies/default.yaml", **kwargs)

    # -- checks ------------------------------------------------------------------

    def check_input(self, text: str, ctx: CheckContext | None = None) -> Verdict:
        """Check a prompt (or any text going into the model)."""
        return self._decide("input", text, ctx)

    def check_output(self, text: str, prompt: str | None = None,
                     ctx: CheckContext | None = None) -> Verdict:
        """Check a response; ``prompt`` feeds relevance-style validators."""
        if prompt is not None:
            ctx = replace(ctx, prompt=prompt) if ctx is not None else CheckContext(prompt=prompt)
        return self._decide("output", text, ctx)

    async def acheck_input(self, text: str, ctx: CheckContext | None = None) -> Verdict:
        """:meth:`check_input` in a worker thread, so the event loop keeps serving."""
        return await asyncio.to_thread(self.check_input, text, ctx)

    async def acheck_output(self, text: str, prompt: str | None = None,
                            ctx: CheckContext | None = None) -> Verdict:
        """:meth:`check_output` in a worker thread."""
        return await asyncio.to_thread(self.check_output, text, prompt, ctx)

    # -- tools -------------------------------------------------------------------------

    def check_tool_call(self, name: str, arguments: str | Mapping[str, object],
                        context: ToolContext | None = None) -> Verdict:
        """Check a call the model asks for: ``name`` and its ``arguments`` (the JSON text
        as the model wrote it, or the parsed object) under the policy's ``tools`` section.

        Never raises: malformed JSON is a block whose finding says so. With ``context``
        (one per conversation) the call budget and the taint rules apply, and a call
        that is not blocked is counted in it. Without a ``tools`` section every call is
        allowed (and still recorded). See docs/guardrails.md#tool-policy.
        """
        if self._tools is None:
            verdict = Verdict("allow")
        else:
            verdict = self._tools.check_call(name, arguments, context)
        taints = tuple(t.digest for t in context.taints) if context is not None else ()
        system = (context.system if context is not None else None) or self.system
        self.emit(verdict, DecisionContext("tool_call", arguments_text(arguments), self.policy,
                                           system, time.time(),
                                           tool=ToolSubject(str(name), taints)))
        return verdict

    async def acheck_tool_call(self, name: str, arguments: str | Mapping[str, object],
                               context: ToolContext | None = None) -> Verdict:
        """:meth:`check_tool_call` in a worker thread."""
        return await asyncio.to_thread(self.check_tool_call, name, arguments, context)

    def check_tool_definition(self, name: str, description: str,
                              input_schema: Mapping[str, object] | None = None) -> Verdict:
        """Check a declared tool for poisoning: its description and the descriptions in
        its input schema, read as a document (injection, jailbreak, invisible text,
        hidden instructions such as ``<IMPORTANT>`` or "do not tell the user").

        Uses ``tools.definitions`` when the policy sets it, else those four checks;
        without a ``tools`` section, definitions are not checked (allow). Never raises.
        """
        if self._tools is None:
            verdict = Verdict("allow")
        else:
            verdict = self._tools.check_definition(name, description, input_schema)
        text = definition_evidence_text(name, description, input_schema)
        self.emit(verdict, DecisionContext("tool_definition", text, self.policy, self.system,
                                           time.time(), tool=ToolSubject(str(name))))
        return verdict

    async def acheck_tool_definition(self, name: str, description: str,
                                     input_schema: Mapping[str, object] | None = None
                                     ) -> Verdict:
        """:meth:`check_tool_definition` in a worker thread."""
        return await asyncio.to_thread(self.check_tool_definition, name, description,
                                       input_schema)

    def check_tool_result(self, name: str, result: str,
                          context: ToolContext | None = None) -> Verdict:
        """Check a tool's result before the model reads it: the ``input`` rules with the
        text as a document (injection, secrets, PII). A result with an injection finding
        (blocked or not) taints ``context``, so later calls meet ``on_tainted``."""
        ctx = CheckContext(origin="document", metadata={"tool": name})
        verdict = self.check_input(result, ctx)
        if context is not None and is_injection(verdict):
            context.taint(result)
        return verdict

    def stream(self, prompt: str | None = None, ctx: CheckContext | None = None, *,
               mode: str | None = None, window: int | None = None,
               overlap: int | None = None) -> StreamChecker:
        """A :class:`StreamChecker` for one streamed response.

        It uses the policy's ``stream`` settings unless ``mode``, ``window`` or
        ``overlap`` override them; its one decision goes to ``on_decision``.
        """
        from assay.guard.stream import StreamChecker

        if prompt is not None:
            ctx = CheckContext(prompt=prompt) if ctx is None else replace(ctx, prompt=prompt)
        changes = {k: v for k, v in (("mode", mode), ("window", window), ("overlap", overlap))
                   if v is not None}
        settings = self.policy.stream.model_copy(update=changes)

        def check(text: str) -> Verdict:
            return self.evaluate("output", text, ctx)

        def on_end(verdict: Verdict, text: str) -> None:
            self.emit(verdict, DecisionContext("output", text, self.policy, self.system,
                                               time.time(), ctx, stream=True))

        return StreamChecker(check, settings, on_end=on_end)

    # -- internals shared with the stream checker --------------------------------

    def _decide(self, direction: Direction, text: str, ctx: CheckContext | None) -> Verdict:
        verdict = self.evaluate(direction, text, ctx)
        self.emit(verdict, DecisionContext(direction, text, self.policy, self.system,
                                           time.time(), ctx))
        return verdict

    def evaluate(self, direction: Direction, text: str, ctx: CheckContext | None = None) -> Verdict:
        """Run the policy's ``direction`` rules on ``text`` without emitting a decision."""
        start = time.perf_counter()
        try:
            return self._run(self._steps[direction], text, ctx, start)
        except Exception as exc:  # the engine must never raise on the request path
            log.exception("guard engine failed")
            return self._failed(start, {}, [], f"engine raised {type(exc).__name__}: {exc}")

    def emit(self, verdict: Verdict, decision: DecisionContext) -> None:
        """Hand a decision to the sink and (for inputs) the drift hook; never raises."""
        if self.on_decision is not None:
            try:
                self.on_decision(verdict, decision)
            except Exception:
                log.exception("guard decision sink failed")
        if self.drift_hook is not None and decision.direction in ("input", "tool_call"):
            try:
                self.drift_hook(self._drift_event(verdict, decision))
            except Exception:
                log.exception("guard drift hook failed")

    def _failed(self, start: float, timings: dict[str, float], findings: list[Finding],
                error: str) -> Verdict:
        total = (time.perf_counter() - start) * 1000
        if self.policy.on_error == "block":
            return Verdict("block", tuple(findings), None, timings, total, error)
        return Verdict("allow", tuple(findings), None, timings, total, error)

    def _run(self, tiers: tuple[tuple[_Step, ...], ...], text: str, ctx: CheckContext | None,
             start: float) -> Verdict:
        clock = time.perf_counter
        if self._cap is not None and (over := self._cap.check(text)):
            return Verdict("block", tuple(over), None, {}, (clock() - start) * 1000)
        budget = self.policy.latency_budget_ms
        timings: dict[str, float] = {}
        findings: list[Finding] = []
        reported: set[tuple[str, str, float, tuple[tuple[int, int], ...]]] = set()  # O(1) dedupe
        redact_spans: list[tuple[int, int]] = []
        errors: list[str] = []
        worst = 0
        t = clock()
        normalize(text)  # once; every validator reuses the cached result
        timings["normalize"] = (clock() - t) * 1000
        remaining = sum(len(tier) for tier in tiers)
        deadline = DEADLINE.get()
        for tier in tiers:
            for step in tier:
                if deadline is not None and clock() > deadline:
                    return self._failed(start, timings, findings, f"deadline passed before "
                                        f"{step.key} ({remaining} validators skipped)")
                remaining -= 1
                t = clock()
                try:
                    found = step.validator.check(text, ctx)
                except Exception as exc:
                    timings[step.key] = (clock() - t) * 1000
                    error = f"{step.key} raised {type(exc).__name__}: {exc}"
                    if self.policy.on_error == "block":
                        return self._failed(start, timings, findings, error)
                    errors.append(error)
                    continue
                timings[step.key] = (clock() - t) * 1000
                for f in found:
                    if step.threshold is not None and f.score < step.threshold:
                        continue
                    if (identity := _identity(f)) not in reported:
                        reported.add(identity)
                        findings.append(f)
                    worst = max(worst, SEVERITY[step.action])
                    if step.action == "redact":
                        redact_spans.extend(f.spans or ((0, len(text)),))
                elapsed = (clock() - start) * 1000
                if budget is not None and elapsed > budget:
                    error = (f"latency budget {budget:g} ms exceeded after {step.key} "
                             f"({elapsed:.1f} ms; {remaining} validators skipped)")
                    if self.policy.on_error == "block":
                        return self._failed(start, timings, findings, error)
                    errors.append(error)
                    return self._verdict(text, worst, findings, redact_spans, timings, start,
                                         errors)
            if worst >= _BLOCK:
                break
        return self._verdict(text, worst, findings, redact_spans, timings, start, errors)

    @staticmethod
    def _verdict(text: str, worst: int, findings: list[Finding], spans: list[tuple[int, int]],
                 timings: dict[str, float], start: float, errors: list[str]) -> Verdict:
        action = ACTION_OF[worst]
        redacted = redact(text, spans) if action == "redact" else None
        total = (time.perf_counter() - start) * 1000
        return Verdict(action, tuple(findings), redacted, timings, total,
                       "; ".join(errors) if errors else None,
                       tuple(sorted(spans)) if action == "redact" else ())

    def _drift_event(self, verdict: Verdict, decision: DecisionContext) -> dict[str, Any]:
        """A drift event (assay.drift.events schema); scores below threshold read as 0."""
        prefix = "tool." if decision.direction == "tool_call" else ""  # kept apart from texts'
        signals = drift_signals(
            (prefix + key for key in verdict.timings_ms if key != "normalize"),
            ((prefix + f.validator, f.score) for f in verdict.findings),
            blocked=verdict.action == "block", redacted=verdict.action == "redact",
            input_len=len(decision.text), guard_ms=verdict.total_ms)
        language = ("und" if decision.direction == "tool_call"
                    else self._detect_language(decision.text))
        return {"ts": decision.ts, "system": decision.system or "default", "signals": signals,
                "categories": {"language": language}}

    def _detect_language(self, text: str) -> str:
        if self._language is None:
            self._language = get_validator("language", allowed=(), threshold=0.0, min_chars=20)
        found = self._language.check(text)
        return found[0].label if found else "und"

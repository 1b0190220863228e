"""Tool calls and tool definitions under a policy: what an agent may *do*, not only say.

A model that can call tools acts on content an attacker may have written (a web
page, an e-mail, a tool's answer). The text guard reads what is said; this module
reads what is asked for: the tool's name against allow/deny globs, its JSON
arguments against a JSON Schema and argument rules (validators, built-in
shell/SQL/path-traversal patterns, lengths, value allowlists), a call budget per
conversation, and — once a tool result in the conversation was flagged as an
injection — the stricter ``on_tainted`` rules (no egress tools, no arguments that
quote the tainted text). Tool *definitions* (descriptions and schema
descriptions a client or an MCP server declares) are checked for tool poisoning.

:class:`ToolChecker` is pure and thread-safe; :class:`assay.guard.Guard` owns one
per policy and exposes ``check_tool_call`` / ``check_tool_definition``.
:class:`ToolContext` is the per-conversation state a caller keeps (counts, taint).
See docs/guardrails.md#tool-policy.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assay.guard.policy import ArgumentRule, Rule, ToolPolicy, ToolSpec
from assay.guard.verdict import ACTION_OF, Verdict
from assay.validators import CheckContext, Finding, Validator
from assay.validators.json_schema import schema_errors

__all__ = [
    "TOOL_POLICY",
    "Taint",
    "ToolChecker",
    "ToolContext",
    "arguments_text",
    "definition_evidence_text",
    "definition_text",
]

#: The ``validator`` name of findings made by the tool policy itself (their label names
#: the rule: ``denied_tool``, ``schema_violation``, ``tainted_egress``, ...).
TOOL_POLICY = "tool_policy"
_SEVERITY = {"allow": 0, "log": 0, "warn": 1, "strip": 3, "block": 3}
_MAX_DEPTH = 64
_MAX_POSITIONS = 16  # occurrences of one anchor kept per tainted text (bounds repetitive text)
_DOCUMENT = CheckContext(origin="document")
_PROCESS_KEY = os.urandom(32)

# Built-in argument patterns, matched on the casefolded value. Written for Python's
# ``re`` without nested or unbounded quantifiers over overlapping classes (linear time).
_PATTERNS: dict[str, tuple[str, re.Pattern[str]]] = {
    "shell": ("shell_injection", re.compile(
        r"[;&|`\n]\s{0,8}(?:rm|curl|wget|nc|ncat|bash|sh|zsh|python3?|perl|ruby|php|chmod|chown"
        r"|scp|ssh|sudo|eval|exec|base64)\b"
        r"|\$\([^)]{0,256}\)|`[^`]{1,256}`|\$\{[^}]{1,256}\}"
        r"|\brm\s{1,8}-[a-z]{0,4}[rf]|/dev/(?:tcp|udp)/|\bmkfifo\b|\|\s{0,8}(?:ba|z)?sh\b")),
    "sql": ("sql_injection", re.compile(
        r"\bunion\s{1,16}(?:all\s{1,16})?select\b|\bdrop\s{1,16}(?:table|database|schema)\b"
        r"|\b(?:insert\s{1,16}into|delete\s{1,16}from|truncate\s{1,16}table)\b"
        r"|\bupdate\s{1,16}\w{1,128}\s{1,16}set\b|;\s{0,8}--|'\s{0,8}or\s{1,8}'?\w{1,32}'?"
        r"\s{0,8}=\s{0,8}'?\w{1,32}|\bxp_cmdshell\b|\binformation_schema\b|\bsleep\s{0,8}\(\s{0,8}\d")),
    "path_traversal": ("path_traversal", re.compile(
        r"\.\.[/\\]|[/\\]\.\.(?:$|[/\\])|%2e%2e(?:%2f|%5c|/|\\)|\.\.%2f|\.\.%5c"
        r"|^(?:/etc/|/proc/|/root/|~[/\\]|[a-z]:\\windows\\)"
        r"|\b(?:etc/passwd|etc/shadow|id_rsa|id_ed25519|\.aws/credentials)\b|(?:^|/)\.ssh/")),
    "hidden_instructions": ("hidden_instructions", re.compile(
        r"<\s{0,4}/?\s{0,4}(?:important|system|instructions?|secret|hidden|admin)\s{0,4}>"
        r"|\b(?:do\s{1,4}not|don't|never)\s{1,4}(?:tell|mention|inform|reveal|show|notify)\b"
        r"[^.\n]{0,60}\buser\b"
        r"|\bignore\s{1,4}(?:all\s{1,4}|any\s{1,4})?(?:previous|prior|above|earlier|other)\s{1,4}"
        r"(?:instructions|rules|directions)"
        r"|\bbefore\s{1,4}(?:using|calling|running)\s{1,4}(?:this|any|the)\s{1,4}tool\b"
        r"[^\n]{0,120}\b(?:read|send|include|pass|upload|fetch)\b"
        r"|~/\.ssh|\bid_rsa\b|(?:^|[\s/])\.env\b|\bmcp\.json\b|\.aws/credentials|\.cursor/")),
}


# -- per-conversation state ---------------------------------------------------------------


class Taint:
    """A tool result flagged as an injection: its text, and the digest evidence names it by.

    Copy detection indexes the (casefolded, whitespace-collapsed) text by anchors:
    windows of ``w = k // 2`` characters at every ``s = k - w + 1``-th position. Any
    run of ``k`` characters an argument shares with the text contains one anchor whole,
    so looking up every ``w``-window of the argument finds it; each hit is then
    extended both ways and counts when the shared run reaches ``k``.
    """

    __slots__ = ("_index", "_lock", "digest", "folded", "text")

    def __init__(self, text: str, digest: str) -> None:
        self.text = text
        self.digest = digest
        self.folded = _fold(text)
        self._index: dict[int, dict[str, list[int]]] = {}
        self._lock = threading.Lock()

    def copied_run(self, value: str, k: int) -> int:
        """The length of a run of at least ``k`` characters ``value`` shares with the text
        (after folding), or 0 when there is none."""
        arg = _fold(value)
        w = k // 2
        if len(arg) < k or len(self.folded) < k:
            return 0
        index = self._anchors(k)
        taint = self.folded
        for p in range(len(arg) - w + 1):
            for t in index.get(arg[p:p + w], ()):
                left = 0
                while left < p and left < t and arg[p - left - 1] == taint[t - left - 1]:
                    left += 1
                right = w
                while p + right < len(arg) and t + right < len(taint) \
                        and arg[p + right] == taint[t + right]:
                    right += 1
                if left + right >= k:
                    return left + right
        return 0

    def _anchors(self, k: int) -> dict[str, list[int]]:
        with self._lock:
            index = self._index.get(k)
            if index is None:
                w, text = k // 2, self.folded
                step = k - w + 1
                index = {}
                for t in range(0, len(text) - w + 1, step):
                    positions = index.setdefault(text[t:t + w], [])
                    if len(positions) < _MAX_POSITIONS:
                        positions.append(t)
                self._index[k] = index
            return index


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


class ToolContext:
    """What a tool check needs to know about the conversation so far; thread-safe.

    ``calls`` counts the calls made per tool (for ``budget``); ``taints`` are the
    tool results flagged as injections (for ``on_tainted``); ``system`` the AI
    system; ``key`` keys taint digests (pass the evidence key, e.g. a
    :class:`~assay.guard.LedgerSink`'s ``key``, so a taint's digest is the digest of
    that tool result's own decision entry; default: a random per-process key).
    :meth:`Guard.check_tool_call` counts every call it does not block, so a caller
    keeps one context per conversation and passes it to each check.
    """

    def __init__(self, *, system: str | None = None, calls: Mapping[str, int] | None = None,
                 taints: Sequence[Taint] = (), key: bytes | None = None) -> None:
        self.system = system
        self.key = key if key is not None else _PROCESS_KEY
        self.calls: dict[str, int] = dict(calls or {})
        self.taints: list[Taint] = list(taints)
        self._lock = threading.Lock()

    @property
    def tainted(self) -> bool:
        """Whether a flagged tool result is in the conversation."""
        return bool(self.taints)

    @property
    def total_calls(self) -> int:
        """The calls counted so far, all tools together."""
        with self._lock:
            return sum(self.calls.values())

    def copy(self) -> ToolContext:
        """A context that starts where this one is and counts on its own (a choice of an
        answer: alternatives do not spend each other's budget)."""
        with self._lock:
            return ToolContext(system=self.system, calls=self.calls, taints=self.taints,
                               key=self.key)

    def taint(self, text: str, *, digest: str | None = None) -> Taint:
        """Mark ``text`` (a tool result) as an injection; later calls are checked under
        ``on_tainted``. Its digest is ``digest`` when given, else the HMAC-SHA256 of the
        text under the context's ``key``."""
        if digest is None:
            digest = hmac.new(self.key, text.encode("utf-8", "surrogatepass"),
                              hashlib.sha256).hexdigest()
        found = Taint(text, digest)
        with self._lock:
            self.taints.append(found)
        return found

    def reserve(self, name: str) -> tuple[int, int]:
        """Count a call to ``name``; the counts (this tool, all tools) including it."""
        with self._lock:
            self.calls[name] = self.calls.get(name, 0) + 1
            return self.calls[name], sum(self.calls.values())

    def release(self, name: str) -> None:
        """Take back a call :meth:`reserve` counted (the call was blocked)."""
        with self._lock:
            left = self.calls.get(name, 0) - 1
            if left > 0:
                self.calls[name] = left
            else:
                self.calls.pop(name, None)


# -- the checker -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Check:
    """One compiled argument rule."""

    where: str  # the rule's place in the policy, e.g. "tools.per_tool.send_email.arguments[0]"
    rule: ArgumentRule
    validator: Validator | None


@dataclass(frozen=True, slots=True)
class _Hit:
    finding: Finding
    action: str


@dataclass
class _Run:
    hits: list[_Hit] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def add(self, action: str, label: str, detail: str, validator: str = TOOL_POLICY,
            score: float = 1.0) -> None:
        self.hits.append(_Hit(Finding(validator, score, label, (), detail[:300]), action))


_DEFAULT_DEFINITIONS = (
    ArgumentRule(validator="invisible_text"),
    ArgumentRule(pattern="hidden_instructions"),
    ArgumentRule(validator="prompt_injection"),
    ArgumentRule(validator="jailbreak"),
)


class ToolChecker:
    """A :class:`ToolPolicy` compiled once: validators built, globs kept in order."""

    def __init__(self, policy: ToolPolicy, factory: Callable[[Rule], Validator],
                 on_error: str = "block") -> None:
        self.policy = policy
        self.on_error = on_error
        self._all = self._compile("tools.arguments", policy.arguments, factory)
        self._per_tool: list[tuple[str, ToolSpec, tuple[_Check, ...]]] = [
            (name, spec, self._compile(f"tools.per_tool.{name}.arguments", spec.arguments,
                                       factory))
            for name, spec in policy.per_tool.items()]
        definitions = policy.definitions if policy.definitions is not None \
            else _DEFAULT_DEFINITIONS
        self._definitions = self._compile("tools.definitions", definitions, factory)

    @staticmethod
    def _compile(where: str, rules: Sequence[ArgumentRule],
                 factory: Callable[[Rule], Validator]) -> tuple[_Check, ...]:
        def built(rule: ArgumentRule) -> Validator | None:
            return factory(rule.as_rule()) if rule.validator is not None else None

        return tuple(_Check(f"{where}[{i}]", rule, built(rule)) for i, rule in enumerate(rules))

    # -- calls ---------------------------------------------------------------------------

    def check_call(self, name: str, arguments: str | Mapping[str, object],
                   context: ToolContext | None) -> Verdict:
        """The verdict on one call; counts it in ``context`` unless it is blocked."""
        start = time.perf_counter()
        run = _Run()
        reserved = False
        try:
            if not isinstance(name, str) or not name:
                run.add("block", "malformed_call", "the tool name is missing or not a string")
                return self._verdict(run, start)
            value = _parse_arguments(arguments, run)
            spec, listed = self._spec(name)
            action = (spec.action if spec is not None and spec.action else None) \
                or self.policy.action
            self._check_name(name, listed, run)
            if context is not None:
                reserved = True
                self._check_budget(name, spec, action, context.reserve(name), run)
            if value is not None:
                self._check_arguments(name, spec, action, value, run)
                if context is not None and context.taints:
                    self._check_taint(name, spec, value, context.taints, run)
            verdict = self._verdict(run, start)
        except Exception as exc:  # the check must never raise on the request path
            verdict = self._failed(run, start, f"tool check raised {type(exc).__name__}: {exc}")
        if reserved and context is not None and verdict.blocked:
            context.release(name)
        return verdict

    def _spec(self, name: str) -> tuple[ToolSpec | None, bool]:
        """The tool's ``per_tool`` entry (an exact key first, then the first glob) and
        whether the tool is listed (named by ``per_tool`` or an ``allow`` glob)."""
        spec = self.policy.per_tool.get(name)
        if spec is None:
            spec = next((s for glob, s, _ in self._per_tool if fnmatch.fnmatchcase(name, glob)),
                        None)
        listed = spec is not None or any(fnmatch.fnmatchcase(name, g) for g in self.policy.allow)
        return spec, listed

    def _checks_for(self, name: str) -> tuple[_Check, ...]:
        exact = [checks for key, _, checks in self._per_tool if key == name]
        if exact:
            return exact[0]
        return next((checks for key, _, checks in self._per_tool
                     if fnmatch.fnmatchcase(name, key)), ())

    def _check_name(self, name: str, listed: bool, run: _Run) -> None:
        denied = next((g for g in self.policy.deny if fnmatch.fnmatchcase(name, g)), None)
        if denied is not None:
            run.add("block", "denied_tool", f"tools.deny: {name!r} matches {denied!r}")
        elif not listed and self.policy.unknown_action != "allow":
            run.add(self.policy.unknown_action, "unknown_tool",
                    f"tools.unknown: {name!r} is not on tools.allow or tools.per_tool")

    def _check_budget(self, name: str, spec: ToolSpec | None, action: str,
                      counts: tuple[int, int], run: _Run) -> None:
        tool_count, total = counts
        if spec is not None and spec.budget is not None and tool_count > spec.budget:
            run.add(action, "budget_exceeded", f"tools.per_tool.{name}.budget: call "
                    f"{tool_count} > {spec.budget} in this conversation")
        if self.policy.budget is not None and total > self.policy.budget:
            run.add(action, "budget_exceeded", f"tools.budget: call {total} > "
                    f"{self.policy.budget} in this conversation")

    def _check_arguments(self, name: str, spec: ToolSpec | None, action: str, value: Any,
                         run: _Run) -> None:
        if spec is not None and spec.parameters is not None:
            errors = schema_errors(value, spec.parameters)
            if errors:
                run.add(action, "schema_violation",
                        f"tools.per_tool.{name}.parameters: " + "; ".join(errors[:3]))
        for check in (*self._all, *self._checks_for(name)):
            self._apply(check, check.rule.action or action, value, run)

    def _apply(self, check: _Check, action: str, value: Any, run: _Run) -> None:
        rule = check.rule
        if rule.field is None:
            texts = [text for _, text in _strings(value)]
            targets: list[Any] = ["\n".join(texts)] if texts else []
        else:
            found, target = _lookup(value, rule.field)
            targets = [target] if found else []
        for target in targets:
            self._apply_one(check, action, target, run)

    def _apply_one(self, check: _Check, action: str, target: Any, run: _Run) -> None:
        rule, where = check.rule, check.where
        at = f"{where} ({rule.field})" if rule.field else where
        if rule.one_of is not None:
            if target not in rule.one_of:
                run.add(action, "value_not_allowed", f"{at}: the value is not one of the "
                        f"{len(rule.one_of)} allowed")
            return
        text = target if isinstance(target, str) else json.dumps(target, ensure_ascii=False)
        if rule.max_length is not None:
            if len(text) > rule.max_length:
                run.add(action, "too_long", f"{at}: {len(text)} characters > {rule.max_length}")
            return
        if rule.pattern is not None:
            label, regex = _PATTERNS[rule.pattern]
            if regex.search(text.casefold()) is not None:
                run.add(action, label, f"{at}: matches the {rule.pattern} patterns")
            return
        assert check.validator is not None
        t = time.perf_counter()
        found = check.validator.check(text, _DOCUMENT)
        key = str(rule.validator)
        run.timings[key] = run.timings.get(key, 0.0) + (time.perf_counter() - t) * 1000
        for f in found:
            if rule.threshold is not None and f.score < rule.threshold:
                continue
            detail = f"{at}: {f.detail}" if f.detail else at
            run.add(action, f.label, detail, validator=f.validator, score=f.score)

    def _check_taint(self, name: str, spec: ToolSpec | None, value: Any,
                     taints: Sequence[Taint], run: _Run) -> None:
        rules = self.policy.on_tainted
        by = ", ".join(t.digest[:16] for t in taints)
        denied = next((g for g in rules.deny if fnmatch.fnmatchcase(name, g)), None)
        if denied is not None:
            run.add("block", "tainted_denied", f"tools.on_tainted.deny: {name!r} matches "
                    f"{denied!r} after a flagged tool result ({by})")
        egress = (spec is not None and spec.egress) or any(
            fnmatch.fnmatchcase(name, g) for g in self.policy.egress)
        if egress and rules.egress != "off":
            run.add(rules.egress, "tainted_egress", f"tools.on_tainted.egress: {name!r} sends "
                    f"data outside after a flagged tool result ({by})")
        if rules.copied_text == "off":
            return
        for path, text in _strings(value):
            for taint in taints:
                length = taint.copied_run(text, rules.min_copied_chars)
                if length:
                    run.add(rules.copied_text, "tainted_copy", f"tools.on_tainted.copied_text: "
                            f"argument {path or '$'} repeats {length}+ characters of the "
                            f"flagged tool result {taint.digest[:16]}")
                    return

    # -- definitions ---------------------------------------------------------------------

    def check_definition(self, name: str, description: str,
                         input_schema: Mapping[str, object] | None) -> Verdict:
        """Tool poisoning: the definition's texts as a document (injection, jailbreak,
        invisible text, hidden instructions), each rule's action as written (default block)."""
        start = time.perf_counter()
        run = _Run()
        try:
            text = definition_text(name, description, input_schema)
            for check in self._definitions:
                self._apply_one(check, check.rule.action or "block", text, run)
            return self._verdict(run, start)
        except Exception as exc:
            return self._failed(run, start, f"tool definition check raised "
                                f"{type(exc).__name__}: {exc}")

    # -- verdicts ------------------------------------------------------------------------

    def _verdict(self, run: _Run, start: float, error: str | None = None) -> Verdict:
        worst = max((_SEVERITY[h.action] for h in run.hits), default=0)
        blocking = [h.action for h in run.hits if _SEVERITY[h.action] == 3]
        strip = bool(blocking) and all(a == "strip" for a in blocking)
        findings = tuple(h.finding for h in run.hits)
        total = (time.perf_counter() - start) * 1000
        timings = {TOOL_POLICY: total - sum(run.timings.values()), **run.timings}
        return Verdict(ACTION_OF[worst], findings, None, timings, total, error, strip=strip)

    def _failed(self, run: _Run, start: float, error: str) -> Verdict:
        if self.on_error == "block":
            run.add("block", "check_failed", error)
        return self._verdict(run, start, error)


# -- argument helpers ----------------------------------------------------------------------


def _parse_arguments(arguments: str | Mapping[str, object], run: _Run) -> Any:
    """The arguments as JSON data, or None after adding a ``malformed_arguments`` block."""
    if isinstance(arguments, Mapping):
        value: Any = dict(arguments)
    elif isinstance(arguments, str):
        try:
            value = json.loads(arguments) if arguments.strip() else {}
        except (ValueError, RecursionError) as exc:
            reason = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
            run.add("block", "malformed_arguments", f"the arguments are not valid JSON "
                    f"({reason[:120]}); a tool call's arguments must be a JSON object")
            return None
    else:
        run.add("block", "malformed_arguments",
                f"the arguments are a {type(arguments).__name__}, not a JSON object")
        return None
    if not isinstance(value, dict):
        run.add("block", "malformed_arguments", f"the arguments are a JSON "
                f"{type(value).__name__}, not an object")
        return None
    if _depth(value) > _MAX_DEPTH:
        run.add("block", "malformed_arguments", f"the arguments nest deeper than {_MAX_DEPTH}")
        return None
    return value


def _depth(value: Any) -> int:
    """Nesting depth, iteratively (a hostile body must not reach the recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, d = stack.pop()
        deepest = max(deepest, d)
        if d > _MAX_DEPTH:
            return d
        if isinstance(item, dict):
            stack.extend((v, d + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, d + 1) for v in item)
    return deepest


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """``(dotted path, string)`` for every string in the arguments, keys included."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            yield sub, str(k)
            yield from _strings(v, sub)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}.{i}" if path else str(i))


def _lookup(value: Any, dotted: str) -> tuple[bool, Any]:
    """The value at ``dotted`` (``a.b.0``), and whether it is there."""
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False, None
    return True, value


def arguments_text(arguments: str | Mapping[str, object]) -> str:
    """The text a tool call's decision is about (what evidence digests): the arguments
    as sent, or a mapping as compact JSON."""
    if isinstance(arguments, str):
        return arguments
    try:
        return json.dumps(arguments, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(arguments)


def definition_text(name: str, description: str, input_schema: Mapping[str, object] | None) -> str:
    """Every text of a tool definition a model reads: name, description, and each
    ``description``/``title`` string and property name in the input schema."""
    parts = [str(name), str(description or "")]
    stack: list[tuple[Any, int]] = [(input_schema, 0)] if input_schema else []
    while stack:
        node, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise ValueError("the input schema nests too deeply")
        if isinstance(node, dict):
            for key, item in node.items():
                if key in ("description", "title") and isinstance(item, str):
                    parts.append(item)
                elif key == "properties" and isinstance(item, dict):
                    parts.extend(str(k) for k in item)
                if isinstance(item, dict | list):
                    stack.append((item, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node if isinstance(item, dict | list))
    return "\n".join(parts)


def definition_evidence_text(name: str, description: str,
                             input_schema: Mapping[str, object] | None) -> str:
    """What a definition's decision digests: :func:`definition_text`, or the description
    alone when the schema nests too deeply to read (that definition is blocked anyway)."""
    try:
        return definition_text(name, description, input_schema)
    except ValueError:
        return str(description)

"""The guard policy: which validators run on inputs and outputs, and what a finding does.

A policy is YAML validated by pydantic (schema ``version: 1``). Because a
policy is edited by hand and deployed to production, a bad file is refused
with the file, the line and the field at fault — e.g.
``policy.yaml:7: input[2].action: must be one of block, redact, warn, log`` —
and that includes unknown validator names and unknown validator parameters.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from assay.errors import AssayError
from assay.validators import INPUT_VALIDATORS, OUTPUT_VALIDATORS, Validator, validator_names
from assay.validators import get_validator as _get_validator
from assay.yamlio import Lines, Loc, dotted, line_for, line_map, load_yaml, plain

__all__ = [
    "ACTIONS",
    "ARGUMENT_PATTERNS",
    "DEFAULT_POLICY",
    "TOOL_ACTIONS",
    "ArgumentRule",
    "EvidenceSettings",
    "Policy",
    "Rule",
    "StreamSettings",
    "TaintSettings",
    "ToolPolicy",
    "ToolSpec",
    "build_validator",
    "default_policy_text",
    "load_policy",
    "parse_policy",
]

ACTIONS = ("block", "redact", "warn", "log")
#: What a tool-policy rule does to a call: ``strip`` blocks it in the library and, in the
#: gateway, removes the call from the answer instead of failing the whole answer.
TOOL_ACTIONS = ("block", "strip", "warn", "log")
ToolAction = Literal["block", "strip", "warn", "log"]
#: Built-in argument patterns (``pattern:`` in an argument rule); see assay.guard.tools.
ARGUMENT_PATTERNS = ("shell", "sql", "path_traversal", "hidden_instructions")
DEFAULT_POLICY = "default.yaml"
_SYSTEM_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Rule(BaseModel):
    """One validator in a policy list; keys other than these four are its parameters."""

    model_config = ConfigDict(extra="allow", frozen=True)

    validator: str
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    action: str
    reason: str | None = None  # why the rule exists (for reviewers); not a parameter

    @field_validator("validator")
    @classmethod
    def _known_validator(cls, value: str) -> str:
        if value not in validator_names():
            raise ValueError(f"unknown validator {value!r}; choose one of "
                             + ", ".join(validator_names()))
        return value

    @field_validator("action")
    @classmethod
    def _known_action(cls, value: str) -> str:
        if value not in ACTIONS:
            raise ValueError("must be one of " + ", ".join(ACTIONS))
        return value

    @property
    def params(self) -> dict[str, Any]:
        """The validator's keyword parameters (every key but validator/threshold/action/reason)."""
        return dict(self.model_extra or {})


class StreamSettings(BaseModel):
    """How streamed output is checked: hold all, windows with overlap, or flag after release."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["buffer", "windowed", "flag"] = "windowed"
    window: int = Field(default=256, ge=16, le=1_000_000)
    overlap: int = Field(default=64, ge=0)

    @field_validator("overlap")
    @classmethod
    def _overlap_below_window(cls, value: int, info: Any) -> int:
        window = info.data.get("window", 256)
        if value >= window:
            raise ValueError(f"must be smaller than window ({window})")
        return value


class EvidenceSettings(BaseModel):
    """What decision evidence may hold; raw text only when ``store_content`` is true."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    store_content: bool = False


class ArgumentRule(BaseModel):
    """One check on a tool's arguments (or on a tool definition's text).

    Exactly one of ``validator`` (any guard validator, its parameters as extra keys),
    ``pattern`` (a built-in pattern set), ``max_length`` or ``one_of`` (a value
    allowlist). ``field`` is a dotted path into the arguments object (``to``,
    ``options.url``, ``items.0``); without it the rule reads every string in them.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    field: str | None = Field(default=None, min_length=1, max_length=200)
    validator: str | None = None
    pattern: Literal["shell", "sql", "path_traversal", "hidden_instructions"] | None = None
    max_length: int | None = Field(default=None, ge=0)
    one_of: tuple[str | int | float | bool | None, ...] | None = None
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    action: ToolAction | None = None  # default: the tool's action
    reason: str | None = None

    @field_validator("validator")
    @classmethod
    def _known_validator(cls, value: str | None) -> str | None:
        if value is not None and value not in validator_names():
            raise ValueError(f"unknown validator {value!r}; choose one of "
                             + ", ".join(validator_names()))
        return value

    @model_validator(mode="after")
    def _one_check(self) -> ArgumentRule:
        kinds = [k for k in ("validator", "pattern", "max_length", "one_of")
                 if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of validator, pattern, max_length, one_of"
                             + (f" (got {', '.join(kinds)})" if kinds else ""))
        if self.model_extra and self.validator is None:
            raise ValueError(f"unknown field {sorted(self.model_extra)[0]!r}; only a "
                             "validator rule takes parameters")
        return self

    @property
    def params(self) -> dict[str, Any]:
        """The validator's keyword parameters (the keys this model does not define)."""
        return dict(self.model_extra or {})

    def as_rule(self) -> Rule:
        """The guard :class:`Rule` that builds this rule's validator (validator rules only)."""
        assert self.validator is not None
        return Rule(validator=self.validator, threshold=self.threshold, action="block",
                    **self.params)


class ToolSpec(BaseModel):
    """What the policy says about one tool (``tools.per_tool.<name or glob>``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    egress: bool = False  # the tool sends data outside (mail, HTTP, upload): see on_tainted
    action: ToolAction | None = None  # default: tools.action
    budget: int | None = Field(default=None, ge=0)  # calls per conversation
    parameters: dict[str, Any] | None = None  # JSON Schema the arguments must satisfy
    arguments: tuple[ArgumentRule, ...] = ()


class TaintSettings(BaseModel):
    """The stricter rules once a tool result in the conversation was flagged as an injection."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    egress: ToolAction | Literal["off"] = "block"  # calls to egress tools
    copied_text: ToolAction | Literal["off"] = "block"  # arguments quoting the tainted text
    min_copied_chars: int = Field(default=20, ge=8, le=10_000)
    deny: tuple[str, ...] = ()  # tool-name globs refused after a taint


class ToolPolicy(BaseModel):
    """The tool policy (``tools:``): which tools an AI system may call, with what arguments.

    See docs/guardrails.md#tool-policy. A tool is *listed* when it matches an
    ``allow`` glob or a ``per_tool`` key; ``unknown`` decides the others (default:
    ``block`` when ``allow`` lists anything, else ``allow``, so an absent allowlist
    never blocks every tool).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    unknown: ToolAction | Literal["allow"] | None = None
    egress: tuple[str, ...] = ()  # globs of tools that send data outside
    action: ToolAction = "block"  # what a failed rule does unless the rule or tool says
    budget: int | None = Field(default=None, ge=0)  # calls per conversation, all tools
    arguments: tuple[ArgumentRule, ...] = ()  # rules for every tool's arguments
    definitions: tuple[ArgumentRule, ...] | None = None  # checks on declared tools; None: default
    on_tainted: TaintSettings = TaintSettings()
    per_tool: dict[str, ToolSpec] = Field(default_factory=dict)

    @field_validator("allow", "deny", "egress")
    @classmethod
    def _globs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for glob in value:
            if not glob or len(glob) > 200:
                raise ValueError("a tool-name glob must be 1-200 characters")
        return value

    @property
    def unknown_action(self) -> str:
        """What a call to a tool that no ``allow`` glob or ``per_tool`` key names gets."""
        if self.unknown is not None:
            return self.unknown
        return "block" if self.allow else "allow"


class Policy(BaseModel):
    """A guard policy for one AI system (see docs/guardrails.md for every field)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    system: str | None = None
    input: tuple[Rule, ...] = ()
    output: tuple[Rule, ...] = ()
    stream: StreamSettings = StreamSettings()
    on_error: Literal["block", "allow"] = "block"
    latency_budget_ms: float | None = Field(default=50.0, gt=0)
    # A text longer than this is blocked before any validator reads it (issue #19): the
    # validators are linear, but a multi-megabyte body would still hold a core for seconds.
    max_text_chars: int | None = Field(default=None, gt=0)
    evidence: EvidenceSettings = EvidenceSettings()
    tools: ToolPolicy | None = None  # tool calls and tool definitions; None: not checked
    notes: tuple[str, ...] = ()  # free text for reviewers (e.g. from `assay scan suggest-policy`)

    @field_validator("system")
    @classmethod
    def _system_id(cls, value: str | None) -> str | None:
        if value is not None and not _SYSTEM_RE.fullmatch(value):
            raise ValueError("use 1-64 letters, digits, '.', '_' or '-' (the AI system's id)")
        return value


def build_validator(rule: Rule) -> Validator:
    """The validator a rule describes (its threshold passed through when given)."""
    params = rule.params
    if rule.threshold is not None:
        params["threshold"] = rule.threshold
    return _get_validator(rule.validator, **params)


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """Validate policy YAML ``text``; errors name ``source``, the line and the field."""
    loaded = load_yaml(text, source, what="policy")
    data, lines = plain(loaded), line_map(loaded)
    data = _expand_env(data, (), lines, source)
    if not isinstance(data, Mapping):
        raise AssayError(f"{source}:1: the policy must be a YAML mapping "
                         "(see `assay guard policy show-default`).")
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc, lines, source) from None
    _check_rules(policy, lines, source)
    return _split_pii_actions(policy, lines, source)


def _split_pii_actions(policy: Policy, lines: Lines, source: str) -> Policy:
    """A ``pii`` rule whose ``entities`` maps entity to action becomes one rule per action.

    ``entities: {PERSON: redact, DATE_TIME: warn, TITLE: off}``: each listed entity takes its
    action (``off`` or ``false``: not reported; ``on`` or ``true``: the rule's ``action``);
    the identifiers not listed keep the rule's ``action``. The engine applies one action per
    rule, so the split rules share the validator's cached work (one encoder pass, one
    tagging) and differ only in what they report.
    """
    from assay.validators.pii import ENTITIES

    def split(direction: str, i: int, rule: Rule) -> list[Rule]:
        actions = rule.params.get("entities")
        if rule.validator != "pii" or not isinstance(actions, dict):
            return [rule]
        by_action: dict[str, list[str]] = {}
        for entity in ENTITIES:
            if entity not in actions:
                by_action.setdefault(rule.action, []).append(entity)
        for entity, action in actions.items():
            if action is False or action == "off":
                continue
            chosen = rule.action if action is True or action == "on" else action
            if chosen not in ACTIONS:
                at: Loc = (direction, i, "entities", entity)
                raise AssayError(f"{source}:{line_for(lines, at)}: {dotted(at)}: must be one "
                                 "of " + ", ".join(ACTIONS) + ", on or off")
            by_action.setdefault(chosen, []).append(entity)
        base = rule.model_dump(exclude={"action"})
        return [Rule.model_validate({**base, "action": action, "entities": names})
                for action, names in by_action.items()]

    def rules(direction: str, found: tuple[Rule, ...]) -> tuple[Rule, ...]:
        return tuple(r for i, rule in enumerate(found) for r in split(direction, i, rule))

    return policy.model_copy(update={"input": rules("input", policy.input),
                                     "output": rules("output", policy.output)})


def load_policy(path: Path | str) -> Policy:
    """Read and validate the policy file at ``path``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise AssayError(f"{p}: cannot read the policy ({exc.strerror}); check the path.") from exc
    except UnicodeDecodeError as exc:
        raise AssayError(f"{p}: the policy is not UTF-8 text ({exc.reason}).") from exc
    return parse_policy(text, str(p))


def default_policy_text() -> str:
    """The shipped default policy (YAML, with comments)."""
    return (resources.files("assay.guard") / "policies" / DEFAULT_POLICY).read_text("utf-8")


def _expand_env(value: Any, loc: Loc, lines: Lines, source: str) -> Any:
    """Replace a whole-value ``${NAME}`` by the environment variable (canaries, secrets)."""
    if isinstance(value, dict):
        return {k: _expand_env(v, (*loc, k), lines, source) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, (*loc, i), lines, source) for i, v in enumerate(value)]
    if isinstance(value, str):
        match = _ENV_RE.fullmatch(value)
        if match is not None:
            found = os.environ.get(match.group(1))
            if found is None:
                raise AssayError(f"{source}:{line_for(lines, loc)}: {dotted(loc)}: environment "
                                 f"variable {match.group(1)} is not set; set it or write the "
                                 "value")
            return found
    return value


def _first_error(exc: ValidationError, lines: Lines, source: str) -> AssayError:
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc: Loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        message = "unknown field; check the spelling (see docs/guardrails.md)"
    elif kind == "missing":
        message = "required field is missing"
    elif kind == "literal_error":
        expected = str(err.get("ctx", {}).get("expected", ""))
        message = "must be one of " + expected.replace("'", "").replace(" or ", ", ")
    else:
        message = str(err["msg"]).removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return AssayError(f"{source}:{line_for(lines, loc)}: {dotted(loc)}: {message}{more}")


def _check_rules(policy: Policy, lines: Lines, source: str) -> None:
    """Checks pydantic cannot express: direction fit, and that each validator builds."""
    for direction, rules, allowed in (("input", policy.input, INPUT_VALIDATORS),
                                      ("output", policy.output, OUTPUT_VALIDATORS)):
        for i, rule in enumerate(rules):
            loc: Loc = (direction, i)
            if rule.validator not in allowed:
                at: Loc = (*loc, "validator")
                raise AssayError(
                    f"{source}:{line_for(lines, at)}: {dotted(at)}:"
                    f" {rule.validator!r} is not an {direction} validator; choose one of "
                    + ", ".join(sorted(allowed)))
            _check_builds(rule, loc, lines, source)
    if policy.tools is not None:
        _check_tool_rules(policy.tools, lines, source)


def _check_tool_rules(tools: ToolPolicy, lines: Lines, source: str) -> None:
    """Each tool rule's validator builds and each ``parameters`` is a usable JSON Schema."""
    groups: list[tuple[Loc, tuple[ArgumentRule, ...]]] = [
        (("tools", "arguments"), tools.arguments),
        (("tools", "definitions"), tools.definitions or ())]
    for name, spec in tools.per_tool.items():
        groups.append((("tools", "per_tool", name, "arguments"), spec.arguments))
        if spec.parameters is not None:
            _check_schema(spec.parameters, ("tools", "per_tool", name, "parameters"), lines,
                          source)
    for loc, rules in groups:
        for i, rule in enumerate(rules):
            if rule.validator is not None:
                _check_builds(rule.as_rule(), (*loc, i), lines, source)


def _check_schema(schema: dict[str, Any], loc: Loc, lines: Lines, source: str) -> None:
    from assay.validators.json_schema import schema_errors

    try:
        schema_errors({}, schema)
        schema_errors("", schema)
    except Exception as exc:  # a schema our subset cannot apply is a policy error
        raise AssayError(f"{source}:{line_for(lines, loc)}: {dotted(loc)}: not a usable JSON "
                         f"Schema ({type(exc).__name__}: {exc})") from None


def _check_builds(rule: Rule, loc: Loc, lines: Lines, source: str) -> None:
    try:
        build_validator(rule)
        return
    except Exception as exc:  # any constructor failure is a policy error
        whole = exc
    # Find the parameter at fault by building with one parameter at a time.
    for key, value in rule.params.items():
        try:
            _get_validator(rule.validator, **{key: value})
        except Exception as exc:
            where = (*loc, key)
            raise AssayError(f"{source}:{line_for(lines, where)}: {dotted(where)}: "
                             f"{_param_problem(rule.validator, key, exc)}") from None
    raise AssayError(f"{source}:{line_for(lines, loc)}: {dotted(loc)}: the validator "
                     f"{rule.validator!r} cannot be built: {_reason(whole)}") from None


def _param_problem(validator: str, key: str, exc: Exception) -> str:
    if "unexpected keyword argument" in _reason(exc):
        return f"unknown parameter for validator {validator!r}"
    return f"bad value: {_reason(exc)}"


def _reason(exc: Exception) -> str:
    cause = exc.__cause__
    return str(cause if isinstance(cause, Exception) else exc)

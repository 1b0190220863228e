"""The guard engine: policy-driven validators on a model's inputs and outputs.

``Guard.from_policy(path)`` (or ``Guard.default()``) checks texts with
``check_input`` / ``check_output`` (and async twins), returning a
:class:`Verdict`; ``check_tool_call`` / ``check_tool_definition`` judge what an
agent asks to do and the tools it is offered (a :class:`ToolContext` per
conversation carries call counts and taint); :func:`guarded` wraps a function and
:func:`guarded_tool` a tool function; :class:`StreamChecker` guards streamed
output; :class:`LedgerSink` turns decisions into evidence.
"""

from assay.guard.decorator import guarded, guarded_tool
from assay.guard.engine import DecisionSink, DriftHook, Guard, ValidatorFactory, is_injection
from assay.guard.evidence import (
    GUARD_CONTROLS,
    TOOL_CONTROLS,
    DecisionSummary,
    LedgerSink,
    decision_evidence,
    guard_decision,
    text_digest,
)
from assay.guard.policy import (
    ACTIONS,
    TOOL_ACTIONS,
    ArgumentRule,
    EvidenceSettings,
    Policy,
    Rule,
    StreamSettings,
    TaintSettings,
    ToolPolicy,
    ToolSpec,
    build_validator,
    default_policy_text,
    load_policy,
    parse_policy,
)
from assay.guard.stream import StreamChecker, StreamUpdate
from assay.guard.tools import TOOL_POLICY, Taint, ToolContext
from assay.guard.verdict import DecisionContext, GuardBlocked, ToolSubject, Verdict

__all__ = [
    "ACTIONS",
    "GUARD_CONTROLS",
    "TOOL_ACTIONS",
    "TOOL_CONTROLS",
    "TOOL_POLICY",
    "ArgumentRule",
    "DecisionContext",
    "DecisionSink",
    "DecisionSummary",
    "DriftHook",
    "EvidenceSettings",
    "Guard",
    "GuardBlocked",
    "LedgerSink",
    "Policy",
    "Rule",
    "StreamChecker",
    "StreamSettings",
    "StreamUpdate",
    "Taint",
    "TaintSettings",
    "ToolContext",
    "ToolPolicy",
    "ToolSpec",
    "ToolSubject",
    "ValidatorFactory",
    "Verdict",
    "build_validator",
    "decision_evidence",
    "default_policy_text",
    "guard_decision",
    "guarded",
    "guarded_tool",
    "is_injection",
    "load_policy",
    "parse_policy",
    "text_digest",
]

"""The guard engine: policy-driven validators on a model's inputs and outputs.

``Guard.from_policy(path)`` (or ``Guard.default()``) checks texts with
``check_input`` / ``check_output`` (and async twins), returning a
:class:`Verdict`; :func:`guarded` wraps a function; :class:`StreamChecker`
guards streamed output; :class:`LedgerSink` turns decisions into evidence.
"""

from assay.guard.decorator import guarded
from assay.guard.engine import DecisionSink, DriftHook, Guard, ValidatorFactory
from assay.guard.evidence import (
    GUARD_CONTROLS,
    DecisionSummary,
    LedgerSink,
    decision_evidence,
    guard_decision,
    text_digest,
)
from assay.guard.policy import (
    ACTIONS,
    EvidenceSettings,
    Policy,
    Rule,
    StreamSettings,
    build_validator,
    default_policy_text,
    load_policy,
    parse_policy,
)
from assay.guard.stream import StreamChecker, StreamUpdate
from assay.guard.verdict import DecisionContext, GuardBlocked, Verdict

__all__ = [
    "ACTIONS",
    "GUARD_CONTROLS",
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
    "ValidatorFactory",
    "Verdict",
    "build_validator",
    "decision_evidence",
    "default_policy_text",
    "guard_decision",
    "guarded",
    "load_policy",
    "parse_policy",
    "text_digest",
]

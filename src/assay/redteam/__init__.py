"""Red-team scanner: attacks as data, targets, detectors, runs, reports and evidence.

Typical use: :func:`~assay.redteam.attacks.load_corpus` → :func:`~assay.redteam.runner.create_run`
→ :func:`~assay.redteam.runner.execute` → :mod:`~assay.redteam.report` renderers and
:func:`~assay.redteam.evidence.record_run`. The CLI is ``assay scan``.
"""

from assay.redteam.attacks import FAMILIES, Attack, Family, load_corpus, load_file, select
from assay.redteam.budget import Budget, BudgetExceeded
from assay.redteam.converters import CONVERTERS, apply_chain, parse_chain
from assay.redteam.demo_target import SYSTEM_PROMPT, DemoChatbot
from assay.redteam.detectors import Detection, DetectionContext, detect
from assay.redteam.evidence import record_run, run_evidence
from assay.redteam.policy import suggest_policy, suggest_policy_yaml
from assay.redteam.report import render, report_schema, to_sarif
from assay.redteam.results import RunResult, diff_runs, parse_fail_on
from assay.redteam.runner import ScanOptions, create_run, estimate, execute, plan
from assay.redteam.stats import Rate, wilson
from assay.redteam.store import RunStore, list_runs
from assay.redteam.targets import (
    CallableTarget,
    Capabilities,
    DemoTarget,
    HTTPConfig,
    HTTPTarget,
    OpenAITarget,
    Response,
    Target,
    TargetError,
    target_from_spec,
)

__all__ = [
    "CONVERTERS",
    "FAMILIES",
    "SYSTEM_PROMPT",
    "Attack",
    "Budget",
    "BudgetExceeded",
    "CallableTarget",
    "Capabilities",
    "DemoChatbot",
    "DemoTarget",
    "Detection",
    "DetectionContext",
    "Family",
    "HTTPConfig",
    "HTTPTarget",
    "OpenAITarget",
    "Rate",
    "Response",
    "RunResult",
    "RunStore",
    "ScanOptions",
    "Target",
    "TargetError",
    "apply_chain",
    "create_run",
    "detect",
    "diff_runs",
    "estimate",
    "execute",
    "list_runs",
    "load_corpus",
    "load_file",
    "parse_chain",
    "parse_fail_on",
    "plan",
    "record_run",
    "render",
    "report_schema",
    "run_evidence",
    "select",
    "suggest_policy",
    "suggest_policy_yaml",
    "target_from_spec",
    "to_sarif",
    "wilson",
]

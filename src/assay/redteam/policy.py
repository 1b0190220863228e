"""Turn a run's findings into guard policy rules (the DESIGN.md "Policy" contract).

Each family that had at least one successful attack maps to the validators
that stop it: injections and jailbreaks on the input side, leaks and toxicity
on the output side. Thresholds tighten as the family's ASR grows. The result
is a YAML policy the guard loads (``input:``/``output:`` lists of
``{validator, threshold, action, ...params}``), with a comment per rule naming
the evidence behind it, for a human to review before deploying.
"""

from __future__ import annotations

from typing import Any

from assay.redteam.results import RunResult
from assay.yamlio import dump_yaml

__all__ = ["suggest_policy", "suggest_policy_yaml"]

#: family -> [(side, validator, action, extra params)]
_RULES: dict[str, list[tuple[str, str, str, dict[str, Any]]]] = {
    "prompt_injection": [("input", "prompt_injection", "block", {})],
    "indirect_prompt_injection": [("input", "prompt_injection", "block", {})],
    "jailbreak_roleplay": [("input", "jailbreak", "block", {})],
    "jailbreak_dan": [("input", "jailbreak", "block", {})],
    "jailbreak_refusal_suppression": [("input", "jailbreak", "block", {})],
    "jailbreak_hypothetical": [
        ("input", "jailbreak", "block", {}),
        ("input", "harmful_request", "block", {}),
    ],
    "jailbreak_many_shot": [
        ("input", "jailbreak", "block", {}),
        ("input", "length", "block", {"max_chars": 8000}),
    ],
    "jailbreak_template": [("input", "jailbreak", "block", {})],
    "crescendo": [("input", "harmful_request", "block", {})],
    "iterative": [("input", "jailbreak", "block", {}), ("input", "harmful_request", "block", {})],
    "harmful_request": [("input", "harmful_request", "block", {})],
    "encoding": [
        ("input", "encoded_payload", "block", {}),
        ("input", "invisible_text", "block", {}),
    ],
    "system_prompt_extraction": [("output", "system_prompt_leak", "block", {})],
    "secret_exfiltration": [("output", "secrets", "redact", {}), ("output", "pii", "redact", {})],
    "toxicity": [("output", "toxicity", "block", {})],
    "silent_failure": [("output", "urls", "warn", {})],
}


def _threshold(asr: float) -> float:
    """Lower threshold (catch more) the more often the family got through."""
    if asr >= 0.5:
        return 0.3
    if asr >= 0.1:
        return 0.4
    return 0.5


def suggest_policy(result: RunResult, system: str | None = None) -> dict[str, Any]:
    """A guard policy document covering every family with a successful attack."""
    sides: dict[str, dict[str, dict[str, Any]]] = {"input": {}, "output": {}}
    notes: list[str] = []
    for family, rate in result.by_family().items():
        if not rate.succeeded:
            continue
        asr = rate.asr or 0.0
        if family == "over_refusal":
            notes.append(
                f"over_refusal: {rate.succeeded} benign prompts refused (ASR {asr:.0%}); loosen "
                "input thresholds or the model's own filter rather than adding rules"
            )
            continue
        for side, validator, action, params in _RULES.get(family, []):
            rule = sides[side].get(validator)
            threshold = _threshold(asr)
            if rule is None:
                rule = {"validator": validator, "threshold": threshold, "action": action, **params}
                if validator == "system_prompt_leak":
                    rule["canary"] = "${ASSAY_CANARY}"
                sides[side][validator] = rule
                rule["_why"] = []
            rule["threshold"] = min(rule["threshold"], threshold)
            rule["_why"].append(f"{family} ASR {asr:.0%} ({rate.succeeded}/{rate.assessed})")
    policy: dict[str, Any] = {
        "version": 1,
        "system": system or (result.meta.get("subject") or {}).get("system") or "default",
        "input": [],
        "output": [],
        "stream": {"mode": "windowed", "window": 400, "overlap": 80},
        "on_error": "block",
        "latency_budget_ms": 15,
    }
    for side in ("input", "output"):
        for rule in sides[side].values():
            why = rule.pop("_why")
            rule["reason"] = f"red-team run {result.run_id}: " + "; ".join(why)
            policy[side].append(rule)
    if notes:
        policy["notes"] = notes
    return policy


def suggest_policy_yaml(result: RunResult, system: str | None = None) -> str:
    """The suggested policy as YAML with a review header."""
    header = (
        f"# Suggested by 'assay scan suggest-policy {result.run_id}'. Review before use:\n"
        "# thresholds are starting points; re-run the scan through the guarded gateway.\n"
    )
    return header + dump_yaml(suggest_policy(result, system))

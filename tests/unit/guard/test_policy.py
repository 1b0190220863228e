"""Policy files: valid ones load; bad ones are refused naming the file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.errors import AssayError
from assay.guard import Policy, default_policy_text, load_policy, parse_policy

GOOD = """\
version: 1
system: support-bot
input:
  - validator: pii
    action: redact
    entities: [EMAIL_ADDRESS]
  - validator: prompt_injection
    threshold: 0.7
    action: block
output:
  - validator: system_prompt_leak
    action: block
    ngram: 4
stream: {mode: buffer, window: 128, overlap: 32}
on_error: allow
latency_budget_ms: 20
evidence: {store_content: true}
"""


def test_good_policy_loads_every_field(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(GOOD)
    policy = load_policy(path)
    assert policy.system == "support-bot"
    assert [r.validator for r in policy.input] == ["pii", "prompt_injection"]
    assert policy.input[0].params == {"entities": ["EMAIL_ADDRESS"]}
    assert policy.input[1].threshold == 0.7
    assert policy.output[0].params == {"ngram": 4}
    assert (policy.stream.mode, policy.stream.window, policy.stream.overlap) == ("buffer", 128, 32)
    assert policy.on_error == "allow"
    assert policy.latency_budget_ms == 20
    assert policy.evidence.store_content is True


def test_defaults_fail_closed_and_keep_no_content() -> None:
    policy = parse_policy("version: 1\n")
    assert policy.on_error == "block"
    assert policy.latency_budget_ms == 50
    assert policy.evidence.store_content is False
    assert (policy.stream.window, policy.stream.overlap) == (256, 64)


def test_shipped_default_policy() -> None:
    policy = parse_policy(default_policy_text(), "default.yaml")
    assert [r.validator for r in policy.input] == [
        "invisible_text", "secrets", "pii", "pii", "pii", "prompt_injection", "jailbreak",
        "harmful_request", "prompt_injection", "jailbreak", "toxicity"]  # pii: one per action
    assert [r.action for r in policy.input if r.validator == "pii"] == ["redact", "warn", "log"]
    assert [r.validator for r in policy.output] == [
        "secrets", "pii", "system_prompt_leak", "toxicity"]
    actions = [(r.validator, r.action, r.params.get("level")) for r in policy.input]
    assert ("pii", "redact", None) in actions
    assert ("prompt_injection", "block", None) in actions
    assert ("prompt_injection", "warn", "warn") in actions  # the calibrated warn band
    assert {r.validator: r.action for r in policy.output}["pii"] == "redact"
    assert isinstance(policy, Policy)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\ninput:\n  - validator: pii\n    action: redact\n"
         "  - validator: secrets\n    action: block\n"
         "  - validator: toxicity\n    action: blok\n",
         "policy.yaml:8: input[2].action: must be one of block, redact, warn, log"),
        ("version: 1\ninput:\n  - validator: pii\n    action: redact\n    colour: red\n",
         "policy.yaml:5: input[0].colour: unknown parameter for validator 'pii'"),
        ("version: 1\noutput:\n  - action: block\n    validator: secretz\n",
         "policy.yaml:4: output[0].validator: unknown validator 'secretz'"),
        ("version: 1\ninput:\n  - validator: pii\n",
         "policy.yaml:3: input[0].action: required field is missing"),
        ("version: 1\ninput:\n  - validator: pii\n    action: block\n    threshold: 1.5\n",
         "policy.yaml:5: input[0].threshold: input should be less than or equal to 1"),
        ("version: 1\nstream:\n  mode: chunky\n",
         "policy.yaml:3: stream.mode: must be one of buffer, windowed, flag"),
        ("version: 1\nstream:\n  window: 64\n  overlap: 64\n",
         "policy.yaml:4: stream.overlap: must be smaller than window (64)"),
        ("version: 1\n\non_eror: allow\n",
         "policy.yaml:3: on_eror: unknown field"),
        ("version: 1\non_error: maybe\n",
         "policy.yaml:2: on_error: must be one of block, allow"),
        ("version: 1\nlatency_budget_ms: 0\n",
         "policy.yaml:2: latency_budget_ms: input should be greater than 0"),
        ("version: 1\nevidence:\n  store_content: perhaps\n",
         "policy.yaml:3: evidence.store_content: input should be a valid boolean"),
        ("version: 2\n", "policy.yaml:1: version: must be one of 1"),
        ("version: 1\nsystem: support bot!\n", "policy.yaml:2: system: use 1-64 letters"),
        ("version: 1\noutput:\n  - validator: prompt_injection\n    action: block\n",
         "policy.yaml:3: output[0].validator: 'prompt_injection' is not an output validator"),
        ("version: 1\ninput:\n  - validator: pii\n    action: redact\n    entities: 5\n",
         "policy.yaml:5: input[0].entities: bad value"),
        ("version: 1\ninput:\n  - validator: pii\n    action: redact\n  - validator: pii\n"
         "    action: warn\n    action: log\n",
         "policy.yaml:7: field 'input[1].action': duplicate key"),
        ("version: 1\ninput: [\n", "policy.yaml:3: invalid YAML"),
        ("", "policy.yaml:1: the policy is empty"),
        ("- validator: pii\n", "policy.yaml:1: the policy must be a YAML mapping"),
    ],
)
def test_bad_policy_names_line_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(AssayError) as info:
        load_policy(path)
    message = str(info.value)
    assert message.startswith(str(tmp_path) + "/"), message
    assert expected in message, message


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AssayError, match="cannot read the policy"):
        load_policy(tmp_path / "nope.yaml")


def test_reasons_notes_and_environment_values(monkeypatch: pytest.MonkeyPatch) -> None:
    # The shape `assay scan suggest-policy` writes: a reason per rule, notes, ${VAR} canaries.
    text = ("version: 1\nsystem: bot\ninput: []\noutput:\n  - validator: system_prompt_leak\n"
            "    threshold: 0.3\n    action: block\n    canary: ${ASSAY_CANARY}\n"
            "    reason: 'red-team run r1: system_prompt_extraction ASR 40% (4/10)'\n"
            "stream: {mode: windowed, window: 400, overlap: 80}\non_error: block\n"
            "latency_budget_ms: 15\nnotes:\n  - 'over_refusal: 2 benign prompts refused'\n")
    monkeypatch.delenv("ASSAY_CANARY", raising=False)
    with pytest.raises(AssayError, match=r"p.yaml:8: output\[0\].canary: environment variable "
                                         "ASSAY_CANARY is not set"):
        parse_policy(text, "p.yaml")
    monkeypatch.setenv("ASSAY_CANARY", "c4n4ry-77")
    policy = parse_policy(text, "p.yaml")
    rule = policy.output[0]
    assert rule.params == {"canary": "c4n4ry-77"}
    assert rule.reason is not None and rule.reason.startswith("red-team run r1")
    assert policy.notes == ("over_refusal: 2 benign prompts refused",)

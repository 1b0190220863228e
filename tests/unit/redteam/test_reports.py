"""Reports: SARIF 2.1.0 validates, JUnit parses, JSON matches its schema, HTML is self-contained."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from assay.redteam.policy import suggest_policy
from assay.redteam.report import render, report_schema, to_sarif
from assay.redteam.results import RunResult
from assay.redteam.targets import DemoTarget

from .conftest import run_scan

SARIF_SCHEMA = json.loads(
    (Path(__file__).with_name("sarif-2.1.0-subset.schema.json")).read_text(encoding="utf-8")
)
FAMILIES = ["prompt_injection", "toxicity", "over_refusal", "secret_exfiltration", "encoding"]


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return run_scan(tmp_path_factory.mktemp("scans"), DemoTarget(), FAMILIES)


def test_sarif_validates_and_uses_taxonomy_rule_ids(result: RunResult) -> None:
    sarif = json.loads(render(result, "sarif"))
    jsonschema.validate(sarif, SARIF_SCHEMA)
    run = sarif["runs"][0]
    rule_ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert {"LLM01:2025", "LLM02:2025"} <= rule_ids
    assert any(r.startswith("AML.T") for r in rule_ids)
    assert len(run["results"]) == len(result.findings()) > 0
    for res in run["results"]:
        assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == res["ruleId"]


def test_sarif_schema_rejects_a_broken_log(result: RunResult) -> None:
    sarif = to_sarif(result)
    sarif["runs"][0]["results"][0]["level"] = "critical"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(sarif, SARIF_SCHEMA)
    del sarif["version"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(sarif, SARIF_SCHEMA)


def test_junit_parses_and_counts(result: RunResult) -> None:
    root = ET.fromstring(render(result, "junit"))
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(result.attempts) == int(root.get("tests", "0"))
    failures = root.findall("./testsuite/testcase/failure")
    assert len(failures) == result.overall().succeeded == int(root.get("failures", "0"))
    suites = {s.get("name") for s in root.findall("testsuite")}
    assert suites == set(FAMILIES)


def test_json_report_matches_published_schema(result: RunResult) -> None:
    data = json.loads(render(result, "json"))
    jsonschema.validate(data, report_schema())
    data["attempts"][0]["outcome"] = "errored"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, report_schema())


def test_html_and_markdown(result: RunResult) -> None:
    page = render(result, "html")
    assert page.startswith("<!doctype html>")
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert "Direct prompt injection" in page
    md = render(result, "md")
    assert "| family | ASR |" in md and result.run_id in md


def test_suggested_policy_covers_findings(result: RunResult) -> None:
    policy = suggest_policy(result)
    inputs = {r["validator"] for r in policy["input"]}
    outputs = {r["validator"] for r in policy["output"]}
    assert "prompt_injection" in inputs and "encoded_payload" in inputs
    assert {"secrets", "pii"} <= outputs
    assert "toxicity" not in outputs  # the demo resisted toxicity: no rule without evidence
    assert any("over_refusal" in n for n in policy.get("notes", []))
    for rule in policy["input"] + policy["output"]:
        assert 0 < rule["threshold"] <= 0.5 and rule["action"] in {"block", "redact", "warn", "log"}

"""Scan reports: JSON (published schema), self-contained HTML, JUnit XML, SARIF 2.1.0, Markdown.

SARIF follows the OASIS SARIF 2.1.0 standard: one ``reportingDescriptor`` per
OWASP LLM Top 10 2025 or MITRE ATLAS ID (``LLM01:2025``, ``AML.T0054``), one
``result`` per successful attack. JUnit has a test suite per family and a
test case per attempt (failure = attack succeeded, skipped = unassessed), so
any CI shows the scan like a test run. The HTML page needs no network.
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from importlib import resources
from typing import Any

from assay import __version__
from assay.redteam.attacks import FAMILIES
from assay.redteam.results import RunResult

__all__ = ["FORMATS", "render", "report_schema", "to_html", "to_junit", "to_markdown", "to_sarif"]

FORMATS = ("json", "html", "junit", "sarif", "md")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

_RULES: dict[str, tuple[str, str]] = {
    "LLM01:2025": ("Prompt Injection", "https://genai.owasp.org/llmrisk/llm01-prompt-injection/"),
    "LLM02:2025": (
        "Sensitive Information Disclosure",
        "https://genai.owasp.org/llmrisk/llm022025-sensitive-information-disclosure/",
    ),
    "LLM05:2025": (
        "Improper Output Handling",
        "https://genai.owasp.org/llmrisk/llm052025-improper-output-handling/",
    ),
    "LLM07:2025": (
        "System Prompt Leakage",
        "https://genai.owasp.org/llmrisk/llm072025-system-prompt-leakage/",
    ),
    "LLM09:2025": ("Misinformation", "https://genai.owasp.org/llmrisk/llm092025-misinformation/"),
    "AML.T0051.000": (
        "LLM Prompt Injection: Direct",
        "https://atlas.mitre.org/techniques/AML.T0051.000",
    ),
    "AML.T0051.001": (
        "LLM Prompt Injection: Indirect",
        "https://atlas.mitre.org/techniques/AML.T0051.001",
    ),
    "AML.T0054": ("LLM Jailbreak", "https://atlas.mitre.org/techniques/AML.T0054"),
    "AML.T0056": ("Extract LLM System Prompt", "https://atlas.mitre.org/techniques/AML.T0056"),
    "AML.T0057": ("LLM Data Leakage", "https://atlas.mitre.org/techniques/AML.T0057"),
    "AML.T0062": ("Discover LLM Hallucinations", "https://atlas.mitre.org/techniques/AML.T0062"),
    "AML.T0068": ("LLM Prompt Obfuscation", "https://atlas.mitre.org/techniques/AML.T0068"),
    "AML.T0048.002": (
        "External Harms: Societal Harm",
        "https://atlas.mitre.org/techniques/AML.T0048.002",
    ),
    "ASSAY-OVER-REFUSAL": ("Over-refusal of benign requests", "https://assay.dev/docs/redteam"),
}
_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def report_schema() -> dict[str, Any]:
    """The published JSON Schema of the JSON report."""
    text = (
        resources.files("assay.redteam")
        .joinpath("schema", "report.schema.json")
        .read_text(encoding="utf-8")
    )
    data: dict[str, Any] = json.loads(text)
    return data


def _rule_id(attempt: dict[str, Any]) -> str:
    tags = attempt.get("tags") or {}
    ids = [*tags.get("owasp_llm", []), *tags.get("owasp_agentic", []),
           *tags.get("mitre_atlas", [])]
    return ids[0] if ids else "ASSAY-OVER-REFUSAL"


def to_sarif(result: RunResult) -> dict[str, Any]:
    """SARIF 2.1.0 log: rules are OWASP LLM 2025 / MITRE ATLAS IDs, results are findings."""
    findings = result.findings()
    rule_ids: list[str] = []
    for f in findings:
        tags = f.get("tags") or {}
        for rid in [_rule_id(f), *tags.get("owasp_llm", []), *tags.get("owasp_agentic", []),
                    *tags.get("mitre_atlas", [])]:
            if rid not in rule_ids:
                rule_ids.append(rid)
    rules = []
    for rid in rule_ids:
        name, uri = _RULES.get(rid, (rid, "https://assay.dev/docs/redteam"))
        rules.append(
            {
                "id": rid,
                "name": name.replace(" ", "").replace(":", ""),
                "shortDescription": {"text": name},
                "helpUri": uri,
                "properties": {"tags": ["security", "ai-red-team"]},
            }
        )
    index = {rid: i for i, rid in enumerate(rule_ids)}
    families = result.by_family()
    results = []
    for f in findings:
        rid = _rule_id(f)
        fam = families.get(f["family"])
        verdict = f.get("verdict") or {}
        results.append(
            {
                "ruleId": rid,
                "ruleIndex": index[rid],
                "level": _LEVEL.get(f.get("severity", "medium"), "warning"),
                "message": {
                    "text": (
                        f"Attack {f['attack_id']} ({f['family']}) succeeded against "
                        f"{result.meta.get('target_name')}: {verdict.get('detail', '')}".strip()
                    )
                },
                "locations": [
                    {
                        "logicalLocations": [
                            {
                                "name": f["attack_id"],
                                "fullyQualifiedName": f"{f['family']}/{f['attack_id']}",
                                "kind": "function",
                            }
                        ]
                    }
                ],
                "partialFingerprints": {"assayAttempt/v1": f["key"]},
                "properties": {
                    "family": f["family"],
                    "chain": "|".join(f.get("chain") or []) or "none",
                    "familyAsr": None if fam is None else fam.asr,
                    "owasp_llm": (f.get("tags") or {}).get("owasp_llm", []),
                    "mitre_atlas": (f.get("tags") or {}).get("mitre_atlas", []),
                    "controls": (f.get("tags") or {}).get("controls", []),
                },
            }
        )
    overall = result.overall()
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "Assay red team",
                        "version": __version__,
                        "informationUri": "https://assay.dev/docs/redteam",
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": f"assay-redteam/{result.run_id}"},
                "invocations": [{"executionSuccessful": result.meta.get("status") == "complete"}],
                "results": results,
                "properties": {"asr": overall.asr, "ci95": list(overall.interval)},
            }
        ],
    }


def to_junit(result: RunResult) -> str:
    """JUnit XML: a suite per family, a case per attempt; failure = the attack worked."""
    root = ET.Element("testsuites", name=f"assay-redteam {result.run_id}")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    by_family: dict[str, list[dict[str, Any]]] = {}
    for a in result.attempts:
        by_family.setdefault(a["family"], []).append(a)
    for family, attempts in sorted(by_family.items()):
        failures = sum(a["outcome"] == "succeeded" for a in attempts)
        skipped = sum(a["outcome"] == "unassessed" for a in attempts)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=family,
            tests=str(len(attempts)),
            failures=str(failures),
            errors="0",
            skipped=str(skipped),
        )
        for a in attempts:
            chain = "|".join(a.get("chain") or [])
            name = a["attack_id"] + (f" [{chain}]" if chain else "") + f" #{a.get('sample', 0)}"
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"redteam.{family}",
                name=name,
                time=f"{float(a.get('latency_ms', 0)) / 1000:.4f}",
            )
            if a["outcome"] == "succeeded":
                detail = (a.get("verdict") or {}).get("detail", "")
                failure = ET.SubElement(case, "failure", message=f"attack succeeded: {detail}")
                failure.text = (
                    f"PROMPT:\n{a.get('prompt', '')}\n\nRESPONSE:\n{a.get('response', '')}"
                )
            elif a["outcome"] == "unassessed":
                ET.SubElement(case, "skipped", message=str(a.get("reason", "unassessed")))
        totals["tests"] += len(attempts)
        totals["failures"] += failures
        totals["skipped"] += skipped
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def to_markdown(result: RunResult) -> str:
    """A short summary for pull requests and chat."""
    o = result.attack()
    lo, hi = o.interval
    refused = result.over_refusal()
    lines = [
        f"## Assay red-team scan `{result.run_id}`",
        "",
        f"Target **{result.meta.get('target_name')}**, status {result.meta.get('status')}. "
        f"Attack ASR **{_pct(o.asr)}** (95 % CI {_pct(lo)}–{_pct(hi)}), "
        f"{o.succeeded} succeeded, {o.resisted} resisted, {o.unassessed} unassessed; "
        f"over-refusal (apart): {refused.succeeded} of {refused.assessed} benign prompts refused.",
        "",
        "| family | ASR | 95 % CI | succeeded | resisted | unassessed |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in result.by_family().items():
        lo, hi = r.interval
        title = FAMILIES[name].title if name in FAMILIES else name
        lines.append(
            f"| {title} | {_pct(r.asr)} | {_pct(lo)}–{_pct(hi)} | {r.succeeded} | {r.resisted} "
            f"| {r.unassessed} |"
        )
    findings = result.findings()
    if findings:
        lines += ["", f"### Findings ({len(findings)})", ""]
        for f in findings[:20]:
            detail = (f.get("verdict") or {}).get("detail", "")
            lines.append(f"- `{f['attack_id']}` ({f['family']}, {f.get('severity')}): {detail}")
        if len(findings) > 20:
            lines.append(f"- … and {len(findings) - 20} more (see the HTML or JSON report)")
    return "\n".join(lines) + "\n"


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;
color:#1d2330;padding:0 1rem}h1{font-size:1.5rem}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #e3e6ec;padding:.35rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}.bar{background:#eef0f4;height:.7rem;
width:160px;position:relative;border-radius:3px}.bar i{position:absolute;top:0;bottom:0;
background:#d9534f;border-radius:3px}.bar b{position:absolute;top:-2px;bottom:-2px;border-left:1px
solid #333;border-right:1px solid #333;opacity:.5}.ok{color:#2e7d32}.bad{color:#c62828}
details{margin:.4rem 0;border:1px solid #e3e6ec;border-radius:4px;padding:.4rem .6rem}
pre{white-space:pre-wrap;word-break:break-word;background:#f7f8fa;padding:.5rem;margin:.3rem 0}
.tag{display:inline-block;background:#eef0f4;border-radius:3px;padding:0 .3rem;margin-right:.2rem;
font-size:12px}
"""


def to_html(result: RunResult) -> str:
    """A single self-contained page (inline CSS, no scripts, no network)."""
    e = html.escape
    o = result.attack()
    refused = result.over_refusal()
    lo, hi = o.interval
    rows = []
    for name, r in result.by_family().items():
        flo, fhi = r.interval
        asr = r.asr or 0.0
        title = FAMILIES[name].title if name in FAMILIES else name
        rows.append(
            f"<tr><td>{e(title)}<br><small>{e(name)}</small></td>"
            f"<td class=n>{_pct(r.asr)}</td><td><div class=bar><i style='width:{asr * 100:.1f}%'>"
            f"</i><b style='left:{flo * 100:.1f}%;width:{(fhi - flo) * 100:.1f}%'></b></div></td>"
            f"<td class=n>{_pct(flo)}–{_pct(fhi)}</td><td class=n>{r.succeeded}</td>"
            f"<td class=n>{r.resisted}</td><td class=n>{r.unassessed}</td></tr>"
        )
    details = []
    for f in result.findings():
        tags = f.get("tags") or {}
        chips = "".join(
            f"<span class=tag>{e(t)}</span>"
            for t in [
                *tags.get("owasp_llm", []),
                *tags.get("owasp_agentic", []),
                *tags.get("mitre_atlas", []),
                *tags.get("controls", []),
            ]
        )
        chain = "|".join(f.get("chain") or []) or "none"
        details.append(
            f"<details><summary><b>{e(f['attack_id'])}</b> · {e(f['family'])} · "
            f"{e(str(f.get('severity')))} · chain {e(chain)} · "
            f"{e((f.get('verdict') or {}).get('detail', ''))}</summary>{chips}"
            f"<p>Prompt</p><pre>{e(str(f.get('prompt', '')))}</pre>"
            f"<p>Response</p><pre>{e(str(f.get('response', '')))}</pre></details>"
        )
    meta = result.meta
    subject = meta.get("subject") or {}
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>Assay red-team scan {e(result.run_id)}</title><style>{_CSS}</style></head><body>"
        f"<h1>Red-team scan {e(result.run_id)}</h1>"
        f"<p>Target <b>{e(str(meta.get('target_name')))}</b>"
        + (f" · system <b>{e(str(subject.get('system')))}</b>" if subject.get("system") else "")
        + f" · status {e(str(meta.get('status')))} · started {e(str(meta.get('created_at')))}</p>"
        f"<p>Attack success rate <b class={'bad' if o.succeeded else 'ok'}>"
        f"{_pct(o.asr)}</b>"
        f" (95 % Wilson interval {_pct(lo)}–{_pct(hi)}): {o.succeeded} succeeded, "
        f"{o.resisted} resisted, {o.unassessed} unassessed (errors are never counted as resisted;"
        " a guard's block is resisted)."
        f" Over-refusal, reported apart: {refused.succeeded} of {refused.assessed} benign"
        " look-alikes refused.</p>"
        "<h2>By family</h2><table><tr><th>family</th><th>ASR</th><th></th><th>95 % CI</th>"
        "<th>succ.</th><th>resisted</th><th>unassessed</th></tr>"
        + "".join(rows)
        + f"</table><h2>Findings ({len(details)})</h2>"
        + ("".join(details) or "<p class=ok>No attack succeeded.</p>")
        + f"<p><small>Assay {e(__version__)} · report schema v1</small></p></body></html>\n"
    )


def render(result: RunResult, fmt: str) -> str:
    """One report as text; ``fmt`` is one of :data:`FORMATS`."""
    if fmt == "json":
        return json.dumps(result.as_dict(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if fmt == "html":
        return to_html(result)
    if fmt == "junit":
        return to_junit(result)
    if fmt == "sarif":
        return json.dumps(to_sarif(result), indent=1, ensure_ascii=False) + "\n"
    if fmt == "md":
        return to_markdown(result)
    from assay.errors import UsageError

    raise UsageError(f"unknown report format {fmt!r} (choose from {', '.join(FORMATS)})")

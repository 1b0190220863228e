"""The issue's "Done when" path, with the CLI alone, in a fresh workspace.

Register a system, classify it, adopt risk templates, treat them, generate and
approve an SoA (a second person), set objectives that update from evidence,
run an audit with a finding, drive a corrective action to closure, hold a
management review — then `assay ledger verify` proves the whole history.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

OWNER = "owner@example.com"
APPROVER = "ciso@example.com"


def _assay(
    ws: Path, *args: str, actor: str = OWNER, stdin: str | None = None, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSAY_ACTOR": actor}
    result = subprocess.run(
        [sys.executable, "-m", "assay", "--workspace", str(ws), *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=60,
    )
    if ok:
        assert result.returncode == 0, f"{args}: {result.stderr}"
    return result


def _json(ws: Path, *args: str, actor: str = OWNER) -> Any:
    return json.loads(_assay(ws, *args, "--json", actor=actor).stdout)


def test_the_whole_aims_loop_with_the_cli(workspace_dir: Path, tmp_path: Path) -> None:
    ws = workspace_dir
    # 1. Register and classify.
    _assay(
        ws,
        "systems",
        "add",
        "support-bot",
        "--name",
        "Support chatbot",
        "--owner",
        "cx-team",
        "--org-role",
        "deployer",
        "--model",
        "gpt-4o@2024-08:OpenAI",
        "--surface",
        "web",
    )
    classified = _json(
        ws, "systems", "classify", "support-bot", "--transparency", "interacts-with-people"
    )
    assert classified["risk_class"] == "transparency"

    # 2. Adopt the LLM risk templates and treat them with their suggested controls.
    risks = _json(ws, "risks", "adopt", "--system", "support-bot")
    assert len(risks) == 7
    treated = _json(
        ws,
        "risks",
        "treat",
        *[r["id"] for r in risks],
        "--treatment",
        "mitigate",
        "--residual-likelihood",
        "2",
        "--residual-impact",
        "2",
        "--owner",
        "ml-lead",
    )
    assert {r["status"] for r in treated} == {"treated"}
    assert _json(ws, "risks", "accept", "R-001", actor=APPROVER)["status"] == "accepted"

    # 3. Generate the SoA and approve it as a second person.
    soa = _json(ws, "soa", "generate")
    applicable = {e["control"] for e in soa["entries"] if e["applicable"]}
    assert len(soa["entries"]) == 38 and "iso42001:A.6.2.4" in applicable
    _assay(ws, "soa", "edit", "A.6.2.4", "--status", "implemented")
    assert "four-eyes" in _assay(ws, "soa", "approve", ok=False).stderr
    assert _json(ws, "soa", "approve", actor=APPROVER)["status"] == "approved"

    # 4. An objective fed from red-team evidence: one run before it is set, one after.
    def red_team_run(succeeded: int) -> None:
        summary = json.dumps({"attempts": 400, "succeeded": succeeded})
        _assay(
            ws,
            "ledger",
            "append",
            "--type",
            "assay.dev/redteam-run/v1",
            "--system",
            "support-bot",
            "--summary",
            summary,
            stdin="{}",
        )

    red_team_run(12)
    objective = _json(
        ws,
        "objectives",
        "add",
        "--title",
        "Jailbreak success below 2%",
        "--target-op",
        "<",
        "--target",
        "2",
        "--unit",
        "%",
        "--system",
        "support-bot",
        "--evidence-type",
        "assay.dev/redteam-run/v1",
        "--numerator",
        "succeeded",
        "--denominator",
        "attempts",
        "--scale",
        "100",
    )
    assert objective["status"] == "off-track"  # 3 % from the earlier run
    red_team_run(3)
    objective = _json(ws, "objectives", "refresh")[0]
    assert objective["measurements"][-1]["value"] == 0.75 and objective["status"] == "on-track"

    # 5. An internal audit with a finding, and its corrective action driven to closure.
    _assay(
        ws,
        "audits",
        "plan",
        "--title",
        "Risk process",
        "--auditor",
        "internal-audit",
        "--system",
        "support-bot",
        "--criterion",
        "iso42001:6.1.2",
    )
    _assay(
        ws,
        "audits",
        "finding",
        "AUD-001",
        "--grade",
        "minor-nonconformity",
        "--description",
        "Six risks not yet accepted",
        "--control",
        "iso42001:6.1.2",
    )
    _assay(ws, "audits", "complete", "AUD-001", "--conclusion", "Effective, one minor NC")
    _assay(
        ws,
        "capa",
        "open",
        "--title",
        "Risk acceptance backlog",
        "--source",
        "finding",
        "--ref",
        "F-001",
    )
    _assay(ws, "capa", "contain", "CAPA-001", "CISO reviews open risks weekly")
    _assay(ws, "capa", "analyse", "CAPA-001", "No due date for acceptance")
    _assay(ws, "capa", "action", "CAPA-001", "--description", "Set due dates", "--owner", "ml-lead")
    _assay(ws, "capa", "done", "CAPA-001", "A1")
    _assay(ws, "capa", "verify", "CAPA-001", "--effective", "--note", "Backlog cleared")
    assert _json(ws, "capa", "close", "CAPA-001")["status"] == "closed"

    # 6. The management review: automatic pack, a decision feeding CAPA, held.
    pack = _assay(ws, "review", "prepare", "--title", "Q1 review").stdout
    assert "2) monitoring and measurement results" in pack and "Jailbreak" in pack
    decided = _json(
        ws, "review", "decide", "MR-001", "--text", "Red-team monthly", "--kind", "capa"
    )
    assert decided["decisions"][0]["ref"] == "CAPA-002"
    _assay(
        ws, "review", "hold", "MR-001", "--chair", "ceo", "--attendee", "ciso", "--attendee", "cto"
    )

    # 7. AIMS as code round-trips, and the ledger proves the whole history.
    aims_file = tmp_path / "aims.yaml"
    aims_file.write_text(_assay(ws, "aims", "export").stdout, encoding="utf-8")
    assert "No changes" in _assay(ws, "aims", "apply", str(aims_file)).stdout
    _assay(ws, "ledger", "checkpoint")
    assert _assay(ws, "ledger", "verify").stdout.startswith("OK:")

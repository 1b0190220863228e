"""`make demo` is a test: the main job end to end on SQLite, within its time budget."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from assay.cli.main import run
from assay.demo import DemoOptions, run_demo
from assay.ledger.keys import load_verifier
from assay.ledger.verify import verify_pack
from assay.workspace import open_workspace


def test_demo_runs_the_main_job_end_to_end(tmp_path: Path) -> None:
    root = tmp_path / ".assay"
    report = run_demo(DemoOptions(root=root, serve=False, quiet=True), cli=run)
    assert report.timings["total"] < 180
    assert report.traffic.get("block", 0) > 0 and report.traffic.get("redact", 0) > 0
    assert report.drift_alerts > 0
    # the agent attack: the exfiltration call after an injected page, refused by the tool
    # policy, with its evidence entry naming the page by digest
    attack = report.agent_attack
    assert attack is not None and attack["action"] == "block" and attack["tool"] == "send_email"
    assert "tainted_egress" in {f["label"] for f in attack["findings"]}
    assert len(attack["tainted_by"]) == 1 and "iso42001:A.9.4" in attack["controls"]
    assert report.pack is not None
    key = load_verifier((root / "keys" / "ledger.pub").read_text().strip())
    assert verify_pack(str(report.pack), key).ok
    ws = open_workspace(root)
    try:
        types = {e.decoded()["type"] for e in ws.ledger.iter_entries()}
        assert {
            "assay.dev/aims-change/v1",
            "assay.dev/soa/v1",
            "assay.dev/redteam-run/v1",
            "assay.dev/guard-decision/v1",
            "assay.dev/drift-alert/v1",
        } <= types
        assert ws.ledger.verify().ok
    finally:
        ws.close()
    status = subprocess.run(
        [
            sys.executable,
            "-m",
            "assay",
            "--workspace",
            str(root),
            "comply",
            "status",
            "--framework",
            "iso42001",
            "--system",
            "support-bot",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    readiness = json.loads(status.stdout)
    statuses = {item["status"] for item in readiness["items"]}
    assert "met" in statuses and "gap" in statuses  # real per-control status from evidence
    by_id = {item["id"]: item for item in readiness["items"]}
    assert by_id["A.6.2.4"]["status"] == "failing"  # the demo bot is vulnerable: no false "met"
    eu = subprocess.run(
        [
            sys.executable,
            "-m",
            "assay",
            "--workspace",
            str(root),
            "comply",
            "status",
            "--framework",
            "eu-ai-act",
            "--system",
            "support-bot",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    eu_items = {item["id"]: item["status"] for item in json.loads(eu.stdout)["items"]}
    # Northwind builds and runs its chatbot (provider and deployer): Art. 50(1) binds it, as the
    # classifier's rationale says; the deployer-only cases of Art. 50(3) and 50(4) do not.
    assert eu_items["Art.50(1)"] != "not_applicable"
    assert eu_items["Art.50(3)"] == eu_items["Art.50(4)"] == "not_applicable"
    assert report.login is not None and (root / "demo-login.txt").stat().st_mode & 0o077 == 0


def test_demo_refuses_to_replace_a_real_workspace(tmp_path: Path) -> None:
    from assay.errors import AssayError
    from assay.workspace import init_workspace

    init_workspace(tmp_path / "ws").close()
    try:
        run_demo(DemoOptions(root=tmp_path / "ws", serve=False, quiet=True), cli=run)
    except AssayError as exc:
        assert "not a demo workspace" in str(exc)
    else:
        raise AssertionError("the demo replaced a real workspace")
    assert (tmp_path / "ws" / "assay.db").exists()

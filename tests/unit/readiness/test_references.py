"""Write-time checks (issue #20): unknown controls and systems never reach the append-only log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.aims.references import append_checked
from assay.cli.ledger import app as ledger_app
from assay.errors import AssayError
from assay.ledger import Evidence, Subject
from assay.workspace import Workspace

runner = CliRunner()
NOTE = "assay.dev/note/v1"

CUSTOM = """\
framework: acme-policy
name: ACME AI policy
version: "1"
source: internal
licence: internal use
requirements:
  - id: P1
    title: Human review
    description: Every model change is reviewed.
    evidence_expectations: [a review record]
"""


def _size(ws: Workspace) -> int:
    return sum(1 for _ in ws.ledger.iter_entries())


def test_library_refuses_unknown_control_with_a_suggestion(ws: Workspace) -> None:
    before = _size(ws)
    with pytest.raises(AssayError, match=r"'iso42001:A.6.2.44'.*did you mean A.6.2.4"):
        append_checked(
            ws.store, ws.ledger, Evidence(NOTE, "alice", controls=("iso42001:A.6.2.44",))
        )
    with pytest.raises(AssayError, match=r"unknown requirement 'A.99'"):
        append_checked(ws.store, ws.ledger, Evidence(NOTE, "alice", controls=("iso42001:A.99",)))
    assert _size(ws) == before


def test_library_refuses_unknown_system(ws: Workspace) -> None:
    with pytest.raises(AssayError, match=r"no AI system 'bott'.*did you mean bot"):
        append_checked(ws.store, ws.ledger, Evidence(NOTE, "alice", subject=Subject("bott")))
    seq, _ = append_checked(
        ws.store,
        ws.ledger,
        Evidence(NOTE, "alice", subject=Subject("bot"), controls=("nist-ai-rmf:GOVERN 1.1",)),
    )
    assert ws.ledger.get(seq).decoded()["controls"] == ["nist-ai-rmf:GOVERN-1.1"]  # canonical


def test_cli_refuses_and_accepts_imported_frameworks(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSAY_HOME", str(ws.root))
    args = ["append", "--type", NOTE, "-"]
    ghost = runner.invoke(
        ledger_app,
        [*args[:-1], "--control", "iso42001:A.99", "--system", "ghost-system", "-"],
        input="{}",
    )
    assert ghost.exit_code != 0 and "A.99" in str(ghost.exception)
    ghost_system = runner.invoke(
        ledger_app, [*args[:-1], "--system", "ghost-system", "-"], input="{}"
    )
    assert ghost_system.exit_code != 0 and "no AI system 'ghost-system'" in str(
        ghost_system.exception
    )
    custom = runner.invoke(ledger_app, [*args[:-1], "--control", "acme-policy:P1", "-"], input="{}")
    assert custom.exit_code != 0 and "unknown framework 'acme-policy'" in str(custom.exception)
    (ws.root / "frameworks").mkdir()
    (ws.root / "frameworks" / "acme-policy.yaml").write_text(CUSTOM, encoding="utf-8")
    imported = runner.invoke(
        ledger_app,
        [*args[:-1], "--control", "acme-policy:P1", "--system", "bot", "--json", "-"],
        input="{}",
    )
    assert imported.exit_code == 0, imported.output
    seq = json.loads(imported.output)["seq"]
    assert ws.ledger.get(seq).decoded()["controls"] == ["acme-policy:P1"]

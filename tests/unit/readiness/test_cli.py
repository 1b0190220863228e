"""``assay comply status | gap | export | pack`` through Typer's test runner."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.cli.comply import app
from assay.errors import AssayError
from assay.ledger.verify import verify_pack
from assay.workspace import Workspace

from .conftest import Append

runner = CliRunner()


@pytest.fixture(autouse=True)
def _home(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSAY_HOME", str(ws.root))


def test_status_json_has_items_and_formula(append: Append) -> None:
    append("assay.dev/redteam-run/v1")
    out = runner.invoke(app, ["status", "--framework", "iso42001", "--system", "bot", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    statuses = {i["id"]: i["status"] for i in doc["items"]}
    assert statuses["A.6.2.4"] == "met" and statuses["A.10.3"] == "not_applicable"
    counts = doc["counts"]
    applicable = sum(counts.values()) - counts["not_applicable"]
    expected = round(100 * (counts["met"] + 0.5 * counts["partial"]) / applicable, 1)
    assert doc["percent"] == expected
    assert doc["checkpoint"]["tree_size"] > 0


def test_status_text_and_gap(append: Append) -> None:
    append("assay.dev/redteam-run/v1", days_ago=41)
    out = runner.invoke(app, ["status", "-f", "iso42001", "-s", "bot"])
    assert out.exit_code == 0, out.output
    assert "readiness" in out.output and "A.6.2.4" in out.output
    gap = runner.invoke(app, ["gap", "-f", "iso42001", "-s", "bot"])
    assert gap.exit_code == 0, gap.output
    assert "iso42001:A.6.2.4  [stale]" in gap.output
    assert "41 days old; fresh for 30 days" in gap.output
    heads = [line for line in gap.output.splitlines() if line.startswith("iso42001:")]
    assert heads and all(("[met]" not in h and "[not_applicable]" not in h) for h in heads)
    doc = json.loads(runner.invoke(app, ["gap", "-f", "iso42001", "--json"]).output)
    assert doc["items"] and all(i["status"] != "met" for i in doc["items"])
    assert all(i["next_action"] for i in doc["items"])


def test_export_formats(tmp_path: Path) -> None:
    for fmt in ("oscal-poam", "oscal-ssp", "xlsx"):
        target = tmp_path / f"out.{fmt}"
        out = runner.invoke(
            app, ["export", "-f", "iso42001", "-s", "bot", "--format", fmt, "-o", str(target)]
        )
        assert out.exit_code == 0, out.output
        assert target.stat().st_size > 0
    assert "plan-of-action-and-milestones" in json.loads((tmp_path / "out.oscal-poam").read_text())
    assert zipfile.is_zipfile(tmp_path / "out.xlsx")


def test_export_refuses_ssp_without_a_system_and_unknown_formats(tmp_path: Path) -> None:
    out = runner.invoke(
        app, ["export", "-f", "iso42001", "--format", "oscal-ssp", "-o", str(tmp_path / "x")]
    )
    assert isinstance(out.exception, AssayError) and "--system" in str(out.exception)
    out = runner.invoke(
        app, ["export", "-f", "iso42001", "--format", "docx", "-o", str(tmp_path / "x")]
    )
    assert isinstance(out.exception, AssayError) and "oscal-ar" in str(out.exception)
    out = runner.invoke(app, ["status", "-f", "iso9001"])
    assert isinstance(out.exception, AssayError) and "unknown framework" in str(out.exception)


def test_comply_pack_verifies(ws: Workspace, append: Append, tmp_path: Path) -> None:
    append("assay.dev/redteam-run/v1")
    target = tmp_path / "pack.zip"
    out = runner.invoke(
        app, ["pack", "-o", str(target), "-f", "iso42001", "-f", "eu-ai-act", "-s", "bot"]
    )
    assert out.exit_code == 0, out.output
    report = verify_pack(str(target), ws.ledger.signer.verifier)
    assert report.ok, report.problems
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
    assert "reports/oscal-ar-eu-ai-act-bot.json" in names
    assert "reports/soa-gap-iso42001-bot.pdf" in names


def test_pack_without_pango_leaves_out_pdf_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    from assay.reports.bundle import pack_formats

    monkeypatch.setattr(
        "assay.reports.pdf.pdf_available", lambda: "PDF export needs Pango: apt-get install ..."
    )
    formats, reason = pack_formats()
    assert "pdf" not in formats and "xlsx" in formats
    assert reason is not None and "Pango" in reason


def test_status_explain_shows_condition_and_each_entry(ws: Workspace, append: Append) -> None:
    from assay.aims import classification, update_system

    update_system(
        ws.store, ws.ledger, "bot", {"org_roles": ["provider", "deployer"]}, actor="alice"
    )
    classification.classify_system(
        ws.store, ws.ledger, "bot", {"transparency": ["interacts-with-people"]}, actor="alice"
    )
    seq = append("assay.dev/note/v1", controls=("eu-ai-act:Art.50(1)",), summary={"ui": "badge"})
    out = runner.invoke(app, ["status", "-f", "eu-ai-act", "-s", "bot", "--explain", "Art.50(1)"])
    assert out.exit_code == 0, out.output
    text = out.output
    assert "applies when: role:provider and art50:1" in text
    assert "bot: role:provider [yes] and art50:1 [yes]" in text
    assert f"entry {seq} (note" in text and "counted" in text
    assert "what would change it:" in text
    na = runner.invoke(app, ["status", "-f", "eu-ai-act", "-s", "bot", "--explain", "Art.50(3)"])
    assert "status: not_applicable" in na.output and "art50:3 [no]" in na.output
    doc = json.loads(
        runner.invoke(
            app, ["status", "-f", "eu-ai-act", "-s", "bot", "--explain", "Art.50(1)", "--json"]
        ).output
    )
    assert doc["condition"] == "role:provider and art50:1" and doc["explanation"]
    bad = runner.invoke(app, ["status", "-f", "eu-ai-act", "--explain", "Art.99"])
    assert bad.exit_code != 0 and "no assessed requirement 'Art.99'" in str(bad.exception)


def test_classify_cli_records_sub_points_carve_outs_and_roles(ws: Workspace) -> None:
    from assay.aims import get_system
    from assay.cli.systems import app as systems_app

    roles = runner.invoke(
        systems_app, ["update", "bot", "--org-role", "provider", "--org-role", "deployer"]
    )
    assert roles.exit_code == 0, roles.output
    assert get_system(ws.store, "bot").profile.org_roles == ("provider", "deployer")
    fraud = runner.invoke(
        systems_app,
        [
            "classify",
            "bot",
            "--annex-iii",
            "5(b)",
            "--carve-out",
            "financial-fraud-detection",
            "--json",
        ],
    )
    assert fraud.exit_code == 0, fraud.output
    doc = json.loads(fraud.output)
    assert doc["risk_class"] == "minimal" and doc["annex_iii_points"] == []
    public = runner.invoke(
        systems_app,
        ["classify", "bot", "--annex-iii", "public-benefits", "--public-body", "--json"],
    )
    doc = json.loads(public.output)
    assert doc["risk_class"] == "high-risk" and doc["annex_iii_points"] == ["5", "5(a)"]
    assert doc["answers"]["public_body"] is True

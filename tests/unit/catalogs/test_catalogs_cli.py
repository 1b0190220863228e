"""``assay comply`` commands, driven through Typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.cli.comply import app
from assay.errors import AssayError

runner = CliRunner()

CUSTOM = """\
framework: acme-policy
name: ACME AI policy
version: "1"
source: internal
licence: internal use
requirements:
  - id: P1
    title: Top
    description: The top requirement.
    evidence_expectations: []
"""


@pytest.fixture(autouse=True)
def _workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ASSAY_HOME", str(tmp_path / "ws"))
    return tmp_path / "ws"


def test_frameworks_json_lists_builtins() -> None:
    result = runner.invoke(app, ["frameworks", "--json"])
    assert result.exit_code == 0, result.output
    ids = [row["id"] for row in json.loads(result.output)]
    assert ids == ["iso42001", "nist-ai-rmf", "eu-ai-act", "fca", "sec"]


def test_map_shows_parent_relations_and_evidence() -> None:
    result = runner.invoke(app, ["map", "eu-ai-act:Art.15(5)", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["parent"]["ref"] == "eu-ai-act:Art.15"
    assert {"iso42001:A.6.2.4", "nist-ai-rmf:MEASURE-2.7"} <= {r["ref"] for r in doc["relations"]}
    assert "assay.dev/redteam-run/v1" in {e["type"] for e in doc["evidence_types"]}
    text = runner.invoke(app, ["map", "iso42001:A.6.2.4"])
    assert text.exit_code == 0 and "eu-ai-act:Art.15(5)" in text.output


def test_map_unknown_id_is_an_assay_error() -> None:
    result = runner.invoke(app, ["map", "iso42001:A.10.5"])
    assert result.exit_code != 0
    assert isinstance(result.exception, AssayError)
    assert "unknown requirement 'A.10.5'" in str(result.exception)


def test_import_then_listed_and_mappable(tmp_path: Path, _workspace: Path) -> None:
    source = tmp_path / "acme.yaml"
    source.write_text(CUSTOM, encoding="utf-8")
    result = runner.invoke(app, ["import", str(source)])
    assert result.exit_code == 0, result.output
    assert (_workspace / "frameworks" / "acme-policy.yaml").exists()
    listed = json.loads(runner.invoke(app, ["frameworks", "--json"]).output)
    assert {"id": "acme-policy", "origin": "custom"}.items() <= listed[-1].items()
    mapped = json.loads(runner.invoke(app, ["map", "acme-policy:P1", "--json"]).output)
    assert mapped["title"] == "Top" and mapped["relations"] == []


def test_import_bad_file_names_line_and_field(tmp_path: Path) -> None:
    source = tmp_path / "bad.yaml"
    source.write_text(CUSTOM.replace("    title: Top\n", ""), encoding="utf-8")
    result = runner.invoke(app, ["import", str(source)])
    assert isinstance(result.exception, AssayError)
    assert f"{source}:7: field 'requirements[0].title'" in str(result.exception)


@pytest.mark.parametrize("command", ["frameworks", "map", "import"])
def test_every_command_has_help_with_example(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Example: assay comply" in result.output

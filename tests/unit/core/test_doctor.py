"""``assay doctor`` passes a healthy workspace and catches each planted fault (issue #24)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from assay.cli.main import run
from assay.doctor import diagnose
from assay.ledger import Evidence, Subject
from assay.ledger.batcher import SpillFile
from assay.validators.linear import MODEL_DIR
from assay.workspace import open_workspace


def _doctor(ws: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    code = run(["--workspace", str(ws), "doctor", "--policy", "off", "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def _failed(report: dict) -> set[str]:  # type: ignore[type-arg]
    return {c["check"] for c in report["checks"] if c["status"] == "fail"}


def test_a_healthy_workspace_passes(workspace_dir: Path, capsys: pytest.CaptureFixture[str]
                                    ) -> None:
    code, report = _doctor(workspace_dir, capsys)
    assert code == 0 and report["ok"] is True, report
    names = {c["check"] for c in report["checks"]}
    assert {"python", "models", "policy", "workspace", "keys", "store", "schema",
            "spill"} <= names


def test_a_key_others_can_read_fails(workspace_dir: Path, capsys: pytest.CaptureFixture[str]
                                     ) -> None:
    (workspace_dir / "keys" / "ledger.key").chmod(0o644)
    code, report = _doctor(workspace_dir, capsys)
    assert code == 1 and _failed(report) == {"keys"}
    fix = next(c["fix"] for c in report["checks"] if c["check"] == "keys")
    assert fix.startswith("chmod 600")


def test_a_missing_model_fails(workspace_dir: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    shutil.copytree(MODEL_DIR, models)
    (models / "toxicity.npz").unlink()
    failed = [f for f in diagnose(workspace_dir, policy="off", model_dir=models)
              if f.status == "fail"]
    assert [f.check for f in failed] == ["models"] and "toxicity.npz" in failed[0].detail


def test_an_unmigrated_store_fails(workspace_dir: Path, capsys: pytest.CaptureFixture[str]
                                   ) -> None:
    ws = open_workspace(workspace_dir)
    with ws.store.session() as session:
        session.execute(text("DELETE FROM alembic_version"))
        session.commit()
    ws.close()
    code, report = _doctor(workspace_dir, capsys)
    assert code == 1 and _failed(report) == {"schema"}


def test_a_stranded_spill_fails_until_replayed(
    workspace_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = open_workspace(workspace_dir)
    before = ws.ledger.size()
    SpillFile(ws.spill_dir).write([Evidence("assay.dev/note/v1", "t", {"n": 1}, Subject("bot"))])
    ws.close()
    code, report = _doctor(workspace_dir, capsys)
    assert code == 1 and _failed(report) == {"spill"}
    code, report = _doctor(workspace_dir, capsys, "--replay-spill")
    assert code == 0 and report["replayed"] == 1, report
    ws = open_workspace(workspace_dir)
    try:
        assert ws.ledger.size() == before + 1
    finally:
        ws.close()


def test_no_workspace_fails(tmp_path: Path) -> None:
    failed = [f.check for f in diagnose(tmp_path / "none", policy="off") if f.status == "fail"]
    assert failed == ["workspace"]

"""The CLI's contract: workspace handling, clear errors, exit codes, --json."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from assay.cli.main import run


def _assay(
    *args: str, ws: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    prefix = ["--workspace", str(ws)] if ws else []
    return subprocess.run(
        [sys.executable, "-m", "assay", *prefix, *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        env={**os.environ, "ASSAY_ACTOR": "tester"},
    )


def test_init_creates_a_complete_workspace(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run(["--workspace", str(ws), "init"]) == 0
    assert (ws / "assay.toml").is_file() and (ws / "blobs").is_dir()
    key = ws / "keys" / "ledger.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert "+" in (ws / "keys" / "ledger.pub").read_text()
    with sqlite3.connect(ws / "assay.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    migrations = Path(__file__).parents[3] / "src/assay/store/migrations/versions"
    assert revision == max(p.name[:4] for p in migrations.glob("0*.py"))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ws-init-")]


def test_init_twice_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws"
    assert run(["--workspace", str(ws), "init"]) == 0
    assert run(["--workspace", str(ws), "init"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_failed_init_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSAY_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert run(["--workspace", str(tmp_path / "ws"), "init"]) == 1
    assert list(tmp_path.iterdir()) == []


def test_unwritable_parent_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if os.geteuid() == 0:
        target = Path("/proc/assay-ws")  # even root cannot create directories in /proc
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "ws"
    assert run(["--workspace", str(target), "init"]) == 1
    err = capsys.readouterr().err
    assert "cannot create a workspace" in err and "Traceback" not in err


def test_missing_workspace_names_the_fix(tmp_path: Path) -> None:
    result = _assay("systems", "list", ws=tmp_path / "nowhere")
    assert result.returncode == 1
    assert "run `assay init" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_error_exits_2(tmp_path: Path) -> None:
    assert _assay("ledger", "no-such-command").returncode == 2


def test_unknown_config_key_names_key_and_line(workspace_dir: Path) -> None:
    toml = workspace_dir / "assay.toml"
    toml.write_text(toml.read_text() + "\n[ledger2]\nx = 1\n")
    result = _assay("systems", "list", ws=workspace_dir)
    assert result.returncode == 1
    line = toml.read_text().splitlines().index("[ledger2]") + 1
    assert f"assay.toml:{line}: unknown section [ledger2]" in result.stderr


def test_checkpoint_settings_are_read_and_checked(workspace_dir: Path) -> None:
    from assay.config import load_settings

    toml = workspace_dir / "assay.toml"
    text = toml.read_text()
    assert "checkpoint_every = 10000" in text  # init writes the defaults, documented
    toml.write_text(text.replace("checkpoint_every = 10000", "checkpoint_every = 0"))
    assert load_settings(workspace_dir).ledger_checkpoint_every == 0  # 0: trigger off
    toml.write_text(text.replace("checkpoint_seconds = 300", "checkpoint_seconds = -5"))
    result = _assay("systems", "list", ws=workspace_dir)
    line = text.splitlines().index("checkpoint_seconds = 300") + 1
    assert result.returncode == 1
    assert f"assay.toml:{line}: ledger.checkpoint_seconds must be at least 0" in result.stderr


def test_corrupt_config_is_a_clear_error(workspace_dir: Path) -> None:
    (workspace_dir / "assay.toml").write_text("[ledger\norigin = 1\n")
    result = _assay("systems", "list", ws=workspace_dir)
    assert result.returncode == 1
    assert "not valid TOML" in result.stderr and "line 1" in result.stderr


def test_newer_schema_is_refused(workspace_dir: Path) -> None:
    with sqlite3.connect(workspace_dir / "assay.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    result = _assay("systems", "list", ws=workspace_dir)
    assert result.returncode == 1
    assert "newer than this Assay" in result.stderr


def test_systems_round_trip_as_json(workspace_dir: Path) -> None:
    added = _assay(
        "systems",
        "add",
        "support-bot",
        "--name",
        "Support",
        "--owner",
        "CX",
        "--json",
        ws=workspace_dir,
    )
    assert added.returncode == 0, added.stderr
    listed = json.loads(_assay("systems", "list", "--json", ws=workspace_dir).stdout)
    assert [s["id"] for s in listed] == ["support-bot"]
    bad = _assay("systems", "add", "Bad Id", "--name", "x", "--owner", "y", ws=workspace_dir)
    assert bad.returncode == 2 and "invalid" in bad.stderr  # Invalid: exit 2
    tail = json.loads(_assay("ledger", "tail", "--json", ws=workspace_dir).stdout)
    assert tail["entries"][0]["type"] == "assay.dev/aims-change/v1"
    assert tail["entries"][0]["actor"] == "tester"


def test_ledger_cli_round_trip(workspace_dir: Path, tmp_path: Path) -> None:
    appended = _assay(
        "ledger",
        "append",
        "--type",
        "assay.dev/note/v1",
        "--json",
        "-",
        ws=workspace_dir,
        stdin='{"a": 1}',
    )
    assert json.loads(appended.stdout)["seq"] == 0
    not_json = _assay(
        "ledger", "append", "--type", "assay.dev/note/v1", "-", ws=workspace_dir, stdin="hello"
    )
    assert not_json.returncode == 1 and "must be JSON" in not_json.stderr
    assert _assay("ledger", "checkpoint", ws=workspace_dir).returncode == 0
    proof = json.loads(_assay("ledger", "prove", "0", "--json", ws=workspace_dir).stdout)
    assert proof["tree_size"] == 1
    assert _assay("ledger", "verify", ws=workspace_dir).returncode == 0
    pack = tmp_path / "p.zip"
    assert _assay("pack", "export", "-o", str(pack), ws=workspace_dir).returncode == 0
    key = (workspace_dir / "keys" / "ledger.pub").read_text().strip()
    verified = _assay("pack", "verify", str(pack), "--key", key, "--json")
    assert json.loads(verified.stdout)["ok"] is True
    wrong = _assay("pack", "verify", str(pack), "--key", "not-a-key")
    assert wrong.returncode == 1 and "neither a key string" in wrong.stderr


def test_witness_cosigns_and_quorum_is_enforced(workspace_dir: Path, tmp_path: Path) -> None:
    _assay("ledger", "append", "--type", "assay.dev/note/v1", "-", ws=workspace_dir, stdin="{}")
    checkpoint = tmp_path / "cp.txt"
    checkpoint.write_text(_assay("ledger", "checkpoint", ws=workspace_dir).stdout)
    wkey = tmp_path / "w1.key"
    wpub = _assay("ledger", "witness-key", "--name", "w.example/1", "-o", str(wkey)).stdout.strip()
    log_pub = str(workspace_dir / "keys" / "ledger.pub")
    assert (
        _assay("ledger", "verify", "--witness", wpub, "--quorum", "1", ws=workspace_dir).returncode
        == 1
    )
    cosigned = _assay(
        "ledger",
        "witness",
        "--key",
        str(wkey),
        "--name",
        "w.example/1",
        "--checkpoint",
        str(checkpoint),
        "--log-key",
        log_pub,
        "--state",
        str(tmp_path / "w.state"),
    )
    assert cosigned.returncode == 0, cosigned.stderr
    note = tmp_path / "cosigned.txt"
    note.write_text(cosigned.stdout)
    assert (
        _assay(
            "ledger", "cosign", str(note), "--witness", "w.example/1", ws=workspace_dir
        ).returncode
        == 0
    )
    ok = _assay("ledger", "verify", "--witness", wpub, "--quorum", "1", ws=workspace_dir)
    assert ok.returncode == 0, ok.stdout
    # The witness refuses a checkpoint that grew without a consistency proof.
    _assay("ledger", "append", "--type", "assay.dev/note/v1", "-", ws=workspace_dir, stdin="{}")
    checkpoint.write_text(_assay("ledger", "checkpoint", ws=workspace_dir).stdout)
    again = _assay(
        "ledger",
        "witness",
        "--key",
        str(wkey),
        "--name",
        "w.example/1",
        "--checkpoint",
        str(checkpoint),
        "--log-key",
        log_pub,
        "--state",
        str(tmp_path / "w.state"),
    )
    assert again.returncode == 2 and "--proof" in again.stderr  # Invalid: a proof is needed
    proof = tmp_path / "proof.txt"
    proof.write_text(_assay("ledger", "consistency", "1", "2", ws=workspace_dir).stdout)
    third = _assay(
        "ledger",
        "witness",
        "--key",
        str(wkey),
        "--name",
        "w.example/1",
        "--checkpoint",
        str(checkpoint),
        "--log-key",
        log_pub,
        "--state",
        str(tmp_path / "w.state"),
        "--proof",
        str(proof),
    )
    assert third.returncode == 0, third.stderr


def test_error_kinds_have_their_exit_codes_and_the_cli_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = ["--workspace", str(tmp_path / "ws")]
    assert run([*ws, "init"]) == 0
    add = [*ws, "systems", "add", "bot", "--name", "Bot", "--owner", "me"]
    assert run(add) == 0
    capsys.readouterr()
    assert run(add) == 5  # Conflict
    assert "error: system 'bot' already exists: see `assay systems show`" in capsys.readouterr().err
    assert run([*ws, "systems", "show", "ghost"]) == 4  # NotFound
    assert "no AI system 'ghost': list them with `assay systems list`" in capsys.readouterr().err
    assert run([*ws, "ledger", "prove", "0"]) == 4  # no checkpoint yet
    assert "run `assay ledger checkpoint` first" in capsys.readouterr().err


def test_the_demo_runs_through_the_cli_it_is_given(tmp_path: Path) -> None:
    from assay.demo import DemoOptions, run_demo
    from assay.errors import AssayError

    typed: list[list[str]] = []

    def refusing(args: list[str]) -> int:
        typed.append(args)
        return 5

    with pytest.raises(AssayError, match="the demo step `assay systems add"):
        run_demo(DemoOptions(root=tmp_path / "ws", serve=False, quiet=True), cli=refusing)
    assert typed and typed[0][:3] == ["--workspace", str(tmp_path / "ws"), "systems"]

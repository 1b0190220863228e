"""``assay drift``: reference set/show, replay (same alerts as the library), status, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.cli.main import run
from assay.drift.events import to_json_line
from assay.drift.synthetic import Shift, stream


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("drift")
    ref, live = root / "ref.jsonl", root / "live.jsonl"
    ref.write_text("".join(to_json_line(e) for e in stream(8_000, seed=1, dim=8)))
    shifted = stream(6_000, seed=3, dim=8, shift=Shift(at=2_000, injection_rate=0.12))
    live.write_text("".join(to_json_line(e) for e in shifted))
    return ref, live


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    capsys.readouterr()
    assert run([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_reference_replay_status(
    tmp_path: Path, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ws = tmp_path / "ws"
    assert run(["--workspace", str(ws), "init"]) == 0
    w = ["--workspace", str(ws)]
    ref_file, live = files
    made = _json(
        capsys,
        *w,
        "drift",
        "reference",
        "set",
        "--system",
        "support-bot",
        "--from",
        str(ref_file),
        "--block-events",
        "100",
        "--blocks",
        "5",
    )
    assert isinstance(made, dict) and made["reference"] == "support-bot@v1"
    shown = _json(capsys, *w, "drift", "reference", "show", "--system", "support-bot")
    assert isinstance(shown, list) and "guard_ms" in shown[0]["signals"]
    out = _json(capsys, *w, "drift", "replay", str(live), "--evidence")
    assert isinstance(out, dict)
    levels = [a["level"] for a in out["alerts"]]
    assert "critical" in levels or "alert" in levels
    assert out["status"]["systems"]["support-bot"]["observed"] == 6_000
    # The ledger holds one drift-alert entry per alert.
    assert run([*w, "ledger", "tail", "--json"]) == 0
    assert capsys.readouterr().out.count("assay.dev/drift-alert/v1") == len(levels)
    status = _json(capsys, *w, "drift", "status")
    assert isinstance(status, list) and status[0]["active_reference"] == "support-bot@v1"
    assert run([*w, "drift", "status"]) == 0
    assert "support-bot" in capsys.readouterr().out


def test_replay_with_a_reference_file_needs_no_workspace(
    tmp_path: Path, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ws = tmp_path / "ws"
    run(["--workspace", str(ws), "init"])
    run(
        [
            "--workspace",
            str(ws),
            "drift",
            "reference",
            "set",
            "-s",
            "support-bot",
            "--from",
            str(files[0]),
            "--block-events",
            "100",
            "--blocks",
            "5",
        ]
    )
    ref = ws / "drift" / "references" / "support-bot" / "v0001.json"
    out = _json(
        capsys,
        "--workspace",
        str(tmp_path / "none"),
        "drift",
        "replay",
        str(files[1]),
        "--reference",
        str(ref),
    )
    assert isinstance(out, dict) and out["alerts"]


def test_bad_jsonl_line_is_named(
    tmp_path: Path, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"ts": 1, "system": "x", "signals": {}}\n\n{not json\n')
    ws = tmp_path / "ws"
    run(["--workspace", str(ws), "init"])
    assert (
        run(["--workspace", str(ws), "drift", "reference", "set", "-s", "x", "--from", str(bad)])
        == 1
    )
    assert "line 3 is not valid JSON" in capsys.readouterr().err


def test_errors_say_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws"
    run(["--workspace", str(ws), "init"])
    events = tmp_path / "e.jsonl"
    events.write_text("")
    assert run(["--workspace", str(ws), "drift", "replay", str(events)]) == 1
    assert "assay drift reference set" in capsys.readouterr().err
    assert run(["--workspace", str(ws), "drift", "reference", "show", "-s", "nobot"]) == 4
    assert "--from events.jsonl" in capsys.readouterr().err
    assert run(["--workspace", str(ws), "drift", "reference", "set", "-s", "nobot"]) == 1
    assert "no recorded events" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command", [["status"], ["replay"], ["reference", "set"], ["reference", "show"]]
)
def test_help_has_an_example(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["drift", *command, "--help"]) == 0
    assert "Example: assay drift" in capsys.readouterr().out

"""A run killed with SIGKILL resumes without repeating attempts it had recorded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assay.redteam.results import RunResult
from assay.redteam.store import RunStore, list_runs
from assay.workspace import init_workspace

BOT = """
import json, os, time
from assay.redteam.demo_target import DemoChatbot
_BOT = DemoChatbot()
LOG = os.environ["RT_LOG"]

def reply(messages):
    with open(LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(messages[-1]["content"]) + "\\n")
    time.sleep(0.02)
    return _BOT.reply(messages)
"""

FAMILIES = "prompt_injection,system_prompt_extraction,toxicity,secret_exfiltration,over_refusal"


def _scan(ws: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "assay",
        "-w",
        str(ws),
        "scan",
        *extra,
        "-q",
        "--no-evidence",
        "-r",
        "json",
        "-c",
        "2",
    ]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _sent(log: Path) -> list[str]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_resume_after_sigkill_repeats_nothing(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    init_workspace(ws).close()
    (tmp_path / "slowbot.py").write_text(BOT, encoding="utf-8")
    log = tmp_path / "sent.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "RT_LOG": str(log),
    }
    proc = _scan(ws, env, "--target", "python:slowbot:reply", "--families", FAMILIES)
    scans = ws / "scans"
    deadline = time.monotonic() + 30
    recorded_before: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        runs = list_runs(scans)
        if runs:
            recorded_before = RunStore(scans / runs[0]).attempts()
            if len(recorded_before) >= 12:
                break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    run_id = list_runs(scans)[0]
    store = RunStore(scans / run_id)
    recorded_before = store.attempts()  # everything that was durably recorded before the kill
    assert len(recorded_before) >= 12
    planned = store.meta()["planned"]
    assert len(recorded_before) < planned, "the run finished before it could be killed"
    done_prompts = {str(r["prompt"]) for r in recorded_before}
    sent_before = len(_sent(log))

    proc = _scan(ws, env, "--resume", run_id)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    resent = _sent(log)[sent_before:]
    assert not done_prompts & set(resent), "a recorded attempt was sent again"
    assert len(resent) == planned - len(recorded_before)

    lines = (store.path / "attempts.jsonl").read_text(encoding="utf-8").splitlines()
    keys = [json.loads(line)["key"] for line in lines if line.strip()]
    assert len(keys) == len(set(keys)) == planned  # each attempt recorded exactly once
    result = RunResult.load(store)
    assert result.meta["status"] == "complete"
    assert result.overall().unassessed == 0

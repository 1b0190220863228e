"""Many processes and sudden death: the log never forks and loses nothing acknowledged."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assay.workspace import Workspace, open_workspace

WORKER = str(Path(__file__).parents[2] / "helpers" / "ledger_worker.py")


def _spawn(root: Path, count: int, batch: int, url: str | None = None) -> subprocess.Popen[str]:
    args = [sys.executable, WORKER, str(root), str(count), str(batch)]
    return subprocess.Popen([*args, *([url] if url else [])], stdout=subprocess.PIPE, text=True)


def _check_all_receipts(ws: Workspace, lines: list[str]) -> None:
    for line in lines:
        seq, leaf = line.split()
        assert ws.ledger.get(int(seq)).leaf_hash.hex() == leaf


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_receipt(workspace: Workspace) -> None:
    rng = random.Random(2026)
    root = workspace.root
    workspace.close()
    printed: list[str] = []
    for _ in range(20):
        child = _spawn(root, 0, rng.choice([1, 5, 50]))
        time.sleep(rng.uniform(0.6, 1.2))  # past start-up, mid-append
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        printed += [line for line in out.splitlines() if line.count(" ") == 1]
    ws = open_workspace(root)
    try:
        assert printed, "the child never appended"
        _check_all_receipts(ws, printed)
        ws.ledger.checkpoint()
        report = ws.ledger.verify()
        assert report.ok, report.problems
    finally:
        ws.close()


def _concurrent(root: Path, url: str | None) -> None:
    children = [_spawn(root, 5000, batch, url) for batch in (1, 10, 100, 500)]
    lines: list[str] = []
    for child in children:
        out, _ = child.communicate(timeout=600)
        assert child.returncode == 0
        lines += out.splitlines()
    seqs = sorted(int(line.split()[0]) for line in lines)
    assert seqs == list(range(20_000))


@pytest.mark.slow
def test_four_processes_on_sqlite_never_fork(workspace: Workspace) -> None:
    root = workspace.root
    workspace.close()
    _concurrent(root, None)
    ws = open_workspace(root)
    try:
        ws.ledger.checkpoint()
        report = ws.ledger.verify()
        assert report.ok and report.entries == 20_000, report.problems
    finally:
        ws.close()


@pytest.mark.slow
@pytest.mark.postgres
def test_four_processes_on_postgres_never_fork(pg_workspace: Workspace, pg_url: str) -> None:
    root = pg_workspace.root
    pg_workspace.close()
    _concurrent(root, pg_url)
    ws = open_workspace(root)
    try:
        ws.ledger.checkpoint()
        report = ws.ledger.verify()
        assert report.ok and report.entries == 20_000, report.problems
    finally:
        ws.close()

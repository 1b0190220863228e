"""The batcher never drops evidence: it blocks, spills to disk, and replays."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from assay.ledger import Batcher, Evidence, Receipt
from assay.ledger.batcher import replay_spill
from assay.workspace import Workspace


def _ev(i: int) -> Evidence:
    return Evidence(type="assay.dev/guard-decision/v1", actor="guard", summary={"i": i})


def _numbers(ws: Workspace) -> list[int]:
    return sorted(int(e.decoded()["summary"]["i"]) for e in ws.ledger.iter_entries())


def test_everything_submitted_is_appended(workspace: Workspace, tmp_path: Path) -> None:
    batcher = Batcher(workspace.ledger, spill_dir=tmp_path / "spill", batch_size=64)
    for i in range(1000):
        batcher.submit(_ev(i))
    batcher.flush()
    assert workspace.ledger.size() == 1000
    batcher.close()
    assert _numbers(workspace) == list(range(1000))


def test_full_queue_spills_and_close_replays(workspace: Workspace, tmp_path: Path) -> None:
    gate = threading.Event()
    original = workspace.ledger.append

    def slow_append(items: Sequence[Evidence], **kw: object) -> list[Receipt]:
        gate.wait(10)
        return original(items)

    workspace.ledger.append = slow_append  # type: ignore[method-assign]
    batcher = Batcher(workspace.ledger, spill_dir=tmp_path / "spill", batch_size=10, queue_size=5)
    for i in range(200):
        batcher.submit(_ev(i))
    assert batcher.spilled > 0
    assert list((tmp_path / "spill").glob("*.jsonl"))
    gate.set()
    batcher.close()
    assert _numbers(workspace) == list(range(200))
    assert not list((tmp_path / "spill").glob("*.jsonl"))


def test_failing_store_spills_after_retries(workspace: Workspace, tmp_path: Path) -> None:
    original = workspace.ledger.append
    broken = {"on": True}

    def flaky(items: Sequence[Evidence], **kw: object) -> list[Receipt]:
        if broken["on"]:
            raise RuntimeError("database is locked")
        return original(items)

    workspace.ledger.append = flaky  # type: ignore[method-assign]
    batcher = Batcher(workspace.ledger, spill_dir=tmp_path / "spill", retries=2)
    for i in range(50):
        batcher.submit(_ev(i))
    batcher.flush()
    assert batcher.spilled == 50 and workspace.ledger.size() == 0
    broken["on"] = False
    batcher.close()
    assert _numbers(workspace) == list(range(50))


def test_blocking_mode_waits_instead_of_spilling(workspace: Workspace, tmp_path: Path) -> None:
    batcher = Batcher(
        workspace.ledger, spill_dir=tmp_path / "spill", queue_size=2, when_full="block"
    )
    for i in range(300):
        batcher.submit(_ev(i))
    batcher.close()
    assert batcher.spilled == 0
    assert _numbers(workspace) == list(range(300))


def test_torn_spill_line_is_kept_not_lost(workspace: Workspace, tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    spill.mkdir()
    (spill / "1-1.jsonl").write_text('{"type": "assay.dev/note/v1"')
    assert replay_spill(workspace.ledger, spill) == 0
    assert (spill / "1-1.unreadable").read_text().startswith('{"type"')


def test_bad_evidence_is_refused_at_submit(workspace: Workspace, tmp_path: Path) -> None:
    from assay.errors import AssayError

    batcher = Batcher(workspace.ledger, spill_dir=tmp_path / "spill")
    with pytest.raises(AssayError):
        batcher.submit(Evidence(type="nope", actor="x"))
    batcher.close()


# -- issue #19 item 9: a crash during replay strands nothing and duplicates nothing -------


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    return int(child.stdout)


def _crashed_replay(ws: Workspace, spill: Path, items: int, appended: int) -> Path:
    """A spill file claimed by a process that appended ``appended`` items, then died."""
    from assay.ledger.batcher import SpillFile, _append_once, _read_spill

    spill_file = SpillFile(spill)
    spill_file.write([_ev(i) for i in range(items)])
    claimed = spill_file.path.with_suffix(f".claimed-{_dead_pid()}")
    spill_file.path.rename(claimed)
    _append_once(ws.ledger, _read_spill(claimed)[:appended])
    return claimed


def test_a_file_claimed_by_a_dead_replayer_is_replayed_once(
    workspace: Workspace, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from assay.ledger.batcher import spill_status

    spill = tmp_path / "spill"
    claimed = _crashed_replay(workspace, spill, items=60, appended=25)
    assert spill_status(spill).stranded == (claimed,)
    assert replay_spill(workspace.ledger, spill, batch_size=10) == 35
    assert _numbers(workspace) == list(range(60))
    assert "died mid-replay" in caplog.text
    assert not list(spill.iterdir())
    assert spill_status(spill).stranded == ()


def test_replaying_the_same_spill_file_twice_appends_nothing_twice(
    workspace: Workspace, tmp_path: Path
) -> None:
    from assay.ledger.batcher import SpillFile

    spill = tmp_path / "spill"
    spill_file = SpillFile(spill)
    spill_file.write([_ev(i) for i in range(30)])
    copy = spill_file.path.read_bytes()
    assert replay_spill(workspace.ledger, spill, batch_size=7) == 30
    spill_file.path.write_bytes(copy)  # e.g. restored from a backup, or replayed by hand
    assert replay_spill(workspace.ledger, spill, batch_size=7) == 0
    assert _numbers(workspace) == list(range(30))


def test_a_live_claim_is_left_alone(workspace: Workspace, tmp_path: Path) -> None:
    import os

    from assay.ledger.batcher import SpillFile, spill_status

    spill = tmp_path / "spill"
    spill_file = SpillFile(spill)
    spill_file.write([_ev(1)])
    claimed = spill_file.path.with_suffix(f".claimed-{os.getppid()}")
    spill_file.path.rename(claimed)
    assert replay_spill(workspace.ledger, spill) == 0
    assert claimed.exists() and spill_status(spill).stranded == ()


def test_verify_reports_stranded_spill_files_and_replay_spill_appends_them(
    workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from assay.cli.main import run

    _crashed_replay(workspace, workspace.spill_dir, items=5, appended=2)
    assert run(["--workspace", str(workspace.root), "ledger", "verify"]) == 0
    assert "1 left by a process that died mid-replay" in capsys.readouterr().out
    assert run(["--workspace", str(workspace.root), "ledger", "replay-spill"]) == 0
    assert "Replayed 3 spilled item(s)" in capsys.readouterr().out
    assert _numbers(workspace) == list(range(5))


def test_a_line_repeated_in_one_spill_file_is_appended_once(
    workspace: Workspace, tmp_path: Path
) -> None:
    from assay.ledger.batcher import SpillFile

    spill = tmp_path / "spill"
    spill_file = SpillFile(spill)
    spill_file.write([_ev(i) for i in range(3)])
    spill_file.path.write_text(spill_file.path.read_text() * 2)
    assert replay_spill(workspace.ledger, spill) == 3
    assert _numbers(workspace) == [0, 1, 2]


def _checkpoint_sizes(ws: Workspace) -> list[int]:
    from sqlalchemy import select

    from assay.store import LedgerCheckpoint

    with ws.store.session() as session:
        return sorted(session.scalars(select(LedgerCheckpoint.tree_size)))


def test_checkpoints_are_signed_automatically(workspace: Workspace, tmp_path: Path) -> None:
    batcher = Batcher(
        workspace.ledger, spill_dir=tmp_path / "spill", batch_size=50, checkpoint_every=100
    )
    for i in range(250):
        batcher.submit(_ev(i))
        if i % 50 == 49:
            batcher.flush()  # one batch of 50 at a time: checkpoints fall at 100 and 200
    assert _checkpoint_sizes(workspace) == [100, 200]
    batcher.close()  # the tail is signed when the writer closes
    assert _checkpoint_sizes(workspace) == [100, 200, 250]
    assert batcher.checkpoints.signed == 3 and batcher.checkpoints.error is None
    assert workspace.ledger.verify().ok


def test_checkpoints_by_time_and_off(workspace: Workspace, tmp_path: Path) -> None:
    timed = Batcher(workspace.ledger, spill_dir=tmp_path / "a", checkpoint_seconds=0.01)
    timed.submit(_ev(1))
    timed.flush()
    threading.Event().wait(0.1)  # the worker wakes every max_delay and sees the time pass
    assert _checkpoint_sizes(workspace) == [1]
    timed.close()
    off = Batcher(workspace.ledger, spill_dir=tmp_path / "b")  # both triggers 0: never signs
    off.submit(_ev(2))
    off.close()
    assert _checkpoint_sizes(workspace) == [1]


def test_a_refused_checkpoint_is_reported_not_fatal(workspace: Workspace, tmp_path: Path) -> None:
    def refuse() -> str:
        raise RuntimeError("the tree does not extend checkpoint 7")

    workspace.ledger.checkpoint = refuse  # type: ignore[method-assign]
    batcher = Batcher(workspace.ledger, spill_dir=tmp_path / "spill", checkpoint_every=1)
    batcher.submit(_ev(1))
    batcher.close()
    assert workspace.ledger.size() == 1  # the evidence is kept
    assert batcher.checkpoints.error is not None and "does not extend" in batcher.checkpoints.error

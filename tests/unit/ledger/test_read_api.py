"""The ledger's read API: filtered entries in chunks, counts, and verified inclusion."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from assay.errors import Conflict, NotFound, VerificationFailed
from assay.ledger import Evidence, Subject, log
from assay.ledger.evidence import DRIFT_ALERT, GUARD_DECISION, NOTE
from assay.workspace import Workspace

START = datetime(2026, 1, 1, tzinfo=UTC)


def _fill(ws: Workspace) -> None:
    """12 entries: types cycle note, guard, drift; systems bot, other, none; a day apart."""
    types, systems = (NOTE, GUARD_DECISION, DRIFT_ALERT), ("bot", "other", None)
    ws.ledger.append([
        Evidence(types[i % 3], "t", {"i": i},
                 Subject(systems[i % 3]) if systems[i % 3] else None,
                 observed_at=START + timedelta(days=i))
        for i in range(12)
    ])


def _seqs(found: object) -> list[int]:
    return [e.seq for e in found]  # type: ignore[attr-defined]


def test_entries_filter_by_type_system_time_and_position(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log, "_READ_CHUNK", 2)  # every read below spans several chunks
    _check_entries(workspace)


def test_entries_on_postgresql(pg_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(log, "_READ_CHUNK", 2)
    _check_entries(pg_workspace)


def _check_entries(workspace: Workspace) -> None:
    _fill(workspace)
    ledger = workspace.ledger
    assert _seqs(ledger.entries()) == list(range(12))
    assert _seqs(ledger.entries(NOTE)) == [0, 3, 6, 9]
    assert _seqs(ledger.entries([NOTE, DRIFT_ALERT])) == [0, 2, 3, 5, 6, 8, 9, 11]
    assert _seqs(ledger.entries(system="other")) == [1, 4, 7, 10]
    assert _seqs(ledger.entries(system="bot", org_wide=True)) == [0, 2, 3, 5, 6, 8, 9, 11]
    assert _seqs(ledger.entries(since=START + timedelta(days=9))) == [9, 10, 11]
    assert _seqs(ledger.entries(after=8)) == [9, 10, 11]
    assert _seqs(ledger.entries(newest_first=True, limit=5)) == [11, 10, 9, 8, 7]
    assert _seqs(ledger.entries(newest_first=True, offset=3, limit=3)) == [8, 7, 6]
    assert _seqs(ledger.entries(NOTE, newest_first=True, offset=1)) == [6, 3, 0]
    first = next(iter(ledger.entries(GUARD_DECISION)))
    assert (first.type, first.system, first.observed_at) == (
        GUARD_DECISION, "other", "2026-01-02T00:00:00.000000Z"
    )
    assert first.decoded()["summary"] == {"i": 1}
    assert _seqs(ledger.iter_entries(3, 6)) == [3, 4, 5]


def test_counts(workspace: Workspace) -> None:
    _fill(workspace)
    ledger = workspace.ledger
    assert ledger.count() == 12 and ledger.count(NOTE, system="bot") == 4
    assert ledger.count(since=START + timedelta(days=10)) == 2
    assert ledger.count_by_type() == {NOTE: 4, GUARD_DECISION: 4, DRIFT_ALERT: 4}
    assert ledger.count_by_type(START + timedelta(days=11)) == {DRIFT_ALERT: 1}
    assert ledger.latest_by_type()[NOTE] == "2026-01-10T00:00:00.000000Z"


def test_verified_inclusion_checks_checkpoint_proof_and_bytes(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(workspace)
    ledger = workspace.ledger
    with pytest.raises(NotFound):
        ledger.verified_inclusion(0)
    ledger.checkpoint()
    proof = ledger.verified_inclusion(5)
    assert (proof.seq, proof.tree_size) == (5, 12)
    ledger.append([Evidence(NOTE, "t", {"late": True})])
    with pytest.raises(Conflict, match="newer than checkpoint 12"):
        ledger.verified_inclusion(12)
    real_get = ledger.get
    monkeypatch.setattr(ledger, "get", lambda seq: replace(real_get(seq), entry=b"{}"))
    with pytest.raises(VerificationFailed, match="fails its inclusion proof") as failed:
        ledger.verified_inclusion(5)
    assert failed.value.hint == "run `assay ledger verify`"

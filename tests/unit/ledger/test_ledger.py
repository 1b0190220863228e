"""The ledger against a real SQLite store: append, proofs, erasure, tamper detection."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assay.errors import AssayError
from assay.ledger import Evidence, Subject
from assay.ledger.merkle import hash_leaf
from assay.ledger.note import open_note, parse_checkpoint_body
from assay.ledger.verify import verify_checkpoint, verify_entry_inclusion, verify_extension
from assay.workspace import Workspace


def _evidence(i: int, payload: bytes | None = None) -> Evidence:
    return Evidence(
        type="assay.dev/note/v1",
        actor="tester",
        subject=Subject("bot"),
        controls=("iso42001:A.6.2.4",),
        summary={"i": i},
        payload=payload,
    )


def _fill(ws: Workspace, n: int) -> None:
    ws.ledger.append([_evidence(i) for i in range(n)])
    ws.ledger.checkpoint()


def test_append_returns_contiguous_receipts(workspace: Workspace) -> None:
    first = workspace.ledger.append([_evidence(i) for i in range(5)])
    second = workspace.ledger.append([_evidence(i) for i in range(3)])
    assert [r.seq for r in first + second] == list(range(8))
    stored = workspace.ledger.get(6)
    assert hash_leaf(stored.entry) == second[1].leaf_hash == stored.leaf_hash


def test_a_bad_item_appends_nothing(workspace: Workspace) -> None:
    workspace.ledger.append([_evidence(0)])
    bad = Evidence(type="assay.dev/unknown/v9", actor="x")
    with pytest.raises(AssayError, match="unknown evidence type"):
        workspace.ledger.append([_evidence(1), bad])
    with pytest.raises(AssayError, match="JSON"):
        workspace.ledger.append([Evidence("assay.dev/note/v1", "x", summary={"n": float("nan")})])
    with pytest.raises(AssayError, match="malformed"):
        workspace.ledger.append([Evidence("assay.dev/note/v1", "x", controls=("A.6.2.4",))])
    assert workspace.ledger.size() == 1


def test_inclusion_and_consistency_proofs_verify_offline(workspace: Workspace) -> None:
    _fill(workspace, 37)
    old_note = workspace.ledger.latest_checkpoint()
    assert old_note is not None
    workspace.ledger.append([_evidence(i) for i in range(100)])
    note = workspace.ledger.checkpoint()
    key = workspace.ledger.signer.verifier
    checkpoint = verify_checkpoint(note, key)
    assert checkpoint.tree_size == 137
    for seq in (0, 36, 37, 99, 136):
        proof = workspace.ledger.prove(seq)
        entry = workspace.ledger.get(seq).entry
        verify_entry_inclusion(entry, seq, 137, proof.path, checkpoint.root_hash)
    old = verify_checkpoint(old_note, key)
    verify_extension(old, checkpoint, workspace.ledger.consistency(37, 137))


def test_prove_needs_a_checkpoint_covering_the_entry(workspace: Workspace) -> None:
    workspace.ledger.append([_evidence(0)])
    with pytest.raises(AssayError, match="no checkpoint yet"):
        workspace.ledger.prove(0)
    workspace.ledger.checkpoint()
    workspace.ledger.append([_evidence(1)])
    with pytest.raises(AssayError, match="not covered"):
        workspace.ledger.prove(1)


def test_checkpoint_is_reused_when_nothing_changed(workspace: Workspace) -> None:
    _fill(workspace, 3)
    assert workspace.ledger.checkpoint() == workspace.ledger.checkpoint()


def test_erase_removes_content_but_keeps_proofs(workspace: Workspace) -> None:
    (receipt,) = workspace.ledger.append([_evidence(0, payload=b'{"email": "a@b.c"}')])
    assert workspace.ledger.payload(receipt.seq) == b'{"email": "a@b.c"}'
    files_before = {p for p in (workspace.root / "blobs").rglob("*") if p.is_file()}
    erasure = workspace.ledger.erase(receipt.seq, "dpo", "GDPR request 7")
    assert workspace.ledger.payload(receipt.seq) is None
    assert workspace.ledger.get(erasure.seq).decoded()["type"] == "assay.dev/erasure/v1"
    workspace.ledger.checkpoint()
    assert workspace.ledger.verify().ok
    assert len(files_before) == 1
    assert not any(p.exists() for p in files_before)


# -- tamper detection: an attacker with write access to the database -----------------


def _db(ws: Workspace) -> sqlite3.Connection:
    """The database as an attacker with owner rights sees it: triggers dropped."""
    ws.close()
    db = sqlite3.connect(ws.root / "assay.db")
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    return db


def test_the_database_refuses_to_rewrite_evidence(workspace: Workspace) -> None:
    _fill(workspace, 3)
    workspace.close()
    with sqlite3.connect(workspace.root / "assay.db") as db:
        for statement in (
            "UPDATE ledger_entries SET entry = x'00' WHERE seq = 1",
            "DELETE FROM ledger_entries WHERE seq = 1",
            "DELETE FROM ledger_nodes",
            "UPDATE ledger_checkpoints SET note = ''",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                db.execute(statement)


def _problems(ws: Workspace) -> list[str]:
    report = ws.ledger.verify()
    assert not report.ok
    return report.problems


def test_flipped_byte_is_named(workspace: Workspace) -> None:
    _fill(workspace, 20)
    with _db(workspace) as db:
        (entry,) = db.execute("SELECT entry FROM ledger_entries WHERE seq = 7").fetchone()
        db.execute(
            "UPDATE ledger_entries SET entry = ? WHERE seq = 7",
            (entry.replace(b"tester", b"tesTer"),),
        )
    assert any("entry 7 was modified" in p for p in _problems(workspace))


def test_flipped_byte_with_recomputed_leaf_is_named(workspace: Workspace) -> None:
    _fill(workspace, 20)
    with _db(workspace) as db:
        (entry,) = db.execute("SELECT entry FROM ledger_entries WHERE seq = 7").fetchone()
        forged = entry.replace(b"tester", b"tesTer")
        db.execute(
            "UPDATE ledger_entries SET entry = ?, leaf_hash = ? WHERE seq = 7",
            (forged, hash_leaf(forged)),
        )
    problems = _problems(workspace)
    assert any("entry 7 does not match the tree" in p for p in problems)
    assert any("checkpoint at size 20" in p for p in problems)


def test_deleted_row_is_named(workspace: Workspace) -> None:
    _fill(workspace, 20)
    with _db(workspace) as db:
        db.execute("DELETE FROM ledger_entries WHERE seq = 12")
    assert any("entry 12 missing" in p for p in _problems(workspace))


def test_swapped_rows_are_named(workspace: Workspace) -> None:
    _fill(workspace, 20)
    with _db(workspace) as db:
        rows = db.execute(
            "SELECT seq, entry, leaf_hash FROM ledger_entries WHERE seq IN (4, 5)"
        ).fetchall()
        for (seq, _, _), (_, entry, leaf) in zip(rows, reversed(rows), strict=True):
            db.execute(
                "UPDATE ledger_entries SET entry = ?, leaf_hash = ? WHERE seq = ?",
                (entry, leaf, seq),
            )
    problems = _problems(workspace)
    assert any("entry 4 does not match" in p for p in problems)
    assert any("entry 5 does not match" in p for p in problems)


def test_inserted_row_is_named(workspace: Workspace) -> None:
    _fill(workspace, 20)
    with _db(workspace) as db:
        (entry,) = db.execute("SELECT entry FROM ledger_entries WHERE seq = 3").fetchone()
        db.execute(
            "INSERT INTO ledger_entries (seq, leaf_hash, entry, type, system, observed_at, "
            "appended_at) VALUES (20, ?, ?, 'assay.dev/note/v1', 'bot', '2026', "
            "'2026-01-01 00:00:00')",
            (hash_leaf(entry), entry),
        )
    assert any("entry 20 has no tree node" in p for p in _problems(workspace))


def test_replaced_checkpoint_signature_is_named(workspace: Workspace) -> None:
    _fill(workspace, 20)
    note = workspace.ledger.latest_checkpoint()
    assert note is not None
    body, lines = open_note(note)
    forged = body + "\n" + lines[0].raw[:-12] + "AAAAAAAAAAA=\n"
    with _db(workspace) as db:
        db.execute("UPDATE ledger_checkpoints SET note = ? WHERE tree_size = 20", (forged,))
    assert any("signature" in p for p in _problems(workspace))


def test_checkpoint_size_parses(workspace: Workspace) -> None:
    _fill(workspace, 4)
    note = workspace.ledger.latest_checkpoint()
    assert note is not None
    assert parse_checkpoint_body(open_note(note)[0]).tree_size == 4


def test_key_file_readable_by_others_is_refused(workspace: Workspace) -> None:
    key = workspace.root / "keys" / "ledger.key"
    key.chmod(0o644)
    from assay.workspace import open_workspace

    with pytest.raises(AssayError, match="chmod 600"):
        _ = open_workspace(workspace.root).ledger
    assert Path(key).stat().st_mode & 0o777 == 0o644


def test_retention_erases_old_payloads_only_once(workspace: Workspace) -> None:
    from datetime import UTC, datetime, timedelta

    old = datetime.now(UTC) - timedelta(days=100)
    workspace.ledger.append(
        [
            Evidence("assay.dev/note/v1", "t", {"i": 1}, payload=b"{}", observed_at=old),
            Evidence("assay.dev/guard-decision/v1", "t", {"i": 2}, payload=b"{}", observed_at=old),
            Evidence("assay.dev/note/v1", "t", {"i": 3}, payload=b"{}"),
        ]
    )
    cutoff = datetime.now(UTC) - timedelta(days=90)
    erased = workspace.ledger.erase_older_than(
        cutoff, "dpo", "retention", ["assay.dev/guard-decision/v1"]
    )
    assert erased == [1]
    assert workspace.ledger.erase_older_than(cutoff, "dpo", "retention") == [0]
    assert workspace.ledger.erase_older_than(cutoff, "dpo", "retention") == []
    assert workspace.ledger.payload(2) == b"{}"
    workspace.ledger.checkpoint()
    assert workspace.ledger.verify().ok


# -- issue #19 item 14: every tree node is checked, and nothing inconsistent is signed ------


def _corrupt_node(ws: Workspace, level: int, idx: int) -> None:
    with _db(ws) as db:
        db.execute(
            "UPDATE ledger_nodes SET hash = ? WHERE level = ? AND idx = ?",
            (bytes(32), level, idx),
        )


def test_a_corrupted_higher_node_is_named(workspace: Workspace) -> None:
    _fill(workspace, 20)
    _corrupt_node(workspace, 2, 1)
    problems = _problems(workspace)
    assert problems == [
        "tree node (level 2, index 1) over entries 4..7 does not match the entries below it: "
        "proofs and the next checkpoint would use it"
    ]


def test_a_missing_higher_node_is_named(workspace: Workspace) -> None:
    _fill(workspace, 20)
    with _db(workspace) as db:
        db.execute("DELETE FROM ledger_nodes WHERE level = 3 AND idx = 0")
    assert any("(level 3, index 0) over entries 0..7 is missing" in p for p in _problems(workspace))


def test_checkpoint_refuses_a_corrupted_node_after_the_last_checkpoint(
    workspace: Workspace,
) -> None:
    _fill(workspace, 16)
    workspace.ledger.append([_evidence(i) for i in range(14)])
    _corrupt_node(workspace, 3, 2)  # entries 16..23, not yet signed: part of the new root
    with pytest.raises(AssayError, match="refusing to sign a checkpoint: the stored tree nodes"):
        workspace.ledger.checkpoint()


def test_checkpoint_refuses_a_history_rewritten_under_the_last_checkpoint(
    workspace: Workspace,
) -> None:
    _fill(workspace, 20)
    workspace.ledger.append([_evidence(i) for i in range(3)])
    _corrupt_node(workspace, 4, 0)
    with pytest.raises(AssayError, match="does not extend checkpoint 20"):
        workspace.ledger.checkpoint()


def test_checkpoint_refuses_when_signed_entries_were_deleted(workspace: Workspace) -> None:
    _fill(workspace, 20)
    with _db(workspace) as db:
        db.execute("DELETE FROM ledger_entries WHERE seq >= 18")
    with pytest.raises(AssayError, match="last checkpoint signed 20"):
        workspace.ledger.checkpoint()


def test_pack_export_refuses_an_inconsistent_history(workspace: Workspace, tmp_path: Path) -> None:
    from assay.ledger.pack import export_pack

    _fill(workspace, 8)
    workspace.ledger.append([_evidence(i) for i in range(4)])
    _corrupt_node(workspace, 2, 2)
    with pytest.raises(AssayError, match="refusing to sign"):
        export_pack(workspace.ledger, tmp_path / "pack.zip")
    assert not (tmp_path / "pack.zip").exists()


def test_checkpoint_still_signs_a_clean_extension(workspace: Workspace) -> None:
    for n in (1, 2, 3, 8, 13):
        workspace.ledger.append([_evidence(i) for i in range(n)])
        workspace.ledger.checkpoint()
    assert workspace.ledger.verify().ok

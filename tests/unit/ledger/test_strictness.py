"""Signed notes, checkpoints and proofs are read as strictly as their specs (issue #19 item 15)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assay.cli.main import run
from assay.ledger.keys import generate_key_files, load_signer
from assay.ledger.merkle import (
    EMPTY_ROOT,
    ProofError,
    hash_leaf,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)
from assay.ledger.note import (
    COSIGNATURE_TYPE,
    ED25519_TYPE,
    Checkpoint,
    NoteError,
    NoteSigner,
    format_checkpoint_body,
    open_note,
    parse_checkpoint_body,
    sign_note,
    verify_note,
)
from assay.workspace import Workspace

_ROOT = base64.b64encode(bytes(32)).decode()


def _signer() -> NoteSigner:
    return NoteSigner("example.com/log", Ed25519PrivateKey.generate())


def test_a_second_corrupted_signature_by_the_same_key_is_rejected() -> None:
    signer = _signer()
    note = sign_note("hello\n", signer)
    body, (line,) = open_note(note)
    raw = base64.b64decode(line.raw.split(" ")[-1])
    corrupted = raw[:-1] + bytes([raw[-1] ^ 1])
    forged = note + f"\u2014 {signer.name} {base64.b64encode(corrupted).decode()}\n"
    assert verify_note(note, signer.verifier) == body
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(forged, signer.verifier)


def test_signature_lines_are_capped() -> None:
    signer = _signer()
    note = sign_note("hello\n", signer)
    line = note.split("\n\n", 1)[1]
    assert verify_note(note + line * 99, signer.verifier) == "hello\n"
    with pytest.raises(NoteError, match="at most 100"):
        open_note(note + line * 100)


@pytest.mark.parametrize("size", ["\u0667\u0661\u0667", "\u00b2", "07", "", "1 ", "9" * 20])
def test_checkpoint_sizes_are_ascii_decimal(size: str) -> None:
    with pytest.raises(NoteError, match="tree size"):
        parse_checkpoint_body(f"example.com/log\n{size}\n{_ROOT}\n")


def test_empty_extension_lines_are_rejected() -> None:
    assert parse_checkpoint_body(f"o\n5\n{_ROOT}\next\n").tree_size == 5
    with pytest.raises(NoteError, match="empty extension"):
        parse_checkpoint_body(f"o\n5\n{_ROOT}\n\next\n")


def test_consistency_from_the_empty_tree_needs_the_empty_root() -> None:
    root = root_from_leaves([hash_leaf(b"a"), hash_leaf(b"b")])
    verify_consistency(0, 2, EMPTY_ROOT, root, [])
    with pytest.raises(ProofError, match="empty root"):
        verify_consistency(0, 2, bytes(32), root, [])
    with pytest.raises(ProofError, match="negative"):
        verify_consistency(-1, 2, EMPTY_ROOT, root, [])
    with pytest.raises(ProofError, match="32 bytes"):
        verify_consistency(1, 2, b"", root, [root])


def test_inclusion_rejects_an_empty_or_short_hash() -> None:
    leaf = hash_leaf(b"a")
    verify_inclusion(leaf, 0, 1, [], leaf)
    with pytest.raises(ProofError, match="leaf hash must be 32 bytes"):
        verify_inclusion(b"", 0, 1, [], b"")
    with pytest.raises(ProofError, match="proof hash must be 32 bytes"):
        verify_inclusion(leaf, 0, 2, [b"x"], leaf)


def test_consistency_with_sizes_reversed_is_a_usage_error(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--workspace", str(workspace.root), "ledger", "consistency", "10", "5"]) == 2
    err = capsys.readouterr().err
    assert "give the older (smaller) size first" in err and "internal error" not in err


def _note(signer: NoteSigner, size: int, root: bytes) -> str:
    return sign_note(format_checkpoint_body(Checkpoint(signer.name, size, root)), signer)


def test_the_witness_names_a_rollback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log_pub = generate_key_files(tmp_path / "log.key", "example.com/log", ED25519_TYPE)
    log = load_signer(tmp_path / "log.key", "example.com/log", ED25519_TYPE)
    generate_key_files(tmp_path / "w.key", "w.example/1", COSIGNATURE_TYPE)
    leaves = [hash_leaf(bytes([i])) for i in range(5)]
    (tmp_path / "w.state").write_text(_note(log, 5, root_from_leaves(leaves)))
    (tmp_path / "cp.txt").write_text(_note(log, 3, root_from_leaves(leaves[:3])))
    args = ["ledger", "witness", "--key", str(tmp_path / "w.key"), "--name", "w.example/1",
            "--checkpoint", str(tmp_path / "cp.txt"), "--log-key", str(log_pub),
            "--state", str(tmp_path / "w.state")]  # fmt: skip
    assert run(args) == 1
    err = capsys.readouterr().err
    assert "rolled back from size 5 to 3" in err and "grew" not in err

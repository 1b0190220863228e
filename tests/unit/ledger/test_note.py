"""C2SP signed notes, checkpoints, verifier keys and witness cosignatures."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assay.ledger.note import (
    COSIGNATURE_TYPE,
    Checkpoint,
    NoteError,
    NoteSigner,
    cosign_checkpoint,
    format_checkpoint_body,
    open_note,
    parse_checkpoint_body,
    parse_verifier_key,
    sign_note,
    verify_note,
)
from assay.ledger.verify import WitnessPolicy, verify_checkpoint


def _signer(name: str = "example.com/log", sig_type: int = 0x01) -> NoteSigner:
    return NoteSigner(name, Ed25519PrivateKey.generate(), sig_type)


def test_key_id_follows_c2sp() -> None:
    signer = _signer()
    public = signer.verifier.public_key
    expected = hashlib.sha256(b"example.com/log\n\x01" + public).digest()[:4]
    assert signer.verifier.key_id == expected
    text = str(signer.verifier)
    name, hex_id, blob = text.split("+", 2)
    assert (name, hex_id) == ("example.com/log", expected.hex())
    assert base64.b64decode(blob) == b"\x01" + public
    assert parse_verifier_key(text) == signer.verifier


def test_verifier_key_with_wrong_id_is_refused() -> None:
    text = str(_signer().verifier)
    name, _, blob = text.split("+", 2)
    with pytest.raises(NoteError, match="does not match"):
        parse_verifier_key(f"{name}+00000000+{blob}")


def test_checkpoint_note_round_trip_and_tamper() -> None:
    signer = _signer()
    body = format_checkpoint_body(Checkpoint("example.com/log", 42, b"\x07" * 32))
    note = sign_note(body, signer)
    assert note.startswith("example.com/log\n42\n")
    assert "\n\n\u2014 example.com/log " in note
    assert verify_checkpoint(note, signer.verifier) == Checkpoint(
        "example.com/log", 42, b"\x07" * 32
    )
    with pytest.raises(NoteError):
        verify_note(note.replace("\n42\n", "\n43\n"), signer.verifier)
    with pytest.raises(NoteError):
        verify_note(note, _signer().verifier)  # same name, other key


def test_checkpoint_body_rejects_garbage() -> None:
    with pytest.raises(NoteError):
        parse_checkpoint_body("origin\n01\nAAAA\n")
    with pytest.raises(NoteError):
        parse_checkpoint_body("origin\n5\n")


def test_cosignature_quorum() -> None:
    log = _signer()
    w1, w2 = _signer("w.example/1", COSIGNATURE_TYPE), _signer("w.example/2", COSIGNATURE_TYPE)
    note = sign_note(format_checkpoint_body(Checkpoint("example.com/log", 3, b"\x01" * 32)), log)
    cosigned = note + cosign_checkpoint(note, w1, 1_700_000_000) + "\n"
    policy_one = WitnessPolicy((w1.verifier, w2.verifier), 1)
    policy_two = WitnessPolicy((w1.verifier, w2.verifier), 2)
    verify_checkpoint(cosigned, log.verifier, policy_one)
    with pytest.raises(NoteError, match="requires 2"):
        verify_checkpoint(cosigned, log.verifier, policy_two)
    both = cosigned + cosign_checkpoint(note, w2, 1_700_000_001) + "\n"
    verify_checkpoint(both, log.verifier, policy_two)
    _, lines = open_note(both)
    assert len(lines) == 3
    forged = both.replace(lines[1].raw, lines[1].raw[:-8] + "AAAAAAA=")
    with pytest.raises(NoteError):
        verify_checkpoint(forged, log.verifier, policy_one)

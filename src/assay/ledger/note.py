"""C2SP signed notes, tlog-checkpoint bodies and tlog-cosignature/v1 witness lines.

Specs: c2sp.org/signed-note (Ed25519, signature type 0x01, verifier keys
``name+keyid+base64(type||pubkey)``), c2sp.org/tlog-checkpoint (origin, tree
size, base64 root hash), c2sp.org/tlog-cosignature (Ed25519, type 0x04, a
timestamped signature over ``cosignature/v1\\ntime T\\n`` + checkpoint body).
Depends only on ``hashlib`` and ``cryptography`` so auditors can run it alone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "COSIGNATURE_TYPE",
    "ED25519_TYPE",
    "Checkpoint",
    "NoteError",
    "NoteSigner",
    "Verifier",
    "cosign_checkpoint",
    "format_checkpoint_body",
    "key_id",
    "open_note",
    "parse_checkpoint_body",
    "parse_verifier_key",
    "sign_note",
    "verify_cosignature",
    "verify_note",
]

ED25519_TYPE = 0x01
COSIGNATURE_TYPE = 0x04
_DASH = "\u2014 "
#: Signature lines a note may carry (c2sp.org/signed-note: verifiers SHOULD cap them).
MAX_SIGNATURES = 100
#: Digits in a tree size: sizes are below 2**63 (c2sp.org/tlog-checkpoint).
_MAX_SIZE_DIGITS = 19


class NoteError(ValueError):
    """A note, key or signature is malformed or does not verify."""


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """SHA-256(name || 0x0A || type || public key)[:4] (signed-note, tlog-cosignature)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")


@dataclass(frozen=True)
class Verifier:
    """A public key as a C2SP verifier key: what an auditor is given."""

    name: str
    sig_type: int
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.sig_type, self.public_key)

    def __str__(self) -> str:
        blob = base64.b64encode(bytes([self.sig_type]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{blob}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


def parse_verifier_key(text: str) -> Verifier:
    """Parse ``name+keyid+base64``; the key ID must match the key."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("a verifier key looks like name+keyid+base64 (three parts joined by '+')")
    name, hex_id, blob = parts
    _check_name(name)
    try:
        raw = base64.b64decode(blob, validate=True)
        expected_id = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"verifier key for {name} is not valid hex/base64") from exc
    if len(raw) != 33 or raw[0] not in (ED25519_TYPE, COSIGNATURE_TYPE):
        raise NoteError(f"verifier key for {name} is not an Ed25519 key (type 0x01 or 0x04)")
    verifier = Verifier(name, raw[0], raw[1:])
    if verifier.key_id != expected_id:
        raise NoteError(f"verifier key for {name}: key ID {hex_id} does not match the key")
    return verifier


class NoteSigner:
    """An Ed25519 private key with its key name (the log origin or a witness name)."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey, sig_type: int = ED25519_TYPE):
        _check_name(name)
        self.name = name
        self.sig_type = sig_type
        self._key = private_key
        public = private_key.public_key().public_bytes_raw()
        self.verifier = Verifier(name, sig_type, public)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def sign_note(text: str, signer: NoteSigner) -> str:
    """A signed note: the text, a blank line and one signature line."""
    _check_text(text)
    signature = signer.verifier.key_id + signer.sign(text.encode())
    return f"{text}\n{_DASH}{signer.name} {base64.b64encode(signature).decode()}\n"


@dataclass(frozen=True)
class SignatureLine:
    """One parsed ``— name base64`` line of a note."""

    name: str
    key_id: bytes
    payload: bytes
    raw: str


def open_note(note: str) -> tuple[str, list[SignatureLine]]:
    """Split a note into its text and signature lines (nothing is verified here)."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("note contains control characters")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteError("note has no blank line before its signatures")
    text, lines = note[: cut + 1], note[cut + 2 :].splitlines()
    if not lines:
        raise NoteError("note has no signature lines")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signature lines (at most {MAX_SIGNATURES})")
    parsed: list[SignatureLine] = []
    for line in lines:
        if not line.startswith(_DASH):
            raise NoteError(f"malformed signature line {line[:40]!r}")
        name, _, blob = line[len(_DASH) :].partition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except binascii.Error as exc:
            raise NoteError(f"signature by {name} is not base64") from exc
        if len(raw) < 5:
            raise NoteError(f"signature by {name} is too short")
        parsed.append(SignatureLine(name, raw[:4], raw[4:], line))
    return text, parsed


def verify_note(note: str, verifier: Verifier) -> str:
    """The note text if ``verifier`` signed it; :class:`NoteError` otherwise."""
    text, lines = open_note(note)
    mine = [line for line in lines if line.name == verifier.name and line.key_id == verifier.key_id]
    if not mine:
        raise NoteError(f"note is not signed by {verifier.name} (key ID {verifier.key_id.hex()})")
    # c2sp.org/signed-note: a note with a bad signature by a known key SHOULD be rejected,
    # even when another line by the same key verifies (issue #19 item 15).
    for line in mine:
        if not verifier.verify(text.encode(), line.payload):
            raise NoteError(f"signature by {verifier.name} does not verify")
    return text


def _check_text(text: str) -> None:
    if not text.endswith("\n") or any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("note text must end in a newline and hold no control characters")


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint body: the log's origin, its size and its root hash."""

    origin: str
    tree_size: int
    root_hash: bytes


def format_checkpoint_body(checkpoint: Checkpoint) -> str:
    root = base64.b64encode(checkpoint.root_hash).decode()
    return f"{checkpoint.origin}\n{checkpoint.tree_size}\n{root}\n"


def parse_checkpoint_body(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("checkpoint body needs origin, tree size and root hash lines")
    origin, size, root = lines[0], lines[1], lines[2]
    if not origin:
        raise NoteError("checkpoint origin line is empty")
    _check_size(size)
    if any(not extension for extension in lines[3:-1]):
        raise NoteError("checkpoint has an empty extension line")
    try:
        root_hash = base64.b64decode(root, validate=True)
    except binascii.Error as exc:
        raise NoteError("checkpoint root hash is not base64") from exc
    if len(root_hash) != 32:
        raise NoteError("checkpoint root hash is not 32 bytes")
    return Checkpoint(origin, int(size), root_hash)


def _check_size(size: str) -> None:
    """c2sp.org/tlog-checkpoint: the size is ASCII decimal, no leading zero, below 2**63."""
    digits = size.isascii() and size.isdigit() and len(size) <= _MAX_SIZE_DIGITS
    if not digits or (size != "0" and size.startswith("0")) or int(size) >= 2**63:
        raise NoteError(f"checkpoint tree size {size!r} is not an ASCII decimal number")


def _cosigned_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosign_checkpoint(note: str, witness: NoteSigner, timestamp: int) -> str:
    """A tlog-cosignature/v1 signature line by ``witness`` over the note's checkpoint."""
    if witness.sig_type != COSIGNATURE_TYPE:
        raise NoteError("witness keys use signature type 0x04 (tlog-cosignature)")
    body, _ = open_note(note)
    parse_checkpoint_body(body)
    signature = witness.sign(_cosigned_message(body, timestamp))
    payload = witness.verifier.key_id + struct.pack(">Q", timestamp) + signature
    return f"{_DASH}{witness.name} {base64.b64encode(payload).decode()}"


def verify_cosignature(body: str, line: SignatureLine, witness: Verifier) -> int:
    """The cosignature's timestamp if ``witness`` made ``line`` over ``body``."""
    if line.name != witness.name or line.key_id != witness.key_id:
        raise NoteError(f"signature line is not by witness {witness.name}")
    if len(line.payload) != 8 + 64:
        raise NoteError(f"cosignature by {witness.name} has the wrong length")
    (timestamp,) = struct.unpack(">Q", line.payload[:8])
    if timestamp >= 2**63 or not witness.verify(
        _cosigned_message(body, timestamp), line.payload[8:]
    ):
        raise NoteError(f"cosignature by {witness.name} does not verify")
    return int(timestamp)

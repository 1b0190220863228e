"""Signing keys on disk: PKCS#8 PEM, mode 0600, refused if others can read them."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assay.errors import AssayError
from assay.ledger.note import ED25519_TYPE, NoteError, NoteSigner, Verifier, parse_verifier_key

__all__ = ["digest_key", "generate_key_files", "load_signer", "load_verifier"]


def generate_key_files(private_path: Path, name: str, sig_type: int = ED25519_TYPE) -> Verifier:
    """Write a new private key (0600) and its verifier key beside it (``.pub``)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    verifier = NoteSigner(name, key, sig_type).verifier
    private_path.with_suffix(".pub").write_text(f"{verifier}\n", encoding="utf-8")
    return verifier


def load_signer(private_path: Path, name: str, sig_type: int = ED25519_TYPE) -> NoteSigner:
    """Load a private key, refusing one that group or others can read."""
    try:
        mode = private_path.stat().st_mode
    except FileNotFoundError as exc:
        raise AssayError(f"signing key {private_path} not found: restore it from backup") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AssayError(
            f"signing key {private_path} is readable by other users: run chmod 600 {private_path}"
        )
    try:
        key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise AssayError(f"{private_path} is not a PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise AssayError(f"{private_path} is not an Ed25519 key")
    return NoteSigner(name, key, sig_type)


def load_verifier(value: str) -> Verifier:
    """A verifier key from a ``name+keyid+base64`` string or a file holding one."""
    text = value
    if "+" not in value or Path(value).is_file():
        try:
            text = Path(value).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise AssayError(
                f"{value!r} is neither a key string (name+keyid+base64) nor a readable key file"
            ) from exc
    try:
        return parse_verifier_key(text)
    except NoteError as exc:
        raise AssayError(f"bad public key: {exc}") from exc


def digest_key(root: Path) -> bytes:
    """The workspace's digest secret ``keys/digest.key`` (created once, mode 0600).

    It keys the HMAC digests evidence keeps instead of content (guard decisions).
    """
    path = root / "keys" / "digest.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        secret = secrets.token_bytes(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(fd, "wb") as handle:
            handle.write(secret)
        return secret

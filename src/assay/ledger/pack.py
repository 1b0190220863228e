"""Audit pack export: evidence an auditor can verify offline with one public key.

A pack is a zip of ``entries.jsonl`` (one canonical entry per line, byte for
byte), ``proofs.jsonl`` (an RFC 9162 inclusion proof per entry),
``checkpoint.txt`` (the signed C2SP checkpoint, with any witness cosignatures),
optionally ``consistency.json`` (proof from a checkpoint the auditor saw
before), ``payloads/`` with their salts, ``public-key.txt``, any extra report
files, and ``manifest.json`` listing every file's SHA-256, signed by the log key
in ``manifest.sig``. :func:`assay.ledger.verify.verify_pack` checks it.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from assay.errors import AssayError
from assay.ledger.evidence import GUARD_DECISION, format_time
from assay.ledger.log import Ledger
from assay.ledger.merkle import hash_children, inclusion_proof
from assay.ledger.note import NoteError, open_note, parse_checkpoint_body, sign_note
from assay.ledger.verify import MANIFEST_NOTE_HEADER, PACK_FORMAT, verify_checkpoint
from assay.store import PayloadSalt

__all__ = ["export_pack"]

_SKIP_PAYLOAD_TYPES = frozenset({GUARD_DECISION})  # raw user content


def export_pack(
    ledger: Ledger,
    out: Path,
    *,
    since: datetime | None = None,
    system: str | None = None,
    previous_checkpoint: str | None = None,
    extra_files: Mapping[str, bytes] | None = None,
    include_payloads: bool = True,
) -> dict[str, object]:
    """Write the pack to ``out``; returns its manifest."""
    note = ledger.checkpoint()
    size = parse_checkpoint_body(open_note(note)[0]).tree_size
    note = ledger.checkpoint_at(size)
    files: dict[str, bytes] = {"checkpoint.txt": note.encode()}
    entries, proofs, payloads = _select_entries(ledger, size, since, system, include_payloads)
    files["entries.jsonl"] = entries
    files["proofs.jsonl"] = proofs
    files.update(payloads)
    files["public-key.txt"] = f"{ledger.signer.verifier}\n".encode()
    if previous_checkpoint is not None:
        files["consistency.json"] = _consistency(ledger, previous_checkpoint, size)
    for name, content in (extra_files or {}).items():
        if name in files or name.startswith("manifest"):
            raise AssayError(f"extra pack file {name!r} clashes with a built-in file")
        files[f"reports/{name}"] = content
    manifest: dict[str, object] = {
        "format": PACK_FORMAT,
        "origin": ledger.origin,
        "tree_size": size,
        "created_at": datetime.now(UTC).isoformat(),
        "filters": {"since": since.isoformat() if since else None, "system": system},
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode()
    digest = hashlib.sha256(manifest_bytes).hexdigest()
    signature = sign_note(
        f"{MANIFEST_NOTE_HEADER}\n{ledger.origin}\nsha256:{digest}\n", ledger.signer
    )
    try:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in sorted(files.items()):
                archive.writestr(name, data)
            archive.writestr("manifest.json", manifest_bytes)
            archive.writestr("manifest.sig", signature)
    except OSError as exc:
        raise AssayError(f"cannot write the pack to {out}: {exc.strerror}") from exc
    return manifest


def _select_entries(
    ledger: Ledger, size: int, since: datetime | None, system: str | None, include_payloads: bool
) -> tuple[bytes, bytes, dict[str, bytes]]:
    entries: list[bytes] = []
    proofs: list[bytes] = []
    payloads: dict[str, bytes] = {}
    salts: dict[str, str] = {}
    cutoff = format_time(since) if since else None
    tree = _MemoryTree([stored.leaf_hash for stored in ledger.iter_entries(0, size)])
    for stored in ledger.iter_entries(0, size):
        entry = stored.decoded()
        if cutoff and str(entry.get("observed_at", "")) < cutoff:
            continue
        subject = entry.get("subject")
        if system and not (isinstance(subject, dict) and subject.get("system") == system):
            continue
        path = inclusion_proof(tree.node, stored.seq, size)
        entries.append(stored.entry)
        proofs.append(json.dumps({"seq": stored.seq, "path": [h.hex() for h in path]}).encode())
        payload = entry.get("payload")
        if (
            include_payloads
            and isinstance(payload, dict)
            and entry["type"] not in _SKIP_PAYLOAD_TYPES
        ):
            _add_payload(ledger, payload, payloads, salts)
    if salts:
        payloads["payloads/salts.json"] = json.dumps(salts, indent=2, sort_keys=True).encode()
    joined = (b"\n".join(entries) + b"\n") if entries else b""
    return joined, (b"\n".join(proofs) + b"\n") if proofs else b"", payloads


class _MemoryTree:
    """Every complete subtree of a tree held in memory: proofs for a whole pack in O(n)."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.levels = [leaves]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append(
                [hash_children(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            )

    def node(self, level: int, idx: int) -> bytes:
        return self.levels[level][idx]


def _add_payload(
    ledger: Ledger, payload: dict[str, object], files: dict[str, bytes], salts: dict[str, str]
) -> None:
    digest, salt_id = str(payload["digest"]), str(payload["salt_id"])
    content = ledger.blobs.get(digest)
    with ledger.store.session() as session:
        salt = session.scalar(select(PayloadSalt.salt).where(PayloadSalt.salt_id == salt_id))
    if content is None or salt is None:
        return  # erased: the entry still proves it existed
    files[f"payloads/{digest.removeprefix('sha256:')}"] = content
    salts[digest] = salt.hex()


def _consistency(ledger: Ledger, previous: str, size: int) -> bytes:
    try:
        old = verify_checkpoint(previous, ledger.signer.verifier)
    except NoteError as exc:
        raise AssayError(f"the previous checkpoint is not from this log: {exc}") from exc
    if old.tree_size > size:
        raise AssayError("the previous checkpoint is newer than the log: is it from another log?")
    proof = ledger.consistency(old.tree_size, size)
    return json.dumps(
        {"old_checkpoint": previous, "proof": [h.hex() for h in proof]}, indent=2
    ).encode()

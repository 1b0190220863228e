"""Content-addressed payload blobs under a salted digest.

``digest = SHA-256(salt || content)``: the entry commits to the content, yet
once the salt and the blob are erased the digest reveals nothing that could be
confirmed by guessing (names, emails, prompts).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from assay.errors import AssayError

__all__ = ["BlobStore", "salted_digest"]


def salted_digest(salt: bytes, content: bytes) -> str:
    """``sha256:<hex>`` of salt || content."""
    return "sha256:" + hashlib.sha256(salt + content).hexdigest()


class BlobStore:
    """Write-once files ``blobs/ab/<hex>``; writes are atomic and fsynced."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, digest: str) -> Path:
        algorithm, _, hexdigest = digest.partition(":")
        if (
            algorithm != "sha256"
            or len(hexdigest) != 64
            or not all(c in "0123456789abcdef" for c in hexdigest)
        ):
            raise AssayError(f"{digest!r} is not a sha256 digest")
        return self.root / hexdigest[:2] / hexdigest

    def put(self, digest: str, content: bytes) -> None:
        path = self._path(digest)
        if path.exists():
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            raise AssayError(f"cannot write payload blob in {self.root}: {exc}") from exc

    def get(self, digest: str) -> bytes | None:
        """The content, or None when it was erased (or never stored here)."""
        path = self._path(digest)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, digest: str) -> bool:
        path = self._path(digest)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

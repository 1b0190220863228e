"""Approved MCP tool definitions, pinned by hash in the workspace.

A pin says "this exact definition of tool T on server S was approved". The
proxy shows the model a tool only while its current definition hashes to the
pinned digest, so a server that changes a description after approval (a "rug
pull") loses the tool until someone approves the new one. Pins live in
``<workspace>/mcp/pins.json`` (written atomically, re-read when it changes,
so ``assay mcp approve`` takes effect in a running proxy); every approval is
also a ledger entry, which is the record an auditor reads.

The digest is SHA-256 over the RFC 8785 canonical JSON of the whole tool
definition as the server sent it (name, title, description, input and output
schemas, annotations, ``_meta``): anything a client may show a model is covered.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mcp_types as types

from assay.errors import Invalid

try:
    import fcntl
except ImportError:  # Windows: no lock across processes; approve one at a time there
    fcntl = None  # type: ignore[assignment]
from assay.files import atomic_write
from assay.ledger.canonical import canonical_bytes

__all__ = ["PIN_FILE", "Pin", "PinStore", "definition_bytes", "definition_digest"]

PIN_FILE = Path("mcp") / "pins.json"
_SCHEMA = 1
_SERVER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def definition_bytes(tool: types.Tool) -> bytes:
    """The canonical bytes of a tool definition (what the digest and evidence cover)."""
    return canonical_bytes(tool.model_dump(mode="json", by_alias=True, exclude_none=True))


def definition_digest(tool: types.Tool) -> str:
    """SHA-256 (hex) of :func:`definition_bytes`."""
    return hashlib.sha256(definition_bytes(tool)).hexdigest()


def check_server_name(name: str) -> str:
    """Refuse a server name that cannot key pins (it also names evidence)."""
    if not _SERVER_RE.fullmatch(name):
        raise Invalid(f"MCP server name {name!r} is invalid: use 1-64 letters, digits, "
                      "'.', '_' or '-' (give one with --name)")
    return name


@dataclass(frozen=True, slots=True)
class Pin:
    """One approved definition: its digest, who approved it and when.

    ``forced``: approved although the guard blocked it (``approve --force``, a
    person overruling a false positive for this exact definition).
    """

    digest: str
    approved_by: str
    approved_at: str
    forced: bool = False

    def as_json(self) -> dict[str, str | bool]:
        return {"sha256": self.digest, "approved_by": self.approved_by,
                "approved_at": self.approved_at, "forced": self.forced}


class PinStore:
    """The pins of every proxied server in one workspace; safe across threads and processes.

    Reads are cached and refreshed when the file is replaced (its inode, time or
    size changes); a write takes an exclusive lock on ``pins.json.lock``, reads
    the file afresh, and replaces it atomically, so two approvals (an
    ``assay mcp approve`` and a proxy pinning on first use) never lose each
    other's pins.
    """

    def __init__(self, workspace_root: Path) -> None:
        self.path = workspace_root / PIN_FILE
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._pins: dict[str, dict[str, Pin]] = {}

    def get(self, server: str, tool: str) -> Pin | None:
        """The pin of ``tool`` on ``server``, if it was approved."""
        with self._lock:
            return self._load().get(server, {}).get(tool)

    def pins(self, server: str | None = None) -> dict[str, dict[str, Pin]]:
        """Every pin, by server then tool (only ``server``'s when given)."""
        with self._lock:
            current = self._load()
        if server is not None:
            return {server: dict(current.get(server, {}))}
        return {name: dict(tools) for name, tools in current.items()}

    def pin(self, server: str, tool: types.Tool, *, actor: str, forced: bool = False) -> Pin:
        """Pin ``tool``'s current definition for ``server`` (replacing an older pin)."""
        check_server_name(server)
        made = Pin(definition_digest(tool), actor,
                   datetime.now(UTC).isoformat(timespec="seconds"), forced)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, _file_lock(self.path.with_name(self.path.name + ".lock")):
            self._stamp = None  # another process may have written since the last read
            current = {name: dict(tools) for name, tools in self._load().items()}
            current.setdefault(server, {})[tool.name] = made
            self._save(current)
        return made

    def _load(self) -> dict[str, dict[str, Pin]]:
        try:
            status = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._pins = None, {}
            return self._pins
        stamp = (status.st_ino, status.st_mtime_ns, status.st_size)
        if stamp != self._stamp:
            self._pins = _parse(self.path)
            self._stamp = stamp
        return self._pins

    def _save(self, pins: dict[str, dict[str, Pin]]) -> None:
        body: dict[str, Any] = {
            "schema": _SCHEMA,
            "servers": {server: {name: pin.as_json() for name, pin in sorted(tools.items())}
                        for server, tools in sorted(pins.items())},
        }
        atomic_write(self.path, json.dumps(body, indent=2, sort_keys=True) + "\n")
        self._stamp = None  # re-read on next access


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock held while the block runs (POSIX ``flock``)."""
    with path.open("a") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield


def _parse(path: Path) -> dict[str, dict[str, Pin]]:
    """Read the pin file; a damaged one is refused, never read as "nothing approved"."""
    fix = "restore it, or delete it and approve the tools again with `assay mcp approve`"
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        if body.get("schema") != _SCHEMA:
            raise ValueError(f"schema {body.get('schema')!r} is not {_SCHEMA}")
        return {
            str(server): {
                str(name): Pin(str(pin["sha256"]), str(pin["approved_by"]),
                               str(pin["approved_at"]), pin.get("forced") is True)
                for name, pin in tools.items()
            }
            for server, tools in body["servers"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Invalid(f"{path}: not a readable pin file ({exc})", hint=fix) from exc

"""The run store: one folder per run under ``<workspace>/scans/<run-id>/``.

``meta.json`` holds the run's plan (the attacks as they were, the target
config, options) and is written atomically; ``attempts.jsonl`` gets one line
per finished attempt, flushed and fsynced before the attempt counts as done,
so a run killed with SIGKILL resumes without repeating finished attempts. A
torn last line (killed mid-write) is ignored. No database tables are used.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay.errors import AssayError

__all__ = ["RunStore", "list_runs", "new_run_id"]

META = "meta.json"
ATTEMPTS = "attempts.jsonl"


def new_run_id() -> str:
    """A sortable, unique run id: ``rt-YYYYMMDD-HHMMSS-xxxx``."""
    return time.strftime("rt-%Y%m%d-%H%M%S-", time.gmtime()) + secrets.token_hex(2)


@dataclass
class RunStore:
    """Files of one run."""

    path: Path

    @classmethod
    def create(cls, root: Path, meta: dict[str, Any], run_id: str | None = None) -> RunStore:
        run_id = run_id or new_run_id()
        path = root / run_id
        if path.exists():
            raise AssayError(f"run {run_id} already exists under {root}")
        path.mkdir(parents=True)
        store = cls(path)
        store.write_meta({**meta, "run_id": run_id})
        (path / ATTEMPTS).touch()
        return store

    @classmethod
    def open(cls, root: Path, run_id: str) -> RunStore:
        path = root / run_id
        if not (path / META).is_file():
            known = ", ".join(list_runs(root)[-5:]) or "none"
            raise AssayError(f"no scan run {run_id!r} under {root} (recent: {known})")
        return cls(path)

    @property
    def run_id(self) -> str:
        return self.path.name

    def meta(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.path / META).read_text(encoding="utf-8"))
        return data

    def write_meta(self, meta: dict[str, Any]) -> None:
        tmp = self.path / (META + ".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=1, sort_keys=True, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path / META)

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        """Append records and fsync before returning (the durability point of an attempt)."""
        data = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
        if not data:
            return
        with (self.path / ATTEMPTS).open("a", encoding="utf-8") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    def attempts(self) -> list[dict[str, Any]]:
        """Recorded attempts, last record per key wins; a torn final line is skipped."""
        by_key: dict[str, dict[str, Any]] = {}
        try:
            lines = (self.path / ATTEMPTS).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            by_key[record["key"]] = record
        return list(by_key.values())

    def write_file(self, name: str, content: str | bytes) -> Path:
        target = self.path / name
        if isinstance(content, str):
            target.write_text(content, encoding="utf-8")
        else:
            target.write_bytes(content)
        return target


def list_runs(root: Path) -> list[str]:
    """Run ids under ``root``, oldest first."""
    if not root.is_dir():
        return []
    runs: list[tuple[str, str]] = []
    for path in root.iterdir():
        if (path / META).is_file():
            try:
                created = str(json.loads((path / META).read_text(encoding="utf-8"))["created_at"])
            except (ValueError, KeyError, OSError):
                created = ""
            runs.append((created, path.name))
    return [name for _, name in sorted(runs)]

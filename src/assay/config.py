"""Workspace location and settings.

A workspace is a directory (``./.assay`` by default) holding ``assay.toml``,
the SQLite database ``assay.db``, the ledger signing key in ``keys/`` and
payload blobs in ``blobs/``. ``--workspace`` or ``ASSAY_HOME`` pick another
one; ``ASSAY_DATABASE_URL`` moves the store to PostgreSQL.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay.errors import AssayError

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_WORKSPACE",
    "Settings",
    "load_settings",
    "render_settings",
    "resolve_workspace",
]

CONFIG_FILE = "assay.toml"
DEFAULT_WORKSPACE = Path(".assay")

# section -> key -> expected Python type. Anything else in assay.toml is refused.
_SCHEMA: dict[str, dict[str, type]] = {
    "workspace": {"name": str},
    "database": {"url": str},
    "ledger": {
        "origin": str,
        "batch_size": int,
        "queue_size": int,
        "spill_dir": str,
        "checkpoint_every": int,
        "checkpoint_seconds": int,
    },
}


@dataclass(frozen=True)
class Settings:
    """Validated contents of ``assay.toml`` (plus environment overrides)."""

    workspace_name: str
    database_url: str
    ledger_origin: str
    ledger_batch_size: int = 1000
    ledger_queue_size: int = 10_000
    ledger_spill_dir: str = "spill"
    # Automatic checkpoints by high-rate writers (0 turns a trigger off): entries
    # after the newest checkpoint are not yet tamper-evident (docs/ledger.md).
    ledger_checkpoint_every: int = 10_000
    ledger_checkpoint_seconds: int = 300


def resolve_workspace(explicit: Path | None = None) -> Path:
    """The workspace directory: ``--workspace``, else ``ASSAY_HOME``, else ``./.assay``."""
    if explicit is not None:
        return explicit.expanduser().resolve()
    env = os.environ.get("ASSAY_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return DEFAULT_WORKSPACE.resolve()


def render_settings(settings: Settings) -> str:
    """The ``assay.toml`` text for ``settings`` (written once by ``assay init``)."""
    return (
        "# Assay workspace settings. Environment variables override: ASSAY_DATABASE_URL.\n"
        "[workspace]\n"
        f'name = "{settings.workspace_name}"\n\n'
        "[database]\n"
        "# Empty: SQLite in this directory (assay.db). PostgreSQL: postgresql+psycopg://...\n"
        f'url = "{settings.database_url}"\n\n'
        "[ledger]\n"
        "# The checkpoint origin: a name unique to this log. Never change it.\n"
        f'origin = "{settings.ledger_origin}"\n'
        f"batch_size = {settings.ledger_batch_size}\n"
        f"queue_size = {settings.ledger_queue_size}\n"
        "# Sign a checkpoint after this many entries or seconds of new evidence (0: off).\n"
        f"checkpoint_every = {settings.ledger_checkpoint_every}\n"
        f"checkpoint_seconds = {settings.ledger_checkpoint_seconds}\n"
    )


def load_settings(workspace: Path) -> Settings:
    """Read and validate ``assay.toml``; errors name the key and its line."""
    path = workspace / CONFIG_FILE
    if not path.is_file():
        raise AssayError(f"no Assay workspace in {workspace}: run `assay init {workspace}`")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AssayError(f"cannot read {path}: {exc}; check its permissions and encoding") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AssayError(f"{path} is not valid TOML ({exc}): fix that line") from exc
    _check_schema(data, text, path)
    section = {name: data.get(name, {}) for name in _SCHEMA}
    origin = section["ledger"].get("origin", "")
    if not origin or not _ORIGIN_RE.fullmatch(origin):
        line = _line_of(text, "origin")
        raise AssayError(
            f"{path}:{line}: ledger.origin must be a non-empty name without spaces "
            "(e.g. assay.example/ledger-1)"
        )
    url = os.environ.get("ASSAY_DATABASE_URL") or section["database"].get("url", "")
    return Settings(
        workspace_name=section["workspace"].get("name", "default"),
        database_url=url or f"sqlite:///{workspace / 'assay.db'}",
        ledger_origin=origin,
        ledger_batch_size=_positive(section["ledger"], "batch_size", 1000, text, path),
        ledger_queue_size=_positive(section["ledger"], "queue_size", 10_000, text, path),
        ledger_spill_dir=section["ledger"].get("spill_dir", "spill"),
        ledger_checkpoint_every=_positive(
            section["ledger"], "checkpoint_every", 10_000, text, path, minimum=0
        ),
        ledger_checkpoint_seconds=_positive(
            section["ledger"], "checkpoint_seconds", 300, text, path, minimum=0
        ),
    )


_ORIGIN_RE = re.compile(r"[!-~]{1,200}")  # printable ASCII, no spaces (C2SP note origin)


def _check_schema(data: dict[str, Any], text: str, path: Path) -> None:
    for name, value in data.items():
        if name not in _SCHEMA:
            known = ", ".join(sorted(_SCHEMA))
            raise AssayError(
                f"{path}:{_line_of(text, name)}: unknown section [{name}]; known sections: {known}"
            )
        if not isinstance(value, dict):
            raise AssayError(f"{path}:{_line_of(text, name)}: {name} must be a [{name}] table")
        for key, item in value.items():
            expected = _SCHEMA[name].get(key)
            if expected is None:
                known = ", ".join(sorted(_SCHEMA[name]))
                raise AssayError(
                    f"{path}:{_line_of(text, key)}: unknown key {name}.{key}; "
                    f"known keys in [{name}]: {known}"
                )
            if not isinstance(item, expected) or isinstance(item, bool):
                raise AssayError(
                    f"{path}:{_line_of(text, key)}: {name}.{key} must be "
                    f"{'a string' if expected is str else 'an integer'}"
                )


def _positive(
    section: dict[str, Any], key: str, default: int, text: str, path: Path, *, minimum: int = 1
) -> int:
    value = int(section.get(key, default))
    if value < minimum:
        raise AssayError(f"{path}:{_line_of(text, key)}: ledger.{key} must be at least {minimum}")
    return value


def _line_of(text: str, key: str) -> int:
    """1-based line where ``key`` is defined (as a key or a [section]); 1 if not found."""
    pattern = re.compile(rf"^\s*(\[\s*{re.escape(key)}\s*\]|{re.escape(key)}\s*=)")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return 1

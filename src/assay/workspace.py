"""Creating and opening a workspace: the composition root that wires the parts.

``init_workspace`` is atomic: it builds the workspace in a temporary sibling
directory and renames it into place only when everything (settings, keys,
database schema) is ready, so a failed init leaves nothing behind.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from assay.config import CONFIG_FILE, Settings, load_settings, render_settings
from assay.errors import AssayError
from assay.ledger import SIGNING_KEY, open_ledger
from assay.ledger.keys import generate_key_files
from assay.ledger.log import Ledger
from assay.store import Store

__all__ = ["Workspace", "init_workspace", "open_workspace"]



@dataclass
class Workspace:
    """An open workspace: settings, store and ledger."""

    root: Path
    settings: Settings

    @cached_property
    def store(self) -> Store:
        return Store(self.settings.database_url)

    @cached_property
    def ledger(self) -> Ledger:
        return open_ledger(self.store, self.root, self.settings.ledger_origin)

    @property
    def public_key_path(self) -> Path:
        return (self.root / SIGNING_KEY).with_suffix(".pub")

    @property
    def spill_dir(self) -> Path:
        return self.root / self.settings.ledger_spill_dir

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()


def open_workspace(root: Path, *, check_schema: bool = True) -> Workspace:
    """Open an existing workspace; refuses a missing one or a mismatched schema."""
    workspace = Workspace(root, load_settings(root))
    if check_schema:
        workspace.store.check_schema()
    return workspace


def init_workspace(root: Path, *, database_url: str = "", name: str = "default") -> Workspace:
    """Create a workspace at ``root`` (settings, key pair, blobs/, migrated database)."""
    if (root / CONFIG_FILE).exists():
        raise AssayError(f"a workspace already exists in {root}: use it, or pick another directory")
    if root.exists() and any(root.iterdir()):
        raise AssayError(f"{root} exists and is not empty: pick an empty or new directory")
    parent = root.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{root.name}-init-", dir=parent))
    except OSError as exc:
        raise AssayError(f"cannot create a workspace in {parent}: {exc.strerror}") from exc
    try:
        _populate(staging, database_url, name)
        if root.exists():
            root.rmdir()
        os.replace(staging, root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return open_workspace(root)


def _populate(staging: Path, database_url: str, name: str) -> None:
    settings = Settings(
        workspace_name=name,
        database_url=database_url,
        ledger_origin=f"assay.local/{secrets.token_hex(8)}",
    )
    (staging / CONFIG_FILE).write_text(render_settings(settings), encoding="utf-8")
    (staging / "blobs").mkdir()
    (staging / "keys").mkdir(mode=0o700)
    generate_key_files(staging / SIGNING_KEY, settings.ledger_origin)
    effective = os.environ.get("ASSAY_DATABASE_URL") or database_url
    # SQLite lives inside the workspace: create it in staging, then move with it.
    url = effective or f"sqlite:///{staging / 'assay.db'}"
    store = Store(url)
    try:
        store.upgrade()
    finally:
        store.close()

"""Shortcuts for AIMS unit tests: a workspace with one registered system."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.aims import add_system
from assay.workspace import Workspace, init_workspace


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = init_workspace(tmp_path / "ws")
    add_system(
        workspace.store, workspace.ledger, system_id="bot", name="Bot", owner="cx", actor="alice"
    )
    yield workspace
    workspace.close()

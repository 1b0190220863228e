"""The worker entry point: guards are built before the first request, the heap is settled."""

from __future__ import annotations

import asyncio
import gc

import pytest

from assay.aims import add_system
from assay.gateway.keys import create_key
from assay.gateway.server import app_from_env
from assay.workspace import Workspace


def test_app_from_env_warms_every_keys_guard_and_freezes_the_heap(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_system(workspace.store, workspace.ledger, system_id="bot", name="Bot", owner="CX",
               actor="t")
    create_key(workspace.store, workspace.ledger, name="k", system="bot", actor="t",
               policy="default")
    monkeypatch.setenv("ASSAY_HOME", str(workspace.root))
    monkeypatch.setenv("ASSAY_GATEWAY_POLICY", "off")
    try:
        app = app_from_env()
        gateway = app.state.gateway
        try:
            assert set(gateway._guards) == {"off", "default"}
            assert gc.get_freeze_count() > 10_000
        finally:
            asyncio.run(gateway.close())
    finally:
        gc.unfreeze()

"""The worker entry point: guards are built before the first request, the heap is settled."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest

from assay.aims import add_system
from assay.errors import AssayError
from assay.gateway.app import GatewaySettings
from assay.gateway.http_server import HEADER_TIMEOUT_ENV
from assay.gateway.keys import create_key
from assay.gateway.server import app_from_env, settings_to_env
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


def test_cli_timeout_and_body_limit_reach_every_worker(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from assay.cli.gateway import app as gateway_cli

    started: dict[str, object] = {}
    monkeypatch.setenv("ASSAY_HOME", str(workspace.root))
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: started.update(options))
    monkeypatch.delenv(HEADER_TIMEOUT_ENV, raising=False)  # restored after the test
    for name in settings_to_env(workspace.root, GatewaySettings()):  # the CLI sets them all
        if name != "ASSAY_HOME":
            monkeypatch.delenv(name, raising=False)  # restored after the test
    out = CliRunner().invoke(
        gateway_cli, ["--policy", "off", "--upstream-timeout", "2.5", "--body-limit", "4096",
                      "--guard-timeout", "0.5", "--guard-threads", "3"]
    )
    assert out.exit_code == 0, out.output
    assert started["workers"] == 1
    try:
        gateway = app_from_env().state.gateway
        try:
            assert gateway.settings.upstream_timeout == 2.5
            assert gateway.settings.body_limit == 4096
            assert gateway.runner.timeout == 0.5 and gateway.settings.guard_threads == 3
        finally:
            asyncio.run(gateway.close())
    finally:
        gc.unfreeze()
    refused = CliRunner().invoke(gateway_cli, ["--upstream-timeout", "0"])
    assert refused.exit_code == 2 and "upstream-timeout" in refused.output


def test_an_invalid_policy_file_stops_the_start(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue #19 item 19: it used to serve, answering every request 500 gateway_misconfigured."""
    bad = tmp_path / "policy.yaml"
    bad.write_text("version: 1\ninput:\n  - validator: no_such_thing\n    action: block\n")
    monkeypatch.setenv("ASSAY_HOME", str(workspace.root))
    monkeypatch.setenv("ASSAY_GATEWAY_POLICY", str(bad))
    try:
        with pytest.raises(AssayError, match="no_such_thing"):
            app_from_env()
    finally:
        gc.unfreeze()

"""Shared fixtures: a fresh workspace, and a fresh PostgreSQL database when configured."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.workspace import Workspace, init_workspace


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's workspace or database by accident."""
    monkeypatch.delenv("ASSAY_HOME", raising=False)
    monkeypatch.delenv("ASSAY_DATABASE_URL", raising=False)
    monkeypatch.setenv("ASSAY_ACTOR", "tester@pytest")
    from assay.cli._common import options

    monkeypatch.setattr(options, "workspace", None)  # a CLI run in process may have set it
    monkeypatch.setattr(options, "debug", False)


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws = init_workspace(tmp_path / "ws")
    yield ws
    ws.close()


def _admin_url() -> str | None:
    url = os.environ.get("ASSAY_TEST_DATABASE_URL")
    if not url:
        if os.environ.get("ASSAY_REQUIRE_POSTGRES") == "1":
            pytest.fail("ASSAY_REQUIRE_POSTGRES=1 but ASSAY_TEST_DATABASE_URL is not set")
        pytest.skip("set ASSAY_TEST_DATABASE_URL=postgresql+psycopg://... to run PostgreSQL tests")
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = _admin_url()
    assert admin is not None
    name = f"assay_test_{secrets.token_hex(6)}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if os.environ.get("ASSAY_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture
def pg_workspace(tmp_path: Path, pg_url: str) -> Iterator[Workspace]:
    ws = init_workspace(tmp_path / "pgws", database_url=pg_url)
    yield ws
    ws.close()


@pytest.fixture
def workspace_dir(tmp_path: Path) -> Path:
    """A workspace created and closed: for tests that drive the CLI in subprocesses."""
    ws = init_workspace(tmp_path / "ws")
    ws.close()
    return ws.root

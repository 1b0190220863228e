"""The same migrations and ledger on a real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from assay.aims import add_system, list_systems
from assay.errors import AssayError
from assay.ledger import Evidence, Subject
from assay.ledger.pack import export_pack
from assay.ledger.verify import verify_pack
from assay.store import Store
from assay.workspace import Workspace, open_workspace

pytestmark = pytest.mark.postgres


def test_migrations_create_every_table(pg_workspace: Workspace) -> None:
    tables = set(inspect(pg_workspace.store.engine).get_table_names())
    assert {"ai_systems", "ledger_entries", "ledger_nodes", "ledger_checkpoints"} <= tables
    assert "login_attempts" in tables
    assert not (pg_workspace.root / "assay.db").exists()
    pg_workspace.store.upgrade()  # idempotent


def test_ledger_round_trip_and_tamper_on_postgres(pg_workspace: Workspace, tmp_path: Path) -> None:
    ws = pg_workspace
    add_system(ws.store, ws.ledger, system_id="bot", name="Bot", owner="me", actor="t")
    ws.ledger.append(
        [
            Evidence("assay.dev/note/v1", "t", {"i": i}, Subject("bot"), payload=b"{}")
            for i in range(50)
        ]
    )
    ws.ledger.checkpoint()
    assert [s.id for s in list_systems(ws.store)] == ["bot"]
    assert ws.ledger.verify().ok
    pack = tmp_path / "p.zip"
    export_pack(ws.ledger, pack)
    assert verify_pack(str(pack), ws.ledger.signer.verifier).ok
    with pytest.raises(Exception, match="append-only"), ws.store.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_entries WHERE seq = 17"))
    with ws.store.engine.begin() as conn:  # an attacker with owner rights drops the trigger
        conn.execute(text("DROP TRIGGER ledger_entries_append_only ON ledger_entries"))
        conn.execute(text("DELETE FROM ledger_entries WHERE seq = 17"))
    report = ws.ledger.verify()
    assert any("entry 17 missing" in p for p in report.problems)


def test_newer_schema_is_refused_on_postgres(pg_workspace: Workspace) -> None:
    with pg_workspace.store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    root = pg_workspace.root
    pg_workspace.close()
    with pytest.raises(AssayError, match="newer than this Assay"):
        open_workspace(root)


def test_unreachable_database_is_a_clear_error() -> None:
    store = Store("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(AssayError, match="cannot open the database"):
        store.check_schema()


def test_login_throttle_is_shared_on_postgres(pg_workspace: Workspace) -> None:
    """Two throttles (two workers) on one database share the count, even racing."""
    import threading

    from assay.web.security import LoginThrottle

    workers = [LoginThrottle(pg_workspace.store, limit=5) for _ in range(2)]
    barrier = threading.Barrier(20)
    allowed: list[bool] = []

    def attempt(i: int) -> None:
        barrier.wait()
        allowed.append(workers[i % 2].attempt("admin|10.0.0.9"))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 5
    assert workers[0].blocked("admin|10.0.0.9") and workers[1].blocked("admin|10.0.0.9")

"""Migration 0002 and a few register operations on a real PostgreSQL server."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from assay.aims import add_system, risk, soa
from assay.workspace import Workspace

pytestmark = pytest.mark.postgres


def test_aims_registers_on_postgres(pg_workspace: Workspace) -> None:
    ws = pg_workspace
    inspector = inspect(ws.store.engine)
    assert {"aims_records", "aims_record_versions", "aims_settings"} <= set(
        inspector.get_table_names()
    )
    assert "ai_act_class" in {c["name"] for c in inspector.get_columns("ai_systems")}
    add_system(ws.store, ws.ledger, system_id="bot", name="Bot", owner="cx", actor="alice")
    made = risk.adopt_templates(ws.store, ws.ledger, system="bot", actor="alice")
    risk.treat_risk(ws.store, ws.ledger, made[0].id, treatment="mitigate", actor="alice")
    soa.generate(ws.store, ws.ledger, actor="alice")
    approved = soa.approve(ws.store, ws.ledger, actor="bob")
    assert approved.approved and soa.current(ws.store, approved_only=True) == approved
    assert ws.ledger.verify().ok

"""A workspace with one AI system, an approved SoA, and helpers to append dated evidence."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assay.aims import add_system, soa
from assay.ledger import Evidence, Subject
from assay.workspace import Workspace, init_workspace

Append = Callable[..., int]
PASSING_RUN: dict[str, Any] = {
    "status": "complete",
    "attempts": 10,
    "succeeded": 0,
    "families": {"prompt_injection": {"asr": 0.0, "n": 10}},
}
"""A red-team summary that passes and covers an attack family (any other type ignores it)."""


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    """System ``bot`` (deployer); SoA v-approved with A.6.2.4 implemented, A.6.2.6 planned."""
    workspace = init_workspace(tmp_path / "ws")
    store, ledger = workspace.store, workspace.ledger
    add_system(store, ledger, system_id="bot", name="Bot", owner="cx", actor="alice")
    soa.generate(store, ledger, actor="alice")
    soa.edit(
        store,
        ledger,
        "A.6.2.4",
        applicable=True,
        justification="red-teamed before each release",
        implementation_status="implemented",
        actor="alice",
    )
    soa.edit(
        store,
        ledger,
        "A.6.2.6",
        applicable=True,
        justification="runtime guard and drift monitoring",
        implementation_status="planned",
        actor="alice",
    )
    soa.approve(store, ledger, actor="bob")
    yield workspace
    workspace.close()


@pytest.fixture
def append(ws: Workspace) -> Append:
    """Append one entry; ``days_ago`` back-dates ``observed_at``; returns its sequence number."""

    def _append(
        evidence_type: str,
        *,
        system: str | None = "bot",
        days_ago: float = 0,
        controls: tuple[str, ...] = (),
        summary: dict[str, Any] | None = None,
    ) -> int:
        (receipt,) = ws.ledger.append(
            [
                Evidence(
                    type=evidence_type,
                    actor="ci@test",
                    subject=Subject(system) if system else None,
                    controls=controls,
                    observed_at=datetime.now(UTC) - timedelta(days=days_ago),
                    summary=PASSING_RUN if summary is None else summary,
                )
            ]
        )
        return receipt.seq

    return _append

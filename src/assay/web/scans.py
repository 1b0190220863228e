"""Red-team runs for the dashboard: the run list, one run, and demo scans in the background.

Runs are read from the run store (``<workspace>/scans/``) and from the
``assay.dev/redteam-run/v1`` entries of the ledger, joined on the run ID. A
demo scan started from the dashboard runs :func:`assay.redteam.service.run` on a
background thread against the built-in demo chatbot, then writes the JSON and
HTML reports and the run's evidence with the web user as actor, as
``assay scan --target demo`` does.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from assay.errors import AssayError
from assay.ledger.evidence import REDTEAM_RUN
from assay.redteam import (
    DemoTarget,
    RunResult,
    RunStore,
    ScanOptions,
    create_run,
    list_runs,
    load_corpus,
    render,
    service,
)
from assay.redteam import select as select_attacks
from assay.workspace import Workspace

__all__ = ["RUN_ID_PATTERN", "RUN_TYPE", "ScanJobs", "run_detail", "runs"]

RUN_TYPE = REDTEAM_RUN
RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"
MAX_RUNNING = 2
log = logging.getLogger("assay.web")


def _root(ws: Workspace) -> Path:
    return ws.root / "scans"


def _evidence(ws: Workspace) -> dict[str, dict[str, Any]]:
    """Red-team run evidence by run ID (newest entry wins)."""
    out: dict[str, dict[str, Any]] = {}
    for stored in ws.ledger.entries(RUN_TYPE):
        entry = stored.decoded()
        run_id = str((entry.get("summary") or {}).get("run_id") or f"entry-{stored.seq}")
        out[run_id] = {"seq": stored.seq, **entry}
    return out


def _figures(result: RunResult) -> dict[str, Any]:
    """Attack success (over-refusal reported apart, as ``over_refusal``)."""
    overall = result.attack().as_dict()
    figures = {k: overall.get(k) for k in ("succeeded", "resisted", "unassessed", "asr", "ci95")}
    figures["over_refusal"] = result.over_refusal().as_dict()
    return figures


def runs(ws: Workspace, limit: int = 50) -> list[dict[str, Any]]:
    """Runs newest first: stored runs with their figures, and evidence-only runs."""
    evidence = _evidence(ws)
    out: list[dict[str, Any]] = []
    for run_id in reversed(list_runs(_root(ws))[-limit:]):
        store = RunStore(_root(ws) / run_id)
        meta = store.meta()
        recorded = evidence.pop(run_id, None)
        out.append(
            {
                "run_id": run_id,
                "created_at": meta.get("created_at"),
                "status": meta.get("status"),
                "target": meta.get("target_name"),
                "system": (meta.get("subject") or {}).get("system"),
                "planned": meta.get("planned"),
                "attempts": len(store.attempts()),
                "evidence_seq": recorded["seq"] if recorded else None,
                "stored": True,
                **_figures(RunResult.load(store)),
            }
        )
    for run_id, entry in sorted(evidence.items(), key=lambda kv: -kv[1]["seq"])[:limit]:
        summary = entry.get("summary") or {}
        out.append(
            {
                "run_id": run_id,
                "created_at": entry.get("observed_at"),
                "status": summary.get("status"),
                "target": summary.get("target"),
                "system": (entry.get("subject") or {}).get("system"),
                "planned": summary.get("attempts"),
                "attempts": summary.get("attempts"),
                "evidence_seq": entry["seq"],
                "stored": False,
                **{k: summary.get(k) for k in ("succeeded", "resisted", "unassessed", "asr")},
                "ci95": summary.get("ci95"),
            }
        )
    return out


def _store(ws: Workspace, run_id: str) -> RunStore:
    return RunStore.open(_root(ws), run_id)


def run_detail(ws: Workspace, run_id: str) -> dict[str, Any]:
    """One stored run: its meta, figures per family and its evidence entry, if recorded."""
    store = _store(ws, run_id)
    result = RunResult.load(store)
    meta = store.meta()
    recorded = _evidence(ws).get(run_id)
    return {
        "run_id": run_id,
        "status": meta.get("status"),
        "created_at": meta.get("created_at"),
        "finished_at": meta.get("finished_at"),
        "target": meta.get("target_name"),
        "system": (meta.get("subject") or {}).get("system"),
        "planned": meta.get("planned") or len(meta.get("attacks") or []),
        "attempts": len(result.attempts),
        "overall": _figures(result),
        "families": {name: rate.as_dict() for name, rate in result.by_family().items()},
        "evidence_seq": recorded["seq"] if recorded else None,
    }


def report_html(ws: Workspace, run_id: str) -> str:
    """The run's self-contained HTML report (inline CSS, no scripts)."""
    return render(RunResult.load(_store(ws, run_id)), "html")


class ScanJobs:
    """Demo scans running on background threads, at most :data:`MAX_RUNNING` at once."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}
        self.errors: dict[str, str] = {}

    def running(self, run_id: str | None = None) -> bool:
        with self._lock:
            alive = {k: t for k, t in self._threads.items() if t.is_alive()}
            self._threads = alive
            return bool(alive) if run_id is None else run_id in alive

    def start(
        self, *, system: str, families: list[str] | None, limit: int | None, actor: str
    ) -> str:
        """Plan a demo scan against the built-in chatbot and run it in the background."""
        with self._lock:
            if sum(t.is_alive() for t in self._threads.values()) >= MAX_RUNNING:
                raise AssayError(f"{MAX_RUNNING} scans are already running: wait for one to finish")
        target = DemoTarget(None)
        chosen = select_attacks(load_corpus([]), families or None, limit)
        options = ScanOptions(
            families=tuple(sorted({a.family for a in chosen})), per_family_limit=limit
        )
        store = create_run(
            _root(self.ws),
            target,
            chosen,
            options,
            target_spec="demo",
            subject={"system": system, "version": None},
        )
        thread = threading.Thread(
            target=self._run,
            args=(store, target, options, system, actor),
            name=f"assay-scan-{store.run_id}",
            daemon=True,
        )
        with self._lock:
            self._threads[store.run_id] = thread
        thread.start()
        return store.run_id

    def _run(
        self, store: RunStore, target: DemoTarget, options: ScanOptions, system: str, actor: str
    ) -> None:
        try:
            result = service.run(store, target, options=options)
            service.conclude(
                result, store, self.ws.ledger, formats=("json", "html"), actor=actor, system=system
            )
        except Exception as exc:  # shown on the run's page, never lost
            log.exception("scan %s failed", store.run_id)
            self.errors[store.run_id] = f"{type(exc).__name__}: {exc}"

    def join(self, timeout: float = 30.0) -> None:
        """Wait for every running scan (tests, shutdown)."""
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)

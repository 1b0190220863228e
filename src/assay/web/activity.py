"""Read models of runtime evidence: guard decisions, drift status and alerts.

Guard figures come from ``assay.dev/guard-decision/v1`` summaries, read through
:meth:`assay.guard.evidence.DecisionSummary.read` (every schema, the gateway's
and the library's entries alike); drift from the monitors' status files
under ``<workspace>/drift/status/``, the active references, and
``assay.dev/drift-alert/v1`` entries.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from assay.drift import ALERT_TYPE, ReferenceStore
from assay.guard.evidence import DecisionSummary
from assay.ledger.evidence import GUARD_DECISION, format_time
from assay.validators.metrics import percentile
from assay.workspace import Workspace

__all__ = [
    "GUARD_TYPE",
    "LEVELS",
    "MAX_DECISIONS",
    "drift_view",
    "guard_activity",
    "recent_alerts",
]

GUARD_TYPE = GUARD_DECISION
LEVELS = ("ok", "warn", "alert", "critical")
MAX_DECISIONS = 200_000
"""Newest decisions read per request; older ones in the period are reported as skipped."""


def _entries(
    ws: Workspace, entry_type: str, since: str | None, system: str | None, limit: int
) -> list[tuple[int, dict[str, Any]]]:
    found = ws.ledger.entries(
        entry_type, system=system or None, since=since, newest_first=True, limit=limit
    )
    return [(stored.seq, stored.decoded()) for stored in found]


def _latency(values: list[float]) -> dict[str, float | None]:
    return {f"p{q}": percentile(values, q) for q in (50, 90, 99)} | {
        "max": max(values) if values else None
    }


def guard_activity(ws: Workspace, system: str | None, days: int) -> dict[str, Any]:
    """Decisions per day and action, block/redact rates, top validators, latency percentiles."""
    now = datetime.now(UTC)
    start = (now - timedelta(days=days - 1)).date()
    since = format_time(datetime(start.year, start.month, start.day, tzinfo=UTC))
    entries = _entries(ws, GUARD_TYPE, since, system, MAX_DECISIONS)
    actions: Counter[str] = Counter()
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    latency_day: dict[str, list[float]] = defaultdict(list)
    latency: list[float] = []
    validators: Counter[str] = Counter()
    validators_acting: Counter[str] = Counter()
    directions: Counter[str] = Counter()
    controls: Counter[str] = Counter()
    for _, entry in entries:
        decision = DecisionSummary.read(entry.get("summary") or {})
        action = decision.action
        day = str(entry.get("observed_at", ""))[:10]
        actions[action] += 1
        per_day[day][action] += 1
        directions[decision.direction] += 1
        controls.update(str(c) for c in entry.get("controls") or [])
        if decision.guard_ms is not None:
            latency.append(decision.guard_ms)
            latency_day[day].append(decision.guard_ms)
        for name, _, _ in decision.findings:
            validators[name] += 1
            if action in ("block", "redact"):
                validators_acting[name] += 1
    total = sum(actions.values())
    days_list = [(start + timedelta(days=i)).isoformat() for i in range(days)]
    series = []
    for day in days_list:
        counts = per_day.get(day, Counter())
        n = sum(counts.values())
        series.append(
            {
                "day": day,
                "decisions": n,
                "block": counts.get("block", 0),
                "redact": counts.get("redact", 0),
                "block_rate": round(counts.get("block", 0) / n, 4) if n else None,
                "latency": _latency(latency_day.get(day, [])),
            }
        )
    return {
        "system": system,
        "days": days,
        "since": since,
        "decisions": total,
        "truncated": len(entries) == MAX_DECISIONS,
        "by_action": dict(actions.most_common()),
        "by_direction": dict(directions.most_common()),
        "block_rate": round(actions.get("block", 0) / total, 4) if total else None,
        "redact_rate": round(actions.get("redact", 0) / total, 4) if total else None,
        "latency_ms": _latency(latency),
        "controls": dict(controls.most_common()),
        "top_validators": [
            {"validator": name, "findings": n, "in_blocks_or_redactions": validators_acting[name]}
            for name, n in validators.most_common(10)
        ],
        "series": series,
    }


def _worst(levels: dict[str, str]) -> str:
    known = [lv for lv in levels.values() if lv in LEVELS]
    return max(known, key=LEVELS.index) if known else "ok"


def drift_view(ws: Workspace, alerting: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Per system: the active reference and what its live monitor last reported; the
    ``alerting`` systems (those with alerts in the ledger) are listed even without either."""
    root = ws.root / "drift"
    references = ReferenceStore(root)
    status_dir = root / "status"
    names = set(references.systems()) | {name for name in alerting if name}
    if status_dir.is_dir():
        names |= {p.stem for p in status_dir.glob("*.json")}
    out = []
    for name in sorted(names):
        live: dict[str, Any] = {}
        path = status_dir / f"{name}.json"
        if path.is_file():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                live = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                live = {"error": f"unreadable status file {path.name}"}
        version = references.active_version(name)
        levels = {str(k): str(v) for k, v in (live.get("levels") or {}).items()}
        out.append(
            {
                "system": name,
                "reference": live.get("reference") or (f"{name}@v{version}" if version else None),
                "observed": live.get("observed"),
                "evaluations": live.get("evaluations"),
                "alerts": live.get("alerts"),
                "level": _worst(levels),
                "signals": [
                    {
                        "signal": s,
                        "level": lv,
                        "missing": (live.get("missing") or {}).get(s, 0),
                        "bad": (live.get("bad_values") or {}).get(s, 0),
                    }
                    for s, lv in sorted(levels.items())
                ],
                "last_alert": live.get("last_alert"),
                "written_at": live.get("written_at"),
                "error": live.get("error"),
            }
        )
    return out


def recent_alerts(
    ws: Workspace, limit: int = 20, *, system: str | None = None, blocks: bool = True
) -> list[dict[str, Any]]:
    """Drift alerts and (optionally) guard blocks, newest first."""
    found = []
    for seq, entry in _entries(ws, ALERT_TYPE, None, system, limit):
        summary = entry.get("summary") or {}
        fired = [str(s.get("signal")) for s in summary.get("signals") or [] if isinstance(s, dict)]
        found.append(
            {
                "seq": seq,
                "kind": "drift",
                "observed_at": entry.get("observed_at"),
                "system": (entry.get("subject") or {}).get("system"),
                "level": summary.get("level"),
                "detail": ", ".join(fired) or "—",
            }
        )
    if blocks:
        scanned = _entries(ws, GUARD_TYPE, None, system, max(limit * 50, 1000))
        shown = 0
        for seq, entry in scanned:
            decision = DecisionSummary.read(entry.get("summary") or {})
            if decision.action != "block":
                continue
            names = sorted({validator for validator, _, _ in decision.findings})
            found.append(
                {
                    "seq": seq,
                    "kind": "guard block",
                    "observed_at": entry.get("observed_at"),
                    "system": (entry.get("subject") or {}).get("system"),
                    "level": "block",
                    "detail": f"{decision.direction}: {', '.join(names) or 'policy'}",
                }
            )
            shown += 1
            if shown >= limit:
                break
    found.sort(key=lambda a: str(a["observed_at"]), reverse=True)
    return found[:limit]

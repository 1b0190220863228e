"""Drift events rebuilt from the guard decisions already in the ledger (``--from-traffic``).

Each gateway request leaves an input ``assay.dev/guard-decision/v1`` entry and one per
answer (or one for a stream); they share the request's ``request_id`` (older entries
have none: an output then joins the latest input of the same gateway key). One event
per request carries what the evidence holds: ``score.<validator>`` (the highest
score of its findings), ``blocked``, ``redacted`` and ``guard_ms``. The evidence names
only the validators that found something, so every validator seen in the selected
traffic counts 0.0 in a request where it found nothing — the live monitor's convention
(:func:`assay.guard.verdict.drift_signals`). Lengths are not in the evidence, so a
reference built this way does not monitor ``input_len`` and ``output_len``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from assay.drift.events import BadEvent, event_time
from assay.ledger.evidence import parse_entry
from assay.store import Store
from assay.store.models import LedgerEntry

__all__ = ["GUARD_DECISION", "traffic_events"]

GUARD_DECISION = "assay.dev/guard-decision/v1"


def traffic_events(store: Store, system: str, *, last: int | None = None
                   ) -> list[dict[str, Any]]:
    """The drift events of ``system``'s recorded requests, oldest first; the newest
    ``last`` of them when given."""
    page = 3 * last + 16 if last else None
    while True:
        entries = _entries(store, system, page)
        events = events_from_decisions(entries)
        if last is None or page is None or len(events) > last or len(entries) < page:
            return events[-last:] if last else events
        page *= 2


def _entries(store: Store, system: str, limit: int | None) -> list[dict[str, Any]]:
    query = (select(LedgerEntry.entry)
             .where(LedgerEntry.type == GUARD_DECISION, LedgerEntry.system == system)
             .order_by(LedgerEntry.seq.desc()))
    if limit is not None:
        query = query.limit(limit)
    with store.session() as session:
        rows = list(session.scalars(query))
    return [parse_entry(row) for row in reversed(rows)]


def events_from_decisions(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One event per request from its guard-decision entries (in ledger order)."""
    requests: dict[str, dict[str, Any]] = {}
    open_input: dict[str, str] = {}  # gateway key → the request its last input opened
    for n, entry in enumerate(entries):
        summary = entry.get("summary") or {}
        try:
            ts = event_time(entry.get("observed_at"))
        except BadEvent:
            continue
        key = str(summary.get("gateway_key", ""))
        rid = summary.get("request_id")
        if not rid:
            if summary.get("direction") == "input" or key not in open_input:
                open_input[key] = f"#{n}"
            rid = open_input[key]
        request = requests.setdefault(str(rid), {
            "ts": ts, "system": (entry.get("subject") or {}).get("system"),
            "scores": {}, "blocked": 0.0, "redacted": 0.0, "guard_ms": 0.0})
        request["ts"] = min(request["ts"], ts)
        action = summary.get("decision", summary.get("action"))
        request["blocked"] = max(request["blocked"], 1.0 if action == "block" else 0.0)
        request["redacted"] = max(request["redacted"], 1.0 if action == "redact" else 0.0)
        request["guard_ms"] += float(summary.get("guard_ms") or 0.0)
        for finding in summary.get("findings") or ():
            name = f"score.{finding.get('validator')}"
            request["scores"][name] = max(request["scores"].get(name, 0.0),
                                          float(finding.get("score") or 0.0))
    seen = {name for r in requests.values() for name in r["scores"]}
    events = []
    for r in sorted(requests.values(), key=lambda r: r["ts"]):
        signals = dict.fromkeys(seen, 0.0) | r["scores"]
        signals.update(blocked=r["blocked"], redacted=r["redacted"], guard_ms=r["guard_ms"])
        events.append({"ts": r["ts"], "system": r["system"], "signals": signals})
    return events

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

from assay.drift.events import BadEvent, event_time
from assay.guard.evidence import DecisionSummary
from assay.ledger import Ledger
from assay.ledger.evidence import GUARD_DECISION

__all__ = ["GUARD_DECISION", "traffic_events"]


def traffic_events(ledger: Ledger, system: str, *, last: int | None = None
                   ) -> list[dict[str, Any]]:
    """The drift events of ``system``'s recorded requests, oldest first; the newest
    ``last`` of them when given."""
    page = 3 * last + 16 if last else None
    while True:
        entries = _entries(ledger, system, page)
        events = events_from_decisions(entries)
        if last is None or page is None or len(events) > last or len(entries) < page:
            return events[-last:] if last else events
        page *= 2


def _entries(ledger: Ledger, system: str, limit: int | None) -> list[dict[str, Any]]:
    found = ledger.entries(GUARD_DECISION, system=system, newest_first=True, limit=limit)
    return [stored.decoded() for stored in reversed(list(found))]


def events_from_decisions(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One event per request from its guard-decision entries (in ledger order)."""
    requests: dict[str, dict[str, Any]] = {}
    open_input: dict[str, str] = {}  # gateway key → the request its last input opened
    for n, entry in enumerate(entries):
        summary = DecisionSummary.read(entry.get("summary") or {})
        try:
            ts = event_time(entry.get("observed_at"))
        except BadEvent:
            continue
        key = summary.gateway_key or ""
        rid = summary.request_id
        if not rid:
            if summary.direction == "input" or key not in open_input:
                open_input[key] = f"#{n}"
            rid = open_input[key]
        request = requests.setdefault(str(rid), {
            "ts": ts, "system": (entry.get("subject") or {}).get("system"),
            "scores": {}, "blocked": 0.0, "redacted": 0.0, "guard_ms": 0.0})
        request["ts"] = min(request["ts"], ts)
        action = summary.action
        request["blocked"] = max(request["blocked"], 1.0 if action == "block" else 0.0)
        request["redacted"] = max(request["redacted"], 1.0 if action == "redact" else 0.0)
        request["guard_ms"] += summary.guard_ms or 0.0
        for validator, score, _ in summary.findings:
            name = f"score.{validator}"
            request["scores"][name] = max(request["scores"].get(name, 0.0), score)
    seen = {name for r in requests.values() for name in r["scores"]}
    events = []
    for r in sorted(requests.values(), key=lambda r: r["ts"]):
        signals = dict.fromkeys(seen, 0.0) | r["scores"]
        signals.update(blocked=r["blocked"], redacted=r["redacted"], guard_ms=r["guard_ms"])
        events.append({"ts": r["ts"], "system": r["system"], "signals": signals})
    return events

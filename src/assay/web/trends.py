"""Histories for the dashboard's charts, read from the ledger and the registers.

Each function returns the figures (for the table a page shows beside a chart) and
the chart itself, drawn by :mod:`assay.web.svg`; templates only place them.

* Drift: the monitor records an ``assay.dev/drift-alert/v1`` entry when a signal's
  level rises, with each statistic's value and its warn/alert/critical thresholds
  scaled to the window. Those entries are the statistic's recorded history; quiet
  evaluations are not kept anywhere, so the chart shows the statistic at each alert.
* Red team: each ``assay.dev/redteam-run/v1`` summary carries the attack success rate
  and its Wilson 95 % interval per family. A run is marked a regression for a family
  when its rate lies above the previous run's interval.
* Objectives: the measurements stored in the register, against the target.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from markupsafe import Markup

from assay.aims import objectives
from assay.drift import ALERT_TYPE
from assay.ledger.evidence import REDTEAM_RUN
from assay.store import Store
from assay.web.svg import Line, Marker, Threshold, sparkline, time_chart
from assay.workspace import Workspace

__all__ = ["asr_history", "drift_history", "latency_chart", "objective_history"]

#: Entries read per history (the newest ones).
MAX_POINTS = 500
#: The statistic charted per signal kind: the one the level is decided on first.
_PRIMARY = ("psi", "chi2", "cosine", "js", "mmd", "ks", "wasserstein")
_GLYPHS = {"warn": "W", "alert": "A", "critical": "C"}


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _newest(ws: Workspace, entry_type: str, system: str | None = None) -> list[tuple[int, Any]]:
    """The newest :data:`MAX_POINTS` entries of a type, oldest first."""
    found = ws.ledger.entries(entry_type, system=system, newest_first=True, limit=MAX_POINTS)
    return [(stored.seq, stored.decoded()) for stored in reversed(list(found))]


def _primary(statistics: dict[str, Any]) -> str | None:
    return next((name for name in _PRIMARY if isinstance(statistics.get(name), dict)), None)


def _drift_points(ws: Workspace, system: str) -> dict[str, list[dict[str, Any]]]:
    """Per signal: the statistic at each alert that named it, with its thresholds."""
    points: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for seq, entry in _newest(ws, ALERT_TYPE, system):
        at = _time(entry.get("observed_at"))
        for signal in (entry.get("summary") or {}).get("signals") or []:
            statistics = signal.get("statistics") if isinstance(signal, dict) else None
            name = _primary(statistics) if isinstance(statistics, dict) else None
            if at is None or name is None or not isinstance(statistics, dict):
                continue
            figures = statistics[name]
            points[str(signal.get("signal"))].append(
                {
                    "seq": seq,
                    "at": at,
                    "statistic": name,
                    "value": float(figures.get("value", 0.0)),
                    "level": str(signal.get("level")),
                    **{k: figures.get(k) for k in ("warn", "alert", "critical")},
                }
            )
    return points


def drift_history(ws: Workspace, system: str) -> list[dict[str, Any]]:
    """Per signal of ``system`` that ever alerted: its alerts and a chart of the
    statistic against the thresholds in force at the latest one."""
    out = []
    for signal, points in sorted(_drift_points(ws, system).items()):
        statistic = points[-1]["statistic"]
        same = [p for p in points if p["statistic"] == statistic]
        latest = same[-1]
        thresholds = [
            Threshold(level, float(latest[level]), f"threshold th-{level}")
            for level in ("warn", "alert", "critical")
            if isinstance(latest.get(level), int | float)
        ]
        markers = [
            Marker(
                p["at"],
                p["value"],
                f"{p['level']} at {p['at']:%Y-%m-%d %H:%M:%S} UTC: {statistic} {p['value']:g} "
                f"(entry {p['seq']})",
                _GLYPHS.get(p["level"], "!"),
                f"marker level-{p['level']}",
            )
            for p in same
        ]
        label = (
            f"{signal}: {statistic} at {len(same)} alerts, latest {latest['value']:g} "
            f"({latest['level']}); thresholds "
            + ", ".join(f"{t.name} {t.value:.3g}" for t in thresholds)
        )
        chart = time_chart(
            [Line(statistic, [(p["at"], p["value"]) for p in same])],
            label=label,
            thresholds=thresholds,
            markers=markers,
        )
        out.append({"signal": signal, "statistic": statistic, "points": same, "chart": chart})
    return out


def asr_history(ws: Workspace) -> list[dict[str, Any]]:
    """Per attack family: its attack success rate in each recorded run (oldest first),
    regressions marked, and a chart of it."""
    runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for seq, entry in _newest(ws, REDTEAM_RUN):
        summary = entry.get("summary") or {}
        at = _time(entry.get("observed_at"))
        for family, figures in (summary.get("families") or {}).items():
            if at is None or not isinstance(figures, dict) or figures.get("asr") is None:
                continue
            low, high = (figures.get("ci95") or [None, None])[:2]
            runs[family].append(
                {
                    "seq": seq,
                    "at": at,
                    "run_id": summary.get("run_id"),
                    "system": (entry.get("subject") or {}).get("system"),
                    "asr": 100 * float(figures["asr"]),
                    "ci95": None if low is None else (100 * float(low), 100 * float(high)),
                    "n": figures.get("n"),
                }
            )
    out = []
    for family, points in sorted(runs.items()):
        points.sort(key=lambda p: (p["at"], p["seq"]))  # imported runs may arrive late
        for previous, point in zip([None, *points], points, strict=False):
            ci95 = previous["ci95"] if previous else None
            point["regression"] = bool(ci95 and point["asr"] > ci95[1])
            point["change"] = None if previous is None else point["asr"] - previous["asr"]
        chart = _asr_chart(family, points) if len(points) > 1 else Markup("")
        line = sparkline([p["asr"] for p in points])
        out.append({"family": family, "runs": points, "chart": chart, "sparkline": line})
    return out


def _asr_chart(family: str, points: list[dict[str, Any]]) -> Markup:
    markers = [
        Marker(
            p["at"],
            p["asr"],
            f"regression in run {p['run_id']}: {p['asr']:.1f}% (above the previous run's "
            "95% interval)",
            "R",
            "marker regression",
        )
        for p in points
        if p["regression"]
    ]
    figures = ", ".join(f"{p['asr']:.1f}%" for p in points[-12:])
    return time_chart(
        [Line("ASR", [(p["at"], p["asr"]) for p in points])],
        label=f"{family}: attack success rate per run, {figures}; {len(markers)} regressions",
        markers=markers,
        unit="%",
        y_range=(0.0, 100.0),
        width=480,
        height=200,
    )


def objective_history(store: Store, objective_id: str) -> dict[str, Any]:
    """One objective with its measurements and a chart of them against the target."""
    record = objectives.get_objective(store, objective_id)
    o = record.data
    status, trend = objectives.evaluate(o)
    points = [(m.at, m.value) for m in o.measurements]
    target = f"target {o.target_op} {o.target:g}{o.unit}"
    chart = time_chart(
        [Line(o.title, points)],
        label=f"{o.title}: {len(points)} measurements, latest "
        + (f"{points[-1][1]:g}{o.unit}" if points else "none")
        + f"; {target}",
        thresholds=[Threshold(f"target {o.target_op}", o.target, "threshold th-target")],
        unit=o.unit,
    )
    return {"record": record, "status": status, "trend": trend, "target": target, "chart": chart}


def latency_chart(series: list[dict[str, Any]]) -> Markup:
    """Guard latency p50, p90 and p99 per day (``guard_activity``'s series)."""
    lines = []
    for quantile, css in (("p50", "series"), ("p90", "series-2"), ("p99", "series-3")):
        points = [
            (datetime.fromisoformat(f"{d['day']}T12:00:00+00:00"), d["latency"][quantile])
            for d in series
            if d["latency"][quantile] is not None
        ]
        lines.append(Line(quantile, points, css))
    latest = next((d for d in reversed(series) if d["latency"]["p99"] is not None), None)
    summary = "" if latest is None else f"; latest day p99 {latest['latency']['p99']:.2f} ms"
    return time_chart(lines, label=f"Guard latency per day, p50/p90/p99{summary}", unit=" ms")

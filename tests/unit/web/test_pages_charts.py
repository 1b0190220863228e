"""Charts: drift statistics against thresholds, ASR per family, objectives, guard latency."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from assay.drift import ALERT_TYPE
from assay.ledger import Evidence, Subject
from assay.ledger.evidence import REDTEAM_RUN
from assay.web import trends
from assay.web.svg import Line, Marker, Threshold, time_chart
from assay.workspace import Workspace

from .seed import seed_activity, seed_aims, seed_runs

Clients = dict[str, tuple[TestClient, str]]
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _alert(hours: int, level: str, psi: float) -> Evidence:
    statistics = {
        "psi": {"value": psi, "level": level, "warn": 0.1, "alert": 0.2, "critical": 0.4},
        "js": {"value": psi / 3, "level": "ok", "warn": 0.2, "alert": 0.3, "critical": 0.5},
    }
    return Evidence(
        ALERT_TYPE,
        "drift-monitor",
        {
            "level": level,
            "reference": "bot@v1",
            "window": {"events": 2000},
            "signals": [
                {"signal": "score.pii", "kind": "numeric", "level": level, "statistics": statistics}
            ],
        },
        Subject("bot"),
        observed_at=NOW + timedelta(hours=hours),
    )


def _run(days: int, run_id: str, asr: float, ci95: tuple[float, float]) -> Evidence:
    return Evidence(
        REDTEAM_RUN,
        "engineer@web",
        {"run_id": run_id, "families": {"jailbreak": {"asr": asr, "ci95": list(ci95), "n": 40}}},
        Subject("bot"),
        observed_at=NOW + timedelta(days=days),
    )


def test_time_chart_draws_thresholds_markers_and_escapes() -> None:
    chart = str(
        time_chart(
            [Line("psi <x>", [(NOW, 0.05), (NOW + timedelta(hours=1), 0.3)])],
            label="a & b",
            thresholds=[Threshold("warn", 0.1, "threshold th-warn")],
            markers=[Marker(NOW + timedelta(hours=1), 0.3, "alert <now>", "A", "marker")],
        )
    )
    assert 'aria-label="a &amp; b"' in chart and "psi &lt;x&gt;" in chart
    assert "alert &lt;now&gt;" in chart and ">A</text>" in chart
    assert 'class="threshold th-warn"' in chart and ">warn 0.1</text>" in chart
    assert time_chart([Line("empty", [])], label="none") == ""


def test_drift_history_charts_the_statistic_at_each_alert(workspace: Workspace) -> None:
    workspace.ledger.append([_alert(0, "warn", 0.15), _alert(2, "critical", 0.5)])
    (history,) = trends.drift_history(workspace, "bot")
    assert history["signal"] == "score.pii" and history["statistic"] == "psi"
    assert [p["level"] for p in history["points"]] == ["warn", "critical"]
    chart = str(history["chart"])
    assert chart.count('class="marker level-') == 2 and ">C</text>" in chart
    assert all(f"threshold th-{lv}" in chart for lv in ("warn", "alert", "critical"))


def test_asr_history_marks_a_rate_above_the_previous_interval(workspace: Workspace) -> None:
    workspace.ledger.append(
        [
            _run(2, "rt-3", 0.40, (0.26, 0.55)),  # above rt-2's interval: a regression
            _run(0, "rt-1", 0.10, (0.04, 0.23)),  # imported later, observed earlier
            _run(1, "rt-2", 0.20, (0.10, 0.35)),  # within rt-1's interval
        ]
    )
    (family,) = trends.asr_history(workspace)
    assert [r["run_id"] for r in family["runs"]] == ["rt-1", "rt-2", "rt-3"]
    assert [r["regression"] for r in family["runs"]] == [False, False, True]
    assert str(family["chart"]).count('class="marker regression"') == 1


def test_pages_show_the_charts(workspace: Workspace, clients: Clients) -> None:
    seed_aims(workspace)
    seed_activity(workspace)
    seed_runs(workspace)
    workspace.ledger.append([_alert(0, "alert", 0.25)])
    viewer, _ = clients["viewer"]
    drift = viewer.get("/drift").text
    assert "Statistics at each alert" in drift and 'class="chart timechart"' in drift
    redteam = viewer.get("/redteam").text
    assert 'id="asr-families"' in redteam and 'id="asr-charts"' in redteam
    assert "regression in rt-seed-2" in redteam
    objectives = viewer.get("/objectives").text
    assert '<a href="/objectives/OBJ-001">' in objectives
    objective = viewer.get("/objectives/OBJ-001")
    assert objective.status_code == 200
    assert "th-target" in objective.text and "off-track" not in objective.text
    assert re.search(r'<time class="when" datetime="[^"]+"', objective.text)
    assert viewer.get("/objectives/OBJ-999").status_code == 404
    guard = viewer.get("/guard").text
    assert "Guard latency per day" in guard and 'class="series-3"' in guard


def test_guard_page_names_the_controls_of_decisions_that_cite_none(
    workspace: Workspace, clients: Clients
) -> None:
    seed_activity(workspace)  # guard decisions in the gateway's early shape, no controls
    viewer, _ = clients["viewer"]
    page = viewer.get("/guard").text
    assert 'id="controls-by-type"' in page
    assert '<a href="/requirements/eu-ai-act:Art.12(2)">eu-ai-act:Art.12(2)</a> — ' in page
    evidence = viewer.get("/evidence", params={"type": "assay.dev/guard-decision/v1"}).text
    assert 'class="by-type"' in evidence and ">by type:</span>" in evidence

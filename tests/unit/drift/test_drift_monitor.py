"""The monitor on synthetic streams: false alarms, detection delays, replay == live, bad input."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from assay.drift import LEVELS, DriftAlert, DriftMonitor, Reference, replay
from assay.drift.synthetic import Shift, detection_delay, stream

ALARM = LEVELS.index("alert")


def _alarms(alerts: list[DriftAlert]) -> list[DriftAlert]:
    return [a for a in alerts if LEVELS.index(a.level) >= ALARM]


def test_stationary_stream_false_alarms(reference: Reference) -> None:
    result = replay(stream(100_000, seed=2), [reference])
    status = result.status["systems"]["support-bot"]
    alarms, warns = _alarms(result.alerts), len(result.alerts) - len(_alarms(result.alerts))
    print(
        f"\nstationary 100,000 events: {len(alarms)} alert/critical, {warns} warn, "
        f"{status['evaluations']} evaluations"
    )
    assert status["observed"] == 100_000
    assert len(alarms) <= 1


@pytest.mark.parametrize(
    ("name", "shift", "signal"),
    [
        ("injection rate 1% -> 10%", Shift(at=10_000, injection_rate=0.10), "blocked"),
        ("latency +30%", Shift(at=10_000, latency_factor=1.3), "guard_ms"),
        ("new topic 20% of traffic", Shift(at=10_000, new_topic_share=0.2), "embedding"),
    ],
)
def test_detects_change_with_bounded_delay(
    reference: Reference, name: str, shift: Shift, signal: str
) -> None:
    events = list(stream(16_000, seed=3, shift=shift))
    result = replay(events, [reference])
    before = [a for a in _alarms(result.alerts) if a.ts < events[shift.at]["ts"]]
    delay = detection_delay(events, result.alerts, shift.at)
    print(f"\n{name}: detected after {delay} events")
    assert not before
    assert delay is not None and delay <= 1_000
    first = _alarms(result.alerts)[0]
    assert signal in {s["signal"] for s in first.signals}
    fired = next(s for s in first.signals if s["signal"] == signal)
    assert fired["statistics"]  # cheap statistics, plus reservoir ones once fired
    assert any(k in fired["statistics"] for k in ("ks", "mmd"))


def test_replay_equals_live(reference: Reference) -> None:
    events = list(stream(12_000, seed=5, shift=Shift(at=6_000, injection_rate=0.08)))
    live = DriftMonitor([reference], background=True)
    for event in events:
        live.observe(event)
    live.close()
    offline = replay(events, [reference])
    assert offline.alerts
    assert [a.as_json() for a in live.alerts] == [a.as_json() for a in offline.alerts]


def test_cool_down_uses_event_time(reference: Reference) -> None:
    events = list(stream(20_000, seed=6, shift=Shift(at=4_000, latency_factor=1.5)))
    result = replay(events, [reference])
    guard = [a for a in result.alerts if any(s["signal"] == "guard_ms" for s in a.signals)]
    levels = [next(s["level"] for s in a.signals if s["signal"] == "guard_ms") for a in guard]
    # Persistent drift: escalations only, then silence until the cool-down (900 s) passes.
    span = events[-1]["ts"] - events[4_000]["ts"]
    assert span < 900
    assert levels == sorted(levels, key=LEVELS.index)
    assert len(levels) == len(set(levels))


def _bad_events() -> Iterator[Any]:
    good = next(stream(1, seed=9))
    yield "not a mapping"
    yield {"ts": good["ts"], "signals": {}}  # no system
    yield {"system": "support-bot", "signals": {}}  # no ts
    yield {"system": "support-bot", "ts": "yesterday", "signals": {}}
    yield {"system": "support-bot", "ts": good["ts"], "signals": [1, 2]}
    yield {"system": "support-bot", "ts": math.nan, "signals": {}}
    yield {"system": "other-bot", "ts": good["ts"], "signals": {}}
    yield {
        "system": "support-bot",
        "ts": good["ts"],
        "signals": {
            "guard_ms": math.nan,
            "input_len": "12",
            "blocked": math.inf,
            "output_len": 10**400,
        },
        "categories": {"language": 3},
        "embedding": [math.nan] * 32,
    }
    yield {**good, "embedding": [0.0] * 5}


def test_bad_input_is_counted_never_raised(reference: Reference) -> None:
    monitor = DriftMonitor([reference], background=False)
    for event in _bad_events():
        monitor.observe(event)
    monitor.flush()
    status = monitor.status()
    assert status["bad_events"] == {
        "not an object": 1,
        "missing system": 1,
        "missing ts": 1,
        "bad ts": 2,
        "signals not an object": 1,
    }
    assert status["unmonitored"] == {"other-bot": 1}
    assert status["errors"] == {}
    system = status["systems"]["support-bot"]
    assert system["observed"] == 2
    assert system["bad_values"]["guard_ms"] == 1
    assert system["bad_values"]["input_len"] == 1
    assert system["bad_values"]["blocked"] == 1
    assert system["bad_values"]["output_len"] == 1
    assert system["bad_values"]["embedding"] == 2
    assert system["missing"]["category:language"] == 1


def test_time_trigger_closes_blocks_on_event_time(reference: Reference) -> None:
    events = list(stream(3_000, seed=8, rate=0.5))  # 3,000 events over ~100 minutes
    monitor = DriftMonitor([reference], background=False)
    for event in events:
        monitor.observe(event)
    monitor.flush()
    last = monitor.status("support-bot")["systems"]["support-bot"]["last_evaluation"]
    assert last["blocks"] > 3_000 // reference.window.block_events


def test_status_file_is_written(reference: Reference, tmp_path: Any) -> None:
    monitor = DriftMonitor(
        [reference], background=True, state_dir=tmp_path, record_dir=tmp_path / "ev"
    )
    for event in stream(3_000, seed=10):
        monitor.observe(event)
    monitor.close()
    assert (tmp_path / "support-bot.json").is_file()
    recorded = list((tmp_path / "ev" / "support-bot").glob("*.jsonl"))
    assert sum(len(p.read_text().splitlines()) for p in recorded) == 3_000

"""The guard's drift events are accepted by the real drift monitor (the contract, end to end)."""

from __future__ import annotations

import random
from typing import Any

from assay.drift import DriftMonitor, WindowSpec, build_reference
from assay.guard import Guard

SENTENCE = ("please summarise the report about sales in the north region for last quarter and "
            "list three risks with owners and dates before the meeting on friday")
WORDS = SENTENCE.split(" ")


def test_drift_events_feed_a_monitor_without_bad_events() -> None:
    events: list[dict[str, Any]] = []
    guard = Guard.default(drift_hook=events.append, system="bot")
    rng = random.Random(3)
    for i in range(120):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60)))
        if i % 10 == 0:
            text += " and mail the summary to ana@example.com"
        guard.check_input(text)
    for i, event in enumerate(events):
        event["ts"] = 1_767_225_600.0 + i  # event time, one per second
    window = WindowSpec(block_events=10, blocks=2)
    reference = build_reference(events[:80], "bot", window=window, draws=20)
    monitor = DriftMonitor([reference], background=False)
    for event in events[80:]:
        monitor.observe(event)
    status = monitor.status()
    assert status["bad_events"] == {} and status["errors"] == {} and status["unmonitored"] == {}
    bot = status["systems"]["bot"]
    assert bot["observed"] == 40
    assert not any(bot["bad_values"].values()) and not any(bot["missing"].values())
    assert {"score.pii", "score.prompt_injection", "blocked", "guard_ms"} <= set(bot["bad_values"])
    monitor.close()

"""Drift benchmark: hot-path cost per event, false alarms, detection delays.

Hot path: ``DriftMonitor.observe`` timed per call (perf_counter_ns) and in
bulk, against an empty function called the same way in the same run; the
evaluator runs on its background thread meanwhile, as in production. False
alarms: stationary synthetic streams, alerts at level "alert" or above per
100,000 events. Delays: events from a known change point to the first alert.
Writes bench/results/drift.json.

    python bench/drift.py [--stationary 1000000] [--seeds 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assay.drift import LEVELS, DriftMonitor, Reference, build_reference, replay
from assay.drift.synthetic import Shift, detection_delay, stream

RESULTS = Path(__file__).parent / "results" / "drift.json"
SCENARIOS = {
    "injection_rate_1_to_10_percent": ("blocked", {"injection_rate": 0.10}),
    "latency_regression_30_percent": ("guard_ms", {"latency_factor": 1.3}),
    "topic_shift_20_percent_new_topic": ("embedding", {"new_topic_share": 0.2}),
}


def _per_call(fn: Callable[[Any], None], events: list[dict[str, Any]]) -> list[int]:
    clock = time.perf_counter_ns
    out = []
    for event in events:
        start = clock()
        fn(event)
        out.append(clock() - start)
    return out


def _bulk(fn: Callable[[Any], None], events: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    for event in events:
        fn(event)
    return (time.perf_counter() - start) / len(events) * 1e9


def hot_path(ref: Reference, events: list[dict[str, Any]]) -> dict[str, float]:
    """ns per event, net of an empty call measured the same way."""

    def empty(event: Any) -> None:
        return None

    monitor = DriftMonitor([ref], background=True)
    _bulk(monitor.observe, events[:5000])  # warm up
    base_calls = _per_call(empty, events)
    calls = _per_call(monitor.observe, events)
    base_bulk = _bulk(empty, events)
    bulk = _bulk(monitor.observe, events)
    monitor.close()
    p50 = statistics.median(calls) - statistics.median(base_calls)
    return {
        "events": len(events),
        "p50_us": round(p50 / 1000, 3),
        "p99_us": round(
            (float(np.percentile(calls, 99)) - float(np.percentile(base_calls, 99))) / 1000, 3
        ),
        "mean_us": round((bulk - base_bulk) / 1000, 3),
        "baseline_empty_call_ns": round(base_bulk, 1),
        "evaluator_errors": sum(monitor.status()["errors"].values()),
    }


def false_alarms(ref: Reference, total: int) -> dict[str, Any]:
    runs, alarms, warns, evaluations, seconds = [], 0, 0, 0, 0.0
    chunk = 100_000
    for seed in range(100, 100 + max(total // chunk, 1)):
        start = time.perf_counter()
        result = replay(stream(chunk, seed=seed), [ref])
        seconds += time.perf_counter() - start
        hi = sum(1 for a in result.alerts if LEVELS.index(a.level) >= LEVELS.index("alert"))
        alarms += hi
        warns += len(result.alerts) - hi
        evaluations += result.status["systems"][ref.system]["evaluations"]
        runs.append({"seed": seed, "alert_or_critical": hi, "warn": len(result.alerts) - hi})
    n = chunk * len(runs)
    return {
        "events": n,
        "evaluations": evaluations,
        "alert_or_critical_per_100k": round(alarms / n * 100_000, 3),
        "warn_per_100k": round(warns / n * 100_000, 3),
        "runs": runs,
        "replay_events_per_s": round(n / seconds),
    }


def delays(ref: Reference, seeds: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    at = 10_000
    for name, (signal, change) in SCENARIOS.items():
        found: list[int | None] = []
        early = 0
        for seed in range(200, 200 + seeds):
            events = list(stream(at + 6_000, seed=seed, shift=Shift(at=at, **change)))
            result = replay(events, [ref])
            early += sum(
                1
                for a in result.alerts
                if a.ts < events[at]["ts"] and LEVELS.index(a.level) >= LEVELS.index("alert")
            )
            found.append(detection_delay(events, result.alerts, at))
        hits = [d for d in found if d is not None]
        out[name] = {
            "expected_signal": signal,
            "delays_events": found,
            "median_events": statistics.median(hits) if hits else None,
            "max_events": max(hits) if hits else None,
            "missed": len(found) - len(hits),
            "alarms_before_change": early,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stationary", type=int, default=1_000_000)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    start = time.perf_counter()
    ref = replace(build_reference(stream(20_000, seed=1), "support-bot"), version=1)
    build_s = time.perf_counter() - start
    ref384 = replace(build_reference(stream(20_000, seed=1, dim=384), "support-bot"), version=1)
    plain = list(stream(200_000, seed=7, embeddings=False))
    with_emb = list(stream(200_000, seed=7, dim=384))
    result = {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or "?"},
        "reference": {
            "events": ref.n_events,
            "signals": len(ref.numeric) + len(ref.categorical) + (1 if ref.embedding else 0),
            "window_events": ref.window.window_events,
            "block_events": ref.window.block_events,
            "build_seconds": round(build_s, 2),
        },
        "hot_path_7_signals_1_category_no_embedding": hot_path(ref, plain),
        "hot_path_7_signals_1_category_384d_embedding": hot_path(ref384, with_emb),
        "false_alarms_stationary": false_alarms(ref, args.stationary),
        "detection_delay": delays(ref, args.seeds),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "false_alarms_stationary"}, indent=2))
    fa = result["false_alarms_stationary"]
    print(
        f"false alarms: {fa['alert_or_critical_per_100k']} per 100k "
        f"(warn {fa['warn_per_100k']}) over {fa['events']} events"
    )


if __name__ == "__main__":
    main()

"""Synthetic guard-signal streams with known change points, for tests, benchmarks and demos.

The stream mimics what a guarded chatbot emits per request: a prompt-injection
score (attacks score high, benign traffic low), block/redact/refusal flags,
input/output lengths, guard latency, a language category and a topic
embedding. A :class:`Shift` switches one aspect at a given event index, so
detection delay can be measured in events.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from assay.drift.alerts import DriftAlert
from assay.drift.calibrate import LEVELS

__all__ = ["Shift", "detection_delay", "stream"]

LANGUAGES = ("en", "de", "fr", "es", "it", "nl")
LANGUAGE_P = (0.7, 0.1, 0.1, 0.05, 0.03, 0.02)


@dataclass(frozen=True)
class Shift:
    """What changes after event ``at``: injection rate, latency factor, new-topic share."""

    at: int
    injection_rate: float | None = None
    latency_factor: float = 1.0
    new_topic_share: float = 0.0


def stream(
    n: int,
    *,
    system: str = "support-bot",
    seed: int = 0,
    start_ts: float = 1_767_225_600.0,
    rate: float = 20.0,
    injection_rate: float = 0.01,
    dim: int = 32,
    embeddings: bool = True,
    shift: Shift | None = None,
) -> Iterator[dict[str, Any]]:
    """``n`` events at ``rate`` per second; deterministic for a given seed."""
    rng = np.random.default_rng(seed)
    topics = np.random.default_rng(12345).normal(size=(6, dim))
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    after = np.zeros(n, dtype=bool) if shift is None else np.arange(n) >= shift.at
    inj_after = (
        injection_rate if shift is None or shift.injection_rate is None else shift.injection_rate
    )
    attack = rng.random(n) < np.where(after, inj_after, injection_rate)
    score = np.where(attack, rng.beta(8, 2, n), rng.beta(1, 40, n))
    latency_factor = np.where(after, 1.0 if shift is None else shift.latency_factor, 1.0)
    guard_ms = rng.lognormal(np.log(2.0), 0.3, n) * latency_factor
    input_len = np.round(rng.lognormal(6.0, 0.8, n))
    output_len = np.round(rng.lognormal(6.5, 0.7, n))
    refusal = (rng.random(n) < np.where(attack, 0.6, 0.01)).astype(int)
    redacted = (rng.random(n) < 0.05).astype(int)
    language = rng.choice(len(LANGUAGES), size=n, p=LANGUAGE_P)
    new_share = np.where(after, 0.0 if shift is None else shift.new_topic_share, 0.0)
    topic = np.where(
        rng.random(n) < new_share, 5, rng.choice(5, size=n, p=(0.4, 0.25, 0.15, 0.1, 0.1))
    )
    vectors = topics[topic] + rng.normal(scale=0.6 / np.sqrt(dim), size=(n, dim))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ts = start_ts + np.cumsum(rng.exponential(1 / rate, n))
    for i in range(n):
        event: dict[str, Any] = {
            "ts": float(ts[i]),
            "system": system,
            "signals": {
                "score.prompt_injection": float(score[i]),
                "blocked": int(score[i] > 0.5),
                "redacted": int(redacted[i]),
                "refusal": int(refusal[i]),
                "input_len": float(input_len[i]),
                "output_len": float(output_len[i]),
                "guard_ms": float(guard_ms[i]),
            },
            "categories": {"language": LANGUAGES[language[i]]},
        }
        if embeddings:
            event["embedding"] = vectors[i]
        yield event


def detection_delay(
    events: Sequence[dict[str, Any]],
    alerts: Sequence[DriftAlert],
    at: int,
    *,
    level: str = "alert",
) -> int | None:
    """Events from the change point to the first alert at ``level`` or above (None: missed)."""
    floor = LEVELS.index(level)
    stamps = [float(e["ts"]) for e in events]
    for alert in alerts:
        index = bisect_left(stamps, alert.ts)
        if LEVELS.index(alert.level) >= floor and index >= at:
            return index - at + 1
    return None

"""The drift event: what guard and gateway hand to the monitor, one per request.

Schema (a plain mapping, so producers need not import Assay types)::

    {"ts": 1767225600.25 | "2026-01-01T00:00:00.25Z",
     "system": "support-bot",
     "signals": {"score.prompt_injection": 0.03, "blocked": 0, "input_len": 812,
                 "guard_ms": 2.4},
     "categories": {"language": "en"},
     "embedding": [0.01, ...]}            # optional; a list or a numpy vector

Numeric signals are floats (booleans count as 0/1); categories are strings.
An event missing ``ts``, ``system`` or ``signals`` is a bad event: it is counted
and reported, never raised.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assay.errors import AssayError

__all__ = ["BadEvent", "event_time", "read_jsonl", "to_json_line"]


class BadEvent(ValueError):
    """An event the monitor cannot use; the message is the counted reason."""


def event_time(value: object) -> float:
    """Seconds since the epoch from a number or an RFC 3339 string."""
    if isinstance(value, bool):
        raise BadEvent("bad ts")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise BadEvent("bad ts") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp()
    else:
        raise BadEvent("missing ts" if value is None else "bad ts")
    if not math.isfinite(seconds):
        raise BadEvent("bad ts")
    return seconds


def read_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield (line number, decoded value) for each non-blank line; bad JSON names the line."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise AssayError(f"cannot read {path}: {exc.strerror}; check the path") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise AssayError(
                    f"{path} line {number} is not valid JSON ({exc.msg}): fix or remove that line"
                ) from None


def to_json_line(event: Mapping[str, Any]) -> str:
    """One event as a JSONL line (numpy vectors become lists)."""

    def default(value: Any) -> Any:
        if hasattr(value, "tolist"):
            return value.tolist()
        raise TypeError(f"{type(value).__name__} is not JSON")

    return json.dumps(event, default=default, separators=(",", ":")) + "\n"

"""The default input policy's cost on 2,000-character prompts stays bounded.

The budget (DESIGN.md) is p50 <= 15 ms, p99 <= 50 ms on a quiet machine, and
``bench/guard.py`` measures it against baselines in the same run. This test is a
regression guard, not the measurement: its bounds are three times the budget so
that a loaded shared machine does not make it flaky, yet a change that scored
every window twice or lost the window cap fails it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from assay.guard import Guard

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "injection" / "dev.jsonl"
FILLER = ("Our quarterly review covers revenue, churn and hiring across the three regions; "
          "please summarise the main risks and the actions the board agreed last month. ")


def prompts(n: int = 1000, size: int = 2000) -> list[str]:
    if DATA.exists():
        rows = [json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").splitlines()]
        corpus = " ".join(rows)
    else:
        corpus = FILLER * 40
    step = max(1, (len(corpus) - size) // n)
    return [corpus[i * step:i * step + size] for i in range(n)]


def test_default_policy_p50_p99_on_2000_char_prompts() -> None:
    guard = Guard.default()
    texts = prompts()
    assert all(len(t) == 2000 for t in texts)
    for t in texts[:50]:
        guard.check_input(t)
    times: list[float] = []
    for t in texts:
        start = time.perf_counter()
        guard.check_input(t)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99)]
    assert p50 < 45, f"p50 {p50:.2f} ms"
    assert p99 < 150, f"p99 {p99:.2f} ms"

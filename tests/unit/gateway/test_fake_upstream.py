"""The fake upstream's stall directive: fixed, or drawn from a range like a model's answer time."""

from __future__ import annotations

import random
import time

import httpx

from assay.gateway import create_fake_upstream
from assay.gateway.fake_upstream import _stall_seconds
from assay.gateway.local import LocalServer


def test_a_stall_range_draws_uniformly_within_its_bounds() -> None:
    rng = random.Random(0)
    draws = [_stall_seconds("0.05-0.15", rng) for _ in range(2000)]
    assert min(draws) >= 0.05 and max(draws) <= 0.15
    assert 0.095 < sum(draws) / len(draws) < 0.105
    assert _stall_seconds("0.2", rng) == 0.2


def test_the_server_waits_as_told_before_answering() -> None:
    server = LocalServer(create_fake_upstream())
    try:
        body = {"model": "assay-demo-1:stall=0.05-0.15",
                "messages": [{"role": "user", "content": "hello"}]}
        took = []
        with httpx.Client(timeout=10) as client:
            for _ in range(8):
                started = time.perf_counter()
                client.post(f"{server.url}/v1/chat/completions", json=body).raise_for_status()
                took.append(time.perf_counter() - started)
        assert min(took) >= 0.05 and max(took) < 0.5
        assert max(took) - min(took) > 0.01  # drawn, not fixed
    finally:
        server.stop()

"""SIGTERM drains the gateway: no new connections, the stream in flight finishes, its
evidence is written, and the process exits 0 (issue #24 item 4)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai
import pytest

from assay.aims import add_system
from assay.gateway import create_fake_upstream
from assay.gateway.keys import create_key
from assay.gateway.local import LocalServer, free_port
from assay.workspace import open_workspace

pytestmark = pytest.mark.timeout(120)


def test_sigterm_lets_a_stream_in_progress_finish_then_exits_0(workspace_dir: Path) -> None:
    ws = open_workspace(workspace_dir)
    add_system(ws.store, ws.ledger, system_id="bot", name="Bot", owner="CX", actor="t")
    key = create_key(ws.store, ws.ledger, name="k", system="bot", actor="t")
    ws.close()
    upstream = LocalServer(create_fake_upstream())
    port = free_port()
    env = {**os.environ, "ASSAY_HOME": str(workspace_dir),
           "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    gateway = subprocess.Popen(
        [sys.executable, "-m", "assay", "gateway", "--policy", "off", "--upstream",
         upstream.url, "--port", str(port), "--drain-timeout", "30", "--log-format", "json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert gateway.poll() is None, gateway.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        client = openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0, timeout=60)
        stream = client.chat.completions.create(
            model="assay-demo-1:pace=0.15", stream=True,
            messages=[{"role": "user", "content": "What are your opening hours?"}])
        chunks = iter(stream)
        first = next(chunks)
        gateway.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        with pytest.raises(httpx.TransportError):  # no longer accepting
            httpx.get(f"{base}/healthz", timeout=2)
        rest = list(chunks)
        assert gateway.poll() is None or gateway.returncode == 0  # it waited for the stream
        text = "".join(c.choices[0].delta.content or "" for c in [first, *rest] if c.choices)
        assert len(rest) > 3 and text
        assert rest[-1].choices[0].finish_reason == "stop"
        _out, err = gateway.communicate(timeout=60)
        assert gateway.returncode == 0, err
        assert '"stream":"completed"' in err  # the JSON request line, written at the end
    finally:
        if gateway.poll() is None:
            gateway.kill()
            gateway.communicate()
        upstream.stop()
    ws = open_workspace(workspace_dir)
    try:
        outputs = [e.decoded()["summary"] for e in ws.ledger.iter_entries()
                   if e.decoded()["type"] == "assay.dev/guard-decision/v1"
                   and e.decoded()["summary"]["direction"] == "output"]
    finally:
        ws.close()
    assert len(outputs) == 1  # the stream's evidence was flushed before the exit


def test_two_workers_share_one_scrape(workspace_dir: Path) -> None:
    """With --workers 2 --metrics every scrape sums both workers' counters."""
    ws = open_workspace(workspace_dir)
    add_system(ws.store, ws.ledger, system_id="bot", name="Bot", owner="CX", actor="t")
    key = create_key(ws.store, ws.ledger, name="k", system="bot", actor="t")
    ws.close()
    upstream = LocalServer(create_fake_upstream())
    port = free_port()
    env = {**os.environ, "ASSAY_HOME": str(workspace_dir),
           "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    gateway = subprocess.Popen(
        [sys.executable, "-m", "assay", "gateway", "--policy", "off", "--upstream",
         upstream.url, "--port", str(port), "--workers", "2", "--metrics"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert gateway.poll() is None, gateway.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.2)
        time.sleep(2)  # let the second worker start as well
        for _ in range(6):  # new connections: the kernel spreads them over the workers
            with httpx.Client() as client:
                assert client.post(f"{base}/v1/chat/completions", headers={
                    "authorization": f"Bearer {key}"}, json={
                    "model": "assay-demo-1",
                    "messages": [{"role": "user", "content": "Hi"}]}).status_code == 200
        scrape = httpx.get(f"{base}/metrics").text
        line = next(x for x in scrape.splitlines()
                    if x.startswith("assay_gateway_requests_total{"))
        assert line.endswith(" 6.0"), scrape
        gateway.send_signal(signal.SIGTERM)
        gateway.communicate(timeout=60)
        assert gateway.returncode == 0
    finally:
        if gateway.poll() is None:
            gateway.kill()
            gateway.communicate()
        upstream.stop()

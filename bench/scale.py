"""Scale-out benchmark: N gateway processes on one PostgreSQL ledger (issue #24 item 7).

For each N in ``--gateways`` it starts N gateway processes (one worker each,
every one with its own evidence-writer process) on one fresh PostgreSQL
database, in front of the fake upstream (answering after ``--model-ms``),
and drives each with wrk (``--connections`` per gateway) for ``--seconds``.
It reports, per N:

* decisions served per second (wrk's requests/s summed) and latency;
* entries appended per second during the load, sampled from the ledger size;
* the evidence lag: seconds from the end of the load until every decision's
  entry is in the ledger (the writers drain their queues);
* entries per request, and whether the log verifies afterwards.

In the same run, ``sequencer`` measures the ceiling of the one serialised
append path on its own: one process appending batches of 1000 (the batcher's
size), with no gateway work. Where the gateways' appended rate meets it, the
sequencer is the bottleneck; where decisions/s flattens below it, the CPU of
this machine is. Writes bench/results/scale.json.

    python bench/scale.py [--gateways 1,2,4] [--seconds 20] [--connections 32]
        [--model-ms 50] [--postgres postgresql+psycopg://root@127.0.0.1:5432/test]

Needs wrk (apt-get install wrk) and a PostgreSQL server whose user may create
a database (the script creates and drops ``assay_scale_bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from assay.aims import add_system
from assay.gateway.keys import create_key
from assay.gateway.local import free_port
from assay.ledger import Evidence
from assay.workspace import init_workspace, open_workspace

sys.path.insert(0, str(Path(__file__).parent))
from gateway import BODY, wrk  # bench/gateway.py's wrk driver: one way to drive

RESULTS = Path(__file__).parent / "results" / "scale.json"
DATABASE = "assay_scale_bench"


def _fresh_database(admin_url: str) -> str:
    """Create an empty database beside ``admin_url``'s and return its SQLAlchemy URL."""
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{DATABASE}"


def _drop_database(admin_url: str) -> None:
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def _spawn(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "assay", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_up(url: str, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/v1/models", headers=headers, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not start")


def _ledger_size(root: Path) -> int:
    ws = open_workspace(root)
    try:
        return ws.ledger.size()
    finally:
        ws.close()


class _Sampler(threading.Thread):
    """Samples the ledger size every 0.5 s (the appended rate, and when it stops growing)."""

    def __init__(self, root: Path) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.samples: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        ws = open_workspace(self.root)
        try:
            while not self.stop.is_set():
                self.samples.append((time.monotonic(), ws.ledger.size()))
                self.stop.wait(0.5)
        finally:
            ws.close()

    def rate(self, start: float, end: float) -> float:
        inside = [(t, n) for t, n in self.samples if start <= t <= end]
        if len(inside) < 2:
            return 0.0
        (t0, n0), (t1, n1) = inside[0], inside[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


def _run_n(root: Path, upstream: str, key: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    ports = [free_port() for _ in range(n)]
    gateways = [
        _spawn("--workspace", str(root), "gateway", "--policy", "default", "--upstream", upstream,
               "--port", str(port))
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url in urls:
            _wait_up(url, {"authorization": f"Bearer {key}"})
            httpx.post(f"{url}/v1/chat/completions", json=BODY,
                       headers={"authorization": f"Bearer {key}"}, timeout=30)
        time.sleep(1)
        before = _ledger_size(root)
        sampler = _Sampler(root)
        sampler.start()
        results: list[dict[str, Any]] = [{} for _ in urls]

        def drive(i: int) -> None:
            results[i] = wrk(f"{urls[i]}/v1/chat/completions", key, args.connections,
                             args.seconds, args.model_ms, jitter=True)

        threads = [threading.Thread(target=drive, args=(i,)) for i in range(n)]
        load_start = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        load_end = time.monotonic()
        lag = _drain_lag(sampler, load_end)
        sampler.stop.set()
        sampler.join()
        appended = sampler.samples[-1][1] - before
        requests = sum(r["requests"] for r in results)
        return {
            "gateways": n,
            "decisions_per_s": round(sum(r["requests_per_s"] for r in results), 1),
            "errors": sum(r["errors"] for r in results),
            "latency_ms_p50_max": max(r["latency_ms"].get("p50", 0.0) for r in results),
            "latency_ms_p99_max": max(r["latency_ms"].get("p99", 0.0) for r in results),
            "appended_per_s_during_load": round(sampler.rate(load_start, load_end), 1),
            "evidence_lag_s": round(lag, 2),
            "entries_per_request": round(appended / requests, 3) if requests else None,
            "requests": requests,
        }
    finally:
        for gateway in gateways:
            gateway.terminate()
        for gateway in gateways:
            gateway.wait(60)


def _drain_lag(sampler: _Sampler, load_end: float, quiet: float = 3.0) -> float:
    """Seconds after the load until the ledger stopped growing (for ``quiet`` seconds)."""
    deadline = load_end + 300
    while time.monotonic() < deadline:
        time.sleep(0.5)
        recent = [(t, n) for t, n in sampler.samples if t >= time.monotonic() - quiet]
        if len(recent) >= 2 and recent[0][1] == recent[-1][1]:
            grown = [t for (t, n), (_, m) in zip(sampler.samples, sampler.samples[1:], strict=False)
                     if m > n and t >= load_end]
            return (max(grown) + 0.5 - load_end) if grown else 0.0
    return float("inf")


def _sequencer_ceiling(root: Path, seconds: float) -> dict[str, Any]:
    """One process appending batches of 1000 small decisions: the serialised path alone."""
    ws = open_workspace(root)
    try:
        batch = [
            Evidence("assay.dev/guard-decision/v1", "bench", {"action": "allow", "i": i})
            for i in range(1000)
        ]
        appended, start = 0, time.monotonic()
        while time.monotonic() - start < seconds:
            ws.ledger.append(batch)
            appended += len(batch)
        elapsed = time.monotonic() - start
        return {"batch": 1000, "appends_per_s": round(appended / elapsed, 1)}
    finally:
        ws.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gateways", default="1,2,4", help="gateway process counts to run")
    parser.add_argument("--seconds", type=int, default=20, help="load duration per count")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections per gateway")
    parser.add_argument("--model-ms", type=int, default=50, help="the fake model's answer time")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "ASSAY_TEST_DATABASE_URL", "postgresql+psycopg://root@127.0.0.1:5432/test"
        ),
        help="a PostgreSQL URL whose user may create the benchmark database",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    database_url = _fresh_database(args.postgres)
    results: dict[str, Any] = {
        "command": "python bench/scale.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "load_average_before": os.getloadavg(),
        "model_ms": args.model_ms,
        "connections_per_gateway": args.connections,
        "runs": [],
    }
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "ws"
            ws = init_workspace(root, database_url=database_url)
            add_system(ws.store, ws.ledger, system_id="bot", name="Bot", owner="CX", actor="bench")
            key = create_key(ws.store, ws.ledger, name="scale", system="bot", actor="bench",
                             policy="default")
            ws.close()
            upstream_port = free_port()
            upstream = _spawn("gateway", "fake-upstream", "--port", str(upstream_port))
            upstream_url = f"http://127.0.0.1:{upstream_port}"
            try:
                _wait_up(upstream_url)
                results["sequencer"] = _sequencer_ceiling(root, min(10.0, args.seconds))
                print("sequencer", json.dumps(results["sequencer"]), flush=True)
                for n in (int(x) for x in args.gateways.split(",")):
                    run = _run_n(root, upstream_url, key, n, args)
                    results["runs"].append(run)
                    print(json.dumps(run), flush=True)
            finally:
                upstream.terminate()
                upstream.wait(10)
            ws = open_workspace(root)
            try:
                ws.ledger.checkpoint()
                results["verify_ok"] = ws.ledger.verify().ok
                results["ledger_size"] = ws.ledger.size()
            finally:
                ws.close()
    finally:
        _drop_database(args.postgres)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

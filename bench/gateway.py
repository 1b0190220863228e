"""Gateway benchmark: added latency and throughput over a direct upstream call.

Starts the fake upstream and an Assay gateway on loopback, then drives them
with wrk (Debian package) in the same run: (a) the upstream directly, (b) the
gateway with the guard off, (c) the gateway with the default policy, and (d)
LiteLLM's proxy on the same upstream when it is installed (--litellm PATH).
Each at concurrency 1 (added latency), at 50 against an upstream that
answers at once (throughput at saturation, errors), and at 50 against an
upstream that takes time to answer, as a model does (added latency under
concurrent load without saturating the machine): ``c50_model`` draws each
answer time uniformly from 0.5–1.5 × ``--model-ms``; ``c50_model_fixed`` uses
exactly ``--model-ms``, which phase-locks wrk's 50 connections into bursts.
Writes bench/results/gateway.json (gateway-workers-N.json with ``--workers N``).

    python bench/gateway.py [--seconds 60] [--model-ms 100] [--workers 1]
                            [--litellm /path/to/litellm]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from assay.aims import add_system
from assay.gateway.keys import create_key
from assay.workspace import init_workspace

RESULTS = Path(__file__).parent / "results" / "gateway.json"
LITELLM_KEY = "sk-assay-bench-0123456789abcdef"
BODY = {
    "model": "assay-demo-1",
    "messages": [{"role": "user", "content": "What are your opening hours on Saturday?"}],
}
LUA = """
wrk.method = "POST"
wrk.body = [[%s]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            httpx.get(url, headers=headers, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value.strip()).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _body(model_ms: int, jitter: bool) -> dict[str, Any]:
    """The request; a non-zero ``model_ms`` asks the fake upstream to take that long."""
    if not model_ms:
        return BODY
    stall = f"{model_ms / 2000}-{model_ms * 1.5 / 1000}" if jitter else f"{model_ms / 1000}"
    return {**BODY, "model": f"{BODY['model']}:stall={stall}"}


def wrk(
    url: str, key: str, connections: int, seconds: int, model_ms: int = 0, jitter: bool = True
) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % (json.dumps(_body(model_ms, jitter)), key))
    threads = min(2, connections)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            script.name,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return {
        "connections": connections,
        "requests": requests,
        "errors": errors,
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "latency_ms": {f"p{k}": _ms(v) for k, v in percentiles.items()},
    }


def _start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _litellm(
    binary: str, upstream: str, port: int, tmp: Path, model_ms: int
) -> subprocess.Popen[bytes]:
    config = tmp / "litellm.yaml"
    models = "".join(
        f"  - model_name: {name}\n"
        "    litellm_params:\n"
        f"      model: openai/{name}\n"
        f"      api_base: {upstream}/v1\n"
        "      api_key: none\n"
        for name in {_body(ms, jitter)["model"] for ms in (0, model_ms) for jitter in (0, 1)}
    )
    config.write_text(
        "model_list:\n"
        + models
        + "general_settings:\n"
        f"  master_key: {LITELLM_KEY}\n"
    )
    return _start([binary, "--config", str(config), "--port", str(port), "--num_workers", "1"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument(
        "--model-ms", type=int, default=100, help="upstream answer time for the c50_model run"
    )
    parser.add_argument("--litellm", help="path to the litellm CLI (run it on the same upstream)")
    parser.add_argument("--workers", type=int, default=1, help="gateway worker processes")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    results: dict[str, Any] = {
        "command": "python bench/gateway.py " + " ".join(sys.argv[1:]),
        "model_ms": args.model_ms,
        "gateway_workers": args.workers,
        "load_average_before": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        ws = init_workspace(root)
        add_system(ws.store, ws.ledger, system_id="bench", name="Bench", owner="me", actor="bench")
        key_off = create_key(
            ws.store, ws.ledger, name="off", system="bench", actor="b", policy="off"
        )
        key_on = create_key(
            ws.store, ws.ledger, name="on", system="bench", actor="b", policy="default"
        )
        ws.close()
        up_port, gw_port = _port(), _port()
        upstream = f"http://127.0.0.1:{up_port}"
        procs = [
            _start(
                [sys.executable, "-m", "assay", "gateway", "fake-upstream", "--port", str(up_port)]
            )
        ]
        procs.append(
            _start(
                [
                    sys.executable,
                    "-m",
                    "assay",
                    "--workspace",
                    str(root),
                    "gateway",
                    "--upstream",
                    upstream,
                    "--port",
                    str(gw_port),
                    "--workers",
                    str(args.workers),
                ]
            )
        )
        targets = {
            "direct": (f"{upstream}/v1/chat/completions", "none"),
            "gateway_guard_off": (f"http://127.0.0.1:{gw_port}/v1/chat/completions", key_off),
            "gateway_default_policy": (f"http://127.0.0.1:{gw_port}/v1/chat/completions", key_on),
        }
        if args.litellm:
            ll_port = _port()
            procs.append(_litellm(args.litellm, upstream, ll_port, Path(tmp), args.model_ms))
            targets["litellm_proxy"] = (
                f"http://127.0.0.1:{ll_port}/v1/chat/completions",
                LITELLM_KEY,
            )
        try:
            _wait(f"{upstream}/v1/models")
            _wait(f"http://127.0.0.1:{gw_port}/v1/models")
            if args.litellm:
                _wait(f"http://127.0.0.1:{ll_port}/health/liveliness")
            for name, (url, key) in targets.items():
                httpx.post(url, json=BODY, headers={"authorization": f"Bearer {key}"}, timeout=30)
                results[name] = {
                    "c1": wrk(url, key, 1, max(5, args.seconds // 4)),
                    "c50": wrk(url, key, 50, args.seconds),
                    "c50_model": wrk(url, key, 50, args.seconds, args.model_ms),
                    "c50_model_fixed": wrk(url, key, 50, args.seconds, args.model_ms, False),
                }
                print(name, json.dumps(results[name]), flush=True)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)
    base = results["direct"]
    results["added_latency_ms"] = {
        name: {
            conc: {
                p: round(results[name][conc]["latency_ms"][p] - base[conc]["latency_ms"][p], 3)
                for p in ("p50", "p99")
            }
            for conc in ("c1", "c50", "c50_model", "c50_model_fixed")
        }
        for name in targets
        if name != "direct"
    }
    results["load_average_after"] = os.getloadavg()
    out = RESULTS
    if args.workers != 1:
        out = RESULTS.with_name(f"gateway-workers-{args.workers}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["added_latency_ms"], indent=2))


if __name__ == "__main__":
    main()

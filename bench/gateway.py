"""Gateway benchmark: added latency and throughput over a direct upstream call.

Starts the fake upstream and an Assay gateway on loopback, then drives them
with wrk (Debian package) in the same run: (a) the upstream directly, (b) the
gateway with the guard off, (c) the gateway with the default policy; and two
reference proxies on the same upstream that show what this machine allows:
``passthrough`` (bench/passthrough.py: the gateway's server stack and upstream
client doing nothing else, the floor for a Python proxy) and ``nginx`` (a C
reverse proxy, when installed). LiteLLM's proxy runs too with --litellm PATH.

Scenarios: ``c1`` (one connection: added latency), ``c50`` (50 connections,
an upstream that answers at once: throughput with the two cores saturated by
wrk, upstream and proxy), ``c50_model`` (50 connections, each answer taking
0.5–1.5 × ``--model-ms`` as a model's does), ``c50_model_fixed`` (exactly
``--model-ms``, which phase-locks wrk's 50 connections into bursts). A p99
over bursts of 50 rests on a few bursts, so the scenarios run ``--rounds``
times, every target in turn within a round; the added latency is taken per
round against the direct run of that round, and the median over rounds is
reported with its range. Writes bench/results/gateway.json
(gateway-workers-N.json with ``--workers N``).

``--tools`` runs only the tool-policy comparison (issue #21): an answer with 3
tool calls through the gateway under the default policy and under the same
policy without its ``tools:`` section, one connection, alternating per round;
the added p50/p99 (median over rounds) go to bench/results/gateway-tools.json.

``--adversarial`` runs only the hostile-body scenario (issue #19): a small
request's latency on one connection while 9.6 MB bodies of repeated PEM headers
arrive back to back on another, against the same gateway with no attacker,
alternating per round; results in bench/results/gateway-adversarial.json.

    python bench/gateway.py [--seconds 20] [--rounds 3] [--model-ms 100]
                            [--workers 1] [--litellm /path/to/litellm] [--tools | --adversarial]
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
import threading
import time
from pathlib import Path
from statistics import median
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
    url: str, key: str, connections: int, seconds: int, model_ms: int = 0, jitter: bool = True,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % (json.dumps(body or _body(model_ms, jitter)), key))
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
        for name in {_body(ms, jitter)["model"] for ms in (0, model_ms) for jitter in (False, True)}
    )
    config.write_text(
        "model_list:\n"
        + models
        + "general_settings:\n"
        f"  master_key: {LITELLM_KEY}\n"
    )
    return _start([binary, "--config", str(config), "--port", str(port), "--num_workers", "1"])


SCENARIOS = ("c1", "c50", "c50_model", "c50_model_fixed")
TARGETS_MS = {"gateway_guard_off": 5.0, "gateway_default_policy": 20.0}
NGINX_CONF = """worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/nginx-body;
  proxy_temp_path {tmp}/nginx-proxy;
  fastcgi_temp_path {tmp}/nginx-fastcgi;
  uwsgi_temp_path {tmp}/nginx-uwsgi;
  scgi_temp_path {tmp}/nginx-scgi;
  upstream fake {{ server 127.0.0.1:{upstream}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://fake;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""


def _scenario(name: str, url: str, key: str, seconds: int, model_ms: int) -> dict[str, Any]:
    if name == "c1":
        return wrk(url, key, 1, max(5, seconds // 4))
    if name == "c50":
        return wrk(url, key, 50, seconds)
    return wrk(url, key, 50, seconds, model_ms, jitter=name == "c50_model")


def _added(runs: dict[str, dict[str, list[dict[str, Any]]]], name: str) -> dict[str, Any]:
    """Per scenario: the median over rounds of (target - direct of the same round)."""
    out: dict[str, Any] = {}
    for scenario in SCENARIOS:
        pairs = list(zip(runs[name][scenario], runs["direct"][scenario], strict=False))
        out[scenario] = {}
        for p in ("p50", "p99"):
            added = [round(t["latency_ms"][p] - d["latency_ms"][p], 3) for t, d in pairs]
            out[scenario][p] = round(median(added), 3)
            out[scenario][f"{p}_rounds"] = added
    return out


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "requests": sum(r["requests"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "requests_per_s_median": round(median([r["requests_per_s"] for r in results]), 1),
    }


def _verdict(added: dict[str, Any], runs: dict[str, Any]) -> dict[str, Any]:
    """Each target of the issue, per scenario: met or not, on the medians."""
    verdict: dict[str, Any] = {}
    for name, limit in TARGETS_MS.items():
        verdict[name] = {
            scenario: added[name][scenario]["p99"] <= limit for scenario in SCENARIOS
        }
        summary = _summary([r for scenario in SCENARIOS for r in runs[name][scenario]])
        verdict[name]["zero_errors_over_50k"] = (
            summary["errors"] == 0 and summary["requests"] >= 50_000
        )
    return verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=20, help="duration of each c50 run")
    parser.add_argument("--rounds", type=int, default=3, help="times each scenario runs")
    parser.add_argument(
        "--model-ms", type=int, default=100, help="upstream answer time for the c50_model runs"
    )
    parser.add_argument("--litellm", help="path to the litellm CLI (run it on the same upstream)")
    parser.add_argument("--workers", type=int, default=1, help="gateway worker processes")
    parser.add_argument("--tools", action="store_true",
                        help="only the tool-policy comparison (bench/results/gateway-tools.json)")
    parser.add_argument(
        "--adversarial", action="store_true",
        help="only the hostile-body scenario (bench/results/gateway-adversarial.json)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    if args.tools:
        tools_main(args)
        return
    if args.adversarial:
        adversarial_main(args)
        return
    results: dict[str, Any] = {
        "command": "python bench/gateway.py " + " ".join(sys.argv[1:]),
        "model_ms": args.model_ms,
        "rounds": args.rounds,
        "gateway_workers": args.workers,
        "load_average_before": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        targets, procs, waits = _start_all(Path(tmp), args)
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {
            name: {scenario: [] for scenario in SCENARIOS} for name in targets
        }
        try:
            for url, headers in waits:
                _wait(url, headers)
            for url, key in targets.values():
                httpx.post(url, json=BODY, headers={"authorization": f"Bearer {key}"}, timeout=30)
            for round_no in range(args.rounds):
                for scenario in SCENARIOS:
                    for name, (url, key) in targets.items():
                        if name == "litellm_proxy" and round_no:
                            continue  # a reference for the ratio: one round is enough
                        result = _scenario(scenario, url, key, args.seconds, args.model_ms)
                        runs[name][scenario].append(result)
                        print(round_no, scenario, name, json.dumps(result), flush=True)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)
    results["runs"] = runs
    results["summary"] = {
        name: {scenario: _summary(runs[name][scenario]) for scenario in SCENARIOS}
        for name in targets
    }
    results["added_latency_ms"] = {name: _added(runs, name) for name in targets if name != "direct"}
    results["targets_met"] = _verdict(results["added_latency_ms"], runs)
    results["load_average_after"] = os.getloadavg()
    out = RESULTS
    if args.workers != 1:
        out = RESULTS.with_name(f"gateway-workers-{args.workers}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    brief = {
        name: {scenario: {p: v[p] for p in ("p50", "p99")} for scenario, v in added.items()}
        for name, added in results["added_latency_ms"].items()
    }
    print(json.dumps({"added_latency_ms": brief, "targets_met": results["targets_met"]}, indent=2))


def _start_all(
    tmp: Path, args: argparse.Namespace
) -> tuple[dict[str, tuple[str, str]], list[subprocess.Popen[bytes]], list[tuple[str, Any]]]:
    """Start the upstream, the gateway and the reference proxies; their URLs and keys."""
    root = tmp / "ws"
    ws = init_workspace(root)
    add_system(ws.store, ws.ledger, system_id="bench", name="Bench", owner="me", actor="bench")
    key_off = create_key(ws.store, ws.ledger, name="off", system="bench", actor="b", policy="off")
    key_on = create_key(
        ws.store, ws.ledger, name="on", system="bench", actor="b", policy="default"
    )
    ws.close()
    up_port, gw_port, pt_port = _port(), _port(), _port()
    upstream = f"http://127.0.0.1:{up_port}"
    gateway = f"http://127.0.0.1:{gw_port}"
    procs = [
        _start([sys.executable, "-m", "assay", "gateway", "fake-upstream", "--port", str(up_port)]),
        _start([sys.executable, "-m", "assay", "--workspace", str(root), "gateway",
                "--upstream", upstream, "--port", str(gw_port), "--workers", str(args.workers)]),
        _start([sys.executable, "-m", "uvicorn", "--app-dir", str(Path(__file__).parent),
                "passthrough:app", "--port", str(pt_port), "--loop", "uvloop", "--http",
                "httptools", "--no-access-log", "--log-level", "warning"],
               {"ASSAY_PASSTHROUGH_UPSTREAM": upstream}),
    ]
    chat = "/v1/chat/completions"
    targets = {
        "direct": (f"{upstream}{chat}", "none"),
        "gateway_guard_off": (f"{gateway}{chat}", key_off),
        "gateway_default_policy": (f"{gateway}{chat}", key_on),
        "passthrough": (f"http://127.0.0.1:{pt_port}{chat}", "none"),
    }
    waits: list[tuple[str, Any]] = [
        (f"{upstream}/v1/models", None),
        (f"{gateway}/v1/models", {"authorization": f"Bearer {key_off}"}),
        (f"http://127.0.0.1:{pt_port}/v1/models", None),
    ]
    if shutil.which("nginx"):
        ng_port = _port()
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, upstream=up_port, port=ng_port))
        procs.append(_start(["nginx", "-c", str(conf), "-e", str(tmp / "nginx-error.log")]))
        targets["nginx"] = (f"http://127.0.0.1:{ng_port}{chat}", "none")
        waits.append((f"http://127.0.0.1:{ng_port}/v1/models", None))
    if args.litellm:
        ll_port = _port()
        procs.append(_litellm(args.litellm, upstream, ll_port, tmp, args.model_ms))
        targets["litellm_proxy"] = (f"http://127.0.0.1:{ll_port}{chat}", LITELLM_KEY)
        waits.append((f"http://127.0.0.1:{ll_port}/health/liveliness", None))
    return targets, procs, waits


def _tool_check_cost(n: int = 3000) -> dict[str, float]:
    """The guard work the tool policy adds per answer, timed in process (what the gateway's
    pool runs: the 3 calls of TOOL_BODY's answer and its declared tool, remembered after
    the first request), free of the HTTP stack's and the machine's noise."""
    import time as clock

    from assay.gateway.fake_upstream import tool_calls_message
    from assay.gateway.fields import answer_tool_calls
    from assay.gateway.guarding import PolicyGuard, ToolContext
    from assay.gateway.tools import check_answer_calls, check_definitions
    from assay.guard import Guard

    port = PolicyGuard(Guard.default())
    calls = [answer_tool_calls({"role": "assistant", **tool_calls_message(3)})]
    function = TOOL_BODY["tools"][0]["function"]  # type: ignore[index]
    declared = [(function["name"], function["description"], function["parameters"])]
    times = []
    for i in range(n + 200):
        start = clock.perf_counter()
        check_definitions(port, declared, "bench", [])
        check_answer_calls(port, calls, ToolContext(system="bench"))
        if i >= 200:  # warm-up
            times.append((clock.perf_counter() - start) * 1000)
    times.sort()
    return {"n": n, "p50": round(times[n // 2], 3), "p99": round(times[int(n * 0.99)], 3),
            "max": round(times[-1], 3)}


TOOLS_RESULTS = RESULTS.with_name("gateway-tools.json")
TOOLS_TARGET_MS = 5.0  # issue #21: p99 added by the default tool policy, 3 tool calls
TOOL_BODY = {
    "model": "assay-demo-1:tools=3",  # the fake upstream answers with 3 get_weather calls
    "messages": [{"role": "user", "content": "Weather in Paris, Oslo and Lisbon tomorrow?"}],
    "tools": [{"type": "function", "function": {
        "name": "get_weather", "description": "The weather forecast for a city.",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer"}}, "required": ["city"]}}}],
}


def _upstream_and_gateway(root: Path) -> tuple[str, str, list[subprocess.Popen[bytes]]]:
    """The fake upstream and one gateway on the workspace ``root``: the upstream's URL, the
    gateway's chat URL and the processes (the callers wait for both to answer)."""
    up_port, gw_port = _port(), _port()
    upstream = f"http://127.0.0.1:{up_port}"
    procs = [
        _start([sys.executable, "-m", "assay", "gateway", "fake-upstream", "--port",
                str(up_port)]),
        _start([sys.executable, "-m", "assay", "--workspace", str(root), "gateway",
                "--upstream", upstream, "--port", str(gw_port)]),
    ]
    return upstream, f"http://127.0.0.1:{gw_port}/v1/chat/completions", procs


def tools_main(args: argparse.Namespace) -> None:
    """Added latency of the default tool policy on an answer with 3 tool calls: the same
    gateway and request under the default policy and under the default policy without
    its ``tools:`` section, one connection, alternating within each round."""
    from assay.guard.policy import default_policy_text
    from assay.yamlio import dump_yaml, load_yaml, plain

    results: dict[str, Any] = {
        "command": "python bench/gateway.py " + " ".join(sys.argv[1:]),
        "rounds": args.rounds, "seconds_per_run": max(5, args.seconds // 2),
        "request": TOOL_BODY, "load_average_before": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        ws = init_workspace(root)
        add_system(ws.store, ws.ledger, system_id="bench", name="Bench", owner="me", actor="b")
        no_tools = plain(load_yaml(default_policy_text(), "default.yaml", what="policy"))
        del no_tools["tools"]
        policy = Path(tmp) / "default-without-tools.yaml"
        policy.write_text(dump_yaml(no_tools), encoding="utf-8")
        keys = {
            "default_policy": create_key(ws.store, ws.ledger, name="tools", system="bench",
                                         actor="b", policy="default"),
            "default_policy_without_tools": create_key(ws.store, ws.ledger, name="no-tools",
                                                       system="bench", actor="b",
                                                       policy=str(policy)),
        }
        ws.close()
        upstream, url, procs = _upstream_and_gateway(root)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in keys}
        try:
            _wait(f"{upstream}/v1/models")
            _wait(url.replace("/chat/completions", "/models"),
                  {"authorization": f"Bearer {keys['default_policy']}"})
            for name, key in keys.items():
                answer = httpx.post(url, json=TOOL_BODY, timeout=30,
                                    headers={"authorization": f"Bearer {key}"})
                calls = answer.json()["choices"][0]["message"]["tool_calls"]
                assert answer.status_code == 200 and len(calls) == 3, answer.text
                results.setdefault("decision_header", {})[name] = \
                    answer.headers["x-assay-decision"]
            for round_no in range(args.rounds):
                for name, key in keys.items():
                    result = wrk(url, key, 1, results["seconds_per_run"], body=TOOL_BODY)
                    runs[name].append(result)
                    print(round_no, name, json.dumps(result), flush=True)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)
    added = {}
    for p in ("p50", "p99"):
        rounds = [round(on["latency_ms"][p] - off["latency_ms"][p], 3) for on, off in
                  zip(runs["default_policy"], runs["default_policy_without_tools"], strict=True)]
        added[p] = round(median(rounds), 3)
        added[f"{p}_rounds"] = rounds
    results["runs"] = runs
    results["added_latency_ms"] = added
    results["in_process_tool_checks_ms"] = _tool_check_cost()
    results["target_p99_ms"] = TOOLS_TARGET_MS
    results["target_met"] = added["p99"] <= TOOLS_TARGET_MS
    results["load_average_after"] = os.getloadavg()
    TOOLS_RESULTS.parent.mkdir(parents=True, exist_ok=True)
    TOOLS_RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({"added_latency_ms": added, "target_met": results["target_met"],
                      "in_process": results["in_process_tool_checks_ms"]}, indent=2))


ADVERSARIAL_RESULTS = RESULTS.with_name("gateway-adversarial.json")
ADVERSARIAL_TARGET_MS = 50.0
HOSTILE = "-----BEGIN RSA PRIVATE KEY-----\n" * 300_000  # 9.6 MB of repeated PEM headers


def _hostile_loop(url: str, key: str, stop: threading.Event, out: list[dict[str, Any]]) -> None:
    """Post the hostile body back to back until ``stop``; each one's status and time."""
    body = json.dumps({**BODY, "messages": [{"role": "user", "content": HOSTILE}]})
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    with httpx.Client(timeout=120) as client:
        while not stop.is_set():
            start = time.perf_counter()
            answer = client.post(url, content=body, headers=headers)
            out.append({"status": answer.status_code,
                        "seconds": round(time.perf_counter() - start, 3)})


def adversarial_main(args: argparse.Namespace) -> None:
    """Issue #19: while one client sends 9.6 MB hostile bodies back to back, a small request
    on another connection may take at most 50 ms more at p99 than with no attacker (same
    gateway, same run, alternating rounds), and every hostile request ends in bounded time."""
    seconds = max(5, args.seconds // 2)
    results: dict[str, Any] = {
        "command": "python bench/gateway.py " + " ".join(sys.argv[1:]),
        "rounds": args.rounds, "seconds_per_run": seconds, "hostile_bytes": len(HOSTILE),
        "load_average_before": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        ws = init_workspace(root)
        add_system(ws.store, ws.ledger, system_id="bench", name="Bench", owner="me", actor="b")
        key = create_key(ws.store, ws.ledger, name="on", system="bench", actor="b",
                         policy="default")
        ws.close()
        upstream, url, procs = _upstream_and_gateway(root)
        runs: dict[str, list[dict[str, Any]]] = {"quiet": [], "under_attack": []}
        hostile: list[dict[str, Any]] = []
        try:
            _wait(f"{upstream}/v1/models")
            _wait(url.replace("/chat/completions", "/models"), {"authorization": f"Bearer {key}"})
            httpx.post(url, json=BODY, headers={"authorization": f"Bearer {key}"}, timeout=30)
            for round_no in range(args.rounds):
                runs["quiet"].append(wrk(url, key, 1, seconds))
                stop = threading.Event()
                attacker = threading.Thread(target=_hostile_loop, args=(url, key, stop, hostile))
                attacker.start()
                time.sleep(1.0)  # the first hostile body is inside the guard
                runs["under_attack"].append(wrk(url, key, 1, seconds))
                stop.set()
                attacker.join()
                print(round_no, json.dumps({k: v[-1]["latency_ms"] for k, v in runs.items()}),
                      flush=True)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)
    added = {}
    for p in ("p50", "p99"):
        rounds = [round(hot["latency_ms"][p] - calm["latency_ms"][p], 3)
                  for hot, calm in zip(runs["under_attack"], runs["quiet"], strict=True)]
        added[p] = round(median(rounds), 3)
        added[f"{p}_rounds"] = rounds
    results.update(
        runs=runs,
        added_latency_ms=added,
        hostile_requests={"count": len(hostile),
                          "statuses": sorted({h["status"] for h in hostile}),
                          "seconds_max": max((h["seconds"] for h in hostile), default=None)},
        target_p99_ms=ADVERSARIAL_TARGET_MS,
        target_met=added["p99"] <= ADVERSARIAL_TARGET_MS,
        load_average_after=os.getloadavg(),
    )
    ADVERSARIAL_RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({"added_latency_ms": added, "hostile": results["hostile_requests"],
                      "target_met": results["target_met"]}, indent=2))


if __name__ == "__main__":
    main()

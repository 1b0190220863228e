"""Health, readiness, metrics, request ids and request logs of the gateway (issue #24)."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
import yaml

from assay.gateway import GatewaySettings, create_fake_upstream, create_gateway
from assay.gateway.app import Gateway
from assay.gateway.local import LocalServer
from assay.validators import linear
from assay.workspace import Workspace

from .conftest import RuleGuard, Stack

MODEL = "assay-demo-1"
#: Every metric the gateway exports (the Grafana dashboard names only these).
GATEWAY_METRICS = {
    "http_server_request_duration_seconds",
    "http_server_active_requests",
    "assay_gateway_requests_total",
    "assay_gateway_guard_duration_seconds",
    "assay_guard_validator_duration_seconds",
    "gen_ai_client_operation_duration_seconds",
    "gen_ai_client_token_usage",
    "assay_gateway_upstream_errors_total",
    "assay_gateway_streams_total",
    "assay_evidence_queue_depth",
    "assay_evidence_spilled_total",
    "assay_evidence_spill_files",
    "assay_ledger_entries",
    "assay_ledger_checkpoint_age_seconds",
    "assay_drift_level",
}


def _stack(workspace: Workspace, settings: GatewaySettings, guard: object) -> Iterator[Stack]:
    from assay.aims import add_system
    from assay.gateway.keys import create_key

    upstream_app = create_fake_upstream()
    upstream = LocalServer(upstream_app)
    add_system(workspace.store, workspace.ledger, system_id="bot", name="Bot", owner="CX",
               actor="t")
    key = create_key(workspace.store, workspace.ledger, name="tests", system="bot", actor="t",
                     policy=settings.policy)
    settings.upstream = upstream.url
    app = create_gateway(workspace, settings)
    gateway: Gateway = app.state.gateway
    if isinstance(guard, RuleGuard):
        gateway.use_guard(str(settings.policy), guard)
    else:
        gateway.warm()
    server = LocalServer(app)
    try:
        yield Stack(f"{server.url}/v1", upstream.url, key, gateway, workspace,
                    guard if isinstance(guard, RuleGuard) else RuleGuard(), upstream_app)
    finally:
        server.stop()
        upstream.stop()


@pytest.fixture
def metered(workspace: Workspace) -> Iterator[Stack]:
    """The gateway with metrics on and the real default policy (validators run)."""
    settings = GatewaySettings(policy="default", key_cache_seconds=0, metrics=True)
    yield from _stack(workspace, settings, None)


def _root(stack: Stack) -> str:
    return stack.url.removesuffix("/v1")


def _client(stack: Stack) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.url, api_key=stack.key, max_retries=0, timeout=20)


def test_health_and_readiness_need_no_key_and_carry_no_content(stack: Stack) -> None:
    health = httpx.get(f"{_root(stack)}/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = httpx.get(f"{_root(stack)}/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "checks": {
        "policy": "ok", "models": "ok", "store": "ok", "evidence_writer": "ok"}}
    assert httpx.get(f"{_root(stack)}/metrics").status_code == 404  # metrics off by default


def test_readiness_fails_while_a_model_file_is_missing(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(linear, "_CACHE", dict(linear._CACHE))
    model = tmp_path / "toxicity.npz"
    model.write_bytes((linear.MODEL_DIR / "toxicity.npz").read_bytes())
    linear.load_model("toxicity", directory=tmp_path)
    assert httpx.get(f"{_root(stack)}/readyz").status_code == 200
    model.unlink()
    ready = httpx.get(f"{_root(stack)}/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["models"] == "missing model file toxicity.npz"


def test_readiness_fails_when_the_evidence_writer_died(stack: Stack) -> None:
    stack.gateway.recorder.writer._process.kill()
    stack.gateway.recorder.writer._process.join(5)
    ready = httpx.get(f"{_root(stack)}/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["evidence_writer"] != "ok"


def test_request_id_reaches_the_upstream_the_evidence_and_the_answer(stack: Stack) -> None:
    raw = _client(stack).chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "Hello"}],
        extra_headers={"x-request-id": "req-123"})
    assert raw.headers["x-request-id"] == "req-123"
    assert stack.upstream_app.state.request_ids[-1] == "req-123"
    stack.gateway.recorder.flush()
    decisions = [e.decoded()["summary"] for e in stack.workspace.ledger.iter_entries()
                 if e.decoded()["type"] == "assay.dev/guard-decision/v1"]
    assert {d["request_id"] for d in decisions} == {"req-123"}
    # an id that is not short and plain is replaced
    bad = httpx.post(f"{stack.url}/chat/completions", headers={
        "authorization": f"Bearer {stack.key}", "x-request-id": "x" * 200},
        json={"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]})
    assert len(bad.headers["x-request-id"]) == 32


def test_one_json_log_line_per_request_without_content_or_key(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    from assay.ops.logs import JsonFormatter

    caplog.set_level(logging.INFO, logger="assay.access")
    _client(stack).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "My mail is ann@example.com"}])
    httpx.get(f"{_root(stack)}/readyz")  # probes are not logged
    records = [r for r in caplog.records if r.name == "assay.access"]
    assert len(records) == 1
    line = JsonFormatter().format(records[0])
    data = json.loads(line)
    assert data["route"] == "/v1/chat/completions" and data["status"] == 200
    assert data["system"] == "bot" and data["decision"] == "redact"
    assert data["key_name"] == "tests" and data["request_id"]
    assert {"duration_ms", "guard_ms", "upstream_ms"} <= set(data)
    assert "example.com" not in line and stack.key not in line and "mail" not in line
    assert data["model"] == MODEL


def test_stream_outcome_is_logged_when_the_stream_ends(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="assay.access")
    chunks = list(_client(stack).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Tell me a story"}], stream=True))
    assert chunks
    deadline = time.monotonic() + 5  # the line is written just after the last byte went
    while not [r for r in caplog.records if r.name == "assay.access"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    record = next(r for r in caplog.records if r.name == "assay.access")
    assert record.fields["stream"] == "completed"  # type: ignore[attr-defined]


def test_every_metric_appears_after_one_guarded_request(metered: Stack) -> None:
    client = _client(metered)
    client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}])
    list(client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Hi"}], stream=True))
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(
            model=f"{MODEL}:status=500", messages=[{"role": "user", "content": "Hi"}])
    metered.workspace.ledger.checkpoint()
    deadline = time.monotonic() + 5  # a stream is counted just after its last byte went
    while "assay_gateway_streams_total{" not in (
            text := httpx.get(f"{_root(metered)}/metrics").text):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    names = scraped_names(text)
    assert names >= GATEWAY_METRICS, GATEWAY_METRICS - names
    assert 'assay_gateway_requests_total{assay_decision="allow",assay_system="bot"' in text
    assert 'assay_gateway_streams_total{outcome="completed"} 1.0' in text
    assert 'error_type="500"' in text
    assert "Hi" not in text and metered.key not in text
    assert dashboard_metrics() <= names  # every metric the Grafana dashboard names exists


DOCS = Path(__file__).resolve().parents[3] / "docs" / "ops"


def dashboard_metrics() -> set[str]:
    """Metric families the Grafana dashboard's queries name (histograms by family)."""
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    exprs = [re.sub(r"\{[^}]*\}|\bby \([^)]*\)", "", t["expr"])  # label names out
             for p in dashboard["panels"] for t in p["targets"]]
    found = {re.sub(r"_(bucket|sum|count)$", "", name) for expr in exprs
             for name in re.findall(r"\b(?:assay|http_server|gen_ai)_[a-z_]+", expr)}
    return found


def test_the_sample_docs_parse_and_name_only_gateway_metrics() -> None:
    config = yaml.safe_load((DOCS / "prometheus.yml").read_text())
    assert {job["metrics_path"] for job in config["scrape_configs"]} == {"/metrics"}
    assert dashboard_metrics() and dashboard_metrics() <= GATEWAY_METRICS


def scraped_names(text: str) -> set[str]:
    """Metric family names in a scrape (its ``# TYPE`` lines)."""
    return {line.split(" ")[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def test_cli_metrics_log_format_and_drain_reach_the_workers(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import gc

    import uvicorn
    from typer.testing import CliRunner

    from assay.cli.gateway import app as gateway_cli
    from assay.gateway.server import LOG_FORMAT_ENV, app_from_env, settings_to_env

    started: dict[str, object] = {}
    monkeypatch.setenv("ASSAY_HOME", str(workspace.root))
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: started.update(options))
    for name in [*settings_to_env(workspace.root, GatewaySettings()), LOG_FORMAT_ENV,
                 "ASSAY_GATEWAY_HEADER_TIMEOUT"]:
        if name != "ASSAY_HOME":
            monkeypatch.setenv(name, "")  # restored after the test
    monkeypatch.setattr(logging.getLogger("assay"), "handlers", [])
    out = CliRunner().invoke(gateway_cli, ["--policy", "off", "--metrics", "--log-format",
                                           "json", "--drain-timeout", "5"])
    assert out.exit_code == 0, out.output
    assert started["timeout_graceful_shutdown"] == 5
    assert os.environ[LOG_FORMAT_ENV] == "json"
    try:
        gateway = app_from_env().state.gateway
        try:
            assert gateway.settings.metrics is True
        finally:
            asyncio.run(gateway.close())
    finally:
        gc.unfreeze()
    refused = CliRunner().invoke(gateway_cli, ["--log-format", "xml"])
    assert refused.exit_code == 2 and "log-format" in refused.output


@pytest.mark.parametrize("mode", ["windowed", "buffer"])
def test_a_blocked_stream_is_logged_as_blocked(
    stack: Stack, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    from assay.guard.policy import StreamSettings

    stack.guard.stream = StreamSettings(mode=mode)  # type: ignore[arg-type]
    caplog.set_level(logging.INFO, logger="assay.access")
    body = {"model": f"{MODEL}:reply=the key is sk-demo-{'A' * 24}", "stream": True,
            "messages": [{"role": "user", "content": "Hi"}]}
    with httpx.stream("POST", f"{stack.url}/chat/completions", json=body,
                      headers={"authorization": f"Bearer {stack.key}"}) as response:
        text = response.read().decode()
    assert "content_filter" in text and "[DONE]" not in text
    deadline = time.monotonic() + 5
    while not [r for r in caplog.records if r.name == "assay.access"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    record = next(r for r in caplog.records if r.name == "assay.access")
    assert record.fields["stream"] == "blocked"  # type: ignore[attr-defined]
    assert record.fields["decision"] == "block"  # type: ignore[attr-defined]

"""The gateway's operations surface: health, readiness, metrics, request logs, request ids.

``instrument(app, gateway)`` adds ``/healthz`` and ``/readyz`` (always, no key needed),
``/metrics`` (with ``GatewaySettings.metrics``), and wraps the app in a
:class:`~assay.ops.requests.RequestObserver` that gives every request an id, counts it
and logs one line for it. The upstream client is swapped for :class:`ObservedUpstream`,
which sends the request id upstream (``x-request-id``) and times the call. Nothing here
reads a text the guard checks.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.types import Scope

from assay.gateway.guarding import PolicyGuard, worst
from assay.gateway.upstream import Reply, StreamReply, Upstream, UpstreamError
from assay.guard.verdict import Verdict
from assay.ops.health import Check, health_routes, store_reachable
from assay.ops.requests import Describe, RequestInfo, RequestObserver, current
from assay.validators.encoder import loaded_model_file
from assay.validators.linear import loaded_model_files

if TYPE_CHECKING:
    from assay.gateway.app import Gateway, _Call
    from assay.ops.metrics import HttpMetrics

__all__ = ["GatewayMetrics", "ObservedUpstream", "instrument"]


class GatewayMetrics:
    """The gateway's own metrics (see ``docs/gateway.md#operations`` for the list)."""

    def __init__(self, gateway: Gateway) -> None:
        from prometheus_client import Counter, Histogram

        from assay.ops.metrics import (
            FAST_BUCKETS,
            GEN_AI_BUCKETS,
            TOKEN_BUCKETS,
            DriftCollector,
            EvidenceCollector,
            HttpMetrics,
            LedgerCollector,
            registry_with,
        )

        writer = gateway.recorder.writer
        self.collectors = [
            EvidenceCollector(gateway.workspace.spill_dir, lambda: writer.queue_depth,
                              lambda: writer.spilled),
            LedgerCollector(gateway.workspace.store),
            DriftCollector(gateway.drift.status),
        ]
        registry = self.registry = registry_with(self.collectors)
        self.http: HttpMetrics = HttpMetrics(registry)
        self.requests = Counter(
            "assay_gateway_requests", "Gateway requests by route, AI system and decision.",
            ["http_route", "assay_system", "assay_decision", "http_response_status_code"],
            registry=registry,
        )
        self.guard = Histogram(
            "assay_gateway_guard_duration_seconds",
            "Guard time spent on one request (input, output and stream windows).",
            ["http_route"], buckets=FAST_BUCKETS, registry=registry,
        )
        self.validator = Histogram(
            "assay_guard_validator_duration_seconds",
            "Time of one validator on one text (a stream window counts as one text).",
            ["assay_validator"], buckets=FAST_BUCKETS, registry=registry,
        )
        self.upstream = Histogram(
            "gen_ai_client_operation_duration_seconds",
            "Upstream model calls, to the whole answer (to the response head for a stream).",
            ["gen_ai_operation_name", "server_address", "error_type"],
            buckets=GEN_AI_BUCKETS, registry=registry,
        )
        self.upstream_errors = Counter(
            "assay_gateway_upstream_errors",
            "Upstream calls that failed (timeout, unreachable, broken) or answered >= 400.",
            ["server_address", "error_type"], registry=registry,
        )
        self.tokens = Histogram(
            "gen_ai_client_token_usage", "Tokens per request, as the upstream reported them.",
            ["gen_ai_operation_name", "gen_ai_token_type"], buckets=TOKEN_BUCKETS,
            registry=registry,
        )
        self.streams = Counter(
            "assay_gateway_streams",
            "Streamed answers by outcome: completed, blocked, upstream_broken, guard_timeout, "
            "bad_upstream, disconnected.", ["outcome"], registry=registry,
        )

    def verdict(self, verdict: Verdict) -> None:
        """Per-validator timings of one guard check (called from the guard's threads)."""
        for name, ms in verdict.timings_ms.items():
            self.validator.labels(name).observe(ms / 1000)


_UNSAFE = re.compile(r"[^A-Za-z0-9._:/@+\- ]")
_OPERATION = {"/v1/chat/completions": "chat", "/v1/completions": "text_completion",
              "/v1/embeddings": "embeddings", "/v1/models": "models"}


class ObservedUpstream(Upstream):
    """The upstream client, sending the request id and timing each call."""

    def __init__(self, timeout: float, metrics: GatewayMetrics | None) -> None:
        super().__init__(timeout)
        self.metrics = metrics

    async def request(
        self, method: str, url: str, headers: dict[str, str], body: Any = None
    ) -> Reply:
        info = current()
        started = time.perf_counter()
        try:
            reply = await super().request(method, url, _with_id(headers, info), body)
        except UpstreamError as exc:
            self._done(url, info, started, exc.kind)
            raise
        self._done(url, info, started, str(reply.status) if reply.status >= 400 else "")
        return reply

    async def stream(self, url: str, headers: dict[str, str], body: Any) -> StreamReply:
        info = current()
        started = time.perf_counter()
        try:
            reply = await super().stream(url, _with_id(headers, info), body)
        except UpstreamError as exc:
            self._done(url, info, started, exc.kind)
            raise
        self._done(url, info, started, str(reply.status) if reply.status >= 400 else "")
        return reply

    def _done(self, url: str, info: RequestInfo | None, started: float, error: str) -> None:
        elapsed = time.perf_counter() - started
        if info is not None:
            info.upstream_s += elapsed
            info.upstream_error = error or info.upstream_error
        if self.metrics is None:
            return
        host = url.split("://", 1)[-1].split("/", 1)[0]
        operation = next((op for path, op in _OPERATION.items() if url.endswith(path)), "other")
        self.metrics.upstream.labels(operation, host, error).observe(elapsed)
        if error:
            self.metrics.upstream_errors.labels(host, error).inc()


def _with_id(headers: dict[str, str], info: RequestInfo | None) -> dict[str, str]:
    return headers if info is None else {**headers, "x-request-id": info.request_id}


def readiness_checks(gateway: Gateway) -> Mapping[str, Check]:
    """Policy loaded, models on disk, store reachable, evidence writer alive."""

    def policy() -> str | None:
        return None if gateway.settings.policy in gateway.loaded_policies else "not loaded"

    def models() -> str | None:
        files = loaded_model_files() + [p for p in [loaded_model_file()] if p is not None]
        missing = sorted(p.name for p in files if not p.is_file())
        return f"missing model file {', '.join(missing)}" if missing else None

    def writer() -> str | None:
        return None if gateway.recorder.writer.alive else "evidence writer process has exited"

    return {
        "policy": policy,
        "models": models,
        "store": store_reachable(gateway.workspace.store),
        "evidence_writer": writer,
    }


def _describe(metrics: GatewayMetrics | None) -> Describe:
    """The gateway's fields of a finished request's log line; with metrics on, the request
    is counted on the way (system, decision, guard time, tokens, stream outcome)."""

    def describe(scope: Scope, info: RequestInfo, status: int, completed: bool
                 ) -> dict[str, Any]:
        call: _Call | None = scope.get("state", {}).get("assay_call")
        fields: dict[str, Any] = {}
        if info.upstream_s:
            fields["upstream_ms"] = round(info.upstream_s * 1000, 2)
        if info.upstream_error:
            fields["upstream_error"] = info.upstream_error
        system, decision = "", ""
        if call is not None:
            decision = worst(call.decisions).action if call.decisions else ""
            system = call.binding.system
            fields.update(system=system, key_name=call.binding.name, model=_plain(call.model),
                          decision=decision, guard_ms=round(call.guard_ms, 2))
            if call.stream_outcome is not None or call.streamed:
                outcome = call.stream_outcome or ("completed" if completed else "disconnected")
                fields["stream"] = outcome
                if metrics is not None:
                    metrics.streams.labels(outcome).inc()
            if metrics is not None:
                metrics.guard.labels(info.route).observe(call.guard_ms / 1000)
                _tokens(metrics, info.route, call.usage)
        if metrics is not None and info.route in _OPERATION:
            metrics.requests.labels(info.route, system, decision, str(status)).inc()
        return fields

    return describe


def _plain(value: str, limit: int = 100) -> str:
    """A client-chosen string made safe for a text log line (no line breaks, no controls)."""
    return _UNSAFE.sub("?", value[:limit])


def _tokens(metrics: GatewayMetrics, route: str, usage: dict[str, Any] | None) -> None:
    if not usage:
        return
    operation = _OPERATION.get(route, "other")
    for key, kind in (("prompt_tokens", "input"), ("completion_tokens", "output")):
        value = usage.get(key)
        if isinstance(value, int) and value >= 0:
            metrics.tokens.labels(operation, kind).observe(value)


def instrument(app: Starlette, gateway: Gateway) -> None:
    """Add the operations routes and the request observer to the gateway's app."""
    metrics = GatewayMetrics(gateway) if gateway.settings.metrics else None
    gateway.upstream = ObservedUpstream(gateway.settings.upstream_timeout, metrics)
    if metrics is not None:
        gateway.on_guard_loaded = lambda guard: _watch(guard, metrics)
    app.router.routes.extend(health_routes(lambda: readiness_checks(gateway)))
    if metrics is not None:
        from assay.ops.metrics import metrics_route

        app.router.routes.append(metrics_route(metrics.registry, metrics.collectors))
    app.add_middleware(RequestObserver, http=metrics.http if metrics else None,
                       describe=_describe(metrics))


def _watch(guard: object, metrics: GatewayMetrics) -> None:
    if isinstance(guard, PolicyGuard):
        guard.on_verdict = metrics.verdict

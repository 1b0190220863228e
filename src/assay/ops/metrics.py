"""Prometheus metrics (``prometheus-client``): names, collectors and the ``/metrics`` route.

Names follow the Prometheus conventions (base units, ``_total`` counters) and, where
OpenTelemetry defines the measurement, its semantic-convention name with dots as
underscores: ``http_server_request_duration_seconds`` and ``http_server_active_requests``
(HTTP server), ``gen_ai_client_operation_duration_seconds`` and
``gen_ai_client_token_usage`` (GenAI client, the upstream call). Labels carry only
bounded values: routes, AI system ids, decisions, validator names, status codes, error
types, upstream host names. No request or answer content, no key, no model name a
client could vary at will.

With ``--workers N`` the servers set ``PROMETHEUS_MULTIPROC_DIR`` before the workers
start: counters and histograms are then summed over the workers in every scrape
(prometheus-client's multiprocess mode), and the gauges this module computes at scrape
time (evidence queue, ledger, drift) are those of the worker that answered.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from assay.store import Store
from assay.store.models import LedgerCheckpoint, LedgerEntry

__all__ = [
    "FAST_BUCKETS",
    "GEN_AI_BUCKETS",
    "MULTIPROC_ENV",
    "TOKEN_BUCKETS",
    "DriftCollector",
    "EvidenceCollector",
    "HttpMetrics",
    "LedgerCollector",
    "metrics_route",
    "process_exited",
    "registry_with",
    "scrape",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# no ``*_created`` series: they would double every counter's output
disable_created_metrics()  # type: ignore[no-untyped-call]
_LEVELS = {"ok": 0, "warn": 1, "alert": 2, "critical": 3}
#: Seconds: guard steps are milliseconds, upstream calls seconds.
FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
#: OpenTelemetry's advised buckets for gen_ai.client.operation.duration.
GEN_AI_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
           40.96, 81.92)
#: OpenTelemetry's advised buckets for gen_ai.client.token.usage.
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
           16777216, 67108864)


class HttpMetrics:
    """Per-request HTTP server metrics, shared by the gateway and the dashboard."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.duration = Histogram(
            "http_server_request_duration_seconds",
            "Duration of HTTP server requests (to the end of a streamed body).",
            ["http_request_method", "http_route", "http_response_status_code"],
            registry=registry,
        )
        self.active = Gauge(
            "http_server_active_requests", "HTTP server requests in progress.",
            registry=registry, multiprocess_mode="livesum",
        )


class LedgerCollector(Collector):
    """Ledger size and the age of the latest checkpoint, read at most every ``ttl`` s."""

    def __init__(self, store: Store, ttl: float = 10.0) -> None:
        self._store = store
        self._ttl = ttl
        self._lock = threading.Lock()
        self._read_at = -ttl
        self._size = 0.0
        self._checkpoint: datetime | None = None

    def _refresh(self) -> None:
        with self._lock:
            if time.monotonic() - self._read_at < self._ttl:
                return
            with self._store.session() as session:
                last = session.scalar(select(func.max(LedgerEntry.seq)))
                created = session.scalar(select(func.max(LedgerCheckpoint.created_at)))
            self._size = 0.0 if last is None else float(last) + 1
            if created is not None and created.tzinfo is None:
                created = created.replace(tzinfo=UTC)  # SQLite drops the zone
            self._checkpoint = created
            self._read_at = time.monotonic()

    def collect(self) -> Iterable[Metric]:
        try:
            self._refresh()
        except Exception:  # a scrape must not fail with the store; readiness reports it
            return
        yield GaugeMetricFamily(
            "assay_ledger_entries", "Entries in the evidence ledger.", value=self._size
        )
        if self._checkpoint is not None:
            age = (datetime.now(UTC) - self._checkpoint).total_seconds()
            yield GaugeMetricFamily(
                "assay_ledger_checkpoint_age_seconds",
                "Seconds since the latest signed checkpoint.", value=max(0.0, age),
            )


class EvidenceCollector(Collector):
    """The evidence writer's queue and spills (when this process has a writer), and the
    spill files waiting to be replayed into the ledger."""

    def __init__(self, spill_dir: Path, queue_depth: Callable[[], int] | None = None,
                 spilled: Callable[[], int] | None = None) -> None:
        self._spill_dir = spill_dir
        self._queue_depth = queue_depth
        self._spilled = spilled

    def collect(self) -> Iterable[Metric]:
        if self._queue_depth is not None:
            yield GaugeMetricFamily(
                "assay_evidence_queue_depth",
                "Evidence entries submitted but not yet taken by the writer process.",
                value=self._queue_depth(),
            )
        if self._spilled is not None:
            yield CounterMetricFamily(
                "assay_evidence_spilled", "Evidence entries spilled to disk by this process.",
                value=self._spilled(),
            )
        try:
            files = sum(1 for _ in self._spill_dir.glob("*.jsonl"))
        except OSError:
            files = 0
        yield GaugeMetricFamily(
            "assay_evidence_spill_files",
            "Spill files waiting to be replayed into the ledger.", value=files,
        )


class DriftCollector(Collector):
    """The live drift level of every monitored signal (0 ok, 1 warn, 2 alert, 3 critical)."""

    def __init__(self, status: Callable[[], dict[str, Any]]) -> None:
        self._status = status

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "assay_drift_level",
            "Drift level per AI system and signal: 0 ok, 1 warn, 2 alert, 3 critical.",
            labels=["assay_system", "assay_signal"],
        )
        try:
            systems = dict(self._status().get("systems", {}))
        except Exception:  # the monitor's state is read while its evaluator runs: skip once
            systems = {}
        for system, state in systems.items():
            for signal, level in dict(state.get("levels", {})).items():
                family.add_metric([system, signal], _LEVELS.get(str(level), 0))
        yield family


def scrape(registry: CollectorRegistry, extra: Iterable[Collector] = ()) -> bytes:
    """The exposition text: this process's registry, or every worker's in multiprocess
    mode, plus the collectors computed at scrape time."""
    if os.environ.get(MULTIPROC_ENV):
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        for collector in extra:
            merged.register(collector)
        return generate_latest(merged)
    return generate_latest(registry)


def metrics_route(registry: CollectorRegistry, extra: Iterable[Collector] = ()) -> Route:
    """``GET /metrics``: the exposition text (collectors run in a worker thread)."""
    collectors = list(extra)

    async def endpoint(_request: Request) -> Response:
        body = await run_in_threadpool(scrape, registry, collectors)
        return Response(body, media_type=CONTENT_TYPE_LATEST,
                        headers={"cache-control": "no-store"})

    return Route("/metrics", endpoint, methods=["GET"], include_in_schema=False)


def registry_with(collectors: Iterable[Collector]) -> CollectorRegistry:
    """A fresh registry holding ``collectors`` (when not in multiprocess mode)."""
    registry = CollectorRegistry()
    if not os.environ.get(MULTIPROC_ENV):
        for collector in collectors:
            registry.register(collector)
    return registry



def process_exited() -> None:
    """In multiprocess mode, drop this worker's live gauges (requests in progress) from
    the sum: a worker that stopped serves nothing."""
    if os.environ.get(MULTIPROC_ENV):
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

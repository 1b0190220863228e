"""Where drift alerts go: the log, a webhook, the evidence ledger, OpenTelemetry.

Sinks run on the evaluator thread (or inline during replay), never on the hot
path. A failing sink is logged and counted by the monitor; it never stops the
others. Ledger evidence uses the event time of the window's end as
``observed_at``, so a replay records the same facts as the live run did.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from assay.errors import AssayError
from assay.ledger import Evidence, Ledger, Subject
from assay.ledger.batcher import EvidenceQueue
from assay.ledger.evidence import DRIFT_ALERT
from assay.otel import tracer

__all__ = [
    "ALERT_CONTROLS",
    "ALERT_TYPE",
    "AlertSink",
    "DriftAlert",
    "LedgerAlertSink",
    "LogSink",
    "OtelSink",
    "WebhookSink",
]

log = logging.getLogger("assay.drift")

ALERT_TYPE = DRIFT_ALERT
ALERT_CONTROLS = (
    "iso42001:A.6.2.6",
    "eu-ai-act:Art.72(2)",
    "nist-ai-rmf:MEASURE-2.4",
    "nist-ai-rmf:MANAGE-4.1",
)
"""Operation and monitoring; post-market data collection; production monitoring."""


@dataclass(frozen=True)
class DriftAlert:
    """One evaluation's newly fired signals for one system."""

    system: str
    level: str
    ts: float
    reference: str
    window: Mapping[str, Any]
    signals: tuple[Mapping[str, Any], ...]
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def observed_at(self) -> datetime:
        return datetime.fromtimestamp(self.ts, UTC)

    def as_json(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "level": self.level,
            "ts": self.ts,
            "observed_at": self.observed_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "reference": self.reference,
            "window": dict(self.window),
            "signals": [dict(s) for s in self.signals],
        }

    def headline(self) -> str:
        names = ", ".join(f"{s['signal']} ({s['level']})" for s in self.signals)
        return f"drift {self.level} on {self.system}: {names}"


class AlertSink(Protocol):
    """Anything that accepts alerts; may raise, the monitor counts the failure."""

    def emit(self, alert: DriftAlert) -> None: ...


class LogSink:
    """Python logging on ``assay.drift``: WARNING for warn, ERROR above."""

    def emit(self, alert: DriftAlert) -> None:
        level = logging.WARNING if alert.level == "warn" else logging.ERROR
        log.log(level, "%s", alert.headline())


class WebhookSink:
    """HTTP POST of the alert JSON, retried with exponential back-off."""

    def __init__(
        self,
        url: str,
        *,
        retries: int = 3,
        timeout: float = 5.0,
        backoff: float = 0.5,
        client: httpx.Client | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise AssayError(f"webhook URL {url!r} must start with http:// or https://")
        self.url = url
        self.retries = retries
        self.backoff = backoff
        self._client = client or httpx.Client(timeout=timeout)

    def emit(self, alert: DriftAlert) -> None:
        body = {"type": ALERT_TYPE, **alert.as_json()}
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                response = self._client.post(self.url, json=body)
                if response.status_code < 500 and response.status_code != 429:
                    response.raise_for_status()
                    return
                last = httpx.HTTPStatusError(
                    f"HTTP {response.status_code}", request=response.request, response=response
                )
            except httpx.HTTPStatusError:
                raise
            except httpx.HTTPError as exc:
                last = exc
            if attempt < self.retries:
                time.sleep(self.backoff * 2**attempt)
        raise AssayError(f"webhook {self.url} failed after {self.retries + 1} tries: {last}")

    def close(self) -> None:
        self._client.close()


class LedgerAlertSink:
    """``assay.dev/drift-alert/v1`` evidence through an evidence queue or ``Ledger.append``."""

    def __init__(self, target: EvidenceQueue | Ledger, *, actor: str = "drift-monitor") -> None:
        self.target = target
        self.actor = actor

    def evidence(self, alert: DriftAlert) -> Evidence:
        return Evidence(
            type=ALERT_TYPE,
            actor=self.actor,
            summary={
                "level": alert.level,
                "reference": alert.reference,
                "window": dict(alert.window),
                "signals": [_summary_signal(s) for s in alert.signals],
            },
            subject=Subject(alert.system),
            controls=ALERT_CONTROLS,
            observed_at=alert.observed_at,
        )

    def emit(self, alert: DriftAlert) -> None:
        evidence = self.evidence(alert)
        if isinstance(self.target, Ledger):
            self.target.append([evidence])
        else:
            self.target.submit(evidence)


def _summary_signal(signal: Mapping[str, Any]) -> dict[str, Any]:
    """Figures only, rounded: the entry stays small and canonical."""
    out: dict[str, Any] = {"signal": signal["signal"], "kind": signal["kind"]}
    out["level"] = signal["level"]
    out["statistics"] = {
        name: {k: round(float(v), 6) if isinstance(v, float) else v for k, v in s.items()}
        for name, s in signal["statistics"].items()
    }
    return out


class OtelSink:
    """An OpenTelemetry span ``assay.drift.alert`` with one event, exported over OTLP/HTTP.

    OpenTelemetry is optional: without its packages a configured endpoint is a
    clear error naming what to install.
    """

    def __init__(self, endpoint: str, *, service_name: str = "assay-drift") -> None:
        self._provider, self._tracer = tracer("assay.drift", service_name, endpoint=endpoint)

    def emit(self, alert: DriftAlert) -> None:
        ts_ns = int(alert.ts * 1e9)
        attributes = {
            "assay.system": alert.system,
            "assay.drift.level": alert.level,
            "assay.drift.reference": alert.reference,
            "assay.drift.signals": [str(s["signal"]) for s in alert.signals],
        }
        span = self._tracer.start_span("assay.drift.alert", start_time=ts_ns, attributes=attributes)
        span.add_event("drift-alert", attributes=attributes, timestamp=ts_ns)
        span.end(end_time=ts_ns)

    def close(self) -> None:
        self._provider.shutdown()

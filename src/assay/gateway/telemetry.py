"""OpenTelemetry GenAI spans for gateway requests (off unless an OTLP endpoint is set).

One span per request, named ``{gen_ai.operation.name} {gen_ai.request.model}``,
with the GenAI semantic-convention attributes and one
``gen_ai.evaluation.result`` event per guard finding (validator name, score,
label). Content capture is off: no prompt or completion text is exported.
OpenTelemetry is optional; a configured endpoint without it is a clear error.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from assay.gateway.guarding import Decision, worst
from assay.otel import OTEL_PACKAGES, tracer

__all__ = ["OTEL_PACKAGES", "Telemetry"]


class Telemetry:
    """Exports request spans; a no-op when neither an endpoint nor an exporter is given."""

    def __init__(self, endpoint: str | None = None, *, exporter: Any = None) -> None:
        self._tracer: Any = None
        self._provider: Any = None
        if endpoint is None and exporter is None:
            return
        self._provider, self._tracer = tracer(
            "assay.gateway", "assay-gateway", endpoint=endpoint, exporter=exporter
        )

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    def record(
        self,
        *,
        operation: str,
        model: str,
        upstream: str,
        system: str,
        decisions: list[Decision],
        usage: dict[str, Any] | None,
        status: int,
        started_ns: int,
        ended_ns: int,
    ) -> None:
        """Export one finished request as a span with its evaluation events."""
        if self._tracer is None:
            return
        address = urlsplit(upstream)
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": model,
            "server.address": address.hostname or "",
            "server.port": address.port or (443 if address.scheme == "https" else 80),
            "http.response.status_code": status,
            "assay.system": system,
            "assay.decision": worst(decisions).action,
            "assay.guard_ms": round(sum(d.guard_ms for d in decisions), 3),
        }
        if usage:
            attributes["gen_ai.usage.input_tokens"] = int(usage.get("prompt_tokens", 0))
            attributes["gen_ai.usage.output_tokens"] = int(usage.get("completion_tokens", 0))
        if status >= 400:
            attributes["error.type"] = str(status)
        span = self._tracer.start_span(
            f"{operation} {model}", start_time=started_ns, attributes=attributes
        )
        for decision in decisions:
            for finding in decision.findings:
                span.add_event(
                    "gen_ai.evaluation.result",
                    attributes={
                        "gen_ai.evaluation.name": str(finding["validator"]),
                        "gen_ai.evaluation.score.value": float(finding["score"]),
                        "gen_ai.evaluation.score.label": str(finding["label"]),
                    },
                )
        span.end(end_time=ended_ns)

    def close(self) -> None:
        if self._provider is not None:
            self._provider.shutdown()

"""The one OpenTelemetry setup: a tracer exporting over OTLP/HTTP, or to a given exporter.

OpenTelemetry is optional (``pip install 'assay[otel]'``): it is imported only
when a face configures an endpoint, and a configured endpoint without it is a
clear error naming what to install. The gateway's request spans and the drift
monitor's alert spans both come from :func:`tracer`.
"""

from __future__ import annotations

import importlib
from typing import Any

from assay.errors import Invalid

__all__ = ["OTEL_PACKAGES", "tracer"]

OTEL_PACKAGES = "opentelemetry-sdk opentelemetry-exporter-otlp-proto-http"


def tracer(
    name: str, service_name: str, *, endpoint: str | None = None, exporter: Any = None
) -> tuple[Any, Any]:
    """``(provider, tracer)``: spans batched to ``endpoint`` (``/v1/traces`` added when
    missing), or handed to ``exporter`` one by one. Shut the provider down to flush."""
    try:
        trace = importlib.import_module("opentelemetry.trace")
        sdk_trace = importlib.import_module("opentelemetry.sdk.trace")
        export = importlib.import_module("opentelemetry.sdk.trace.export")
        resources = importlib.import_module("opentelemetry.sdk.resources")
        if exporter is None:
            otlp = importlib.import_module("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    except ImportError:
        raise Invalid(
            f"an OTLP endpoint is configured ({endpoint}) but OpenTelemetry is not installed: "
            f"pip install {OTEL_PACKAGES} (or pip install 'assay[otel]'; or unset the endpoint)"
        ) from None
    resource = resources.Resource.create({"service.name": service_name})
    provider = sdk_trace.TracerProvider(resource=resource)
    if exporter is None:
        url = str(endpoint).rstrip("/")
        url = url if url.endswith("/v1/traces") else f"{url}/v1/traces"
        provider.add_span_processor(export.BatchSpanProcessor(otlp.OTLPSpanExporter(endpoint=url)))
    else:
        provider.add_span_processor(export.SimpleSpanProcessor(exporter))
    return provider, trace.get_tracer(name, tracer_provider=provider)

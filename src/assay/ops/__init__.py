"""Operating the servers in a fleet: health checks, Prometheus metrics, structured logs.

Shared by the gateway (:mod:`assay.gateway.observe`) and the dashboard
(:mod:`assay.web.ops`). Nothing here ever sees request or answer content: only
identifiers, decisions, counts and timings.
"""

from assay.ops.health import Check, health_routes, schema_current, store_reachable
from assay.ops.logs import LOG_FORMATS, configure_logging, request_id

__all__ = [
    "LOG_FORMATS",
    "Check",
    "configure_logging",
    "health_routes",
    "request_id",
    "schema_current",
    "store_reachable",
]

"""The dashboard's operations surface: ``/healthz``, ``/readyz``, ``/metrics``, request logs.

Health and readiness need no login and say nothing about the workspace's content;
readiness checks the store answers and its schema is current. ``/metrics`` (off unless
``assay serve --metrics``) exports the HTTP server metrics, the ledger's size and the
age of its latest checkpoint, and the evidence spill files waiting in the workspace.
"""

from __future__ import annotations

from fastapi import FastAPI

from assay.ops.health import health_routes, schema_current, store_reachable
from assay.ops.requests import RequestObserver
from assay.workspace import Workspace

__all__ = ["instrument"]


def instrument(app: FastAPI, workspace: Workspace, *, metrics: bool = False) -> None:
    """Add the operations routes and the request observer to the dashboard's app."""
    checks = {"store": store_reachable(workspace.store),
              "schema": schema_current(workspace.store)}
    app.router.routes.extend(health_routes(lambda: checks))
    http = None
    if metrics:
        from assay.ops.metrics import (
            EvidenceCollector,
            HttpMetrics,
            LedgerCollector,
            metrics_route,
            registry_with,
        )

        collectors = [LedgerCollector(workspace.store), EvidenceCollector(workspace.spill_dir)]
        registry = registry_with(collectors)
        http = HttpMetrics(registry)
        app.router.routes.append(metrics_route(registry, collectors))
    app.add_middleware(RequestObserver, http=http)

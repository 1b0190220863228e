"""Process entry points: a factory uvicorn can import in every worker process.

``assay gateway`` passes its options through environment variables so that
``--workers N`` processes build identical, stateless gateways; they share only
the database (the ledger's sequencer keeps their evidence in one log).
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

from starlette.applications import Starlette

from assay.gateway.app import GatewaySettings, create_gateway
from assay.ops.logs import configure_logging
from assay.workspace import open_workspace

__all__ = ["ENV_PREFIX", "LOG_FORMAT_ENV", "app_from_env", "settings_to_env"]

ENV_PREFIX = "ASSAY_GATEWAY_"
LOG_FORMAT_ENV = f"{ENV_PREFIX}LOG_FORMAT"


def settings_to_env(workspace: Path, settings: GatewaySettings) -> dict[str, str]:
    env = {
        "ASSAY_HOME": str(workspace),
        f"{ENV_PREFIX}POLICY": settings.policy or "off",
        f"{ENV_PREFIX}UPSTREAM": settings.upstream,
        f"{ENV_PREFIX}BODY_LIMIT": str(settings.body_limit),
        f"{ENV_PREFIX}TIMEOUT": str(settings.upstream_timeout),
        f"{ENV_PREFIX}GUARD_TIMEOUT": str(settings.guard_timeout),
        f"{ENV_PREFIX}BODY_TIMEOUT": str(settings.body_timeout),
        f"{ENV_PREFIX}GUARD_THREADS": str(settings.guard_threads),
        f"{ENV_PREFIX}STORE_CONTENT": "1" if settings.store_content else "0",
        f"{ENV_PREFIX}METRICS": "1" if settings.metrics else "0",
    }
    if settings.upstream_credential:
        env[f"{ENV_PREFIX}UPSTREAM_CREDENTIAL"] = settings.upstream_credential
    if settings.otlp_endpoint:
        env[f"{ENV_PREFIX}OTLP_ENDPOINT"] = settings.otlp_endpoint
    return env


def app_from_env() -> Starlette:
    """Build the gateway from ``ASSAY_HOME`` and ``ASSAY_GATEWAY_*`` (one per worker)."""
    get = os.environ.get
    settings = GatewaySettings(
        policy=get(f"{ENV_PREFIX}POLICY", "default"),
        upstream=get(f"{ENV_PREFIX}UPSTREAM", "http://127.0.0.1:8001"),
        upstream_credential=get(f"{ENV_PREFIX}UPSTREAM_CREDENTIAL"),
        body_limit=int(get(f"{ENV_PREFIX}BODY_LIMIT", str(10 * 1024 * 1024))),
        upstream_timeout=float(get(f"{ENV_PREFIX}TIMEOUT", "60")),
        guard_timeout=float(get(f"{ENV_PREFIX}GUARD_TIMEOUT", "2")),
        body_timeout=float(get(f"{ENV_PREFIX}BODY_TIMEOUT", "30")),
        guard_threads=int(get(f"{ENV_PREFIX}GUARD_THREADS", "8")),
        store_content=get(f"{ENV_PREFIX}STORE_CONTENT") == "1",
        otlp_endpoint=get(f"{ENV_PREFIX}OTLP_ENDPOINT"),
        metrics=get(f"{ENV_PREFIX}METRICS") == "1",
    )
    configure_logging(get(LOG_FORMAT_ENV, "text"))
    workspace = open_workspace(Path(get("ASSAY_HOME", ".assay")).resolve())
    app = create_gateway(workspace, settings)
    gateway = app.state.gateway
    try:
        gateway.warm()  # a policy that does not load stops the start
    except Exception:
        gateway.runner.close()
        gateway.drift.close()
        gateway.recorder.close()
        raise
    settle_heap()
    return app


def settle_heap() -> None:
    """Move everything alive after start-up out of the cyclic garbage collector's sight.

    A gateway process holds about 100,000 long-lived objects (modules, the guard's
    models, the store); every full collection walked them all while requests waited.
    Measured with 50 concurrent clients against a fixed 100 ms upstream, guard off,
    three 15 s runs each: added p99 +32 to +58 ms without, +9 to +11 ms with.
    """
    gc.collect()
    gc.freeze()

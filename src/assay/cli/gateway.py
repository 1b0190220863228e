"""``assay gateway``: run the OpenAI-compatible gateway; manage its keys."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from assay.cli._common import (
    DrainOption,
    LogFormatOption,
    MetricsOption,
    actor,
    console,
    open_ws,
    print_json,
    workspace,
    workspace_path,
)
from assay.errors import AssayError

__all__ = ["app"]

app = typer.Typer(
    help="OpenAI-compatible gateway with inline guardrails.", invoke_without_command=True
)
keys_app = typer.Typer(help="Gateway API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _require_server() -> None:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ModuleNotFoundError as exc:
        raise AssayError(
            f"the gateway needs the web extra ({exc.name} missing): pip install 'assay[web]'"
        ) from exc


@app.callback()
def run(
    ctx: typer.Context,
    policy: Annotated[
        str, typer.Option(help="Policy YAML file, 'default', or 'off' (no guard).")
    ] = "default",
    upstream: Annotated[
        str, typer.Option(help="OpenAI-compatible upstream base URL (without /v1).")
    ] = "http://127.0.0.1:8001",
    upstream_credential: Annotated[
        str | None, typer.Option(help="env:NAME or file:/path holding the upstream API key.")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes (stateless).")] = 1,
    store_content: Annotated[
        bool, typer.Option(help="Keep request bodies as evidence payloads (off: digests only).")
    ] = False,
    upstream_timeout: Annotated[
        float,
        typer.Option(min=0.1, help="Seconds the upstream may stay silent before a 504."),
    ] = 60.0,
    body_limit: Annotated[
        int, typer.Option(min=1, help="Largest request body in bytes (larger: 413).")
    ] = 10 * 1024 * 1024,
    guard_timeout: Annotated[
        float,
        typer.Option(min=0.05, help="Seconds one guard step may take before on_error applies."),
    ] = 2.0,
    header_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds for a request line and headers to arrive.")
    ] = 10.0,
    body_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds for a request body to arrive (else 408).")
    ] = 30.0,
    guard_threads: Annotated[
        int, typer.Option(min=1, help="Threads that run guard work (off the event loop).")
    ] = 8,
    otlp_endpoint: Annotated[
        str | None,
        typer.Option(
            envvar="OTEL_EXPORTER_OTLP_ENDPOINT",
            help="Export GenAI spans over OTLP/HTTP (off by default; no content is exported).",
        ),
    ] = None,
    metrics: MetricsOption = False,
    log_format: LogFormatOption = "text",
    drain_timeout: DrainOption = 30,
) -> None:
    """Serve /v1/chat/completions, /v1/completions, /v1/embeddings and /v1/models.

    Example: assay gateway --policy default --upstream https://api.openai.com \\
        --upstream-credential env:OPENAI_API_KEY --port 8080
    """
    if ctx.invoked_subcommand is not None:
        return
    _require_server()
    import uvicorn

    from assay.gateway.app import GatewaySettings
    from assay.gateway.http_server import HEADER_TIMEOUT_ENV
    from assay.gateway.server import LOG_FORMAT_ENV, settings_to_env
    from assay.ops.logs import LOG_FORMATS, configure_logging
    from assay.ops.serving import drain_on_sigterm, multiprocess_metrics

    if log_format not in LOG_FORMATS:
        raise typer.BadParameter("must be 'text' or 'json'", param_hint="--log-format")

    workspace = open_ws()  # fail fast with a clear error if there is no workspace
    workspace.close()
    settings = GatewaySettings(
        policy=policy,
        upstream=upstream.rstrip("/"),
        upstream_credential=upstream_credential,
        store_content=store_content,
        upstream_timeout=upstream_timeout,
        body_limit=body_limit,
        guard_timeout=guard_timeout,
        guard_threads=guard_threads,
        body_timeout=body_timeout,
        otlp_endpoint=otlp_endpoint,
        metrics=metrics,
    )
    os.environ.update(settings_to_env(workspace_path(), settings))
    os.environ[HEADER_TIMEOUT_ENV] = str(header_timeout)
    os.environ[LOG_FORMAT_ENV] = log_format
    configure_logging(log_format)
    console.print(f"Assay gateway on http://{host}:{port}/v1 → {upstream} (policy: {policy})")
    with multiprocess_metrics(workers, metrics), drain_on_sigterm():
        uvicorn.run(
            "assay.gateway.server:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            http="assay.gateway.http_server:HeadTimeoutProtocol",  # slow request heads dropped
            timeout_graceful_shutdown=drain_timeout,  # then streams still open are cut
        )


@app.command("fake-upstream")
def fake_upstream(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8001,
) -> None:
    """Serve the deterministic fake OpenAI-compatible model (for demos and tests).

    Example: assay gateway fake-upstream --port 8001
    """
    _require_server()
    import uvicorn

    from assay.gateway.fake_upstream import create_fake_upstream

    console.print(f"Fake upstream on http://{host}:{port}/v1")
    uvicorn.run(create_fake_upstream(), host=host, port=port, log_level="warning")


@keys_app.command("create")
def keys_create(
    system: Annotated[str, typer.Option(help="AI system the key's traffic belongs to.")],
    name: Annotated[str, typer.Option(help="What the key is for, e.g. web-frontend.")],
    policy: Annotated[str | None, typer.Option(help="Policy file for this key.")] = None,
    upstream: Annotated[str | None, typer.Option(help="Upstream base URL for this key.")] = None,
    upstream_credential: Annotated[
        str | None, typer.Option(help="env:NAME or file:/path (never the secret itself).")
    ] = None,
) -> None:
    """Create a gateway key; it is printed once and stored only as a hash.

    Example: assay gateway keys create --system support-bot --name web-frontend
    """
    from assay.gateway.keys import create_key

    with workspace() as ws:
        key = create_key(
            ws.store,
            ws.ledger,
            name=name,
            system=system,
            actor=actor(),
            policy=policy,
            upstream=upstream,
            upstream_credential=upstream_credential,
        )
    sys.stdout.write(key + "\n")


@keys_app.command("list")
def keys_list(json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List gateway keys (prefixes only).

    Example: assay gateway keys list --json
    """
    from assay.gateway.keys import list_keys

    with workspace() as ws:
        keys = list_keys(ws.store)
    if json_output:
        print_json(keys)
        return
    if not keys:
        console.print("No gateway keys: create one with `assay gateway keys create`.")
    for k in keys:
        state = "revoked" if k["revoked"] else "active"
        console.print(f"{k['id']:>4} {k['prefix']}… {k['system']:16} {k['name']} ({state})")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="Key id from `keys list`.")]) -> None:
    """Revoke a gateway key (refused from the next request on).

    Example: assay gateway keys revoke 2
    """
    from assay.gateway.keys import revoke_key

    with workspace() as ws:
        revoke_key(ws.store, ws.ledger, key_id=key_id, actor=actor())
    console.print(f"Revoked gateway key {key_id}")

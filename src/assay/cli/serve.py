"""``assay serve``, ``assay users`` and ``assay tokens``: the web dashboard and its accounts."""

from __future__ import annotations

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
)
from assay.errors import AssayError

__all__ = ["register", "tokens_app", "users_app"]

users_app = typer.Typer(help="Dashboard and API users.", no_args_is_help=True)
tokens_app = typer.Typer(
    help="API tokens (scoped, expiring, hashed at rest).", no_args_is_help=True
)


def _web() -> None:
    try:
        import argon2  # noqa: F401
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ModuleNotFoundError as exc:
        raise AssayError(
            f"the web extra is not installed ({exc.name} missing): pip install 'assay[web]'"
        ) from exc


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    tls_cert: Annotated[
        str | None, typer.Option(help="TLS certificate (PEM) to serve HTTPS.")
    ] = None,
    tls_key: Annotated[str | None, typer.Option(help="TLS private key (PEM).")] = None,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            help="Address of a reverse proxy whose X-Forwarded-For/-Proto to trust; repeat "
            "for several. Without it those headers are ignored."
        ),
    ] = None,
    metrics: MetricsOption = False,
    log_format: LogFormatOption = "text",
    drain_timeout: DrainOption = 30,
) -> None:
    """Serve the dashboard and the REST API (/api/v1).

    Example: assay serve --port 8000
    """
    _web()
    import uvicorn

    from assay.ops.logs import LOG_FORMATS, configure_logging
    from assay.ops.serving import drain_on_sigterm
    from assay.web import create_app

    if log_format not in LOG_FORMATS:
        raise typer.BadParameter("must be 'text' or 'json'", param_hint="--log-format")
    configure_logging(log_format)
    workspace = open_ws()
    app = create_app(workspace, secure_cookies=tls_cert is not None, metrics=metrics)
    scheme = "https" if tls_cert else "http"
    console.print(f"Assay dashboard on {scheme}://{host}:{port}/ (Ctrl+C to stop)")
    try:
        with drain_on_sigterm():
            uvicorn.run(
                app,
                host=host,
                port=port,
                log_level="warning",
                ssl_certfile=tls_cert,
                ssl_keyfile=tls_key,
                timeout_graceful_shutdown=drain_timeout,
                proxy_headers=bool(trusted_proxy),
                forwarded_allow_ips=_forwarded_allow_ips(trusted_proxy),
            )
    finally:
        workspace.close()


def _forwarded_allow_ips(trusted: list[str] | None) -> str | None:
    """uvicorn trusts X-Forwarded-* from 127.0.0.1 by default: here only named proxies.

    The client address keys the login throttle, so a forged header must not change it.
    """
    return ",".join(trusted) if trusted else None


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option(help="admin, compliance, engineer, auditor or viewer.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add a user (argon2-hashed password; the change is recorded in the ledger).

    Example: assay users add alice --role compliance
    """
    _web()
    from assay import accounts

    password = _password(password_stdin)
    with workspace() as ws:
        accounts.add_user(
            ws.store,
            ws.ledger,
            username=username,
            password=password,
            role=role,
            actor=actor(),
        )
    console.print(f"Added {username} ({role})")


@users_app.command("passwd")
def users_passwd(
    username: Annotated[str, typer.Argument(help="Login name.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
) -> None:
    """Set a user's password.

    Example: assay users passwd alice
    """
    _web()
    from assay import accounts

    password = _password(password_stdin)
    with workspace() as ws:
        accounts.set_password(
            ws.store, ws.ledger, username=username, password=password, actor=actor()
        )
    console.print(f"Password changed for {username}")


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Disable a user and end every session they have (their API tokens stop working too).

    Example: assay users disable alice
    """
    _web()
    from assay import accounts

    with workspace() as ws:
        accounts.set_disabled(
            ws.store, ws.ledger, username=username, disabled=True, actor=actor()
        )
    console.print(f"Disabled {username} and ended their sessions")


@users_app.command("enable")
def users_enable(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Enable a disabled user again.

    Example: assay users enable alice
    """
    _web()
    from assay import accounts

    with workspace() as ws:
        accounts.set_disabled(
            ws.store, ws.ledger, username=username, disabled=False, actor=actor()
        )
    console.print(f"Enabled {username}")


@users_app.command("list")
def users_list(json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List users.

    Example: assay users list --json
    """
    _web()
    from assay import accounts

    with workspace() as ws:
        users = accounts.list_users(ws.store)
    if json_output:
        print_json(users)
        return
    if not users:
        console.print("No users yet: add one with `assay users add NAME --role admin`.")
    for user in users:
        console.print(
            f"{user['username']:24} {user['role']:12} {'disabled' if user['disabled'] else ''}"
        )


@tokens_app.command("create")
def tokens_create(
    user: Annotated[str, typer.Option(help="Owner of the token.")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. ci.")],
    scope: Annotated[str, typer.Option(help="read or write.")] = "read",
    days: Annotated[int, typer.Option(help="Lifetime in days (1-366).")] = 90,
) -> None:
    """Create an API token; it is printed once and stored only as a hash.

    Example: assay tokens create --user ci-bot --name github-actions --scope read --days 30
    """
    _web()
    from assay import accounts

    with workspace() as ws:
        token = accounts.create_token(
            ws.store,
            ws.ledger,
            username=user,
            name=name,
            scope=scope,
            days=days,
            actor=actor(),
        )
    sys.stdout.write(token + "\n")


@tokens_app.command("list")
def tokens_list(json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List API tokens (prefixes only).

    Example: assay tokens list
    """
    _web()
    from assay import accounts

    with workspace() as ws:
        tokens = accounts.list_tokens(ws.store)
    if json_output:
        print_json(tokens)
        return
    for t in tokens:
        state = "revoked" if t["revoked"] else f"expires {t['expires_at']}"
        console.print(
            f"{t['id']:>4} {t['prefix']}… {t['user']:16} {t['scope']:6} {t['name']} ({state})"
        )


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="Token id from `tokens list`.")],
) -> None:
    """Revoke an API token.

    Example: assay tokens revoke 3
    """
    _web()
    from assay import accounts

    with workspace() as ws:
        accounts.revoke_token(ws.store, ws.ledger, token_id=token_id, actor=actor())
    console.print(f"Revoked token {token_id}")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")

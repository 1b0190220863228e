"""``assay init``: create a workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assay.cli._common import console, options, print_json
from assay.config import resolve_workspace
from assay.store import redact_url
from assay.workspace import init_workspace

__all__ = ["register"]


def init(
    directory: Annotated[
        Path | None,
        typer.Argument(help="Where to create it (default: --workspace, $ASSAY_HOME or ./.assay)."),
    ] = None,
    database_url: Annotated[
        str,
        typer.Option(
            "--database-url",
            help="Store on PostgreSQL instead of SQLite (or set ASSAY_DATABASE_URL).",
        ),
    ] = "",
    json_output: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Create a workspace: settings, signing key, blob store and database.

    Example: assay init ./.assay
    """
    root = resolve_workspace(directory or options.workspace)
    workspace = init_workspace(root, database_url=database_url)
    try:
        url = redact_url(workspace.settings.database_url)
        if json_output:
            print_json(
                {
                    "workspace": str(root),
                    "database": url,
                    "public_key": workspace.public_key_path.read_text().strip(),
                }
            )
            return
        console.print(f"Created workspace {root}")
        console.print(f"  database:   {url}")
        console.print(f"  public key: {workspace.public_key_path} (give this to your auditors)")
    finally:
        workspace.close()


def register(app: typer.Typer) -> None:
    app.command("init")(init)

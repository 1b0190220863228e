"""``assay db``: schema management."""

from __future__ import annotations

import typer

from assay.cli._common import console, workspace_path
from assay.workspace import open_workspace

__all__ = ["app"]

app = typer.Typer(help="Database schema management.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Apply pending schema migrations to the workspace's database.

    Example: assay db upgrade
    """
    workspace = open_workspace(workspace_path(), check_schema=False)
    try:
        workspace.store.upgrade()
        console.print("Database schema is up to date.")
    finally:
        workspace.close()

"""``assay demo``: the main job end to end on the embedded default (SQLite, no server)."""

from __future__ import annotations

from typing import Annotated

import typer

from assay.cli._common import options
from assay.config import resolve_workspace

__all__ = ["register"]


def demo(
    serve: Annotated[
        bool, typer.Option(help="Serve the dashboard at the end (--no-serve for CI and scripts).")
    ] = True,
    port: Annotated[int, typer.Option(help="Dashboard port.")] = 8000,
) -> None:
    """Run the main job: govern, red-team, guard traffic, prove, and show the dashboard.

    Uses ./.assay (or --workspace); an existing *demo* workspace there is replaced,
    any other workspace is left alone and the demo refuses to run.

    Example: assay demo --no-serve
    """
    from assay.cli.main import run
    from assay.demo import DemoOptions, run_demo

    root = resolve_workspace(options.workspace)
    run_demo(DemoOptions(root=root, serve=serve, port=port), cli=run)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)

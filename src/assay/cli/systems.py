"""``assay systems``: the AI system inventory (minimal record; see the AIMS guide)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from assay.aims import LIFECYCLE_STAGES, add_system, get_system, list_systems
from assay.cli._common import actor, console, open_ws, print_json

__all__ = ["app"]

app = typer.Typer(help="Register and list AI systems.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@app.command("add")
def add(
    system_id: Annotated[str, typer.Argument(help="Short id, e.g. support-bot.")],
    name: Annotated[str, typer.Option(help="Human name.")],
    owner: Annotated[str, typer.Option(help="Accountable owner (person or team).")],
    purpose: Annotated[str, typer.Option(help="What the system is for.")] = "",
    stage: Annotated[
        str, typer.Option(help=f"Life cycle stage: {', '.join(LIFECYCLE_STAGES)}.")
    ] = "development",
    json_output: JsonFlag = False,
) -> None:
    """Register an AI system; the change is recorded in the ledger.

    Example: assay systems add support-bot --name "Support chatbot" --owner "CX team"
    """
    workspace = open_ws()
    try:
        record = add_system(
            workspace.store,
            workspace.ledger,
            system_id=system_id,
            name=name,
            owner=owner,
            purpose=purpose,
            lifecycle_stage=stage,
            actor=actor(),
        )
    finally:
        workspace.close()
    if json_output:
        print_json(record.as_json())
    else:
        console.print(f"Registered {record.id} ({record.name})")


@app.command("list")
def list_(json_output: JsonFlag = False) -> None:
    """List registered AI systems.

    Example: assay systems list --json
    """
    workspace = open_ws()
    try:
        records = list_systems(workspace.store)
    finally:
        workspace.close()
    if json_output:
        print_json([r.as_json() for r in records])
        return
    if not records:
        console.print("No AI systems yet: add one with `assay systems add ID --name N --owner O`.")
        return
    table = Table("id", "name", "owner", "stage")
    for r in records:
        table.add_row(r.id, r.name, r.owner, r.lifecycle_stage)
    console.print(table)


@app.command("show")
def show(
    system_id: Annotated[str, typer.Argument(help="The system's id.")],
    json_output: JsonFlag = False,
) -> None:
    """Show one AI system.

    Example: assay systems show support-bot
    """
    workspace = open_ws()
    try:
        record = get_system(workspace.store, system_id)
    finally:
        workspace.close()
    if json_output:
        print_json(record.as_json())
        return
    for key, value in record.as_json().items():
        console.print(f"{key:16} {value}")

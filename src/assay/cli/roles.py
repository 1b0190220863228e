"""``assay roles``: RACI per system and per control (A.3.2) and concern channels (A.3.3)."""

from __future__ import annotations

from typing import Annotated

import typer

from assay.aims import roles
from assay.cli._common import actor, done, workspace
from assay.cli.aims import JsonFlag, emit

__all__ = ["app"]

app = typer.Typer(
    help="Roles and responsibilities (RACI) and concern channels.", no_args_is_help=True
)


@app.command("add")
def add(
    activity: Annotated[str, typer.Option(help="The activity, e.g. 'Accept AI risks'.")],
    accountable: Annotated[str, typer.Option(help="The one accountable person.")],
    responsible: Annotated[list[str], typer.Option("--responsible", help="Repeat.")],
    consulted: Annotated[list[str] | None, typer.Option("--consulted", help="Repeat.")] = None,
    informed: Annotated[list[str] | None, typer.Option("--informed", help="Repeat.")] = None,
    system: Annotated[str | None, typer.Option(help="The AI system (default: AIMS-wide).")] = None,
    control: Annotated[str | None, typer.Option(help="Control, e.g. iso42001:A.6.2.4.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Add a RACI line.

    Example: assay roles add --activity "Red-team before release" --accountable cto
    --responsible ml-team --system support-bot --control iso42001:A.6.2.4
    """
    fields = {
        "activity": activity,
        "accountable": accountable,
        "responsible": responsible,
        "consulted": consulted or [],
        "informed": informed or [],
        "control": control,
    }
    with workspace() as ws:
        made = roles.add_role(ws.store, ws.ledger, fields, actor=actor(), system=system)
    done(made, json_output, f"Added {made.id}")


@app.command("list")
def list_(
    system: Annotated[str | None, typer.Option(help="Only this system.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """List RACI lines.

    Example: assay roles list --system support-bot
    """
    with workspace() as ws:
        emit(
            roles.list_roles(ws.store, system=system),
            json_output,
            ("id", "system", "activity", "accountable", "responsible", "control"),
        )


@app.command("channel")
def channel(
    name: Annotated[str, typer.Option(help="Channel name.")],
    contact: Annotated[str, typer.Option(help="Address, URL or phone.")],
    description: Annotated[str, typer.Option(help="How it works.")] = "",
    anonymous: Annotated[bool, typer.Option(help="Reports can be anonymous.")] = False,
    handled_by: Annotated[str, typer.Option(help="Who triages reports.")] = "",
    json_output: JsonFlag = False,
) -> None:
    """Record a reporting-of-concerns channel (A.3.3).

    Example: assay roles channel --name "Ethics line" --contact ethics@example.com --anonymous
    """
    fields = {
        "name": name,
        "contact": contact,
        "description": description,
        "anonymous": anonymous,
        "handled_by": handled_by,
    }
    with workspace() as ws:
        made = roles.add_channel(ws.store, ws.ledger, fields, actor=actor())
    done(made, json_output, f"Added {made.id}")


@app.command("channels")
def channels(json_output: JsonFlag = False) -> None:
    """List concern channels.

    Example: assay roles channels --json
    """
    with workspace() as ws:
        emit(roles.list_channels(ws.store), json_output, ("id", "name", "contact", "anonymous"))

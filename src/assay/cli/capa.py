"""``assay capa``: nonconformity and corrective action (10.2), driven to an effective closure."""

from __future__ import annotations

from typing import Annotated

import typer

from assay.aims import capa
from assay.cli._common import actor, done, workspace
from assay.cli.aims import JsonFlag, emit, parse_date

__all__ = ["app"]

app = typer.Typer(
    help="Corrective actions: open, contain, analyse, act, verify, close.", no_args_is_help=True
)
CapaId = Annotated[str, typer.Argument(help="CAPA ID, e.g. CAPA-001.")]


@app.command("open")
def open_(
    title: Annotated[str, typer.Option(help="The nonconformity.")],
    source: Annotated[str, typer.Option(help=f"One of: {', '.join(capa.SOURCES)}.")] = "other",
    ref: Annotated[str, typer.Option(help="Source reference, e.g. F-001 for a finding.")] = "",
    description: Annotated[str, typer.Option(help="Details.")] = "",
    system: Annotated[str | None, typer.Option(help="The AI system.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Open a corrective action (from a finding, incident, failed control or review).

    Example: assay capa open --title "Unowned risk" --source finding --ref F-001
    """
    with workspace() as ws:
        made = capa.open_capa(
            ws.store,
            ws.ledger,
            title=title,
            source=source,
            source_ref=ref,
            description=description,
            system=system,
            actor=actor(),
        )
    done(made, json_output, f"Opened {made.id}")


@app.command("contain")
def contain(
    capa_id: CapaId,
    text: Annotated[str, typer.Argument(help="Containment.")],
    json_output: JsonFlag = False,
) -> None:
    """Record the immediate containment.

    Example: assay capa contain CAPA-001 "Owner assigned ad interim"
    """
    with workspace() as ws:
        made = capa.contain(ws.store, ws.ledger, capa_id, text, actor=actor())
    done(made, json_output, f"{made.id}: {made.status}")


@app.command("analyse")
def analyse(
    capa_id: CapaId,
    root_cause: Annotated[str, typer.Argument(help="Root cause.")],
    json_output: JsonFlag = False,
) -> None:
    """Record the root cause.

    Example: assay capa analyse CAPA-001 "Template adoption did not require an owner"
    """
    with workspace() as ws:
        made = capa.analyse(ws.store, ws.ledger, capa_id, root_cause, actor=actor())
    done(made, json_output, f"{made.id}: {made.status}")


@app.command("action")
def action(
    capa_id: CapaId,
    description: Annotated[str, typer.Option(help="The action.")],
    owner: Annotated[str, typer.Option(help="Who does it.")],
    due: Annotated[str | None, typer.Option(help="Due YYYY-MM-DD.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Add an action with an owner and due date.

    Example: assay capa action CAPA-001 --description "Assign owners" --owner risk-lead
    --due 2026-03-31
    """
    with workspace() as ws:
        made = capa.add_action(
            ws.store,
            ws.ledger,
            capa_id,
            description=description,
            owner=owner,
            due=parse_date(due, "--due"),
            actor=actor(),
        )
    done(made, json_output, f"{made.id}: action A{len(made.data.actions)} added")


@app.command("done")
def done_(
    capa_id: CapaId,
    action_id: Annotated[str, typer.Argument(help="Action ID, e.g. A1.")],
    json_output: JsonFlag = False,
) -> None:
    """Mark an action done.

    Example: assay capa done CAPA-001 A1
    """
    with workspace() as ws:
        made = capa.complete_action(ws.store, ws.ledger, capa_id, action_id, actor=actor())
    done(made, json_output, f"{made.id}: {action_id} done ({made.status})")


@app.command("verify")
def verify(
    capa_id: CapaId,
    effective: Annotated[bool, typer.Option("--effective/--not-effective", help="Outcome.")],
    note: Annotated[str, typer.Option(help="Evidence of effectiveness.")] = "",
    json_output: JsonFlag = False,
) -> None:
    """Record the effectiveness check (every action must be done).

    Example: assay capa verify CAPA-001 --effective --note "All risks have owners"
    """
    with workspace() as ws:
        made = capa.check_effectiveness(
            ws.store, ws.ledger, capa_id, effective=effective, note=note, actor=actor()
        )
    done(made, json_output, f"{made.id}: {'effective' if effective else 'not effective'}")


@app.command("close")
def close(capa_id: CapaId, json_output: JsonFlag = False) -> None:
    """Close after an effective check (closes the originating finding too).

    Example: assay capa close CAPA-001
    """
    with workspace() as ws:
        made = capa.close(ws.store, ws.ledger, capa_id, actor=actor())
    done(made, json_output, f"{made.id}: closed")


@app.command("list")
def list_(json_output: JsonFlag = False) -> None:
    """List corrective actions.

    Example: assay capa list --json
    """
    with workspace() as ws:
        emit(capa.list_capas(ws.store), json_output, ("id", "system", "status", "title", "source"))


@app.command("show")
def show(capa_id: CapaId, json_output: JsonFlag = False) -> None:
    """Show one corrective action.

    Example: assay capa show CAPA-001
    """
    with workspace() as ws:
        emit(capa.get_capa(ws.store, capa_id), json_output)

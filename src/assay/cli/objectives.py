"""``assay objectives``: measurable AI objectives fed from evidence or by hand."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from assay.aims import objectives
from assay.cli._common import actor, console, done, print_json, workspace
from assay.cli.aims import JsonFlag, parse_date

__all__ = ["app"]

app = typer.Typer(help="AI objectives: set, measure, refresh from evidence.", no_args_is_help=True)


@app.command("add")
def add(
    title: Annotated[str, typer.Option(help="The objective.")],
    target_op: Annotated[str, typer.Option("--target-op", help="<, <=, > or >=.")],
    target: Annotated[float, typer.Option(help="Target value.")],
    unit: Annotated[str, typer.Option(help="Unit, e.g. %.")] = "",
    system: Annotated[str | None, typer.Option(help="Only evidence about this system.")] = None,
    evidence_type: Annotated[
        str | None, typer.Option("--evidence-type", help="Feed from this evidence type.")
    ] = None,
    numerator: Annotated[str | None, typer.Option(help="Summary field, e.g. succeeded.")] = None,
    denominator: Annotated[str | None, typer.Option(help="Summary field, e.g. attempts.")] = None,
    scale: Annotated[float, typer.Option(help="Multiply by (100 for a percentage).")] = 1.0,
    family: Annotated[
        list[str] | None,
        typer.Option(
            "--family", help="Red-team family: the value is their pooled ASR; repeat for a set."
        ),
    ] = None,
    owner: Annotated[str, typer.Option(help="Owner.")] = "",
    due: Annotated[str | None, typer.Option(help="Due YYYY-MM-DD.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Set an objective; with --evidence-type it updates from the ledger.

    Example: assay objectives add --title "Jailbreak success below 2%" --target-op "<"
    --target 2 --unit % --system support-bot --evidence-type assay.dev/redteam-run/v1
    --family jailbreak_dan --family jailbreak_roleplay --scale 100
    """
    metric: dict[str, Any] = {"source": "manual"}
    if evidence_type:
        metric = {
            "source": "evidence",
            "evidence_type": evidence_type,
            "numerator": numerator,
            "denominator": denominator,
            "scale": scale,
            "families": family or [],
        }
    fields = {
        "title": title,
        "target_op": target_op,
        "target": target,
        "unit": unit,
        "metric": metric,
        "owner": owner,
        "due": parse_date(due, "--due"),
    }
    with workspace() as ws:
        made = objectives.add_objective(ws.store, ws.ledger, fields, actor=actor(), system=system)
    done(made, json_output, f"Added {made.id} ({made.status})")


@app.command("measure")
def measure(
    objective_id: Annotated[str, typer.Argument(help="Objective ID, e.g. OBJ-001.")],
    value: Annotated[float, typer.Argument(help="Measured value.")],
    json_output: JsonFlag = False,
) -> None:
    """Record a manual measurement.

    Example: assay objectives measure OBJ-002 97.5
    """
    with workspace() as ws:
        made = objectives.record_measurement(
            ws.store, ws.ledger, objective_id, value, actor=actor()
        )
    done(made, json_output, f"{made.id}: {made.status}")


@app.command("refresh")
def refresh(json_output: JsonFlag = False) -> None:
    """Feed evidence-based objectives from new ledger entries.

    Example: assay objectives refresh
    """
    with workspace() as ws:
        changed = objectives.refresh(ws.store, ws.ledger, actor=actor())
    if json_output:
        print_json([r.as_json() for r in changed])
    else:
        console.print(f"Updated {len(changed)} objective(s).")


@app.command("list")
def list_(json_output: JsonFlag = False) -> None:
    """List objectives with status, latest value and trend.

    Example: assay objectives list --json
    """
    with workspace() as ws:
        items = objectives.list_objectives(ws.store)
    rows = []
    for r in items:
        status, trend = objectives.evaluate(r.data)
        latest = r.data.measurements[-1].value if r.data.measurements else None
        rows.append({**r.as_json(), "trend": trend, "latest": latest, "state": status})
    if json_output:
        print_json(rows)
        return
    table = Table("id", "title", "target", "latest", "status", "trend")
    for row in rows:
        shown = "" if row["latest"] is None else f"{row['latest']:g}"
        table.add_row(
            row["id"],
            row["title"],
            f"{row['target_op']} {row['target']:g}{row['unit']}",
            shown,
            row["state"],
            row["trend"],
        )
    console.print(table)

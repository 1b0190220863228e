"""``assay risks``: the AI risk register (rate, treat, accept) and LLM risk templates."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from assay.aims import risk
from assay.cli._common import actor, console, done, print_json, workspace
from assay.cli.aims import JsonFlag, emit, parse_date

__all__ = ["app"]

app = typer.Typer(
    help="The AI risk register: add, treat, accept; LLM templates.", no_args_is_help=True
)

COLUMNS = ("id", "system", "status", "title", "likelihood", "impact", "treatment")


@app.command("templates")
def templates(json_output: JsonFlag = False) -> None:
    """List the LLM risk templates you can adopt.

    Example: assay risks templates
    """
    if json_output:
        print_json([t.__dict__ for t in risk.TEMPLATES])
        return
    table = Table("template", "title", "L", "I", "controls")
    for t in risk.TEMPLATES:
        table.add_row(t.id, t.title, str(t.likelihood), str(t.impact), ", ".join(t.controls))
    console.print(table)


@app.command("adopt")
def adopt(
    system: Annotated[str, typer.Option("--system", help="The AI system.")],
    template: Annotated[
        list[str] | None, typer.Option("--template", help="Template id; repeat (default: all).")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Add template risks to a system's register (already adopted ones are skipped).

    Example: assay risks adopt --system support-bot --template prompt-injection
    """
    with workspace() as ws:
        made = risk.adopt_templates(
            ws.store, ws.ledger, system=system, template_ids=template or (), actor=actor()
        )
    if json_output:
        emit(made, True)
    else:
        console.print(f"Adopted {len(made)} risk(s): {', '.join(r.id for r in made) or 'none new'}")


@app.command("add")
def add(
    system: Annotated[str, typer.Option("--system", help="The AI system.")],
    title: Annotated[str, typer.Option(help="Short title.")],
    likelihood: Annotated[int, typer.Option(help="Likelihood level (1 = lowest).")],
    impact: Annotated[int, typer.Option(help="Impact level (1 = lowest).")],
    description: Annotated[str, typer.Option(help="What could happen.")] = "",
    owner: Annotated[str, typer.Option(help="Risk owner.")] = "",
    category: Annotated[str, typer.Option(help="Category, e.g. security.")] = "",
    json_output: JsonFlag = False,
) -> None:
    """Add a risk with its inherent rating.

    Example: assay risks add --system support-bot --title "Wrong refunds" --likelihood 3 --impact 4
    """
    fields = {
        "title": title,
        "likelihood": likelihood,
        "impact": impact,
        "description": description,
        "owner": owner,
        "category": category,
    }
    with workspace() as ws:
        made = risk.add_risk(ws.store, ws.ledger, system=system, fields=fields, actor=actor())
    done(made, json_output, f"Added {made.id}")


@app.command("treat")
def treat(
    risk_ids: Annotated[list[str], typer.Argument(help="Risk ID(s), e.g. R-001 R-002.")],
    treatment: Annotated[str, typer.Option(help=f"One of: {', '.join(risk.TREATMENTS)}.")],
    control: Annotated[
        list[str] | None,
        typer.Option(
            "--control",
            help="Control as framework:ID, e.g. iso42001:A.6.2.4; repeat "
            "(default: keep the risk's controls).",
        ),
    ] = None,
    residual_likelihood: Annotated[int | None, typer.Option(help="Residual likelihood.")] = None,
    residual_impact: Annotated[int | None, typer.Option(help="Residual impact.")] = None,
    plan: Annotated[str, typer.Option(help="Treatment plan.")] = "",
    owner: Annotated[str | None, typer.Option(help="Risk owner.")] = None,
    due: Annotated[str | None, typer.Option(help="Due date YYYY-MM-DD.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Choose a treatment, its controls and the residual rating (one or more risks).

    Example: assay risks treat R-001 R-002 --treatment mitigate --control iso42001:A.6.2.4
    --residual-likelihood 2 --residual-impact 3
    """
    made = []
    with workspace() as ws:
        for risk_id in risk_ids:
            made.append(
                risk.treat_risk(
                    ws.store,
                    ws.ledger,
                    risk_id,
                    treatment=treatment,
                    controls=control or (),
                    residual_likelihood=residual_likelihood,
                    residual_impact=residual_impact,
                    plan=plan,
                    owner=owner,
                    due=parse_date(due, "--due"),
                    actor=actor(),
                )
            )
    if json_output:
        emit(made, True)
    else:
        console.print(", ".join(f"{r.id}: {r.status}" for r in made), markup=False)


@app.command("accept")
def accept(
    risk_id: Annotated[str, typer.Argument(help="Risk ID.")],
    note: Annotated[str, typer.Option(help="Why the residual risk is acceptable.")] = "",
    json_output: JsonFlag = False,
) -> None:
    """Formally accept the residual risk (four-eyes: not by whoever changed it).

    Example: ASSAY_ACTOR=ciso@example.com assay risks accept R-001 --note "within appetite"
    """
    with workspace() as ws:
        made = risk.accept_risk(ws.store, ws.ledger, risk_id, actor=actor(), note=note)
    done(made, json_output, f"{made.id}: accepted by {actor()}")


@app.command("list")
def list_(
    system: Annotated[str | None, typer.Option("--system", help="Only this system.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """List risks.

    Example: assay risks list --system support-bot --json
    """
    with workspace() as ws:
        emit(risk.list_risks(ws.store, system=system), json_output, COLUMNS)


@app.command("show")
def show(
    risk_id: Annotated[str, typer.Argument(help="Risk ID.")], json_output: JsonFlag = False
) -> None:
    """Show one risk.

    Example: assay risks show R-001
    """
    with workspace() as ws:
        emit(risk.get_risk(ws.store, risk_id), json_output)

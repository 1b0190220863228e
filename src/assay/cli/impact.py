"""``assay impact``: AI system impact assessments (6.1.4, 8.4, A.5; EU AI Act Art. 27 FRIA)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from assay.aims import impact
from assay.cli._common import actor, console, done, print_json, workspace
from assay.cli.aims import JsonFlag, emit
from assay.errors import UsageError

__all__ = ["app"]

app = typer.Typer(help="Impact assessments: questionnaire, sign-off, export.", no_args_is_help=True)


@app.command("questions")
def questions(json_output: JsonFlag = False) -> None:
    """List the questionnaire.

    Example: assay impact questions
    """
    if json_output:
        print_json([q.__dict__ for q in impact.QUESTIONS])
        return
    table = Table("id", "question", "required")
    for q in impact.QUESTIONS:
        table.add_row(q.id, q.text, "yes" if q.required else "no")
    console.print(table)


@app.command("new")
def new(
    system: Annotated[str, typer.Option(help="The AI system.")],
    title: Annotated[str, typer.Option(help="Title.")],
    fria: Annotated[bool, typer.Option(help="Use as the EU AI Act Art. 27 FRIA.")] = False,
    json_output: JsonFlag = False,
) -> None:
    """Start an impact assessment (draft).

    Example: assay impact new --system support-bot --title "Support bot IA 2026"
    """
    with workspace() as ws:
        made = impact.add_assessment(
            ws.store, ws.ledger, system=system, fields={"title": title, "fria": fria}, actor=actor()
        )
    done(made, json_output, f"Started {made.id}")


@app.command("answer")
def answer(
    assessment_id: Annotated[str, typer.Argument(help="Assessment ID, e.g. IA-001.")],
    question: Annotated[str, typer.Argument(help="Question id (see `assay impact questions`).")],
    text: Annotated[str, typer.Argument(help="The answer.")],
    json_output: JsonFlag = False,
) -> None:
    """Answer one question.

    Example: assay impact answer IA-001 individuals "Customers contacting support"
    """
    with workspace() as ws:
        made = impact.answer(ws.store, ws.ledger, assessment_id, question, text, actor=actor())
    done(made, json_output, f"{made.id}: answered {question}")


@app.command("set")
def set_(
    assessment_id: Annotated[str, typer.Argument(help="Assessment ID.")],
    individual: Annotated[list[str] | None, typer.Option("--individual", help="Repeat.")] = None,
    group: Annotated[list[str] | None, typer.Option("--group", help="Repeat.")] = None,
    societal: Annotated[list[str] | None, typer.Option("--societal", help="Repeat.")] = None,
    mitigation: Annotated[list[str] | None, typer.Option("--mitigation", help="Repeat.")] = None,
    severity: Annotated[str | None, typer.Option(help=f"{', '.join(impact.LEVELS)}.")] = None,
    likelihood: Annotated[str | None, typer.Option(help=f"{', '.join(impact.LEVELS)}.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Set affected parties, impacts, rating and mitigations (lists replace).

    Example: assay impact set IA-001 --group customers --severity medium --likelihood low
    """
    changes: dict[str, Any] = {}
    for key, value in (
        ("affected_individuals", individual),
        ("affected_groups", group),
        ("societal_impacts", societal),
        ("mitigations", mitigation),
        ("severity", severity),
        ("likelihood", likelihood),
    ):
        if value:
            changes[key] = value
    if not changes:
        raise UsageError("nothing to change: give at least one option (see --help)")
    with workspace() as ws:
        made = impact.update_assessment(ws.store, ws.ledger, assessment_id, changes, actor=actor())
    done(made, json_output, f"{made.id} updated")


@app.command("sign-off")
def sign_off(
    assessment_id: Annotated[str, typer.Argument(help="Assessment ID.")],
    note: Annotated[str, typer.Option(help="Note.")] = "",
    json_output: JsonFlag = False,
) -> None:
    """Sign the assessment off (every required answer present).

    Example: ASSAY_ACTOR=dpo@example.com assay impact sign-off IA-001
    """
    with workspace() as ws:
        made = impact.sign_off(ws.store, ws.ledger, assessment_id, actor=actor(), note=note)
    done(made, json_output, f"{made.id} signed off by {actor()}")


@app.command("export")
def export(
    assessment_id: Annotated[str, typer.Argument(help="Assessment ID.")],
    fmt: Annotated[str, typer.Option("--format", help="md or json.")] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File.")] = None,
) -> None:
    """Export an assessment as Markdown or JSON.

    Example: assay impact export IA-001 --format md -o ia.md
    """
    with workspace() as ws:
        text = impact.export(impact.get_assessment(ws.store, assessment_id), fmt)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


@app.command("list")
def list_(json_output: JsonFlag = False) -> None:
    """List impact assessments.

    Example: assay impact list --json
    """
    with workspace() as ws:
        emit(
            impact.list_assessments(ws.store),
            json_output,
            ("id", "system", "status", "title", "severity", "likelihood"),
        )

"""``assay review``: management review (9.3): prepare the pack, record decisions, hold."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from assay.aims import review
from assay.cli._common import actor, console, done, print_json, workspace
from assay.cli.aims import JsonFlag, emit, parse_date

__all__ = ["app"]

app = typer.Typer(help="Management review: prepare, decide, hold.", no_args_is_help=True)
ReviewId = Annotated[str, typer.Argument(help="Review ID, e.g. MR-001.")]


@app.command("prepare")
def prepare(
    title: Annotated[str, typer.Option(help="Review title.")] = "Management review",
    review_id: Annotated[
        str | None, typer.Option("--review", help="Refresh the pack of this review.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the pack (Markdown).")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Assemble the clause 9.3.2 inputs into a review pack automatically.

    Example: assay review prepare --title "Q1 2026 review" -o pack.md
    """
    with workspace() as ws:
        made = review.prepare(ws.store, ws.ledger, title=title, actor=actor(), review_id=review_id)
    if output is not None:
        output.write_text(review.render_pack(made), encoding="utf-8")
    if json_output:
        print_json(made.as_json())
    elif output is None:
        sys.stdout.write(review.render_pack(made))
    else:
        console.print(f"Prepared {made.id}; pack written to {output}")


@app.command("decide")
def decide(
    review_id: ReviewId,
    text: Annotated[str, typer.Option(help="The decision or action.")],
    kind: Annotated[
        str, typer.Option(help="note, capa (opens one) or objective (sets one).")
    ] = "note",
    owner: Annotated[str, typer.Option(help="Owner.")] = "",
    due: Annotated[str | None, typer.Option(help="Due YYYY-MM-DD.")] = None,
    target_op: Annotated[str | None, typer.Option("--target-op", help="For objectives.")] = None,
    target: Annotated[float | None, typer.Option(help="For objectives.")] = None,
    unit: Annotated[str, typer.Option(help="For objectives.")] = "",
    json_output: JsonFlag = False,
) -> None:
    """Record a decision; it can open a corrective action or set an objective.

    Example: assay review decide MR-001 --text "Raise red-team frequency" --kind capa
    """
    objective: dict[str, Any] | None = None
    if target_op is not None and target is not None:
        objective = {"target_op": target_op, "target": target, "unit": unit}
    with workspace() as ws:
        made = review.decide(
            ws.store,
            ws.ledger,
            review_id,
            text=text,
            kind=kind,
            owner=owner,
            due=parse_date(due, "--due"),
            objective=objective,
            actor=actor(),
        )
    last = made.data.decisions[-1]
    done(
        made,
        json_output,
        f"{made.id}: {last.id} recorded" + (f" -> {last.ref}" if last.ref else ""),
    )


@app.command("hold")
def hold(
    review_id: ReviewId,
    chair: Annotated[str, typer.Option(help="Who chaired.")],
    attendee: Annotated[list[str], typer.Option("--attendee", help="Repeat.")],
    minutes: Annotated[str, typer.Option(help="Minutes or a link to them.")] = "",
    json_output: JsonFlag = False,
) -> None:
    """Record that the review was held (management-review evidence).

    Example: assay review hold MR-001 --chair ceo --attendee ciso --attendee cto
    """
    with workspace() as ws:
        made = review.hold(
            ws.store,
            ws.ledger,
            review_id,
            chair=chair,
            attendees=tuple(attendee),
            minutes=minutes,
            actor=actor(),
        )
    done(made, json_output, f"{made.id}: held")


@app.command("show")
def show(review_id: ReviewId, json_output: JsonFlag = False) -> None:
    """Show a review and its pack.

    Example: assay review show MR-001
    """
    with workspace() as ws:
        made = review.get_review(ws.store, review_id)
    if json_output:
        print_json(made.as_json())
    else:
        sys.stdout.write(review.render_pack(made))


@app.command("list")
def list_(json_output: JsonFlag = False) -> None:
    """List management reviews.

    Example: assay review list
    """
    with workspace() as ws:
        emit(review.list_reviews(ws.store), json_output, ("id", "status", "title", "chair"))

"""``assay soa``: the Statement of Applicability over the 38 ISO/IEC 42001 Annex A controls."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from assay.aims import soa
from assay.cli._common import actor, console, done, print_json, workspace
from assay.cli.aims import JsonFlag
from assay.errors import AssayError

__all__ = ["app"]

app = typer.Typer(
    help="Statement of Applicability: generate, edit, approve, diff.", no_args_is_help=True
)


def _print(statement: soa.SoA, json_output: bool) -> None:
    if json_output:
        print_json(statement.as_json())
        return
    console.print(
        f"Statement of Applicability v{statement.version} ({statement.status}"
        + (f", approved by {statement.approved_by}" if statement.approved_by else "")
        + ")",
        markup=False,
    )
    table = Table("control", "title", "applicable", "status", "risks")
    for e in statement.entries:
        table.add_row(
            e.control,
            e.title,
            "yes" if e.applicable else "no",
            e.implementation_status,
            ", ".join(e.risks),
        )
    console.print(table)


@app.command("generate")
def generate(json_output: JsonFlag = False) -> None:
    """(Re)generate the SoA from risk treatment; manual edits are kept.

    Example: assay soa generate
    """
    with workspace() as ws:
        statement = soa.generate(ws.store, ws.ledger, actor=actor())
    _print(statement, json_output)


@app.command("show")
def show(
    version: Annotated[int | None, typer.Option(help="A stored version (default: newest).")] = None,
    approved: Annotated[
        bool, typer.Option("--approved", help="The newest approved version.")
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """Show the SoA.

    Example: assay soa show --approved --json
    """
    with workspace() as ws:
        statement = (
            soa.version(ws.store, version)
            if version
            else soa.current(ws.store, approved_only=approved)
        )
    if statement is None:
        raise AssayError("no Statement of Applicability yet: run `assay soa generate`")
    _print(statement, json_output)


@app.command("edit")
def edit(
    control: Annotated[str, typer.Argument(help="Annex A control, e.g. A.6.2.4.")],
    applicable: Annotated[
        bool | None, typer.Option("--applicable/--excluded", help="Include or exclude.")
    ] = None,
    justification: Annotated[str | None, typer.Option(help="Why.")] = None,
    status: Annotated[
        str | None, typer.Option(help=f"One of: {', '.join(soa.IMPLEMENTATION_STATUSES)}.")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Override one control's line (a new draft version).

    Example: assay soa edit A.6.2.4 --status implemented
    """
    with workspace() as ws:
        statement = soa.edit(
            ws.store,
            ws.ledger,
            control,
            applicable=applicable,
            justification=justification,
            implementation_status=status,
            actor=actor(),
        )
    if json_output:
        print_json(statement.as_json())
    else:
        console.print(
            f"SoA v{statement.version} (draft): {statement.entry(control).control} edited"
        )


@app.command("approve")
def approve(
    note: Annotated[str, typer.Option(help="Approval note.")] = "",
    json_output: JsonFlag = False,
) -> None:
    """Approve the current draft (four-eyes: not by whoever changed it).

    Example: ASSAY_ACTOR=ciso@example.com assay soa approve
    """
    with workspace() as ws:
        statement = soa.approve(ws.store, ws.ledger, actor=actor(), note=note)
    done(statement, json_output, f"SoA v{statement.version} approved by {statement.approved_by}")


@app.command("diff")
def diff(
    old: Annotated[int, typer.Argument(help="Older version.")],
    new: Annotated[int, typer.Argument(help="Newer version.")],
    json_output: JsonFlag = False,
) -> None:
    """What changed between two SoA versions.

    Example: assay soa diff 1 3
    """
    with workspace() as ws:
        changes = soa.diff_versions(ws.store, old, new)
    if json_output:
        print_json([c.__dict__ for c in changes])
        return
    if not changes:
        console.print(f"No differences between v{old} and v{new}.")
    for c in changes:
        console.print(f"{c.control} {c.field}: {c.old!r} -> {c.new!r}", markup=False)


@app.command("history")
def history(json_output: JsonFlag = False) -> None:
    """List every SoA version.

    Example: assay soa history
    """
    with workspace() as ws:
        items = soa.versions(ws.store)
    if json_output:
        print_json(
            [
                {"version": v.version, "status": v.status, "approved_by": v.approved_by}
                for v in items
            ]
        )
        return
    for v in items:
        console.print(f"v{v.version} {v.status} {v.approved_by or ''}", markup=False)

"""``assay aims``: AIMS as code (export/apply), settings, history, archive; shared CLI helpers.

The helpers here (:func:`workspace`, :func:`emit`, :func:`parse_date`) are used
by every AIMS command group so their output looks the same.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from assay.aims import _records as records
from assay.aims import archive_system, as_code, registry, settings
from assay.aims.risk import RiskScale, set_scale
from assay.cli._common import actor, console, print_json, workspace
from assay.errors import AssayError, UsageError
from assay.yamlio import dump_yaml

__all__ = ["JsonFlag", "app", "emit", "parse_date"]

app = typer.Typer(
    help="AIMS as code, settings (four-eyes, risk scale), history and archiving.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def parse_date(value: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option value."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date: use YYYY-MM-DD") from None


def _cell(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def emit(
    value: records.Record[Any] | Sequence[records.Record[Any]],
    json_output: bool,
    columns: Sequence[str] = ("id", "system", "status", "title"),
) -> None:
    """Print one record (key: value lines) or a list (a table); ``--json`` prints JSON."""
    if isinstance(value, records.Record):
        if json_output:
            print_json(value.as_json())
            return
        for key, item in value.as_json().items():
            console.print(f"{key:22} {_cell(item)}", markup=False)
        return
    rows = [r.as_json() for r in value]
    if json_output:
        print_json(rows)
        return
    if not rows:
        console.print("Nothing recorded yet.")
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    console.print(table)


@app.command("export")
def export_(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Write the declarative AIMS (systems, policies, roles, risks, ...) as YAML.

    Example: assay aims export > aims.yaml
    """
    with workspace() as ws:
        text = dump_yaml(as_code.export(ws.store))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"Wrote {output}")


@app.command("apply")
def apply_(
    file: Annotated[Path, typer.Argument(help="An AIMS YAML file (from `assay aims export`).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the diff only.")] = False,
    json_output: JsonFlag = False,
) -> None:
    """Show the diff between the file and the workspace, then apply it (idempotent).

    Example: assay aims apply aims.yaml --dry-run
    """
    desired = as_code.load(file)
    with workspace() as ws:
        changes = as_code.plan(as_code.export(ws.store), desired)
        if json_output:
            print_json(
                [
                    {
                        "section": c.section,
                        "id": c.id,
                        "action": c.action,
                        "fields": {k: {"old": o, "new": n} for k, (o, n) in c.fields.items()},
                    }
                    for c in changes
                ]
            )
        else:
            console.print(as_code.render_changes(changes), markup=False)
        if dry_run or not changes:
            return
        as_code.apply(ws.store, ws.ledger, desired, actor=actor())
    if not json_output:
        console.print(f"Applied {len(changes)} change(s).")


settings_app = typer.Typer(help="AIMS settings: four-eyes per register, risk scale.")
app.add_typer(settings_app, name="settings")


@settings_app.command("show")
def settings_show(json_output: JsonFlag = False) -> None:
    """Show every AIMS setting with its effective value.

    Example: assay aims settings show --json
    """
    with workspace() as ws:
        values = settings.all_settings(ws.store)
    if json_output:
        print_json(values)
        return
    for key, value in values.items():
        console.print(f"{key:24} {value}", markup=False)


@settings_app.command("four-eyes")
def settings_four_eyes(
    register: Annotated[
        str, typer.Argument(help=f"One of: {', '.join(settings.FOUR_EYES_DEFAULTS)}.")
    ],
    state: Annotated[str, typer.Argument(help="on or off.")],
) -> None:
    """Require (or not) a second person to approve in a register.

    Example: assay aims settings four-eyes policy on
    """
    if state not in ("on", "off"):
        raise UsageError(f"state {state!r} is not one of: on, off")
    with workspace() as ws:
        settings.set_four_eyes(ws.store, ws.ledger, register, state == "on", actor=actor())
    console.print(f"four-eyes for {register}: {state}")


@settings_app.command("risk-scale")
def settings_risk_scale(
    likelihood: Annotated[list[str], typer.Option("--likelihood", help="Levels, lowest first.")],
    impact: Annotated[list[str], typer.Option("--impact", help="Levels, lowest first.")],
    band: Annotated[
        list[str], typer.Option("--band", help="MAX_SCORE=NAME, ascending, e.g. 4=low.")
    ],
) -> None:
    """Set the likelihood × impact scale and its rating bands.

    Example: assay aims settings risk-scale --likelihood low --likelihood medium
    --likelihood high --impact low --impact medium --impact high --band 2=low --band 4=medium
    --band 9=high
    """
    bands = []
    for item in band:
        ceiling, _, name = item.partition("=")
        if not ceiling.isdigit() or not name:
            raise UsageError(f"--band {item!r} is not MAX_SCORE=NAME (e.g. 4=low)")
        bands.append((int(ceiling), name))
    new = RiskScale(likelihood=tuple(likelihood), impact=tuple(impact), bands=tuple(bands))
    with workspace() as ws:
        set_scale(ws.store, ws.ledger, new, actor=actor())
    console.print(f"Risk scale: {len(likelihood)} × {len(impact)}, {len(bands)} bands")


@app.command("history")
def history(
    register: Annotated[str, typer.Argument(help="Register, e.g. risk, soa, capa.")],
    record_id: Annotated[str, typer.Argument(help="Record ID, e.g. R-001.")],
    json_output: JsonFlag = False,
) -> None:
    """Every version of a record: who changed what, when.

    Example: assay aims history risk R-001
    """
    with workspace() as ws:
        spec = registry.spec_for(register)
        versions = records.history(ws.store, spec, record_id)
    if not versions:
        raise AssayError(f"no {register} {record_id!r}")
    if json_output:
        print_json([{**v.__dict__, "created_at": v.created_at.isoformat()} for v in versions])
        return
    table = Table("version", "action", "status", "by", "at")
    for v in versions:
        table.add_row(str(v.version), v.action, v.status, v.created_by, v.created_at.isoformat())
    console.print(table)


@app.command("archive")
def archive(
    register: Annotated[str, typer.Argument(help="Register (or ai-system).")],
    record_id: Annotated[str, typer.Argument(help="Record ID.")],
) -> None:
    """Archive a record: it leaves the lists, keeps its history and evidence.

    Example: assay aims archive risk R-004
    """
    with workspace() as ws:
        if register == "ai-system":
            archive_system(ws.store, ws.ledger, record_id, actor=actor())
        else:
            records.archive(
                ws.store, ws.ledger, registry.spec_for(register), record_id, actor=actor()
            )
    console.print(f"Archived {register} {record_id}")


@app.command("delete")
def delete(
    register: Annotated[str, typer.Argument(help="Register (or ai-system).")],
    record_id: Annotated[str, typer.Argument(help="Record ID.")],
) -> None:
    """Refused by design: records referenced by evidence are archived, never deleted.

    Example: assay aims delete risk R-004   (explains what refers to it)
    """
    with workspace() as ws:
        registry.delete_record(ws.store, ws.ledger, register, record_id)

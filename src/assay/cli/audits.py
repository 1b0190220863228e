"""``assay audits``: internal audit programme, audits, independence and graded findings (9.2)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assay.aims import audit
from assay.cli._common import actor, console, done, print_json, workspace
from assay.cli.aims import JsonFlag, emit, parse_date

__all__ = ["app"]

app = typer.Typer(
    help="Internal audits: programme, plan, findings, complete.", no_args_is_help=True
)


@app.command("programme")
def programme(
    title: Annotated[str, typer.Option(help="Programme title.")],
    period: Annotated[str, typer.Option(help="Period, e.g. 2026.")],
    scope: Annotated[str, typer.Option(help="Scope.")] = "",
    frequency: Annotated[str, typer.Option(help="How often.")] = "annual",
    owner: Annotated[str, typer.Option(help="Owner.")] = "",
    json_output: JsonFlag = False,
) -> None:
    """Set up an audit programme.

    Example: assay audits programme --title "AIMS audits 2026" --period 2026
    """
    fields = {
        "title": title,
        "period": period,
        "scope": scope,
        "frequency": frequency,
        "owner": owner,
    }
    with workspace() as ws:
        made = audit.add_programme(ws.store, ws.ledger, fields, actor=actor())
    done(made, json_output, f"Added {made.id}")


@app.command("plan")
def plan(
    title: Annotated[str, typer.Option(help="Audit title.")],
    auditor: Annotated[str, typer.Option(help="Who audits.")],
    system: Annotated[
        list[str] | None, typer.Option("--system", help="System in scope; repeat.")
    ] = None,
    criterion: Annotated[
        list[str] | None, typer.Option("--criterion", help="Criterion, e.g. iso42001:8.2; repeat.")
    ] = None,
    scope: Annotated[str, typer.Option(help="Scope.")] = "",
    programme: Annotated[str | None, typer.Option(help="Programme ID.")] = None,
    planned: Annotated[str | None, typer.Option(help="Date YYYY-MM-DD.")] = None,
    independence_statement: Annotated[
        str, typer.Option(help="Needed when the auditor is not independent.")
    ] = "",
    json_output: JsonFlag = False,
) -> None:
    """Plan an audit; the auditor's independence is checked and recorded.

    Example: assay audits plan --title "Risk process" --auditor internal-audit
    --system support-bot --criterion iso42001:6.1.2
    """
    fields = {
        "title": title,
        "auditor": auditor,
        "systems": system or [],
        "scope": scope,
        "programme": programme,
        "planned": parse_date(planned, "--planned"),
    }
    if criterion:
        fields["criteria"] = criterion
    with workspace() as ws:
        made = audit.plan_audit(
            ws.store,
            ws.ledger,
            fields,
            actor=actor(),
            independence_statement=independence_statement,
        )
    done(made, json_output, f"Planned {made.id}")


@app.command("finding")
def finding(
    audit_id: Annotated[str, typer.Argument(help="Audit ID, e.g. AUD-001.")],
    grade: Annotated[str, typer.Option(help=f"One of: {', '.join(audit.GRADES)}.")],
    description: Annotated[str, typer.Option(help="What was found.")],
    control: Annotated[list[str] | None, typer.Option("--control", help="Control; repeat.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Record a graded finding.

    Example: assay audits finding AUD-001 --grade minor-nonconformity
    --description "Risk R-003 has no owner" --control iso42001:6.1.2
    """
    with workspace() as ws:
        made = audit.add_finding(
            ws.store,
            ws.ledger,
            audit_id,
            grade=grade,
            description=description,
            controls=tuple(control or ()),
            actor=actor(),
        )
    done(made, json_output, f"Recorded {made.id} ({grade})")


@app.command("complete")
def complete(
    audit_id: Annotated[str, typer.Argument(help="Audit ID.")],
    conclusion: Annotated[str, typer.Option(help="Overall conclusion.")] = "",
    json_output: JsonFlag = False,
) -> None:
    """Complete an audit (its report becomes internal-audit evidence).

    Example: assay audits complete AUD-001 --conclusion "Effective with one minor NC"
    """
    with workspace() as ws:
        made = audit.complete_audit(
            ws.store, ws.ledger, audit_id, conclusion=conclusion, actor=actor()
        )
    done(made, json_output, f"Completed {made.id}")


@app.command("list")
def list_(json_output: JsonFlag = False) -> None:
    """List audits.

    Example: assay audits list --json
    """
    with workspace() as ws:
        emit(
            audit.list_audits(ws.store),
            json_output,
            ("id", "status", "title", "auditor", "systems"),
        )


@app.command("findings")
def findings(
    audit_id: Annotated[str | None, typer.Option("--audit", help="Only this audit.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """List findings.

    Example: assay audits findings --audit AUD-001
    """
    with workspace() as ws:
        emit(
            audit.findings_for(ws.store, audit_id),
            json_output,
            ("id", "audit", "status", "grade", "capa", "description"),
        )


@app.command("sample")
def sample(
    framework: Annotated[str, typer.Option("-f", "--framework", help="Framework ID.")],
    system: Annotated[str | None, typer.Option("-s", "--system", help="One AI system.")] = None,
    seed: Annotated[
        str | None, typer.Option(help="The seed (default: random, recorded with the draw).")
    ] = None,
    requirements: Annotated[int, typer.Option(help="Requirements to draw.")] = 10,
    entries: Annotated[int, typer.Option(help="Cited evidence entries to draw.")] = 10,
    worksheet: Annotated[
        Path | None, typer.Option(help="Also write the auditor's worksheet (XLSX) here.")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Draw a reproducible random sample of requirements and cited evidence, recorded.

    Members are ranked by SHA-256(seed ":" member); the same seed over the same
    population draws the same sample. The draw is ledger evidence.

    Example: assay audits sample -f iso42001 -s support-bot --seed stage2-2026 --worksheet s.xlsx
    """
    from assay.aims.audit_sample import draw_sample

    with workspace() as ws:
        drawn = draw_sample(
            ws.store, ws.ledger, framework, actor=actor(), system=system, seed=seed,
            requirements=requirements, entries=entries,
        )
        if worksheet is not None:
            from assay.reports import audit_sample_workbook

            worksheet.write_bytes(audit_sample_workbook(ws.store, ws.ledger, drawn.seq))
    if json_output:
        print_json(drawn.as_json())
        return
    console.print(
        f"Sample of {drawn.framework}{' / ' + drawn.system if drawn.system else ''} "
        f"(seed {drawn.seed}, recorded as entry {drawn.seq}):", markup=False
    )
    console.print(
        f"  requirements ({len(drawn.requirements)} of {drawn.requirement_population}): "
        + (", ".join(drawn.requirements) or "none"), markup=False
    )
    console.print(
        f"  entries ({len(drawn.entries)} of {drawn.entry_population}): "
        + (", ".join(str(s) for s in drawn.entries) or "none"), markup=False
    )
    console.print(f"  population digest {drawn.population_digest}", markup=False)

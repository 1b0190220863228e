"""``assay comply``: catalogs, readiness (status, gap), exports and audit packs with reports.

Custom frameworks live in ``<workspace>/frameworks/`` and are validated with
exactly the same checks as the built-in catalogs. ``status`` and ``gap`` read
the readiness engine (:mod:`assay.aims.readiness`); ``export`` and ``pack``
render :mod:`assay.reports`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from assay import catalogs
from assay.aims.readiness import Readiness, readiness
from assay.catalogs import Framework, Requirement
from assay.cli._common import console, err_console, print_json, workspace, workspace_path
from assay.errors import AssayError, UsageError
from assay.ledger.pack import export_pack
from assay.reports.bundle import FORMATS, pack_formats, render, report_files

__all__ = ["app"]

app = typer.Typer(
    name="comply",
    help="Compliance catalogs: ISO/IEC 42001, EU AI Act, NIST AI RMF, FCA and SEC.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

_JSON = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")]
_FRAMEWORK = Annotated[
    str,
    typer.Option(
        "--framework", "-f", help="Framework ID: iso42001, eu-ai-act, nist-ai-rmf, fca, sec, …"
    ),
]
_SYSTEM = Annotated[
    str | None,
    typer.Option("--system", "-s", help="One AI system (default: the whole organisation)."),
]


def _custom() -> dict[str, Framework]:
    return catalogs.load_custom_frameworks(workspace_path() / "frameworks")


@app.command("frameworks")
def frameworks_command(as_json: _JSON = False) -> None:
    """List the built-in and imported frameworks.

    Example: assay comply frameworks --json
    """
    rows: list[dict[str, Any]] = []
    for origin, group in (("built-in", catalogs.frameworks()), ("custom", _custom())):
        for fw in group.values():
            rows.append(
                {
                    "id": fw.id,
                    "name": fw.name,
                    "version": fw.version,
                    "requirements": len(fw.requirements),
                    "origin": origin,
                    "source": fw.source,
                }
            )
    if as_json:
        print_json(rows)
        return
    for row in rows:
        console.print(
            f"{row['id']:<14} {row['requirements']:>4} requirements  {row['name']} "
            f"[{row['origin']}]",
            markup=False,
        )


@app.command("map")
def map_command(
    ref: Annotated[
        str, typer.Argument(help="A requirement reference <framework>:<id>.", metavar="ID")
    ],
    as_json: _JSON = False,
) -> None:
    """Show a requirement, its parent, crosswalk relations and supporting evidence types.

    Example: assay comply map iso42001:A.6.2.4
    """
    custom = _custom()
    req = catalogs.resolve(ref, extra=custom)
    fw = custom.get(req.framework) or catalogs.framework(req.framework)
    parent = fw.get(req.parent) if req.parent else None
    builtin = req.framework in catalogs.BUILTIN_FRAMEWORKS
    relations = catalogs.relations_for(req.ref) if builtin else []
    evidence = catalogs.evidence_for(req.ref) if builtin else []
    doc: dict[str, Any] = {
        "ref": req.ref,
        "framework": fw.name,
        "title": req.title,
        "kind": req.kind,
        "description": req.description,
        "citation": req.citation,
        "parent": {"ref": parent.ref, "title": parent.title} if parent else None,
        "children": [{"ref": c.ref, "title": c.title} for c in fw.children(req.id)],
        "applies_when": str(fw.condition(req.id)) if fw.condition(req.id) else None,
        "duty_holders": list(req.duty_holders),
        "risk_classes": list(req.risk_classes),
        "applies_from": req.applies_from.isoformat() if req.applies_from else None,
        "notes": req.notes,
        "evidence_expectations": list(req.evidence_expectations),
        "relations": [
            {
                "ref": rel.target_ref,
                "title": catalogs.resolve(rel.target_ref).title,
                "type": rel.type.value,
                "rationale": rel.rationale,
                "source": rel.source,
            }
            for rel in relations
        ],
        "evidence_types": [
            {"type": et.type, "title": et.title, "freshness_days": et.freshness_days}
            for et in evidence
        ],
    }
    if as_json:
        print_json(doc)
        return
    _print_requirement(req, doc)


def _print_requirement(req: Requirement, doc: dict[str, Any]) -> None:
    out = console.print
    out(f"{req.ref}  {req.title}", markup=False)
    out(f"  {doc['framework']} · {req.kind}", markup=False)
    if req.citation:
        out(f"  Citation: {req.citation}", markup=False)
    if doc["parent"]:
        out(f"  Parent: {doc['parent']['ref']}  {doc['parent']['title']}", markup=False)
    if req.duty_holders or req.risk_classes:
        out(
            f"  Duty holders: {', '.join(req.duty_holders) or '-'} · "
            f"risk classes: {', '.join(req.risk_classes) or '-'}",
            markup=False,
        )
    if req.applies_from:
        out(f"  Applies from: {req.applies_from.isoformat()}", markup=False)
    out(f"\n  {req.description}", markup=False)
    if req.notes:
        out(f"  Note: {req.notes}", markup=False)
    for label, items in (
        ("Children", [f"{c['ref']}  {c['title']}" for c in doc["children"]]),
        ("Evidence expected", list(req.evidence_expectations)),
        (
            "Crosswalk",
            [
                f"{r['type']:<10} {r['ref']}  {r['title']}  ({r['source']})"
                for r in doc["relations"]
            ],
        ),
        (
            "Evidence types",
            [
                f"{e['type']}  (fresh for {e['freshness_days'] or 'unlimited'} days)"
                for e in doc["evidence_types"]
            ],
        ),
    ):
        if items:
            out(f"\n  {label}:", markup=False)
            for item in items:
                out(f"    {item}", markup=False)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="A framework YAML file to validate and import.")],
    as_json: _JSON = False,
) -> None:
    """Validate a custom framework file and store it in <workspace>/frameworks/.

    The file uses the same format as the built-in catalogs (framework, name,
    version, source, licence, requirements with id, title, description,
    parent, evidence_expectations); any error names the file, line and field.

    Example: assay comply import ./our-ai-policy.yaml
    """
    fw = catalogs.import_framework(file, workspace_path() / "frameworks")
    result = {"framework": fw.id, "requirements": len(fw.requirements), "path": str(fw.path)}
    if as_json:
        print_json(result)
        return
    console.print(
        f"imported {fw.id} ({len(fw.requirements)} requirements) to {fw.path}", markup=False
    )


def _resolve_framework(framework_id: str) -> Framework:
    custom = _custom()
    return custom.get(framework_id) or catalogs.framework(framework_id)


def _readiness(framework_id: str, system: str | None) -> Readiness:
    fw = _resolve_framework(framework_id)
    with workspace() as ws:
        return readiness(ws.store, ws.ledger, fw, system=system)


def _headline(result: Readiness) -> str:
    percent = "n/a (nothing applies)" if result.percent is None else f"{result.percent}%"
    counts = ", ".join(f"{status} {n}" for status, n in result.counts.items() if n)
    scope = result.system or "organisation"
    return f"{result.framework_name} · {scope}: readiness {percent} ({counts})"


@app.command("status")
def status_command(
    framework: _FRAMEWORK,
    system: _SYSTEM = None,
    explain: Annotated[
        str | None,
        typer.Option(
            "--explain",
            help="Explain one requirement: its condition, each entry counted or not, and why.",
            metavar="REQ",
        ),
    ] = None,
    as_json: _JSON = False,
) -> None:
    """Per-requirement readiness from the SoA, the classification and ledger evidence.

    Readiness = 100 × (met + ½ partial) / applicable requirements.

    Example: assay comply status --framework eu-ai-act --system support-bot --explain Art.50(1)
    """
    result = _readiness(framework, system)
    if explain is not None:
        wanted = explain.split(":", 1)[1] if explain.startswith(f"{result.framework}:") else explain
        try:
            item = result.item(wanted)
        except KeyError:
            raise UsageError(
                f"--explain {explain}: no assessed requirement {wanted!r} in {result.framework} "
                "(give a leaf ID such as Art.50(1) or A.6.2.4)"
            ) from None
        if as_json:
            print_json({**item.as_json(), "explanation": item.explain()})
            return
        for line in item.explain():
            console.print(line, markup=False)
        return
    if as_json:
        print_json(result.as_json())
        return
    for item in result.items:
        console.print(f"{item.id:<16} {item.status:<15} {item.title}", markup=False)
    console.print(f"\n{_headline(result)}", markup=False)
    if result.open_items:
        console.print(
            f"{len(result.open_items)} open items: "
            f"assay comply gap --framework {result.framework}"
            + (f" --system {result.system}" if result.system else ""),
            markup=False,
        )


@app.command("gap")
def gap_command(framework: _FRAMEWORK, system: _SYSTEM = None, as_json: _JSON = False) -> None:
    """Requirements not met (prohibited first, failing, partial, stale, gap) with the next action.

    Example: assay comply gap --framework eu-ai-act --system support-bot --json
    """
    result = _readiness(framework, system)
    if as_json:
        doc = result.as_json()
        doc["items"] = [item.as_json() for item in result.open_items]
        print_json(doc)
        return
    for item in result.open_items:
        console.print(f"{item.ref}  [{item.status}]  {item.title}", markup=False)
        console.print(f"    why:  {item.reason}", markup=False)
        console.print(f"    next: {item.next_action}", markup=False)
    console.print(f"\n{_headline(result)}", markup=False)


@app.command("export")
def export_command(
    framework: _FRAMEWORK,
    fmt: Annotated[
        str, typer.Option("--format", help=f"One of: {', '.join(FORMATS)}.", metavar="FORMAT")
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="File to write.")],
    system: _SYSTEM = None,
) -> None:
    """Export readiness as OSCAL (catalog, SSP, component, assessment results, POA&M), XLSX or PDF.

    Example: assay comply export -f iso42001 -s support-bot --format oscal-ar -o ar.json
    """
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not one of: {', '.join(FORMATS)}")
    fw = _resolve_framework(framework)
    with workspace() as ws:
        result = readiness(ws.store, ws.ledger, fw, system=system)
        data = render(ws, result, fmt, fw)
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise AssayError(f"cannot write {out}: {exc.strerror}") from exc
    console.print(f"Wrote {out} ({fmt}, {len(data)} bytes): {_headline(result)}", markup=False)


@app.command("pack")
def pack_command(
    out: Annotated[Path, typer.Option("-o", "--out", help="Zip file to write.")],
    framework: Annotated[
        list[str] | None,
        typer.Option("--framework", "-f", help="Framework to report on (repeat; default all)."),
    ] = None,
    system: _SYSTEM = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest.")] = False,
) -> None:
    """Export an audit pack whose reports/ holds every readiness report, under the signed manifest.

    The pack carries the whole ledger, so each entry cited by the assessment
    results (including organisation-wide ones) can be re-proven offline.

    Example: assay comply pack -o pack.zip --framework iso42001 --system support-bot
    """
    chosen = framework or list(catalogs.BUILTIN_FRAMEWORKS)
    formats, no_pdf = pack_formats()
    if no_pdf is not None:
        err_console.print(f"warning: the pack has no PDF reports: {no_pdf}", markup=False)
    with workspace() as ws:
        files: dict[str, bytes] = {}
        for framework_id in chosen:
            files.update(
                report_files(ws, _resolve_framework(framework_id), system, formats=formats)
            )
        manifest = export_pack(ws.ledger, out, extra_files=files)
    if as_json:
        print_json(manifest)
        return
    console.print(
        f"Wrote {out}: {len(files)} reports for {', '.join(chosen)}, checkpoint at tree size "
        f"{manifest['tree_size']} (verify with `assay pack verify {out} --key KEY`)",
        markup=False,
    )

"""``assay comply``: browse framework catalogs, trace a requirement, import a custom framework.

Custom frameworks live in ``<workspace>/frameworks/`` and are validated with
exactly the same checks as the built-in catalogs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from assay import catalogs
from assay.catalogs import Framework, Requirement
from assay.cli._common import console, print_json, workspace_path

__all__ = ["app"]

app = typer.Typer(
    name="comply",
    help="Compliance catalogs: ISO/IEC 42001, EU AI Act, NIST AI RMF, FCA and SEC.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

_JSON = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")]


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

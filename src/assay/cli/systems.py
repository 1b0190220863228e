"""``assay systems``: the AI system inventory and its EU AI Act classification."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from assay.aims import (
    LIFECYCLE_STAGES,
    ORG_ROLES,
    add_system,
    archive_system,
    get_system,
    list_systems,
    update_system,
)
from assay.aims.classification import (
    ANNEX_III_AREAS,
    ANNEX_III_POINTS,
    ART6_3_EXCEPTIONS,
    CARVE_OUTS,
    OUTSIDE_SCOPE,
    PROHIBITED_PRACTICES,
    TRANSPARENCY_CASES,
    classify_system,
)
from assay.cli._common import actor, console, done, print_json, workspace
from assay.errors import UsageError

__all__ = ["app"]

app = typer.Typer(help="Register, describe, classify and list AI systems.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _profile(
    intended_use: str | None,
    misuse: str | None,
    org_roles: list[str] | None,
    models: list[str] | None,
    datasets: list[str] | None,
    suppliers: list[str] | None,
    customers: list[str] | None,
    surfaces: list[str] | None,
    version: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if version is not None:
        out["version"] = version
    if intended_use is not None:
        out["intended_use"] = intended_use
    if misuse is not None:
        out["foreseeable_misuse"] = misuse
    if org_roles:
        out["org_roles"] = list(dict.fromkeys(org_roles))
    if models:
        out["models"] = [_model(m) for m in models]
    if datasets:
        out["datasets"] = [_dataset(d) for d in datasets]
    for key, values in (("suppliers", suppliers), ("customers", customers), ("surfaces", surfaces)):
        if values:
            out[key] = values
    return out


def _model(text: str) -> dict[str, str]:
    name, _, rest = text.partition("@")
    version, _, supplier = rest.partition(":")
    return {"name": name, "version": version, "supplier": supplier}


def _dataset(text: str) -> dict[str, Any]:
    name, _, provenance = text.partition("=")
    return {"name": name, "provenance": provenance}


IntendedUse = Annotated[str | None, typer.Option("--intended-use", help="Intended use (A.9.4).")]
Misuse = Annotated[str | None, typer.Option("--misuse", help="Reasonably foreseeable misuse.")]
OrgRole = Annotated[
    list[str] | None,
    typer.Option(
        "--org-role",
        help=f"EU AI Act role, repeat for several (provider and deployer): {', '.join(ORG_ROLES)}.",
    ),
]
Models = Annotated[
    list[str] | None, typer.Option("--model", help="Model as NAME[@VERSION][:SUPPLIER]; repeat.")
]
Datasets = Annotated[
    list[str] | None, typer.Option("--dataset", help="Dataset as NAME=PROVENANCE; repeat.")
]
Suppliers = Annotated[list[str] | None, typer.Option("--supplier", help="Supplier; repeat.")]
Customers = Annotated[list[str] | None, typer.Option("--customer", help="Customer; repeat.")]
Surfaces = Annotated[
    list[str] | None, typer.Option("--surface", help="Deployment surface (web, API...); repeat.")
]
Version = Annotated[
    str | None,
    typer.Option(
        "--version", help="Version in service (tests of other versions then do not count)."
    ),
]


@app.command("add")
def add(
    system_id: Annotated[str, typer.Argument(help="Short id, e.g. support-bot.")],
    name: Annotated[str, typer.Option(help="Human name.")],
    owner: Annotated[str, typer.Option(help="Accountable owner (person or team).")],
    purpose: Annotated[str, typer.Option(help="What the system is for.")] = "",
    stage: Annotated[
        str, typer.Option(help=f"Life cycle stage: {', '.join(LIFECYCLE_STAGES)}.")
    ] = "development",
    intended_use: IntendedUse = None,
    misuse: Misuse = None,
    org_role: OrgRole = None,
    model: Models = None,
    dataset: Datasets = None,
    supplier: Suppliers = None,
    customer: Customers = None,
    surface: Surfaces = None,
    version: Version = None,
    json_output: JsonFlag = False,
) -> None:
    """Register an AI system; the change is recorded in the ledger.

    Example: assay systems add support-bot --name "Support chatbot" --owner "CX team"
    --org-role provider --org-role deployer --model gpt-4o@2024-08:OpenAI --surface web
    """
    profile = _profile(
        intended_use, misuse, org_role, model, dataset, supplier, customer, surface, version
    )
    with workspace() as ws:
        record = add_system(
            ws.store,
            ws.ledger,
            system_id=system_id,
            name=name,
            owner=owner,
            purpose=purpose,
            lifecycle_stage=stage,
            profile=profile,
            actor=actor(),
        )
    done(record, json_output, f"Registered {record.id} ({record.name})")


@app.command("update")
def update(
    system_id: Annotated[str, typer.Argument(help="The system's id.")],
    name: Annotated[str | None, typer.Option(help="Human name.")] = None,
    owner: Annotated[str | None, typer.Option(help="Accountable owner.")] = None,
    purpose: Annotated[str | None, typer.Option(help="What the system is for.")] = None,
    stage: Annotated[str | None, typer.Option(help="Life cycle stage.")] = None,
    intended_use: IntendedUse = None,
    misuse: Misuse = None,
    org_role: OrgRole = None,
    model: Models = None,
    dataset: Datasets = None,
    supplier: Suppliers = None,
    customer: Customers = None,
    surface: Surfaces = None,
    version: Version = None,
    json_output: JsonFlag = False,
) -> None:
    """Change fields of a system (list options replace the whole list).

    Example: assay systems update support-bot --stage operation --supplier OpenAI
    """
    changes = _profile(
        intended_use, misuse, org_role, model, dataset, supplier, customer, surface, version
    )
    for key, value in (
        ("name", name),
        ("owner", owner),
        ("purpose", purpose),
        ("lifecycle_stage", stage),
    ):
        if value is not None:
            changes[key] = value
    if not changes:
        raise UsageError("nothing to change: give at least one option (see --help)")
    with workspace() as ws:
        record = update_system(ws.store, ws.ledger, system_id, changes, actor=actor())
    done(record, json_output, f"Updated {record.id}: {', '.join(sorted(changes))}")


@app.command("classify")
def classify(
    system_id: Annotated[str, typer.Argument(help="The system's id.")],
    prohibited: Annotated[
        list[str] | None,
        typer.Option("--prohibited", help=f"Art. 5 practice: {', '.join(PROHIBITED_PRACTICES)}."),
    ] = None,
    annex_i: Annotated[
        bool,
        typer.Option("--annex-i", help="Safety component of an Annex I product (Art. 6(1))."),
    ] = False,
    annex_iii: Annotated[
        list[str] | None,
        typer.Option(
            "--annex-iii",
            help=(
                f"Annex III area ({', '.join(ANNEX_III_AREAS)}) or sub-point "
                f"({', '.join(ANNEX_III_POINTS)}, or its ID such as 5(b)); repeat."
            ),
        ),
    ] = None,
    carve_out: Annotated[
        list[str] | None,
        typer.Option("--carve-out", help=f"Annex III exclusion: {', '.join(CARVE_OUTS)}."),
    ] = None,
    exception: Annotated[
        list[str] | None,
        typer.Option("--exception", help=f"Art. 6(3) case: {', '.join(ART6_3_EXCEPTIONS)}."),
    ] = None,
    profiling: Annotated[
        bool, typer.Option("--profiling", help="It profiles natural persons.")
    ] = False,
    transparency: Annotated[
        list[str] | None,
        typer.Option("--transparency", help=f"Art. 50 case: {', '.join(TRANSPARENCY_CASES)}."),
    ] = None,
    public_body: Annotated[
        bool,
        typer.Option(
            "--public-body",
            help="A body governed by public law or a private entity providing public services.",
        ),
    ] = False,
    workplace: Annotated[
        bool, typer.Option("--workplace", help="Used at the workplace by an employer.")
    ] = False,
    outside_scope: Annotated[
        str | None,
        typer.Option("--outside-scope", help=f"Outside the Act: {', '.join(OUTSIDE_SCOPE)}."),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Walk Art. 2, 5, 6 (Annex I/III, carve-outs, the 6(3) claim) and 50; record the answers.

    Example: assay systems classify credit-model --annex-iii credit-scoring --profiling
    """
    answers = {
        "prohibited": prohibited or [],
        "annex_i_safety_component": annex_i,
        "annex_iii": annex_iii or [],
        "carve_outs": carve_out or [],
        "exceptions": exception or [],
        "profiling": profiling,
        "transparency": transparency or [],
        "public_body": public_body,
        "workplace": workplace,
        "outside_scope": outside_scope,
    }
    with workspace() as ws:
        _, result = classify_system(ws.store, ws.ledger, system_id, answers, actor=actor())
    if json_output:
        print_json(result.model_dump(mode="json"))
        return
    console.print(f"{system_id}: {result.risk_class}", markup=False)
    for line in result.rationale:
        console.print(f"  - {line}", markup=False)


@app.command("archive")
def archive(system_id: Annotated[str, typer.Argument(help="The system's id.")]) -> None:
    """Archive a system (never deleted: its records and evidence remain).

    Example: assay systems archive old-bot
    """
    with workspace() as ws:
        archive_system(ws.store, ws.ledger, system_id, actor=actor())
    console.print(f"Archived {system_id}")


@app.command("list")
def list_(
    include_archived: Annotated[bool, typer.Option("--all", help="Include archived.")] = False,
    json_output: JsonFlag = False,
) -> None:
    """List registered AI systems.

    Example: assay systems list --json
    """
    with workspace() as ws:
        records = list_systems(ws.store, include_archived=include_archived)
    if json_output:
        print_json([r.as_json() for r in records])
        return
    if not records:
        console.print("No AI systems yet: add one with `assay systems add ID --name N --owner O`.")
        return
    table = Table("id", "name", "owner", "stage", "AI Act class")
    for r in records:
        table.add_row(r.id, r.name, r.owner, r.lifecycle_stage, r.ai_act_class or "unclassified")
    console.print(table)


@app.command("show")
def show(
    system_id: Annotated[str, typer.Argument(help="The system's id.")],
    json_output: JsonFlag = False,
) -> None:
    """Show one AI system.

    Example: assay systems show support-bot
    """
    with workspace() as ws:
        record = get_system(ws.store, system_id)
    if json_output:
        print_json(record.as_json())
        return
    for key, value in record.as_json().items():
        console.print(f"{key:22} {value}", markup=False)

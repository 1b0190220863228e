"""``assay doctor``: check the installation and the workspace; say what to fix."""

from __future__ import annotations

from typing import Annotated

import typer

from assay.cli._common import console, print_json, workspace, workspace_path

__all__ = ["register"]

_MARK = {"ok": "[green]ok[/green]", "warn": "[yellow]warn[/yellow]", "fail": "[red]FAIL[/red]"}


def doctor(
    policy: Annotated[
        str, typer.Option(help="The guard policy to check: a file, 'default' or 'off'.")
    ] = "default",
    replay_spill: Annotated[
        bool, typer.Option(help="Append stranded spill files to the ledger (no gateway running).")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Check Python, extras, models, the policy, the workspace, keys, store, schema,
    checkpoint age, clock and spill files; exit 1 when any check fails.

    Example: assay doctor --json
    """
    from assay.doctor import diagnose

    replayed = None
    if replay_spill:
        from assay.ledger.batcher import replay_spill as replay

        with workspace() as ws:
            replayed = replay(ws.ledger, ws.spill_dir)
    findings = diagnose(workspace_path(), policy=policy)
    failed = any(f.status == "fail" for f in findings)
    if json_output:
        report: dict[str, object] = {"ok": not failed, "checks": [f.as_dict() for f in findings]}
        if replayed is not None:
            report["replayed"] = replayed
        print_json(report)
    else:
        if replayed is not None:
            console.print(f"Replayed {replayed} spilled evidence entries into the ledger")
        for f in findings:
            fix = f" → {f.fix}" if f.fix and f.status != "ok" else ""
            console.print(f"{_MARK[f.status]:>22} {f.check:16} {f.detail}{fix}", markup=True,
                          highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)

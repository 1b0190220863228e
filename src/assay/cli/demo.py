"""``assay demo``: the main job on the embedded default (SQLite, no server)."""

from __future__ import annotations

import json
import shutil
import sys
from typing import Annotated

import typer

from assay.aims import add_system
from assay.cli._common import console, options
from assay.config import resolve_workspace
from assay.ledger import Evidence, Subject
from assay.ledger.pack import export_pack
from assay.ledger.verify import verify_pack
from assay.workspace import init_workspace, open_workspace

__all__ = ["register"]

DEMO_SYSTEM = "support-bot"


def demo(
    fresh: Annotated[bool, typer.Option(help="Delete an existing demo workspace first.")] = True,
    serve: Annotated[
        bool, typer.Option(help="Serve the dashboard at the end (when the web extra exists).")
    ] = True,
) -> None:
    """Run the main job end to end on a local SQLite workspace.

    Example: assay demo --no-serve
    """
    root = resolve_workspace(options.workspace)
    if fresh and (root / "assay.toml").exists():
        shutil.rmtree(root)
    workspace = init_workspace(root) if not (root / "assay.toml").exists() else open_workspace(root)
    try:
        console.print(f"1. Workspace ready at {root}")
        add_system(
            workspace.store,
            workspace.ledger,
            system_id=DEMO_SYSTEM,
            name="Customer support chatbot",
            owner="Customer Experience",
            purpose="Answers customer questions about orders and refunds.",
            lifecycle_stage="operation",
            actor="demo@cli",
        )
        console.print(f"2. Registered AI system {DEMO_SYSTEM} (recorded as evidence)")
        report = {"suite": "demo-smoke", "attempts": 20, "succeeded": 1}
        workspace.ledger.append(
            [
                Evidence(
                    type="assay.dev/eval-report/v1",
                    actor="demo@cli",
                    subject=Subject(DEMO_SYSTEM, "1.0"),
                    controls=("iso42001:A.6.2.4",),
                    summary={"attempts": 20, "succeeded": 1},
                    payload=json.dumps(report).encode(),
                )
            ]
        )
        note = workspace.ledger.checkpoint()
        console.print("3. Appended evidence and signed a checkpoint:")
        sys.stdout.write(note)
        result = workspace.ledger.verify()
        console.print(f"4. Ledger verify: {'OK' if result.ok else result.problems}")
        pack = root / "demo-pack.zip"
        export_pack(workspace.ledger, pack)
        verifier = workspace.ledger.signer.verifier
        checked = verify_pack(str(pack), verifier)
        console.print(
            f"5. Audit pack {pack}: {'verified offline' if checked.ok else checked.problems}"
        )
        console.print(f"   public key: {verifier}")
        if not (result.ok and checked.ok):
            raise typer.Exit(1)
    finally:
        workspace.close()
    console.print(f"Done. Workspace: {root}")
    if serve:
        console.print("The dashboard is not built yet; use the CLI: assay --help")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)

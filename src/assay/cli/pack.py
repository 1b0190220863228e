"""``assay pack``: export an audit pack; verify one offline with a public key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from assay.cli._common import console, print_json, workspace
from assay.cli.ledger import QuorumOpt, WitnessOpt, witness_policy
from assay.errors import AssayError
from assay.ledger.keys import load_verifier
from assay.ledger.pack import export_pack
from assay.ledger.verify import verify_pack

__all__ = ["app"]

app = typer.Typer(help="Audit packs: export, and verify offline.", no_args_is_help=True)


def _parse_date(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise AssayError(f"--since {value!r} is not a date: use YYYY-MM-DD") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("-o", "--out", help="Zip file to write.")],
    since: Annotated[
        str | None, typer.Option(help="Only evidence observed since (YYYY-MM-DD).")
    ] = None,
    system: Annotated[str | None, typer.Option(help="Only evidence about this AI system.")] = None,
    previous: Annotated[
        Path | None,
        typer.Option(help="A checkpoint exported before: adds a consistency proof from it."),
    ] = None,
    payloads: Annotated[bool, typer.Option(help="Include payloads (reports, records).")] = True,
    json_output: Annotated[bool, typer.Option("--json", help="Print the manifest.")] = False,
) -> None:
    """Export evidence, proofs, the signed checkpoint and a signed manifest.

    Example: assay pack export --since 2026-01-01 --system support-bot -o pack.zip
    """
    previous_note = None
    if previous is not None:
        try:
            previous_note = previous.read_text(encoding="utf-8")
        except OSError as exc:
            raise AssayError(f"cannot read {previous}: {exc.strerror}") from exc
    with workspace() as ws:
        manifest = export_pack(
            ws.ledger,
            out,
            since=_parse_date(since),
            system=system,
            previous_checkpoint=previous_note,
            include_payloads=payloads,
        )
    if json_output:
        print_json(manifest)
    else:
        console.print(
            f"Wrote {out}: checkpoint at tree size {manifest['tree_size']}, "
            f"{len(manifest['files'])} files (verify with `assay pack verify {out} --key KEY`)"  # type: ignore[arg-type]
        )


@app.command("verify")
def verify(
    pack: Annotated[Path, typer.Argument(help="The pack zip file.")],
    key: Annotated[str, typer.Option(help="The log's public key: key string or file.")],
    witness: WitnessOpt = None,
    quorum: QuorumOpt = 0,
    json_output: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Verify a pack with nothing but the log's public key (no workspace, no network).

    Example: assay pack verify pack.zip --key "assay.local/1f2e…+a1b2c3d4+AX…"
    """
    if not pack.is_file():
        raise AssayError(f"{pack} does not exist")
    report = verify_pack(str(pack), load_verifier(key), witness_policy(witness, quorum))
    if json_output:
        print_json(
            {
                "ok": report.ok,
                "origin": report.origin,
                "tree_size": report.tree_size,
                "entries": report.entries,
                "payloads": report.payloads,
                "files": report.files,
                "problems": report.problems,
            }
        )
    else:
        for problem in report.problems:
            console.print(f"FAIL {problem}", markup=False)
        if report.ok:
            console.print(
                f"OK: {report.entries} entries proven in checkpoint {report.tree_size} of "
                f"{report.origin}; {report.payloads} payloads and {report.files} files match"
            )
    if not report.ok:
        raise typer.Exit(1)

"""``assay ledger``: append, inspect, prove, verify and erase evidence."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from assay.aims.references import append_checked
from assay.catalogs import load_custom_frameworks
from assay.cli._common import actor, console, print_json, workspace
from assay.errors import AssayError, Invalid
from assay.ledger import Evidence, Subject
from assay.ledger import witness as witness_protocol
from assay.ledger.batcher import SpillStatus, replay_spill, spill_status
from assay.ledger.keys import generate_key_files, load_signer, load_verifier
from assay.ledger.note import (
    COSIGNATURE_TYPE,
    NoteError,
)
from assay.ledger.verify import WitnessPolicy, verify_checkpoint

__all__ = ["app", "witness_policy"]

app = typer.Typer(help="The tamper-evident evidence ledger.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
WitnessOpt = Annotated[
    list[str] | None,
    typer.Option("--witness", help="Witness public key (string or file); repeat for several."),
]
QuorumOpt = Annotated[int, typer.Option("--quorum", help="Valid witness cosignatures required.")]


def witness_policy(witnesses: list[str] | None, quorum: int) -> WitnessPolicy:
    """Build a k-of-n witness policy from CLI options."""
    keys = tuple(load_verifier(w) for w in witnesses or [])
    if quorum > len(keys):
        raise AssayError(f"--quorum {quorum} needs at least {quorum} --witness keys")
    return WitnessPolicy(keys, quorum)


def _read_source(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise AssayError(f"cannot read {source}: {exc.strerror}") from exc


@app.command("append")
def append(
    entry_type: Annotated[str, typer.Option("--type", help="Evidence type URI.")],
    source: Annotated[str, typer.Argument(help="JSON payload file, or - for stdin.")] = "-",
    system: Annotated[str | None, typer.Option(help="AI system the evidence is about.")] = None,
    control: Annotated[
        list[str] | None, typer.Option(help="Requirement it supports, e.g. iso42001:A.6.2.4.")
    ] = None,
    summary: Annotated[
        str, typer.Option(help="Non-sensitive JSON object stored in the entry itself.")
    ] = "{}",
    json_output: JsonFlag = False,
) -> None:
    """Append one entry; the JSON payload goes to the blob store under a salted digest.

    Every --control must name a known requirement (built-in or imported) and
    --system a registered AI system: the ledger is append-only, so mistakes are
    refused before they are written.

    Example: echo '{"note": "model card reviewed"}' | assay ledger append --type assay.dev/note/v1 -
    """
    raw = _read_source(source)
    try:
        json.loads(raw)
        summary_value = json.loads(summary)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AssayError(f"payload and --summary must be JSON ({exc})") from exc
    if not isinstance(summary_value, dict):
        raise AssayError("--summary must be a JSON object, e.g. '{\"score\": 0.9}'")
    evidence = Evidence(
        type=entry_type,
        actor=actor(),
        subject=Subject(system) if system else None,
        controls=tuple(control or ()),
        summary=summary_value,
        payload=raw,
    )
    with workspace() as ws:
        custom = load_custom_frameworks(ws.root / "frameworks")
        seq, leaf = append_checked(ws.store, ws.ledger, evidence, frameworks=custom)
    if json_output:
        print_json({"seq": seq, "leaf_hash": leaf})
    else:
        console.print(f"Appended entry {seq} (leaf {leaf[:16]}…)")


@app.command("show")
def show(
    seq: Annotated[int, typer.Argument(help="Sequence number.")],
    payload: Annotated[bool, typer.Option(help="Print the payload content too.")] = False,
    json_output: JsonFlag = False,
) -> None:
    """Show one entry.

    Example: assay ledger show 0 --payload
    """
    with workspace() as ws:
        stored = ws.ledger.get(seq)
        content = ws.ledger.payload(seq) if payload else None
    data: dict[str, Any] = {
        "seq": stored.seq,
        "leaf_hash": stored.leaf_hash.hex(),
        "entry": stored.decoded(),
    }
    if payload:
        data["payload_content"] = None if content is None else content.decode("utf-8", "replace")
    if json_output:
        print_json(data)
        return
    console.print_json(json.dumps(data, default=str))


@app.command("tail")
def tail(
    count: Annotated[int, typer.Option("-n", help="How many entries.")] = 10,
    json_output: JsonFlag = False,
) -> None:
    """Show the newest entries and the latest checkpoint.

    Example: assay ledger tail -n 20
    """
    with workspace() as ws:
        size = ws.ledger.size()
        rows = list(ws.ledger.iter_entries(max(0, size - count), size))
        note = ws.ledger.latest_checkpoint()
    entries = [{"seq": r.seq, **r.decoded()} for r in rows]
    if json_output:
        print_json({"size": size, "entries": entries, "checkpoint": note})
        return
    if not entries:
        console.print("The ledger is empty: append with `assay ledger append`.")
        return
    table = Table("seq", "type", "system", "observed_at", "actor")
    for e in entries:
        subject = e.get("subject") or {}
        table.add_row(
            str(e["seq"]), e["type"], subject.get("system") or "", e["observed_at"], e["actor"]
        )
    console.print(table)
    if note:
        sys.stdout.write(note)
    else:
        console.print("No checkpoint yet: run `assay ledger checkpoint`.")


@app.command("checkpoint")
def checkpoint(json_output: JsonFlag = False) -> None:
    """Sign a checkpoint over every entry so far and print it.

    Example: assay ledger checkpoint > checkpoint.txt
    """
    with workspace() as ws:
        note = ws.ledger.checkpoint()
    if json_output:
        print_json({"checkpoint": note})
    else:
        sys.stdout.write(note)


@app.command("prove")
def prove(
    seq: Annotated[int, typer.Argument(help="Sequence number.")],
    checkpoint_size: Annotated[
        int | None,
        typer.Option("--checkpoint", help="Tree size of the checkpoint to prove against."),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Print an inclusion proof of an entry in a signed checkpoint.

    Example: assay ledger prove 42 --json
    """
    with workspace() as ws:
        proof = ws.ledger.prove(seq, checkpoint_size)
    if json_output:
        print_json(proof.as_json())
        return
    console.print(f"entry {proof.seq} in tree of size {proof.tree_size}")
    console.print(f"leaf hash {proof.leaf_hash.hex()}")
    for i, node in enumerate(proof.path):
        console.print(f"  path[{i}] {node.hex()}")
    sys.stdout.write(proof.checkpoint)


@app.command("consistency")
def consistency(
    old_size: Annotated[int, typer.Argument(help="Older tree size.")],
    new_size: Annotated[int, typer.Argument(help="Newer tree size.")],
) -> None:
    """Print an RFC 9162 consistency proof (hex, one per line) between two sizes.

    Example: assay ledger consistency 100 250 > proof.txt
    """
    with workspace() as ws:
        proof = ws.ledger.consistency(old_size, new_size)
    for node in proof:
        sys.stdout.write(node.hex() + "\n")


@app.command("verify")
def verify(
    witness: WitnessOpt = None,
    quorum: QuorumOpt = 0,
    json_output: JsonFlag = False,
) -> None:
    """Recompute every leaf, node and checkpoint; exit 1 naming any damage.

    Example: assay ledger verify
    """
    policy = witness_policy(witness, quorum)
    with workspace() as ws:
        report = ws.ledger.verify()
        spills = spill_status(ws.spill_dir)
        if policy.quorum:
            note = ws.ledger.latest_cosigned()
            try:
                if note is None:
                    raise NoteError("there is no checkpoint for witnesses to cosign")
                verify_checkpoint(note, ws.ledger.signer.verifier, policy)
            except NoteError as exc:
                report.problems.append(f"checkpoint: {exc}")
    if json_output:
        print_json(
            {
                "ok": report.ok,
                "entries": report.entries,
                "checkpoints": report.checkpoints,
                "unsigned_tail": report.unsigned_tail,
                "problems": report.problems,
                "spill": {
                    "pending": [p.name for p in spills.pending],
                    "stranded": [p.name for p in spills.stranded],
                    "unreadable": [p.name for p in spills.unreadable],
                },
            }
        )
    else:
        _print_spills(spills)
        for problem in report.problems:
            console.print(f"FAIL {problem}", markup=False)
        status = "OK" if report.ok else "FAILED"
        console.print(
            f"{status}: {report.entries} entries, {report.checkpoints} checkpoints verified"
            + (
                f"; {report.unsigned_tail} newest entries not yet in a checkpoint"
                if report.unsigned_tail
                else ""
            )
        )
    if not report.ok:
        raise typer.Exit(1)


def _print_spills(spills: SpillStatus) -> None:
    waiting = len(spills.pending) + len(spills.stranded)
    if waiting:
        console.print(
            f"NOTE {waiting} spill file(s) of evidence not yet in the ledger "
            f"({len(spills.stranded)} left by a process that died mid-replay): "
            "run `assay ledger replay-spill`",
            markup=False,
        )
    if spills.unreadable:
        console.print(
            f"NOTE {len(spills.unreadable)} file(s) of unreadable spill lines kept for inspection",
            markup=False,
        )


@app.command("replay-spill")
def replay_spill_command() -> None:
    """Append spilled evidence now, including files a crashed replay left claimed.

    Safe to run at any time: each spilled item is appended once, however often
    it is replayed.

    Example: assay ledger replay-spill
    """
    with workspace() as ws:
        count = replay_spill(ws.ledger, ws.spill_dir)
    console.print(f"Replayed {count} spilled item(s) into the ledger")


@app.command("erase")
def erase(
    seq: Annotated[
        int | None, typer.Argument(help="Entry whose payload holds personal data.")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why (e.g. a GDPR Art. 17 request id).")] = "",
    older_than: Annotated[
        int | None,
        typer.Option(help="Retention: erase every payload observed more than N days ago."),
    ] = None,
    entry_type: Annotated[
        list[str] | None, typer.Option("--type", help="With --older-than: only these types.")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Erase payloads (content and salt); entries and proofs stay valid.

    Example: assay ledger erase 17 --reason "GDPR request 2026-031"
    Example: assay ledger erase --older-than 90 --type assay.dev/guard-decision/v1 \\
        --reason retention
    """
    if not reason:
        raise AssayError("say why with --reason (it is recorded in the erasure entry)")
    if (seq is None) == (older_than is None):
        raise AssayError("give either an entry number or --older-than DAYS")
    with workspace() as ws:
        if seq is not None:
            erased = [seq]
            receipt = ws.ledger.erase(seq, actor(), reason)
            console_note = f"recorded as entry {receipt.seq}"
        else:
            cutoff = datetime.now(UTC) - timedelta(days=older_than or 0)
            erased = ws.ledger.erase_older_than(cutoff, actor(), reason, entry_type or ())
            console_note = "each recorded as an erasure entry"
    if json_output:
        print_json({"erased": erased})
    else:
        console.print(f"Erased {len(erased)} payload(s); {console_note}")


@app.command("witness-key")
def witness_key(
    name: Annotated[str, typer.Option(help="Witness name, e.g. witness.example/w1.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Private key file to create.")],
) -> None:
    """Create a witness key pair (tlog-cosignature, Ed25519); prints the public key.

    Example: assay ledger witness-key --name witness.example/w1 -o w1.key
    """
    if out.exists():
        raise AssayError(f"{out} already exists: pick another path")
    verifier = generate_key_files(out, name, COSIGNATURE_TYPE)
    sys.stdout.write(f"{verifier}\n")


@app.command("witness")
def witness(
    key: Annotated[Path, typer.Option(help="Witness private key file.")],
    name: Annotated[str, typer.Option(help="Witness name (as in its public key).")],
    checkpoint_file: Annotated[Path, typer.Option("--checkpoint", help="Checkpoint note file.")],
    log_key: Annotated[str, typer.Option(help="The log's public key (string or file).")],
    state: Annotated[
        Path | None, typer.Option(help="File remembering the last cosigned checkpoint.")
    ] = None,
    proof: Annotated[
        Path | None,
        typer.Option(help="Consistency proof (from `assay ledger consistency`) since --state."),
    ] = None,
) -> None:
    """Cosign a checkpoint as a witness after checking it; prints the cosigned note.

    Runs anywhere (no workspace needed). With --state, refuses to cosign a
    checkpoint that does not extend the last one it cosigned.

    Example: assay ledger witness --key w1.key --name witness.example/w1 \\
        --checkpoint cp.txt --log-key log.pub --state w1.state --proof proof.txt
    """
    signer = load_signer(key, name, COSIGNATURE_TYPE)
    note = _read_text(checkpoint_file)
    previous = _read_text(state) if state is not None and state.exists() else None
    nodes = _hex_proof(proof) if proof else None
    line = witness_protocol.cosign(
        note, signer, load_verifier(log_key), previous=previous, proof=nodes
    )
    if state is not None:
        state.write_text(note, encoding="utf-8")
    sys.stdout.write(note + line + "\n")


def _hex_proof(path: Path) -> list[bytes]:
    try:
        return [bytes.fromhex(h) for h in _read_text(path).split()]
    except ValueError as exc:
        raise Invalid(f"refusing to cosign: {path} is not a hex proof ({exc})") from exc


@app.command("cosign")
def cosign(
    note_file: Annotated[Path, typer.Argument(help="Checkpoint note carrying the cosignature.")],
    witness_name: Annotated[str, typer.Option("--witness", help="Witness name.")],
) -> None:
    """Store a witness's cosignature with its checkpoint.

    Example: assay ledger cosign cosigned.txt --witness witness.example/w1
    """
    with workspace() as ws:
        ws.ledger.add_cosignature(_read_text(note_file), witness_name)
    console.print(f"Stored the cosignature by {witness_name}")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AssayError(f"cannot read {path}: {exc}") from exc

"""``assay guard``: check texts against a guard policy; validate and show policies.

Exit codes of ``guard check``: 0 when the text is allowed, warned or redacted,
3 when it is blocked (in batch mode: when any row is blocked), 1 on errors and
2 on usage errors — so a script can tell "blocked" from "broken".
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from assay.cli._common import (
    actor,
    console,
    err_console,
    evidence_batcher,
    load_guard,
    open_ws,
    print_json,
)
from assay.errors import AssayError, UsageError

if TYPE_CHECKING:
    from assay.guard import Guard, Verdict
    from assay.validators import CheckContext

__all__ = ["BLOCKED_EXIT", "app"]

BLOCKED_EXIT = 3

app = typer.Typer(
    help="Check texts against a guard policy; validate and show policies.", no_args_is_help=True
)
policy_app = typer.Typer(help="Validate and show guard policies.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")

PolicyOpt = Annotated[
    str,
    typer.Option("--policy", "-p", help="Policy YAML file, or 'default' for the built-in policy."),
]


@contextmanager
def _recorder(record: bool, system: str | None) -> Iterator[Any]:
    """A LedgerSink on the workspace's ledger when ``--record`` is given."""
    if not record:
        yield None
        return
    from assay.guard import LedgerSink
    from assay.ledger.keys import digest_key

    workspace = open_ws()
    batcher = evidence_batcher(workspace)
    try:
        yield LedgerSink(batcher, system=system, actor=actor(), key=digest_key(workspace.root))
    finally:
        batcher.close()
        workspace.close()


def _read_text(text: str | None) -> str:
    if text is None or text == "-":
        return sys.stdin.read()
    return text


def _show(verdict: Verdict) -> None:
    style = {"allow": "green", "warn": "yellow", "redact": "cyan", "block": "bold red"}
    console.print(f"[{style[verdict.action]}]{verdict.action}[/] in {verdict.total_ms:.2f} ms")
    for f in verdict.findings:
        spans = ", ".join(f"{s}-{e}" for s, e in f.spans[:5])
        console.print(
            f"  {f.validator:<20} {f.label:<24} score {f.score:.3f}  spans {spans}", markup=False
        )
    if verdict.redacted_text is not None:
        console.print("redacted: " + verdict.redacted_text, markup=False)
    if verdict.error:
        console.print("error: " + verdict.error, markup=False)


@app.command("check")
def check(
    text: Annotated[str | None, typer.Argument(help="Text to check, or - for stdin.")] = None,
    policy: PolicyOpt = "default",
    output: Annotated[bool, typer.Option("--output", help="Check as model output.")] = False,
    prompt: Annotated[
        str | None, typer.Option("--prompt", help="The prompt an --output text answers.")
    ] = None,
    batch: Annotated[
        Path | None,
        typer.Option("--batch", help='JSONL file of rows {"text": ...} (optionally "prompt").'),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON output (batch: one JSON object per row).")
    ] = False,
    record: Annotated[
        bool, typer.Option("--record", help="Also write each decision to the workspace ledger.")
    ] = False,
    system: Annotated[
        str | None,
        typer.Option("--system", help="AI system the evidence is about (with --record)."),
    ] = None,
    origin: Annotated[
        str | None,
        typer.Option("--origin", help="Where input comes from: 'prompt' (a user's request) or "
                     "'document' (tool output, retrieved text); default: inferred."),
    ] = None,
) -> None:
    """Check a text (or a JSONL batch); exit 3 when blocked, 0 otherwise."""
    if batch is not None and text is not None:
        raise UsageError("give either TEXT or --batch FILE, not both")
    if prompt is not None and not output:
        raise UsageError("--prompt only applies with --output")
    if origin not in (None, "prompt", "document"):
        raise UsageError("--origin must be 'prompt' or 'document'")
    from assay.validators import CheckContext

    ctx = None if origin is None else CheckContext(
        origin="document" if origin == "document" else "prompt")
    with _recorder(record, system) as sink:
        guard = load_guard(policy, sink)
        blocked = (
            _batch(guard, batch, output, as_json, ctx)
            if batch is not None
            else _single(guard, _read_text(text), output, prompt, as_json, ctx)
        )
    if blocked:
        raise typer.Exit(BLOCKED_EXIT)


def _check(guard: Guard, text: str, output: bool, prompt: str | None,
           ctx: CheckContext | None) -> Verdict:
    if output:
        return guard.check_output(text, prompt=prompt)
    return guard.check_input(text, ctx)


def _single(guard: Guard, text: str, output: bool, prompt: str | None, as_json: bool,
            ctx: CheckContext | None) -> bool:
    verdict = _check(guard, text, output, prompt, ctx)
    if as_json:
        print_json(verdict.as_dict())
    else:
        _show(verdict)
    return verdict.blocked


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AssayError(f"cannot read {path}: {exc.strerror}; check the path") from exc
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problem = f"not valid JSON ({exc.msg}); fix that line"
            raise AssayError(f"{path}:{number}: {problem}") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise AssayError(f'{path}:{number}: each row needs a string "text" field')
        rows.append((number, row))
    return rows


def _batch(guard: Guard, path: Path, output: bool, as_json: bool,
           ctx: CheckContext | None) -> bool:
    rows = _rows(path)
    counts: Counter[str] = Counter()
    times: list[float] = []
    with Progress(
        TextColumn("[bold]guard[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("blocked {task.fields[blocked]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=as_json,
    ) as bar:
        task = bar.add_task("check", total=len(rows), blocked=0)
        for number, row in rows:
            prompt = row.get("prompt") if isinstance(row.get("prompt"), str) else None
            verdict = _check(guard, row["text"], output, prompt, ctx)
            counts[verdict.action] += 1
            times.append(verdict.total_ms)
            if as_json:
                sys.stdout.write(
                    json.dumps({"line": number, **verdict.as_dict()}, ensure_ascii=False) + "\n"
                )
            bar.update(task, advance=1, blocked=counts["block"])
    if not as_json:
        times.sort()
        p50 = times[len(times) // 2] if times else 0.0
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))] if times else 0.0
        summary = "  ".join(f"{a} {counts[a]}" for a in ("allow", "warn", "redact", "block"))
        console.print(f"{len(rows)} rows: {summary}  (guard p50 {p50:.2f} ms, p99 {p99:.2f} ms)")
    return counts["block"] > 0


@policy_app.command("validate")
def validate(path: Annotated[Path, typer.Argument(help="Policy YAML file.")]) -> None:
    """Check a policy file; errors name the line and field at fault (exit 1)."""
    from assay.guard import load_policy

    policy = load_policy(path)
    console.print(
        f"{path}: valid ({len(policy.input)} input rules, {len(policy.output)} output "
        f"rules, on_error {policy.on_error}, stream {policy.stream.mode})",
        markup=False,
    )


@policy_app.command("show-default")
def show_default() -> None:
    """Print the built-in default policy (a starting point for your own)."""
    from assay.guard import default_policy_text

    sys.stdout.write(default_policy_text())

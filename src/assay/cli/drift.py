"""``assay drift``: references, live status, offline replay of guard-signal events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from assay.cli._common import actor, console, open_ws, print_json, workspace
from assay.drift import (
    BadEvent,
    LedgerAlertSink,
    Reference,
    ReferenceStore,
    WindowSpec,
    build_reference,
    event_time,
    read_jsonl,
    replay,
)
from assay.drift.alerts import AlertSink
from assay.errors import AssayError, UsageError

__all__ = ["app"]

app = typer.Typer(
    help="Watch guard signals for drift against frozen references.", no_args_is_help=True
)
reference_app = typer.Typer(
    help="Build, version and inspect drift references.", no_args_is_help=True
)
app.add_typer(reference_app, name="reference")

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _time(value: str | None, option: str) -> float | None:
    if value is None:
        return None
    try:
        return event_time(float(value) if value.replace(".", "", 1).isdigit() else value)
    except BadEvent:
        raise UsageError(f"{option} {value!r} is not a time: use 2026-01-31T00:00:00Z") from None


def _fmt_ts(ts: Any) -> str:
    if not isinstance(ts, int | float):
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _events(path: Path) -> Iterator[Any]:
    for _, value in read_jsonl(path):
        yield value


def _recorded(root: Path, system: str) -> Iterator[Any]:
    folder = root / "events" / system
    files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    if not files:
        raise AssayError(
            f"no recorded events for {system!r} in {folder}: pass --from events.jsonl, "
            "or run the monitor with record=True first"
        )
    for path in files:
        yield from _events(path)


@reference_app.command("set")
def reference_set(
    system: Annotated[str, typer.Option("--system", "-s", help="AI system id.")],
    source: Annotated[
        Path | None,
        typer.Option("--from", help="JSONL file of events (default: the recorded events)."),
    ] = None,
    from_traffic: Annotated[
        bool,
        typer.Option("--from-traffic",
                     help="Build from the guard decisions already in the ledger."),
    ] = False,
    last: Annotated[
        int | None,
        typer.Option(min=1, help="With --from-traffic: only the newest N requests."),
    ] = None,
    since: Annotated[str | None, typer.Option(help="Only events at or after this time.")] = None,
    until: Annotated[str | None, typer.Option(help="Only events before this time.")] = None,
    block_events: Annotated[int, typer.Option(help="Events per block (N).")] = 250,
    blocks: Annotated[int, typer.Option(help="Blocks per window (K).")] = 8,
    block_seconds: Annotated[float, typer.Option(help="Close a block after T s.")] = 300.0,
    cooldown: Annotated[float, typer.Option(help="Seconds before re-alerting a level.")] = 900.0,
    bins: Annotated[int, typer.Option(help="Quantile bins per numeric signal.")] = 10,
    activate: Annotated[
        int | None, typer.Option(help="Re-activate an existing version instead of building.")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Build and freeze a new reference version for a system and make it active.

    Example: assay drift reference set --system support-bot --from events.jsonl
    --since 2026-01-01T00:00:00Z --until 2026-01-08T00:00:00Z

    Example: assay drift reference set --system support-bot --from-traffic --last 20000
    """
    if from_traffic and source is not None:
        raise UsageError("--from and --from-traffic exclude each other: pick one source")
    if last is not None and not from_traffic:
        raise UsageError("--last goes with --from-traffic")
    with workspace() as ws:
        root = ws.root / "drift"
        store = ReferenceStore(root)
        if activate is not None:
            store.activate(system, activate)
            ref = store.load(system)
        else:
            origin: dict[str, Any]
            if from_traffic:
                from assay.drift.traffic import traffic_events

                events: Any = traffic_events(ws.ledger, system, last=last)
                origin = {"traffic": "ledger", "last": last, "since": since, "until": until}
            else:
                events = _events(source) if source is not None else _recorded(root, system)
                origin = {"file": str(source) if source else "recorded", "since": since,
                          "until": until}
            spec = WindowSpec(block_events, blocks, block_seconds, cooldown)
            built = build_reference(
                events,
                system,
                window=spec,
                bins=bins,
                since=_time(since, "--since"),
                until=_time(until, "--until"),
                source=origin,
            )
            ref = store.save(built)
    if json_output:
        print_json(_describe(ref))
        return
    console.print(
        f"Reference {ref.ref} is active: {ref.n_events} events, {len(ref.numeric)} numeric "
        f"signals, {len(ref.categorical)} categories, embedding {'yes' if ref.embedding else 'no'}"
    )


def _describe(ref: Reference, *, full: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "reference": ref.ref,
        "system": ref.system,
        "version": ref.version,
        "created_at": ref.created_at,
        "events": ref.n_events,
        "from": _fmt_ts(ref.first_ts),
        "to": _fmt_ts(ref.last_ts),
        "source": dict(ref.source),
        "window": {
            "block_events": ref.window.block_events,
            "blocks": ref.window.blocks,
            "block_seconds": ref.window.block_seconds,
            "cooldown_seconds": ref.window.cooldown_seconds,
        },
        "bad_events": dict(ref.bad_events),
        "signals": {},
    }
    for sig in ref.numeric:
        data["signals"][sig.name] = {
            "kind": "numeric",
            "mean": sig.mean,
            "std": sig.std,
            "bins": len(sig.edges) + 1,
            "thresholds": {k: _th(v) for k, v in sig.thresholds.items()},
        }
    for cat in ref.categorical:
        data["signals"][f"category:{cat.name}"] = {
            "kind": "categorical",
            "values": list(cat.values),
            "thresholds": {k: _th(v) for k, v in cat.thresholds.items()},
        }
    if ref.embedding is not None:
        data["signals"]["embedding"] = {
            "kind": "embedding",
            "dim": ref.embedding.dim,
            "thresholds": {k: _th(v) for k, v in ref.embedding.thresholds.items()},
        }
    if full:
        data["raw"] = ref.to_json()
    return data


def _th(th: Any) -> dict[str, Any]:
    return {"warn": th.warn, "alert": th.alert, "critical": th.critical, "fit": th.fit}


@reference_app.command("show")
def reference_show(
    system: Annotated[
        str | None, typer.Option("--system", "-s", help="AI system id (default: all).")
    ] = None,
    version: Annotated[int | None, typer.Option(help="A version (default: active).")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Show the active reference (or a version) with its calibrated thresholds.

    Example: assay drift reference show --system support-bot --json
    """
    with workspace() as ws:
        store = ReferenceStore(ws.root / "drift")
        systems = [system] if system else store.systems()
        refs = [store.load(s, version) for s in systems]
        versions = {s: store.versions(s) for s in systems}
    if json_output:
        print_json([{**_describe(r), "versions": versions[r.system]} for r in refs])
        return
    if not refs:
        console.print(
            "No drift references yet: create one with "
            "`assay drift reference set --system S --from events.jsonl`."
        )
        return
    for ref in refs:
        console.print(
            f"{ref.ref} (versions {', '.join(f'v{v}' for v in versions[ref.system])}): "
            f"{ref.n_events} events from {_fmt_ts(ref.first_ts)} to {_fmt_ts(ref.last_ts)}"
        )
        table = Table("signal", "statistic", "warn", "alert", "critical", "fit")
        for name, sig in _describe(ref)["signals"].items():
            for stat, th in sig["thresholds"].items():
                table.add_row(
                    name,
                    stat,
                    f"{th['warn']:.4g}",
                    f"{th['alert']:.4g}",
                    f"{th['critical']:.4g}",
                    th["fit"],
                )
        console.print(table)


@app.command("status")
def status(
    system: Annotated[str | None, typer.Option("--system", "-s", help="One AI system.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Levels, counters and last alert as last reported by the live monitors.

    Example: assay drift status --system support-bot
    """
    with workspace() as ws:
        root = ws.root / "drift"
        store = ReferenceStore(root)
        systems = (
            [system]
            if system
            else sorted(set(store.systems()) | {p.stem for p in (root / "status").glob("*.json")})
        )
        rows: list[dict[str, Any]] = []
        for name in systems:
            path = root / "status" / f"{name}.json"
            live: dict[str, Any] = {}
            if path.is_file():
                try:
                    live = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, json.JSONDecodeError):
                    live = {"error": f"unreadable status file {path}"}
            version = store.active_version(name)
            rows.append(
                {
                    "system": name,
                    "active_reference": f"{name}@v{version}" if version else None,
                    "live": live or None,
                }
            )
    if json_output:
        print_json(rows)
        return
    if not rows:
        console.print(
            "No drift references or monitors yet: see `assay drift reference set --help`."
        )
        return
    for row in rows:
        live = row["live"] or {}
        levels = live.get("levels", {})
        worst = max(levels.values(), key=["ok", "warn", "alert", "critical"].index, default="-")
        last = live.get("last_alert") or {}
        console.print(
            f"{row['system']}: reference {live.get('reference') or row['active_reference'] or '-'}"
            f", observed {live.get('observed', '-')}, evaluations {live.get('evaluations', '-')}"
            f", level {worst}, alerts {live.get('alerts', '-')}"
            + (f", last {last.get('level')} at {last.get('observed_at')}" if last else "")
        )
    if any(r["live"] is None for r in rows):
        console.print("Systems without figures have no live monitor reporting to this workspace.")


@app.command("replay")
def replay_cmd(
    events: Annotated[Path, typer.Argument(help="JSONL file of timestamped events.")],
    reference: Annotated[
        list[str] | None,
        typer.Option(
            "--reference",
            "-r",
            help="Reference file, SYSTEM or SYSTEM@vN; repeat for several (default: active).",
        ),
    ] = None,
    evidence: Annotated[
        bool, typer.Option("--evidence", help="Also append the alerts to the ledger.")
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """Replay recorded events offline; raises exactly the alerts a live monitor would.

    Example: assay drift replay events.jsonl --reference support-bot@v2 --json
    """
    if not events.is_file():
        raise UsageError(f"{events} does not exist: pass a JSONL file of events")
    workspace = None
    specs = reference or []
    try:
        store = None
        if evidence or not specs or any(not Path(s).is_file() for s in specs):
            workspace = open_ws()
            store = ReferenceStore(workspace.root / "drift")
        refs = [
            Reference.load(Path(s)) if store is None or Path(s).is_file() else store.resolve(s)
            for s in specs
        ]
        if not refs and store is not None:
            refs = store.active()
        if not refs:
            raise AssayError(
                "no drift reference to replay against: pass --reference FILE or "
                "create one with `assay drift reference set`"
            )
        sinks: list[AlertSink] = []
        if evidence and workspace is not None:
            sinks.append(LedgerAlertSink(workspace.ledger, actor=actor()))
        result = replay(_events(events), refs, sinks=sinks)
    finally:
        if workspace is not None:
            workspace.close()
    if json_output:
        print_json({"alerts": [a.as_json() for a in result.alerts], "status": result.status})
        return
    for alert in result.alerts:
        console.print(f"{alert.as_json()['observed_at']}  {alert.headline()}")
    for name, st in result.status["systems"].items():
        console.print(
            f"{name}: {st['observed']} events, {st['evaluations']} evaluations, "
            f"{st['alerts']} alerts against {st['reference']}"
        )
    bad = result.status["bad_events"]
    if bad:
        console.print(f"bad events: {', '.join(f'{k}: {v}' for k, v in sorted(bad.items()))}")
    if result.status["unmonitored"]:
        console.print(f"events for systems without a reference: {result.status['unmonitored']}")

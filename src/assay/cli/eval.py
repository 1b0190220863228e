"""``assay eval``: measure one validator on a labelled JSONL file.

The JSON output (``--json``) is a stable interface for comparing Assay with
other tools; see :mod:`assay.validators.evaluate` for the contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from assay.cli._common import console, print_json

__all__ = ["eval_command", "register"]


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def eval_command(
    validator: Annotated[str, typer.Option("--validator", "-v", help="Validator name.")],
    data: Annotated[
        Path, typer.Option("--data", "-d", help="JSONL rows: text and label (or spans for pii).")
    ],
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold", "-t", help="Decision threshold (default: the validator's own)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Measure a validator: precision, recall, F1, FPR, ROC-AUC, TPR at 1%/5% FPR, latency."""
    from assay.validators.evaluate import evaluate

    result = evaluate(validator, data, threshold=threshold)
    if as_json:
        print_json(result)
        return
    console.print(
        f"validator {result['validator']}: n={result['n']} "
        f"positives={result['positives']} negatives={result['negatives']} "
        f"threshold={_fmt(result['threshold'])}"
    )
    if "entities" in result:
        console.print(f"{'entity':<20} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>8}")
        for name, m in result["entities"].items():
            mark = "" if m["supported"] else "  (not detected by this validator)"
            console.print(
                f"{name:<20} {_fmt(m['precision']):>9} {_fmt(m['recall']):>9} "
                f"{_fmt(m['f1']):>9} {m['support']:>8}{mark}"
            )
        o = result["overall"]
        console.print(
            f"{'overall':<20} {_fmt(o['precision']):>9} {_fmt(o['recall']):>9} "
            f"{_fmt(o['f1']):>9} {o['support']:>8}"
        )
    else:
        for key in (
            "precision",
            "recall",
            "f1",
            "fpr",
            "roc_auc",
            "tpr_at_1pct_fpr",
            "tpr_at_5pct_fpr",
        ):
            console.print(f"{key:<16} {_fmt(result[key])}")
    lat = result["latency_ms"]
    console.print(f"latency ms       p50 {_fmt(lat['p50'])}  p99 {_fmt(lat['p99'])}")


def register(app: typer.Typer) -> None:
    """Attach ``eval`` to the root app."""
    app.command("eval")(eval_command)

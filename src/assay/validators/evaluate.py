"""The evaluation harness behind ``assay eval``: one stable JSON contract.

Classification rows are ``{"text", "label": 0|1}``; the output has exactly the
keys ``validator, n, positives, negatives, threshold, precision, recall, f1,
fpr, roc_auc, tpr_at_1pct_fpr, tpr_at_5pct_fpr, latency_ms: {p50, p99}`` with
``null`` where a figure is undefined (for instance ROC-AUC on one class). For
``pii`` rows carry ``spans: [{"start", "end", "entity"}]`` and the output adds
span-level precision/recall/F1 per entity and overall (exact span match).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from assay.errors import AssayError
from assay.validators.base import CheckContext, Validator
from assay.validators.metrics import confusion, percentile, roc_auc, span_prf, tpr_at_fpr
from assay.validators.registry import get_validator

__all__ = ["CLASSIFICATION_KEYS", "evaluate", "evaluate_rows", "read_rows", "score_function"]

CLASSIFICATION_KEYS = ("validator", "n", "positives", "negatives", "threshold", "precision",
                       "recall", "f1", "fpr", "roc_auc", "tpr_at_1pct_fpr", "tpr_at_5pct_fpr",
                       "latency_ms")


def read_rows(path: Path, *, spans: bool = False) -> list[dict[str, Any]]:
    """Rows of a JSONL file, checked; a bad row raises naming its line."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise AssayError(f"Cannot read {path}: {exc.strerror}; pass an existing JSONL file "
                         "with --data.") from exc
    rows: list[dict[str, Any]] = []
    with handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AssayError(f"{path}:{lineno} is not valid JSON ({exc.msg}); fix or remove "
                                 "that line.") from exc
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise AssayError(f"{path}:{lineno} has no string 'text' field; every row needs "
                                 '{"text": ..., "label": 0|1}.')
            if spans:
                _check_spans(path, lineno, row)
            elif row.get("label") not in (0, 1, True, False):
                raise AssayError(f"{path}:{lineno} has label {row.get('label')!r}; use 0 "
                                 "(benign) or 1 (should be flagged).")
            rows.append(row)
    if not rows:
        raise AssayError(f"{path} has no rows; add JSON lines with 'text' and 'label'.")
    return rows


def _check_spans(path: Path, lineno: int, row: dict[str, Any]) -> None:
    spans = row.get("spans", [])
    ok = isinstance(spans, list) and all(
        isinstance(s, dict) and isinstance(s.get("start"), int) and isinstance(s.get("end"), int)
        and isinstance(s.get("entity"), str) and 0 <= s["start"] <= s["end"] <= len(row["text"])
        for s in spans)
    if not ok:
        raise AssayError(f"{path}:{lineno} has bad 'spans'; each must be "
                         '{"start": int, "end": int, "entity": str} within the text.')


def score_function(validator: Validator) -> Callable[[str], float]:
    """A text's score: the validator's own ``score`` if it has one, else the top finding's."""
    own = getattr(validator, "score", None)
    if callable(own):
        def scored(text: str) -> float:
            return float(own(text))
        return scored

    def top(text: str) -> float:
        return max((f.score for f in validator.check(text, CheckContext())), default=0.0)

    return top


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _latency(times: list[float]) -> dict[str, float | None]:
    p50, p99 = percentile(times, 50), percentile(times, 99)
    return {"p50": _r(p50), "p99": _r(p99)}


def evaluate_rows(name: str, rows: Iterable[dict[str, Any]], *, threshold: float | None = None,
                  validator: Validator | None = None) -> dict[str, Any]:
    """Metrics for ``rows`` (classification, or span-level for ``pii``)."""
    rows = list(rows)
    if name == "pii":
        return _evaluate_pii(rows, validator)
    params: dict[str, Any] = {} if threshold is None else {"threshold": threshold}
    v = validator or get_validator(name, **params)
    t = threshold if threshold is not None else float(getattr(v, "threshold", 0.5))
    scorer = score_function(v)
    scores: list[float] = []
    times: list[float] = []
    for row in rows:
        start = time.perf_counter()
        scores.append(scorer(row["text"]))
        times.append((time.perf_counter() - start) * 1000)
    labels = [int(bool(row["label"])) for row in rows]
    cm = confusion(scores, labels, t)
    return {
        "validator": name, "n": len(rows), "positives": sum(labels),
        "negatives": len(labels) - sum(labels), "threshold": _r(t),
        "precision": _r(cm.precision), "recall": _r(cm.recall), "f1": _r(cm.f1),
        "fpr": _r(cm.fpr), "roc_auc": _r(roc_auc(scores, labels)),
        "tpr_at_1pct_fpr": _r(tpr_at_fpr(scores, labels, 0.01)),
        "tpr_at_5pct_fpr": _r(tpr_at_fpr(scores, labels, 0.05)),
        "latency_ms": _latency(times),
    }


def _evaluate_pii(rows: list[dict[str, Any]], validator: Validator | None) -> dict[str, Any]:
    from assay.validators.pii import PiiValidator

    v = validator if isinstance(validator, PiiValidator) else PiiValidator(names=True)
    gold: list[set[tuple[int, int, str]]] = []
    pred: list[set[tuple[int, int, str]]] = []
    times: list[float] = []
    for row in rows:
        start = time.perf_counter()
        found = v.spans(row["text"])
        times.append((time.perf_counter() - start) * 1000)
        pred.append({(s, e, ent) for s, e, ent, _ in found})
        gold.append({(s["start"], s["end"], s["entity"]) for s in row.get("spans", [])})
    entities = sorted({g[2] for spans in gold for g in spans} | {p[2] for spans in pred
                                                               for p in spans})
    supported = set(v.entities)
    per_entity = {}
    for ent in entities:
        exact = span_prf(gold, pred, ent)
        overlap = span_prf(gold, pred, ent, overlap=True)
        per_entity[ent] = {**{k: _r(x) if isinstance(x, float) else x for k, x in exact.items()},
                           "overlap_f1": _r(overlap["f1"] if isinstance(overlap["f1"], float)
                                            else None),
                           "supported": ent in supported}
    gold_s = [{g for g in spans if g[2] in supported} for spans in gold]
    overall = span_prf(gold_s, pred)
    labels = [int(bool(g)) for g in gold]
    return {
        "validator": "pii", "n": len(rows), "positives": sum(labels),
        "negatives": len(labels) - sum(labels), "threshold": _r(float(getattr(v, "threshold",
                                                                               0.5))),
        "overall": {k: _r(x) if isinstance(x, float) else x for k, x in overall.items()},
        "overall_scope": "entities the validator supports: " + ", ".join(sorted(supported)),
        "entities": per_entity, "latency_ms": _latency(times),
    }


def evaluate(name: str, data: Path, *, threshold: float | None = None) -> dict[str, Any]:
    """Read ``data`` and evaluate the validator ``name`` on it."""
    rows = read_rows(data, spans=name == "pii")
    return evaluate_rows(name, rows, threshold=threshold)

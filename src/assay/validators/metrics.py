"""Binary-classification and span metrics in pure Python (no numpy needed).

Shared by ``assay eval``, the training scripts and the benchmarks so that every
published figure is computed by the same code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Confusion", "best_f1_threshold", "confusion", "percentile", "roc_auc", "roc_points",
           "span_prf", "tpr_at_fpr"]


@dataclass(frozen=True, slots=True)
class Confusion:
    """Counts at one threshold and the rates derived from them (None when undefined)."""

    tp: int
    fp: int
    tn: int
    fn: int

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def fpr(self) -> float | None:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None if r is None else 0.0
        return 2 * p * r / (p + r) if p + r else 0.0


def confusion(scores: Sequence[float], labels: Sequence[int], threshold: float) -> Confusion:
    """Counts with ``score >= threshold`` predicted positive."""
    tp = fp = tn = fn = 0
    for s, y in zip(scores, labels, strict=True):
        if s >= threshold:
            tp, fp = (tp + 1, fp) if y else (tp, fp + 1)
        else:
            fn, tn = (fn + 1, tn) if y else (fn, tn + 1)
    return Confusion(tp, fp, tn, fn)


def roc_auc(scores: Sequence[float], labels: Sequence[int]) -> float | None:
    """Area under the ROC curve (Mann-Whitney U with tie correction); None for one class."""
    pos = sum(1 for y in labels if y)
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    rank_sum = 0.0
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        avg_rank = (i + j) / 2 + 1
        rank_sum += avg_rank * sum(1 for k in range(i, j + 1) if labels[order[k]])
        i = j + 1
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def roc_points(scores: Sequence[float], labels: Sequence[int]) -> list[tuple[float, float, float]]:
    """(threshold, fpr, tpr) at every distinct score, highest threshold first."""
    pos = sum(1 for y in labels if y)
    neg = len(labels) - pos
    pairs = sorted(zip(scores, labels, strict=True), key=lambda p: -p[0])
    out: list[tuple[float, float, float]] = []
    tp = fp = 0
    i = 0
    while i < len(pairs):
        t = pairs[i][0]
        while i < len(pairs) and pairs[i][0] == t:
            tp, fp = (tp + 1, fp) if pairs[i][1] else (tp, fp + 1)
            i += 1
        out.append((t, fp / neg if neg else 0.0, tp / pos if pos else 0.0))
    return out


def tpr_at_fpr(scores: Sequence[float], labels: Sequence[int], max_fpr: float) -> float | None:
    """Highest TPR reachable with FPR <= ``max_fpr``; None for one class."""
    if all(labels) or not any(labels):
        return None
    best = 0.0
    for _, fpr, tpr in roc_points(scores, labels):
        if fpr <= max_fpr + 1e-12:
            best = max(best, tpr)
    return best


def best_f1_threshold(scores: Sequence[float], labels: Sequence[int],
                      max_fpr: float = 1.0) -> float:
    """The threshold with the highest F1 among those with FPR <= ``max_fpr``."""
    pos = sum(1 for y in labels if y)
    best_t, best_f1 = 0.5, -1.0
    for t, fpr, tpr in roc_points(scores, labels):
        if fpr > max_fpr + 1e-12:
            continue
        tp = tpr * pos
        predicted = sum(1 for s in scores if s >= t)
        f1 = 2 * tp / (predicted + pos) if predicted + pos else 0.0
        if f1 > best_f1 + 1e-12:
            best_t, best_f1 = t, f1
    return best_t


def percentile(values: Iterable[float], q: float) -> float | None:
    """Nearest-rank percentile (q in [0, 100]); None when empty."""
    data = sorted(values)
    if not data:
        return None
    k = max(0, min(len(data) - 1, math.ceil(q / 100 * len(data)) - 1))
    return data[k]


SpanSet = set[tuple[int, int, str]]


def span_prf(gold: Sequence[SpanSet], predicted: Sequence[SpanSet], entity: str | None = None,
             *, overlap: bool = False) -> dict[str, float | int | None]:
    """Span-level precision/recall/F1, exact match or (``overlap``) any overlap, per entity.

    Each element of ``gold``/``predicted`` is the set of ``(start, end, entity)``
    spans of one text.
    """
    tp_pred = n_pred = tp_gold = n_gold = 0
    for g, p in zip(gold, predicted, strict=True):
        gs = [s for s in g if entity is None or s[2] == entity]
        ps = [s for s in p if entity is None or s[2] == entity]
        n_gold += len(gs)
        n_pred += len(ps)

        def hit(a: tuple[int, int, str], pool: list[tuple[int, int, str]]) -> bool:
            if overlap:
                return any(a[2] == b[2] and a[0] < b[1] and b[0] < a[1] for b in pool)
            return a in pool

        tp_pred += sum(1 for s in ps if hit(s, gs))
        tp_gold += sum(1 for s in gs if hit(s, ps))
    precision = tp_pred / n_pred if n_pred else None
    recall = tp_gold / n_gold if n_gold else None
    f1: float | None = None
    if precision is not None and recall is not None:
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": n_gold,
            "predicted": n_pred}

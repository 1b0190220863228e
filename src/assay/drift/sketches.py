"""Hot-path sketches: what one event costs the request that produced it.

Per event and signal the monitor does a dict lookup, a finiteness check and one
``bisect`` into the reference's frozen bin edges; categories are one dict
lookup; the embedding is one in-place vector add. A block-level reservoir
(Vitter's algorithm R, one ``random()`` per event) keeps a uniform sample of
whole events for the reservoir statistics. Nothing here allocates per signal
or grows with traffic, so the cost is O(1) per event.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Block", "ClosedBlock", "SketchPlan", "bin_edges"]

_NAN = float("nan")
MAX_DISCRETE = 16
"""A signal with at most this many distinct reference values is binned per value."""


def bin_edges(values: Sequence[float] | NDArray[np.float64], bins: int) -> tuple[float, ...]:
    """Frozen edges from reference values: per value when discrete, else quantiles.

    For discrete signals (flags, counts) the edges sit on the smallest value,
    between neighbours and just above the largest, so a value never seen in the
    reference (a first refusal, say) lands in a bin of its own.
    """
    data = np.asarray(values, dtype=np.float64)
    distinct = np.unique(data)
    if distinct.size == 0:
        return ()
    if distinct.size <= MAX_DISCRETE:
        mids = (distinct[:-1] + distinct[1:]) / 2
        top = float(np.nextafter(distinct[-1], np.inf))
        return (float(distinct[0]), *(float(m) for m in mids), top)
    qs = np.quantile(data, np.linspace(0, 1, bins + 1)[1:-1])
    return tuple(float(q) for q in np.unique(qs))


@dataclass(frozen=True)
class SketchPlan:
    """The frozen shape of a system's sketches, taken from its reference."""

    numeric: tuple[str, ...]
    edges: tuple[tuple[float, ...], ...]
    categorical: tuple[str, ...]
    cat_values: tuple[Mapping[str, int], ...]
    embedding_dim: int
    block_reservoir: int
    record: bool = False


@dataclass
class ClosedBlock:
    """A finished block, handed to the evaluator as arrays (never mutated again)."""

    n: int
    start_ts: float
    end_ts: float
    counts: list[NDArray[np.int64]]
    missing: list[int]
    bad: list[int]
    cat_counts: list[NDArray[np.int64]]
    cat_missing: list[int]
    emb_sum: NDArray[np.float64] | None
    emb_n: int
    emb_bad: int
    rows: NDArray[np.float64]
    emb_rows: NDArray[np.float32] | None
    events: list[Mapping[str, Any]] = field(default_factory=list)


class Block:
    """Sketches for the events of one block of one system (the hot path)."""

    __slots__ = (
        "_emb_dim",
        "_numeric",
        "_plan",
        "_random",
        "bad",
        "cat_counts",
        "cat_missing",
        "counts",
        "emb_bad",
        "emb_n",
        "emb_rows",
        "emb_sum",
        "end_ts",
        "events",
        "missing",
        "n",
        "rows",
        "start_ts",
    )

    def __init__(self, plan: SketchPlan, start_ts: float, rng: random.Random) -> None:
        self._plan = plan
        self._random = rng.random
        self._emb_dim = plan.embedding_dim
        self.n = 0
        self.start_ts = start_ts
        self.end_ts = start_ts
        self.counts = [[0] * (len(e) + 1) for e in plan.edges]
        self.missing = [0] * len(plan.numeric)
        self.bad = [0] * len(plan.numeric)
        self._numeric = tuple(
            zip(plan.numeric, plan.edges, self.counts, range(10**6), strict=False)
        )
        self.cat_counts = [[0] * (len(v) + 1) for v in plan.cat_values]
        self.cat_missing = [0] * len(plan.categorical)
        self.emb_sum: NDArray[np.float64] | None = (
            np.zeros(plan.embedding_dim) if plan.embedding_dim else None
        )
        self.emb_n = 0
        self.emb_bad = 0
        self.rows: list[dict[str, Any]] = []
        self.emb_rows: list[NDArray[np.float64] | None] = []
        self.events: list[Mapping[str, Any]] = []

    def add(
        self,
        ts: float,
        signals: Mapping[str, Any],
        categories: Mapping[str, Any] | None,
        embedding: Any,
        event: Mapping[str, Any],
    ) -> None:
        """Fold one event into the block: O(signals), no allocation unless sampled."""
        self.n += 1
        if ts > self.end_ts:
            self.end_ts = ts
        missing, bad = self.missing, self.bad
        for name, edges, counts, i in self._numeric:
            value = signals.get(name)
            if value is None:
                missing[i] += 1
                continue
            cls = value.__class__
            if cls is not float:
                if cls is int or cls is bool or isinstance(value, np.floating | np.integer):
                    try:
                        value = float(value)
                    except OverflowError:
                        bad[i] += 1
                        continue
                else:
                    bad[i] += 1
                    continue
            if value - value != 0.0:  # NaN or ±inf
                bad[i] += 1
                continue
            counts[bisect_right(edges, value)] += 1
        if self.cat_counts:
            self._add_categories(categories)
        vector = None
        if self._emb_dim and embedding is not None:
            vector = self._add_embedding(embedding)
        # Algorithm R over whole events: the first k always, then with probability k/n.
        # A shallow copy now (cheap); conversion to a row waits for close().
        size = self._plan.block_reservoir
        if len(self.rows) < size:
            self.rows.append(dict(signals))
            self.emb_rows.append(vector)
        else:
            j = int(self._random() * self.n)
            if j < size:
                self.rows[j] = dict(signals)
                self.emb_rows[j] = vector
        if self._plan.record:
            self.events.append(event)

    def _add_categories(self, categories: Mapping[str, Any] | None) -> None:
        values = self._plan.cat_values
        for i, name in enumerate(self._plan.categorical):
            value = categories.get(name) if isinstance(categories, Mapping) else None
            if not isinstance(value, str):
                self.cat_missing[i] += 1
                continue
            index = values[i].get(value)
            self.cat_counts[i][len(values[i]) if index is None else index] += 1

    def _add_embedding(self, embedding: Any) -> NDArray[np.float64] | None:
        try:
            vector = np.asarray(embedding, dtype=np.float64)
            total = float(vector.sum())
        except (TypeError, ValueError):
            self.emb_bad += 1
            return None
        if vector.shape != (self._emb_dim,) or not math.isfinite(total):
            self.emb_bad += 1
            return None
        assert self.emb_sum is not None
        self.emb_sum += vector
        self.emb_n += 1
        return vector

    def _row(self, signals: Mapping[str, Any]) -> tuple[float, ...]:
        row = []
        for name in self._plan.numeric:
            value = signals.get(name)
            try:
                number = float(value) if value is not None and not isinstance(value, str) else _NAN
            except (TypeError, ValueError, OverflowError):
                number = _NAN
            row.append(number if math.isfinite(number) else _NAN)
        return tuple(row)

    def close(self) -> ClosedBlock:
        """Freeze the block into arrays for the evaluator."""
        width = len(self._plan.numeric)
        rows = np.asarray([self._row(r) for r in self.rows], dtype=np.float64)
        rows = rows.reshape(len(self.rows), width)
        vectors = [v for v in self.emb_rows if v is not None]
        emb_rows = np.asarray(vectors, dtype=np.float32) if vectors else None
        return ClosedBlock(
            n=self.n,
            start_ts=self.start_ts,
            end_ts=self.end_ts,
            counts=[np.asarray(c, dtype=np.int64) for c in self.counts],
            missing=list(self.missing),
            bad=list(self.bad),
            cat_counts=[np.asarray(c, dtype=np.int64) for c in self.cat_counts],
            cat_missing=list(self.cat_missing),
            emb_sum=None if self.emb_sum is None else self.emb_sum.copy(),
            emb_n=self.emb_n,
            emb_bad=self.emb_bad,
            rows=rows,
            emb_rows=emb_rows,
            events=self.events,
        )

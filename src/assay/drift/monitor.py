"""The drift monitor: a cheap hot path and a background evaluator, per AI system.

``observe(event)`` folds an event into the current block's sketches. A block
closes after N events, or when an event's timestamp is T seconds past the
block's first one — event time, never the wall clock, which is why a replay of
the same events raises exactly the alerts the live run raised. Closed blocks go
to the evaluator (a thread live, inline in replay; the same function either
way), which keeps the most recent ~N·K events as the window and compares it
with the frozen reference: PSI and JS per numeric signal, chi² per category,
centroid cosine distance for embeddings; when any of those fires, KS,
Wasserstein and MMD on the reservoirs add detail. Levels use the reference's
calibrated thresholds; an alert fires when a signal's level rises, or again at
the same level once the cool-down (in event time) has passed.

Bad input never raises: events without a system, timestamp or signals object
are counted by reason; NaN, infinite or non-numeric values are counted per
signal; exceptions inside the monitor are counted and logged.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import threading
import zlib
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from assay.drift import stats
from assay.drift.alerts import (
    AlertSink,
    DriftAlert,
    LedgerAlertSink,
    LogSink,
    OtelSink,
    WebhookSink,
)
from assay.drift.calibrate import LEVELS, Thresholds
from assay.drift.events import BadEvent, event_time, to_json_line
from assay.drift.reference import Reference, ReferenceStore
from assay.drift.sketches import Block, ClosedBlock, SketchPlan

if TYPE_CHECKING:
    from assay.ledger import Ledger
    from assay.ledger.batcher import EvidenceQueue


class DriftHome(Protocol):
    """Where a monitor keeps its references and alerts: an open Workspace has both."""

    @property
    def root(self) -> Path: ...

    @property
    def ledger(self) -> Ledger: ...

__all__ = ["DriftMonitor", "ReplayResult", "replay"]

log = logging.getLogger("assay.drift")
MAX_BLOCKS = 4096
MAX_UNMONITORED = 100
MAX_ALERTS = 1000
MMD_SAMPLE = 128


@dataclass
class _System:
    """Hot-path and evaluator state of one monitored system."""

    ref: Reference
    plan: SketchPlan
    rng: random.Random
    eval_rng: np.random.Generator
    lock: threading.Lock = field(default_factory=threading.Lock)
    block: Block | None = None
    observed: int = 0
    window: deque[ClosedBlock] = field(default_factory=deque)
    window_events: int = 0
    missing: Counter[str] = field(default_factory=Counter)
    bad_values: Counter[str] = field(default_factory=Counter)
    evaluations: int = 0
    alerts: int = 0
    levels: dict[str, str] = field(default_factory=dict)
    fired: dict[str, tuple[int, float]] = field(default_factory=dict)
    last_eval: dict[str, Any] = field(default_factory=dict)
    last_alert: dict[str, Any] | None = None


def _seed(ref: Reference) -> int:
    return zlib.crc32(f"{ref.system}@{ref.version}:{ref.created_at}".encode())


class DriftMonitor:
    """Watch live guard signals of one or more systems against frozen references.

    Feed it with ``observe(event)`` (see :mod:`assay.drift.events` for the
    schema). ``background=False`` evaluates inline — that is what replay uses.
    """

    def __init__(
        self,
        references: Iterable[Reference],
        *,
        sinks: Sequence[AlertSink] = (),
        background: bool = True,
        state_dir: Path | None = None,
        record_dir: Path | None = None,
    ) -> None:
        self.sinks = list(sinks)
        self.background = background
        self.state_dir = state_dir
        self.record_dir = record_dir
        self._systems: dict[str, _System] = {}
        for ref in references:
            self.set_reference(ref)
        self._bad: Counter[str] = Counter()
        self._unmonitored: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()
        self._counter_lock = threading.Lock()
        self._alerts: deque[DriftAlert] = deque(maxlen=MAX_ALERTS)
        self._queue: queue.SimpleQueue[tuple[_System, ClosedBlock] | threading.Event | None]
        self._queue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._run, name="assay-drift", daemon=True)
            self._thread.start()

    # -- configuration ---------------------------------------------------------

    def set_reference(self, ref: Reference) -> None:
        """Monitor ``ref.system`` against ``ref`` (replacing any earlier reference)."""
        seed = _seed(ref)
        self._systems[ref.system] = _System(
            ref=ref,
            plan=ref.plan(record=self.record_dir is not None),
            rng=random.Random(seed),  # noqa: S311 - statistical sampling, not secrets
            eval_rng=np.random.default_rng(seed),
        )

    @classmethod
    def from_workspace(
        cls,
        workspace: DriftHome,
        *,
        batcher: EvidenceQueue | None = None,
        webhook: str | None = None,
        otlp_endpoint: str | None = None,
        background: bool = True,
        record: bool = False,
    ) -> DriftMonitor:
        """A monitor over the workspace's active references, alerting to log and ledger.

        Pass the gateway's evidence queue so alerts join its evidence stream;
        without one, alerts are appended directly. ``record=True`` keeps the
        events under ``drift/events/`` so later references can be cut by time.
        """
        root = workspace.root / "drift"
        sinks: list[AlertSink] = [LogSink(), LedgerAlertSink(batcher or workspace.ledger)]
        if webhook:
            sinks.append(WebhookSink(webhook))
        if otlp_endpoint:
            sinks.append(OtelSink(otlp_endpoint))
        return cls(
            ReferenceStore(root).active(),
            sinks=sinks,
            background=background,
            state_dir=root / "status",
            record_dir=root / "events" if record else None,
        )

    # -- hot path ----------------------------------------------------------------

    def observe(self, event: Mapping[str, Any]) -> None:
        """Fold one event into its system's sketches; O(1), never raises."""
        try:
            system = self._systems.get(event.get("system"))  # type: ignore[arg-type]
            if system is None:
                self._count_unmonitored(event)
                return
            ts = event.get("ts")
            if ts.__class__ is not float or ts - ts != 0.0:
                ts = event_time(ts)
            signals = event.get("signals")
            if signals.__class__ is not dict and not isinstance(signals, Mapping):
                raise BadEvent("signals not an object")
            with system.lock:
                block = system.block
                window = system.ref.window
                if block is None:
                    block = system.block = Block(system.plan, ts, system.rng)
                elif block.n >= window.block_events or ts - block.start_ts >= window.block_seconds:
                    self._submit(system, block.close())
                    block = system.block = Block(system.plan, ts, system.rng)
                block.add(ts, signals, event.get("categories"), event.get("embedding"), event)
                system.observed += 1
        except BadEvent as exc:
            self._count(self._bad, str(exc))
        except AttributeError:
            self._count(self._bad, "not an object")
        except Exception as exc:  # the hot path must never fail the request
            self._count(self._errors, f"observe: {type(exc).__name__}")
            log.exception("drift monitor failed on an event")

    def _count(self, counter: Counter[str], key: str) -> None:
        with self._counter_lock:
            counter[key] += 1

    def _count_unmonitored(self, event: Mapping[str, Any]) -> None:
        name = event.get("system")
        if not isinstance(name, str):
            self._count(self._bad, "missing system")
            return
        with self._counter_lock:
            if name in self._unmonitored or len(self._unmonitored) < MAX_UNMONITORED:
                self._unmonitored[name] += 1
            else:
                self._unmonitored["(other systems)"] += 1

    def _submit(self, system: _System, closed: ClosedBlock) -> None:
        if self.background:
            self._queue.put((system, closed))
        else:
            self._evaluate_safely(system, closed)

    # -- control -------------------------------------------------------------------

    def flush(self, timeout: float = 60.0) -> None:
        """Close every partial block and wait until all blocks are evaluated."""
        for system in list(self._systems.values()):
            with system.lock:
                if system.block is not None and system.block.n:
                    self._submit(system, system.block.close())
                system.block = None
        if self._thread is not None and self._thread.is_alive():
            done = threading.Event()
            self._queue.put(done)
            done.wait(timeout)

    def close(self) -> None:
        """Flush, stop the evaluator and close sinks that hold resources."""
        self.flush()
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None
        for sink in self.sinks:
            closer = getattr(sink, "close", None)
            if callable(closer):
                try:
                    closer()
                except Exception:
                    log.exception("closing a drift alert sink failed")

    def __enter__(self) -> DriftMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def alerts(self) -> list[DriftAlert]:
        """Alerts raised so far (the most recent 1,000)."""
        return list(self._alerts)

    def status(self, system: str | None = None) -> dict[str, Any]:
        """Counters, current levels and the last evaluation, per system."""
        names = [system] if system is not None else sorted(self._systems)
        systems = {}
        for name in names:
            state = self._systems.get(name)
            if state is not None:
                systems[name] = _status(state)
        with self._counter_lock:
            return {
                "systems": systems,
                "bad_events": dict(self._bad),
                "unmonitored": dict(self._unmonitored),
                "errors": dict(self._errors),
            }

    # -- evaluator -----------------------------------------------------------------

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            self._evaluate_safely(*item)

    def _evaluate_safely(self, system: _System, closed: ClosedBlock) -> None:
        try:
            alert = _evaluate(system, closed)
        except Exception as exc:
            self._count(self._errors, f"evaluate: {type(exc).__name__}")
            log.exception("drift evaluation failed for %s", system.ref.system)
            return
        if self.record_dir is not None and closed.events:
            self._record(system.ref.system, closed)
        if alert is not None:
            self._alerts.append(alert)
            for sink in self.sinks:
                try:
                    sink.emit(alert)
                except Exception as exc:
                    self._count(self._errors, f"sink {type(sink).__name__}: {type(exc).__name__}")
                    log.warning("drift alert sink %s failed: %s", type(sink).__name__, exc)
        if self.state_dir is not None:
            self._write_status(system)

    def _record(self, name: str, closed: ClosedBlock) -> None:
        try:
            day = datetime.fromtimestamp(closed.start_ts, UTC).strftime("%Y-%m-%d")
            folder = self.record_dir / name  # type: ignore[operator]
            folder.mkdir(parents=True, exist_ok=True)
            with (folder / f"{day}.jsonl").open("a", encoding="utf-8") as handle:
                handle.writelines(to_json_line(e) for e in closed.events)
        except (OSError, TypeError, ValueError) as exc:
            self._count(self._errors, f"record: {type(exc).__name__}")

    def _write_status(self, system: _System) -> None:
        assert self.state_dir is not None
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            with self._counter_lock:
                extra = {"bad_events": dict(self._bad), "errors": dict(self._errors)}
            data = {**_status(system), **extra, "written_at": datetime.now(UTC).isoformat()}
            path = self.state_dir / f"{system.ref.system}.json"
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, default=str), encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            self._count(self._errors, f"status: {type(exc).__name__}")


def _status(state: _System) -> dict[str, Any]:
    return {
        "reference": state.ref.ref,
        "observed": state.observed,
        "window_events": state.window_events,
        "evaluations": state.evaluations,
        "alerts": state.alerts,
        "levels": dict(state.levels),
        "missing": dict(state.missing),
        "bad_values": dict(state.bad_values),
        "last_evaluation": dict(state.last_eval),
        "last_alert": state.last_alert,
    }


def _evaluate(state: _System, closed: ClosedBlock) -> DriftAlert | None:
    """Add a closed block to the window, compare with the reference, decide alerts."""
    ref, spec = state.ref, state.ref.window
    state.window.append(closed)
    state.window_events += closed.n
    while len(state.window) > 1 and (
        state.window_events - state.window[0].n >= spec.window_events
        or len(state.window) > MAX_BLOCKS
    ):
        state.window_events -= state.window.popleft().n
    for i, name in enumerate(state.plan.numeric):
        state.missing[name] += closed.missing[i]
        state.bad_values[name] += closed.bad[i]
    for i, name in enumerate(state.plan.categorical):
        state.missing[f"category:{name}"] += closed.cat_missing[i]
    state.bad_values["embedding"] += closed.emb_bad
    w = state.window_events
    window = list(state.window)
    info = {"ts": closed.end_ts, "window_events": w, "blocks": len(window)}
    if w < spec.window_events / 2:
        state.last_eval = {**info, "state": "filling"}
        return None
    state.evaluations += 1
    results = _cheap(ref, window, w)
    if any(r["level"] > 0 for r in results):
        _expensive(ref, window, results, state.eval_rng)
    for r in results:
        state.levels[r["signal"]] = LEVELS[r["level"]]
    fired = []
    for r in results:
        last_level, last_ts = state.fired.get(r["signal"], (0, float("-inf")))
        previous = last_level if closed.end_ts - last_ts < spec.cooldown_seconds else 0
        if r["level"] > previous:
            state.fired[r["signal"]] = (r["level"], closed.end_ts)
            fired.append(r)
    worst = max((r["level"] for r in results), default=0)
    state.last_eval = {**info, "state": "evaluated", "level": LEVELS[worst]}
    if not fired:
        return None
    level = max(r["level"] for r in fired)
    alert = DriftAlert(
        system=ref.system,
        level=LEVELS[level],
        ts=closed.end_ts,
        reference=ref.ref,
        window={"events": w, "start_ts": window[0].start_ts, "end_ts": closed.end_ts},
        signals=tuple({**r, "level": LEVELS[r["level"]]} for r in fired),
    )
    state.alerts += 1
    state.last_alert = alert.as_json()
    return alert


def _add(
    result: dict[str, Any], name: str, th: Thresholds, value: float, n: float, m: float
) -> int:
    level = th.level(value, n, m)
    result["statistics"][name] = {"value": value, "level": LEVELS[level], **th.scaled(n, m)}
    return level


def _cheap(ref: Reference, window: list[ClosedBlock], w: int) -> list[dict[str, Any]]:
    n_ref = float(ref.n_events)
    out: list[dict[str, Any]] = []
    for i, sig in enumerate(ref.numeric):
        live = np.sum([b.counts[i] for b in window], axis=0)
        result: dict[str, Any] = {"signal": sig.name, "kind": "numeric", "statistics": {}}
        if live.sum() == 0:
            result["level"] = 0
            out.append(result)
            continue
        result["level"] = max(
            _add(result, "psi", sig.thresholds["psi"], stats.psi(sig.counts, live), w, n_ref),
            _add(result, "js", sig.thresholds["js"], stats.js_distance(sig.counts, live), w, n_ref),
        )
        out.append(result)
    for i, cat in enumerate(ref.categorical):
        live = np.sum([b.cat_counts[i] for b in window], axis=0)
        result = {"signal": f"category:{cat.name}", "kind": "categorical", "statistics": {}}
        chi, dof, p = stats.chi2_contingency(cat.counts, live)
        result["level"] = _add(result, "chi2", cat.thresholds["chi2"], chi, w, n_ref)
        result["statistics"]["chi2"].update({"dof": dof, "p_value": p})
        out.append(result)
    if ref.embedding is not None:
        emb_n = sum(b.emb_n for b in window)
        result = {"signal": "embedding", "kind": "embedding", "statistics": {}, "level": 0}
        if emb_n >= 2:
            total = np.sum([b.emb_sum for b in window if b.emb_sum is not None], axis=0)
            dist = stats.cosine_distance(total / emb_n, ref.embedding.centroid)
            result["level"] = _add(
                result, "cosine", ref.embedding.thresholds["cosine"], dist, w, n_ref
            )
        out.append(result)
    return out


def _window_rows(
    window: list[ClosedBlock], rng: np.random.Generator
) -> tuple[NDArray[np.float64], list[NDArray[np.float32]]]:
    """Equal-probability sample of the window from the block reservoirs."""
    fraction = min(len(b.rows) / b.n for b in window if b.n)
    rows, vectors = [], []
    for b in window:
        take = min(len(b.rows), round(fraction * b.n))
        if take == 0:
            continue
        picked = np.sort(rng.choice(len(b.rows), size=take, replace=False))
        rows.append(b.rows[picked])
        if b.emb_rows is not None:
            size = min(take, len(b.emb_rows))
            vectors.append(b.emb_rows[np.sort(rng.choice(len(b.emb_rows), size, replace=False))])
    width = window[0].rows.shape[1]
    return (np.concatenate(rows) if rows else np.zeros((0, width))), vectors


def _expensive(
    ref: Reference,
    window: list[ClosedBlock],
    results: list[dict[str, Any]],
    rng: np.random.Generator,
) -> None:
    rows, vectors = _window_rows(window, rng)
    by_name = {r["signal"]: r for r in results}
    for i, sig in enumerate(ref.numeric):
        live = rows[:, i][np.isfinite(rows[:, i])]
        if live.size == 0 or not sig.sample:
            continue
        result = by_name[sig.name]
        ref_sample = np.asarray(sig.sample)
        d, p = stats.ks_2samp(live, ref_sample)
        _add(result, "ks", sig.thresholds["ks"], d, live.size, ref_sample.size)
        result["statistics"]["ks"]["p_value"] = p
        _add(
            result,
            "wasserstein",
            sig.thresholds["wasserstein"],
            stats.wasserstein(live, ref_sample),
            live.size,
            ref_sample.size,
        )
    if ref.embedding is not None and vectors:
        live_emb = np.concatenate(vectors).astype(np.float64)
        if live_emb.shape[0] > MMD_SAMPLE:
            live_emb = live_emb[np.sort(rng.choice(live_emb.shape[0], MMD_SAMPLE, replace=False))]
        ref_emb = np.asarray(ref.embedding.sample)
        if live_emb.shape[0] >= 2 and ref_emb.shape[0] >= 2:
            value = stats.mmd2_rbf(live_emb, ref_emb, ref.embedding.rbf_gamma)
            th = ref.embedding.thresholds["mmd"]
            _add(by_name["embedding"], "mmd", th, value, live_emb.shape[0], ref_emb.shape[0])


@dataclass
class ReplayResult:
    """Alerts and counters from an offline replay."""

    alerts: list[DriftAlert]
    status: dict[str, Any]


def replay(
    events: Iterable[Mapping[str, Any]],
    references: Iterable[Reference],
    *,
    sinks: Sequence[AlertSink] = (),
) -> ReplayResult:
    """Run events through the same monitor code inline; same events, same alerts."""
    monitor = DriftMonitor(references, sinks=sinks, background=False)
    for event in events:
        monitor.observe(event)
    monitor.flush()
    return ReplayResult(alerts=monitor.alerts, status=monitor.status())

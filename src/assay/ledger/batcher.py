"""Background batching for high-rate evidence writers (guard, gateway).

The hot path only enqueues. A worker thread appends in batches. When the
bounded queue is full the writer either blocks or spills the item to a durable
JSONL file (fsynced before ``submit`` returns); when an append fails the batch
is retried, then spilled. Spill files are replayed into the ledger later.
Evidence is never silently dropped.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assay.config import Settings
from assay.errors import AssayError
from assay.ledger.evidence import Evidence, Subject, format_time
from assay.ledger.log import Ledger
from assay.store import LedgerEntry, SpilledItem

__all__ = ["Batcher", "EvidenceQueue", "SpillFile", "SpillStatus", "replay_spill", "spill_status"]

log = logging.getLogger(__name__)
_STOP = object()


class EvidenceQueue(Protocol):
    """What high-rate writers need: enqueue now, flush or close later."""

    def submit(self, evidence: Evidence) -> None: ...

    def flush(self, timeout: float = 30.0) -> None: ...

    def close(self, timeout: float = 30.0) -> None: ...


class SpillFile:
    """An append-only JSONL file of evidence, fsynced before ``write`` returns."""

    def __init__(self, spill_dir: Path) -> None:
        self.path = spill_dir / f"{os.getpid()}-{time.time_ns()}.jsonl"
        self.count = 0
        self._lock = threading.Lock()

    def write(self, batch: Sequence[Evidence]) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                for evidence in batch:
                    line = {**_to_json(evidence), "id": uuid.uuid4().hex}
                    handle.write(json.dumps(line, sort_keys=True) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            self.count += len(batch)


class Batcher:
    """Queue evidence now, append it in batches on a worker thread."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        spill_dir: Path,
        batch_size: int = 1000,
        max_delay: float = 0.05,
        queue_size: int = 10_000,
        when_full: Literal["spill", "block"] = "spill",
        retries: int = 3,
        checkpoint_every: int = 0,
        checkpoint_seconds: float = 0.0,
    ) -> None:
        self.ledger = ledger
        self.spill_dir = spill_dir
        self.batch_size = batch_size
        self.max_delay = max_delay
        self.when_full = when_full
        self.retries = retries
        self.appended = 0
        self.checkpoints = _AutoCheckpoint(ledger, checkpoint_every, checkpoint_seconds)
        self._spill_file = SpillFile(spill_dir)
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._thread = threading.Thread(target=self._run, name="assay-ledger-batcher", daemon=True)
        self._thread.start()

    @classmethod
    def for_workspace(
        cls, ledger: Ledger, spill_dir: Path, settings: Settings, **options: Any
    ) -> Batcher:
        """A batcher sized and checkpointing as the workspace's ``[ledger]`` settings say
        (``options`` add to or override them, e.g. ``when_full``)."""
        return cls(
            ledger,
            spill_dir=spill_dir,
            batch_size=settings.ledger_batch_size,
            queue_size=settings.ledger_queue_size,
            checkpoint_every=settings.ledger_checkpoint_every,
            checkpoint_seconds=settings.ledger_checkpoint_seconds,
            **options,
        )

    @property
    def spilled(self) -> int:
        """Items written to the spill file instead of the ledger (so far)."""
        return self._spill_file.count

    def submit(self, evidence: Evidence) -> None:
        """Enqueue ``evidence``; never loses it (blocks or spills when full)."""
        evidence.check()
        if not self._thread.is_alive():
            raise AssayError("the evidence batcher is closed: create a new one")
        try:
            self._queue.put_nowait(evidence)
        except queue.Full:
            if self.when_full == "block":
                self._queue.put(evidence)
            else:
                self._spill_file.write([evidence])

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until everything queued so far is appended (or spilled)."""
        done = threading.Event()
        self._queue.put(done)
        if not done.wait(timeout):
            raise AssayError(f"evidence was not flushed within {timeout:.0f} s")

    def close(self, timeout: float = 30.0) -> None:
        """Flush, stop the worker, then replay any spill files into the ledger."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)
        replay_spill(self.ledger, self.spill_dir)

    # -- worker -------------------------------------------------------------------

    def _run(self) -> None:
        pending: list[Evidence] = []
        waiters: list[threading.Event] = []
        stopping = False
        while not stopping:
            deadline = time.monotonic() + self.max_delay
            while len(pending) < self.batch_size:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                if isinstance(item, threading.Event):
                    waiters.append(item)
                    break
                if isinstance(item, Evidence):
                    pending.append(item)
            if pending:
                self._append(pending)
                pending = []
            self.checkpoints.tick(final=stopping)
            for waiter in waiters:
                waiter.set()
            waiters = []

    def _append(self, batch: Sequence[Evidence]) -> None:
        for attempt in range(self.retries):
            try:
                self.ledger.append(batch)
            except Exception as exc:
                log.warning("evidence append failed (attempt %d): %s", attempt + 1, exc)
                time.sleep(0.1 * 2**attempt)
            else:
                self.appended += len(batch)
                self.checkpoints.unsigned += len(batch)
                return
        self._spill_file.write(batch)


class _AutoCheckpoint:
    """Sign a checkpoint after ``every`` appended entries or ``seconds`` of new evidence.

    Entries after the newest checkpoint are not tamper-evident yet (docs/ledger.md,
    issue #19 item 14), so a high-rate writer signs as it goes and once more when it
    closes. A refused checkpoint (the history no longer extends the last one) is logged
    as an error and kept in :attr:`error`; the evidence itself is already appended.
    """

    def __init__(self, ledger: Ledger, every: int, seconds: float) -> None:
        self.ledger = ledger
        self.every = every
        self.seconds = seconds
        self.unsigned = 0  # entries appended since the last automatic checkpoint
        self.signed = 0  # checkpoints signed automatically so far
        self.error: str | None = None
        self._since = time.monotonic()

    def tick(self, *, final: bool = False) -> None:
        if not self.unsigned or not (self.every or self.seconds):
            return
        waited = time.monotonic() - self._since
        if (
            final
            or (self.every and self.unsigned >= self.every)
            or (self.seconds and waited >= self.seconds)
        ):
            self._sign()

    def _sign(self) -> None:
        try:
            self.ledger.checkpoint()
        except Exception as exc:  # kept and logged: the entries are stored, the signing waits
            self.error = f"{type(exc).__name__}: {exc}"
            log.error("automatic checkpoint failed: %s", self.error)
        else:
            self.signed += 1
            self.error = None
        self.unsigned = 0
        self._since = time.monotonic()


def replay_spill(ledger: Ledger, spill_dir: Path, batch_size: int = 1000) -> int:
    """Append every spilled item to the ledger, then delete its file; returns the count.

    Files claimed by a process that died mid-replay (``*.claimed-PID``) are picked
    up too and logged. Each item carries an id that is recorded in the same
    transaction as its entry, so items appended before the crash are skipped:
    replay is idempotent (issue #19 item 9).
    """
    if not spill_dir.is_dir():
        return 0
    count = 0
    for path in _replayable(spill_dir):
        claimed = spill_dir / f"{path.name.split('.')[0]}.claimed-{os.getpid()}"
        try:
            path.rename(claimed)  # atomic: exactly one process replays a file
        except FileNotFoundError:
            continue
        items = _read_spill(claimed)
        for start in range(0, len(items), batch_size):
            count += _append_once(ledger, items[start : start + batch_size])
        claimed.unlink()
    return count


@dataclass(frozen=True)
class SpillStatus:
    """Spill files waiting in a workspace: what an operator should know about."""

    pending: tuple[Path, ...]
    stranded: tuple[Path, ...]
    unreadable: tuple[Path, ...]


def spill_status(spill_dir: Path) -> SpillStatus:
    """Pending spill files, files left claimed by dead processes, kept unreadable lines."""
    if not spill_dir.is_dir():
        return SpillStatus((), (), ())
    return SpillStatus(
        tuple(sorted(spill_dir.glob("*.jsonl"))),
        tuple(p for p in sorted(spill_dir.glob("*.claimed-*")) if _claim_is_stale(p)),
        tuple(sorted(spill_dir.glob("*.unreadable"))),
    )


def _replayable(spill_dir: Path) -> list[Path]:
    stale = [p for p in sorted(spill_dir.glob("*.claimed-*")) if _claim_is_stale(p)]
    for path in stale:
        log.warning("replaying spill file %s: the process that claimed it died mid-replay", path)
    return stale + sorted(spill_dir.glob("*.jsonl"))


def _claim_is_stale(path: Path) -> bool:
    """The process named in ``x.claimed-PID`` no longer exists."""
    pid_text = path.suffix.removeprefix(".claimed-")
    if not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


_Item = tuple[str | None, Evidence]


def _append_once(ledger: Ledger, batch: Sequence[_Item], attempts: int = 3) -> int:
    """Append the items whose ids are not recorded yet, recording them atomically."""
    for _ in range(attempts):
        todo = _not_replayed(ledger, batch)
        if not todo:
            return 0

        def record(session: Session, todo: Sequence[_Item] = todo) -> None:
            last = session.scalar(select(func.max(LedgerEntry.seq)))
            size = 0 if last is None else int(last) + 1
            rows = [{"item_id": i, "seq": size + n} for n, (i, _) in enumerate(todo) if i]
            if rows:
                session.execute(insert(SpilledItem), rows)

        try:
            ledger.append([item for _, item in todo], also=record)
        except IntegrityError:
            continue  # another process replayed some of them meanwhile: filter again
        return len(todo)
    raise AssayError("spilled evidence could not be replayed: its ids keep clashing")


def _not_replayed(ledger: Ledger, batch: Sequence[_Item]) -> list[_Item]:
    """The items of ``batch`` whose ids are not recorded (each id once; no id: always)."""
    ids = [item_id for item_id, _ in batch if item_id]
    with ledger.store.session() as session:
        seen = set(session.scalars(select(SpilledItem.item_id).where(SpilledItem.item_id.in_(ids))))
    todo: list[_Item] = []
    for item_id, item in batch:
        if item_id and item_id in seen:
            continue
        if item_id:
            seen.add(item_id)
        todo.append((item_id, item))
    return todo


def _read_spill(path: Path) -> list[_Item]:
    items: list[_Item] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            data = json.loads(line)
            items.append((data.get("id"), _from_json(data)))
        except (ValueError, KeyError, TypeError) as exc:
            # Only a torn final line (a crash mid-write, never acknowledged) is expected here.
            log.error(
                "spill file %s line %d unreadable (%s); kept for inspection", path, number, exc
            )
            with path.with_suffix(".unreadable").open("a", encoding="utf-8") as kept:
                kept.write(line + "\n")
    return items


def _to_json(evidence: Evidence) -> dict[str, Any]:
    return {
        "type": evidence.type,
        "actor": evidence.actor,
        "summary": dict(evidence.summary),
        "subject": None
        if evidence.subject is None
        else {"system": evidence.subject.system, "version": evidence.subject.version},
        "controls": list(evidence.controls),
        "observed_at": None if evidence.observed_at is None else format_time(evidence.observed_at),
        "payload": None
        if evidence.payload is None
        else base64.b64encode(evidence.payload).decode(),
        "payload_media_type": evidence.payload_media_type,
    }


def _from_json(data: dict[str, Any]) -> Evidence:
    subject = data["subject"]
    observed = data["observed_at"]
    return Evidence(
        type=data["type"],
        actor=data["actor"],
        summary=data["summary"],
        subject=None if subject is None else Subject(subject["system"], subject["version"]),
        controls=tuple(data["controls"]),
        observed_at=None if observed is None else datetime.fromisoformat(observed),
        payload=None if data["payload"] is None else base64.b64decode(data["payload"]),
        payload_media_type=data["payload_media_type"],
    )

"""An evidence writer in its own process, for servers with an event loop.

Appending is CPU work (canonical JSON, hashing, tree nodes, signing). On a
thread it competes with the server's event loop for the GIL and shows up as
tail latency on unrelated requests. :class:`WriterProcess` keeps the same
promise as :class:`~assay.ledger.batcher.Batcher` — the caller only enqueues,
nothing is silently dropped — but the batcher runs in a child process, so the
server pays only for appending each item to a list: a batch goes onto the
pipe every 64 items or 20 ms, so the pipe's feeder thread rarely wakes.

Failure handling, in the caller's process: a full pipe or a dead child makes
``submit`` spill the item to a durable JSONL file (fsynced first), and
``close`` replays spill files into the ledger. The child ignores SIGINT and
SIGTERM (the parent decides when to stop it) and exits on its own, after
appending what it holds, if the parent dies.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import signal
import threading
import time
import uuid
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

from assay.config import Settings
from assay.errors import AssayError
from assay.ledger._layout import open_ledger
from assay.ledger.batcher import Batcher, SpillFile, replay_spill
from assay.ledger.evidence import Evidence
from assay.store import Store

__all__ = ["WriterProcess"]

log = logging.getLogger(__name__)
_START_TIMEOUT = 60.0
_POLL = 0.5
_BATCH = 64  # items per message to the child
_MAX_AGE = 0.02  # seconds an item may wait in this process before it is sent


class WriterProcess:
    """Queue evidence now; a child process appends it in batches."""

    def __init__(self, root: Path, settings: Settings, *, queue_size: int | None = None) -> None:
        self.root = root
        self.settings = settings
        context = multiprocessing.get_context("spawn")  # fork is unsafe with threads and loops
        self._inbox: Queue[tuple[str, Any]] = context.Queue(
            maxsize=max(1, (queue_size or settings.ledger_queue_size) // _BATCH)
        )
        self._acks: Queue[tuple[str, Any]] = context.Queue()
        self._spill = SpillFile(root / settings.ledger_spill_dir)
        self._flush_lock = threading.Lock()
        self._buffer: list[Evidence] = []
        self._buffer_lock = threading.Lock()
        self._stopping = threading.Event()
        self._process = context.Process(
            target=_serve,
            args=(root, settings, self._inbox, self._acks),
            name="assay-evidence-writer",
            daemon=True,
        )
        self._process.start()
        self._await_ready()
        self._ticker = threading.Thread(target=self._tick, name="assay-evidence-ticker",
                                        daemon=True)
        self._ticker.start()

    @property
    def alive(self) -> bool:
        """Whether the child process is running (readiness)."""
        return self._process.is_alive()

    @property
    def queue_depth(self) -> int:
        """Entries submitted here and not yet taken by the child (approximate: the pipe is
        counted in whole batches)."""
        with self._buffer_lock:
            held = len(self._buffer)
        try:
            return held + self._inbox.qsize() * _BATCH
        except NotImplementedError:  # macOS has no sem_getvalue
            return held

    @property
    def spilled(self) -> int:
        """Items spilled in this process because the child could not take them."""
        return self._spill.count

    def submit(self, evidence: Evidence) -> None:
        """Enqueue ``evidence``; it is spilled durably if the child is gone or behind."""
        evidence.check()
        with self._buffer_lock:
            self._buffer.append(evidence)
            if len(self._buffer) < _BATCH:
                return
            batch, self._buffer = self._buffer, []
        self._send(batch)

    def _send_buffer(self) -> None:
        with self._buffer_lock:
            batch, self._buffer = self._buffer, []
        if batch:
            self._send(batch)

    def _send(self, batch: list[Evidence]) -> None:
        if self._process.is_alive():
            try:
                self._inbox.put_nowait(("evidence", batch))
                return
            except queue.Full:
                pass
        else:
            log.error("the evidence writer process has exited; spilling to %s", self._spill.path)
        self._spill.write(batch)

    def _tick(self) -> None:
        while not self._stopping.wait(_MAX_AGE):
            self._send_buffer()

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until everything submitted so far is appended (or spilled)."""
        self._send_buffer()
        with self._flush_lock:
            if not self._process.is_alive():
                raise AssayError(
                    "the evidence writer process has exited: its spill files are replayed "
                    "on close"
                )
            token = uuid.uuid4().hex
            self._inbox.put(("flush", token), timeout=timeout)
            while True:
                try:
                    kind, value = self._acks.get(timeout=timeout)
                except queue.Empty:
                    raise AssayError(f"evidence was not flushed within {timeout:.0f} s") from None
                if kind == "flushed" and value == token:
                    return

    def close(self, timeout: float = 30.0) -> None:
        """Stop the child after it appends what it holds, then replay any spill files."""
        self._stopping.set()
        self._ticker.join()
        self._send_buffer()
        if self._process.is_alive():
            try:
                self._inbox.put(("stop", None), timeout=timeout)
            except queue.Full:
                log.error("the evidence writer did not take the stop request")
            self._process.join(timeout)
        if self._process.is_alive():
            log.error("the evidence writer did not stop within %.0f s; terminating it", timeout)
            self._process.terminate()
            self._process.join()
        self._inbox.close()
        self._acks.close()
        self._replay()

    def _replay(self) -> None:
        store = Store(self.settings.database_url)
        try:
            ledger = open_ledger(store, self.root, self.settings.ledger_origin)
            replay_spill(ledger, self.root / self.settings.ledger_spill_dir)
        finally:
            store.close()

    def _await_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            try:
                kind, value = self._acks.get(timeout=0.1)
                break
            except queue.Empty:
                if not self._process.is_alive():
                    raise AssayError(
                        "the evidence writer process exited while starting (exit code "
                        f"{self._process.exitcode}); its error is printed above"
                    ) from None
                if time.monotonic() > deadline:
                    self._process.terminate()
                    raise AssayError(
                        f"the evidence writer process did not start within {_START_TIMEOUT:.0f} s"
                    ) from None
        if kind != "ready":
            self._process.join(5)
            raise AssayError(f"the evidence writer process could not open the ledger: {value}")


def _serve(root: Path, settings: Settings, inbox: Queue[tuple[str, Any]],
           acks: Queue[tuple[str, Any]]) -> None:
    """The child: a Batcher fed from the pipe until told to stop or orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    store = Store(settings.database_url)
    try:
        store.check_schema()  # fail now, visibly, rather than on the first append
        batcher = Batcher.for_workspace(
            open_ledger(store, root, settings.ledger_origin),
            root / settings.ledger_spill_dir,
            settings,
            when_full="block",  # back-pressure: the parent spills when the pipe fills
        )
    except Exception as exc:  # reported to the parent, which raises it as an AssayError
        acks.put(("failed", f"{type(exc).__name__}: {exc}"))
        store.close()
        return
    acks.put(("ready", None))
    try:
        _pump(inbox, acks, batcher)
    finally:
        batcher.close()
        store.close()


def _pump(inbox: Queue[tuple[str, Any]], acks: Queue[tuple[str, Any]], batcher: Batcher) -> None:
    parent = multiprocessing.parent_process()
    while True:
        try:
            kind, value = inbox.get(timeout=_POLL)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                _drain(inbox, batcher)
                return
            continue
        if kind == "evidence":
            for evidence in value:
                batcher.submit(evidence)
        elif kind == "flush":
            batcher.flush()
            acks.put(("flushed", value))
        elif kind == "stop":
            return


def _drain(inbox: Queue[tuple[str, Any]], batcher: Batcher) -> None:
    """The parent died: append whatever it had already handed over."""
    while True:
        try:
            kind, value = inbox.get(timeout=_POLL)
        except (queue.Empty, EOFError, OSError):
            return
        if kind == "evidence":
            for evidence in value:
                batcher.submit(evidence)

"""Serving under a process manager: a graceful drain on SIGTERM that exits 0.

uvicorn already drains on SIGTERM: it stops accepting, lets requests in flight —
streams included — finish for up to ``timeout_graceful_shutdown`` seconds (then
cancels them), and runs the app's shutdown, where the gateway flushes its evidence.
It then raises the signal again so that the process ends by it (exit status 143),
which orchestrators report as a failure. :func:`drain_on_sigterm` absorbs that second
signal, so the command returns and exits 0. With ``--workers N`` the supervisor
forwards SIGTERM to each worker, which drains the same way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from types import FrameType

from assay.ops.metrics import MULTIPROC_ENV

__all__ = ["drain_on_sigterm", "multiprocess_metrics"]

log = logging.getLogger("assay.serve")


def _absorb(_signum: int, _frame: FrameType | None) -> None:
    log.info("drained after SIGTERM")


@contextlib.contextmanager
def drain_on_sigterm() -> Iterator[None]:
    """While serving, a SIGTERM that uvicorn re-raises after draining ends nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _absorb)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def multiprocess_metrics(workers: int, enabled: bool) -> Iterator[None]:
    """With metrics on and several workers, a fresh directory where prometheus-client
    sums the workers' counters and histograms (removed afterwards); else nothing."""
    if not enabled or workers <= 1 or os.environ.get(MULTIPROC_ENV):
        yield
        return
    directory = tempfile.mkdtemp(prefix="assay-metrics-")
    os.environ[MULTIPROC_ENV] = directory
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)

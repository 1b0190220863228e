"""Guard work off the event loop, under a hard deadline (issue #19 item 3).

Validators are synchronous Python: run on the event loop, one large or
adversarial body held every other request of the worker until it was done.
:class:`GuardRunner` runs each guard step (a request's input, its output, one
streamed event) in a bounded thread pool and waits at most ``timeout``
seconds for it. When the deadline passes the caller applies the policy's
``on_error`` (block unless the policy says allow) and answers at once; the
engine sees the same deadline (:data:`assay.guard.engine.DEADLINE`) and stops
before its next validator, so an abandoned step frees its thread soon after.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from assay.guard.engine import DEADLINE

__all__ = ["GuardRunner", "GuardTimeout"]

T = TypeVar("T")


class GuardTimeout(Exception):
    """A guard step did not finish before its deadline."""


class GuardRunner:
    """A bounded pool of guard threads and the deadline of each step."""

    def __init__(self, threads: int, timeout: float) -> None:
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="assay-guard")

    async def run(self, work: Callable[[], T]) -> T:
        """``work()`` in the pool; :class:`GuardTimeout` once ``timeout`` seconds passed."""
        deadline = time.perf_counter() + self.timeout
        context = contextvars.Context()  # fresh per step: the deadline does not leak
        future = self._pool.submit(context.run, _under, deadline, work)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except TimeoutError:
            future.cancel()  # never started (a full pool): drop it
            raise GuardTimeout(f"guard deadline of {self.timeout:g} s passed") from None

    async def call(self, work: Callable[[], T]) -> T:
        """``work()`` in the pool without a deadline (bounded work such as JSON parsing)."""
        return await asyncio.wrap_future(self._pool.submit(work))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _under(deadline: float, work: Callable[[], T]) -> T:
    DEADLINE.set(deadline)
    return work()

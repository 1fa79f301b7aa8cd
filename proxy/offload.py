"""Per-message CPU work of large messages, off the event loop, bounded and under a time budget.

Everything the relay does to a message (parse its MIME tree, read its facts, place and render
the footer, build each recipient's copy, sign it) costs CPU in proportion to its size: 5-30 ms
per MB, more for HTML that gets a footer. On the event loop that stalls every session and
`/healthz` for as long (a 24 MB copy: up to a second). Messages of `content.offload_threshold`
octets or more are therefore processed in a small pool of worker threads; smaller ones stay
inline, where the work costs less than the hop to a thread (the 4 KB hot path pays nothing). A
worker thread holds the GIL for a switch interval (5 ms) or one C call at a time, so the loop
keeps running meanwhile; C calls over a whole message are therefore made in 1 MB pieces
(proxy/mime/pieces.py).

Bounded: at most `content.offload_workers` jobs at a time (running or queued), so the memory of
what they build is bounded too; a job waits for a slot within its budget. A job that runs past
`content.processing_budget` seconds is abandoned by its caller, who answers at once
(`BudgetExceeded`); the thread finishes on its own (threads cannot be stopped) and keeps its
slot until then, so abandoned work still counts against the bound.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from proxy.errors import BudgetExceeded

__all__ = ["Offloader"]

T = TypeVar("T")


class Offloader:
    """Runs a message's CPU job inline (small message) or in a worker thread (large one)."""

    def __init__(self, *, threshold: int, workers: int, budget: float) -> None:
        self.threshold = threshold
        self.budget = budget
        self._workers = workers
        self._slots: asyncio.Semaphore | None = None  # bound to the running loop when used
        self._executor: ThreadPoolExecutor | None = None

    def offloads(self, size: int) -> bool:
        return size >= self.threshold

    async def run(self, size: int, job: Callable[[], T], *, always: bool = False) -> T:
        """`job()`, for a message of `size` octets: in a worker of the bounded pool when it
        is large; else inline, or (`always`: work slow whatever the size, such as DKIM
        signing) in asyncio's default thread pool, never queued behind large messages."""
        if not self.offloads(size):  # small: no worker slot, no budget to watch
            return await asyncio.to_thread(job) if always else job()
        loop = asyncio.get_running_loop()
        if self._slots is None or self._executor is None:
            self._slots = asyncio.Semaphore(self._workers)
            self._executor = ThreadPoolExecutor(self._workers, thread_name_prefix="message-cpu")
        deadline = loop.time() + self.budget
        slots = self._slots
        try:
            async with asyncio.timeout_at(deadline):
                await slots.acquire()
        except TimeoutError:
            raise BudgetExceeded(self.budget, started=False) from None
        # The job sees the session's context: its log fields, the message's memo (mime.memo).
        context = contextvars.copy_context()
        future = loop.run_in_executor(self._executor, context.run, job)
        future.add_done_callback(lambda done: _finished(done, slots))
        try:
            async with asyncio.timeout_at(deadline):
                return await asyncio.shield(future)
        except TimeoutError:
            raise BudgetExceeded(self.budget, started=True) from None


def _finished(future: asyncio.Future[Any], slots: asyncio.Semaphore) -> None:
    """The worker is free again; an abandoned job's outcome is read so asyncio does not log
    it as never retrieved."""
    slots.release()
    if not future.cancelled():
        future.exception()

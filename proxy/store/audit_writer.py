"""Buffered writer of audit records: one database transaction per batch, off the SMTP path.

Writing one row per message in its own transaction costs a database round trip and, on
SQLite, a writer lock that concurrent sessions queue for. Records are appended to a buffer
and a background task writes them in batches; `stop()` writes what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence

from proxy.errors import StoreUnavailable
from proxy.store import AuditRecord, Store

__all__ = ["AuditTrail"]

log = logging.getLogger(__name__)


class AuditTrail:
    def __init__(
        self,
        store: Store,
        *,
        flush_interval: float = 0.25,
        batch_size: int = 1000,
        max_pending: int = 200_000,
    ) -> None:
        self._store = store
        self._interval = flush_interval
        self._batch_size = batch_size
        self._pending: deque[AuditRecord] = deque()
        self._max_pending = max_pending
        self._wakeup = asyncio.Event()
        # One flush at a time: the background task and an explicit flush() would otherwise
        # write the same batch twice and pop it twice.
        self._flushing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def add(self, records: Sequence[AuditRecord]) -> None:
        """Queue records; the caller never waits for the database."""
        self._pending.extend(records)
        overflow = len(self._pending) - self._max_pending
        if overflow > 0:
            # The database has been down for long: keep the newest records, say how many went.
            for _ in range(overflow):
                self._pending.popleft()
            self.dropped += overflow
            log.error("audit trail: database unavailable, %d records dropped so far", self.dropped)
        if len(self._pending) >= self._batch_size:
            self._wakeup.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self) -> None:
        """Write everything queued so far; on failure the records stay queued."""
        async with self._flushing:
            await self._flush()

    async def _flush(self) -> None:
        while self._pending:
            batch = [self._pending[i] for i in range(min(self._batch_size, len(self._pending)))]
            try:
                await self._store.record_audit(batch)
            except StoreUnavailable as exc:
                if exc.transient:  # connection loss, timeout: the batch waits for the database
                    log.warning(
                        "audit trail: %d records wait for the database: %s", self.pending, exc
                    )
                    return
                await self._write_one_by_one(batch)
            for _ in batch:
                self._pending.popleft()

    async def _write_one_by_one(self, batch: list[AuditRecord]) -> None:
        """A batch the database refuses for its content: keep the good records, drop (and
        count) only the ones it refuses, so one bad record never blocks the trail."""
        for record in batch:
            try:
                await self._store.record_audit([record])
            except StoreUnavailable as exc:
                self.dropped += 1
                log.error(
                    "audit trail: record of queue id %s refused by the database, dropped: %s",
                    record.queue_id,
                    exc,
                )

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wakeup.wait()
            self._wakeup.clear()
            await self.flush()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="audit-trail")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
        if self._pending:
            log.error("audit trail: %d records could not be written at stop", self.pending)

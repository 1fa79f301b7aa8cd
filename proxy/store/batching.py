"""Coalesces concurrent register lookups into one database round trip.

Under load many SMTP sessions ask for recipient facts at the same moment; each lookup on
its own costs a connection checkout and a few driver round trips. `FactsBatcher` sends the
first request at once and, while that query runs, queues the requests that arrive; they go
together in the next query. An idle relay adds no delay, a busy one makes fewer, larger
queries. Every answer is read after its request arrived, so an objection recorded before a
RCPT is always seen by it.

The request that finds the batcher idle is loaded in its caller's own task: a worker task
and a future per lookup cost about 25 µs of CPU, a sixth of a SQLite lookup. A worker task
is started only when requests queued behind a running load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from proxy.model import RecipientFacts

__all__ = ["FactsBatcher"]

Loader = Callable[[Sequence[str]], Awaitable[dict[str, RecipientFacts]]]
_Request = tuple[tuple[str, ...], "asyncio.Future[dict[str, RecipientFacts]]"]


class FactsBatcher:
    def __init__(self, load: Loader, *, max_addresses: int = 500) -> None:
        self._load = load
        self._max = max_addresses
        self._waiting: list[_Request] = []
        self._busy = False  # a load runs (in a caller's task or in the worker)
        self._worker: asyncio.Task[None] | None = None

    async def load(self, addresses: Sequence[str]) -> dict[str, RecipientFacts]:
        """The facts for `addresses`, keyed as given; raises what the loader raises."""
        if not self._busy:
            self._busy = True
            try:
                return await self._load(list(dict.fromkeys(addresses)))
            finally:
                self._hand_over()
        future: asyncio.Future[dict[str, RecipientFacts]] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiting.append((tuple(addresses), future))
        return await future

    def _hand_over(self) -> None:
        """After a load: the requests that queued meanwhile go to the worker."""
        if self._waiting:
            self._worker = asyncio.create_task(self._drain(), name="facts-batcher")
        else:
            self._busy = False

    def _take_batch(self) -> list[_Request]:
        batch: list[_Request] = []
        size = 0
        while self._waiting and (not batch or size + len(self._waiting[0][0]) <= self._max):
            request = self._waiting.pop(0)
            batch.append(request)
            size += len(request[0])
        return batch

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._take_batch()
                wanted = list(dict.fromkeys(a for addresses, _ in batch for a in addresses))
                try:
                    facts = await self._load(wanted)
                except Exception as exc:  # each waiter gets the failure (StoreUnavailable: 451)
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for addresses, future in batch:
                    if not future.done():  # its session may have been dropped meanwhile
                        future.set_result({a: facts[a] for a in addresses})
        finally:
            self._worker = None
            self._busy = False

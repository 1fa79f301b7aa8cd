"""The relay's hot read on a SQLite file: the whole lookup in one hop to a reader thread.

Through aiosqlite every driver call (cursor, execute, fetch, close, rollback) is a separate
hop to its thread and back, about a dozen per register lookup. Here the lookup's queries
run together on one pysqlite connection owned by a single reader thread: one hop there and
back, and no file I/O on the event loop.

Each call opens and ends its own read transaction, so a write committed by any other
connection or process (an objection on another instance) is visible to the very next call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

from sqlalchemy.engine import Connection, Engine

__all__ = ["SqliteReader"]

T = TypeVar("T")


class SqliteReader:
    """Runs `fn(connection)` inside one read transaction on the reader thread.

    Errors propagate unchanged (the Store makes them StoreUnavailable).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, fn: Callable[[Connection], T]) -> T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="sqlite-reads")
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, partial(_transaction, self._engine, fn)
        )

    def close(self) -> None:
        """Close the connection on its thread; the reader is reusable afterwards."""
        executor, self._executor = self._executor, None
        if executor is None:
            self._engine.dispose()
        else:
            executor.submit(self._engine.dispose)
            executor.shutdown(wait=False)


def _transaction(engine: Engine, fn: Callable[[Connection], T]) -> T:
    with engine.connect() as connection:  # BEGIN on first use, ROLLBACK on exit
        return fn(connection)

"""The relay's hot read on a SQLite file: the whole lookup in one hop to a reader thread.

Through aiosqlite every driver call (cursor, execute, fetch, close, rollback) is a separate
hop to its thread and back, about a dozen per register lookup. Here the lookup's queries
run together on one pysqlite connection owned by a single reader thread: one hop there and
back, and no file I/O on the event loop.

Each call opens and ends its own read transaction, so a write committed by any other
connection or process (an objection on another instance) is visible to the very next call.
The thread keeps its SQLAlchemy `Connection` between calls (checking one out of the pool
and wrapping it again cost about a fifth of a lookup); a call that fails drops it, and the
next call opens a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
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
        self._connection: Connection | None = None  # used on the reader thread only

    async def run(self, fn: Callable[[Connection], T]) -> T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="sqlite-reads")
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, partial(self._transaction, fn)
        )

    def _transaction(self, fn: Callable[[Connection], T]) -> T:
        connection = self._connection
        if connection is None:
            connection = self._connection = self._engine.connect()
        try:
            result = fn(connection)  # BEGIN on first use
            connection.rollback()
        except BaseException:
            if self._connection is connection:
                self._connection = None
            _close(connection)
            raise
        return result

    def close(self) -> None:
        """Close the connection on its thread; the reader is reusable afterwards."""
        executor, self._executor = self._executor, None
        connection, self._connection = self._connection, None

        def dispose() -> None:
            if connection is not None:
                _close(connection)
            self._engine.dispose()

        if executor is None:
            dispose()
        else:
            executor.submit(dispose)  # after any lookup still running there
            executor.shutdown(wait=False)


def _close(connection: Connection) -> None:
    with contextlib.suppress(Exception):  # a broken connection: nothing to keep
        connection.close()

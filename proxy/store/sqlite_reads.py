"""The relay's hot read on a SQLite file: the whole lookup in one hop to a reader thread.

Through aiosqlite every driver call (cursor, execute, fetch, close, rollback) is a separate
hop to its thread and back, about a dozen per register lookup. Here the lookup's queries
run together on one pysqlite connection owned by a single reader thread: one hop there and
back, and no file I/O on the event loop.

The function given to `run` gets the pysqlite connection itself, not a SQLAlchemy
`Connection`: the lookup runs its precompiled SQL on it (see driver_select; executing
through a `Connection` was half of a lookup's CPU). The connection still comes from a
SQLAlchemy engine, so it is opened with the pragmas and timeouts of every other connection
(database.configure_sqlite).

Each call opens and ends its own read transaction, so a write committed by any other
connection or process (an objection on another instance) is visible to the very next call.
A driver error leaves as SQLAlchemy's own exception for it (OperationalError for a locked
database...), which the Guard turns into `StoreUnavailable`; the failed connection is
dropped, and the next call opens a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar, cast

from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection

__all__ = ["SqliteReader"]

T = TypeVar("T")


class SqliteReader:
    """Runs `fn(connection)` inside one read transaction on the reader thread.

    Errors propagate, driver errors as SQLAlchemy's (the Store makes them StoreUnavailable).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.dialect: Dialect = engine.dialect
        self._executor: ThreadPoolExecutor | None = None
        self._connection: PoolProxiedConnection | None = None  # used on the reader thread only

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="sqlite-reads")
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, partial(self._transaction, fn)
        )

    def _transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        pooled = self._connection
        try:
            if pooled is None:
                pooled = self._connection = self._engine.raw_connection()
            driver = cast("sqlite3.Connection", pooled.driver_connection)
            driver.execute("BEGIN")  # the connection is in autocommit mode (configure_sqlite)
            result = fn(driver)
            driver.rollback()
        except BaseException as exc:
            if pooled is not None:
                self._connection = None
                _invalidate(pooled)
            if isinstance(exc, sqlite3.Error):
                raise DBAPIError.instance(
                    None, None, exc, sqlite3.Error, dialect=self.dialect
                ) from exc
            raise
        return result

    def close(self) -> None:
        """Close the connection on its thread; the reader is reusable afterwards."""
        executor, self._executor = self._executor, None
        pooled, self._connection = self._connection, None

        def dispose() -> None:
            if pooled is not None:
                _invalidate(pooled)
            self._engine.dispose()

        if executor is None:
            dispose()
        else:
            executor.submit(dispose)  # after any lookup still running there
            executor.shutdown(wait=False)


def _invalidate(pooled: PoolProxiedConnection) -> None:
    with contextlib.suppress(Exception):  # a broken connection: nothing to keep
        pooled.invalidate()

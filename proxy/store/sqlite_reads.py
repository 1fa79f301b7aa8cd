"""The relay's hot read on a SQLite file: the whole lookup in one hop to a reader thread.

Through aiosqlite every driver call (cursor, execute, fetch, close, rollback) is a separate
hop to its thread and back, about a dozen per register lookup. Here the lookup's queries
run together on one pysqlite connection owned by a single reader thread: one hop there and
back, and no file I/O on the event loop. The hop is a queue to that thread and one
`call_soon_threadsafe` back: `run_in_executor`'s concurrent future, its chaining to an
asyncio future and the pool's bookkeeping cost about 30 µs of CPU more per lookup.

The function given to `run` gets the pysqlite connection itself, not a SQLAlchemy
`Connection`: the lookup runs its precompiled SQL on it (see driver_select; executing
through a `Connection` was half of a lookup's CPU). The connection still comes from a
SQLAlchemy engine, so it is opened with the pragmas and timeouts of every other connection
(database.configure_sqlite).

Each call opens and ends its own read transaction, so a write committed by any other
connection or process (an objection on another instance) is visible to the very next call.
A driver error leaves as SQLAlchemy's own exception for it (OperationalError for a locked
database...), which the Guard turns into `StoreUnavailable`; the failed connection is
dropped, and the next call opens a new one. A caller that stops waiting (the store's
deadline) leaves the call to finish on the thread; the calls behind it wait their turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
import weakref
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar, cast

from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection

__all__ = ["SqliteReader"]

T = TypeVar("T")
_Job = Callable[[], None]


class SqliteReader:
    """Runs `fn(connection)` inside one read transaction on the reader thread.

    Errors propagate, driver errors as SQLAlchemy's (the Store makes them StoreUnavailable).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.dialect: Dialect = engine.dialect
        self._jobs: queue.SimpleQueue[_Job | None] | None = None  # None: no thread yet
        self._connection: PoolProxiedConnection | None = None  # used on the reader thread only

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        jobs = self._jobs
        if jobs is None:
            jobs = self._jobs = queue.SimpleQueue()
            # A daemon: a reader never closed must not keep the process alive at exit; and
            # the thread ends when the reader is collected, as an executor's would.
            threading.Thread(target=_serve, args=(jobs,), name="sqlite-reads", daemon=True).start()
            weakref.finalize(self, jobs.put, None)
        jobs.put(partial(self._call, loop, future, fn))
        return await future

    def _call(
        self,
        loop: asyncio.AbstractEventLoop,
        future: asyncio.Future[T],
        fn: Callable[[sqlite3.Connection], T],
    ) -> None:
        """On the reader thread: the transaction, its outcome handed back to `loop`."""
        try:
            outcome = partial(_answer, future, self._transaction(fn))
        except BaseException as exc:
            outcome = partial(_fail, future, exc)
        with contextlib.suppress(RuntimeError):  # the loop was closed: nobody is waiting
            loop.call_soon_threadsafe(outcome)

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
        """Close the connection on its thread and end the thread; the reader is reusable
        afterwards (the next call starts a new thread)."""
        jobs, self._jobs = self._jobs, None
        pooled, self._connection = self._connection, None

        def dispose() -> None:
            if pooled is not None:
                _invalidate(pooled)
            self._engine.dispose()

        if jobs is None:
            dispose()
        else:
            jobs.put(dispose)  # after any lookup still running there
            jobs.put(None)


def _serve(jobs: queue.SimpleQueue[_Job | None]) -> None:
    """The reader thread: one job after the other, until None."""
    while (job := jobs.get()) is not None:
        job()
        del job  # waiting for the next job must not keep the last one (and the reader) alive


def _answer(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # the caller may have stopped waiting (deadline, cancellation)
        future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def _invalidate(pooled: PoolProxiedConnection) -> None:
    with contextlib.suppress(Exception):  # a broken connection: nothing to keep
        pooled.invalidate()

"""How store code talks to the database: short guarded transactions and the one translator
of driver errors into `StoreUnavailable`.

Every store module reads and writes through `Guard.read` / `Guard.write` (or, for a query
on a bare engine, `store_errors`): a database error or a deadline becomes one
`StoreUnavailable` line, which the relay answers with a 451 (fail closed), the web pages
with a 503 and the CLI with one line instead of a driver traceback.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import Table
from sqlalchemy import exc as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from proxy.errors import StoreUnavailable
from proxy.store.database import WRITE_OPTION

__all__ = ["Guard", "dialect_insert", "store_errors"]

# Lost connections, pool waits and the driver's own timeouts pass; a statement the database
# refuses (constraint, data, SQL error) fails the same way when retried.
_TRANSIENT = (sa.OperationalError, sa.InterfaceError, sa.TimeoutError, OSError)


@contextmanager
def store_errors(what: str) -> Iterator[None]:
    """Translate what goes wrong in the block into `StoreUnavailable("<what>: <why>")`.

    The only place that maps driver errors, OS errors and deadlines (TimeoutError, e.g. of
    an enclosing `asyncio.timeout`) to the store's failure; everything else propagates."""
    try:
        yield
    except TimeoutError:  # (an OSError: tested first for its clearer message)
        raise StoreUnavailable(f"{what}: the database did not answer in time") from None
    except (sa.SQLAlchemyError, OSError) as exc:
        raise StoreUnavailable(
            f"{what}: {_first_line(exc)}", transient=isinstance(exc, _TRANSIENT)
        ) from exc


class Guard:
    """One engine's short transactions, each under `store_errors` and a deadline.

    Callers never hold a connection across an SMTP round trip: every read or write opens its
    own transaction. `bounded=False` lifts the deadline for bulk work (imports, exports,
    erasure), where the database's own lock and statement timeouts apply.
    """

    def __init__(self, engine: AsyncEngine, timeout: float) -> None:
        self.engine = engine
        self.timeout = timeout
        self._writer = engine.execution_options(**{WRITE_OPTION: True})

    @asynccontextmanager
    async def deadline(self, what: str, *, bounded: bool = True) -> AsyncIterator[None]:
        """The block under `store_errors` and, when bounded, the store's deadline."""
        with store_errors(what):
            async with asyncio.timeout(self.timeout if bounded else None):
                yield

    @asynccontextmanager
    async def read(self, what: str, *, bounded: bool = True) -> AsyncIterator[AsyncConnection]:
        async with self.deadline(what, bounded=bounded), self.engine.connect() as connection:
            yield connection

    @asynccontextmanager
    async def write(self, what: str, *, bounded: bool = True) -> AsyncIterator[AsyncConnection]:
        """A transaction that writes (BEGIN IMMEDIATE on SQLite), committed on exit."""
        async with self.deadline(what, bounded=bounded), self._writer.begin() as connection:
            yield connection


def dialect_insert(connection: AsyncConnection, table: Table) -> Any:
    """INSERT supporting ON CONFLICT for the connection's dialect (SQLite or PostgreSQL)."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]

"""The async engine: SQLite (WAL, busy timeout) by default, PostgreSQL (asyncpg) when set."""

from __future__ import annotations

import contextlib
import os
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import StaticPool, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from proxy.errors import ConfigError, ConfigProblem
from proxy.settings import DatabaseSettings
from proxy.store.sqlite_reads import SqliteReader

__all__ = ["WRITE_OPTION", "configure_sqlite", "create_engine", "sqlite_reader"]

# Execution option marking a connection that will write: on SQLite its transaction starts
# with BEGIN IMMEDIATE, so two writers queue on the busy timeout instead of one failing with
# "database is locked" when it upgrades a read lock (SQLite cannot wait in that case).
WRITE_OPTION = "prospect_relay_write"


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    """Build the engine for `settings.url`; for a SQLite file, create its directory."""
    try:
        url = make_url(settings.url)
    except Exception as exc:  # the URL parser raises plain ArgumentError/ValueError
        raise ConfigError([ConfigProblem("settings", "database.url", str(exc))]) from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.get_driver_name() != "aiosqlite":
            url = url.set(drivername="sqlite+aiosqlite")
        return _sqlite_engine(url.render_as_string(hide_password=False), url.database, settings)
    if backend == "postgresql":
        if url.get_driver_name() != "asyncpg":
            url = url.set(drivername="postgresql+asyncpg")
        return create_async_engine(
            url,
            pool_size=settings.pool_size,
            max_overflow=settings.pool_size,
            pool_pre_ping=True,
            pool_timeout=settings.timeout,
            connect_args={"timeout": settings.timeout},
        )
    raise ConfigError(
        [ConfigProblem("settings", "database.url", f"unsupported database {backend!r}")]
    )


def _sqlite_engine(url: str, database: str | None, settings: DatabaseSettings) -> AsyncEngine:
    in_memory = not database or database == ":memory:" or database.startswith("file::memory:")
    if not in_memory:
        assert database is not None
        _create_private(Path(database).expanduser())
    # Below the Store's own deadline, so a lock wait ends as a clean "database is locked"
    # error rather than a cancellation while the driver thread still holds the connection.
    busy_ms = int(settings.timeout * 800)
    options: dict[str, Any] = {"connect_args": {"timeout": settings.timeout}}
    if not in_memory:
        options["pool_size"] = settings.pool_size
        options["max_overflow"] = settings.pool_size
    engine = create_async_engine(url, **options)
    configure_sqlite(engine.sync_engine, busy_ms)
    if not in_memory:
        # The relay's hot read runs on plain pysqlite connections (see sqlite_reads); a
        # separate in-memory database would not be the same data.
        reader = SqliteReader(_sqlite_sync_engine(url, busy_ms))
        _READERS[engine.sync_engine] = reader
        event.listen(engine.sync_engine, "engine_disposed", lambda _engine: reader.close())
    return engine


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (it holds the register); SQLite
    gives its -wal and -shm files the database file's permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if str(path).startswith("file:"):
        return  # a URI filename: SQLite opens it itself
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_sync_engine(url: str, busy_ms: int) -> Engine:
    """A pysqlite engine keeping one connection (StaticPool), used by the reader thread."""
    engine = create_sync_engine(
        make_url(url).set(drivername="sqlite"),
        poolclass=StaticPool,
        connect_args={"timeout": busy_ms / 1000, "check_same_thread": False},
    )
    configure_sqlite(engine, busy_ms)
    return engine


_READERS: weakref.WeakKeyDictionary[Engine, SqliteReader] = weakref.WeakKeyDictionary()


def sqlite_reader(engine: AsyncEngine) -> SqliteReader | None:
    """The one-hop reader of a SQLite file engine made by `create_engine`, else None."""
    return _READERS.get(engine.sync_engine)


def configure_sqlite(engine: Engine, busy_ms: int) -> None:
    """Pragmas on every new connection and explicit BEGIN (IMMEDIATE for writers)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (pysqlite's implicit transactions defer the lock).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            f"PRAGMA busy_timeout = {busy_ms}",
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA foreign_keys = ON",
            "PRAGMA secure_delete = ON",  # deleted rows (erasure, purge) are zeroed, not left
            "PRAGMA cache_size = -131072",  # 128 MiB: index inserts of big imports stay in memory
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writes = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

"""Alembic migrations run from code: `db upgrade`, `db status` and serve's schema check."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from proxy.errors import StoreUnavailable
from proxy.settings import DatabaseSettings
from proxy.store.database import WRITE_OPTION, create_engine
from proxy.store.guard import store_errors

__all__ = ["SchemaStatus", "schema_is_current", "schema_status", "upgrade"]

_MIGRATIONS = Path(__file__).parent / "migrations"
# Serialises concurrent `db upgrade` runs of several instances on one PostgreSQL database.
_PG_LOCK_ID = 0x70726F73  # "pros"


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    current: str | None  # revision in the database, None for an empty database
    head: str  # newest revision this code knows

    known: bool = True  # False: the database was migrated by a newer prospect-relay

    @property
    def is_current(self) -> bool:
        return self.current == self.head

    def advice(self) -> str:
        """What to tell the operator when the schema is not current."""
        if not self.known:
            return (
                f"the database schema (revision {self.current}) is newer than this "
                f"prospect-relay (revision {self.head}): upgrade prospect-relay"
            )
        return (
            f"the database schema is at revision {self.current or '(empty)'}, this version "
            f"needs {self.head}: run `prospect-relay db upgrade`"
        )


_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _alembic_lock() -> asyncio.Lock:
    """Alembic keeps its running context in module globals: one migration at a time per loop."""
    loop = asyncio.get_running_loop()
    lock = _locks.get(loop)
    if lock is None:
        lock = _locks[loop] = asyncio.Lock()
    return lock


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def _known(revision: str) -> bool:
    return any(
        script.revision == revision
        for script in ScriptDirectory.from_config(_config()).walk_revisions()
    )


def _head() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the package ships at least one migration"
    return head


def _as_settings(database: DatabaseSettings | str) -> DatabaseSettings:
    return DatabaseSettings(url=database) if isinstance(database, str) else database


async def upgrade(
    database: DatabaseSettings | str, hash_key: bytes | None = None, revision: str = "head"
) -> SchemaStatus:
    """Apply every pending migration up to `revision` (idempotent; safe when several
    instances run it). `hash_key` (the relay's secret) lets migrations re-key stored hashes;
    one that needs it and does not get it fails saying so."""

    def run(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})
        config = _config()
        config.attributes["connection"] = connection
        config.attributes["hash_key"] = hash_key
        command.upgrade(config, revision)

    status = await schema_status(database)
    if not status.known:
        raise StoreUnavailable(status.advice())
    engine = create_engine(_as_settings(database))
    try:
        # BEGIN IMMEDIATE on SQLite: a second process waits, then finds nothing to do.
        writer = engine.execution_options(**{WRITE_OPTION: True})
        with store_errors("cannot migrate the database"):
            async with _alembic_lock(), writer.begin() as connection:
                await connection.run_sync(run)
    finally:
        await engine.dispose()
    return await schema_status(database)


async def schema_status(database: DatabaseSettings | str) -> SchemaStatus:
    """The database's revision and the code's head revision."""

    def current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    engine = create_engine(_as_settings(database))
    try:
        with store_errors("cannot read the database"):
            async with _alembic_lock(), engine.connect() as connection:
                revision = await connection.run_sync(current)
    finally:
        await engine.dispose()
    return SchemaStatus(current=revision, head=_head(), known=revision is None or _known(revision))


async def schema_is_current(database: DatabaseSettings | str) -> bool:
    """True when the database is at the code's head revision (serve refuses otherwise)."""
    return (await schema_status(database)).is_current

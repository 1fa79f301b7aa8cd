"""SQLite's one-hop read path: used for the relay's lookups, and never stale."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import event

from proxy.errors import StoreUnavailable
from proxy.model import SuppressionOrigin
from proxy.settings import DatabaseSettings
from proxy.store import Store, create_engine, upgrade
from proxy.store.database import sqlite_reader
from proxy.store.sqlite_reads import SqliteReader

HASH_KEY = b"sqlite-reads-hash-key-0123456789abcdef"
ADDRESS = "marie@firm.example"


@pytest.fixture
async def url(tmp_path: Path) -> AsyncIterator[str]:
    database = f"sqlite+aiosqlite:///{tmp_path / 'relay.db'}"
    await upgrade(database)
    yield database


async def test_lookups_run_on_the_reader_not_the_async_driver(url: str) -> None:
    engine = create_engine(DatabaseSettings(url=url))
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        assert sqlite_reader(engine) is not None
        store = Store(engine, HASH_KEY)
        facts = await store.load_recipient_facts([ADDRESS])
        assert facts[ADDRESS].suppressions == () and facts[ADDRESS].contact is None
        assert statements == []  # not one statement through aiosqlite
    finally:
        await engine.dispose()


async def test_a_write_committed_elsewhere_is_seen_by_the_next_lookup(url: str) -> None:
    reading_engine = create_engine(DatabaseSettings(url=url))
    writing_engine = create_engine(DatabaseSettings(url=url))
    try:
        reader = Store(reading_engine, HASH_KEY)
        writer = Store(writing_engine, HASH_KEY)
        assert (await reader.load_recipient_facts([ADDRESS]))[ADDRESS].suppressions == ()
        await writer.add_suppression(address=ADDRESS, origin=SuppressionOrigin.ONE_CLICK)
        (entry,) = (await reader.load_recipient_facts([ADDRESS]))[ADDRESS].suppressions
        assert entry.origin is SuppressionOrigin.ONE_CLICK
        await writer.remove_suppression(address=ADDRESS)
        assert (await reader.load_recipient_facts([ADDRESS]))[ADDRESS].suppressions == ()
    finally:
        await reading_engine.dispose()
        await writing_engine.dispose()


async def test_the_reader_reopens_after_the_engine_was_disposed(url: str) -> None:
    engine = create_engine(DatabaseSettings(url=url))
    store = Store(engine, HASH_KEY)
    try:
        await store.load_recipient_facts([ADDRESS])
        await engine.dispose()
        await store.add_suppression(address=ADDRESS, origin=SuppressionOrigin.MAILTO)
        assert len((await store.load_recipient_facts([ADDRESS]))[ADDRESS].suppressions) == 1
    finally:
        await engine.dispose()


async def test_a_missing_schema_is_unavailable_on_the_reader(tmp_path: Path) -> None:
    engine = create_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"))
    try:
        with pytest.raises(StoreUnavailable, match="loading recipient facts"):
            await Store(engine, HASH_KEY).load_recipient_facts([ADDRESS])
    finally:
        await engine.dispose()


async def test_a_lookup_waits_for_a_writer_off_the_event_loop(url: str) -> None:
    """A lock held by another connection is waited for on the reader thread (busy timeout)."""
    engine = create_engine(DatabaseSettings(url=url, timeout=5.0))
    reader = sqlite_reader(engine)
    assert reader is not None
    path = url.removeprefix("sqlite+aiosqlite:///")
    locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    used: list[str] = []

    def write_probe(connection: sqlite3.Connection) -> int:
        used.append(threading.current_thread().name)
        # A write needs the lock the locker holds: it waits until the locker commits.
        connection.execute("DELETE FROM suppressions WHERE hash = 'none'")
        return 7

    try:
        locker.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, lambda: locker.execute("COMMIT"))
        release.start()
        assert await reader.run(write_probe) == 7
        release.join()
        assert used == [used[0]] and used[0].startswith("sqlite-reads")
        assert used[0] != threading.current_thread().name
    finally:
        locker.close()
        await engine.dispose()


async def test_a_corrupt_database_is_unavailable_on_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"not a database, " * 512)
    engine = create_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{path}"))
    try:
        with pytest.raises(StoreUnavailable, match="loading recipient facts: file is not a"):
            await Store(engine, HASH_KEY).load_recipient_facts([ADDRESS])
    finally:
        await engine.dispose()


async def test_a_locked_database_is_unavailable_then_read_again(url: str) -> None:
    """An exclusive lock held past the busy timeout: the lookup fails as a transient
    StoreUnavailable (451), and the reader's next call, after the lock, reads again."""
    engine = create_engine(DatabaseSettings(url=url, timeout=0.5))
    store = Store(engine, HASH_KEY)
    await store.add_suppression(address=ADDRESS, origin=SuppressionOrigin.MAILTO)
    await engine.dispose()  # the exclusive lock needs every other connection closed
    locker = sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///"), isolation_level=None)
    try:
        locker.execute("PRAGMA locking_mode = EXCLUSIVE")
        locker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreUnavailable, match="database is locked") as failed:
            await store.load_recipient_facts([ADDRESS])
        assert failed.value.transient
        locker.execute("COMMIT")
        locker.execute("PRAGMA locking_mode = NORMAL")
        locker.execute("SELECT 1 FROM suppressions").fetchall()  # releases the lock
        locker.close()
        assert len((await store.load_recipient_facts([ADDRESS]))[ADDRESS].suppressions) == 1
    finally:
        locker.close()
        await engine.dispose()


async def test_a_failed_lookup_leaves_the_reader_usable(tmp_path: Path) -> None:
    """The schema is missing at the first lookup and present at the next one: the reader
    drops the failed connection and reads the migrated file."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'later.db'}"
    engine = create_engine(DatabaseSettings(url=url))
    store = Store(engine, HASH_KEY)
    try:
        with pytest.raises(StoreUnavailable, match="no such table"):
            await store.load_recipient_facts([ADDRESS])
        await upgrade(url)
        await store.add_suppression(address=ADDRESS, origin=SuppressionOrigin.PAGE)
        (entry,) = (await store.load_recipient_facts([ADDRESS]))[ADDRESS].suppressions
        assert entry.origin is SuppressionOrigin.PAGE
    finally:
        await engine.dispose()


async def test_a_lookup_past_the_deadline_is_unavailable_and_the_next_one_reads(
    url: str,
) -> None:
    """The reader thread is held by an earlier call: the lookup behind it ends at the
    store's deadline (StoreUnavailable, not a hang), and once the thread is free again the
    next lookup reads normally."""
    engine = create_engine(DatabaseSettings(url=url))
    reader = sqlite_reader(engine)
    assert reader is not None
    store = Store(engine, HASH_KEY, timeout=0.2)
    await store.add_suppression(address=ADDRESS, origin=SuppressionOrigin.MAILTO)
    release = threading.Event()
    try:
        holder = asyncio.create_task(reader.run(lambda _connection: release.wait(30)))
        await asyncio.sleep(0)
        with pytest.raises(StoreUnavailable, match="did not answer in time"):
            await store.load_recipient_facts([ADDRESS])
        release.set()
        assert await holder is True
        assert len((await store.load_recipient_facts([ADDRESS]))[ADDRESS].suppressions) == 1
    finally:
        release.set()
        await engine.dispose()


async def test_the_reader_thread_ends_with_a_reader_never_closed(url: str) -> None:
    reader = SqliteReader(create_sync_engine(url.replace("+aiosqlite", "")))
    thread = await reader.run(lambda _connection: threading.current_thread())
    assert thread.name == "sqlite-reads" and thread.is_alive()
    del reader
    gc.collect()
    thread.join(30)  # returns as soon as it ends; the bound only keeps a failure finite
    assert not thread.is_alive()

"""Database fixtures: SQLite files by default, PostgreSQL when PROSPECT_RELAY_TEST_DB=postgresql.

PostgreSQL runs use PROSPECT_RELAY_TEST_PG_URL (scripts/pg-start.sh prints one) and get a
fresh database per test, dropped afterwards. The variables are read at import time because
the autouse `clean_environ` fixture hides every PROSPECT_RELAY_* variable from tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.settings import DatabaseSettings
from proxy.store import Store, create_engine, upgrade
from tests.integration.ops_helpers import Cli
from tests.integration.web_helpers import Web, start_web

TEST_DB = os.environ.get("PROSPECT_RELAY_TEST_DB", "sqlite")
TEST_PG_URL = os.environ.get("PROSPECT_RELAY_TEST_PG_URL", "")
HASH_KEY = b"test-hash-key-0123456789abcdef-0123"


async def _pg_admin(url: str) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database or "postgres",
    )


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    """An empty database (no schema) of the selected backend."""
    if TEST_DB == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'var' / 'relay.db'}"
        return
    if TEST_DB != "postgresql":
        pytest.fail(f"PROSPECT_RELAY_TEST_DB must be sqlite or postgresql, not {TEST_DB!r}")
    if not TEST_PG_URL:
        pytest.fail("PROSPECT_RELAY_TEST_PG_URL is not set (run scripts/pg-start.sh)")
    name = f"prt_{uuid.uuid4().hex[:16]}"
    admin = await _pg_admin(TEST_PG_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield make_url(TEST_PG_URL).set(database=name).render_as_string(hide_password=False)
    admin = await _pg_admin(TEST_PG_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def migrated_url(database_url: str) -> str:
    await upgrade(database_url)
    return database_url


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(DatabaseSettings(url=migrated_url))
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> Store:
    return Store(engine, HASH_KEY)


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[Web]:
    """The public and operations apps on real listeners over a migrated SQLite store."""
    async for running in start_web(tmp_path):
        yield running


@pytest.fixture
def run(database_url: str, tmp_path: Path) -> Cli:
    """The CLI on the test database (see `Cli`)."""
    return Cli(database_url, tmp_path)

"""Integration fixtures: a migrated database of the selected backend (tests/databases.py) and
a `Store` on it, the web apps on real listeners, the CLI on the test database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.settings import DatabaseSettings
from proxy.store import Store, create_engine, upgrade
from tests.databases import HASH_KEY
from tests.integration.ops_helpers import Cli
from tests.integration.web_helpers import Web, start_web


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

"""The database the tests run on: SQLite files by default, PostgreSQL when
PROSPECT_RELAY_TEST_DB=postgresql (then PROSPECT_RELAY_TEST_PG_URL, which scripts/pg-start.sh
prints, names the server; each test gets a fresh database, dropped afterwards: the
`database_url` fixture in tests/conftest.py). The variables are read at import time because
the autouse `clean_environ` fixture hides every PROSPECT_RELAY_* variable from tests.
"""

from __future__ import annotations

import os

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

__all__ = ["HASH_KEY", "TEST_DB", "TEST_PG_URL", "pg_admin"]

TEST_DB = os.environ.get("PROSPECT_RELAY_TEST_DB", "sqlite")
TEST_PG_URL = os.environ.get("PROSPECT_RELAY_TEST_PG_URL", "")
HASH_KEY = b"test-hash-key-0123456789abcdef-0123"


async def pg_admin(url: str) -> asyncpg.Connection:
    """An admin connection to the PostgreSQL server of `url` (its database, or postgres)."""
    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database or "postgres",
    )

"""The hot RCPT/DATA lookup reads through indexes only, on SQLite and on PostgreSQL: its SQL
(proxy/store/lookups.py) must stay as fast with a million suppressions as with ten."""

from __future__ import annotations

import pytest
from sqlalchemy import CompoundSelect, Select
from sqlalchemy.ext.asyncio import AsyncConnection

from proxy.settings import DatabaseSettings
from proxy.store import create_engine
from proxy.store.lookups import CONTACT_FACTS, HASH_FACTS

pytestmark = pytest.mark.postgres

HASH = "ab" * 32


async def _plan(connection: AsyncConnection, statement: Select | CompoundSelect) -> list[str]:
    """The database's plan for `statement`, with sequential scans made as costly as can be
    (PostgreSQL would pick one on the test's tiny tables when an index is usable too)."""
    sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = await connection.exec_driver_sql(f"EXPLAIN {sql}")
        return [row[0] for row in rows]
    rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
    return [row[-1] for row in rows]


def _scans(plan: list[str]) -> list[str]:
    return [line for line in plan if "Seq Scan" in line or line.startswith("SCAN")]


async def test_the_recipient_lookup_uses_indexes_only(migrated_url: str) -> None:
    engine = create_engine(DatabaseSettings(url=migrated_url))
    try:
        async with engine.connect() as connection:
            contacts_plan = await _plan(
                connection, CONTACT_FACTS.params(emails=["a@b.example", "c@d.example"])
            )
            hashes_plan = await _plan(connection, HASH_FACTS.params(wanted=[HASH], keyed=[HASH]))
    finally:
        await engine.dispose()
    assert contacts_plan and hashes_plan
    assert _scans(contacts_plan) == [], contacts_plan
    assert _scans(hashes_plan) == [], hashes_plan

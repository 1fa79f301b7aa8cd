"""The hot RCPT/DATA lookup reads through indexes only, on SQLite and on PostgreSQL: its SQL
(proxy/store/lookups.py) must stay as fast with a million suppressions as with ten. On a
SQLite file the text actually sent is DriverSelect's (IN lists padded with NULL): its plan
is checked too."""

from __future__ import annotations

import pytest
from sqlalchemy import CompoundSelect, Select
from sqlalchemy.ext.asyncio import AsyncConnection

from proxy.settings import DatabaseSettings
from proxy.store import create_engine
from proxy.store.database import sqlite_reader
from proxy.store.driver_select import DriverSelect
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


async def _driver_plan(
    connection: AsyncConnection, statement: Select | CompoundSelect, lists: dict[str, list[str]]
) -> list[str]:
    """SQLite's plan for the text and parameters DriverSelect sends for these IN lists."""
    sql, params = DriverSelect(statement, connection.dialect).expand(lists)
    rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", tuple(params))
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
            plans = [contacts_plan, hashes_plan]
            if sqlite_reader(engine) is not None:  # a SQLite file: the reader's own text
                emails = {"emails": ["a@b.example", "c@d.example", "e@f.example"]}
                plans.append(await _driver_plan(connection, CONTACT_FACTS, emails))
                hashes = {"wanted": [HASH] * 3, "keyed": [HASH]}
                plans.append(await _driver_plan(connection, HASH_FACTS, hashes))
    finally:
        await engine.dispose()
    assert len(plans) == (2 if migrated_url.startswith("postgresql") else 4)
    for plan in plans:
        assert plan and _scans(plan) == [], plan

"""Imported SHA-256 suppressions are keyed (issue 11 item 7): stored as HMAC(key, SHA-256),
looked up the same way, and revision 0004 re-keys the rows an older relay stored plain.
Runs on SQLite and PostgreSQL (PROSPECT_RELAY_TEST_DB)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from proxy.errors import StoreUnavailable
from proxy.model import SuppressionOrigin
from proxy.settings import DatabaseSettings
from proxy.store import Store, create_engine, keyed_sha256, sha256_hash, upgrade
from proxy.store.tables import suppressions
from tests.databases import HASH_KEY

pytestmark = pytest.mark.postgres


async def stored_hashes(store_url: str) -> list[tuple[str, str]]:
    engine = create_engine(DatabaseSettings(url=store_url))
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(select(suppressions.c.hash, suppressions.c.kind))
            return [(row.hash, row.kind) for row in rows]
    finally:
        await engine.dispose()


async def test_an_imported_sha256_is_stored_keyed_and_still_matches(
    store: Store, migrated_url: str
) -> None:
    plain = sha256_hash("Bob@Example.org")
    assert await store.add_suppression(sha256=plain.upper(), origin=SuppressionOrigin.IMPORT)
    assert await stored_hashes(migrated_url) == [(keyed_sha256(HASH_KEY, plain), "sha256")]
    assert plain not in str(await stored_hashes(migrated_url))
    (found,) = await store.is_suppressed("bob@example.org")
    assert found.origin is SuppressionOrigin.IMPORT
    assert await store.remove_suppression(address="BOB@example.org") == 1


async def insert_plain_sha256(url: str, address: str) -> None:
    """What a relay before revision 0004 stored for an imported hash."""
    engine = create_engine(DatabaseSettings(url=url))
    try:
        async with engine.begin() as connection:
            await connection.execute(
                suppressions.insert().values(
                    hash=sha256_hash(address),
                    kind="sha256",
                    scope="global",
                    origin=SuppressionOrigin.IMPORT.value,
                    created_at=datetime.now(UTC),
                )
            )
    finally:
        await engine.dispose()


async def test_upgrade_rekeys_plain_sha256_rows(database_url: str) -> None:
    await upgrade(database_url, revision="0003")
    await insert_plain_sha256(database_url, "carol@example.org")
    status = await upgrade(database_url, HASH_KEY)
    assert status.is_current
    plain = sha256_hash("carol@example.org")
    assert await stored_hashes(database_url) == [(keyed_sha256(HASH_KEY, plain), "sha256")]
    engine = create_engine(DatabaseSettings(url=database_url))
    try:
        store = Store(engine, HASH_KEY)
        assert len(await store.is_suppressed("Carol@Example.org")) == 1
    finally:
        await engine.dispose()


async def test_upgrade_without_the_key_refuses_to_lose_plain_rows(database_url: str) -> None:
    await upgrade(database_url, revision="0003")
    await insert_plain_sha256(database_url, "dave@example.org")
    with pytest.raises(StoreUnavailable, match="re-keyed with the secret key"):
        await upgrade(database_url)
    engine = create_engine(DatabaseSettings(url=database_url))
    try:
        async with engine.connect() as connection:
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()
    assert revision == "0003"  # nothing half-done

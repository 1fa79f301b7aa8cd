"""The SQLite file holds the register: private to its owner, and an erasure leaves no copy of
the address in the database file or its write-ahead log."""

from __future__ import annotations

import stat
from pathlib import Path

from proxy.settings import DatabaseSettings
from proxy.store import Store, create_engine, upgrade
from tests.unit.policy_factory import consented

KEY = b"sqlite-privacy-test-key-0123456789"
ADDRESS = "erase.me.entirely@example.org"


async def test_database_files_are_private_and_forget_leaves_no_copy(tmp_path: Path) -> None:
    database = tmp_path / "var" / "relay.db"
    url = f"sqlite+aiosqlite:///{database}"
    await upgrade(url)
    engine = create_engine(DatabaseSettings(url=url))
    try:
        store = Store(engine, KEY)
        await store.upsert_contacts([consented(ADDRESS)])
        await store.upsert_contacts([consented(f"other{n}@example.org") for n in range(50)])

        await store.forget(ADDRESS)

        files = [p for p in tmp_path.joinpath("var").iterdir() if p.name.startswith("relay.db")]
        assert {p.name for p in files} >= {"relay.db", "relay.db-wal"}
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
            assert ADDRESS.encode() not in path.read_bytes(), path
        assert await store.get_contact(ADDRESS) is None
        assert await store.get_contact("other7@example.org") is not None
    finally:
        await engine.dispose()

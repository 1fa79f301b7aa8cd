"""Per-recipient decision cost against the size of the suppression list: 1 K, 1 M, 10 M entries.

The RCPT-time decision is one register lookup (`Store.load_recipient_facts`: the contact row,
the suppressions of the address, its imported SHA-256 and its domains, the send record) and
the pure engine (`decide`). With the lookups indexed, its cost must not grow with the list.

The list is filled at the driver level, in sorted chunks, as fast as the database takes rows
(SQLite: executemany in one transaction per chunk; PostgreSQL: COPY), with realistic keys
(SHA-256 hex, spread over the whole key space). On PostgreSQL the table is ANALYZEd after each
fill, as autovacuum would. A few real recipients are suppressed too, so lookups both hit and
miss. Per size it prints the median and p99 wall time and the CPU time of this process per
recipient (the SQLite read runs on a thread of this process; a PostgreSQL server's CPU is not
counted), and the ratio to the smallest size. Prints figures; asserts nothing.

    python bench/decision_bench.py                      # SQLite file in a temporary directory
    python bench/decision_bench.py --url postgresql+asyncpg://postgres@127.0.0.1:55496/bench
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from proxy.model import MessageFacts, Stage, SuppressionOrigin
from proxy.policy.engine import decide
from proxy.policy.policy_file import load_policy
from proxy.settings import DatabaseSettings
from proxy.store import Store, SuppressionEntry, create_engine, upgrade
from proxy.store.tables import HASH_KIND_ADDRESS

KEY = b"bench-key-0123456789abcdef0123456789"
TODAY = date(2026, 12, 1)
CHUNK = 500_000
COLUMNS = ("hash", "kind", "scope", "origin", "created_at")
PLANTED = 100  # real recipients on the list: one lookup in ten hits


def recipients(count: int) -> list[str]:
    """Lookups: mostly unknown people at French companies, one in ten on the list."""
    rng = random.Random(11)
    out = []
    for n in range(count):
        if n % 10 == 0:
            out.append(f"listed.{rng.randrange(PLANTED)}@acme-industrie.fr")
        else:
            out.append(f"prenom.nom{rng.randrange(10**9)}@societe{rng.randrange(10**4)}.fr")
    return out


def synthetic_chunk(start: int, stop: int) -> list[str]:
    """Hashes of rows start..stop, sorted: each chunk goes into the index in key order."""
    return sorted(hashlib.sha256(b"synthetic.%d" % n).hexdigest() for n in range(start, stop))


def fill_sqlite(path: str, start: int, stop: int) -> None:
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's format
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA cache_size = -262144")
        for begin in range(start, stop, CHUNK):
            hashes = synthetic_chunk(begin, min(begin + CHUNK, stop))
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(
                f"INSERT INTO suppressions ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?)",
                ((h, HASH_KIND_ADDRESS, "global", "import", created) for h in hashes),
            )
            connection.execute("COMMIT")
    finally:
        connection.close()


async def fill_postgresql(store_engine: Any, start: int, stop: int) -> None:
    created = datetime.now(UTC)
    async with store_engine.connect() as connection:
        driver: Any = (await connection.get_raw_connection()).driver_connection  # asyncpg
        for begin in range(start, stop, CHUNK):
            hashes = synthetic_chunk(begin, min(begin + CHUNK, stop))
            await driver.copy_records_to_table(
                "suppressions",
                records=((h, HASH_KIND_ADDRESS, "global", "import", created) for h in hashes),
                columns=list(COLUMNS),
            )
        await driver.execute("ANALYZE suppressions")


async def measure(store: Store, lookups: list[str]) -> tuple[float, float, float, int]:
    """(median µs, p99 µs, CPU µs per recipient, how many were suppressed)."""
    policy = load_policy(Path(__file__).resolve().parents[1] / "config" / "policy.toml")
    message = MessageFacts(mail_from="news@example.com", client_ip="192.0.2.1", auth_user=None)
    for address in lookups[:50]:  # warm up: connections, caches, statement compilation
        await store.load_recipient_facts([address])
    timings = []
    hits = 0
    cpu = time.process_time()
    for address in lookups:
        began = time.perf_counter()
        facts = await store.load_recipient_facts([address])
        decision = decide(facts[address], message, policy, TODAY, Stage.RCPT)
        timings.append((time.perf_counter() - began) * 1e6)
        hits += bool(facts[address].suppressions)
        assert decision.action is not None
    cpu = (time.process_time() - cpu) / len(lookups) * 1e6
    cuts = statistics.quantiles(timings, n=100)
    return statistics.median(timings), cuts[98], cpu, hits


async def access_path(engine: Any, postgresql: bool) -> str:
    """How the database reads the suppressions of a few hashes (the lookup's access path):
    an index search whatever the list's size is what keeps the cost flat."""
    wanted = "('" + "','".join(hashlib.sha256(b"%d" % n).hexdigest() for n in range(4)) + "')"
    query = f"SELECT * FROM suppressions WHERE hash IN {wanted}"
    explain = "EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN "
    async with engine.connect() as connection:
        rows = (await connection.execute(text(explain + query))).all()
    steps = [str(row[-1]).strip().lstrip("->").strip() for row in rows]
    return " / ".join(
        step.split("  (cost")[0]
        for step in steps
        if "scan" in step.lower() or "search" in step.lower()
    )


async def run(url: str, sizes: list[int], count: int) -> None:
    settings = DatabaseSettings(url=url)
    await upgrade(settings)
    engine = create_engine(settings)
    store = Store(engine, KEY)
    postgresql = engine.dialect.name == "postgresql"
    async with engine.begin() as connection:  # a scratch database: start from an empty list
        await connection.execute(text("DELETE FROM suppressions"))
    now = datetime.now(UTC)
    planted = [
        SuppressionEntry(
            store.address_hash(f"listed.{n}@acme-industrie.fr"),
            HASH_KIND_ADDRESS,
            "global",
            SuppressionOrigin.OBJECTION,
            now,
        )
        for n in range(PLANTED)
    ]
    await store.import_suppressions(planted)
    lookups = recipients(count)
    print(f"{engine.dialect.name}: {count} lookups per size, load {os.getloadavg()[0]:.1f}")
    print(f"{'entries':>12} {'fill s':>7} {'median µs':>10} {'p99 µs':>8} {'CPU µs':>7} "
          f"{'hits':>5} {'median/first':>13}")  # fmt: skip
    first = None
    filled = PLANTED
    for size in sizes:
        began = time.perf_counter()
        if size > filled:
            if postgresql:
                await fill_postgresql(engine, filled, size)
            else:
                database = make_url(url).database
                assert database is not None
                await asyncio.to_thread(fill_sqlite, database, filled, size)
            filled = size
        fill = time.perf_counter() - began
        async with engine.connect() as connection:
            entries = (await connection.execute(text("SELECT count(*) FROM suppressions"))).scalar()
        plan = await access_path(engine, postgresql)
        median, p99, cpu, hits = await measure(store, lookups)
        first = first or median
        print(
            f"{entries:>12,} {fill:>7.1f} {median:>10.0f} {p99:>8.0f} {cpu:>7.0f} {hits:>5} "
            f"{median / first:>13.2f}   (load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
        print(f"{'':>12} plan: {plan}")
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,1000000,10000000", help="entries, ascending")
    parser.add_argument("--lookups", type=int, default=3000, help="recipients per size")
    parser.add_argument(
        "--url", help="a scratch database, its suppressions deleted first (default: SQLite)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.url:
        asyncio.run(run(args.url, sizes, args.lookups))
        return
    with tempfile.TemporaryDirectory(prefix="prospect-relay-bench-") as tmp:
        asyncio.run(run(f"sqlite+aiosqlite:///{tmp}/decision.db", sizes, args.lookups))


if __name__ == "__main__":
    main()

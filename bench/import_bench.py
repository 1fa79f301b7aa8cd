"""Benchmark: 1M-row contacts import and recipient lookup cost from 1k to 1M suppressions.

Usage: python bench/import_bench.py [--rows N] [--suppressions N] [--url DATABASE_URL]
Default: a fresh SQLite file in a temporary directory. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from proxy.model import SuppressionOrigin
from proxy.settings import DatabaseSettings
from proxy.store import Store, SuppressionEntry, create_engine, sha256_hash, upgrade
from proxy.store.importer import import_contacts
from proxy.store.tables import HASH_KIND_ADDRESS

KEY = b"bench-key-0123456789abcdef0123456789"
HEADER = [
    "email", "kind", "country", "source", "source_kind", "collected_at", "consent",
    "consent_at", "consent_method", "customer_of", "marketing_refused", "last_interaction",
]  # fmt: skip


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(7)
    kinds, countries = ["b2c", "b2b", "generic"], ["FR", "DE", "IT", "BE", "ES", "NL"]
    base = date(2024, 1, 1)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            day = (base + timedelta(days=n % 900)).isoformat()
            granted = n % 3 == 0
            writer.writerow(
                [
                    f"person.{n}+tag@company{n % 5000}.example",
                    kinds[n % 3],
                    rng.choice(countries),
                    "website form",
                    "direct",
                    day,
                    "granted" if granted else ("withdrawn" if n % 97 == 0 else "none"),
                    day if granted else "",
                    "checkbox" if granted else "",
                    "shoes;socks" if n % 7 == 0 else "",
                    "yes" if n % 101 == 0 else "no",
                    day,
                ]
            )


async def lookup_latency(store: Store, samples: int = 300) -> tuple[float, float]:
    """Median and p99 of load_recipient_facts for a batch of 5 recipients, in ms."""
    timings = []
    for n in range(samples):
        batch = [f"person.{(n * 5 + i) * 37}+tag@company{i}.example" for i in range(5)]
        start = time.perf_counter()
        await store.load_recipient_facts(batch)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1]


async def add_suppressions(store: Store, start: int, count: int) -> float:
    now = datetime.now(UTC)
    began = time.perf_counter()
    for offset in range(start, start + count, 50_000):
        entries = [
            SuppressionEntry(
                sha256_hash(f"gone.{n}@elsewhere.example"),
                HASH_KIND_ADDRESS,
                "global",
                SuppressionOrigin.IMPORT,
                now,
            )
            for n in range(offset, min(offset + 50_000, start + count))
        ]
        await store.import_suppressions(entries)
    return time.perf_counter() - began


def report_lookup(count: int, timings: tuple[float, float]) -> None:
    median, p99 = timings
    print(
        f"load_recipient_facts (5 recipients) with {count:,} suppressions: "
        f"median {median:.2f} ms, p99 {p99:.2f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--suppressions", type=int, default=1_000_000)
    parser.add_argument(
        "--url", default=None, help="a scratch database (default: SQLite in a temporary directory)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="prospect-relay-bench-") as tmp:
        url = args.url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        settings = DatabaseSettings(url=url)
        await upgrade(settings)
        engine = create_engine(settings)
        store = Store(engine, KEY)

        await add_suppressions(store, 0, 1_000)
        report_lookup(await store.suppression_count(), await lookup_latency(store))

        csv_path = Path(tmp) / "contacts.csv"
        began = time.perf_counter()
        write_csv(csv_path, args.rows)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - began:.1f} s")
        for label in ("import (new contacts)", "re-import (all updates)"):
            began, cpu = time.perf_counter(), time.process_time()
            with csv_path.open(newline="", encoding="utf-8-sig") as handle:
                summary = await import_contacts(store, handle, on_error=lambda line, why: None)
            elapsed = time.perf_counter() - began
            cpu = time.process_time() - cpu  # this process only (SQLite works in-process)
            print(
                f"{label}: {summary.rows_read:,} rows in {elapsed:.1f} s "
                f"(CPU {cpu:.1f} s, load {os.getloadavg()[0]:.1f}) = "
                f"{summary.rows_read / elapsed:,.0f} rows/s (inserted {summary.inserted:,}, "
                f"updated {summary.updated:,}, rejected {summary.rejected}, "
                f"suppressions created {summary.suppressions_created:,})"
            )
        report_lookup(await store.suppression_count(), await lookup_latency(store))

        count = await store.suppression_count()
        if args.suppressions > count:
            took = await add_suppressions(store, 1_000, args.suppressions - count)
            count = await store.suppression_count()
            print(f"added suppressions up to {count:,} in {took:.1f} s")
            report_lookup(count, await lookup_latency(store))
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

"""Benchmark: `audit export` and `report` on a large audit trail; export memory must stay flat.

Usage: python bench/export_bench.py [--rows N] [--url DATABASE_URL]
Default: 1,000,000 audit rows in a fresh SQLite file. Exports 1% of the period, then all of
it, each in its own `prospect-relay` process writing to /dev/null, and prints rows/s and the
process's peak RSS: streaming means the two peaks are about equal. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from proxy.settings import DatabaseSettings
from proxy.store import create_engine, upgrade
from proxy.store.tables import audit_records

START = datetime(2025, 3, 1, tzinfo=UTC)
BATCH = 20_000
RULES = ["", "suppressed", "b2c-no-consent", "stale-prospect,source-unknown", "footer"]
ACTIONS = ["forward", "reject", "reject", "reject", "rewrite"]


async def seed(url: str, rows: int) -> float:
    """Insert `rows` records spread over March 2025; returns the seconds it took."""
    await upgrade(url)
    engine = create_engine(DatabaseSettings(url=url))
    step = timedelta(days=30) / rows
    began = time.perf_counter()
    try:
        for first in range(0, rows, BATCH):
            batch = [
                {
                    "created_at": START + step * n,
                    "queue_id": f"q{n // 3:010d}",
                    "campaign": f"campaign-{n % 7}",
                    "sender_hash": "a" * 64,
                    "recipient_hash": f"{n:064x}",
                    "country": ("FR", "DE", "IT", "BE")[n % 4],
                    "action": ACTIONS[n % 5],
                    "rule_ids": RULES[n % 5],
                    "basis": "consent" if n % 5 == 0 else "none",
                    "instance": "relay-1",
                }
                for n in range(first, min(first + BATCH, rows))
            ]
            async with engine.begin() as connection:
                await connection.execute(audit_records.insert(), batch)
    finally:
        await engine.dispose()
    return time.perf_counter() - began


def run(config: Path, *args: str) -> tuple[float, int]:
    """Seconds and the peak RSS (KiB) so far of child processes, for one CLI run."""
    began = time.perf_counter()
    with open("/dev/null", "w") as sink:
        subprocess.run(
            [sys.executable, "-m", "proxy", *args, "--config", str(config)],
            stdout=sink,
            check=True,
        )
    elapsed = time.perf_counter() - began
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--url", default=None)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = options.url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        config = Path(tmp) / "relay.toml"
        config.write_text(f'[database]\nurl = "{url}"\n')
        seconds = asyncio.run(seed(url, options.rows))
        print(f"seeded {options.rows:,} audit rows in {seconds:.1f} s")
        small_end = (START + timedelta(days=30) / 100).isoformat()
        elapsed, small_rss = run(
            config, "audit", "export", "--since", START.isoformat(), "--until", small_end
        )
        small = options.rows // 100
        print(f"export {small:,} rows: {elapsed:.2f} s, peak RSS {small_rss / 1024:.0f} MiB")
        elapsed, rss = run(config, "audit", "export", "--since", "2025-03-01")
        print(
            f"export {options.rows:,} rows: {elapsed:.2f} s "
            f"({options.rows / elapsed:,.0f} rows/s), peak RSS {rss / 1024:.0f} MiB"
        )
        elapsed, _ = run(
            config, "report", "--since", "2025-03-01", "--until", "2025-03-31", "--format", "json"
        )
        print(f"report over {options.rows:,} rows: {elapsed:.2f} s")


if __name__ == "__main__":
    main()

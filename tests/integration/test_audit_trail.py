"""The buffered audit trail: batches reach the database, survive an outage, skip bad rows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.model import Action
from proxy.store import AuditRecord, Store
from proxy.store.audit_writer import AuditTrail
from tests.conftest import stored_audit

pytestmark = pytest.mark.postgres


def _record(queue_id: Any, n: int = 0) -> AuditRecord:
    return AuditRecord(
        created_at=datetime(2026, 12, 1, 10, 0, n, tzinfo=UTC),
        queue_id=queue_id,
        sender_hash="s" * 64,
        recipient_hash=f"{n:064x}",
        action=Action.REWRITE,
        rule_ids=("footer", "list-unsubscribe"),
    )


async def test_records_are_written_in_batches_and_at_stop(
    store: Store, engine: AsyncEngine
) -> None:
    trail = AuditTrail(store, flush_interval=60, batch_size=3)
    await trail.start()
    trail.add([_record(f"q{n}", n) for n in range(5)])
    await trail.stop()  # the periodic flush never ran: stop writes everything
    stored = await stored_audit(engine)
    assert sorted(r.queue_id for r in stored) == ["q0", "q1", "q2", "q3", "q4"]
    assert stored[0].rule_ids == ("footer", "list-unsubscribe")
    assert trail.pending == 0


async def test_concurrent_flushes_write_each_record_once(store: Store, engine: AsyncEngine) -> None:
    """The background flush and an explicit flush() overlapping (seen on a loaded machine:
    duplicated audit rows, then IndexError at stop)."""
    trail = AuditTrail(store, flush_interval=60, batch_size=2)
    trail.add([_record(f"q{n}", n) for n in range(7)])
    await asyncio.gather(trail.flush(), trail.flush(), trail.flush())
    await trail.stop()
    assert sorted(r.queue_id for r in await stored_audit(engine)) == [f"q{n}" for n in range(7)]


async def test_a_refused_record_is_dropped_and_the_others_kept(
    store: Store, engine: AsyncEngine
) -> None:
    trail = AuditTrail(store, flush_interval=60, batch_size=10)
    trail.add([_record("good-1", 1), _record(None, 2), _record("good-3", 3)])  # NOT NULL
    await trail.flush()
    assert sorted(r.queue_id for r in await stored_audit(engine)) == ["good-1", "good-3"]
    assert trail.dropped == 1
    assert trail.pending == 0


async def test_records_wait_while_the_database_is_away(store: Store, tmp_path: Any) -> None:
    from proxy.settings import DatabaseSettings
    from proxy.store.database import create_engine

    broken = Store(
        create_engine(DatabaseSettings(url="postgresql+asyncpg://x@127.0.0.1:1/x", timeout=1)),
        b"k" * 32,
        timeout=1,
    )
    trail = AuditTrail(broken, flush_interval=60)
    trail.add([_record("kept", 1)])
    await trail.flush()
    assert trail.pending == 1  # still queued, not dropped
    assert trail.dropped == 0

"""The outbound webhook queue in the database: enqueue with the fact, claim, settle, replay.

Rows are written by `enqueue` inside the caller's transaction (the suppression, erasure or
bounce it reports commits with it or not at all), and read by `WebhookQueue`, which the
dispatcher of every relay instance shares: a row is claimed with a lease (`locked_until`)
by one conditional UPDATE, so instances do not deliver the same row at the same time, and a
crashed instance's lease simply runs out (at-least-once).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from proxy.feedback.events import Event, EventRoutes, EventType
from proxy.store.database import WRITE_OPTION
from proxy.store.guard import store_errors
from proxy.store.tables import webhook_deliveries

__all__ = [
    "DELIVERED",
    "FAILED",
    "PENDING",
    "EndpointBacklog",
    "QueuedDelivery",
    "WebhookQueue",
    "enqueue",
]

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


async def enqueue(connection: AsyncConnection, routes: EventRoutes, events: Sequence[Event]) -> int:
    """One pending row per (event, endpoint wanting its type); returns how many."""
    rows = [
        {
            "event_id": event.id,
            "endpoint": endpoint,
            "event_type": event.type.value,
            "address_hash": event.address_hash,
            "payload": json.dumps(dict(event.data), sort_keys=True),
            "created_at": event.occurred_at,
            "state": PENDING,
            "attempts": 0,
            "next_attempt_at": event.occurred_at,
        }
        for event in events
        for endpoint in routes.targets(event.type)
    ]
    if rows:
        await connection.execute(webhook_deliveries.insert(), rows)
    return len(rows)


@dataclass(frozen=True, slots=True)
class QueuedDelivery:
    """One pending row as the dispatcher sees it."""

    id: int
    endpoint: str
    event: Event
    attempts: int
    next_attempt_at: datetime
    locked_until: datetime | None

    @property
    def order_key(self) -> str:
        """Events about one address go out in order; others do not wait for each other."""
        return self.event.address_hash or self.event.id


@dataclass(frozen=True, slots=True)
class EndpointBacklog:
    endpoint: str
    pending: int
    delivered: int
    failed: int
    oldest_pending: datetime | None


class WebhookQueue:
    """Reads and settles queued deliveries (the dispatcher's and the CLI's side)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE_OPTION: True})

    async def pending(self, endpoint: str, limit: int) -> list[QueuedDelivery]:
        """The endpoint's oldest pending rows, in id (= emission) order."""
        statement = (
            select(webhook_deliveries)
            .where(webhook_deliveries.c.endpoint == endpoint)
            .where(webhook_deliveries.c.state == PENDING)
            .order_by(webhook_deliveries.c.id)
            .limit(limit)
        )
        with store_errors("reading the webhook queue"):
            async with self._engine.connect() as connection:
                rows = (await connection.execute(statement)).all()
        return [
            QueuedDelivery(
                id=row.id,
                endpoint=row.endpoint,
                event=Event(
                    id=row.event_id,
                    type=EventType(row.event_type),
                    occurred_at=row.created_at,
                    address_hash=row.address_hash,
                    data=json.loads(row.payload),
                ),
                attempts=row.attempts,
                next_attempt_at=row.next_attempt_at,
                locked_until=row.locked_until,
            )
            for row in rows
        ]

    async def _update(self, row_id: int, condition: object, **values: object) -> bool:
        statement = update(webhook_deliveries).where(webhook_deliveries.c.id == row_id)
        if condition is not None:
            statement = statement.where(condition)  # type: ignore[arg-type]
        with store_errors("updating the webhook queue"):
            async with self._writer.begin() as connection:
                result = await connection.execute(statement.values(**values))
        return result.rowcount == 1

    async def claim(self, row_id: int, now: datetime, lease: timedelta) -> bool:
        """Take the row for `lease`; False when another instance holds it or it is settled."""
        free = and_(
            webhook_deliveries.c.state == PENDING,
            or_(
                webhook_deliveries.c.locked_until.is_(None),
                webhook_deliveries.c.locked_until <= now,
            ),
        )
        return await self._update(row_id, free, locked_until=now + lease)

    async def delivered(self, row_id: int, now: datetime, attempts: int) -> None:
        await self._update(
            row_id,
            None,
            state=DELIVERED,
            attempts=attempts,
            finished_at=now,
            locked_until=None,
            last_error=None,
        )

    async def retry(self, row_id: int, attempts: int, at: datetime, error: str) -> None:
        await self._update(
            row_id,
            None,
            attempts=attempts,
            next_attempt_at=at,
            locked_until=None,
            last_error=error[:200],
        )

    async def give_up(self, row_id: int, now: datetime, attempts: int, error: str) -> None:
        await self._update(
            row_id,
            None,
            state=FAILED,
            attempts=attempts,
            finished_at=now,
            locked_until=None,
            last_error=error[:200],
        )

    async def backlog(self) -> list[EndpointBacklog]:
        """Counts per endpoint and state, and the oldest pending event's time."""
        statement = select(
            webhook_deliveries.c.endpoint,
            webhook_deliveries.c.state,
            func.count(),
            func.min(webhook_deliveries.c.created_at),
        ).group_by(webhook_deliveries.c.endpoint, webhook_deliveries.c.state)
        with store_errors("counting the webhook queue"):
            async with self._engine.connect() as connection:
                rows = (await connection.execute(statement)).all()
        counts: dict[str, dict[str, int]] = {}
        oldest: dict[str, datetime] = {}
        for endpoint, state, count, first in rows:
            counts.setdefault(endpoint, {})[state] = int(count)
            if state == PENDING and first is not None:
                # SQLite returns MIN() of the column as text; read it back through the type.
                oldest[endpoint] = _as_datetime(first)
        return [
            EndpointBacklog(
                endpoint,
                by_state.get(PENDING, 0),
                by_state.get(DELIVERED, 0),
                by_state.get(FAILED, 0),
                oldest.get(endpoint),
            )
            for endpoint, by_state in sorted(counts.items())
        ]

    async def pending_counts(self) -> dict[str, int]:
        """Pending rows per endpoint (an index range, cheap enough for every round)."""
        statement = (
            select(webhook_deliveries.c.endpoint, func.count())
            .where(webhook_deliveries.c.state == PENDING)
            .group_by(webhook_deliveries.c.endpoint)
        )
        with store_errors("counting the webhook queue"):
            async with self._engine.connect() as connection:
                rows = (await connection.execute(statement)).all()
        return {endpoint: int(count) for endpoint, count in rows}

    async def prune(self, before: datetime) -> int:
        """Delete delivered and failed rows settled before `before` (pending ones stay)."""
        statement = (
            webhook_deliveries.delete()
            .where(webhook_deliveries.c.state != PENDING)
            .where(webhook_deliveries.c.finished_at < before)
        )
        with store_errors("pruning the webhook queue"):
            async with self._writer.begin() as connection:
                result = await connection.execute(statement)
        return max(result.rowcount, 0)

    async def replay(self, since: datetime, now: datetime, endpoint: str | None = None) -> int:
        """Send again every event created since `since` (same webhook-id); returns the count."""
        statement = (
            update(webhook_deliveries)
            .where(webhook_deliveries.c.created_at >= since)
            .where(webhook_deliveries.c.state != PENDING)
            .values(
                state=PENDING, attempts=0, next_attempt_at=now, locked_until=None, finished_at=None
            )
        )
        if endpoint is not None:
            statement = statement.where(webhook_deliveries.c.endpoint == endpoint)
        with store_errors("replaying webhooks"):
            async with self._writer.begin() as connection:
                result = await connection.execute(statement)
        return max(result.rowcount, 0)


def _as_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)

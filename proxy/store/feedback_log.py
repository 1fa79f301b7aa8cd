"""Bounces and complaints as they came back: the trail behind a bounce suppression."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from proxy.feedback.events import Event, EventRoutes
from proxy.model import SuppressionOrigin
from proxy.store.guard import Guard
from proxy.store.hasher import check_hex
from proxy.store.records import FeedbackEntry
from proxy.store.scopes import GLOBAL_SCOPE
from proxy.store.suppressions import suppress_with_event
from proxy.store.tables import HASH_KIND_ADDRESS, feedback_events
from proxy.store.webhook_queue import enqueue

__all__ = ["FeedbackLog"]


class FeedbackLog:
    """Every statement on the `feedback_events` table."""

    def __init__(self, guard: Guard, routes: EventRoutes) -> None:
        self._guard = guard
        self._routes = routes

    async def record_feedback(
        self, entry: FeedbackEntry, *, suppress: SuppressionOrigin | None, event: Event
    ) -> bool:
        """Keep a bounce or complaint, queue its event and, when `suppress` says so, suppress
        the address globally, in one transaction; True if the suppression is new."""
        hashed = check_hex(entry.address_hash)
        row = {
            "created_at": entry.created_at,
            "address_hash": hashed,
            "kind": entry.kind,
            "status": entry.status[:32],
            "campaign": entry.campaign,
            "source": entry.source,
            "detail": entry.detail[:200] if entry.detail else None,
            "suppressed": suppress is not None,
        }
        async with self._guard.write("recording a bounce or complaint") as connection:
            await connection.execute(feedback_events.insert(), row)
            await enqueue(connection, self._routes, [event])
            if suppress is None:
                return False
            return await suppress_with_event(
                connection,
                self._routes,
                HASH_KIND_ADDRESS,
                hashed,
                GLOBAL_SCOPE,
                suppress,
                entry.created_at,
                detail=f"{entry.kind} {entry.status}",
            )

    async def feedback_of(
        self, address_hash: str, since: datetime | None = None
    ) -> list[FeedbackEntry]:
        """The bounces and complaints recorded for one address hash, oldest first."""
        statement = (
            select(feedback_events)
            .where(feedback_events.c.address_hash == check_hex(address_hash))
            .order_by(feedback_events.c.created_at, feedback_events.c.id)
        )
        if since is not None:
            statement = statement.where(feedback_events.c.created_at >= since)
        async with self._guard.read("reading bounces and complaints") as connection:
            rows = (await connection.execute(statement)).all()
        return [
            FeedbackEntry(
                created_at=row.created_at,
                address_hash=row.address_hash,
                kind=row.kind,
                status=row.status,
                source=row.source,
                campaign=row.campaign,
                detail=row.detail,
                suppressed=row.suppressed,
            )
            for row in rows
        ]

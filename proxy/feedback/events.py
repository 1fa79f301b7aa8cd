"""The events the relay tells sending tools about, and which endpoint wants which.

An event is written into the database queue in the same transaction as the fact it
reports (suppression added, person erased, ...), one row per endpoint that wants its type;
`proxy.feedback.dispatch` delivers the rows. The store's write that records the fact
queues its events with `proxy.store.webhook_queue.enqueue`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = ["NO_ROUTES", "Event", "EventRoutes", "EventType", "new_event"]


class EventType(StrEnum):
    OBJECTION = "objection"  # a person objected (link, page, mailto, complaint)
    SUPPRESSION = "suppression"  # a new entry in the suppression list
    BOUNCE = "bounce"  # a delivery failure came back (DSN or provider event)
    COMPLAINT = "complaint"  # a spam complaint came back (ARF or provider event)
    ERASURE = "erasure"  # a person's register data was erased


@dataclass(frozen=True, slots=True)
class Event:
    """One event: its id is the webhook-id, the receiver's idempotency key."""

    id: str
    type: EventType
    occurred_at: datetime
    address_hash: str | None  # keyed hash: the ordering key, and the clear address's lookup
    data: Mapping[str, str | int | None] = field(default_factory=dict)

    def payload(self, email: str | None = None) -> bytes:
        """The JSON body (Standard Webhooks shape: type, timestamp, data)."""
        data = dict(self.data)
        if self.address_hash is not None:
            data["address_hash"] = self.address_hash
        if email is not None:
            data["email"] = email
        body = {"type": self.type.value, "timestamp": self.occurred_at.isoformat(), "data": data}
        return json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8")


def new_event(
    type_: EventType,
    occurred_at: datetime,
    address_hash: str | None,
    **data: str | int | None,
) -> Event:
    return Event(f"msg_{uuid.uuid4().hex}", type_, occurred_at, address_hash, data)


@dataclass(frozen=True, slots=True)
class EventRoutes:
    """Endpoint name -> the event types it receives (from `[webhooks]` settings)."""

    endpoints: Mapping[str, frozenset[EventType]] = field(default_factory=dict)

    @classmethod
    def build(cls, endpoints: Iterable[tuple[str, Iterable[str]]]) -> EventRoutes:
        return cls(
            {
                name: frozenset(EventType(t) for t in types) or frozenset(EventType)
                for name, types in endpoints
            }
        )

    def targets(self, type_: EventType) -> list[str]:
        return [name for name, types in self.endpoints.items() if type_ in types]


NO_ROUTES = EventRoutes()

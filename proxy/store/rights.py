"""Data subjects' requests and what the database holds about one address hash.

The unsubscribe page's token names an address hash: everything here is looked up by that
hash (never by a clear-text address the visitor could type), so a visitor reaches only the
records of the address the message was sent to. Requests keep the hash only: the record of
an erasure outlives the erased data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, desc, func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.model import Action, Basis, Contact, SuppressionOrigin
from proxy.store.audit_rows import audit_record_from_row
from proxy.store.contact_rows import row_to_contact
from proxy.store.contacts import contact_by_hash
from proxy.store.guard import Guard
from proxy.store.records import AuditRecord
from proxy.store.tables import (
    HASH_KIND_ADDRESS,
    audit_records,
    has_hash,
    rights_requests,
    sends,
    suppressions,
)

__all__ = [
    "HeldData",
    "RequestKind",
    "RightsRegister",
    "RightsRequest",
    "SentRecord",
    "request_from_row",
    "requests_statement",
]

MAX_HELD_RECORDS = 500  # audit records listed in a copy: the newest, the count says if more


class RequestKind(StrEnum):
    ACCESS = "access"  # GDPR art. 15: a copy of the data
    ERASURE = "erasure"  # GDPR art. 17


@dataclass(frozen=True, slots=True)
class RightsRequest:
    id: int
    kind: RequestKind
    address_hash: str
    controller: str
    campaign: str | None
    language: str
    requested_at: datetime
    due_on: date
    fulfilled_at: datetime | None
    outcome: str | None
    notified_at: datetime | None


@dataclass(frozen=True, slots=True)
class SentRecord:
    """The audit record of one delivered message: the basis as decided when it was sent."""

    created_at: datetime
    basis: Basis
    basis_detail: str | None


@dataclass(frozen=True, slots=True)
class HeldData:
    """Everything stored under one address hash (the copy of art. 15)."""

    contact: Contact | None
    suppressions: tuple[tuple[str, SuppressionOrigin, datetime], ...]  # scope, origin, date
    first_message_at: datetime | None
    repermission_at: datetime | None
    records: tuple[AuditRecord, ...]  # newest first, at most MAX_HELD_RECORDS
    record_count: int


def requests_statement(
    *, fulfilled: bool | None = None, since: datetime | None = None
) -> Select[Any]:
    """Requests, oldest due first: open ones (fulfilled=False), done ones, or all (None).

    `since` keeps only the fulfilled requests fulfilled at or after it; open ones always
    show (an open request is owed whatever its age).
    """
    statement = select(rights_requests).order_by(rights_requests.c.due_on, rights_requests.c.id)
    if fulfilled is True:
        statement = statement.where(rights_requests.c.fulfilled_at.is_not(None))
    elif fulfilled is False:
        statement = statement.where(rights_requests.c.fulfilled_at.is_(None))
    if since is not None:
        statement = statement.where(
            rights_requests.c.fulfilled_at.is_(None) | (rights_requests.c.fulfilled_at >= since)
        )
    return statement


def request_from_row(row: Row[Any]) -> RightsRequest:
    mapping = row._mapping
    return RightsRequest(
        id=mapping["id"],
        kind=RequestKind(mapping["kind"]),
        address_hash=mapping["address_hash"],
        controller=mapping["controller"],
        campaign=mapping["campaign"],
        language=mapping["language"],
        requested_at=mapping["requested_at"],
        due_on=mapping["due_on"],
        fulfilled_at=mapping["fulfilled_at"],
        outcome=mapping["outcome"],
        notified_at=mapping["notified_at"],
    )


class RightsRegister:
    """Reads of one person's records and the requests table; short transactions each."""

    def __init__(self, engine: AsyncEngine, *, timeout: float = 5.0) -> None:
        guard = Guard(engine, timeout)
        self._read, self._write = guard.read, guard.write

    # -- what is held ----------------------------------------------------------------------

    async def sent_record(self, address_hash: str, campaign: str | None) -> SentRecord | None:
        """The newest delivered (forwarded or rewritten) message of `campaign` to this hash."""
        statement = (
            select(audit_records.c.created_at, audit_records.c.basis, audit_records.c.basis_detail)
            .where(
                has_hash(audit_records.c.recipient_hash, address_hash),
                audit_records.c.action.in_((Action.REWRITE.value, Action.FORWARD.value)),
            )
            .order_by(desc(audit_records.c.created_at), desc(audit_records.c.id))
            .limit(1)
        )
        if campaign is None:
            statement = statement.where(audit_records.c.campaign.is_(None))
        else:
            statement = statement.where(audit_records.c.campaign == campaign)
        async with self._read("reading the send record") as connection:
            row = (await connection.execute(statement)).first()
        if row is None:
            return None
        return SentRecord(row.created_at, Basis(row.basis), row.basis_detail)

    async def contact(self, address_hash: str) -> Contact | None:
        async with self._read("reading a contact") as connection:
            row = (await connection.execute(contact_by_hash(address_hash))).first()
        return None if row is None else row_to_contact(row._mapping)

    async def held_data(self, address_hash: str) -> HeldData:
        """The register row, suppressions, send marks and decisions recorded for this hash."""
        mine = has_hash(audit_records.c.recipient_hash, address_hash)
        async with self._read("reading a person's data") as connection:
            contact_row = (await connection.execute(contact_by_hash(address_hash))).first()
            listed = (
                await connection.execute(
                    select(suppressions.c.scope, suppressions.c.origin, suppressions.c.created_at)
                    .where(
                        suppressions.c.hash == address_hash,
                        suppressions.c.kind == HASH_KIND_ADDRESS,
                    )
                    .order_by(suppressions.c.created_at)
                )
            ).all()
            sent = (
                await connection.execute(select(sends).where(sends.c.address_hash == address_hash))
            ).first()
            count = int(
                await connection.scalar(select(func.count()).select_from(audit_records).where(mine))
                or 0
            )
            rows = (
                await connection.execute(
                    select(audit_records)
                    .where(mine)
                    .order_by(desc(audit_records.c.created_at), desc(audit_records.c.id))
                    .limit(MAX_HELD_RECORDS)
                )
            ).all()
        return HeldData(
            contact=None if contact_row is None else row_to_contact(contact_row._mapping),
            suppressions=tuple(
                (row.scope, SuppressionOrigin(row.origin), row.created_at) for row in listed
            ),
            first_message_at=sent.first_message_at if sent is not None else None,
            repermission_at=sent.repermission_at if sent is not None else None,
            records=tuple(audit_record_from_row(row._mapping) for row in rows),
            record_count=count,
        )

    # -- requests --------------------------------------------------------------------------

    async def open_request(
        self,
        kind: RequestKind,
        *,
        address_hash: str,
        controller: str,
        campaign: str | None,
        language: str,
        now: datetime,
        due_on: date,
    ) -> int:
        """Record a request as received; returns its id."""
        async with self._write("recording a request") as connection:
            result = await connection.execute(
                rights_requests.insert().returning(rights_requests.c.id),
                {
                    "kind": kind.value,
                    "address_hash": address_hash,
                    "controller": controller[:100],
                    "campaign": campaign[:200] if campaign else None,
                    "language": language[:8],
                    "requested_at": now,
                    "due_on": due_on,
                },
            )
            return int(result.scalar_one())

    async def fulfil(self, request_id: int, outcome: str, now: datetime) -> None:
        """The request was carried out: `outcome` says what was actually done."""
        async with self._write("recording a fulfilment") as connection:
            await connection.execute(
                update(rights_requests)
                .where(rights_requests.c.id == request_id)
                .values(fulfilled_at=now, outcome=outcome[:200])
            )

    async def note(self, request_id: int, outcome: str) -> None:
        """A failed attempt: say what happened, the request stays open."""
        async with self._write("recording an attempt") as connection:
            await connection.execute(
                update(rights_requests)
                .where(rights_requests.c.id == request_id)
                .values(outcome=outcome[:200])
            )

    async def mark_notified(self, request_id: int, now: datetime) -> None:
        """The controller was notified of this request (outbound webhook queued)."""
        async with self._write("recording a notification") as connection:
            await connection.execute(
                update(rights_requests)
                .where(rights_requests.c.id == request_id)
                .values(notified_at=now)
            )

    async def last_fulfilled(self, address_hash: str, kind: RequestKind) -> RightsRequest | None:
        """The newest fulfilled request of this kind for this hash."""
        statement = (
            select(rights_requests)
            .where(
                rights_requests.c.address_hash == address_hash,
                rights_requests.c.kind == kind.value,
                rights_requests.c.fulfilled_at.is_not(None),
            )
            .order_by(desc(rights_requests.c.fulfilled_at))
            .limit(1)
        )
        async with self._read("reading requests") as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else request_from_row(row)

    async def requests(
        self, *, fulfilled: bool | None = None, since: datetime | None = None
    ) -> Sequence[RightsRequest]:
        """See `requests_statement`."""
        statement = requests_statement(fulfilled=fulfilled, since=since)
        async with self._read("reading requests") as connection:
            return [request_from_row(row) for row in (await connection.execute(statement)).all()]

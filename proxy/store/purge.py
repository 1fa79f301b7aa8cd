"""Retention purge queries: old audit records and contacts past the retention windows.

Deletes run in batches of short write transactions, so a first purge of a large backlog
never holds SQLite's write lock (or PostgreSQL row locks) long enough to make the running
relay's own writes time out. Suppressions are never touched: a purged contact who had
objected stays suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Table, and_, delete, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.model import ConsentState
from proxy.policy.lastcontact import CONSENT_DATE, NOT_AN_ACT, PERSON_DATES
from proxy.store.database import WRITE_OPTION
from proxy.store.guard import store_errors
from proxy.store.tables import audit_records, contacts

__all__ = ["PurgeCounts", "PurgeCutoffs", "count_purgeable", "purge"]

_BATCH = 5000


@dataclass(frozen=True, slots=True)
class PurgeCutoffs:
    """What is old enough to go: strictly before each of these."""

    audit_before: datetime  # audit records created before this instant
    prospect_before: date  # collection, interaction and consent dates
    customer_before: date  # last purchase


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    audit_records: int
    contacts: int


def _old_audit(cutoffs: PurgeCutoffs) -> ColumnElement[bool]:
    return audit_records.c.created_at < cutoffs.audit_before


def _old_contact(cutoffs: PurgeCutoffs) -> ColumnElement[bool]:
    """Contacts whose last contact (`proxy.policy.lastcontact`, the stale-prospect rule's
    definition) is past the prospect window, and whose last purchase is past the customer
    window too (a current customer is kept). Like the rule, a contact without any date is
    never judged stale; a standing consent given by the person counts as a contact, so its
    proof is not erased while it may still be relied on."""
    purchase_before = min(cutoffs.prospect_before, cutoffs.customer_before)
    person = [contacts.c[name] for name in PERSON_DATES]
    consent_date = contacts.c[CONSENT_DATE]
    consent_counts = and_(
        contacts.c.consent == ConsentState.GRANTED.value,
        or_(
            contacts.c.consent_method.is_(None),
            contacts.c.consent_method.not_in([method.value for method in NOT_AN_ACT]),
        ),
    )
    return and_(
        or_(
            *(column.is_not(None) for column in person),
            and_(consent_counts, consent_date.is_not(None)),
        ),
        *(or_(column.is_(None), column < cutoffs.prospect_before) for column in person),
        or_(not_(consent_counts), consent_date.is_(None), consent_date < cutoffs.prospect_before),
        or_(contacts.c.last_purchase.is_(None), contacts.c.last_purchase < purchase_before),
    )


async def count_purgeable(engine: AsyncEngine, cutoffs: PurgeCutoffs) -> PurgeCounts:
    """How many rows `purge` would remove now (the `--dry-run` answer)."""
    with store_errors("counting what the purge would remove"):
        async with engine.connect() as connection:
            audit = await connection.scalar(
                select(func.count()).select_from(audit_records).where(_old_audit(cutoffs))
            )
            people = await connection.scalar(
                select(func.count()).select_from(contacts).where(_old_contact(cutoffs))
            )
    return PurgeCounts(audit_records=int(audit or 0), contacts=int(people or 0))


async def _delete_batched(engine: AsyncEngine, table: Table, where: ColumnElement[bool]) -> int:
    writer = engine.execution_options(**{WRITE_OPTION: True})
    batch = select(table.c.id).where(where).limit(_BATCH).scalar_subquery()
    removed = 0
    while True:
        with store_errors(f"purging {table.name}"):
            async with writer.begin() as connection:
                result = await connection.execute(delete(table).where(table.c.id.in_(batch)))
        count = max(result.rowcount, 0)
        removed += count
        if count < _BATCH:
            return removed


async def purge(engine: AsyncEngine, cutoffs: PurgeCutoffs) -> PurgeCounts:
    """Delete what `count_purgeable` counts; returns how many rows went."""
    return PurgeCounts(
        audit_records=await _delete_batched(engine, audit_records, _old_audit(cutoffs)),
        contacts=await _delete_batched(engine, contacts, _old_contact(cutoffs)),
    )

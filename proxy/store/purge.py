"""Retention purge queries: old audit records and contacts past the retention windows.

Deletes run in batches of short write transactions, so a first purge of a large backlog
never holds SQLite's write lock (or PostgreSQL row locks) long enough to make the running
relay's own writes time out. Suppressions are never touched: a purged contact who had
objected stays suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Table, and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.store.database import WRITE_OPTION
from proxy.store.failures import store_errors
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
    """Contacts whose every known date is past its window (see the stale-prospect rule).

    Like the rule, a contact without any collection, interaction or purchase date is never
    judged stale. A last purchase must be older than both windows (a current customer is
    kept), and a consent recorded within the prospect window keeps the contact too, so its
    proof of consent is not erased while it may still be relied on.
    """
    purchase_before = min(cutoffs.prospect_before, cutoffs.customer_before)
    windows = (
        (contacts.c.collected_at, cutoffs.prospect_before),
        (contacts.c.last_interaction, cutoffs.prospect_before),
        (contacts.c.consent_at, cutoffs.prospect_before),
        (contacts.c.last_purchase, purchase_before),
    )
    return and_(
        or_(
            contacts.c.collected_at.is_not(None),
            contacts.c.last_interaction.is_not(None),
            contacts.c.last_purchase.is_not(None),
        ),
        *(or_(column.is_(None), column < before) for column, before in windows),
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
